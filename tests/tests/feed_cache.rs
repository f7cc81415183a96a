//! Calendar feeds through `deploy/nginx.conf`, which keeps each feed for one second (issue 14):
//! clients polling the same feed at once cost the replica one rendering, each client still gets
//! what its own request would have got (its encoding, 304 for its ETag), a change reaches the
//! feed, and a revoked feed stops, because only successful answers are kept.
//!
//! One `plenary serve` behind Debian's nginx, on SQLite and on PostgreSQL.

use std::{
    io::Read as _,
    time::{Duration, Instant},
};

use chrono::{TimeDelta, Utc};
use reqwest::{
    StatusCode,
    blocking::{Client, Response},
    header,
};
use serde_json::{Value, json};
use tests::{
    TestDatabase,
    binary::{self, Server},
    nginx::Nginx,
};

/// Hang protection only: nothing here is timed.
const PATIENCE: Duration = Duration::from_secs(60);

/// Clients asking for the same feed at the same moment.
const AT_ONCE: usize = 16;

#[test]
fn feeds_through_nginx_are_kept_a_second_per_encoding_and_follow_changes_and_revocation() {
    let database = TestDatabase::create_blocking();
    let replica = Server::start(&database);
    let nginx = Nginx::start(&[replica.port()]);
    // No automatic decompression: the test sees the bytes and headers nginx sends.
    let client = Client::builder().no_gzip().timeout(PATIENCE).build().unwrap();
    let organiser = binary::stdout(&binary::run(&database, &["token", "create", "--role", "organiser"]));
    let api = |method: reqwest::Method, path: &str, body: Value| {
        let response = client
            .request(method, format!("{}/api/v1{path}", replica.base_url()))
            .bearer_auth(organiser.trim())
            .json(&body)
            .send()
            .unwrap();
        assert!(response.status().is_success(), "{path}: {}", response.status());
        response.json::<Value>().unwrap_or(Value::Null)
    };
    let feed = api(reqwest::Method::POST, "/feeds", json!({"scope": "all"}));
    let path = url::Url::parse(feed["url"].as_str().unwrap()).unwrap().path().to_owned();
    let through_nginx = format!("{}{path}", nginx.url());
    let get = |encoding: Option<&str>| {
        let mut request = client.get(&through_nginx);
        if let Some(encoding) = encoding {
            request = request.header(header::ACCEPT_ENCODING, encoding);
        }
        request.send().unwrap()
    };

    // Many clients at once: one request reaches the replica, the others get what it answered.
    let before = feed_lines(&nginx);
    let bodies: Vec<Vec<u8>> = std::thread::scope(|scope| {
        let asking: Vec<_> = (0..AT_ONCE).map(|_| scope.spawn(|| ok_body(get(None)))).collect();
        asking.into_iter().map(|asked| asked.join().unwrap()).collect()
    });
    assert!(bodies.iter().all(|body| body == &bodies[0] && body.ends_with(b"END:VCALENDAR\r\n")));
    let lines = &feed_lines_after(&nginx, before.len(), AT_ONCE)[before.len()..];
    let kept = lines.iter().filter(|line| line.contains("cache=HIT")).count();
    assert!(kept > 0, "no request was answered from the kept feed: {lines:#?}");
    assert!(lines.iter().all(|line| line.contains("/feeds/[redacted].ics")), "the token stays out of the log");

    // Each encoding is kept apart: a gzip client gets gzip, a plain one plain text.
    let gzipped = get(Some("gzip"));
    assert_eq!(gzipped.headers().get(header::CONTENT_ENCODING).map(|value| value.to_str().unwrap()), Some("gzip"));
    let etag = gzipped.headers().get(header::ETAG).cloned().expect("an ETag");
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(ok_body(gzipped).as_slice()).read_to_end(&mut unzipped).unwrap();
    let plain = get(None);
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    assert_eq!(unzipped, ok_body(plain));
    // The client's own ETag gets 304, from the kept feed or the replica.
    let revalidated =
        client.get(&through_nginx).header(header::ACCEPT_ENCODING, "gzip").header(header::IF_NONE_MATCH, &etag);
    assert_eq!(revalidated.send().unwrap().status(), StatusCode::NOT_MODIFIED);

    // A change reaches the feed through nginx.
    let day = (Utc::now() + TimeDelta::days(40)).date_naive();
    let title = "Informal meeting on the kept feed";
    api(
        reqwest::Method::POST,
        "/meetings",
        json!({
            "body": "PC", "title": title, "start": format!("{day}T15:00:00"), "end": format!("{day}T16:00:00"),
            "time_zone": "Europe/Vienna", "room": "HOFBURG-RATSAAL", "force": true,
        }),
    );
    let deadline = Instant::now() + PATIENCE;
    while !String::from_utf8_lossy(&ok_body(get(None))).contains(title) {
        assert!(Instant::now() < deadline, "the new meeting never reached the feed through nginx");
        std::thread::sleep(Duration::from_millis(100));
    }

    // A revoked feed stops, and its refusal is not kept: each one comes from the replica.
    api(reqwest::Method::DELETE, &format!("/feeds/{}", feed["id"]), Value::Null);
    while get(None).status() == StatusCode::OK {
        assert!(Instant::now() < deadline, "the revoked feed is still served through nginx");
        std::thread::sleep(Duration::from_millis(100));
    }
    let before = feed_lines(&nginx).len();
    for _ in 0..3 {
        assert_eq!(get(None).status(), StatusCode::NOT_FOUND);
    }
    let refusals = &feed_lines_after(&nginx, before, 3)[before..];
    assert!(
        refusals.iter().all(|line| line.contains(" 404 ") && line.contains("upstream_status=404")),
        "{refusals:#?}"
    );
}

/// The body of a 200.
fn ok_body(response: Response) -> Vec<u8> {
    assert_eq!(response.status(), StatusCode::OK);
    response.bytes().unwrap().to_vec()
}

/// nginx's access-log lines for feeds so far.
fn feed_lines(nginx: &Nginx) -> Vec<String> {
    nginx.access_log().lines().filter(|line| line.contains("/feeds/")).map(str::to_owned).collect()
}

/// The feed lines once `count` more than `before` are there (nginx logs a request just after
/// answering it).
fn feed_lines_after(nginx: &Nginx, before: usize, count: usize) -> Vec<String> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let lines = feed_lines(nginx);
        if lines.len() >= before + count {
            assert_eq!(lines.len(), before + count, "{lines:#?}");
            return lines;
        }
        assert!(Instant::now() < deadline, "nginx logged {} of {count} requests", lines.len() - before);
        std::thread::sleep(Duration::from_millis(20));
    }
}
