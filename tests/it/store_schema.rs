//! Tests: SQLite and PostgreSQL hold the same tables with the same columns after their migrations.
//!
//! The statements are written once for both databases and rows are read by column name, so a
//! column added to one migration only would break the other database at run time. This compares
//! the two schemas after migrating a fresh store on each: table names, column names, the kind of
//! value each column holds, and whether it may be NULL. Needs PostgreSQL (skipped without
//! `SORSYNC_TEST_POSTGRES_URL`, a failure with `SORSYNC_REQUIRE_POSTGRES=1`).

use std::collections::BTreeMap;

use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;

use crate::test_db::TestDb;

/// What the comparison looks at in one column.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    /// `integer`, `text`, `boolean` or `real`; another declared type as it is.
    kind: String,
    not_null: bool,
}

/// Table -> column -> what it holds. sqlx's own migrations table is left out: it is not ours.
type Schema = BTreeMap<String, BTreeMap<String, Column>>;

/// The kind of value a declared type holds, the same word for both databases' spellings (the
/// PostgreSQL migrations use BIGINT where SQLite says INTEGER; both decode as i64).
fn kind(declared: &str) -> String {
    match declared.to_ascii_lowercase().as_str() {
        "integer" | "bigint" | "smallint" => "integer".into(),
        "text" => "text".into(),
        "boolean" => "boolean".into(),
        "real" | "double precision" => "real".into(),
        other => other.into(),
    }
}

#[derive(sqlx::FromRow)]
struct SqliteColumn {
    table_name: String,
    column_name: String,
    declared_type: String,
    not_null: bool,
    primary_key: i64,
}

async fn sqlite_schema(url: &str) -> Schema {
    let pool = SqlitePool::connect(url).await.unwrap();
    let columns: Vec<SqliteColumn> = sqlx::query_as(
        "SELECT m.name AS table_name, c.name AS column_name, c.type AS declared_type, c.\"notnull\" AS not_null, \
         c.pk AS primary_key FROM sqlite_master m JOIN pragma_table_info(m.name) c \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    let mut schema = Schema::new();
    for c in columns {
        // A primary key column counts as NOT NULL, as in PostgreSQL (SQLite only enforces it for
        // INTEGER PRIMARY KEY, a quirk kept for compatibility, but a key is never meant to be NULL).
        let column = Column { kind: kind(&c.declared_type), not_null: c.not_null || c.primary_key > 0 };
        schema.entry(c.table_name).or_default().insert(c.column_name, column);
    }
    schema
}

#[derive(sqlx::FromRow)]
struct PostgresColumn {
    table_name: String,
    column_name: String,
    data_type: String,
    is_nullable: String,
}

async fn postgres_schema(url: &str) -> Schema {
    let pool = PgPool::connect(url).await.unwrap();
    let columns: Vec<PostgresColumn> = sqlx::query_as(
        "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name, \
         c.data_type::text AS data_type, c.is_nullable::text AS is_nullable \
         FROM information_schema.columns c JOIN information_schema.tables t \
         ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
         AND c.table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    let mut schema = Schema::new();
    for c in columns {
        let column = Column { kind: kind(&c.data_type), not_null: c.is_nullable == "NO" };
        schema.entry(c.table_name).or_default().insert(c.column_name, column);
    }
    schema
}

/// Every way the two schemas differ, one sentence each.
fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    let mut found = Vec::new();
    let empty = BTreeMap::new();
    let tables: std::collections::BTreeSet<&String> = sqlite.keys().chain(postgres.keys()).collect();
    for table in tables {
        let (s, p) = (sqlite.get(table), postgres.get(table));
        match (s, p) {
            (Some(_), None) => found.push(format!("table {table} is only in the SQLite migrations")),
            (None, Some(_)) => found.push(format!("table {table} is only in the PostgreSQL migrations")),
            _ => {}
        }
        let (s, p) = (s.unwrap_or(&empty), p.unwrap_or(&empty));
        if s.is_empty() || p.is_empty() {
            continue;
        }
        let columns: std::collections::BTreeSet<&String> = s.keys().chain(p.keys()).collect();
        for column in columns {
            match (s.get(column), p.get(column)) {
                (Some(_), None) => found.push(format!("{table}.{column} is only in the SQLite migrations")),
                (None, Some(_)) => found.push(format!("{table}.{column} is only in the PostgreSQL migrations")),
                (Some(a), Some(b)) if a.kind != b.kind => {
                    found.push(format!("{table}.{column} holds {} in SQLite but {} in PostgreSQL", a.kind, b.kind))
                }
                (Some(a), Some(b)) if a.not_null != b.not_null => {
                    let null = |not_null: bool| if not_null { "NOT NULL" } else { "nullable" };
                    found.push(format!(
                        "{table}.{column} is {} in SQLite but {} in PostgreSQL",
                        null(a.not_null),
                        null(b.not_null)
                    ))
                }
                _ => {}
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgresql_have_the_same_tables_and_columns_after_migrations() {
    let Some(pg) = TestDb::postgres().await else { return };
    let lite = TestDb::sqlite().await;
    let sqlite = sqlite_schema(&lite.url).await;
    let postgres = postgres_schema(&pg.url).await;
    // The schemas were read at all: a table and a column every version has.
    for schema in [&sqlite, &postgres] {
        let status = schema.get("proposals").and_then(|t| t.get("status"));
        assert_eq!(status, Some(&Column { kind: "text".into(), not_null: true }), "{schema:#?}");
    }
    let found = differences(&sqlite, &postgres);
    assert!(found.is_empty(), "the SQLite and PostgreSQL migrations disagree:\n{}", found.join("\n"));
}

#[test]
fn a_column_in_one_schema_only_or_nullable_in_one_only_is_a_difference() {
    let text = |not_null| Column { kind: "text".into(), not_null };
    let table = |columns: &[(&str, Column)]| {
        Schema::from([("links".to_string(), columns.iter().map(|(n, c)| (n.to_string(), c.clone())).collect())])
    };
    let both = table(&[("fk_uuid", text(true))]);
    assert_eq!(differences(&both, &both), Vec::<String>::new());
    let extra = table(&[("fk_uuid", text(true)), ("note", text(false))]);
    assert_eq!(differences(&extra, &both), ["links.note is only in the SQLite migrations"]);
    assert_eq!(differences(&both, &extra), ["links.note is only in the PostgreSQL migrations"]);
    let nullable = table(&[("fk_uuid", text(false))]);
    assert_eq!(differences(&both, &nullable), ["links.fk_uuid is NOT NULL in SQLite but nullable in PostgreSQL"]);
    assert_eq!(differences(&both, &Schema::new()), ["table links is only in the SQLite migrations"]);
}
