//! What Plenary shows to whom, and what it writes down (issue 12: item 4, item 6, and the
//! smaller findings on error shapes, feeds and logs).
//!
//! - Seating plans (JSON, SVG, the meeting page) name registered people only to callers who
//!   take part in Plenary (a bearer token of any role, or a logged-in session); anonymous
//!   visitors see the plates.
//! - `/api/docs` runs only scripts served by Plenary itself, under a strict CSP.
//! - A malformed path parameter is answered in the JSON error shape (pages: in words).
//! - Another delegation's feed is answered exactly like a feed that does not exist.
//! - Secret paths (`/feeds/…`, `/rsvp/…`, `/set-password/…`) never reach a log line.

use std::{
    io::Write,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicBool, Ordering},
    },
};

use plenary::auth::Role;
use reqwest::{Method, Response};
use serde_json::{Value, json};
use tests::{
    TestApp,
    browser::Browser,
    builders::{NewAccount, NewMeeting, NewRegistration, date_in},
    expect_error, expect_json,
};
use tracing_subscriber::{Layer as _, filter, fmt::MakeWriter, layer::SubscriberExt as _};

/// Names registered for the seating tests: none may reach an anonymous visitor.
const HEAD: &str = "Anneliese Verborgen";
const ADVISER: &str = "Bertram Geheim";

/// A Permanent Council meeting a month ahead (registration open) with Austria's head of
/// delegation and one adviser registered.
async fn meeting_with_registrations(app: &TestApp) -> i64 {
    let organiser = app.organiser_token().await;
    let id = NewMeeting::of("PC")
        .on(date_in(30), "10:00", "13:00")
        .room("HOFBURG-NEUER-SAAL")
        .forced()
        .create_id(app, &organiser)
        .await;
    let austria = app.delegation_token("AT").await;
    for (name, seat) in [(HEAD, "main"), (ADVISER, "behind")] {
        expect_json(NewRegistration::of("AT", name, "Delegate", seat).post(app, &austria, id).await, 201).await;
    }
    id
}

/// A logged-in session's cookie for a new user with `role`.
async fn session_cookie(app: &TestApp, username: &str, role: Role, iso2: Option<&str>) -> String {
    NewAccount::with_role(username, username, role).of_state(iso2).session_cookie(app).await
}

async fn text(response: Response, status: u16) -> String {
    let actual = response.status().as_u16();
    let body = response.text().await.unwrap();
    assert_eq!(actual, status, "{body}");
    body
}

fn occupants(plan: &Value) -> Vec<Value> {
    ["head", "seats"]
        .iter()
        .flat_map(|part| plan["plan"][part].as_array().unwrap().iter())
        .filter_map(|seat| seat.get("occupant").cloned())
        .filter(|occupant| !occupant.is_null())
        .collect()
}

