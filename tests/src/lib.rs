//! Test support for Plenary's black-box suites (`tests/tests/`).
//!
//! - [`TestApp`]: the real service's router, started in the test's process on a fresh database
//!   and driven over real HTTP on a random loopback port.
//! - [`TestDatabase`]: that fresh database, also given to the real binary: a temporary SQLite
//!   file by default, or a uniquely named PostgreSQL database when `PLENARY_TEST_DATABASE_URL`
//!   names a server; removed when the test ends, even when it panics.
//! - [`binary`]: the real `plenary` executable, its commands and `plenary serve`.
//! - [`smtp`]: a real SMTP server that keeps what it receives.
//! - [`nginx`]: Debian's nginx running `deploy/nginx.conf` in front of replicas.
//! - [`postgres`]: a private PostgreSQL cluster a test may stop and start.
//! - [`builders`]: meetings, registrations and accounts, typed.
//! - [`browser`]: a real browser (chromium through chromedriver).

pub mod binary;
pub mod browser;
pub mod builders;
mod database;
pub mod nginx;
pub mod postgres;
pub mod smtp;

use plenary::{app::AppState, auth::Role, config::Config};
use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::{Value, json};
use tokio::{sync::oneshot, task::JoinHandle};

pub use database::TestDatabase;

/// A running service and the means to talk to it.
pub struct TestApp {
    pub base_url: String,
    pub client: Client,
    pub state: AppState,
    /// `None` for a replica: the first `TestApp` removes the database.
    database: Option<TestDatabase>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
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
        let database = TestDatabase::create().await;
        let mut config = Config::for_database(database.url().to_owned());
        config.admin_password = Some("test-admin-password".into());
        configure(&mut config);
        Self::serve(Some(database), config).await
    }

    /// A second replica of this service: another server, with its own connections, on the same
    /// database (as `plenary serve` behind a load balancer). This `TestApp` removes the
    /// database; stop the replica first.
    ///
    /// # Panics
    /// When the listener cannot be set up or the service does not start.
    pub async fn spawn_replica(&self) -> Self {
        Self::serve(None, Config::clone(&self.state.config)).await
    }

    async fn serve(database: Option<TestDatabase>, mut config: Config) -> Self {
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

    /// Plans `year` as `token`'s bearer: the plan the API answers.
    ///
    /// # Panics
    /// When the answer is not 200.
    pub async fn plan(&self, token: &str, year: i32) -> Value {
        expect_json(self.send(Method::POST, "/api/v1/plan", token, json!({ "year": year })).await, 200).await
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base_url))
    }

    /// `METHOD path` with `body` as JSON, as `token`'s bearer, and the response.
    ///
    /// # Panics
    /// When the service does not answer at all.
    pub async fn send(&self, method: Method, path: &str, token: &str, body: Value) -> Response {
        self.request(method, path).bearer_auth(token).json(&body).send().await.expect("request sent")
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
        if let Some(database) = self.database.take() {
            database.remove().await;
        }
    }
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
