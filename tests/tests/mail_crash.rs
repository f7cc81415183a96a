//! The mail worker inside the real `plenary serve`: killed with SIGKILL halfway through a batch
//! of 500 messages and restarted, it delivers every message, duplicating at most those that
//! were in flight. Its `/readyz` sees the worker alive (the heartbeat `serve` shares). Then a
//! SIGTERM stops it gracefully.
//!
//! Runs on a fresh SQLite file, or a fresh PostgreSQL database when
//! `PLENARY_TEST_DATABASE_URL` is set; the SMTP server is `tests/python/smtp_sink.py`.

use std::time::{Duration, Instant};

use plenary::{
    config::Config,
    store::outbox::{self, NewMessage},
};
use tests::{TestDatabase, binary::Server, smtp::SmtpSink};

const MESSAGES: usize = 500;
/// The mail settings of the service: `CONCURRENCY` sends at once, claims of twice that.
const CONCURRENCY: usize = 4;

/// Starts `plenary serve` delivering to `smtp_url`.
fn serve(database: &TestDatabase, smtp_url: &str) -> Server {
    Server::start_with(database, |command| {
        command
            .env("PLENARY_SMTP_URL", smtp_url)
            .env("PLENARY_ADMIN_PASSWORD", "crash-test")
            .env("PLENARY_MAIL_CONCURRENCY", CONCURRENCY.to_string())
            .env("PLENARY_MAIL_LEASE_MS", "3000")
            .env("PLENARY_MAIL_POLL_MS", "50");
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_service_delivers_everything_after_a_restart_duplicating_at_most_what_was_in_flight() {
    let database = TestDatabase::create().await;
    // 500 messages queued before the service starts.
    let prepared = plenary::app::prepare(Config::for_database(database.url().to_owned())).await.expect("prepare");
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
    let sink = SmtpSink::start_slow(tests::smtp::free_port(), None, 10);
    let mut first = serve(&database, &sink.url());
    let until = Instant::now() + Duration::from_secs(120);
    while sink.messages().len() < MESSAGES / 4 {
        assert!(first.has_exited().is_none(), "plenary serve exited early");
        assert!(Instant::now() < until, "the first service delivered only {} messages", sink.messages().len());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.kill();
    let at_kill = sink.messages().len();
    assert!(at_kill < MESSAGES, "the batch was over before the kill ({at_kill} delivered); nothing was tested");

    let mut second = serve(&database, &sink.url());
    let counts = loop {
        let counts = sink.arrivals();
        if counts.len() >= MESSAGES {
            break counts;
        }
        assert!(second.has_exited().is_none(), "the restarted plenary serve exited");
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
    let readyz = format!("{}/readyz", second.base_url());
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
    let status = second.terminate();
    assert!(status.success(), "plenary serve did not stop cleanly: {status}");

    let db = plenary::db::connect(database.url()).await.unwrap();
    assert_eq!(outbox::pending(&db, None).await.unwrap(), 0, "nothing left queued");
    db.close().await.ok();
}