/// Item 4: anonymous `GET /api/v1/meetings/{id}/seating` (and `.svg`) showed `occupant` names
/// while anonymous `/registrations` was 401. Now the plan is the same but every `occupant` is
/// null, the plates are there, and a token of any role (or a session) sees the names.
#[tokio::test]
async fn anonymous_seating_plans_show_plates_but_no_names() {
    let app = TestApp::spawn().await;
    let id = meeting_with_registrations(&app).await;
    let json_path = format!("/api/v1/meetings/{id}/seating");
    let svg_path = format!("/api/v1/meetings/{id}/seating.svg");

    // The registrations themselves are not public; neither are the names through the plan.
    expect_error(app.get(&format!("/api/v1/meetings/{id}/registrations")).await, 401).await;
    let anonymous = app.get_json(&json_path, 200).await;
    assert_eq!(occupants(&anonymous), Vec::<Value>::new());
    let austria = anonymous["plan"]["seats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|seat| seat["kind"] == "delegation" && seat["delegation"] == "AT")
        .expect("Austria's seat");
    assert_eq!(austria["label"], "Austria");
    let body = anonymous.to_string();
    assert!(!body.contains(HEAD) && !body.contains(ADVISER), "{body}");
    let svg = text(app.get(&svg_path).await, 200).await;
    assert!(svg.contains("Austria") && svg.contains("Germany"), "the plates are drawn");
    assert!(!svg.contains(HEAD) && !svg.contains(ADVISER), "no names in the anonymous SVG");
    // An unknown token is no better than none.
    let forged = app.request(Method::GET, &json_path).bearer_auth("plt_not-a-real-token").send().await.unwrap();
    assert_eq!(occupants(&expect_json(forged, 200).await), Vec::<Value>::new());

    // Any role with a token sees the names, in the JSON and in the SVG.
    for token in [app.delegation_token("JP").await, app.organiser_token().await] {
        let named =
            expect_json(app.request(Method::GET, &json_path).bearer_auth(&token).send().await.unwrap(), 200).await;
        assert_eq!(occupants(&named), [json!(HEAD), json!(ADVISER)]);
        let svg = text(app.request(Method::GET, &svg_path).bearer_auth(&token).send().await.unwrap(), 200).await;
        assert!(svg.contains(HEAD) && svg.contains(ADVISER));
    }
    // So does a logged-in session: the meeting page's picture is fetched with its cookie.
    let cookie = session_cookie(&app, "jp-user", Role::Delegation, Some("JP")).await;
    let svg = text(app.request(Method::GET, &svg_path).header("cookie", &cookie).send().await.unwrap(), 200).await;
    assert!(svg.contains(HEAD) && svg.contains(ADVISER));
    app.stop().await;
}

/// Item 4 on the meeting page: it names nobody to an anonymous visitor (its plan picture is the
/// SVG above, fetched with the visitor's cookies; a plan that cannot be drawn explains itself
/// with the same anonymous plan's error, whose wording `scheduler::seating` tests).
#[tokio::test]
async fn the_meeting_page_names_nobody_to_anonymous_visitors() {
    let app = TestApp::spawn().await;
    let id = meeting_with_registrations(&app).await;
    let page = text(app.get(&format!("/meetings/{id}")).await, 200).await;
    assert!(page.contains(&format!("/api/v1/meetings/{id}/seating.svg")), "the plan picture is there");
    assert!(!page.contains(HEAD) && !page.contains(ADVISER));
    let cookie = session_cookie(&app, "organiser-2", Role::Organiser, None).await;
    let logged_in =
        text(app.request(Method::GET, &format!("/meetings/{id}")).header("cookie", &cookie).send().await.unwrap(), 200)
            .await;
    assert!(logged_in.contains("Log out"), "the session is recognised");
    assert!(logged_in.contains(&format!("/api/v1/meetings/{id}/seating.svg")));
    app.stop().await;
}

/// Item 6: `/api/docs` loaded an unpinned script from `cdn.jsdelivr.net` with no CSP. Now every
/// `src` and `href` is on this server, the CSP allows only same-origin scripts, and the scripts
/// are served by the binary.
#[tokio::test]
async fn the_api_reference_runs_only_scripts_served_by_plenary() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/docs").await;
    let csp = response
        .headers()
        .get("content-security-policy")
        .expect("a Content-Security-Policy on /api/docs")
        .to_str()
        .unwrap()
        .to_owned();
    let script_src = csp.split(';').map(str::trim).find(|d| d.starts_with("script-src")).expect("a script-src");
    assert_eq!(script_src, "script-src 'self'", "{csp}");
    let html = text(response, 200).await;
    assert!(!html.contains("<script>") && !html.contains("javascript:"), "no inline script: {html}");
    let mut links = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for (at, _) in html.match_indices(attribute) {
            let value = html[at + attribute.len()..].split('"').next().unwrap();
            assert!(value.starts_with('/') && !value.starts_with("//"), "external {attribute}{value}\"");
            links.push(value.to_owned());
        }
    }
    assert!(!html.contains("cdn.") && !html.contains("http://") && !html.contains("https://"), "{html}");
    let scripts: Vec<_> = links.iter().filter(|link| link.split('?').next().unwrap().ends_with(".js")).collect();
    assert_eq!(scripts.len(), 2, "the vendored bundle and the starter: {links:?}");
    assert!(html.contains("integrity=\"sha384-"), "the vendored files carry their integrity hashes");
    for link in &links {
        let asset = app.get(link).await;
        assert_eq!(asset.status(), 200, "{link}");
        let content_type = asset.headers()["content-type"].to_str().unwrap().to_owned();
        let body = asset.text().await.unwrap();
        if link.split('?').next().unwrap().ends_with(".js") {
            assert!(content_type.starts_with("text/javascript"), "{link}: {content_type}");
            assert!(body.contains("SwaggerUIBundle"), "{link} is Swagger UI or starts it");
        }
    }
    expect_json(app.get("/api/openapi.json").await, 200).await;
    app.stop().await;
}

