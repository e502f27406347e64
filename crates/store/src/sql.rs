//! The SQL of snapshots. The statements are written once; [`backend!`] compiles the code that runs
//! them once per database (SQLite and PostgreSQL) with that database's own types. `$1` placeholders
//! work in both, and bulk inserts use [`sqlx::QueryBuilder`], which writes each database's
//! placeholders itself. Rows are read by column name: each query has its row struct
//! (`#[derive(sqlx::FromRow)]`, decoding on both databases), or reads a table's cells by the names
//! its [`Table`] lists. The one dialect difference, how an import keeps other writers out, is given
//! where the backends are generated, at the bottom.

use super::rows::Table;

/// Bind parameters per statement in bulk inserts; below SQLite's limit (32,766) and PostgreSQL's (65,535).
const MAX_BINDS_PER_STATEMENT: usize = 30_000;

const LATEST_FOR_KOMMUNE: &str =
    "SELECT id, content_hash FROM snapshots WHERE register = $1 AND kommunekode = $2 ORDER BY id DESC LIMIT 1";
const LATEST_NATIONAL: &str =
    "SELECT id, content_hash FROM snapshots WHERE register = $1 AND kommunekode IS NULL ORDER BY id DESC LIMIT 1";
const INSERT_SNAPSHOT: &str = "INSERT INTO snapshots \
     (register, kommunekode, cvr, source, content_hash, unit_count, user_count, imported_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
const SNAPSHOT_COLUMNS: &str =
    "SELECT id, register, kommunekode, cvr, source, content_hash, unit_count, user_count, imported_at FROM snapshots";
const FKORG_KOMMUNER: &str =
    "SELECT DISTINCT kommunekode FROM snapshots WHERE register = 'fkorg' AND kommunekode IS NOT NULL ORDER BY kommunekode";

/// The advisory-lock key for imports of one register and municipality (0: national).
fn import_lock_key(new: &NewSnapshot<'_>) -> i64 {
    // "SORS" in the high bits keeps sorsync's keys apart from other users of advisory locks.
    const NAMESPACE: i64 = 0x534F_5253 << 32;
    let register: i64 = if new.register == "sor" { 1 } else { 2 };
    NAMESPACE | register << 16 | new.kommunekode.unwrap_or(0)
}

fn list_snapshots_sql() -> String {
    format!("{SNAPSHOT_COLUMNS} ORDER BY id")
}

fn snapshot_by_id_sql() -> String {
    format!("{SNAPSHOT_COLUMNS} WHERE id = $1")
}

fn insert_rows_prefix(table: &Table) -> String {
    let columns: Vec<&str> = table.content.iter().map(|(name, _)| *name).collect();
    format!("INSERT INTO {} (snapshot_id, position, {}) ", table.name, columns.join(", "))
}

fn select_rows_sql(table: &Table) -> String {
    let columns: Vec<&str> = table.content.iter().map(|(name, _)| *name).collect();
    format!("SELECT {} FROM {} WHERE snapshot_id = $1 ORDER BY position", columns.join(", "), table.name)
}

/// The latest snapshot of a register and municipality.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct LatestSnapshot {
    pub id: i64,
    pub content_hash: String,
}

/// A snapshot row as the database holds it, before its other values are checked.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SnapshotRow {
    pub id: i64,
    pub register: crate::Register,
    pub kommunekode: Option<i64>,
    pub cvr: Option<String>,
    pub source: String,
    pub content_hash: String,
    pub unit_count: i64,
    pub user_count: i64,
    pub imported_at: String,
}

/// What an import writes to `snapshots`.
#[derive(Debug)]
pub(crate) struct NewSnapshot<'a> {
    pub register: &'static str,
    pub kommunekode: Option<i64>,
    pub cvr: Option<String>,
    pub source: &'a str,
    pub content_hash: String,
    pub unit_count: i64,
    pub user_count: i64,
    pub imported_at: String,
}

