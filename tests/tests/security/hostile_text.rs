//! Hostile text (issue 12, "one input policy for every text field"): every write endpoint and
//! form either refuses a value with 422 naming the field and the rule, or stores it and shows it
//! intact and safely in every output.

use chrono::{TimeDelta, Utc};
use plenary::db::{entities::outbox, enums::Language};
use proptest::{prelude::*, strategy::ValueTree as _, test_runner::TestRunner};
use reqwest::Method;
use sea_orm::EntityTrait as _;
use serde_json::{Value, json};
use tests::{TestApp, builders::NewMeeting, expect_json};
use unicode_normalization::UnicodeNormalization as _;

/// Generated values per field; moderate, so the suite stays fast on both databases.
const CASES: usize = 24;

/// Checks a refusal: 422, the JSON error shape, `code: "invalid"`, the field and rule in
/// `details` and the field named in the message.
async fn expect_refused(response: reqwest::Response, field: &str, rule: &str) -> Value {
    let body = expect_json(response, 422).await;
    assert_eq!(body["error"]["code"], "invalid", "{body}");
    assert_eq!(body["error"]["details"]["field"], field, "{body}");
    assert_eq!(body["error"]["details"]["rule"], rule, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains(field), "{body}");
    body
}

fn in_days(days: i64) -> String {
    format!("{}T10:00:00", (Utc::now() + TimeDelta::days(days)).date_naive())
}

async fn meeting(app: &TestApp, token: &str, extra: Value) -> Value {
    let meeting = NewMeeting::of("PC").at(&in_days(30), &in_days(30).replace("T10", "T13")).room("HOFBURG-RATSAAL");
    meeting.with_all(extra).post(app, token).await.json().await.unwrap()
}

// ---------------------------------------------------------------------------------------------
// The reproduction and one test per rule

/// Reproduces item 1 of issue 12: a contact named "Eve\nX" was stored (201), and its name later
/// made the mail worker panic inside lettre's `To:` formatting.
#[tokio::test]
async fn a_contact_name_with_a_line_feed_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let contact = json!({"name": "Eve\nX", "email": "eve@de.example", "role": "contact_point", "language": "en"});
    let body = expect_refused(
        app.send(Method::POST, "/api/v1/delegations/DE/contacts", &token, contact).await,
        "name",
        "control_character",
    )
    .await;
    assert_eq!(body["error"]["message"], "name must be on one line: it contains U+000A LINE FEED");
    assert_eq!(body["error"]["details"]["code_point"], "U+000A");
    app.stop().await;
}

