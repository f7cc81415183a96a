//! Issue 12, "a delivery worker that nothing can stop": a message that cannot be built or whose
//! handling panics is marked `failed` with its reason and the rest are delivered; the worker is
//! supervised; `/readyz` tells a load balancer whether this replica can work; the bodies of old
//! messages are purged.
//!
//! The poison is put into the outbox directly, as an old row or a future bug would put it: the
//! API refuses such names now, and these tests must not depend on what it accepts.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use plenary::{
    db::{
        entities::outbox as entity,
        enums::{Language, OutboxStatus},
    },
    mail::worker::{Worker, WorkerHandle},
    store::outbox::{self, CalendarPart, NewMessage, Outcome},
};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, ConnectionTrait as _, EntityTrait as _,
    IntoActiveModel as _, QueryFilter as _, QueryOrder as _,
};
use serde_json::{Value, json};
use tests::{TestApp, expect_json, smtp::SmtpSink};

const DEADLINE: Duration = Duration::from_secs(60);

/// The service with mail going to `sink` (polling every 50 ms), without a worker yet.
async fn app_with_mail(sink: &SmtpSink, max_attempts: i32) -> TestApp {
    let url = sink.url();
    TestApp::spawn_with(move |config| {
        config.smtp_url = Some(url);
        config.mail.poll_ms = 50;
        config.mail.retry_base_ms = 100;
        config.mail.send_timeout_ms = 5_000;
        config.mail.concurrency = 4;
        config.mail.max_attempts = max_attempts;
    })
    .await
}

/// A worker for `app` sharing its heartbeat with `/readyz`; `fault` runs as each message is
/// handled.
fn worker(app: &TestApp, fault: impl Fn(&entity::Model) + Send + Sync + 'static) -> WorkerHandle {
    Worker::new(app.state.db.clone(), &app.state.config)
        .expect("worker settings")
        .expect("an SMTP URL is configured")
        .with_heartbeat(app.state.mail_worker.clone())
        .inject_fault(fault)
        .spawn()
}

fn message(key: &str, name: &str, email: &str) -> NewMessage {
    NewMessage {
        kind: "test".into(),
        meeting_id: None,
        recipient_email: email.into(),
        recipient_name: name.into(),
        language: Language::En,
        subject: format!("Message {key}"),
        text_body: "Hello.\n".into(),
        html_body: Some("<p>Hello.</p>".into()),
        calendar: None,
        message_id: format!("<{key}@plenary.test>"),
        dedupe_key: key.into(),
    }
}

async fn enqueue(app: &TestApp, message: NewMessage) {
    assert!(outbox::enqueue(&app.state.db, message).await.expect("enqueue"), "queued");
}

async fn rows(app: &TestApp) -> Vec<entity::Model> {
    entity::Entity::find().order_by_asc(entity::Column::Id).all(&app.state.db).await.expect("read the outbox")
}

async fn row(app: &TestApp, key: &str) -> entity::Model {
    entity::Entity::find()
        .filter(entity::Column::DedupeKey.eq(key))
        .one(&app.state.db)
        .await
        .expect("read the outbox")
        .unwrap_or_else(|| panic!("no message {key}"))
}

