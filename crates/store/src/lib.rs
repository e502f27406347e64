//! The store: snapshots of both registers in SQLite (default) or PostgreSQL. The only module with SQL.
//!
//! A snapshot holds each unit's OWN values exactly as read; loading one rebuilds the tree with
//! [`SorTree::new`] / [`FkTree::new`], so inheritance is always computed by the current rules.
//! Importing the same content twice (in any order, from any path) makes no new snapshot.

// A library says things through tracing or its return values; the terminal is the binary's.
#![warn(clippy::print_stdout, clippy::print_stderr)]

// The core's modules, by the names the code here uses (`crate::domain::...`).
use sorsync_core::{domain, matching};

/// Reads `$type` from the text column that holds its code, on both databases, with `$parse`
/// (`&str -> Option<$type>`): a code this version does not know is an error that names it.
macro_rules! decoded_from_code {
    ($type:ty, $parse:path, $what:literal) => {
        impl<DB: sqlx::Database> sqlx::Type<DB> for $type
        where
            String: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as sqlx::Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $type
        where
            String: sqlx::Decode<'r, DB>,
        {
            fn decode(value: DB::ValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let code = <String as sqlx::Decode<'r, DB>>::decode(value)?;
                $parse(&code).ok_or_else(|| format!("{code:?} is not a {}", $what).into())
            }
        }
    };
}

/// Runs `function` of the statement module for the store's database: `on_db!(store, f(args))`
/// for the calling module's own `sqlite`/`postgres` modules, `on_db!(store, review_sql::f(args))`
/// for another's. The one dispatch from `Store` to the statements compiled for each database.
macro_rules! on_db {
    ($store:expr, $module:ident :: $function:ident ( $($arg:expr),* $(,)? )) => {
        match &$store.pool {
            Pool::Sqlite(pool) => $module::sqlite::$function(pool, $($arg),*).await,
            Pool::Postgres(pool) => $module::postgres::$function(pool, $($arg),*).await,
        }
    };
    ($store:expr, $function:ident ( $($arg:expr),* $(,)? )) => {
        match &$store.pool {
            Pool::Sqlite(pool) => sqlite::$function(pool, $($arg),*).await,
            Pool::Postgres(pool) => postgres::$function(pool, $($arg),*).await,
        }
    };
}

mod apply;
mod apply_lock;
pub(crate) mod apply_sql;
mod identity;
pub mod private_file;
mod review;
mod review_sql;
mod rows;
mod sql;
mod waves;
mod waves_sql;
mod web;

use std::borrow::Cow;
use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::domain::{Cvr, FkTree, KommuneKode, SorTree};
use rows::{Cell, TableRows, FKORG_MEMBERSHIPS, FKORG_UNITS, FKORG_USERS, SOR_UNITS};
use sql::{NewSnapshot, SnapshotRow};

pub use apply::{AuditEntry, ChangeEnd, ChangeFinished, ChangeRecord, ChangeState, NewAuditEntry, NewChange};
pub use apply_lock::ApplyLock;
pub use review::{
    units_data_hash, ApprovedLink, NewProposal, PastDecision, ProposalKey, ProposalStatus, ReviewState, RoleGrant,
    RunPlan, StoredProposal, Verdict,
};
pub use review_sql::{UndoRecord, UndoneDecision};
pub use waves::{JobClaim, JobState, StoredWavePlan, WaveJob, WaveMunicipality, WaveRunItem};
pub use web::{PendingRow, QueueFilter, QueueRow, QueueVersion, RunInfo, StatusCount};

/// A migration compiled into the binary: version, description, SQL.
type EmbeddedMigration = (i64, &'static str, &'static str);

