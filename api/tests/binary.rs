//! The `plenary` binary itself: first start, restart, graceful shutdown and the token command.
//!
//! Each test runs the real executable on a fresh SQLite file (or, when
//! `PLENARY_TEST_DATABASE_URL` is set, a fresh PostgreSQL database) and talks to it over HTTP.

use std::{
    io::{BufRead as _, BufReader},
    net::TcpListener,
    process::{Child, Command, ExitStatus, Output, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

const BINARY: &str = env!("CARGO_BIN_EXE_plenary");

/// A database for one test, removed afterwards.
struct Database {
    url: String,
    _dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl Database {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        match std::env::var("PLENARY_TEST_DATABASE_URL") {
            Ok(admin) if !admin.is_empty() => {
                let name = format!("plenary_bin_{}", uuid_like());
                psql(&admin, &format!("CREATE DATABASE {name}"));
                let mut url = reqwest::Url::parse(&admin).expect("PLENARY_TEST_DATABASE_URL is a URL");
                url.set_path(&format!("/{name}"));
                Self { url: url.to_string(), _dir: dir, postgres: Some((admin, name)) }
            }
            _ => {
                Self { url: format!("sqlite://{}", dir.path().join("plenary.db").display()), _dir: dir, postgres: None }
            }
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.postgres {
            psql(admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// A name part unique across the test binaries running at once.
fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{}_{nanos}", std::process::id())
}

fn psql(url: &str, sql: &str) {
    let status = Command::new("psql").arg(url).arg("-qc").arg(sql).status().expect("psql runs");
    assert!(status.success(), "psql failed: {sql}");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn plenary(database: &Database) -> Command {
    let mut command = Command::new(BINARY);
    command
        .env_remove("PLENARY_ADMIN_PASSWORD")
        .env_remove("PLENARY_SMTP_URL")
        .env_remove("PLENARY_ADDR")
        .env("PLENARY_DATABASE_URL", &database.url)
        .env("PLENARY_LOG", "warn");
    command
}

/// A running `plenary serve` and what it printed on stdout.
struct Server {
    child: Child,
    stdout: Arc<Mutex<String>>,
    port: u16,
}

impl Server {
    fn start(database: &Database) -> Self {
        let port = free_port();
        let mut child = plenary(database)
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::piped())
            .spawn()
            .expect("plenary starts");
        let stdout = Arc::new(Mutex::new(String::new()));
        let reader = BufReader::new(child.stdout.take().unwrap());
        let sink = Arc::clone(&stdout);
        std::thread::spawn(move || {
            for line in reader.lines().map_while(Result::ok) {
                let mut sink = sink.lock().unwrap();
                sink.push_str(&line);
                sink.push('\n');
            }
        });
        let server = Self { child, stdout, port };
        server.wait_until(|s| s.get_status("/healthz") == Some(200) && s.printed().contains("Plenary is ready"));
        server
    }

    fn wait_until(&self, mut condition: impl FnMut(&Self) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !condition(self) {
            assert!(Instant::now() < deadline, "plenary did not become ready; it printed: {}", self.printed());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn printed(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    fn get_status(&self, path: &str) -> Option<u16> {
        reqwest::blocking::get(format!("http://127.0.0.1:{}{path}", self.port)).ok().map(|r| r.status().as_u16())
    }

    fn get_json(&self, path: &str) -> serde_json::Value {
        reqwest::blocking::get(format!("http://127.0.0.1:{}{path}", self.port)).unwrap().json().unwrap()
    }

    fn terminate(mut self) -> ExitStatus {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "plenary ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn first_start_prints_the_password_once_restart_adds_nothing_and_sigterm_stops_cleanly() {
    let database = Database::new();
    let first = Server::start(&database);
    let printed = first.printed();
    assert!(printed.contains(&format!("Plenary is ready at http://127.0.0.1:{}/", first.port)), "{printed}");
    assert!(printed.contains("Log in as `admin` with the password"), "{printed}");
    assert_eq!(first.get_json("/api/v1/states").as_array().unwrap().len(), 68);
    let bodies = first.get_json("/api/v1/bodies").as_array().unwrap().len();
    assert!(first.terminate().success());

    let second = Server::start(&database);
    assert!(!second.printed().contains("password"), "the password is printed only on the first start");
    assert_eq!(second.get_json("/api/v1/states").as_array().unwrap().len(), 68);
    assert_eq!(second.get_json("/api/v1/bodies").as_array().unwrap().len(), bodies);
    assert!(second.terminate().success());
}

#[test]
fn a_configured_admin_password_is_used_and_not_printed() {
    let database = Database::new();
    let port = free_port();
    let mut child = plenary(&database)
        .env("PLENARY_ADMIN_PASSWORD", "from-the-environment")
        .env("PLENARY_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first_line).unwrap();
    assert!(first_line.contains(&format!("127.0.0.1:{port}")), "PLENARY_ADDR is honoured: {first_line}");
    let _ = child.kill();
    let _ = child.wait();
    assert!(!first_line.contains("from-the-environment"));
}

fn run(command: &mut Command) -> Output {
    command.output().expect("plenary runs")
}

#[test]
fn token_create_prints_one_line_and_refuses_what_it_cannot_do() {
    let database = Database::new();
    let organiser = run(plenary(&database).args(["token", "create", "--role", "organiser"]));
    assert!(organiser.status.success(), "{}", String::from_utf8_lossy(&organiser.stderr));
    let stdout = String::from_utf8(organiser.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");
    assert!(stdout.starts_with("plt_") && stdout.trim().len() > 40, "{stdout:?}");

    let delegation = run(plenary(&database).args(["token", "create", "--role", "delegation", "--state", "at"]));
    assert!(delegation.status.success());

    let no_state = run(plenary(&database).args(["token", "create", "--role", "delegation"]));
    assert!(!no_state.status.success());
    assert!(String::from_utf8_lossy(&no_state.stderr).contains("--state"));

    let unknown = run(plenary(&database).args(["token", "create", "--role", "delegation", "--state", "XQ"]));
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("XQ"));
    assert!(unknown.stdout.is_empty());

    let bad_role = run(plenary(&database).args(["token", "create", "--role", "emperor"]));
    assert!(!bad_role.status.success());

    // The input policy holds on the command line too (issue 12): a label is one line of text.
    let hostile = run(plenary(&database).args(["token", "create", "--role", "organiser", "--label", "ops\u{1b}[2J"]));
    assert!(!hostile.status.success());
    let stderr = String::from_utf8_lossy(&hostile.stderr);
    assert!(stderr.contains("--label") && stderr.contains("U+001B ESCAPE"), "{stderr}");
    assert!(hostile.stdout.is_empty());
}

#[test]
fn migrate_prepares_the_database_and_help_lists_every_command() {
    let database = Database::new();
    let migrate = run(plenary(&database).arg("migrate"));
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    let printed = String::from_utf8_lossy(&migrate.stdout);
    assert!(
        printed.contains("Log in as `admin` with the password"),
        "the command that creates the account shows its password: {printed}"
    );
    let again = run(plenary(&database).args(["plan", "--year", "2027"]));
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let printed = String::from_utf8_lossy(&again.stdout);
    assert!(!printed.contains("password"), "only once: {printed}");
    assert!(printed.contains("Planned 2027:"), "{printed}");
    let help = String::from_utf8(run(Command::new(BINARY).arg("--help")).stdout).unwrap();
    for command in ["serve", "migrate", "token"] {
        assert!(help.contains(command), "{command} missing from --help:\n{help}");
    }
    let bad_url = run(Command::new(BINARY).args(["--database-url", "mysql://nowhere/db", "migrate"]));
    assert!(!bad_url.status.success());
    assert!(String::from_utf8_lossy(&bad_url.stderr).contains("error:"));
}