/// One refusal per rule, on several endpoints: each was stored before the policy.
#[tokio::test]
async fn every_rule_is_enforced_with_its_name() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let contacts = "/api/v1/delegations/DE/contacts";
    let contact =
        |name: &str, email: &str| json!({"name": name, "email": email, "role": "contact_point", "language": "en"});
    for (name, rule) in [
        ("Eve\u{1b}[31m", "control_character"),
        ("Eve\u{0}", "control_character"),
        ("Eve\tX", "control_character"),
        ("Eve\u{85}X", "control_character"),
        ("Eve\u{2028}X", "control_character"),
        ("Eve\u{202e}X", "control_character"),
        ("Eve\u{2066}X", "control_character"),
        (" \u{3000} ", "empty"),
    ] {
        expect_refused(app.send(Method::POST, contacts, &token, contact(name, "eve@de.example")).await, "name", rule)
            .await;
    }
    let body = expect_refused(
        app.send(Method::POST, contacts, &token, contact(&"x".repeat(201), "eve@de.example")).await,
        "name",
        "too_long",
    )
    .await;
    assert_eq!(body["error"]["details"]["max"], 200);
    for email in ["eve@de.example\r\nBcc: all@x.org", "eve@localhost", "eve@de..example", "<eve@de.example>"] {
        let rule = if email.contains('\r') { "control_character" } else { "invalid_email" };
        expect_refused(app.send(Method::POST, contacts, &token, contact("Eve", email)).await, "email", rule).await;
    }
    // NFC and trimming: a decomposed "é" with spaces around is stored composed and trimmed.
    let stored = expect_json(
        app.send(Method::POST, contacts, &token, contact("  Ame\u{301}lie\u{200f} ", "Amelie@DE.example")).await,
        201,
    )
    .await;
    assert_eq!(stored["name"], "Amélie\u{200f}");
    assert_eq!(stored["email"], "amelie@de.example");

    // Meetings: title 300, places 200, on create and on patch.
    let refused = app.send(Method::POST, "/api/v1/meetings", &token, json!({"body": "PC", "title": "x".repeat(301),
        "start": in_days(30), "end": in_days(30).replace("T10", "T13"), "time_zone": "Europe/Vienna", "room": "HOFBURG-RATSAAL"})).await;
    expect_refused(refused, "title", "too_long").await;
    let created = meeting(&app, &token, json!({})).await;
    let id = created["id"].as_i64().unwrap();
    for (field, value, rule) in [
        ("title", "A\nB", "control_character"),
        ("title", "", "empty"),
        ("venue", &"v".repeat(201), "too_long"),
        ("city", "Wien\u{202e}", "control_character"),
    ] {
        let response = app.send(Method::PATCH, &format!("/api/v1/meetings/{id}"), &token, json!({field: value})).await;
        expect_refused(response, field, rule).await;
    }
    // Registrations: name, function, email.
    let path = format!("/api/v1/meetings/{id}/registrations");
    for (field, attendee) in [
        (
            "name",
            json!({"state": "AT", "name": "A\u{7f}", "function": "", "email": "a@at.example.org", "seat": "main"}),
        ),
        (
            "function",
            json!({"state": "AT", "name": "A", "function": "B\rC", "email": "a@at.example.org", "seat": "main"}),
        ),
        ("email", json!({"state": "AT", "name": "A", "function": "", "email": "a\n@at.example.org", "seat": "main"})),
    ] {
        expect_refused(app.send(Method::POST, &path, &token, attendee).await, field, "control_character").await;
    }
    // Invitation settings: an official's name and organisation.
    let settings = json!({"closed": false, "officials": [{"name": "SG", "organisation": "OSCE\nSecretariat", "email": "sg@osce.example"}]});
    expect_refused(
        app.send(Method::PUT, &format!("/api/v1/meetings/{id}/invitation-settings"), &token, settings).await,
        "officials[0].organisation",
        "control_character",
    )
    .await;
    app.stop().await;
}

/// The organisers' account form: a username or display name the policy refuses is shown next
/// to its field, with the rule in words (before, only the '@' was checked and any control
/// character was stored).
#[tokio::test]
async fn the_account_form_places_the_refusal_next_to_the_field() {
    let app = TestApp::spawn().await;
    let (cookie, csrf) = admin_session(&app).await;
    let post = |form: Vec<(&'static str, String)>| {
        let (app, cookie) = (&app, &cookie);
        async move {
            app.request(Method::POST, "/organiser/accounts").header("cookie", cookie).form(&form).send().await.unwrap()
        }
    };
    let form = |username: &str, name: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("username", username.to_owned()),
            ("display_name", name.to_owned()),
            ("role", "delegation".to_owned()),
            ("state", "DE".to_owned()),
        ]
    };
    let response = post(form("eve@de.example", "Eve\u{1b}X")).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("id=\"name-error\">Must not contain U+001B ESCAPE, a control character<"),
        "next to its field: {page}"
    );
    let response = post(form(&format!("eve@{}example", "d.".repeat(50)), "Eve")).await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("id=\"username-error\">Must be at most 100 characters long<"));
    app.stop().await;
}

