//! `plenary seating --meeting ID --format svg|json|csv` on the real binary: the plan on stdout,
//! the same lot on every run, and a message with a non-zero exit for an unknown meeting or a room
//! too small.
//!
//! Runs on a fresh SQLite file, or a fresh PostgreSQL database when `PLENARY_TEST_DATABASE_URL`
//! is set.

use std::{
    net::TcpListener,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

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
                let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
                let name = format!("plenary_seating_{}_{nanos}", std::process::id());
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

    fn plenary(&self) -> Command {
        let mut command = Command::new(BINARY);
        command
            .env_remove("PLENARY_ADMIN_PASSWORD")
            .env_remove("PLENARY_SMTP_URL")
            .env_remove("PLENARY_ADDR")
            .env("PLENARY_DATABASE_URL", &self.url)
            .env("PLENARY_LOG", "warn");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.plenary().args(args).output().expect("plenary runs")
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.postgres {
            psql(admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

fn psql(url: &str, sql: &str) {
    let status = Command::new("psql").arg(url).arg("-qc").arg(sql).status().expect("psql runs");
    assert!(status.success(), "psql failed: {sql}");
}

/// `plenary serve` on a free port, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(database: &Database) -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = database
            .plenary()
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .spawn()
            .expect("plenary starts");
        let server = Self { child, base: format!("http://127.0.0.1:{port}") };
        let deadline = Instant::now() + Duration::from_secs(60);
        // Ready once it has planned this year and next and answers.
        while reqwest::blocking::get(format!("{}/healthz", server.base)).map(|r| r.status().as_u16()).ok() != Some(200)
        {
            assert!(Instant::now() < deadline, "plenary did not become ready");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "plenary failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn seating_writes_the_plan_as_json_csv_and_svg_and_fails_clearly() {
    let database = Database::new();
    let server = Server::start(&database);
    let token = stdout(&database.run(&["token", "create", "--role", "organiser"])).trim().to_owned();
    let client = reqwest::blocking::Client::new();
    let created: Value = client
        .post(format!("{}/api/v1/meetings", server.base))
        .bearer_auth(&token)
        .json(&json!({"body": "PC", "title": "Special session", "start": "2026-11-24T10:00:00",
                      "end": "2026-11-24T12:00:00", "time_zone": "Europe/Vienna", "room": "HOFBURG-NEUER-SAAL",
                      "force": true}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id = created["id"].as_i64().unwrap().to_string();

    let json: Value = serde_json::from_str(&stdout(&database.run(&["seating", "--meeting", &id, "--format", "json"])))
        .expect("--format json writes JSON");
    assert_eq!(json["plan"]["room"], "Neuer Saal");
    assert_eq!(json["plan"]["head"][0]["label"], "Chairperson (Switzerland)");
    let delegations = json["plan"]["seats"].as_array().unwrap().iter().filter(|s| s["kind"] == "delegation").count();
    assert_eq!(delegations, 68);
    let again: Value =
        serde_json::from_str(&stdout(&database.run(&["seating", "--meeting", &id, "--format", "json"]))).unwrap();
    assert_eq!(again["lot"], json["lot"], "the lot is stored, not drawn again");
    let served: Value =
        client.get(format!("{}/api/v1/meetings/{id}/seating", server.base)).send().unwrap().json().unwrap();
    assert_eq!(served["lot"], json["lot"], "the CLI and the API agree");

    let csv = stdout(&database.run(&["seating", "--meeting", &id, "--format", "csv"]));
    let lines: Vec<&str> = csv.split("\r\n").filter(|line| !line.is_empty()).collect();
    assert_eq!(lines[0], "seat,place,behind_seat,x,y,angle,kind,delegation,label,occupant");
    assert_eq!(lines.len(), 1 + 84 + 68 * 2, "a header and every seat");
    assert!(lines[1].ends_with(",chair,CH,Chairperson (Switzerland),"), "{}", lines[1]);

    let svg = stdout(&database.run(&["seating", "--meeting", &id]));
    assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"), "svg is the default format");
    assert!(svg.contains(json["plan"]["lot_note"].as_str().unwrap()));

    let unknown = database.run(&["seating", "--meeting", "999999", "--format", "json"]);
    assert!(!unknown.status.success());
    assert!(unknown.stdout.is_empty());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("there is no meeting 999999"));

    let small: Value = client
        .post(format!("{}/api/v1/meetings", server.base))
        .bearer_auth(&token)
        .json(&json!({"body": "PC", "start": "2026-11-23T10:00:00", "end": "2026-11-23T12:00:00",
                      "time_zone": "Europe/Vienna", "room": "HOFBURG-SEGMENTGALERIE", "force": true}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let small = small["id"].as_i64().unwrap().to_string();
    let too_small = database.run(&["seating", "--meeting", &small, "--format", "svg"]);
    assert!(!too_small.status.success());
    assert!(too_small.stdout.is_empty());
    let message = String::from_utf8_lossy(&too_small.stderr);
    assert!(message.contains("Segmentgalerie") && message.contains("40 seats") && message.contains("70"), "{message}");

    let bad_format = database.run(&["seating", "--meeting", &id, "--format", "pdf"]);
    assert!(!bad_format.status.success());
    let help = String::from_utf8(Command::new(BINARY).arg("--help").output().unwrap().stdout).unwrap();
    assert!(help.contains("seating"), "{help}");
}
