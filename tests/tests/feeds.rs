//! Calendar feeds through HTTP: subscribing per delegation, body and everything; reading the
//! feeds back with two parsers (Rust's `icalendar`, and Python's `icalendar` with
//! `recurring-ical-events` via `tests/python/check_feed.py`) and comparing every event's instants
//! with the API's, across DST changes and conferences in Amman, Tokyo and Adelaide; changes
//! (SEQUENCE, STATUS, ETag); conditional requests, gzip and HEAD; revocation; who may do what.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use tests::{TestApp, builders::NewMeeting, expect_error, expect_json};

const YEAR_2027: &str = "from=2027-01-01&to=2027-12-31";

async fn create_feed(app: &TestApp, token: &str, body: Value) -> Value {
    expect_json(app.send(Method::POST, "/api/v1/feeds", token, body).await, 201).await
}

/// The feed's path (`/feeds/plf_….ics`) from its URL, with `query` appended.
fn feed_path(feed: &Value, query: &str) -> String {
    let url = feed["url"].as_str().unwrap();
    let path = &url[url.find("/feeds/").unwrap()..];
    if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") }
}

/// The feed with its long lines joined again (RFC 5545 §3.1), for looking for text in it.
fn unfolded(ics: &str) -> String {
    ics.replace("\r\n ", "")
}

/// A client that neither asks for nor undoes gzip, to see exactly what the service sends.
fn plain_client() -> reqwest::Client {
    reqwest::Client::builder().no_gzip().build().unwrap()
}

async fn fetch(app: &TestApp, path: &str) -> (reqwest::header::HeaderMap, String) {
    let response = plain_client().get(format!("{}{path}", app.base_url)).send().await.unwrap();
    let headers = response.headers().clone();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{path}: {text}");
    (headers, text)
}

/// A meeting abroad, created through the API: body, local start and end, zone, city, country
/// (also the host).
async fn conference(app: &TestApp, token: &str, [body, start, end, zone, city, country]: [&str; 6]) -> Value {
    NewMeeting::of(body).at(start, end).abroad(zone, city, country).create(app, token).await
}

/// One event as read back: UID, UTC start and end, SEQUENCE, STATUS.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Read {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    sequence: i64,
    status: String,
}

/// Reads a feed with the `icalendar` crate's parser; checks every TZID has a VTIMEZONE.
fn read_with_rust(ics: &str) -> (String, BTreeMap<String, Read>) {
    let unfolded = icalendar::parser::unfold(ics);
    let calendar = icalendar::parser::read_calendar(&unfolded).expect("the feed parses");
    let name = calendar.properties.iter().find(|p| p.name == "X-WR-CALNAME").map(|p| p.val.to_string()).unwrap();
    let vtimezones: BTreeSet<String> = calendar
        .components
        .iter()
        .filter(|c| c.name == "VTIMEZONE")
        .map(|c| c.find_prop("TZID").unwrap().val.to_string())
        .collect();
    let mut events = BTreeMap::new();
    for component in calendar.components.iter().filter(|c| c.name == "VEVENT") {
        let instant = |name: &str| {
            let prop = component.find_prop(name).unwrap();
            let value = prop.val.as_str();
            if let Some(utc) = value.strip_suffix('Z') {
                return NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").unwrap().and_utc();
            }
            let tzid = prop.params.iter().find(|p| p.key == "TZID").and_then(|p| p.val.as_ref()).unwrap().to_string();
            assert!(vtimezones.contains(&tzid), "TZID {tzid} has no VTIMEZONE");
            let zone: Tz = tzid.parse().unwrap();
            let local = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S").unwrap();
            match zone.from_local_datetime(&local) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
                LocalResult::None => panic!("{local} does not exist in {zone}"),
            }
        };
        let text = |name: &str| component.find_prop(name).map(|p| p.val.to_string()).unwrap_or_default();
        let previous = events.insert(
            text("UID"),
            Read {
                start: instant("DTSTART"),
                end: instant("DTEND"),
                sequence: text("SEQUENCE").parse().unwrap(),
                status: text("STATUS"),
            },
        );
        assert!(previous.is_none(), "a UID twice");
    }
    (name, events)
}