/// Logs in as `admin` through the login form; returns the session cookie and its CSRF token.
async fn admin_session(app: &TestApp) -> (String, String) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let login = client.get(format!("{}/login", app.base_url)).send().await.unwrap();
    let cookie = cookie_of(&login, "plenary_csrf=");
    let csrf = hidden_csrf(&login.text().await.unwrap());
    let form = [("csrf", csrf.as_str()), ("username", "admin"), ("password", "test-admin-password")];
    let ok = client.post(format!("{}/login", app.base_url)).header("cookie", &cookie).form(&form).send().await.unwrap();
    assert_eq!(ok.status(), 303);
    let session = cookie_of(&ok, "plenary_session=");
    let page = app.request(Method::GET, "/organiser/accounts").header("cookie", &session).send().await.unwrap();
    let csrf = hidden_csrf(&page.text().await.unwrap());
    (session, csrf)
}

fn cookie_of(response: &reqwest::Response, prefix: &str) -> String {
    let header =
        response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).find(|c| c.starts_with(prefix));
    header.expect("the cookie").split(';').next().unwrap().to_owned()
}

fn hidden_csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_owned()
}

// ---------------------------------------------------------------------------------------------
// The hostile-text property

/// Strings mixing what attackers and careless users send: control characters, separators,
/// bidi controls, decomposed accents, very long runs, mixed scripts and emoji, markup and
/// spreadsheet formulas.
fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-zA-Z ]{1,10}",
        Just("\u{0}".to_owned()),
        Just("\u{1b}[2J".to_owned()),
        Just("\r\n".to_owned()),
        Just("\t".to_owned()),
        Just("\u{85}".to_owned()),
        Just("\u{2028}".to_owned()),
        Just("\u{202e}".to_owned()),
        Just("\u{2067}".to_owned()),
        Just("Jose\u{301}".to_owned()),
        Just("محمد Ёлка 日本語 👩‍👩‍👧".to_owned()),
        Just("<script>alert(1)</script>&amp;\"'".to_owned()),
        Just("=cmd|' /C calc'!A0".to_owned()),
        Just("+1;2,3\\4".to_owned()),
        Just("@SUM(A1)".to_owned()),
        "x{150,320}",
        "\\PC{1,20}",
    ];
    proptest::collection::vec(piece, 1..5).prop_map(|parts| parts.concat())
}

/// `CASES` generated values, reproducible (proptest's deterministic runner).
fn cases() -> Vec<String> {
    let mut runner = TestRunner::deterministic();
    (0..CASES).map(|_| hostile().new_tree(&mut runner).unwrap().current()).collect()
}

/// What the policy promises for an accepted value: NFC, trimmed.
fn nfc_trimmed(input: &str) -> String {
    input.nfc().collect::<String>().trim().to_owned()
}

/// Either a 422 naming `field`, or a 2xx whose JSON is returned.
async fn refused_or_stored(response: reqwest::Response, field: &str) -> Option<Value> {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert!(status < 500, "{status}: {body}");
    if status == 422 {
        assert_eq!(body["error"]["code"], "invalid", "{body}");
        assert_eq!(body["error"]["details"]["field"], field, "{body}");
        assert!(body["error"]["details"]["rule"].is_string(), "{body}");
        return None;
    }
    assert!((200..300).contains(&status), "{status}: {body}");
    Some(body)
}

/// HTML escaping as askama does it (`&`, `<`, `>`, `"`, `'` as numeric references).
fn askama_escape(text: &str) -> String {
    text.replace('&', "&#38;").replace('<', "&#60;").replace('>', "&#62;").replace('"', "&#34;").replace('\'', "&#39;")
}

