//! `GET /metrics` (issue 14): who may read it (an organiser's token, or an address in
//! `--metrics-allow` through the real binary), that it is well-formed Prometheus text, that the
//! counters move with what happens (registrations, feed fetches, mail delivered through a real
//! SMTP server), and that no secret of a request's path becomes a label.
//!
//! The recorder is process-wide and the tests of this file run in one process, so they assert
//! that counters grew, never on their absolute values.

use std::{collections::BTreeMap, time::Duration};

use chrono::{TimeDelta, Utc};
use plenary::mail::worker::Worker;
use reqwest::Method;
use serde_json::json;
use tests::{
    TestApp, TestDatabase,
    binary::{self, Server},
    builders::{NewMeeting, NewRegistration},
    expect_error, expect_json,
    smtp::{self, SmtpSink},
};

const DEADLINE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn metrics_need_an_organisers_token() {
    let app = TestApp::spawn().await;
    expect_error(app.get("/metrics").await, 401).await;
    let delegation = app.delegation_token("AT").await;
    let refused = app.request(Method::GET, "/metrics").bearer_auth(&delegation).send().await.unwrap();
    assert!(expect_error(refused, 401).await.contains("organiser"));
    let unknown = app.request(Method::GET, "/metrics").bearer_auth("plt_unknown").send().await.unwrap();
    expect_error(unknown, 401).await;

    let organiser = app.organiser_token().await;
    let response = app.request(Method::GET, "/metrics").bearer_auth(&organiser).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let metrics = Exposition::parse(&response.text().await.unwrap());
    assert_eq!(metrics.value("plenary_ready", &[]), Some(1.0), "migrations current, no SMTP to wait for");
    let max = metrics.value("plenary_db_connections_max", &[]).unwrap();
    let in_use = metrics.value("plenary_db_connections_in_use", &[]).unwrap();
    let idle = metrics.value("plenary_db_connections_idle", &[]).unwrap();
    assert!(max >= 1.0 && in_use + idle <= max, "pool: {in_use} in use, {idle} idle, {max} at most");
    assert_eq!(metrics.value("plenary_outbox_waiting_messages", &[]), Some(0.0));
    assert_eq!(metrics.value("plenary_outbox_oldest_waiting_seconds", &[]), Some(0.0));
    // The refusals above were counted, under the route's template.
    let refusals = metrics.value("plenary_http_requests_total", &[("route", "/metrics"), ("status", "401")]);
    assert!(refusals.is_some_and(|count| count >= 3.0), "{refusals:?}");
    assert_eq!(metrics.kind("plenary_http_request_duration_seconds"), Some("histogram"));
    app.stop().await;
}

