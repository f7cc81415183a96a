//! `TestDatabase`: an empty database of its own for one test, removed when it is dropped.
//!
//! A temporary SQLite file by default, or a uniquely named PostgreSQL database when
//! `PLENARY_TEST_DATABASE_URL` names a server. Both the router-level [`crate::TestApp`] and the
//! tests that run the real `plenary` binary ([`crate::binary`]) take their database from here.
//! Removal happens in `Drop`, so a test that panics leaves nothing behind.

use std::path::PathBuf;

/// A database for one test. Plenary migrates it on first use.
pub struct TestDatabase {
    url: String,
    /// `None` once removed.
    place: Option<Place>,
}

enum Place {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// Creates the database.
    ///
    /// # Panics
    /// When `PLENARY_TEST_DATABASE_URL` is set but the server refuses: the test cannot run.
    pub async fn create() -> Self {
        let unique = uuid::Uuid::new_v4().simple().to_string();
        match std::env::var("PLENARY_TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("plenary_test_{unique}");
                let admin = plenary::db::connect(&admin_url).await.expect("connect to PLENARY_TEST_DATABASE_URL");
                sea_orm::ConnectionTrait::execute_unprepared(&admin, &format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create the test database");
                admin.close().await.ok();
                let url = replace_database(&admin_url, &name);
                Self { url, place: Some(Place::Postgres { admin_url, name }) }
            }
            _ => Self::sqlite(&unique),
        }
    }

    /// A temporary SQLite file whatever `PLENARY_TEST_DATABASE_URL` says: for a test that needs
    /// SQLite on both runs (moving an installation from SQLite, backing SQLite up).
    pub fn create_sqlite_blocking() -> Self {
        Self::sqlite(&uuid::Uuid::new_v4().simple().to_string())
    }

    fn sqlite(unique: &str) -> Self {
        let path = std::env::temp_dir().join(format!("plenary-test-{unique}.db"));
        Self { url: format!("sqlite://{}", path.display()), place: Some(Place::Sqlite(path)) }
    }

    /// Whether it is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        matches!(self.place, Some(Place::Postgres { .. }))
    }

    /// [`TestDatabase::create`] for a test that has no async runtime (one that runs the binary).
    ///
    /// # Panics
    /// As [`TestDatabase::create`].
    pub fn create_blocking() -> Self {
        on_a_fresh_runtime(Self::create())
    }

    /// The URL to give Plenary (`PLENARY_DATABASE_URL`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Removes the database now (from async code, without blocking the runtime).
    pub async fn remove(mut self) {
        if let Some(place) = self.place.take() {
            place.remove().await;
        }
    }
}

impl Drop for TestDatabase {
    /// A test that panicked, or code without a runtime, never called `remove`: remove the database
    /// from a fresh thread, since the test's runtime may be gone or busy.
    fn drop(&mut self) {
        if let Some(place) = self.place.take() {
            // Never panic here: this may run while the test is already unwinding.
            let _ = std::thread::spawn(move || {
                if let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    runtime.block_on(place.remove());
                }
            })
            .join();
        }
    }
}

impl Place {
    async fn remove(self) {
        match self {
            Self::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Self::Postgres { admin_url, name } => {
                if let Ok(admin) = plenary::db::connect(&admin_url).await {
                    let _ = sea_orm::ConnectionTrait::execute_unprepared(
                        &admin,
                        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    )
                    .await;
                    admin.close().await.ok();
                }
            }
        }
    }
}

/// Runs `work` to completion on a runtime of its own, in a thread of its own: usable from sync
/// tests, from `Drop`, and from inside another runtime alike.
fn on_a_fresh_runtime<T: Send + 'static>(work: impl Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime").block_on(work)
    })
    .join()
    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

fn replace_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("PLENARY_TEST_DATABASE_URL is a URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}