/// Item 6, in a real browser: the reference renders its operations from what Plenary serves
/// (it references nothing else, as the test above checks, so it works without internet).
#[tokio::test]
async fn the_api_reference_renders_in_a_browser() {
    let app = TestApp::spawn().await;
    let browser = Browser::start(&app.base_url).await;
    browser.goto("/api/docs").await;
    browser.wait_for_text("#swagger-ui", "/api/v1/meetings").await;
    browser.wait_for_text("#swagger-ui", "seating").await;
    browser.close().await;
    app.stop().await;
}

/// A malformed path parameter answered `400 Invalid URL: Cannot parse "abc" …` in plain text.
/// Now the JSON error shape, naming the parameter; pages answer in words.
#[tokio::test]
async fn malformed_path_parameters_answer_the_json_error() {
    let app = TestApp::spawn().await;
    let organiser = app.organiser_token().await;
    let message = expect_error(app.get("/api/v1/meetings/abc").await, 400).await;
    assert!(message.contains("`id`") && message.contains("abc"), "{message}");
    for (method, path) in [
        (Method::DELETE, "/api/v1/registrations/x"),
        (Method::GET, "/api/v1/meetings/1.5/seating"),
        (Method::GET, "/api/v1/meetings/99999999999/seating.svg"),
        (Method::DELETE, "/api/v1/feeds/one"),
        (Method::POST, "/api/v1/seating-lots/PC/next/redraw"),
    ] {
        let response = app.request(method.clone(), path).bearer_auth(&organiser).send().await.unwrap();
        let message = expect_error(response, 400).await;
        assert!(message.starts_with("path parameter `"), "{method} {path}: {message}");
    }
    let year = expect_error(
        app.request(Method::POST, "/api/v1/seating-lots/PC/next/redraw").bearer_auth(&organiser).send().await.unwrap(),
        400,
    )
    .await;
    assert!(year.contains("`year`"), "the second parameter is named: {year}");
    let query = expect_error(app.get("/api/v1/meetings?body=PC&body=FSC").await, 400).await;
    assert!(query.contains("body"), "{query}");

    // Pages: the error page in words, not plain text.
    for path in ["/rsvp/%FF%FE", "/set-password/%FF%FE"] {
        let response = app.request(Method::GET, path).header("accept", "text/html").send().await.unwrap();
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "{path}");
        let page = text(response, 400).await;
        assert!(page.contains("The token in this address"), "{path}: {page}");
    }
    app.stop().await;
}

/// Revoking another delegation's feed said "feed 3 belongs to the delegation of DE" (403), so a
/// delegation could map out who subscribes to what. Now it answers exactly like a missing feed.
#[tokio::test]
async fn another_delegations_feed_is_answered_like_a_missing_one() {
    let app = TestApp::spawn().await;
    let austria = app.delegation_token("AT").await;
    let germany = app.delegation_token("DE").await;
    let organiser = app.organiser_token().await;
    let create = |token: String, body: Value| {
        let app = &app;
        async move { expect_json(app.send(Method::POST, "/api/v1/feeds", &token, body).await, 201).await }
    };
    let theirs = create(germany.clone(), json!({"scope": "all"})).await["id"].as_i64().unwrap();
    let organisers = create(organiser, json!({"scope": "all"})).await["id"].as_i64().unwrap();
    let missing = theirs.max(organisers) + 1000;

    let revoke = |id: i64| {
        let app = &app;
        let austria = austria.clone();
        async move {
            let response =
                app.request(Method::DELETE, &format!("/api/v1/feeds/{id}")).bearer_auth(austria).send().await.unwrap();
            let status = response.status().as_u16();
            let body = expect_json(response, status).await;
            (
                status,
                body["error"]["code"].clone(),
                body["error"]["message"].as_str().unwrap().replace(&id.to_string(), "{id}"),
            )
        }
    };
    let answer_missing = revoke(missing).await;
    assert_eq!(answer_missing.0, 404);
    assert_eq!(revoke(theirs).await, answer_missing);
    assert_eq!(revoke(organisers).await, answer_missing);
    // Germany's feed is untouched and still Germany's to revoke.
    let listed =
        expect_json(app.request(Method::GET, "/api/v1/feeds").bearer_auth(&germany).send().await.unwrap(), 200).await;
    assert_eq!(listed[0]["revoked_at"], Value::Null);
    app.stop().await;
}

