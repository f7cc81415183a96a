//! `TestApp`: the real Plenary service, started on a fresh database for one test.
//!
//! Each test gets its own freshly migrated database: a temporary SQLite file by default, or a
//! uniquely named PostgreSQL database when `PLENARY_TEST_DATABASE_URL` names a server (the
//! database is dropped when the test ends). The service listens on a random loopback port and
//! is driven over real HTTP.

pub mod browser;

use std::path::PathBuf;

use plenary::{app::AppState, auth::Role, config::Config};
use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::Value;
use tokio::{sync::oneshot, task::JoinHandle};

/// A running service and the means to talk to it.
pub struct TestApp {
    pub base_url: String,
    pub client: Client,
    pub state: AppState,
    database: TestDatabase,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

enum TestDatabase {
    Sqlite(PathBuf),
    Postgres {
        admin_url: String,
        name: String,
    },
    /// Another `TestApp`'s database, which that one removes.
    Shared,
}

impl TestApp {
    /// Starts the service on a new database with the reference data loaded.
    ///
    /// # Panics
    /// When the database or the listener cannot be set up: the test cannot run.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Like [`TestApp::spawn`], with a chance to change the configuration first.
    ///
    /// # Panics
    /// When the database or the listener cannot be set up.
    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> Self {
        let (database, url) = TestDatabase::create().await;
        let mut config = Config::for_database(url);
        config.admin_password = Some("test-admin-password".into());
        configure(&mut config);
        Self::serve(database, config).await
    }

    /// A second replica of this service: another server, with its own connections, on the same
    /// database (as `plenary serve` behind a load balancer). This `TestApp` removes the
    /// database; stop the replica first.
    ///
    /// # Panics
    /// When the listener cannot be set up or the service does not start.
    pub async fn spawn_replica(&self) -> Self {
        Self::serve(TestDatabase::Shared, Config::clone(&self.state.config)).await
    }

    async fn serve(database: TestDatabase, mut config: Config) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        let addr = listener.local_addr().expect("listener address");
        config.addr = addr;
        let prepared = plenary::app::prepare(config).await.expect("prepare the service");
        let state = prepared.state.clone();
        let (shutdown, stopped) = oneshot::channel::<()>();
        let app = plenary::app::router(prepared.state);
        let server = tokio::spawn(async move {
            plenary::app::serve(listener, app, async {
                let _ = stopped.await;
            })
            .await
            .expect("server runs");
        });
        Self {
            base_url: format!("http://{addr}"),
            client: Client::builder().build().expect("http client"),
            state,
            database,
            shutdown: Some(shutdown),
            server: Some(server),
        }
    }

    /// A new API token with `role`.
    ///
    /// # Panics
    /// When the token cannot be stored.
    pub async fn token(&self, role: Role, state: Option<&str>) -> String {
        plenary::store::tokens::create(&self.state.db, role, state, "test").await.expect("create token")
    }

    pub async fn organiser_token(&self) -> String {
        self.token(Role::Organiser, None).await
    }

    pub async fn delegation_token(&self, iso2: &str) -> String {
        self.token(Role::Delegation, Some(iso2)).await
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base_url))
    }

    /// `GET path` and the response.
    ///
    /// # Panics
    /// When the service does not answer at all.
    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.expect("request sent")
    }

    /// `GET path` expecting `status`, and the JSON body.
    ///
    /// # Panics
    /// When the status differs or the body is not JSON.
    pub async fn get_json(&self, path: &str, status: u16) -> Value {
        expect_json(self.get(path).await, status).await
    }

    /// Stops the server and removes the database.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.state.db.clone().close().await.ok();
        self.database.remove().await;
    }
}

impl Drop for TestApp {
    /// A test that panicked never reached `stop`: remove its database from a fresh thread, since
    /// the test's runtime may be gone.
    fn drop(&mut self) {
        if self.shutdown.is_none() {
            return;
        }
        let database = std::mem::replace(&mut self.database, TestDatabase::Shared);
        let _ = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                runtime.block_on(database.remove());
            }
        })
        .join();
    }
}

impl TestDatabase {
    async fn create() -> (Self, String) {
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
                (Self::Postgres { admin_url, name }, url)
            }
            _ => {
                let path = std::env::temp_dir().join(format!("plenary-test-{unique}.db"));
                let url = format!("sqlite://{}", path.display());
                (Self::Sqlite(path), url)
            }
        }
    }

    async fn remove(&self) {
        match self {
            Self::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Self::Shared => {}
            Self::Postgres { admin_url, name } => {
                if let Ok(admin) = plenary::db::connect(admin_url).await {
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

fn replace_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("PLENARY_TEST_DATABASE_URL is a URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

/// Checks the status and returns the JSON body, showing the body when the status is wrong.
///
/// # Panics
/// When the status differs or the body is not JSON.
pub async fn expect_json(response: Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let text = response.text().await.expect("response body");
    assert_eq!(actual, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("body is not JSON ({error}): {text}"))
}

/// Checks that a response is an error in Plenary's shape with `status`, and returns its message.
///
/// # Panics
/// When the status or the shape differ.
pub async fn expect_error(response: Response, status: u16) -> String {
    let body = expect_json(response, status).await;
    let message = body["error"]["message"].as_str().unwrap_or_else(|| panic!("no error.message in {body}"));
    assert!(body["error"]["code"].is_string(), "no error.code in {body}");
    message.to_owned()
}