/// `migrations/sqlite/`, one line per file (a unit test checks that none is missing).
const SQLITE_MIGRATIONS: &[EmbeddedMigration] = &[
    (20261122000001, "snapshots", include_str!("../migrations/sqlite/20261122000001_snapshots.sql")),
    (20261122000002, "review", include_str!("../migrations/sqlite/20261122000002_review.sql")),
    (20261122000003, "apply", include_str!("../migrations/sqlite/20261122000003_apply.sql")),
    (20261122000004, "waves", include_str!("../migrations/sqlite/20261122000004_waves.sql")),
    (20261122000005, "web", include_str!("../migrations/sqlite/20261122000005_web.sql")),
    (20261122000006, "apply_lock", include_str!("../migrations/sqlite/20261122000006_apply_lock.sql")),
    (20261203000010, "decision_undo", include_str!("../migrations/sqlite/20261203000010_decision_undo.sql")),
    (20261203000150, "identity", include_str!("../migrations/sqlite/20261203000150_identity.sql")),
];
/// `migrations/postgres/`: the same versions as SQLite, PostgreSQL dialect.
const POSTGRES_MIGRATIONS: &[EmbeddedMigration] = &[
    (20261122000001, "snapshots", include_str!("../migrations/postgres/20261122000001_snapshots.sql")),
    (20261122000002, "review", include_str!("../migrations/postgres/20261122000002_review.sql")),
    (20261122000003, "apply", include_str!("../migrations/postgres/20261122000003_apply.sql")),
    (20261122000004, "waves", include_str!("../migrations/postgres/20261122000004_waves.sql")),
    (20261122000005, "web", include_str!("../migrations/postgres/20261122000005_web.sql")),
    (20261122000006, "apply_lock", include_str!("../migrations/postgres/20261122000006_apply_lock.sql")),
    (20261203000010, "decision_undo", include_str!("../migrations/postgres/20261203000010_decision_undo.sql")),
    (20261203000150, "identity", include_str!("../migrations/postgres/20261203000150_identity.sql")),
];

/// Embedded migrations as a source for sqlx's migrator (sqlx's `migrate!` macro needs the
/// `macros` feature, which this crate does not build).
#[derive(Debug)]
struct Embedded(&'static [EmbeddedMigration]);

impl<'s> MigrationSource<'s> for Embedded {
    #[allow(clippy::type_complexity)] // the trait's signature, spelled out
    fn resolve(
        self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 's>> {
        let migrations = self
            .0
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(*version, Cow::Borrowed(*description), MigrationType::Simple, Cow::Borrowed(*sql), false)
            })
            .collect();
        Box::pin(async move { Ok(migrations) })
    }
}

/// Which register a snapshot comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Register {
    Sor,
    FkOrg,
}

impl Register {
    /// The name used in the store and in output: `sor` or `fkorg`.
    pub fn as_str(self) -> &'static str {
        match self {
            Register::Sor => "sor",
            Register::FkOrg => "fkorg",
        }
    }

    fn parse(s: &str) -> Option<Register> {
        [Register::Sor, Register::FkOrg].into_iter().find(|r| r.as_str() == s)
    }
}

decoded_from_code!(Register, Register::parse, "register");