/// Contacts (name) and invited officials (name, organisation) → JSON read back and the
/// invitation mail built from each outbox row.
#[tokio::test]
async fn hostile_contact_names_are_refused_or_stored_intact_and_mailed() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    // A title the policy allows but every output must escape: markup, a formula, quotes, RTL
    // script and emoji, in the subject and body of every invitation.
    let title = "<script>\"x\"</script> =cmd|' /C calc'!A0; محمد 👩\u{200d}💻 Ёлка, \\";
    let created = meeting(&app, &token, json!({"title": title})).await;
    assert_eq!(created["title"], title);
    let id = created["id"].as_i64().unwrap();
    let mut accepted = 0;
    for (index, name) in cases().into_iter().enumerate() {
        let contact =
            json!({"name": name, "email": format!("c{index}@de.example"), "role": "contact_point", "language": "en"});
        let Some(stored) =
            refused_or_stored(app.send(Method::POST, "/api/v1/delegations/DE/contacts", &token, contact).await, "name")
                .await
        else {
            continue;
        };
        assert_eq!(stored["name"], nfc_trimmed(&name));
        accepted += 1;
    }
    assert!(accepted > 0, "the generator should produce some acceptable names");
    // Officials invited as guests: name and organisation, in the same mail run.
    let mut officials = Vec::new();
    for (index, text) in cases().into_iter().enumerate() {
        for field in ["name", "organisation"] {
            let mut official = json!({"name": "Secretary General", "organisation": "OSCE", "email": format!("o{index}.{field}@osce.example")});
            official[field] = json!(text);
            let settings = json!({"closed": false, "officials": [official]});
            let path = format!("/api/v1/meetings/{id}/invitation-settings");
            let response = app.send(Method::PUT, &path, &token, settings).await;
            if refused_or_stored(response, &format!("officials[0].{field}")).await.is_some() {
                let mut kept = official.clone();
                kept[field] = json!(nfc_trimmed(&text));
                officials.push(kept);
            }
        }
    }
    let settings = json!({"closed": false, "officials": officials});
    expect_json(
        app.send(Method::PUT, &format!("/api/v1/meetings/{id}/invitation-settings"), &token, settings).await,
        200,
    )
    .await;
    let read = app
        .request(Method::GET, &format!("/api/v1/meetings/{id}/invitation-settings"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let read = expect_json(read, 200).await;
    for (stored, sent) in read["officials"].as_array().unwrap().iter().zip(&officials) {
        assert_eq!((&stored["name"], &stored["organisation"]), (&sent["name"], &sent["organisation"]));
    }
    expect_json(app.send(Method::POST, &format!("/api/v1/meetings/{id}/invitations"), &token, json!({})).await, 200)
        .await;
    let rows = outbox::Entity::find().all(&app.state.db).await.unwrap();
    assert!(rows.iter().filter(|row| row.recipient_email.ends_with("@de.example")).count() >= accepted);
    let from: lettre::message::Mailbox = "Plenary <plenary@osce.example>".parse().unwrap();
    for row in &rows {
        let message = plenary::mail::message::build(row, &from, &[])
            .unwrap_or_else(|error| panic!("{:?}: {error:#}", row.recipient_name));
        let formatted = String::from_utf8(message.formatted()).unwrap();
        let headers = &formatted[..formatted.find("\r\n\r\n").unwrap()];
        assert!(!headers.contains('\u{1b}') && !headers.contains('\u{0}'), "raw control characters in headers");
    }
    app.stop().await;
}

/// Meetings (title, venue, city) → JSON read back, the meeting page (escaped) and a calendar
/// feed parsed back with the `icalendar` crate (the title in SUMMARY, venue and city in LOCATION).
#[tokio::test]
async fn hostile_meeting_fields_are_refused_or_shown_intact_in_json_html_and_ical() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let feed = expect_json(app.send(Method::POST, "/api/v1/feeds", &token, json!({"scope": "all"})).await, 201).await;
    let feed_url = feed["url"].as_str().unwrap();
    let feed_path = feed_url[feed_url.find("/feeds/").unwrap()..].to_owned();
    let cases = cases();
    for (day, text) in cases.iter().enumerate() {
        for field in ["title", "venue", "city"] {
            // A meeting elsewhere, so venue and city are shown; a day each, so no clashes.
            let start = in_days(40 + i64::try_from(day).unwrap());
            let input = json!({"body": "MC", "start": start, "end": start.replace("T10", "T13"), "time_zone": "Europe/Vienna",
                "city": "Wien", "country": "AT", field: text});
            let response = app.send(Method::POST, "/api/v1/meetings", &token, input).await;
            let Some(created) = refused_or_stored(response, field).await else { continue };
            let expected = nfc_trimmed(text);
            let id = created["id"].as_i64().unwrap();
            let read = app.get_json(&format!("/api/v1/meetings/{id}"), 200).await;
            assert_eq!(read[field], expected);
            let page = app.get(&format!("/meetings/{id}")).await;
            assert_eq!(page.status(), 200);
            let page = page.text().await.unwrap();
            assert!(page.contains(&askama_escape(&expected)), "{field} {expected:?} not shown escaped");
            assert!(!expected.contains('<') || !page.contains(&expected), "raw markup on the page");
            {
                let ics = app.get(&feed_path).await.text().await.unwrap();
                let unfolded = icalendar::parser::unfold(&ics);
                let calendar = icalendar::parser::read_calendar(&unfolded).expect("the feed parses");
                let uid = created["uid"].as_str().unwrap();
                let event = calendar
                    .components
                    .iter()
                    .find(|c| c.name == "VEVENT" && c.find_prop("UID").is_some_and(|p| p.val.as_str() == uid))
                    .expect("the meeting in the feed");
                // The parser unescapes; the summary is the title, after the body's code, and the
                // location lists venue and city.
                if field == "title" {
                    let summary = event.find_prop("SUMMARY").unwrap().val.to_string();
                    assert!(
                        summary == expected || summary.ends_with(&format!(" — {expected}")),
                        "{summary:?} for {expected:?}"
                    );
                } else {
                    let location = event.find_prop("LOCATION").expect("a LOCATION").val.to_string();
                    assert!(location.contains(&expected), "{field}: {location:?} for {expected:?}");
                }
            }
        }
    }
    app.stop().await;
}

