//! Stopping the real `plenary serve` with SIGTERM (README, "Stopping and database outages"): it
//! refuses new connections at once, closes idle keep-alive connections, finishes a request in
//! flight (answering it, then closing its connection), sends and records the mail it has claimed
//! and claims nothing new, logs that it drained and exits 0. A drain that runs out of its grace
//! period, or is cut short by a second signal, exits 1 and names what it abandons. `/readyz`
//! answers 503 "shutting down" while draining.
//!
//! Runs on a fresh SQLite file, or a fresh PostgreSQL database when
//! `PLENARY_TEST_DATABASE_URL` is set; the SMTP server is `tests/python/smtp_sink.py`.

use std::{
    io::{ErrorKind, Read as _, Write as _},
    net::TcpStream,
    time::{Duration, Instant},
};

use nix::sys::signal::Signal;
use plenary::{
    auth::Role,
    config::Config,
    db::{entities::outbox as rows, enums::OutboxStatus},
    store::outbox::{self, NewMessage},
};
use sea_orm::EntityTrait as _;
use tests::{
    TestApp, TestDatabase,
    binary::Server,
    builders::{NewMeeting, date_in},
    expect_json,
    smtp::SmtpSink,
};

const MESSAGES: usize = 30;
/// Sends at once; the worker claims twice as many.
const CONCURRENCY: usize = 2;
/// Guards against hanging; never a measurement.
const PATIENCE: Duration = Duration::from_secs(60);

/// Migrates `database`, queues `messages` messages and returns an organiser's token.
async fn prepare(database: &TestDatabase, messages: usize) -> String {
    let prepared = plenary::app::prepare(Config::for_database(database.url().to_owned())).await.expect("prepare");
    let db = &prepared.state.db;
    for i in 0..messages {
        let message = NewMessage {
            kind: "test".into(),
            meeting_id: None,
            recipient_email: format!("delegate{i}@example.org"),
            recipient_name: format!("Delegate {i}"),
            language: plenary::db::enums::Language::En,
            subject: format!("Message {i}"),
            text_body: "Hello.\n".into(),
            html_body: None,
            calendar: None,
            message_id: format!("<drain-{i}@plenary.test>"),
            dedupe_key: format!("drain-{i}"),
        };
        assert!(outbox::enqueue(db, message).await.expect("enqueue"));
    }
    let token = plenary::store::tokens::create(db, Role::Organiser, None, "drain test").await.expect("token");
    db.clone().close().await.ok();
    token
}

/// A request whose body is only half sent: in flight until [`HeldRequest::finish`].
struct HeldRequest {
    stream: TcpStream,
    rest: Vec<u8>,
}

impl HeldRequest {
    /// Starts `POST /api/v1/meetings` creating a meeting, sending the head and half the body.
    fn start(server: &Server, token: &str) -> Self {
        let body = NewMeeting::of("PC").on(date_in(40), "10:00", "13:00").room("HOFBURG-NEUER-SAAL").forced().json();
        let body = body.to_string().into_bytes();
        let mut stream = TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        write!(
            stream,
            "POST /api/v1/meetings HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .unwrap();
        let (sent, rest) = body.split_at(body.len() / 2);
        stream.write_all(sent).unwrap();
        stream.flush().unwrap();
        // Connections are accepted in order: once a later one is answered, this one is being
        // handled, not waiting in the listen queue where a signal would reset it.
        assert_eq!(server.status("/healthz"), Some(200));
        Self { stream, rest: rest.to_vec() }
    }

    /// Sends the rest of the body; the response's head and body, read until the server closes
    /// the connection.
    fn finish(mut self) -> String {
        self.stream.write_all(&self.rest).unwrap();
        let mut response = Vec::new();
        self.stream.read_to_end(&mut response).expect("the response, then the connection closed");
        String::from_utf8(response).unwrap()
    }
}

/// `GET /healthz` on a keep-alive connection, read to the end of the response; the connection
/// stays open (idle).
fn idle_keep_alive_connection(server: &Server) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", server.port())).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(stream, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut response = Vec::new();
    let mut buffer = [0; 1024];
    while !String::from_utf8_lossy(&response).contains("\"ok\"}") {
        let read = stream.read(&mut buffer).expect("the health check's answer");
        assert!(read > 0, "the connection closed before the answer");
        response.extend_from_slice(&buffer[..read]);
    }
    assert!(String::from_utf8_lossy(&response).starts_with("HTTP/1.1 200"));
    stream
}