impl fmt::Display for Register {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOutcome {
    /// The new snapshot, or (when `created` is false) the existing one with the same content.
    pub snapshot_id: i64,
    /// False when the latest snapshot of the same register and municipality had the same content.
    pub created: bool,
    pub units: usize,
    pub users: usize,
}

/// One stored snapshot, as `sorsync snapshots` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub id: i64,
    pub register: Register,
    /// None for a national SOR file.
    pub kommune: Option<KommuneKode>,
    pub cvr: Option<Cvr>,
    /// File path or API URL the content came from.
    pub source: String,
    /// sha256 (hex) of the content; equal hashes mean equal content.
    pub content_hash: String,
    pub units: u64,
    pub users: u64,
    pub imported_at: DateTime<Utc>,
}

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL {0:?} is neither sqlite://PATH nor postgres://...")]
    UnsupportedUrl(String),
    #[error("the database URL's parameter {0} holds a secret the PostgreSQL driver does not support (it would only log it); remove it, e.g. use a client key without a passphrase, readable only by you")]
    SecretParameter(String),
    #[error("cannot open the store at {url}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("cannot bring the store's tables up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the database refused the operation (nothing was changed): {0}")]
    Database(sqlx::Error),
    #[error("there is no snapshot {0}")]
    NoSuchSnapshot(i64),
    #[error("snapshot {id} is a {actual} snapshot, not a {expected} snapshot")]
    WrongRegister { id: i64, expected: Register, actual: Register },
    #[error("snapshot {snapshot_id} in the store is damaged: {message}")]
    Damaged { snapshot_id: i64, message: String },
    #[error("the store holds a value sorsync cannot read: {0}")]
    UnreadableValue(String),
    #[error("there is no proposal {0}")]
    NoSuchProposal(i64),
    #[error("proposal {id} is {status}, not pending: it was decided or replaced already")]
    ProposalNotPending { id: i64, status: String },
    #[error(
        "proposal {proposal_id} cannot be approved: FK-ORG unit {fk_uuid} and SOR unit {sor_id} are linked already \
         (each unit is in at most one link)"
    )]
    AlreadyLinked { proposal_id: i64, fk_uuid: String, sor_id: String },
    #[error(
        "proposal {proposal_id} cannot be approved: FK-ORG unit {fk_uuid} has approved proposal {other} (a create or \
         link not applied yet); one FK-ORG unit gets one SOR unit: reject or supersede {other} first"
    )]
    FkUnitTaken { proposal_id: i64, fk_uuid: String, other: i64 },
    #[error(
        "proposal {proposal_id} follows from linking FK-ORG unit {fk_uuid} to SOR unit {sor_id}, but {}: \
         decide the unit's link first",
        match linked { Some(other) => format!("the unit is linked to SOR unit {other}"), None => "that link is not decided".to_string() }
    )]
    CaseNotLinked { proposal_id: i64, fk_uuid: String, sor_id: String, linked: Option<String> },
}

impl StoreError {
    /// The decision cannot be taken as the store stands now (the proposal was decided already, a
    /// link holds a unit, the case is decided otherwise): a conflict to report, not a failure.
    pub fn is_decision_conflict(&self) -> bool {
        matches!(
            self,
            StoreError::ProposalNotPending { .. }
                | StoreError::AlreadyLinked { .. }
                | StoreError::FkUnitTaken { .. }
                | StoreError::CaseNotLinked { .. }
        )
    }
}

/// A value read from a row that does not decode (a code this version does not know, a column
/// of another type) is a value sorsync cannot read; anything else is the database's refusal.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        match e {
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => StoreError::UnreadableValue(e.to_string()),
            e => StoreError::Database(e),
        }
    }
}

/// A municipality code as the tables hold it (every store module uses this one).
pub(crate) fn code(kommune: KommuneKode) -> i64 {
    i64::from(kommune.as_u16())
}

/// A municipality code read back from the tables.
pub(crate) fn kommune_from(k: i64) -> Result<KommuneKode, StoreError> {
    KommuneKode::parse(&format!("{k:03}")).map_err(|e| StoreError::UnreadableValue(e.to_string()))
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A connection pool to the store, with its tables up to date.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
}

/// A SQLite store holds personal data: a file SQLite just created (still empty) is made
/// owner-only with its WAL and shared-memory files (later ones inherit the mode); an existing
/// file readable by others gets a warning.
fn owner_only(file: &Path, existed: bool) {
    if existed {
        crate::private_file::warn_if_loose(file, "the store");
        return;
    }
    #[cfg(unix)]
    for suffix in ["", "-wal", "-shm"] {
        use std::os::unix::fs::PermissionsExt as _;
        let mut path = file.as_os_str().to_owned();
        path.push(suffix);
        if let Err(e) = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(file = %Path::new(&path).display(), "could not make the store owner-only: {e}");
            }
        }
    }
}