/// Registrations (name, function) → JSON read back, the attendance CSV (formulas defused) and
/// the seating plan's SVG (well-formed XML).
#[tokio::test]
async fn hostile_attendee_names_are_refused_or_exported_safely_in_csv_and_svg() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let created = meeting(&app, &token, json!({})).await;
    let id = created["id"].as_i64().unwrap();
    for (index, text) in cases().into_iter().enumerate() {
        for field in ["name", "function"] {
            let mut attendee = json!({"state": "AT", "name": "Anna", "function": "Adviser",
                "email": format!("a{index}.{field}@at.example.org"), "seat": "main"});
            attendee[field] = json!(text);
            let response =
                app.send(Method::POST, &format!("/api/v1/meetings/{id}/registrations"), &token, attendee).await;
            let Some(stored) = refused_or_stored(response, field).await else { continue };
            let expected = nfc_trimmed(&text);
            assert_eq!(stored[field], expected);
            let csv = app
                .request(Method::GET, &format!("/api/v1/meetings/{id}/attendance.csv"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(csv.status(), 200);
            let csv = csv.text().await.unwrap();
            let mut reader = csv::Reader::from_reader(csv.as_bytes());
            let column = reader.headers().unwrap().iter().position(|h| h == field).unwrap();
            let row = reader
                .records()
                .map(Result::unwrap)
                .find(|r| r.get(0) == Some(&stored["id"].to_string()))
                .expect("the row");
            let cell = row.get(column).unwrap();
            if expected.starts_with(['=', '+', '-', '@']) {
                assert_eq!(cell, format!("'{expected}"), "formula not defused");
            } else {
                assert_eq!(cell, expected);
            }
            let svg = app
                .request(Method::GET, &format!("/api/v1/meetings/{id}/seating.svg"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(svg.status(), 200);
            let svg = svg.text().await.unwrap();
            roxmltree::Document::parse(&svg).unwrap_or_else(|error| panic!("the SVG is not XML ({error})"));
            let registration = stored["id"].as_i64().unwrap();
            let gone =
                app.send(Method::DELETE, &format!("/api/v1/registrations/{registration}"), &token, json!({})).await;
            assert!(gone.status().is_success(), "{}", gone.status());
        }
    }
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Rows stored before the policy

/// The repair migration: rows stored before the policy (a contact named "Eve\nX", which made
/// the mail worker panic; a title with ESC and an override; a decomposed, padded display name;
/// a 400-character venue) are repaired, each repair audited with before and after.
#[tokio::test]
async fn the_repair_migration_fixes_and_audits_rows_stored_before_the_policy() {
    use migration::MigratorTrait as _;
    use plenary::db::entities::{audit_log, contacts, meetings, users};
    use sea_orm::{ColumnTrait as _, QueryFilter as _, sea_query::Expr};

    let app = TestApp::spawn().await;
    let db = &app.state.db;
    let token = app.organiser_token().await;
    let id = meeting(&app, &token, json!({})).await["id"].as_i64().unwrap();
    // Back to the migration before the repair (with those after it); what follows is what the
    // old code let in.
    let names: Vec<String> = migration::Migrator::migrations().iter().map(|m| m.name().to_owned()).collect();
    let repair = names.iter().position(|name| name == "m20261128_000004_repair_text_fields").expect("the repair");
    migration::Migrator::down(db, Some(u32::try_from(names.len() - repair).unwrap())).await.unwrap();
    assert!(!migration::Migrator::get_pending_migrations(db).await.unwrap().is_empty());
    meetings::Entity::update_many()
        .col_expr(meetings::Column::Title, Expr::value("Council\u{1b}[2J \u{202e}Session"))
        .col_expr(meetings::Column::Venue, Expr::value("v".repeat(400)))
        .filter(meetings::Column::Id.eq(i32::try_from(id).unwrap()))
        .exec(db)
        .await
        .unwrap();
    let eve = plenary::store::contacts::create(db, "DE", "Eve\nX", "eve@de.example", "contact_point", Language::En)
        .await
        .unwrap();
    let fine = plenary::store::contacts::create(db, "DE", "Adam", "adam@de.example", "contact_point", Language::En)
        .await
        .unwrap();
    let user = plenary::store::accounts::create_user(
        db,
        "jose@de.example",
        "  Jose\u{301}  ",
        plenary::auth::Role::Delegation,
        Some("DE"),
    )
    .await
    .unwrap();

    migration::Migrator::up(db, None).await.unwrap();

    let contact = |id| contacts::Entity::find_by_id(id).one(db);
    assert_eq!(contact(eve.id).await.unwrap().unwrap().name, "Eve X");
    assert_eq!(contact(fine.id).await.unwrap().unwrap().name, "Adam");
    let repaired = meetings::Entity::find_by_id(i32::try_from(id).unwrap()).one(db).await.unwrap().unwrap();
    assert_eq!(repaired.title, "Council [2J Session");
    let venue = repaired.venue.unwrap();
    assert_eq!(venue.chars().count(), 200);
    assert!(venue.ends_with('…'));
    assert_eq!(users::Entity::find_by_id(user.id).one(db).await.unwrap().unwrap().display_name, "José");

    let audits = audit_log::Entity::find().filter(audit_log::Column::Actor.eq("migration")).all(db).await.unwrap();
    assert_eq!(audits.len(), 4, "{audits:?}");
    let eve_audit = audits
        .iter()
        .find(|a| a.subject_type == "contacts" && a.subject_id == eve.id.to_string())
        .expect("Eve's repair audited");
    let before: Value = serde_json::from_str(eve_audit.before.as_deref().unwrap()).unwrap();
    let after: Value = serde_json::from_str(eve_audit.after.as_deref().unwrap()).unwrap();
    assert_eq!((before["name"].as_str(), after["name"].as_str()), (Some("Eve\nX"), Some("Eve X")));
    // The repaired contact's invitation builds.
    expect_json(app.send(Method::POST, &format!("/api/v1/meetings/{id}/invitations"), &token, json!({})).await, 200)
        .await;
    let from: lettre::message::Mailbox = "Plenary <plenary@osce.example>".parse().unwrap();
    for row in outbox::Entity::find().all(db).await.unwrap() {
        plenary::mail::message::build(&row, &from, &[]).unwrap();
    }
    app.stop().await;
}