/// Reads a feed with Python's `icalendar` and `recurring-ical-events` (the interpreter from
/// `PLENARY_TEST_PYTHON`, which scripts/test sets, else `python3`). Fails the test when the
/// check cannot run: it is part of the suite.
fn read_with_python(ics: &str) -> (String, BTreeMap<String, Read>) {
    let file = std::env::temp_dir().join(format!("plenary-feed-{}.ics", uuid::Uuid::new_v4().simple()));
    std::fs::write(&file, ics).unwrap();
    let python =
        std::env::var("PLENARY_TEST_PYTHON").ok().filter(|p| !p.is_empty()).unwrap_or_else(|| "python3".into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/check_feed.py");
    let output = std::process::Command::new(&python).arg(script).arg(&file).output();
    let _ = std::fs::remove_file(&file);
    let output = output.unwrap_or_else(|error| panic!("cannot run {python} {script}: {error}"));
    assert!(
        output.status.success(),
        "the Python check failed ({python}; run scripts/test, or install tests/python/requirements.txt): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    let instant = |v: &Value| DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().with_timezone(&Utc);
    let events = result["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| {
            (
                event["uid"].as_str().unwrap().to_owned(),
                Read {
                    start: instant(&event["start"]),
                    end: instant(&event["end"]),
                    sequence: event["sequence"].as_i64().unwrap(),
                    status: event["status"].as_str().unwrap().to_owned(),
                },
            )
        })
        .collect();
    (result["name"].as_str().unwrap().to_owned(), events)
}

/// What the API says about meetings: UID → (UTC start, end, sequence, status), and the body.
async fn from_api(app: &TestApp, query: &str) -> BTreeMap<String, (Read, String)> {
    let meetings = app.get_json(&format!("/api/v1/meetings?{query}"), 200).await;
    let instant = |v: &Value| DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().with_timezone(&Utc);
    meetings
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let read = Read {
                start: instant(&m["start"]),
                end: instant(&m["end"]),
                sequence: m["sequence"].as_i64().unwrap(),
                status: if m["status"] == "cancelled" { "CANCELLED".into() } else { "CONFIRMED".into() },
            };
            (m["uid"].as_str().unwrap().to_owned(), (read, m["body"].as_str().unwrap().to_owned()))
        })
        .collect()
}

fn only_bodies(api: &BTreeMap<String, (Read, String)>, keep: impl Fn(&str) -> bool) -> BTreeMap<String, Read> {
    api.iter().filter(|(_, (_, body))| keep(body)).map(|(uid, (read, _))| (uid.clone(), read.clone())).collect()
}