/// Waits until nothing waits for delivery: every message is `sent` or `failed`.
async fn wait_until_settled(app: &TestApp) -> Vec<entity::Model> {
    let until = Instant::now() + DEADLINE;
    loop {
        let rows = rows(app).await;
        if rows.iter().all(|row| row.status == OutboxStatus::Sent || row.status == OutboxStatus::Failed) {
            return rows;
        }
        let stuck: Vec<String> = rows
            .iter()
            .filter(|row| row.status != OutboxStatus::Sent && row.status != OutboxStatus::Failed)
            .map(|row| format!("{} {}", row.dedupe_key, row.status))
            .collect();
        assert!(Instant::now() < until, "messages never settled: {stuck:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the message `key` arrived at the sink.
async fn wait_for_arrival(sink: &SmtpSink, key: &str) {
    let until = Instant::now() + DEADLINE;
    let id = format!("{key}@plenary.test");
    while !sink.arrivals().contains_key(&id) {
        assert!(Instant::now() < until, "{key} never arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn readiness(app: &TestApp) -> (u16, Value) {
    let response = app.get("/readyz").await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("/readyz answers JSON"))
}

/// Issue 12, item 1: a contact named "Eve\nX" made lettre panic while formatting `To:`; the
/// worker died with its batch `sending`, every later message stayed `queued`, and a restarted
/// worker claimed the same row and died again. Now that message fails with its reason and the
/// others go out.
#[tokio::test]
async fn a_name_with_a_line_break_fails_its_own_message_and_the_rest_are_delivered() {
    let sink = SmtpSink::start();
    let app = app_with_mail(&sink, 12).await;
    enqueue(&app, message("before", "Anna Müller", "anna@at.example")).await;
    enqueue(&app, message("poison", "Eve\nX", "eve@de.example")).await;
    enqueue(&app, message("after", "Jean Dupont", "jean@fr.example")).await;
    let worker = worker(&app, |_| {});

    let settled = wait_until_settled(&app).await;
    let status: HashMap<&str, OutboxStatus> = settled.iter().map(|row| (row.dedupe_key.as_str(), row.status)).collect();
    assert_eq!(status["before"], OutboxStatus::Sent);
    assert_eq!(status["after"], OutboxStatus::Sent);
    assert_eq!(status["poison"], OutboxStatus::Failed);
    let reason = row(&app, "poison").await.last_error.expect("a reason");
    assert!(reason.contains("recipient's name") && reason.contains("U+000A"), "{reason}");

    // The worker lives on: a message queued afterwards is delivered too, and /readyz says so.
    enqueue(&app, message("later", "Later", "later@at.example")).await;
    wait_for_arrival(&sink, "later").await;
    let counts = sink.arrivals();
    assert!(!counts.contains_key("poison@plenary.test"), "the poisoned message was not sent");
    assert_eq!(counts.len(), 3, "{counts:?}");
    let (code, body) = readiness(&app).await;
    assert_eq!(code, 200, "{body:#}");
    assert_eq!(body["checks"]["mail_worker"]["status"], "ok", "{body:#}");
    worker.stop().await;
    app.stop().await;
}

/// The kinds of message in the poison test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Good,
    /// A header lettre cannot carry (CR/LF, NUL, a separator) or an address that is none.
    Unbuildable,
    /// Handling it panics (the injected fault).
    Panics,
}

fn kind_of(i: usize) -> Kind {
    match i % 20 {
        3 | 11 => Kind::Unbuildable,
        7 => Kind::Panics,
        _ => Kind::Good,
    }
}

fn poison_message(prefix: &str, i: usize) -> NewMessage {
    let key = format!("{prefix}-{i}");
    match kind_of(i) {
        Kind::Good => message(&key, &format!("Delegate {i}"), &format!("delegate{i}@example.org")),
        Kind::Panics => message(&key, &format!("Delegate {i}"), &format!("delegate{i}@example.org")),
        Kind::Unbuildable => match i % 4 {
            0 => message(&key, "Eve\r\nBcc: all@evil.example", &format!("delegate{i}@example.org")),
            1 => message(&key, "Eve\u{0}", &format!("delegate{i}@example.org")),
            2 => {
                let mut message = message(&key, "Eve", &format!("delegate{i}@example.org"));
                message.subject = "Invitation\u{2028}Bcc: all@evil.example".into();
                message
            }
            _ => message(&key, "Eve", "not an address"),
        },
    }
}

/// The injected fault: panics for the messages whose key says so, counting every call per key.
fn panicking_fault(calls: Arc<Mutex<HashMap<String, usize>>>) -> impl Fn(&entity::Model) + Send + Sync + 'static {
    move |row: &entity::Model| {
        *calls.lock().unwrap().entry(row.dedupe_key.clone()).or_insert(0) += 1;
        let i: usize = row.dedupe_key.rsplit('-').next().and_then(|n| n.parse().ok()).unwrap_or(1);
        if row.dedupe_key.starts_with("poison-") || row.dedupe_key.starts_with("orphan-") {
            assert!(kind_of(i) != Kind::Panics, "injected fault in message {}", row.dedupe_key);
        }
    }
}

fn assert_outcomes(rows: &[entity::Model], prefix: &str, count: usize, sink: &SmtpSink) {
    let counts = sink.arrivals();
    for i in 0..count {
        let key = format!("{prefix}-{i}");
        let row = rows.iter().find(|row| row.dedupe_key == key).unwrap_or_else(|| panic!("no row {key}"));
        let arrived = counts.get(&format!("{key}@plenary.test")).copied().unwrap_or(0);
        match kind_of(i) {
            Kind::Good => {
                assert_eq!(row.status, OutboxStatus::Sent, "{key}: {:?}", row.last_error);
                assert_eq!(arrived, 1, "{key} arrived {arrived} times");
            }
            Kind::Unbuildable => {
                assert_eq!(row.status, OutboxStatus::Failed, "{key}");
                let reason = row.last_error.as_deref().unwrap_or_default();
                assert!(
                    reason.contains("control character") || reason.contains("bad recipient address"),
                    "{key}: {reason}"
                );
                assert_eq!(arrived, 0, "{key} must not be sent");
            }
            Kind::Panics => {
                assert_eq!(row.status, OutboxStatus::Failed, "{key}");
                let reason = row.last_error.as_deref().unwrap_or_default();
                assert!(reason.contains("panicked") && reason.contains("injected fault"), "{key}: {reason}");
                assert_eq!(arrived, 0, "{key} must not be sent");
            }
        }
    }
}

/// Issue 12's poison-message test: 100 messages, a few unbuildable and a few whose handling
/// panics. Every good one is delivered exactly once, each bad one is `failed` with its reason,
/// and the worker lives on. Then a restart: a new worker on the same database does not try the
/// bad ones again, takes over what a crashed worker left `sending` (which is what the old code
/// left behind), gives up a message that was claimed too often without an outcome (as when
/// its handling aborts the process), and leaves nothing stuck.
#[tokio::test]
async fn poison_messages_fail_alone_and_stay_failed_after_a_restart() {
    const COUNT: usize = 100;
    let sink = SmtpSink::start();
    let app = app_with_mail(&sink, 3).await;
    for i in 0..COUNT {
        enqueue(&app, poison_message("poison", i)).await;
    }
    let calls = Arc::new(Mutex::new(HashMap::new()));
    let first = worker(&app, panicking_fault(Arc::clone(&calls)));
    let settled = wait_until_settled(&app).await;
    assert_outcomes(&settled, "poison", COUNT, &sink);

    // Alive afterwards: a message queued now is delivered.
    enqueue(&app, message("alive", "Later", "later@example.org")).await;
    wait_for_arrival(&sink, "alive").await;
    let (code, body) = readiness(&app).await;
    assert_eq!((code, &body["checks"]["mail_worker"]["status"]), (200, &json!("ok")), "{body:#}");
    first.stop().await;

    // A message claimed more often than `max_attempts` (3) without an outcome: each time, its
    // handling took the process down (an abort no panic guard catches).
    enqueue(&app, message("aborts", "Abort", "abort@example.org")).await;
    let now = chrono::Utc::now().timestamp_millis();
    for _ in 0..4 {
        let claimed = outbox::claim(&app.state.db, "aborted-worker", 1, now, now - 1).await.unwrap();
        assert_eq!(claimed.len(), 1);
    }
    // What a worker that crashed mid-batch leaves (what the old code left after its panic): ten
    // messages `sending` under its lease, which ran out.
    for i in 0..10 {
        enqueue(&app, poison_message("orphan", i)).await;
    }
    let now = chrono::Utc::now().timestamp_millis();
    let orphans = outbox::claim(&app.state.db, "crashed-worker", 11, now, now - 1).await.unwrap();
    assert_eq!(orphans.len(), 11, "the ten and the one claimed before");

    calls.lock().unwrap().clear();
    let second = worker(&app, panicking_fault(Arc::clone(&calls)));
    enqueue(&app, message("after-restart", "Later", "later@example.org")).await;
    let settled = wait_until_settled(&app).await;
    assert_outcomes(&settled, "poison", COUNT, &sink);
    assert_outcomes(&settled, "orphan", 10, &sink);
    let aborts = settled.iter().find(|row| row.dedupe_key == "aborts").unwrap();
    assert_eq!(aborts.status, OutboxStatus::Failed);
    assert!(aborts.last_error.as_deref().unwrap_or_default().contains("without an outcome"), "{aborts:?}");
    wait_for_arrival(&sink, "after-restart").await;
    let calls = calls.lock().unwrap().clone();
    assert!(!calls.keys().any(|key| key.starts_with("poison-")), "finished messages were handled again: {calls:?}");
    assert!(!calls.contains_key("aborts"), "a message given up was handled again");
    assert!(settled.iter().all(|row| row.leased_by.is_none()), "nothing stays leased");
    let (code, body) = readiness(&app).await;
    assert_eq!(code, 200, "{body:#}");
    second.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn readyz_is_ready_on_a_normal_service_without_mail() {
    let app = TestApp::spawn().await;
    let (code, body) = readiness(&app).await;
    assert_eq!(code, 200, "{body:#}");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["database"]["status"], "ok");
    assert_eq!(body["checks"]["migrations"]["status"], "ok");
    assert_eq!(body["checks"]["mail_worker"]["status"], "not configured");
    assert_eq!(body["checks"]["outbox"]["status"], "ok");
    assert_eq!(body["checks"]["outbox"]["queued"], 0);
    assert_eq!(body["reasons"], json!([]));
    // /healthz is unchanged.
    assert_eq!(app.get_json("/healthz", 200).await, json!({"status": "ok"}));
    app.stop().await;
}

#[tokio::test]
async fn readyz_is_not_ready_while_a_migration_is_pending() {
    let app = TestApp::spawn().await;
    // As if this build's newest migration had not run: the database lacks its record.
    let db = &app.state.db;
    db.execute_unprepared("DELETE FROM seaql_migrations WHERE version = (SELECT MAX(version) FROM seaql_migrations)")
        .await
        .expect("forget the last migration");
    let (code, body) = readiness(&app).await;
    assert_eq!(code, 503, "{body:#}");
    assert_eq!(body["status"], "not ready");
    assert_eq!(body["checks"]["migrations"]["status"], "pending");
    assert_eq!(body["checks"]["migrations"]["pending"].as_array().map(Vec::len), Some(1), "{body:#}");
    assert!(body["reasons"][0].as_str().unwrap().contains("migrations are not applied"), "{body:#}");
    // Liveness does not depend on it.
    app.get_json("/healthz", 200).await;
    app.stop().await;
}

#[tokio::test]
async fn readyz_is_not_ready_without_a_running_mail_worker() {
    let sink = SmtpSink::start();
    let app = app_with_mail(&sink, 12).await;
    // SMTP is configured but no worker was started.
    let (code, body) = readiness(&app).await;
    assert_eq!(code, 503, "{body:#}");
    assert_eq!(body["checks"]["mail_worker"]["status"], "not running");
    assert_eq!(body["reasons"], json!(["the mail worker is not running"]));

    let running = worker(&app, |_| {});
    let until = Instant::now() + DEADLINE;
    loop {
        let (code, body) = readiness(&app).await;
        if code == 200 {
            assert_eq!(body["checks"]["mail_worker"]["status"], "ok", "{body:#}");
            break;
        }
        assert!(Instant::now() < until, "never ready: {body:#}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running.stop().await;
    let (code, body) = readiness(&app).await;
    assert_eq!(code, 503, "{body:#}");
    assert_eq!(body["checks"]["mail_worker"]["status"], "not running");
    app.stop().await;
}

#[tokio::test]
async fn readyz_is_not_ready_when_the_database_does_not_answer() {
    let app = TestApp::spawn().await;
    app.state.db.clone().close().await.expect("close the pool");
    let (code, body) = readiness(&app).await;
    assert_eq!(code, 503, "{body:#}");
    assert_eq!(body["checks"]["database"]["status"], "unavailable");
    assert_eq!(body["checks"]["migrations"]["status"], "unknown");
    app.stop().await;
}

/// A message waiting longer than `--mail-stale-after-secs` is reported as delayed; the replica
/// stays ready (taking it out of the load balancer would deliver no mail).
#[tokio::test]
async fn readyz_reports_a_delayed_outbox_without_becoming_unready() {
    let app = TestApp::spawn_with(|config| config.mail.stale_after_secs = 600).await;
    enqueue(&app, message("waits", "Anna", "anna@at.example")).await;
    enqueue(&app, message("newer", "Jean", "jean@fr.example")).await;
    let (code, body) = readiness(&app).await;
    assert_eq!(code, 200, "{body:#}");
    assert_eq!(body["checks"]["outbox"]["status"], "ok", "{body:#}");
    assert_eq!(body["checks"]["outbox"]["queued"], 2);

    let mut waits = row(&app, "waits").await.into_active_model();
    waits.created_at = Set(chrono::Utc::now() - chrono::Duration::hours(1));
    waits.update(&app.state.db).await.unwrap();
    let (code, body) = readiness(&app).await;
    assert_eq!(code, 200, "a delayed outbox does not take the replica out: {body:#}");
    let outbox = &body["checks"]["outbox"];
    assert_eq!(outbox["status"], "delayed", "{body:#}");
    assert_eq!(outbox["queued"], 2);
    assert_eq!(outbox["stale_after_secs"], 600);
    let age = outbox["oldest_queued_secs"].as_u64().expect("an age");
    assert!((3_600..3_700).contains(&age), "{body:#}");
    app.stop().await;
}

/// Bodies of messages finished more than the retention ago are cleared; the delivery record
/// stays, newer messages and waiting ones keep their bodies, and the delivery status still reads.
#[tokio::test]
async fn old_message_bodies_are_purged_keeping_the_delivery_record() {
    let app = TestApp::spawn_with(|config| config.mail.retention_days = 30).await;
    let organiser = app.organiser_token().await;
    let meeting = expect_json(
        app.request(reqwest::Method::POST, "/api/v1/meetings")
            .bearer_auth(&organiser)
            .json(&json!({"body": "PC", "start": "2027-03-11T10:00:00", "end": "2027-03-11T13:00:00",
                "time_zone": "Europe/Vienna", "room": "HOFBURG-NEUER-SAAL"}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let meeting_id = i32::try_from(meeting["id"].as_i64().unwrap()).unwrap();
    for (key, email) in [
        ("old", "a@at.example"),
        ("recent", "b@at.example"),
        ("old-failed", "c@at.example"),
        ("waiting", "d@at.example"),
    ] {
        let mut message = message(key, "Someone", email);
        // Invitations: the meeting's delivery status lists those.
        message.kind = "invitation".into();
        message.meeting_id = Some(meeting_id);
        message.text_body = format!("Set your password: https://plenary.test/set-password/{key}-secret");
        message.calendar =
            Some(CalendarPart { method: "REQUEST".into(), ics: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".into() });
        enqueue(&app, message).await;
    }
    let now = chrono::Utc::now();
    let claimed =
        outbox::claim(&app.state.db, "w", 3, now.timestamp_millis(), now.timestamp_millis() + 60_000).await.unwrap();
    assert_eq!(claimed.len(), 3);
    let outcomes = [
        (row(&app, "old").await.id, Outcome::Sent),
        (row(&app, "recent").await.id, Outcome::Sent),
        (row(&app, "old-failed").await.id, Outcome::Failed { error: "550 no such user".into() }),
    ];
    assert_eq!(outbox::finish(&app.state.db, &outcomes, "w").await.unwrap(), 3);
    for (key, days) in [("old", 31), ("recent", 29), ("old-failed", 40)] {
        let mut model = row(&app, key).await.into_active_model();
        model.finished_at = Set(Some((now - chrono::Duration::days(days)).timestamp_millis()));
        model.update(&app.state.db).await.unwrap();
    }
    let before: HashMap<String, entity::Model> =
        rows(&app).await.into_iter().map(|row| (row.dedupe_key.clone(), row)).collect();

    let purged = plenary::mail::retention::purge_once(&app.state.db, &app.state.config.mail, now).await.unwrap();
    assert_eq!(purged, 2);
    for key in ["old", "old-failed"] {
        let after = row(&app, key).await;
        let was = &before[key];
        assert_eq!((after.text_body.as_str(), &after.html_body, &after.calendar_ics), ("", &None, &None), "{key}");
        assert!(after.purged_at.is_some(), "{key}");
        // The delivery record stays.
        assert_eq!(
            (&after.recipient_email, &after.recipient_name, &after.kind, &after.subject, &after.status),
            (&was.recipient_email, &was.recipient_name, &was.kind, &was.subject, &was.status)
        );
        assert_eq!(
            (after.attempts, &after.sent_at, &after.last_error, &after.message_id),
            (was.attempts, &was.sent_at, &was.last_error, &was.message_id)
        );
    }
    for key in ["recent", "waiting"] {
        let after = row(&app, key).await;
        assert_eq!(after, before[key], "{key} is kept whole");
    }
    // Idempotent: a second run (or another replica) changes nothing.
    assert_eq!(plenary::mail::retention::purge_once(&app.state.db, &app.state.config.mail, now).await.unwrap(), 0);

    // The delivery status still reads for purged messages.
    let status = expect_json(
        app.request(reqwest::Method::GET, &format!("/api/v1/meetings/{meeting_id}/invitations"))
            .bearer_auth(&organiser)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let statuses: Vec<&str> =
        status["messages"].as_array().unwrap().iter().map(|m| m["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["sent", "sent", "failed", "queued"], "{status:#}");
    app.stop().await;
}