/// Waits until connecting to `server` is refused: it has stopped accepting.
fn wait_until_refused(server: &mut Server) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match TcpStream::connect(("127.0.0.1", server.port())) {
            Err(error) if error.kind() == ErrorKind::ConnectionRefused => return,
            _ => {}
        }
        assert!(server.has_exited().is_none(), "plenary exited before the request in flight was answered");
        assert!(Instant::now() < deadline, "plenary still accepts connections after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn serve(database: &TestDatabase, sink: Option<&SmtpSink>, grace_secs: u64) -> Server {
    Server::start_with(database, |command| {
        command
            .env("PLENARY_LOG", "info")
            .env("PLENARY_SHUTDOWN_GRACE_SECS", grace_secs.to_string())
            .env("PLENARY_MAIL_CONCURRENCY", CONCURRENCY.to_string())
            .env("PLENARY_MAIL_POLL_MS", "50");
        if let Some(sink) = sink {
            command.env("PLENARY_SMTP_URL", sink.url());
        }
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_refuses_new_connections_finishes_requests_and_claimed_mail_then_exits_0() {
    let database = TestDatabase::create().await;
    let token = prepare(&database, MESSAGES).await;
    // Each message takes the SMTP server 300 ms: a batch is in hand when the signal comes.
    let sink = SmtpSink::start_slow(tests::smtp::free_port(), None, 300);
    let (database, sink) = tokio::task::spawn_blocking(move || {
        let mut server = serve(&database, Some(&sink), 30);
        let held = HeldRequest::start(&server, &token);
        let mut idle = idle_keep_alive_connection(&server);
        let deadline = Instant::now() + PATIENCE;
        while sink.messages().is_empty() {
            assert!(Instant::now() < deadline, "no mail was delivered");
            std::thread::sleep(Duration::from_millis(10));
        }

        server.send(Signal::SIGTERM);
        wait_until_refused(&mut server);
        // The idle keep-alive connection is closed at once.
        let mut byte = [0; 1];
        assert_eq!(idle.read(&mut byte).expect("the idle connection closed"), 0, "the idle connection got data");
        // The request in flight is answered, and its connection closed after the response.
        let response = held.finish();
        assert!(response.starts_with("HTTP/1.1 201"), "the request in flight failed: {response}");
        assert!(response.to_lowercase().contains("connection: close"), "{response}");

        let status = server.wait_for_exit(PATIENCE);
        assert!(status.success(), "plenary did not exit 0 after draining: {status}; it logged: {}", server.logged());
        assert!(server.logged().contains("drained"), "no drain in the log: {}", server.logged());
        (database, sink)
    })
    .await
    .unwrap();

    // Every claimed message was sent and recorded exactly once; nothing is left claimed.
    let db = plenary::db::connect(database.url()).await.unwrap();
    let all = rows::Entity::find().all(&db).await.unwrap();
    db.close().await.ok();
    let sending: Vec<i64> = all.iter().filter(|row| row.status == OutboxStatus::Sending).map(|row| row.id).collect();
    assert!(sending.is_empty(), "messages left claimed: {sending:?}");
    let sent = all.iter().filter(|row| row.status == OutboxStatus::Sent).count();
    let arrivals = sink.arrivals();
    assert!(arrivals.values().all(|&count| count == 1), "a message arrived twice: {arrivals:?}");
    assert_eq!(arrivals.len(), sent, "every message recorded as sent arrived, and no other");
    assert!(sent < MESSAGES, "all the mail was out before the signal; nothing was tested");

    // The next start delivers the rest, each message once.
    tokio::task::spawn_blocking(move || {
        let server = serve(&database, Some(&sink), 30);
        let deadline = Instant::now() + PATIENCE;
        while sink.arrivals().len() < MESSAGES {
            assert!(Instant::now() < deadline, "only {} of {MESSAGES} messages arrived", sink.arrivals().len());
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(server.terminate().success());
        let arrivals = sink.arrivals();
        assert!(arrivals.values().all(|&count| count == 1), "a message arrived twice: {arrivals:?}");
    })
    .await
    .unwrap();
}

#[test]
fn a_drain_cut_short_by_its_grace_period_or_a_second_signal_exits_1_naming_what_it_abandons() {
    let database = TestDatabase::create_blocking();
    let token = std::thread::scope(|scope| {
        scope.spawn(|| tokio::runtime::Runtime::new().unwrap().block_on(prepare(&database, 0))).join().unwrap()
    });

    // The grace period runs out while a request is still in flight.
    let mut server = serve(&database, None, 1);
    let held = HeldRequest::start(&server, &token);
    server.send(Signal::SIGTERM);
    let status = server.wait_for_exit(PATIENCE);
    let logged = server.logged();
    assert_eq!(status.code(), Some(1), "{logged}");
    assert!(logged.contains("the grace period of 1 s ran out"), "{logged}");
    assert!(logged.contains("requests_abandoned=1"), "{logged}");
    drop(held);

    // A second signal ends the drain at once.
    let mut server = serve(&database, None, 600);
    let held = HeldRequest::start(&server, &token);
    server.send(Signal::SIGTERM);
    wait_until_refused(&mut server);
    server.send(Signal::SIGINT);
    let status = server.wait_for_exit(PATIENCE);
    let logged = server.logged();
    assert_eq!(status.code(), Some(1), "{logged}");
    assert!(logged.contains("a second signal (Interrupt) forces the exit"), "{logged}");
    assert!(logged.contains("requests_abandoned=1"), "{logged}");
    drop(held);
}

#[tokio::test]
async fn readyz_says_shutting_down_once_a_drain_has_begun() {
    let app = TestApp::spawn().await;
    app.get_json("/readyz", 200).await;
    app.state.drain.start();
    let body = expect_json(app.get("/readyz").await, 503).await;
    assert_eq!(body["status"], "shutting down", "{body}");
    assert_eq!(body["reasons"][0], "the service is shutting down", "{body}");
    app.stop().await;
}
