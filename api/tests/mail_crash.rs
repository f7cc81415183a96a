//! The mail worker inside the real `plenary serve`: killed with SIGKILL halfway through a batch
//! of 500 messages and restarted, it delivers every message, duplicating at most those that
//! were in flight. Its `/readyz` sees the worker alive (the heartbeat `serve` shares). Then a
//! SIGTERM stops it gracefully.
//!
//! Runs on a fresh SQLite file, or a fresh PostgreSQL database when
//! `PLENARY_TEST_DATABASE_URL` is set; the SMTP server is `tests/python/smtp_sink.py`.

#[path = "../../tests/tests/support/smtp.rs"]
mod smtp;

use std::{
    collections::HashMap,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use nix::{sys::signal, unistd::Pid};
use plenary::{
    config::Config,
    store::outbox::{self, NewMessage},
};

const BINARY: &str = env!("CARGO_BIN_EXE_plenary");
const MESSAGES: usize = 500;
/// The mail settings of the service: `CONCURRENCY` sends at once, claims of twice that.
const CONCURRENCY: usize = 4;

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
                let name = format!("plenary_mail_{}_{nanos}", std::process::id());
                psql(&admin, &format!("CREATE DATABASE {name}"));
                let mut url = url::Url::parse(&admin).expect("PLENARY_TEST_DATABASE_URL is a URL");
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

fn psql(url: &str, sql: &str) {
    let status = Command::new("psql").arg(url).arg("-qc").arg(sql).status().expect("psql runs");
    assert!(status.success(), "psql failed: {sql}");
}

/// Starts `plenary serve`; returns it and the port it listens on.
fn serve(database: &Database, smtp_url: &str) -> (Child, u16) {
    let port = smtp::free_port();
    let child = Command::new(BINARY)
        .arg("serve")
        .env("PLENARY_DATABASE_URL", &database.url)
        .env("PLENARY_ADDR", format!("127.0.0.1:{port}"))
        .env("PLENARY_SMTP_URL", smtp_url)
        .env("PLENARY_ADMIN_PASSWORD", "crash-test")
        .env("PLENARY_MAIL_CONCURRENCY", CONCURRENCY.to_string())
        .env("PLENARY_MAIL_LEASE_MS", "3000")
        .env("PLENARY_MAIL_POLL_MS", "50")
        .env("PLENARY_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start plenary serve");
    (child, port)
}

/// How many times each Message-ID arrived.
fn arrivals(sink: &smtp::SmtpSink) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for message in sink.messages() {
        let text = String::from_utf8_lossy(&message);
        let id = text
            .lines()
            .find_map(|line| line.strip_prefix("Message-ID: ").or_else(|| line.strip_prefix("Message-Id: ")))
            .expect("a Message-ID")
            .trim()
            .to_owned();
        *counts.entry(id).or_insert(0) += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_service_delivers_everything_after_a_restart_duplicating_at_most_what_was_in_flight() {
    let database = Database::new();
    // 500 messages queued before the service starts.
    let prepared = plenary::app::prepare(Config::for_database(database.url.clone())).await.expect("prepare");
    for i in 0..MESSAGES {
        let queued = outbox::enqueue(
            &prepared.state.db,
            NewMessage {
                kind: "test".into(),
                meeting_id: None,
                recipient_email: format!("delegate{i}@example.org"),
                recipient_name: format!("Delegate {i}"),
                language: plenary::db::enums::Language::En,
                subject: format!("Message {i}"),
                text_body: "Hello.\n".repeat(100),
                html_body: None,
                calendar: None,
                message_id: format!("<crash-{i}@plenary.test>"),
                dedupe_key: format!("crash-{i}"),
            },
        )
        .await
        .expect("enqueue");
        assert!(queued);
    }
    prepared.state.db.close().await.ok();

    // Each message takes the SMTP server 10 ms, so the kill lands mid-batch.
    let sink = smtp::SmtpSink::start_slow(smtp::free_port(), None, 10);
    let (mut first, _) = serve(&database, &sink.url());
    let until = Instant::now() + Duration::from_secs(120);
    while sink.messages().len() < MESSAGES / 4 {
        assert!(first.try_wait().unwrap().is_none(), "plenary serve exited early");
        assert!(Instant::now() < until, "the first service delivered only {} messages", sink.messages().len());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    signal::kill(Pid::from_raw(i32::try_from(first.id()).unwrap()), signal::Signal::SIGKILL).unwrap();
    first.wait().unwrap();
    let at_kill = sink.messages().len();
    assert!(at_kill < MESSAGES, "the batch was over before the kill ({at_kill} delivered); nothing was tested");

    let (mut second, port) = serve(&database, &sink.url());
    let counts = loop {
        let counts = arrivals(&sink);
        if counts.len() >= MESSAGES {
            break counts;
        }
        assert!(second.try_wait().unwrap().is_none(), "the restarted plenary serve exited");
        assert!(Instant::now() < until, "only {} of {MESSAGES} distinct messages arrived", counts.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(counts.len(), MESSAGES);
    let duplicates: usize = counts.values().map(|n| n - 1).sum();
    eprintln!("{at_kill} messages had arrived at the kill; {duplicates} arrived twice");
    assert!(
        duplicates <= 2 * CONCURRENCY,
        "{duplicates} duplicates; at most the {} messages claimed at the kill may arrive twice",
        2 * CONCURRENCY
    );

    // The service's readiness sees its worker beating.
    let readyz = format!("http://127.0.0.1:{port}/readyz");
    let ready = loop {
        let answer = tokio::task::spawn_blocking({
            let readyz = readyz.clone();
            move || reqwest::blocking::get(readyz).ok().map(|response| (response.status().as_u16(), response.text()))
        })
        .await
        .unwrap();
        if let Some((200, Ok(body))) = answer {
            break body;
        }
        assert!(Instant::now() < until, "/readyz never answered 200: {answer:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let ready: serde_json::Value = serde_json::from_str(&ready).unwrap();
    assert_eq!(ready["checks"]["mail_worker"]["status"], "ok", "{ready:#}");

    // A graceful stop: SIGTERM ends the worker and the server cleanly.
    signal::kill(Pid::from_raw(i32::try_from(second.id()).unwrap()), signal::Signal::SIGTERM).unwrap();
    let status = second.wait().unwrap();
    assert!(status.success(), "plenary serve did not stop cleanly: {status}");

    let db = plenary::db::connect(&database.url).await.unwrap();
    assert_eq!(outbox::pending(&db, None).await.unwrap(), 0, "nothing left queued");
    db.close().await.ok();
}