#[tokio::test]
async fn counters_grow_with_registrations_feeds_and_mail_and_no_secret_becomes_a_label() {
    let sink = SmtpSink::start_with(smtp::free_port(), Some("^<?refused@"));
    let app = TestApp::spawn_with(|config| {
        config.smtp_url = Some(sink.url());
        config.mail.poll_ms = 50;
    })
    .await;
    let worker = Worker::new(app.state.db.clone(), &app.state.config).unwrap().expect("an SMTP URL").spawn();
    let organiser = app.organiser_token().await;
    let delegation = app.delegation_token("AT").await;
    let before = scrape(&app, &organiser).await;

    // A registration accepted, the same person again refused, one more past the capacity waits.
    let start = format!("{}T10:00:00", (Utc::now() + TimeDelta::days(40)).date_naive());
    let end = start.replace("T10:00:00", "T13:00:00");
    let meeting = NewMeeting::of("PC").at(&start, &end).room("HOFBURG-RATSAAL").create_id(&app, &organiser).await;
    let attendee = NewRegistration::of("AT", "Anna Huber", "Adviser", "behind");
    expect_json(attendee.post(&app, &delegation, meeting).await, 201).await;
    expect_error(attendee.post(&app, &delegation, meeting).await, 409).await;
    let settings = format!("/api/v1/meetings/{meeting}/attendance-settings");
    expect_json(app.send(Method::PUT, &settings, &organiser, json!({"capacity": 1})).await, 200).await;
    let waiting = expect_json(
        NewRegistration::of("AT", "Hans Gruber", "Adviser", "behind").post(&app, &delegation, meeting).await,
        201,
    )
    .await;
    assert_eq!(waiting["status"], "waiting", "{waiting}");

    // A feed fetched twice: rendered, then from memory.
    let feed =
        expect_json(app.send(Method::POST, "/api/v1/feeds", &organiser, json!({"scope": "all"})).await, 201).await;
    let feed_url = feed["url"].as_str().unwrap();
    let feed_path = &feed_url[feed_url.find("/feeds/").unwrap()..];
    let feed_token = feed_path.trim_start_matches("/feeds/").trim_end_matches(".ics").to_owned();
    for _ in 0..2 {
        assert_eq!(app.get(feed_path).await.status(), 200);
    }

    // Invitations: one delivered to the SMTP sink (with the two registrations' messages), one
    // refused by it for good.
    for (iso2, email) in [("AT", "anna@at.example"), ("FR", "refused@fr.example")] {
        let contact = json!({"name": "Anna Huber", "email": email, "role": "contact_point", "language": "en"});
        let path = format!("/api/v1/delegations/{iso2}/contacts");
        expect_json(app.send(Method::POST, &path, &organiser, contact).await, 201).await;
    }
    expect_json(
        app.send(Method::POST, &format!("/api/v1/meetings/{meeting}/invitations"), &organiser, json!({})).await,
        200,
    )
    .await;
    sink.wait_for(3, DEADLINE).await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let after = loop {
        // The sink has the messages a moment before the worker records them as sent.
        let now = scrape(&app, &organiser).await;
        let grown = |name: &str| now.value(name, &[]).unwrap_or(0.0) - before.value(name, &[]).unwrap_or(0.0);
        if grown("plenary_mail_sent_total") >= 3.0 && grown("plenary_mail_failed_total") >= 1.0 {
            break now;
        }
        assert!(tokio::time::Instant::now() < deadline, "the mail sent and refused was not counted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };

    // Paths that carry secrets, matched and unmatched.
    for path in ["/rsvp/plr_secret-of-an-answer", "/set-password/secret-of-a-reset", "/no/such/secret-of-nothing"] {
        app.get(path).await;
    }
    let text = scrape_text(&app, &organiser).await;
    let last = Exposition::parse(&text);

    let grew = |name: &str, labels: &[(&str, &str)]| {
        let then = before.value(name, labels).unwrap_or(0.0);
        let now = after.value(name, labels).unwrap_or(0.0);
        assert!(now > then, "{name}{labels:?} did not grow: {then} → {now}");
    };
    grew("plenary_registration_decisions_total", &[("outcome", "confirmed")]);
    grew("plenary_registration_decisions_total", &[("outcome", "waiting_list")]);
    grew("plenary_registration_decisions_total", &[("outcome", "refused"), ("reason", "already_registered")]);
    grew("plenary_feed_cache_hits_total", &[]);
    grew("plenary_feed_cache_misses_total", &[]);
    grew("plenary_mail_sent_total", &[]);
    grew("plenary_mail_failed_total", &[]);
    let registrations = "/api/v1/meetings/{id}/registrations";
    grew("plenary_http_requests_total", &[("route", registrations), ("method", "POST"), ("status", "201")]);
    grew("plenary_http_requests_total", &[("route", registrations), ("method", "POST"), ("status", "409")]);
    // Feeds are served by their own, lighter stack, and counted all the same.
    grew("plenary_http_requests_total", &[("route", "/feeds/{file}"), ("method", "GET"), ("status", "200")]);
    grew("plenary_http_request_duration_seconds_count", &[("route", "/feeds/{file}")]);
    assert!(after.value("plenary_outbox_waiting_messages", &[]).is_some());

    for route in ["/rsvp/{token}", "/set-password/{token}", "unmatched"] {
        assert!(last.value("plenary_http_requests_total", &[("route", route), ("method", "GET")]).is_some(), "{route}");
    }
    for secret in
        [&feed_token, &organiser, &delegation, "secret-of-an-answer", "secret-of-a-reset", "secret-of-nothing"]
    {
        assert!(!text.contains(secret), "{secret} is in the metrics:\n{text}");
    }

    // What the README's alerts and the sample dashboard ask for is what this exports.
    for document in ["README.md", "docs/monitoring/grafana-dashboard.json"] {
        let whole = std::fs::read_to_string(format!("{}/../{document}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        // The README's Monitoring section (elsewhere `plenary_` starts database names too).
        let text = match whole.split_once("\n## Monitoring\n") {
            Some((_, monitoring)) => monitoring.split("\n## ").next().unwrap_or_default(),
            None => whole.as_str(),
        };
        let named =
            text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|word| word.starts_with("plenary_"));
        for name in named {
            assert!(last.exports(name), "{document} names {name}, which /metrics does not export");
        }
    }
    worker.stop().await;
    app.stop().await;
}

#[test]
fn the_allow_list_lets_its_addresses_in_without_a_token_and_a_malformed_one_stops_the_start() {
    let database = TestDatabase::create_blocking();
    let allowed = Server::start_with(&database, |command| {
        command.args(["--metrics-allow", "10.1.2.3, 127.0.0.1/32"]);
    });
    let response = reqwest::blocking::get(format!("{}/metrics", allowed.base_url())).unwrap();
    assert_eq!(response.status(), 200);
    let metrics = Exposition::parse(&response.text().unwrap());
    assert_eq!(metrics.value("plenary_ready", &[]), Some(1.0));
    drop(allowed);

    let elsewhere = Server::start_with(&database, |command| {
        command.env("PLENARY_METRICS_ALLOW", "10.0.0.0/8,fd00::/8");
    });
    assert_eq!(elsewhere.status("/metrics"), Some(401));
    // A proxy's header naming an allowed address lets nobody in: only the peer counts.
    let forwarded = reqwest::blocking::Client::new()
        .get(format!("{}/metrics", elsewhere.base_url()))
        .header("X-Forwarded-For", "10.0.0.1")
        .header("Forwarded", "for=10.0.0.1")
        .send()
        .unwrap();
    assert_eq!(forwarded.status(), 401);
    drop(elsewhere);

    for (flag, value) in [("--metrics-allow", "127.0.0.1/33"), ("--metrics-allow", "10.0.0.0/8,localhost")] {
        let output = binary::run(&database, &["serve", "--addr", "127.0.0.1:0", flag, value]);
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("--metrics-allow") && stderr.contains("neither an IP address nor a network"),
            "{stderr}"
        );
    }
    let output = binary::command(&database)
        .env("PLENARY_METRICS_ALLOW", "10.0.0.0/8;192.168.0.0/16")
        .args(["serve", "--addr", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("\"10.0.0.0/8;192.168.0.0/16\" is neither"));
}

// ---------------------------------------------------------------------------------------------
// Helpers

async fn scrape_text(app: &TestApp, token: &str) -> String {
    let response = app.request(Method::GET, "/metrics").bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

async fn scrape(app: &TestApp, token: &str) -> Exposition {
    Exposition::parse(&scrape_text(app, token).await)
}

/// Prometheus text exposition (format 0.0.4), parsed strictly: every line is a `# HELP`, a
/// `# TYPE` or a sample `name{label="value",...} value`; anything else fails the test.
#[derive(Debug, Default)]
struct Exposition {
    kinds: BTreeMap<String, String>,
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
}

impl Exposition {
    fn parse(text: &str) -> Self {
        let mut exposition = Self::default();
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            if let Some(help) = line.strip_prefix("# HELP ") {
                assert!(help.split_once(' ').is_some_and(|(name, _)| is_name(name)), "bad HELP: {line}");
            } else if let Some(kind) = line.strip_prefix("# TYPE ") {
                let (name, kind) = kind.split_once(' ').unwrap_or_else(|| panic!("bad TYPE: {line}"));
                assert!(
                    is_name(name) && ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                    "{line}"
                );
                exposition.kinds.insert(name.into(), kind.into());
            } else {
                assert!(!line.starts_with('#'), "unknown comment: {line}");
                exposition.samples.push(sample(line));
            }
        }
        assert!(!exposition.samples.is_empty(), "no samples in:\n{text}");
        exposition
    }

    /// The sum over the samples of `name` whose labels include `labels`, if any has them.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let matching: Vec<f64> = self
            .samples
            .iter()
            .filter(|(sample, have, _)| {
                sample == name && labels.iter().all(|(key, value)| have.get(*key).is_some_and(|have| have == value))
            })
            .map(|(_, _, value)| *value)
            .collect();
        (!matching.is_empty()).then(|| matching.iter().sum())
    }

    /// Whether `name` is a metric (its `# TYPE`) or a sample's name here.
    fn exports(&self, name: &str) -> bool {
        self.kinds.contains_key(name) || self.samples.iter().any(|(sample, _, _)| sample == name)
    }

    fn kind(&self, name: &str) -> Option<&str> {
        self.kinds.get(name).map(String::as_str)
    }
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|first| first.is_ascii_alphabetic() || first == '_' || first == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `name{a="x",b="y"} value`, with `\\`, `\"` and `\n` escapes in label values.
fn sample(line: &str) -> (String, BTreeMap<String, String>, f64) {
    let name_end = line.find(['{', ' ']).unwrap_or_else(|| panic!("bad sample: {line}"));
    let name = &line[..name_end];
    assert!(is_name(name), "bad metric name: {line}");
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(inside) = rest.strip_prefix('{') {
        let mut chars = inside.char_indices().peekable();
        loop {
            let (start, first) = chars.next().unwrap_or_else(|| panic!("unclosed labels: {line}"));
            if first == '}' {
                rest = &inside[start + 1..];
                break;
            }
            let equals = inside[start..].find("=\"").unwrap_or_else(|| panic!("bad label: {line}")) + start;
            let key = inside[start..equals].trim_start_matches(',');
            assert!(is_name(key), "bad label name {key:?}: {line}");
            while chars.peek().is_some_and(|(at, _)| *at <= equals + 1) {
                chars.next();
            }
            let mut value = String::new();
            loop {
                match chars.next().unwrap_or_else(|| panic!("unclosed label value: {line}")) {
                    (_, '"') => break,
                    (_, '\\') => match chars.next().map(|(_, c)| c) {
                        Some('n') => value.push('\n'),
                        Some(c @ ('\\' | '"')) => value.push(c),
                        other => panic!("bad escape {other:?}: {line}"),
                    },
                    (_, c) => value.push(c),
                }
            }
            labels.insert(key.to_owned(), value);
            if chars.peek().is_some_and(|(_, c)| *c == ',') {
                chars.next();
            }
        }
    }
    let mut fields = rest.split_whitespace();
    let value = fields.next().unwrap_or_else(|| panic!("no value: {line}"));
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().unwrap_or_else(|_| panic!("bad value {other:?}: {line}")),
    };
    if let Some(timestamp) = fields.next() {
        timestamp.parse::<i64>().unwrap_or_else(|_| panic!("bad timestamp: {line}"));
    }
    assert!(fields.next().is_none(), "trailing fields: {line}");
    (name.to_owned(), labels, value)
}