impl Store {
    /// Opens `sqlite://PATH` (the file is created when missing; WAL, foreign keys on),
    /// `sqlite::memory:` or `postgres://...`, and applies any migrations not yet applied.
    #[tracing::instrument(skip_all, fields(url = %redact_password(database_url)))]
    pub async fn open(database_url: &str) -> Result<Store, StoreError> {
        let open_error = |source| StoreError::Open { url: redact_password(database_url), source };
        let pool = if database_url.starts_with("sqlite:") {
            let in_memory = database_url.contains(":memory:");
            let options = SqliteConnectOptions::from_str(database_url)
                .map_err(open_error)?
                .create_if_missing(true)
                .journal_mode(if in_memory { SqliteJournalMode::Memory } else { SqliteJournalMode::Wal })
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(30));
            // An in-memory database lives as long as its one connection.
            let pool_options = if in_memory {
                SqlitePoolOptions::new().max_connections(1).idle_timeout(None).max_lifetime(None)
            } else {
                SqlitePoolOptions::new().max_connections(4)
            };
            let file = (!in_memory).then(|| options.get_filename().to_path_buf());
            let existed = file.as_deref().is_some_and(Path::exists);
            let pool = pool_options.connect_with(options).await.map_err(open_error)?;
            if let Some(file) = &file {
                owner_only(file, existed);
            }
            Migrator::new(Embedded(SQLITE_MIGRATIONS)).await?.run(&pool).await?;
            Pool::Sqlite(pool)
        } else if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
            if let Some(key) = unsupported_secret_parameter(database_url) {
                return Err(StoreError::SecretParameter(key));
            }
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(30))
                .connect(database_url)
                .await
                .map_err(open_error)?;
            Migrator::new(Embedded(POSTGRES_MIGRATIONS)).await?.run(&pool).await?;
            Pool::Postgres(pool)
        } else {
            return Err(StoreError::UnsupportedUrl(redact_password(database_url)));
        };
        Ok(Store { pool })
    }

    /// Closes the connections (waits for them to be returned).
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }

    /// Stores a SOR tree (for `kommune`, or national when None) in one transaction. When the latest
    /// SOR snapshot for the same municipality has the same content, nothing is written and
    /// `created` is false.
    #[tracing::instrument(skip_all, fields(kommune = kommune.map(|k| k.as_u16()), units = tree.len()))]
    pub async fn import_sor(
        &self,
        source: &str,
        kommune: Option<KommuneKode>,
        tree: &SorTree,
    ) -> Result<ImportOutcome, StoreError> {
        let units: Vec<Vec<Cell>> = tree.units.iter().map(rows::sor_unit_cells).collect();
        let new = NewSnapshot {
            register: Register::Sor.as_str(),
            kommunekode: kommune.map(code),
            cvr: None,
            source,
            content_hash: rows::sor_content_hash(&units),
            unit_count: count(units.len()),
            user_count: 0,
            imported_at: now(),
        };
        let tables = vec![TableRows { table: &SOR_UNITS, rows: units }];
        let (snapshot_id, created) = on_db!(self, sql::import(new, tables))?;
        tracing::info!(snapshot_id, created, "SOR snapshot imported.");
        Ok(ImportOutcome { snapshot_id, created, units: tree.len(), users: 0 })
    }

    /// Stores a municipality's FK-ORG tree (units, users, memberships) in one transaction. When the
    /// latest FK-ORG snapshot for `kommune` has the same content, nothing is written and `created`
    /// is false.
    #[tracing::instrument(skip_all, fields(kommune = %kommune, units = tree.len(), users = tree.users.len()))]
    pub async fn import_fkorg(
        &self,
        kommune: KommuneKode,
        source: &str,
        tree: &FkTree,
    ) -> Result<ImportOutcome, StoreError> {
        let units: Vec<Vec<Cell>> = tree.units.iter().map(rows::fkorg_unit_cells).collect();
        let users: Vec<Vec<Cell>> = tree.users.iter().map(rows::fkorg_user_cells).collect();
        let memberships: Vec<Vec<Cell>> = tree
            .users
            .iter()
            .flat_map(|u| u.memberships.iter().map(|m| rows::fkorg_membership_cells(u.uuid, m)))
            .collect();
        let new = NewSnapshot {
            register: Register::FkOrg.as_str(),
            kommunekode: Some(code(kommune)),
            cvr: tree.cvr.map(|c| c.to_string()),
            source,
            content_hash: rows::fkorg_content_hash(tree.cvr, &units, &tree.users),
            unit_count: count(units.len()),
            user_count: count(users.len()),
            imported_at: now(),
        };
        let tables = vec![
            TableRows { table: &FKORG_UNITS, rows: units },
            TableRows { table: &FKORG_USERS, rows: users },
            TableRows { table: &FKORG_MEMBERSHIPS, rows: memberships },
        ];
        let (snapshot_id, created) = on_db!(self, sql::import(new, tables))?;
        tracing::info!(snapshot_id, created, "FK-ORG snapshot imported.");
        Ok(ImportOutcome { snapshot_id, created, units: tree.len(), users: tree.users.len() })
    }

    /// All snapshots, oldest first.
    #[tracing::instrument(skip_all)]
    pub async fn list_snapshots(&self) -> Result<Vec<SnapshotInfo>, StoreError> {
        let rows = on_db!(self, sql::list_snapshots())?;
        rows.into_iter().map(snapshot_info).collect()
    }

    /// One snapshot's description.
    #[tracing::instrument(skip_all, fields(snapshot_id = snapshot_id))]
    pub async fn snapshot(&self, snapshot_id: i64) -> Result<SnapshotInfo, StoreError> {
        let row = on_db!(self, sql::snapshot(snapshot_id))?;
        snapshot_info(row.ok_or(StoreError::NoSuchSnapshot(snapshot_id))?)
    }

    /// The latest SOR tree for `kommune` (None: the latest national file), if any was imported.
    #[tracing::instrument(skip_all, fields(kommune = kommune.map(|k| k.as_u16())))]
    pub async fn latest_sor(&self, kommune: Option<KommuneKode>) -> Result<Option<SorTree>, StoreError> {
        match self.latest_snapshot_id(Register::Sor, kommune).await? {
            Some(id) => Ok(Some(self.load_sor(id).await?)),
            None => Ok(None),
        }
    }

    /// The latest FK-ORG tree for `kommune`, if any was imported.
    #[tracing::instrument(skip_all, fields(kommune = %kommune))]
    pub async fn latest_fkorg(&self, kommune: KommuneKode) -> Result<Option<FkTree>, StoreError> {
        match self.latest_snapshot_id(Register::FkOrg, Some(kommune)).await? {
            Some(id) => Ok(Some(self.load_fkorg(id).await?)),
            None => Ok(None),
        }
    }

    /// The SOR tree of snapshot `snapshot_id`, with inheritance recomputed.
    #[tracing::instrument(skip_all, fields(snapshot_id = snapshot_id))]
    pub async fn load_sor(&self, snapshot_id: i64) -> Result<SorTree, StoreError> {
        self.expect_register(snapshot_id, Register::Sor).await?;
        let damaged = |message: String| StoreError::Damaged { snapshot_id, message };
        let cells = on_db!(self, sql::load_rows(&SOR_UNITS, snapshot_id))?;
        let units =
            cells.iter().map(|c| rows::sor_unit_from_cells(c)).collect::<Result<Vec<_>, _>>().map_err(damaged)?;
        SorTree::new(units).map_err(|e| damaged(e.to_string()))
    }

    /// The FK-ORG tree of snapshot `snapshot_id`, with its users and memberships.
    #[tracing::instrument(skip_all, fields(snapshot_id = snapshot_id))]
    pub async fn load_fkorg(&self, snapshot_id: i64) -> Result<FkTree, StoreError> {
        let info = self.expect_register(snapshot_id, Register::FkOrg).await?;
        let damaged = |message: String| StoreError::Damaged { snapshot_id, message };
        let unit_cells = on_db!(self, sql::load_rows(&FKORG_UNITS, snapshot_id))?;
        let user_cells = on_db!(self, sql::load_rows(&FKORG_USERS, snapshot_id))?;
        let membership_cells = on_db!(self, sql::load_rows(&FKORG_MEMBERSHIPS, snapshot_id))?;
        let units = unit_cells
            .iter()
            .map(|c| rows::fkorg_unit_from_cells(c))
            .collect::<Result<Vec<_>, _>>()
            .map_err(damaged)?;
        let users = rows::fkorg_users_from_cells(&user_cells, &membership_cells).map_err(damaged)?;
        FkTree::new(info.cvr, units, users).map_err(|e| damaged(e.to_string()))
    }

    /// The municipalities that have at least one FK-ORG snapshot, in code order.
    #[tracing::instrument(skip_all)]
    pub async fn fkorg_kommuner(&self) -> Result<Vec<KommuneKode>, StoreError> {
        on_db!(self, sql::fkorg_kommuner())?.into_iter().map(kommune_from).collect()
    }

    async fn expect_register(&self, snapshot_id: i64, expected: Register) -> Result<SnapshotInfo, StoreError> {
        let info = self.snapshot(snapshot_id).await?;
        if info.register != expected {
            return Err(StoreError::WrongRegister { id: snapshot_id, expected, actual: info.register });
        }
        Ok(info)
    }
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn snapshot_info(row: SnapshotRow) -> Result<SnapshotInfo, StoreError> {
    let id = row.id;
    let damaged = |message: String| StoreError::Damaged { snapshot_id: id, message };
    let kommune = row.kommunekode.map(kommune_from).transpose()?;
    let cvr = row.cvr.as_deref().map(Cvr::parse).transpose().map_err(|e| damaged(e.to_string()))?;
    let imported_at = DateTime::parse_from_rfc3339(&row.imported_at)
        .map_err(|_| damaged(format!("imported_at {:?} is not a time", row.imported_at)))?
        .with_timezone(&Utc);
    Ok(SnapshotInfo {
        id,
        register: row.register,
        kommune,
        cvr,
        source: row.source,
        content_hash: row.content_hash,
        units: u64::try_from(row.unit_count).unwrap_or(0),
        users: u64::try_from(row.user_count).unwrap_or(0),
        imported_at,
    })
}

