//! Fresh test databases for store tests: SQLite in a temp dir, or a new database on the PostgreSQL
//! server named by `SORSYNC_TEST_POSTGRES_URL` (skipped when unset, unless `SORSYNC_REQUIRE_POSTGRES=1`,
//! which makes it a failure), dropped afterwards; and `on_sqlite_and_postgres!` to run a scenario on both.

use sorsync::store::Store;
use sqlx::migrate::MigrateDatabase as _;

/// A store on a fresh database, removed when dropped.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    _place: Place,
}

enum Place {
    SqliteDir(#[allow(dead_code)] tempfile::TempDir),
    PostgresDatabase(String),
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Place::PostgresDatabase(url) = self {
            let url_for_thread = url.clone();
            // Dropping runs inside the test's runtime, so the database is dropped from a thread of its own.
            let dropped = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                rt.block_on(sqlx::Postgres::force_drop_database(&url_for_thread)).ok()
            })
            .join();
            if !matches!(dropped, Ok(Some(()))) {
                eprintln!("note: could not drop test database {url}");
            }
        }
    }
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        sorsync::telemetry::init_for_tests();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("sorsync.db").display());
        let store = Store::open(&url).await.unwrap();
        TestDb { store, url, _place: Place::SqliteDir(dir) }
    }

    /// None (with a note) when no PostgreSQL server is configured and none is required.
    pub async fn postgres() -> Option<TestDb> {
        sorsync::telemetry::init_for_tests();
        let Ok(admin_url) = std::env::var("SORSYNC_TEST_POSTGRES_URL") else {
            assert!(
                std::env::var("SORSYNC_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "SORSYNC_REQUIRE_POSTGRES=1 but SORSYNC_TEST_POSTGRES_URL is not set"
            );
            eprintln!("note: PostgreSQL test skipped (set SORSYNC_TEST_POSTGRES_URL to run it)");
            return None;
        };
        let name = format!("sorsync_test_{}", uuid::Uuid::new_v4().simple());
        let url = database_url_with_name(&admin_url, &name);
        sqlx::Postgres::create_database(&url).await.unwrap();
        let place = Place::PostgresDatabase(url.clone());
        let store = Store::open(&url).await.unwrap();
        Some(TestDb { store, url, _place: place })
    }
}

/// `postgres://u@h:p/postgres?x` -> `postgres://u@h:p/NAME?x`.
fn database_url_with_name(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let host_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[host_start..].find('/') {
        Some(slash) => &base[..host_start + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

/// Runs each scenario `async fn NAME(db: &TestDb)` as `NAME::on_sqlite` and `NAME::on_postgres`.
macro_rules! on_sqlite_and_postgres {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                let db = $crate::test_db::TestDb::sqlite().await;
                super::$scenario(&db).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                let Some(db) = $crate::test_db::TestDb::postgres().await else { return };
                super::$scenario(&db).await;
            }
        }
    )*};
}