/// Everything the service logs while [`CAPTURING`] is set, as text and as JSON.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Whether the capturing subscriber records anything: only while the log test runs, so the
/// rest of the suite does not pay for formatting every TRACE line.
static CAPTURING: AtomicBool = AtomicBool::new(false);

/// The capturing subscriber, installed once as the process's global default. A thread-local
/// one is not enough: callsites first met on other test threads can keep a cached "nobody
/// listens" and the service's request spans would go unrecorded.
fn capture() -> Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED
        .get_or_init(|| {
            let captured = Captured::default();
            let layers = tracing_subscriber::fmt::layer()
                .with_writer(captured.clone())
                .with_ansi(false)
                .and_then(tracing_subscriber::fmt::layer().json().with_writer(captured.clone()))
                .with_filter(filter::dynamic_filter_fn(|_, _| CAPTURING.load(Ordering::SeqCst)));
            let subscriber = tracing_subscriber::registry().with(layers);
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber in the security suite");
            captured
        })
        .clone()
}

/// Secret-bearing paths would appear in the request span's `path` at debug level. Now, with
/// every log line at TRACE captured (in the text and the JSON formats the binary offers), the
/// secrets of feed, RSVP and set-password addresses appear nowhere, while the redacted forms
/// and an ordinary path do.
#[tokio::test]
async fn secret_paths_never_reach_the_logs() {
    let captured = capture();
    CAPTURING.store(true, Ordering::SeqCst);
    let app = TestApp::spawn().await;
    let austria = app.delegation_token("AT").await;
    let feed = expect_json(app.send(Method::POST, "/api/v1/feeds", &austria, json!({"scope": "all"})).await, 201).await;
    let url = feed["url"].as_str().unwrap();
    let feed_path = &url[url.find("/feeds/").unwrap()..];
    let feed_secret = feed_path.trim_start_matches("/feeds/").trim_end_matches(".ics").to_owned();
    let rsvp_secret = "plr_SecretRsvpToken0123456789abcdefABCDEF";
    let password_secret = "pls_SecretPasswordToken0123456789abcdefAB";

    assert_eq!(app.get(feed_path).await.status(), 200);
    for path in [
        format!("{feed_path}?from=2026-01-01"),
        format!("//feeds/{feed_secret}.ics"),
        format!("/FEEDS/{feed_secret}.ics"),
        format!("/rsvp/{rsvp_secret}"),
        format!("/set-password/{password_secret}"),
        format!("/login?next=/rsvp/{rsvp_secret}"),
        "/api/v1/meetings/abc".to_owned(),
    ] {
        let response = app.request(Method::GET, &path).header("accept", "text/html").send().await.unwrap();
        let _ = response.bytes().await;
    }
    let _ = app.request(Method::POST, &format!("/set-password/{password_secret}")).send().await.unwrap();
    let _ = app.request(Method::POST, feed_path).send().await.unwrap();
    app.stop().await;
    CAPTURING.store(false, Ordering::SeqCst);

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for secret in [feed_secret.as_str(), rsvp_secret, password_secret] {
        assert!(!logs.contains(secret), "a secret reached the logs:\n{}", lines_with(&logs, secret));
    }
    for redacted in ["/feeds/[redacted].ics", "/rsvp/[redacted]", "/set-password/[redacted]", "/api/v1/meetings/abc"] {
        assert!(logs.contains(redacted), "{redacted} is logged (the capture works)");
    }
}

fn lines_with(logs: &str, needle: &str) -> String {
    logs.lines().filter(|line| line.contains(needle)).take(5).collect::<Vec<_>>().join("\n")
}