#[tokio::test]
async fn every_scope_reads_back_the_apis_instants_in_two_parsers_across_dst_and_zones() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    app.plan(&token, 2027).await;
    // Conferences abroad: Amman (UTC+3 all year), Tokyo (no DST), Adelaide across the end of
    // its DST (03:00 on 4 April 2027 becomes 02:00), and one in Vienna across the spring change.
    conference(&app, &token, ["CONF-MED", "2027-10-26T09:00:00", "2027-10-27T17:00:00", "Asia/Amman", "Amman", "JO"])
        .await;
    conference(&app, &token, ["CONF-ASIA", "2027-06-14T09:30:00", "2027-06-15T18:00:00", "Asia/Tokyo", "Tokyo", "JP"])
        .await;
    conference(
        &app,
        &token,
        ["CONF-ASIA", "2027-04-03T09:00:00", "2027-04-04T17:00:00", "Australia/Adelaide", "Adelaide", "AU"],
    )
    .await;
    conference(&app, &token, ["MC", "2027-03-27T18:00:00", "2027-03-28T12:00:00", "Europe/Vienna", "Vienna", "AT"])
        .await;

    let api = from_api(&app, YEAR_2027).await;
    let zones: BTreeSet<&str> = ["Asia/Amman", "Asia/Tokyo", "Australia/Adelaide", "Europe/Vienna"].into();
    let cases = [
        (json!({"scope": "all"}), "Plenary — all meetings", only_bodies(&api, |_| true)),
        (json!({"scope": "body", "body": "pc"}), "Plenary — Permanent Council", only_bodies(&api, |b| b == "PC")),
        (
            json!({"scope": "delegation", "state": "AT"}),
            "Plenary — Delegation of Austria",
            // Every body invites the participating States.
            only_bodies(&api, |_| true),
        ),
    ];
    for (request, name, expected) in cases {
        let feed = create_feed(&app, &token, request.clone()).await;
        assert!(feed["webcal_url"].as_str().unwrap().starts_with("webcal://"), "{feed}");
        assert_eq!(feed["webcal_url"].as_str().unwrap()[9..], feed["url"].as_str().unwrap()[7..]);
        let (headers, ics) = fetch(&app, &feed_path(&feed, YEAR_2027)).await;
        assert_eq!(headers[header::CONTENT_TYPE], "text/calendar; charset=utf-8");

        let (rust_name, rust_events) = read_with_rust(&ics);
        assert_eq!(rust_name, name);
        assert!(expected.len() > 40, "{request}: {} meetings", expected.len());
        assert_eq!(rust_events, expected, "{request}: the icalendar crate reads what the API says");

        let (python_name, python_events) = read_with_python(&ics);
        assert_eq!(python_name, name);
        assert_eq!(python_events, expected, "{request}: Python's icalendar reads what the API says");

        if request["scope"] == "all" {
            for zone in &zones {
                assert!(ics.contains(&format!("TZID:{zone}\r\n")), "a VTIMEZONE for {zone}");
            }
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn a_delegation_sees_the_meetings_its_standing_invites_it_to() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    app.plan(&token, 2027).await;
    let api = from_api(&app, YEAR_2027).await;
    let egypt = create_feed(&app, &token, json!({"scope": "delegation", "state": "eg"})).await;
    let japan = create_feed(&app, &token, json!({"scope": "delegation", "state": "JP"})).await;
    let (_, egypt_ics) = fetch(&app, &feed_path(&egypt, YEAR_2027)).await;
    let (_, japan_ics) = fetch(&app, &feed_path(&japan, YEAR_2027)).await;
    let (egypt_name, egypt_events) = read_with_rust(&egypt_ics);
    let (japan_name, japan_events) = read_with_rust(&japan_ics);
    assert_eq!(egypt_name, "Plenary — Delegation of Egypt");
    assert_eq!(japan_name, "Plenary — Delegation of Japan");
    let asian_only = |b: &str| b == "CG-ASIA" || b == "CONF-ASIA";
    let mediterranean_only = |b: &str| b == "CG-MED" || b == "CONF-MED";
    assert_eq!(egypt_events, only_bodies(&api, |b| !asian_only(b)));
    assert_eq!(japan_events, only_bodies(&api, |b| !mediterranean_only(b)));
    let med = only_bodies(&api, |b| b == "CG-MED");
    let asia = only_bodies(&api, |b| b == "CG-ASIA");
    assert!(!med.is_empty() && !asia.is_empty());
    assert!(med.keys().all(|uid| egypt_events.contains_key(uid) && !japan_events.contains_key(uid)));
    assert!(asia.keys().all(|uid| japan_events.contains_key(uid) && !egypt_events.contains_key(uid)));
    assert!(unfolded(&egypt_ics).contains("Invited: Participating States and the Mediterranean Partners"));
    app.stop().await;
}

#[tokio::test]
async fn changes_reach_the_feed_moved_cancelled_and_new_meetings_and_the_etag_follows() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    app.plan(&token, 2027).await;
    let feed = create_feed(&app, &token, json!({"scope": "body", "body": "FSC"})).await;
    let path = feed_path(&feed, YEAR_2027);
    let (headers, before_ics) = fetch(&app, &path).await;
    let etag = headers[header::ETAG].clone();
    let (_, before) = read_with_rust(&before_ics);

    // Unchanged: the same bytes and ETag again.
    let (again, again_ics) = fetch(&app, &path).await;
    assert_eq!((again[header::ETAG].clone(), again_ics.as_str()), (etag.clone(), before_ics.as_str()));

    let fsc = app.get_json(&format!("/api/v1/meetings?body=FSC&{YEAR_2027}"), 200).await;
    let (moved, cancelled) = (&fsc[3], &fsc[5]);
    let moved_id = moved["id"].as_i64().unwrap();
    let start = DateTime::parse_from_rfc3339(moved["start"].as_str().unwrap()).unwrap();
    let new_start = (start + chrono::TimeDelta::days(1)).format("%Y-%m-%dT14:00:00").to_string();
    expect_json(
        app.send(Method::PATCH, &format!("/api/v1/meetings/{moved_id}"), &token, json!({"start": new_start})).await,
        200,
    )
    .await;
    let cancelled_id = cancelled["id"].as_i64().unwrap();
    expect_json(
        app.send(Method::POST, &format!("/api/v1/meetings/{cancelled_id}/cancel"), &token, json!({})).await,
        200,
    )
    .await;

    let (headers, after_ics) = fetch(&app, &path).await;
    assert_ne!(headers[header::ETAG], etag, "a change changes the ETag");
    let (_, after) = read_with_rust(&after_ics);
    let uid = moved["uid"].as_str().unwrap();
    assert!(after[uid].sequence > before[uid].sequence, "moved: higher SEQUENCE, same UID");
    assert_eq!(after[uid].start - before[uid].start, chrono::TimeDelta::days(1) + chrono::TimeDelta::hours(4));
    let uid = cancelled["uid"].as_str().unwrap();
    assert_eq!(after[uid].status, "CANCELLED");
    assert!(after[uid].sequence > before[uid].sequence);
    assert_eq!(after.len(), before.len(), "a cancelled meeting stays in the feed");
    assert_eq!(after, only_bodies(&from_api(&app, YEAR_2027).await, |b| b == "FSC"));

    // A new meeting changes the ETag again.
    let etag = headers[header::ETAG].clone();
    let special = json!({"body": "FSC", "title": "FSC special session", "start": "2027-07-07T15:00:00",
        "end": "2027-07-07T17:00:00", "time_zone": "Europe/Vienna", "room": "HOFBURG-SEGMENTGALERIE"});
    expect_json(app.send(Method::POST, "/api/v1/meetings", &token, special).await, 201).await;
    let (headers, newer_ics) = fetch(&app, &path).await;
    assert_ne!(headers[header::ETAG], etag);
    assert!(newer_ics.contains("SUMMARY:FSC — FSC special session"));
    assert_eq!(read_with_rust(&newer_ics).1.len(), after.len() + 1);

    // A Chairmanship entered later reaches descriptions without any meeting changing.
    let med = create_feed(&app, &token, json!({"scope": "body", "body": "CG-MED"})).await;
    let (_, med_ics) = fetch(&app, &feed_path(&med, "")).await;
    assert!(unfolded(&med_ics).contains("Chair: to be decided"), "2027's CG-MED is chaired by 2028's Chairmanship");
    let response = app.send(Method::PUT, "/api/v1/chairmanships/2028", &token, json!({"iso2": "CY"})).await;
    assert_eq!(response.status(), 204);
    let (_, med_ics) = fetch(&app, &feed_path(&med, "")).await;
    let med_ics = unfolded(&med_ics);
    assert!(med_ics.contains("Chair: Cyprus") && !med_ics.contains("Chair: to be decided"));
    app.stop().await;
}