/// The code that talks to one database, generated for each of them from the same source.
macro_rules! backend {
    ($module:ident, $db:ty, begin_import = $begin:expr, lock_import = $lock:expr) => {
        pub(crate) mod $module {
            use sqlx::{QueryBuilder, Row as _};

            use super::{LatestSnapshot, NewSnapshot, SnapshotRow};
            use crate::rows::{Cell, ColumnType, Table, TableRows};

            type Db = $db;
            type Pool = sqlx::Pool<Db>;

            /// Stores a snapshot and its rows in one transaction, unless the latest snapshot of the
            /// same register and municipality has the same content. Returns (snapshot id, created).
            pub(crate) async fn import(
                pool: &Pool,
                new: NewSnapshot<'_>,
                tables: Vec<TableRows>,
            ) -> Result<(i64, bool), sqlx::Error> {
                let mut tx = pool.begin_with($begin).await?;
                let lock: Option<&str> = $lock;
                if let Some(lock) = lock {
                    sqlx::query(lock).bind(super::import_lock_key(&new)).execute(&mut *tx).await?;
                }
                let latest: Option<LatestSnapshot> = match new.kommunekode {
                    Some(k) => {
                        sqlx::query_as(super::LATEST_FOR_KOMMUNE)
                            .bind(new.register)
                            .bind(k)
                            .fetch_optional(&mut *tx)
                            .await?
                    }
                    None => sqlx::query_as(super::LATEST_NATIONAL).bind(new.register).fetch_optional(&mut *tx).await?,
                };
                if let Some(latest) = latest {
                    if latest.content_hash == new.content_hash {
                        tx.rollback().await?;
                        return Ok((latest.id, false));
                    }
                }
                let id: i64 = sqlx::query_scalar(super::INSERT_SNAPSHOT)
                    .bind(new.register)
                    .bind(new.kommunekode)
                    .bind(new.cvr)
                    .bind(new.source)
                    .bind(new.content_hash)
                    .bind(new.unit_count)
                    .bind(new.user_count)
                    .bind(new.imported_at)
                    .fetch_one(&mut *tx)
                    .await?;
                for TableRows { table, rows } in tables {
                    let per_statement = (super::MAX_BINDS_PER_STATEMENT / (table.content.len() + 2)).max(1);
                    let prefix = super::insert_rows_prefix(table);
                    let mut rows = rows.into_iter().enumerate().peekable();
                    while rows.peek().is_some() {
                        let mut insert = QueryBuilder::<Db>::new(&prefix);
                        insert.push_values(rows.by_ref().take(per_statement), |mut b, (position, cells)| {
                            b.push_bind(id);
                            b.push_bind(i64::try_from(position).unwrap_or(i64::MAX));
                            for cell in cells {
                                match cell {
                                    Cell::Text(t) => b.push_bind(t),
                                    Cell::Bool(v) => b.push_bind(v),
                                };
                            }
                        });
                        insert.build().execute(&mut *tx).await?;
                    }
                }
                tx.commit().await?;
                Ok((id, true))
            }

            pub(crate) async fn list_snapshots(pool: &Pool) -> Result<Vec<SnapshotRow>, sqlx::Error> {
                sqlx::query_as(&super::list_snapshots_sql()).fetch_all(pool).await
            }

            pub(crate) async fn snapshot(pool: &Pool, id: i64) -> Result<Option<SnapshotRow>, sqlx::Error> {
                sqlx::query_as(&super::snapshot_by_id_sql()).bind(id).fetch_optional(pool).await
            }

            /// The id of the latest snapshot of `register` for `kommunekode` (None: national).
            pub(crate) async fn latest_snapshot_id(
                pool: &Pool,
                register: &'static str,
                kommunekode: Option<i64>,
            ) -> Result<Option<i64>, sqlx::Error> {
                let latest: Option<LatestSnapshot> = match kommunekode {
                    Some(k) => {
                        sqlx::query_as(super::LATEST_FOR_KOMMUNE).bind(register).bind(k).fetch_optional(pool).await?
                    }
                    None => sqlx::query_as(super::LATEST_NATIONAL).bind(register).fetch_optional(pool).await?,
                };
                Ok(latest.map(|latest| latest.id))
            }

            /// A table's rows for one snapshot, in position order, each column read by its name.
            pub(crate) async fn load_rows(
                pool: &Pool,
                table: &'static Table,
                snapshot_id: i64,
            ) -> Result<Vec<Vec<Cell>>, sqlx::Error> {
                let rows = sqlx::query(&super::select_rows_sql(table)).bind(snapshot_id).fetch_all(pool).await?;
                rows.iter()
                    .map(|row| {
                        table
                            .content
                            .iter()
                            .map(|(name, column_type)| {
                                Ok(match column_type {
                                    ColumnType::Text => Cell::Text(row.try_get(*name)?),
                                    ColumnType::Bool => Cell::Bool(row.try_get(*name)?),
                                })
                            })
                            .collect()
                    })
                    .collect()
            }

            pub(crate) async fn fkorg_kommuner(pool: &Pool) -> Result<Vec<i64>, sqlx::Error> {
                sqlx::query_scalar(super::FKORG_KOMMUNER).fetch_all(pool).await
            }
        }
    };
}

// Two imports for the same register and municipality must not both decide "new content".
// SQLite: BEGIN IMMEDIATE takes the database's write lock before the check (a second writer waits
// for busy_timeout). PostgreSQL: a transaction-scoped advisory lock per register and municipality,
// so imports of different municipalities still run side by side.
backend!(sqlite, sqlx::Sqlite, begin_import = "BEGIN IMMEDIATE", lock_import = None);
backend!(postgres, sqlx::Postgres, begin_import = "BEGIN", lock_import = Some("SELECT pg_advisory_xact_lock($1)"));