use sorsync_core::secrets::{is_secret_parameter, redact_password};

/// Query parameters of a PostgreSQL URL that hold a secret the driver does not use: it would log
/// them (with their value) as unrecognised, so they are refused before it sees them.
fn unsupported_secret_parameter(url: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query
        .split('&')
        .filter_map(|p| p.split_once('=').map(|(k, _)| k))
        .find_map(|k| (is_secret_parameter(k) && !k.eq_ignore_ascii_case("password")).then(|| k.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_the_driver_would_log_is_refused() {
        assert_eq!(unsupported_secret_parameter("postgres://h/db?sslpassword=k3y").as_deref(), Some("sslpassword"));
        assert_eq!(unsupported_secret_parameter("postgres://h/db?password=p&sslmode=require"), None);
    }

    #[tokio::test]
    async fn a_code_this_version_does_not_know_is_an_unreadable_value_not_a_panic() {
        let pool = SqlitePool::connect("sqlite::memory:").await.unwrap();
        let known: ChangeState = sqlx::query_scalar("SELECT 'applied' AS state").fetch_one(&pool).await.unwrap();
        assert_eq!(known, ChangeState::Applied);
        let unknown: Result<ChangeState, _> = sqlx::query_scalar("SELECT 'sideways' AS state").fetch_one(&pool).await;
        let err = StoreError::from(unknown.unwrap_err());
        assert!(
            matches!(&err, StoreError::UnreadableValue(m) if m.contains("\"sideways\" is not a change state")),
            "{err}"
        );
        let other_type: Result<Register, _> = sqlx::query_scalar("SELECT 7 AS register").fetch_one(&pool).await;
        assert!(matches!(StoreError::from(other_type.unwrap_err()), StoreError::UnreadableValue(_)));
    }

    fn files_in(dir: &str) -> Vec<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut names: Vec<String> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        names.sort();
        names
    }

    fn file_names(migrations: &[EmbeddedMigration]) -> Vec<String> {
        migrations.iter().map(|(v, d, _)| format!("{v}_{d}.sql")).collect()
    }

    #[test]
    fn every_migration_file_is_compiled_in_for_both_databases() {
        assert_eq!(file_names(SQLITE_MIGRATIONS), files_in("migrations/sqlite"));
        assert_eq!(file_names(POSTGRES_MIGRATIONS), files_in("migrations/postgres"));
        assert_eq!(files_in("migrations/sqlite"), files_in("migrations/postgres"));
    }
}