#[tokio::test]
async fn conditional_requests_gzip_and_head() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    app.plan(&token, 2027).await;
    let feed = create_feed(&app, &token, json!({"scope": "all"})).await;
    let url = format!("{}{}", app.base_url, feed_path(&feed, YEAR_2027));
    let client = plain_client();

    let plain = client.get(&url).send().await.unwrap();
    assert_eq!(plain.status(), 200);
    let headers = plain.headers().clone();
    let identity = plain.bytes().await.unwrap();
    assert!(headers.get(header::CONTENT_ENCODING).is_none());
    assert_eq!(headers[header::CACHE_CONTROL], "private, max-age=300");
    let etag = headers[header::ETAG].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "a strong ETag: {etag}");
    let last_modified = headers[header::LAST_MODIFIED].to_str().unwrap().to_owned();
    DateTime::parse_from_rfc2822(&last_modified).expect("Last-Modified is an HTTP date");

    // gzip when asked, the same bytes inside, its own ETag.
    let zipped = client.get(&url).header(header::ACCEPT_ENCODING, "gzip").send().await.unwrap();
    assert_eq!(zipped.headers()[header::CONTENT_ENCODING], "gzip");
    assert_eq!(zipped.headers()[header::CONTENT_TYPE], "text/calendar; charset=utf-8");
    let gzip_etag = zipped.headers()[header::ETAG].to_str().unwrap().to_owned();
    assert_ne!(gzip_etag, etag);
    let compressed = zipped.bytes().await.unwrap();
    assert!(compressed.len() * 4 < identity.len(), "{} → {}", identity.len(), compressed.len());
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..]).read_to_end(&mut unzipped).unwrap();
    assert_eq!(unzipped, identity);

    // 304 for either ETag, and for If-Modified-Since at or after Last-Modified.
    for (name, value) in [
        (header::IF_NONE_MATCH, etag.clone()),
        (header::IF_NONE_MATCH, gzip_etag.clone()),
        (header::IF_NONE_MATCH, format!("\"other\", W/{etag}")),
        (header::IF_MODIFIED_SINCE, last_modified.clone()),
        (header::IF_MODIFIED_SINCE, "Fri, 31 Dec 2100 23:59:59 GMT".to_owned()),
    ] {
        let response = client.get(&url).header(&name, &value).send().await.unwrap();
        assert_eq!(response.status(), 304, "{name}: {value}");
        assert_eq!(response.headers()[header::ETAG], etag.as_str());
        assert!(response.bytes().await.unwrap().is_empty());
    }
    for (name, value) in [
        (header::IF_NONE_MATCH, "\"other\"".to_owned()),
        (header::IF_MODIFIED_SINCE, "Mon, 01 Jan 2024 00:00:00 GMT".to_owned()),
        // If-None-Match decides when both are sent.
        (header::IF_NONE_MATCH, "\"other\"".to_owned()),
    ] {
        let response = client
            .get(&url)
            .header(&name, &value)
            .header(
                header::IF_MODIFIED_SINCE,
                if name == header::IF_NONE_MATCH { last_modified.as_str() } else { value.as_str() },
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{name}: {value}");
    }

    // HEAD: the same headers, no body.
    let head = client.head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()[header::ETAG], etag.as_str());
    assert_eq!(head.headers()[header::CONTENT_TYPE], "text/calendar; charset=utf-8");
    assert_eq!(head.headers()[header::CONTENT_LENGTH], identity.len().to_string().as_str());
    assert!(head.bytes().await.unwrap().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn revoked_and_unknown_feeds_answer_the_same_404_and_use_is_recorded() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let feed = create_feed(&app, &token, json!({"scope": "body", "body": "PC"})).await;
    let id = feed["id"].as_i64().unwrap();
    let listed = app.request(Method::GET, "/api/v1/feeds").bearer_auth(&token).send().await.unwrap();
    let listed = expect_json(listed, 200).await;
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["last_used_at"], Value::Null);
    assert!(listed[0].get("url").is_none() && !listed.to_string().contains("plf_"), "no tokens in lists: {listed}");

    fetch(&app, &feed_path(&feed, "")).await;
    let head = plain_client().head(format!("{}{}", app.base_url, feed_path(&feed, ""))).send().await.unwrap();
    assert_eq!(head.status(), 200);
    let listed =
        expect_json(app.request(Method::GET, "/api/v1/feeds").bearer_auth(&token).send().await.unwrap(), 200).await;
    assert!(listed[0]["last_used_at"].is_string(), "{listed}");

    let response =
        app.request(Method::DELETE, &format!("/api/v1/feeds/{id}")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let response =
        app.request(Method::DELETE, &format!("/api/v1/feeds/{id}")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 204, "revoking twice changes nothing");
    let revoked = app.get(&feed_path(&feed, "")).await;
    assert_eq!(revoked.status(), 404);
    let revoked = revoked.text().await.unwrap();
    let unknown = app.get("/feeds/plf_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics").await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(unknown.text().await.unwrap(), revoked);
    let head = plain_client().head(format!("{}{}", app.base_url, feed_path(&feed, ""))).send().await.unwrap();
    assert_eq!(head.status(), 404);
    let listed =
        expect_json(app.request(Method::GET, "/api/v1/feeds").bearer_auth(&token).send().await.unwrap(), 200).await;
    assert!(listed[0]["revoked_at"].is_string(), "{listed}");
    expect_error(app.request(Method::DELETE, "/api/v1/feeds/9999").bearer_auth(&token).send().await.unwrap(), 404)
        .await;
    app.stop().await;
}

