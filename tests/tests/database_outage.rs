//! PostgreSQL stopped for 20 seconds under load (README, "Stopping and database outages"): the
//! real `plenary serve` answers every request during the outage, the API with 503
//! `database_unavailable` and the pages with a 503 page in words, `/readyz` with 503 and the
//! reason; when PostgreSQL is back it becomes ready by itself, accepts registrations, and every
//! invitation of a batch cut by the outage arrives exactly once. No request answers 500 and
//! none hangs; the registration rules hold.
//!
//! Runs in the suite's PostgreSQL run only (`PLENARY_TEST_DATABASE_URL` set), on a private
//! cluster of its own ([`tests::postgres::PrivatePostgres`]): the shared server is never stopped.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use plenary::{auth::Role, config::Config};
use reqwest::{Client, Method};
use serde_json::{Value, json};
use tests::{
    binary::Server,
    builders::{NewMeeting, NewRegistration, date_in},
    postgres::{PrivatePostgres, in_postgres_run},
    smtp::SmtpSink,
};

const OUTAGE: Duration = Duration::from_secs(20);
/// Guards against hanging; never a measurement.
const PATIENCE: Duration = Duration::from_secs(180);

/// What one request of the load got: its kind, status (0: no answer at all) and error code or
/// page heading.
type Answer = (&'static str, u16, String);

struct Api {
    client: Client,
    base: String,
    token: String,
}

impl Api {
    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap_or_else(|error| panic!("{path}: no answer: {error}"));
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Like [`Api::send`], recording the answer instead of panicking when there is none.
    async fn record(&self, kind: &'static str, request: reqwest::RequestBuilder) -> Answer {
        match request.send().await {
            Err(error) => (kind, 0, error.to_string()),
            Ok(response) => {
                let status = response.status().as_u16();
                let html = response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .is_some_and(|value| value.to_str().unwrap_or("").starts_with("text/html"));
                let text = response.text().await.unwrap_or_default();
                let what = if html {
                    text.split("<h1>").nth(1).and_then(|rest| rest.split("</h1>").next()).unwrap_or("").to_owned()
                } else {
                    serde_json::from_str::<Value>(&text)
                        .ok()
                        .and_then(|body| body["error"]["code"].as_str().map(str::to_owned))
                        .unwrap_or_default()
                };
                (kind, status, what)
            }
        }
    }
}

/// How many messages to the contact points (the invitations) arrived.
fn invitations(sink: &SmtpSink) -> usize {
    sink.messages()
        .iter()
        .filter(|message| {
            String::from_utf8_lossy(message).lines().any(|line| line.starts_with("To:") && line.contains("<contact@"))
        })
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_postgres_answers_503_and_everything_resumes_by_itself_with_nothing_lost_or_doubled() {
    if !in_postgres_run() {
        eprintln!("runs in the PostgreSQL run (PLENARY_TEST_DATABASE_URL set), on a private cluster it stops");
        return;
    }
    let postgres = Arc::new(tokio::task::spawn_blocking(PrivatePostgres::start).await.unwrap());
    let url = postgres.url();
    let prepared = plenary::app::prepare(Config::for_database(url.clone())).await.expect("prepare");
    let token = plenary::store::tokens::create(&prepared.state.db, Role::Organiser, None, "outage").await.unwrap();
    prepared.state.db.close().await.ok();

    // Each message takes the SMTP server 100 ms, so the batch is still going when PostgreSQL stops.
    let sink = Arc::new(SmtpSink::start_slow(tests::smtp::free_port(), None, 100));
    let server = {
        let (url, smtp) = (url.clone(), sink.url());
        tokio::task::spawn_blocking(move || {
            Server::start_on(&url, tests::smtp::free_port(), |command| {
                command
                    .env("PLENARY_SMTP_URL", smtp)
                    .env("PLENARY_DATABASE_TIMEOUT_MS", "2000")
                    .env("PLENARY_MAIL_CONCURRENCY", "4")
                    .env("PLENARY_MAIL_POLL_MS", "50")
                    .env("PLENARY_LOG", "info");
            })
        })
        .await
        .unwrap()
    };
    let api = Arc::new(Api {
        client: Client::builder().timeout(Duration::from_secs(60)).build().unwrap(),
        base: server.base_url(),
        token,
    });

    // A meeting, a contact point for every participating State, a feed.
    let meeting = NewMeeting::of("PC").on(date_in(30), "10:00", "13:00").room("HOFBURG-NEUER-SAAL").forced().json();
    let (status, meeting) = api.send(Method::POST, "/api/v1/meetings", Some(meeting)).await;
    assert_eq!(status, 201, "{meeting}");
    let id = meeting["id"].as_i64().unwrap();
    let (_, states) = api.send(Method::GET, "/api/v1/states", None).await;
    let states: Vec<String> = states
        .as_array()
        .unwrap()
        .iter()
        .filter(|state| state["kind"] == "participating")
        .map(|state| state["iso2"].as_str().unwrap().to_owned())
        .collect();
    for iso2 in &states {
        let contact = json!({"name": format!("Contact {iso2}"), "email": format!("contact@{}.example.org", iso2.to_lowercase()), "role": "contact_point", "language": "en"});
        let (status, body) =
            api.send(Method::POST, &format!("/api/v1/delegations/{iso2}/contacts"), Some(contact)).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, feed) = api.send(Method::POST, "/api/v1/feeds", Some(json!({"scope": "all"}))).await;
    assert_eq!(status, 201, "{feed}");
    let feed_url = feed["url"].as_str().unwrap();
    let feed_path = feed_url[feed_url.find("/feeds/").unwrap()..].to_owned();

    // The invitation batch, then a mixed load until told to stop.
    let (status, queued) = api.send(Method::POST, &format!("/api/v1/meetings/{id}/invitations"), Some(json!({}))).await;
    assert_eq!(status, 200, "{queued}");
    let invited = queued["queued"].as_u64().unwrap() as usize;
    assert!(invited >= states.len() / 2, "{queued}");
    let answers: Arc<Mutex<Vec<Answer>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    // The load registers for the first half of the States; the second half is kept for after.
    let load_states: Vec<String> = states[..states.len() / 2].to_vec();
    let load = tokio::spawn({
        let (api, answers, stop) = (Arc::clone(&api), Arc::clone(&answers), Arc::clone(&stop));
        async move {
            let mut i = 0_usize;
            while !stop.load(Ordering::Relaxed) {
                let iso2 = &load_states[i % load_states.len()];
                let seat = if i.is_multiple_of(2) { "main" } else { "behind" };
                let registration = NewRegistration::of(iso2, &format!("Person {i}"), "Delegate", seat).json();
                let client = &api.client;
                let requests: [(&'static str, reqwest::RequestBuilder); 4] = [
                    (
                        "registration",
                        client
                            .post(format!("{}/api/v1/meetings/{id}/registrations", api.base))
                            .bearer_auth(&api.token)
                            .json(&registration),
                    ),
                    ("feed", client.get(format!("{}{feed_path}", api.base))),
                    ("meeting", client.get(format!("{}/api/v1/meetings/{id}", api.base))),
                    ("page", client.get(format!("{}/meetings/{id}", api.base)).header("Accept", "text/html")),
                ];
                for (kind, request) in requests {
                    let answer = api.record(kind, request).await;
                    answers.lock().unwrap().push(answer);
                }
                i += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    });
    let deadline = Instant::now() + PATIENCE;
    while sink.messages().len() < 5 {
        assert!(Instant::now() < deadline, "no invitation was delivered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // PostgreSQL stops for 20 seconds.
    let stopping = Arc::clone(&postgres);
    tokio::task::spawn_blocking(move || stopping.stop()).await.unwrap();
    let outage_from = answers.lock().unwrap().len();
    let outage_until = Instant::now() + OUTAGE;
    let mut readiness = Vec::new();
    while Instant::now() < outage_until {
        readiness.push(api.record("readyz", api.client.get(format!("{}/readyz", api.base))).await);
        let (_, body) = api.send(Method::GET, "/readyz", None).await;
        if body["status"] == "not ready" {
            let reasons = body["reasons"].to_string();
            assert!(reasons.contains("the database does not answer"), "{body}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let during: Vec<Answer> = answers.lock().unwrap()[outage_from..].to_vec();
    let starting = Arc::clone(&postgres);
    tokio::task::spawn_blocking(move || starting.start_again()).await.unwrap();

    // Ready again by itself, and registrations are accepted.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (status, body) = api.send(Method::GET, "/readyz", None).await;
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "/readyz stayed unready after PostgreSQL came back: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let after = NewRegistration::of(states.last().unwrap(), "After Outage", "Head of delegation", "main").json();
    let (status, body) = api.send(Method::POST, &format!("/api/v1/meetings/{id}/registrations"), Some(after)).await;
    assert_eq!(status, 201, "a registration after the outage: {body}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    load.await.unwrap();

    // Every invitation arrived exactly once (and no other message twice: the registered get
    // mail too).
    let deadline = Instant::now() + PATIENCE;
    while invitations(&sink) < invited {
        assert!(Instant::now() < deadline, "only {} of {invited} invitations arrived", invitations(&sink));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(invitations(&sink), invited);
    let arrivals = sink.arrivals();
    let doubled: Vec<_> = arrivals.iter().filter(|(_, count)| **count > 1).collect();
    assert!(doubled.is_empty(), "messages that arrived twice: {doubled:?}");

    // During the outage: 503s that say why, for the API and for pages; readiness says not ready.
    let all = answers.lock().unwrap().clone();
    let unanswered: Vec<&Answer> = all.iter().chain(&readiness).filter(|(_, status, _)| *status == 0).collect();
    assert!(unanswered.is_empty(), "requests without an answer: {unanswered:?}");
    let failed: Vec<&Answer> =
        all.iter().chain(&readiness).filter(|(_, status, _)| *status >= 500 && *status != 503).collect();
    assert!(failed.is_empty(), "answers other than 503 among the failures: {failed:?}");
    let api_503: Vec<&Answer> = during.iter().filter(|(kind, status, _)| *kind != "page" && *status == 503).collect();
    assert!(!api_503.is_empty(), "no API request answered 503 during the outage: {during:?}");
    assert!(api_503.iter().all(|(_, _, code)| code == "database_unavailable"), "{api_503:?}");
    assert!(
        during
            .iter()
            .any(|(kind, status, heading)| *kind == "page" && *status == 503 && heading.contains("Unavailable")),
        "no page answered 503 in words during the outage: {during:?}"
    );
    assert!(readiness.iter().any(|(_, status, _)| *status == 503), "/readyz never said not ready: {readiness:?}");
    let counts: HashMap<u16, usize> = all.iter().fold(HashMap::new(), |mut counts, (_, status, _)| {
        *counts.entry(*status).or_default() += 1;
        counts
    });
    eprintln!("answers by status: {counts:?}");

    // The registration rules held: at most one main seat per delegation.
    let (status, registrations) = api.send(Method::GET, &format!("/api/v1/meetings/{id}/registrations"), None).await;
    assert_eq!(status, 200, "{registrations}");
    let mut main_seats: HashMap<String, usize> = HashMap::new();
    for registration in registrations.as_array().unwrap() {
        let state = registration["state"].as_str().unwrap_or_else(|| panic!("no state in {registration}"));
        if registration["seat"] == "main" && registration["status"] != "withdrawn" {
            *main_seats.entry(state.to_owned()).or_default() += 1;
        }
    }
    assert!(main_seats.values().all(|&count| count == 1), "main seats per delegation: {main_seats:?}");

    let status = tokio::task::spawn_blocking(move || server.terminate()).await.unwrap();
    assert!(status.success(), "plenary did not stop cleanly: {status}");
}