#[tokio::test]
async fn delegations_manage_only_their_own_feeds() {
    let app = TestApp::spawn().await;
    let organiser = app.organiser_token().await;
    let austria = app.delegation_token("AT").await;
    let germany = app.delegation_token("DE").await;
    let message = expect_error(
        app.send(Method::POST, "/api/v1/feeds", &austria, json!({"scope": "delegation", "state": "DE"})).await,
        403,
    )
    .await;
    assert!(message.contains("DE"), "{message}");
    let own = create_feed(&app, &austria, json!({"scope": "delegation", "state": "AT"})).await;
    assert_eq!(own["owner"], "AT");
    let pc = create_feed(&app, &austria, json!({"scope": "body", "body": "PC"})).await;
    let theirs = create_feed(&app, &germany, json!({"scope": "all"})).await;
    let organisers = create_feed(&app, &organiser, json!({"scope": "delegation", "state": "AT"})).await;
    assert_eq!(organisers["owner"], Value::Null);

    let list = |token: String| {
        let app = &app;
        async move {
            let listed =
                expect_json(app.request(Method::GET, "/api/v1/feeds").bearer_auth(token).send().await.unwrap(), 200)
                    .await;
            listed.as_array().unwrap().iter().map(|f| f["id"].as_i64().unwrap()).collect::<BTreeSet<_>>()
        }
    };
    let ids = |feeds: &[&Value]| feeds.iter().map(|f| f["id"].as_i64().unwrap()).collect::<BTreeSet<_>>();
    assert_eq!(list(austria.clone()).await, ids(&[&own, &pc]));
    assert_eq!(list(germany.clone()).await, ids(&[&theirs]));
    assert_eq!(list(organiser.clone()).await, ids(&[&own, &pc, &theirs, &organisers]));

    let delete = |token: &str, feed: &Value| {
        app.request(Method::DELETE, &format!("/api/v1/feeds/{}", feed["id"])).bearer_auth(token).send()
    };
    // Another delegation's feed, or the organisers', is answered like one that does not exist.
    assert!(expect_error(delete(&austria, &theirs).await.unwrap(), 404).await.starts_with("there is no feed"));
    assert!(expect_error(delete(&austria, &organisers).await.unwrap(), 404).await.starts_with("there is no feed"));
    assert_eq!(delete(&austria, &pc).await.unwrap().status(), 204);
    assert_eq!(delete(&organiser, &theirs).await.unwrap().status(), 204);
    expect_error(app.request(Method::POST, "/api/v1/feeds").json(&json!({"scope": "all"})).send().await.unwrap(), 401)
        .await;
    expect_error(app.request(Method::GET, "/api/v1/feeds").send().await.unwrap(), 401).await;
    app.stop().await;
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_or_parameter() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    for (body, field) in [
        (json!({"scope": "weekly"}), "scope"),
        (json!({"scope": "delegation"}), "state"),
        (json!({"scope": "delegation", "state": "XX"}), "state"),
        (json!({"scope": "body"}), "body"),
        (json!({"scope": "body", "body": "UNGA"}), "body"),
        (json!({"scope": "all", "state": "AT"}), "state"),
        (json!({"scope": "all", "colour": "red"}), "colour"),
    ] {
        let message = expect_error(app.send(Method::POST, "/api/v1/feeds", &token, body.clone()).await, 422).await;
        assert!(message.contains(field), "{body}: {message}");
    }
    let feed = create_feed(&app, &token, json!({"scope": "all"})).await;
    for (query, parameter) in
        [("from=2027-13-01", "from"), ("to=tomorrow", "to"), ("from=2027-05-01&to=2027-04-01", "to")]
    {
        let message = expect_error(app.get(&feed_path(&feed, query)).await, 400).await;
        assert!(message.contains(parameter), "{query}: {message}");
    }
    let token_part = feed_path(&feed, "").trim_end_matches(".ics").to_owned();
    expect_error(app.get(&token_part).await, 404).await;
    app.stop().await;
}

#[tokio::test]
async fn the_default_window_runs_from_ninety_days_back_to_eighteen_months_ahead() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let today = Utc::now().date_naive();
    let (from, to) = (today - chrono::TimeDelta::days(90), today.checked_add_months(chrono::Months::new(18)).unwrap());
    for year in chrono::Datelike::year(&from)..=chrono::Datelike::year(&to) {
        app.plan(&token, year).await;
    }
    let feed = create_feed(&app, &token, json!({"scope": "all"})).await;
    let (_, ics) = fetch(&app, &feed_path(&feed, "")).await;
    let (_, events) = read_with_rust(&ics);
    let api = from_api(&app, &format!("from={from}&to={to}")).await;
    assert_eq!(events, only_bodies(&api, |_| true));
    app.stop().await;
}
