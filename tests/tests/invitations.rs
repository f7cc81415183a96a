//! Invitations by e-mail (issue 5): the outbox, who is invited, contacts, sending through a
//! real SMTP server, updates and cancellations.

use plenary::{
    db::enums::{Language, OutboxStatus},
    store::outbox::{self, CalendarPart, NewMessage},
};
use tests::TestApp;

fn message(dedupe_key: &str) -> NewMessage {
    NewMessage {
        kind: "waitlist_promotion".into(),
        meeting_id: None,
        recipient_email: "someone@example.org".into(),
        recipient_name: "Someone".into(),
        language: Language::En,
        subject: "A seat is yours".into(),
        text_body: "Hello".into(),
        html_body: None,
        calendar: Some(CalendarPart { method: "REQUEST".into(), ics: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".into() }),
        message_id: format!("<{dedupe_key}@plenary>"),
        dedupe_key: dedupe_key.into(),
    }
}

#[tokio::test]
async fn enqueueing_the_same_key_twice_queues_one_message() {
    let app = TestApp::spawn().await;
    assert!(outbox::enqueue(&app.state.db, message("k1")).await.unwrap());
    assert!(!outbox::enqueue(&app.state.db, message("k1")).await.unwrap());
    assert!(outbox::enqueue(&app.state.db, message("k2")).await.unwrap());
    let rows =
        <plenary::db::entities::outbox::Entity as sea_orm::EntityTrait>::find().all(&app.state.db).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|row| row.status == OutboxStatus::Queued && row.attempts == 0));
    assert_eq!(rows[0].message_id, "k1@plenary");
    assert_eq!(rows[0].calendar_method.as_deref(), Some("REQUEST"));
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Helpers

use std::time::{Duration, Instant};

use mail_parser::{MessageParser, MimeHeaders as _};
use plenary::mail::worker::{Worker, WorkerHandle};
use reqwest::Method;
use serde_json::{Value, json};
use tests::{
    builders::NewMeeting,
    expect_error, expect_json,
    smtp::{self, SmtpSink},
};

const DEADLINE: Duration = Duration::from_secs(60);

/// Starts the service with mail going to `smtp_url` (retries after 100 ms) and its worker.
async fn app_with_mail(smtp_url: Option<String>) -> (TestApp, Option<WorkerHandle>) {
    let app = TestApp::spawn_with(|config| {
        config.smtp_url = smtp_url;
        config.mail_from = "OSCE Plenary <plenary@osce.example>".into();
        config.mail.retry_base_ms = 100;
        config.mail.poll_ms = 50;
        config.mail.send_timeout_ms = 5_000;
    })
    .await;
    let worker = Worker::new(app.state.db.clone(), &app.state.config).expect("worker").map(Worker::spawn);
    (app, worker)
}

async fn create_meeting(app: &TestApp, token: &str, body: &str, start: &str, end: &str) -> Value {
    NewMeeting::of(body).at(start, end).room("HOFBURG-NEUER-SAAL").create(app, token).await
}

async fn add_contact(
    app: &TestApp,
    token: &str,
    iso2: &str,
    name: &str,
    email: &str,
    role: &str,
    language: &str,
) -> reqwest::Response {
    app.request(Method::POST, &format!("/api/v1/delegations/{iso2}/contacts"))
        .bearer_auth(token)
        .json(&json!({"name": name, "email": email, "role": role, "language": language}))
        .send()
        .await
        .unwrap()
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    app.send(Method::POST, path, token, body).await
}

async fn status(app: &TestApp, token: &str, meeting: i64) -> Value {
    expect_json(
        app.request(Method::GET, &format!("/api/v1/meetings/{meeting}/invitations"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await
}

/// Polls the status until `done` holds for it.
async fn wait_status(app: &TestApp, token: &str, meeting: i64, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let until = Instant::now() + DEADLINE;
    loop {
        let current = status(app, token, meeting).await;
        if done(&current) {
            return current;
        }
        assert!(Instant::now() < until, "gave up waiting for {what}: {current:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Presses the button of an answer page: posts its token.
async fn answer(app: &TestApp, token: &str) -> reqwest::Response {
    app.request(Method::POST, "/rsvp").form(&[("token", token)]).send().await.unwrap()
}

/// The token an answer page's button posts.
fn hidden_token(html: &str) -> String {
    let at = html.find("name=\"token\" value=\"").expect("an answer form") + "name=\"token\" value=\"".len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// What a test needs to know about one received message.
#[derive(Debug)]
struct Mail {
    to: String,
    message_id: String,
    subject: String,
    /// Content types in tree order, `method`/`name` parameters included.
    structure: Vec<String>,
    text: String,
    html: String,
    calendar: String,
    attachment: String,
}

fn parse(bytes: &[u8]) -> Mail {
    let message = MessageParser::default().parse(bytes).expect("a MIME message");
    let mut structure = Vec::new();
    let mut calendar = String::new();
    let mut attachment = String::new();
    for part in &message.parts {
        let Some(content_type) = part.content_type() else { continue };
        let mut label = format!("{}/{}", content_type.ctype(), content_type.subtype().unwrap_or(""));
        if let Some(method) = content_type.attribute("method") {
            label.push_str(&format!(";method={method}"));
        }
        if let Some(name) = part.attachment_name() {
            label.push_str(&format!(";name={name}"));
        }
        if label.starts_with("text/calendar") {
            calendar = part.text_contents().unwrap_or_default().to_owned();
        } else if label.starts_with("application/ics") {
            attachment = String::from_utf8_lossy(part.contents()).into_owned();
        }
        structure.push(label);
    }
    Mail {
        to: message.to().and_then(|to| to.first()).and_then(|addr| addr.address()).unwrap_or_default().to_owned(),
        message_id: message.message_id().unwrap_or_default().to_owned(),
        subject: message.subject().unwrap_or_default().to_owned(),
        structure,
        text: message.body_text(0).unwrap_or_default().into_owned(),
        html: message.body_html(0).unwrap_or_default().into_owned(),
        calendar,
        attachment,
    }
}

/// The value of an iCalendar property (unfolded) in `ics`.
fn property(ics: &str, name: &str) -> Option<String> {
    let unfolded = ics.replace("\r\n ", "").replace("\n ", "");
    unfolded.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key == name || key.starts_with(&format!("{name};"))).then(|| value.trim_end().to_owned())
    })
}

// ---------------------------------------------------------------------------------------------
// Who is invited

#[tokio::test]
async fn a_mediterranean_contact_group_invites_the_states_and_the_six_mediterranean_partners() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let meeting = create_meeting(&app, &token, "CG-MED", "2027-03-10T10:00:00", "2027-03-10T13:00:00").await;
    let id = meeting["id"].as_i64().unwrap();
    let list = app.get_json(&format!("/api/v1/meetings/{id}/invitees"), 200).await;
    let invitees = list["invitees"].as_array().unwrap();
    let with = |reason: &str| {
        invitees
            .iter()
            .filter(|i| i["reason"] == reason)
            .map(|i| i["iso2"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(with("participating_state").len(), 57);
    assert_eq!(with("mediterranean_partner"), ["DZ", "EG", "IL", "JO", "MA", "TN"]);
    assert!(with("asian_partner").is_empty());
    assert!(invitees[0]["reason_text"].as_str().unwrap().contains("participating State on 2027-03-10"));

    // A closed session with a guest Partner and an official.
    let settings = json!({"closed": true, "guest_delegations": ["jp"],
        "officials": [{"name": "Secretary General", "organisation": "OSCE Secretariat", "email": "sg@osce.example"}]});
    let response = app
        .request(Method::PUT, &format!("/api/v1/meetings/{id}/invitation-settings"))
        .bearer_auth(&token)
        .json(&settings)
        .send()
        .await
        .unwrap();
    let list = expect_json(response, 200).await;
    let invitees = list["invitees"].as_array().unwrap();
    assert_eq!(list["closed"], true);
    assert_eq!(invitees.len(), 57 + 2);
    assert!(!invitees.iter().any(|i| i["reason"] == "mediterranean_partner"));
    assert!(invitees.iter().any(|i| i["iso2"] == "JP" && i["reason"] == "guest"));
    assert!(invitees.iter().any(|i| i["kind"] == "official" && i["reason"] == "guest"));
    let bad = json!({"guest_delegations": ["XX"]});
    let response = app
        .request(Method::PUT, &format!("/api/v1/meetings/{id}/invitation-settings"))
        .bearer_auth(&token)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert!(expect_error(response, 422).await.contains("XX"));
    app.stop().await;
}

#[tokio::test]
async fn mongolia_is_invited_as_a_partner_in_2010_and_as_a_state_in_2013() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    for (year, reason) in [("2010", "asian_partner"), ("2013", "participating_state")] {
        let meeting = create_meeting(
            &app,
            &token,
            "CG-ASIA",
            &format!("{year}-06-04T10:00:00"),
            &format!("{year}-06-04T13:00:00"),
        )
        .await;
        let list = app.get_json(&format!("/api/v1/meetings/{}/invitees", meeting["id"]), 200).await;
        let mongolia =
            list["invitees"].as_array().unwrap().iter().find(|i| i["iso2"] == "MN").expect("Mongolia invited").clone();
        assert_eq!(mongolia["reason"], reason, "{year}");
    }
    expect_error(app.get("/api/v1/meetings/999999/invitees").await, 404).await;
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Contacts

#[tokio::test]
async fn delegations_manage_their_contacts_and_bad_input_is_refused() {
    let app = TestApp::spawn().await;
    let austria = app.delegation_token("AT").await;
    let organiser = app.organiser_token().await;
    let created = expect_json(
        add_contact(&app, &austria, "at", "Anna Huber", "Anna.Huber@bmeia.example", "contact_point", "en").await,
        201,
    )
    .await;
    assert_eq!(created["email"], "anna.huber@bmeia.example");
    assert_eq!(created["state"], "AT");
    expect_json(add_contact(&app, &organiser, "AT", "Hans Gruber", "hans@bmeia.example", "adviser", "fr").await, 201)
        .await;
    let list = expect_json(
        app.request(Method::GET, "/api/v1/delegations/AT/contacts").bearer_auth(&austria).send().await.unwrap(),
        200,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 2);

    assert!(
        expect_error(add_contact(&app, &austria, "DE", "X", "x@example.org", "contact_point", "en").await, 403)
            .await
            .contains("DE")
    );
    assert!(
        expect_error(add_contact(&app, &organiser, "XX", "X", "x@example.org", "contact_point", "en").await, 404)
            .await
            .contains("XX")
    );
    for (name, email, role, language, field) in [
        ("Anna", "not-an-address", "contact_point", "en", "email"),
        ("Anna", "anna@@example.org", "contact_point", "en", "email"),
        ("  ", "b@example.org", "contact_point", "en", "name"),
        ("Anna", "b@example.org", "ambassador", "en", "role"),
        ("Anna", "b@example.org", "contact_point", "de", "language"),
    ] {
        let message = expect_error(add_contact(&app, &austria, "AT", name, email, role, language).await, 422).await;
        assert!(message.starts_with(field), "{message}");
    }
    let message = expect_error(
        add_contact(&app, &austria, "AT", "Anna again", "anna.huber@bmeia.example", "adviser", "en").await,
        409,
    )
    .await;
    assert!(message.contains("anna.huber@bmeia.example"));

    let id = created["id"].as_i64().unwrap();
    let response = app
        .request(Method::DELETE, &format!("/api/v1/delegations/AT/contacts/{id}"))
        .bearer_auth(&austria)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let response = app
        .request(Method::DELETE, &format!("/api/v1/delegations/AT/contacts/{id}"))
        .bearer_auth(&austria)
        .send()
        .await
        .unwrap();
    expect_error(response, 404).await;
    app.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Sending through a real SMTP server

#[tokio::test]
async fn each_contact_point_gets_one_calendar_invitation_then_the_update_then_the_cancellation() {
    let sink = SmtpSink::start();
    let (app, worker) = app_with_mail(Some(sink.url())).await;
    let token = app.organiser_token().await;
    let meeting = create_meeting(&app, &token, "CG-MED", "2027-03-10T10:00:00", "2027-03-10T13:00:00").await;
    let id = meeting["id"].as_i64().unwrap();
    let uid = meeting["uid"].as_str().unwrap().to_owned();
    for (iso2, name, email, role, language) in [
        ("AT", "Anna Huber", "anna@at.example", "contact_point", "en"),
        ("AT", "Hans Gruber", "hans@at.example", "adviser", "en"),
        ("FR", "Claire Martin", "claire@fr.example", "contact_point", "fr"),
        ("EG", "Omar Said", "omar@eg.example", "contact_point", "en"),
        ("JP", "Yuki Sato", "yuki@jp.example", "contact_point", "en"),
    ] {
        expect_json(add_contact(&app, &token, iso2, name, email, role, language).await, 201).await;
    }
    let invited = ["anna@at.example", "claire@fr.example", "omar@eg.example"];

    // Preview: recipients, subject and text; nothing queued.
    let preview = expect_json(
        post(&app, &token, &format!("/api/v1/meetings/{id}/invitations"), json!({"preview": true})).await,
        200,
    )
    .await;
    let mut previewed: Vec<&str> =
        preview["recipients"].as_array().unwrap().iter().map(|r| r["email"].as_str().unwrap()).collect();
    previewed.sort_unstable();
    assert_eq!(previewed, invited);
    assert!(preview["recipients"][0]["text"].as_str().unwrap().contains(&format!("/meetings/{id}")));
    assert!(status(&app, &token, id).await["messages"].as_array().unwrap().is_empty());

    let sent =
        expect_json(post(&app, &token, &format!("/api/v1/meetings/{id}/invitations"), json!({})).await, 200).await;
    assert_eq!(sent["queued"], 3);
    let messages = sink.wait_for(3, DEADLINE).await;
    wait_status(&app, &token, id, "three sent", |s| {
        s["recipients"].as_array().unwrap().iter().filter(|r| r["status"] == "sent").count() == 3
    })
    .await;
    let mut recipients: Vec<String> = messages.iter().map(|m| parse(m).to).collect();
    recipients.sort_unstable();
    assert_eq!(recipients, invited);
    for raw in &messages {
        let mail = parse(raw);
        assert_eq!(
            mail.structure,
            [
                "multipart/mixed",
                "multipart/alternative",
                "text/plain",
                "text/html",
                "text/calendar;method=REQUEST",
                "application/ics;method=REQUEST;name=invite.ics"
            ],
            "{mail:?}"
        );
        assert_eq!(property(&mail.calendar, "METHOD").as_deref(), Some("REQUEST"));
        assert_eq!(property(&mail.calendar, "UID").as_deref(), Some(uid.as_str()));
        assert_eq!(property(&mail.calendar, "SEQUENCE").as_deref(), Some("0"));
        assert!(
            property(&mail.calendar, "ATTENDEE")
                .is_some_and(|a| a.eq_ignore_ascii_case(&format!("mailto:{}", mail.to)))
        );
        assert!(mail.calendar.replace("\r\n ", "").contains("RSVP=TRUE"));
        assert!(mail.calendar.contains("BEGIN:VTIMEZONE") && mail.calendar.contains("TZID:Europe/Vienna"));
        assert_eq!(property(&mail.calendar, "ORGANIZER").as_deref(), Some("mailto:plenary@osce.example"));
        assert_eq!(mail.attachment.replace("\r\n", "\n"), mail.calendar.replace("\r\n", "\n"));
        assert!(!mail.message_id.is_empty() && !mail.html.is_empty());
        if mail.to == "claire@fr.example" {
            assert!(mail.text.contains("La délégation de France est invitée"), "{}", mail.text);
        } else {
            assert!(mail.text.contains("is invited to the following meeting"), "{}", mail.text);
        }
    }

    // Sending twice sends nothing new; a contact added later gets theirs on the next send.
    let again =
        expect_json(post(&app, &token, &format!("/api/v1/meetings/{id}/invitations"), json!({})).await, 200).await;
    assert_eq!((again["queued"].as_i64(), again["already_invited"].as_i64()), (Some(0), Some(3)));
    expect_json(add_contact(&app, &token, "DE", "Dieter Braun", "dieter@de.example", "contact_point", "en").await, 201)
        .await;
    let later =
        expect_json(post(&app, &token, &format!("/api/v1/meetings/{id}/invitations"), json!({})).await, 200).await;
    assert_eq!(later["queued"], 1);
    sink.wait_for(4, DEADLINE).await;

    // An answer link only shows what it would record (mail scanners open links); the button
    // posts it. Anna's page is in English, Claire's in French.
    let link = |to: &str, label: &str| {
        let mail = sink.messages().iter().map(|m| parse(m)).find(|m| m.to == to).unwrap();
        let url = mail.text.lines().find_map(|line| line.strip_prefix(label)).expect("an answer link").to_owned();
        url.split_once("/rsvp/").map(|(_, token)| format!("/rsvp/{token}")).unwrap()
    };
    let answer_of = |current: &Value, email: &str| {
        current["recipients"].as_array().unwrap().iter().find(|r| r["email"] == email).unwrap()["answer"].clone()
    };
    let accept = link("anna@at.example", "Accept: ");
    let page = app.get(&accept).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Austria") && html.contains("accepts the invitation"), "{html}");
    assert!(html.contains("Accept the invitation</button>"), "{html}");
    assert_eq!(answer_of(&status(&app, &token, id).await, "anna@at.example"), Value::Null, "opening records nothing");
    let recorded = answer(&app, &hidden_token(&html)).await;
    assert_eq!(recorded.status(), 200);
    assert!(recorded.text().await.unwrap().contains("your answer is recorded"));
    assert_eq!(answer_of(&status(&app, &token, id).await, "anna@at.example"), "accepted");
    let french = app.get(&link("claire@fr.example", "Je décline: ")).await.text().await.unwrap();
    assert!(french.contains("lang=\"fr\"") && french.contains("Délégation"), "{french}");
    assert!(french.contains("France") && french.contains("décline l’invitation"), "{french}");
    assert_eq!(answer_of(&status(&app, &token, id).await, "claire@fr.example"), Value::Null);
    // Altered or missing tokens are refused in words, and record nothing.
    let tampered = format!("{}x", accept.trim_start_matches("/rsvp/"));
    let refused = app.get(&format!("/rsvp/{tampered}")).await;
    assert_eq!(refused.status(), 404);
    assert!(refused.text().await.unwrap().contains("not valid"));
    assert_eq!(answer(&app, &tampered).await.status(), 404);
    assert_eq!(answer(&app, "").await.status(), 404);
    assert_eq!(app.request(Method::POST, "/rsvp").send().await.unwrap().status().as_u16() / 100, 4);

    // Move, then cancel: an update (REQUEST, SEQUENCE 1) then a cancellation (CANCEL, SEQUENCE 2) to each.
    let response = app
        .request(Method::PATCH, &format!("/api/v1/meetings/{id}"))
        .bearer_auth(&token)
        .json(&json!({"start": "2027-03-11T10:00:00"}))
        .send()
        .await
        .unwrap();
    expect_json(response, 200).await;
    expect_json(post(&app, &token, &format!("/api/v1/meetings/{id}/cancel"), json!({})).await, 200).await;
    let all = sink.wait_for(4 + 4 + 4, DEADLINE).await;
    for address in ["anna@at.example", "claire@fr.example", "omar@eg.example", "dieter@de.example"] {
        let theirs: Vec<Mail> = all.iter().map(|m| parse(m)).filter(|m| m.to == address).collect();
        let sequence: Vec<(String, String, String)> = theirs
            .iter()
            .map(|m| {
                (
                    m.structure.iter().find(|s| s.starts_with("text/calendar")).cloned().unwrap_or_default(),
                    property(&m.calendar, "METHOD").unwrap_or_default(),
                    property(&m.calendar, "SEQUENCE").unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            sequence,
            [
                ("text/calendar;method=REQUEST".to_owned(), "REQUEST".to_owned(), "0".to_owned()),
                ("text/calendar;method=REQUEST".to_owned(), "REQUEST".to_owned(), "1".to_owned()),
                ("text/calendar;method=CANCEL".to_owned(), "CANCEL".to_owned(), "2".to_owned()),
            ],
            "{address}"
        );
        assert!(theirs.iter().all(|m| property(&m.calendar, "UID").as_deref() == Some(uid.as_str())));
        let ids: std::collections::HashSet<&str> = theirs.iter().map(|m| m.message_id.as_str()).collect();
        assert_eq!(ids.len(), 3, "a Message-ID per message");
        assert!(property(&theirs[2].calendar, "STATUS").as_deref() == Some("CANCELLED"));
        assert!(theirs[1].subject.starts_with("Updated") || theirs[1].subject.starts_with("Modification"));
    }
    assert_eq!(sink.messages().len(), 12, "nothing to anyone else");

    // The meeting is cancelled: the links say so and record nothing.
    let decline = link("claire@fr.example", "Je décline: ");
    let closed = app.get(&decline).await;
    assert_eq!(closed.status(), 410);
    assert!(closed.text().await.unwrap().contains("Cette réunion est annulée"));
    assert_eq!(answer(&app, decline.trim_start_matches("/rsvp/")).await.status(), 410);
    assert_eq!(answer_of(&status(&app, &token, id).await, "claire@fr.example"), Value::Null);

    // Inviting for a cancelled meeting is refused.
    expect_error(post(&app, &token, &format!("/api/v1/meetings/{id}/invitations"), json!({})).await, 409).await;
    if let Some(worker) = worker {
        worker.stop().await;
    }
    app.stop().await;
}

#[tokio::test]
async fn resend_starts_a_new_round() {
    let sink = SmtpSink::start();
    let (app, worker) = app_with_mail(Some(sink.url())).await;
    let token = app.organiser_token().await;
    let meeting = create_meeting(&app, &token, "PC", "2027-03-11T10:00:00", "2027-03-11T13:00:00").await;
    let id = meeting["id"].as_i64().unwrap();
    expect_json(add_contact(&app, &token, "AT", "Anna Huber", "anna@at.example", "contact_point", "en").await, 201)
        .await;
    expect_json(post(&app, &token, &format!("/api/v1/meetings/{id}/invitations"), json!({})).await, 200).await;
    sink.wait_for(1, DEADLINE).await;
    let resent = expect_json(
        post(&app, &token, &format!("/api/v1/meetings/{id}/invitations"), json!({"resend": true})).await,
        200,
    )
    .await;
    assert_eq!(resent["queued"], 1);
    let messages = sink.wait_for(2, DEADLINE).await;
    assert_ne!(parse(&messages[0]).message_id, parse(&messages[1]).message_id);
    if let Some(worker) = worker {
        worker.stop().await;
    }
    app.stop().await;
}

/// Makes the database refuse every new outbox row (`refuse = true`) or accept them again.
async fn refuse_mail(app: &TestApp, refuse: bool) {
    use sea_orm::{ConnectionTrait as _, DbBackend};
    let db = &app.state.db;
    let statements: &[&str] = match (db.get_database_backend(), refuse) {
        (DbBackend::Sqlite, true) => {
            &["CREATE TRIGGER refuse_mail BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'no mail today'); END"]
        }
        (DbBackend::Sqlite, false) => &["DROP TRIGGER refuse_mail"],
        (_, true) => &[
            "CREATE FUNCTION refuse_mail() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'no mail today'; END $$",
            "CREATE TRIGGER refuse_mail BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION refuse_mail()",
        ],
        (_, false) => &["DROP TRIGGER refuse_mail ON outbox", "DROP FUNCTION refuse_mail()"],
    };
    for statement in statements {
        db.execute_unprepared(statement).await.expect(statement);
    }
}

#[tokio::test]
async fn a_change_and_its_mail_are_stored_together_or_not_at_all() {
    use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
    // No SMTP server: what is queued stays in the outbox to be looked at.
    let (app, _) = app_with_mail(None).await;
    let token = app.organiser_token().await;
    let meeting = create_meeting(&app, &token, "PC", "2027-03-11T10:00:00", "2027-03-11T13:00:00").await;
    let id = meeting["id"].as_i64().unwrap();
    expect_json(add_contact(&app, &token, "AT", "Anna", "anna@at.example", "contact_point", "en").await, 201).await;
    expect_json(post(&app, &token, &format!("/api/v1/meetings/{id}/invitations"), json!({})).await, 200).await;
    let rows = || async {
        outbox::for_meeting(&app.state.db, i32::try_from(id).unwrap())
            .await
            .unwrap()
            .into_iter()
            .map(|row| {
                let ics = row.calendar_ics.unwrap_or_default();
                (row.kind, property(&ics, "METHOD").unwrap(), property(&ics, "SEQUENCE").unwrap())
            })
            .collect::<Vec<_>>()
    };
    let row = |kind: &str, method: &str, sequence: &str| (kind.to_owned(), method.to_owned(), sequence.to_owned());

    // The update is queued by the time the PATCH answers.
    let response = app
        .request(Method::PATCH, &format!("/api/v1/meetings/{id}"))
        .bearer_auth(&token)
        .json(&json!({"title": "Permanent Council (special)"}))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(response, 200).await["sequence"], 1);
    assert_eq!(rows().await, [row("invitation", "REQUEST", "0"), row("update", "REQUEST", "1")]);

    // When the cancellation cannot be queued, the meeting is not cancelled either.
    refuse_mail(&app, true).await;
    expect_error(post(&app, &token, &format!("/api/v1/meetings/{id}/cancel"), json!({})).await, 500).await;
    let after = app.get_json(&format!("/api/v1/meetings/{id}"), 200).await;
    assert_eq!((after["status"].as_str(), after["sequence"].as_i64()), (Some("scheduled"), Some(1)));
    assert_eq!(rows().await.len(), 2);
    let cancellations = plenary::db::entities::audit_log::Entity::find()
        .filter(plenary::db::entities::audit_log::Column::Action.eq("meeting.cancel"))
        .all(&app.state.db)
        .await
        .unwrap();
    assert!(cancellations.is_empty(), "a change that was undone is not in the audit log");

    refuse_mail(&app, false).await;
    expect_json(post(&app, &token, &format!("/api/v1/meetings/{id}/cancel"), json!({})).await, 200).await;
    assert_eq!(
        rows().await,
        [row("invitation", "REQUEST", "0"), row("update", "REQUEST", "1"), row("cancellation", "CANCEL", "2")]
    );
    app.stop().await;
}

#[tokio::test]
async fn mail_waits_while_the_smtp_server_is_down_and_goes_out_when_it_is_back() {
    let port = smtp::free_port();
    let (app, worker) = app_with_mail(Some(smtp::smtp_url(port))).await;
    let token = app.organiser_token().await;
    let meeting = create_meeting(&app, &token, "PC", "2027-03-11T10:00:00", "2027-03-11T13:00:00").await;
    let id = meeting["id"].as_i64().unwrap();
    for (iso2, email) in [("AT", "anna@at.example"), ("FR", "claire@fr.example")] {
        expect_json(add_contact(&app, &token, iso2, "Someone", email, "contact_point", "en").await, 201).await;
    }
    expect_json(post(&app, &token, &format!("/api/v1/meetings/{id}/invitations"), json!({})).await, 200).await;
    let waiting = wait_status(&app, &token, id, "a failed attempt", |s| {
        s["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["attempts"].as_i64() >= Some(1) && r["reason"].is_string() && r["status"] != "sent")
    })
    .await;
    assert!(waiting["recipients"].as_array().unwrap().iter().all(|r| r["status"] != "failed"), "{waiting:#}");
    let sink = SmtpSink::start_with(port, None);
    let messages = sink.wait_for(2, DEADLINE).await;
    assert_eq!(messages.len(), 2);
    wait_status(&app, &token, id, "both sent", |s| {
        s["recipients"].as_array().unwrap().iter().all(|r| r["status"] == "sent")
    })
    .await;
    if let Some(worker) = worker {
        worker.stop().await;
    }
    app.stop().await;
}

/// The worker keeps its SMTP connections open between messages; when the server restarts,
/// those connections are dead, and the next message must still go out (once).
#[tokio::test]
async fn mail_goes_out_once_after_the_smtp_server_restarts_behind_kept_connections() {
    let port = smtp::free_port();
    let mut sink = SmtpSink::start_with(port, None);
    let (app, worker) = app_with_mail(Some(smtp::smtp_url(port))).await;
    let token = app.organiser_token().await;
    let meeting = create_meeting(&app, &token, "PC", "2027-03-11T10:00:00", "2027-03-11T13:00:00").await;
    let id = meeting["id"].as_i64().unwrap();
    let path = format!("/api/v1/meetings/{id}/invitations");
    let invite = || post(&app, &token, &path, json!({}));
    expect_json(add_contact(&app, &token, "AT", "Anna", "anna@at.example", "contact_point", "en").await, 201).await;
    expect_json(invite().await, 200).await;
    assert_eq!(sink.wait_for(1, DEADLINE).await.len(), 1);
    wait_status(&app, &token, id, "the first sent", |s| s["recipients"][0]["status"] == "sent").await;

    sink.stop();
    let sink = SmtpSink::start_with(port, None);
    expect_json(add_contact(&app, &token, "FR", "Claire", "claire@fr.example", "contact_point", "en").await, 201).await;
    expect_json(invite().await, 200).await;
    let received = sink.wait_for(1, DEADLINE).await;
    assert_eq!(received.len(), 1);
    assert!(String::from_utf8_lossy(&received[0]).contains("claire@fr.example"));
    wait_status(&app, &token, id, "both sent", |s| {
        s["recipients"].as_array().unwrap().iter().all(|r| r["status"] == "sent")
    })
    .await;
    assert_eq!(sink.messages().len(), 1, "the second server got the new invitation once and nothing else");
    if let Some(worker) = worker {
        worker.stop().await;
    }
    app.stop().await;
}

#[tokio::test]
async fn a_permanent_rejection_is_reported_for_that_recipient() {
    let sink = SmtpSink::start_with(smtp::free_port(), Some("^<?refused@"));
    let (app, worker) = app_with_mail(Some(sink.url())).await;
    let token = app.organiser_token().await;
    let meeting = create_meeting(&app, &token, "PC", "2027-03-11T10:00:00", "2027-03-11T13:00:00").await;
    let id = meeting["id"].as_i64().unwrap();
    expect_json(add_contact(&app, &token, "AT", "Anna", "anna@at.example", "contact_point", "en").await, 201).await;
    expect_json(add_contact(&app, &token, "FR", "Nobody", "refused@fr.example", "contact_point", "en").await, 201)
        .await;
    expect_json(post(&app, &token, &format!("/api/v1/meetings/{id}/invitations"), json!({})).await, 200).await;
    let done = wait_status(&app, &token, id, "both settled", |s| {
        s["recipients"].as_array().unwrap().iter().all(|r| r["status"] == "sent" || r["status"] == "failed")
    })
    .await;
    let by = |email: &str| done["recipients"].as_array().unwrap().iter().find(|r| r["email"] == email).unwrap().clone();
    assert_eq!(by("anna@at.example")["status"], "sent");
    let refused = by("refused@fr.example");
    assert_eq!(refused["status"], "failed");
    assert_eq!(refused["attempts"], 1, "a permanent failure is not retried");
    assert!(refused["reason"].as_str().unwrap().contains("550"), "{refused}");
    assert_eq!(sink.messages().len(), 1);
    if let Some(worker) = worker {
        worker.stop().await;
    }
    app.stop().await;
}

#[tokio::test]
async fn invitations_for_cancelled_past_or_unknown_meetings_are_refused_and_without_smtp_mail_waits() {
    let (app, worker) = app_with_mail(None).await;
    assert!(worker.is_none());
    let token = app.organiser_token().await;
    let past = create_meeting(&app, &token, "PC", "2020-03-12T10:00:00", "2020-03-12T13:00:00").await;
    let message =
        expect_error(post(&app, &token, &format!("/api/v1/meetings/{}/invitations", past["id"]), json!({})).await, 409)
            .await;
    assert!(message.contains("over"), "{message}");
    let future = create_meeting(&app, &token, "PC", "2027-03-11T10:00:00", "2027-03-11T13:00:00").await;
    let id = future["id"].as_i64().unwrap();
    expect_json(add_contact(&app, &token, "AT", "Anna", "anna@at.example", "contact_point", "en").await, 201).await;
    let sent =
        expect_json(post(&app, &token, &format!("/api/v1/meetings/{id}/invitations"), json!({})).await, 200).await;
    assert_eq!((sent["queued"].as_i64(), sent["smtp_configured"].as_bool()), (Some(1), Some(false)));
    assert_eq!(status(&app, &token, id).await["recipients"][0]["status"], "queued");
    expect_json(post(&app, &token, &format!("/api/v1/meetings/{id}/cancel"), json!({})).await, 200).await;
    let message =
        expect_error(post(&app, &token, &format!("/api/v1/meetings/{id}/invitations"), json!({})).await, 409).await;
    assert!(message.contains("cancelled"), "{message}");
    expect_error(post(&app, &token, "/api/v1/meetings/999999/invitations", json!({})).await, 404).await;
    let austria = app.delegation_token("AT").await;
    expect_error(post(&app, &austria, &format!("/api/v1/meetings/{id}/invitations"), json!({})).await, 403).await;
    app.stop().await;
}

#[tokio::test]
async fn which_roles_are_invited_is_configurable() {
    let app = TestApp::spawn_with(|config| config.mail.invite_roles = vec!["head_of_delegation".into()]).await;
    let token = app.organiser_token().await;
    let meeting = create_meeting(&app, &token, "PC", "2027-03-11T10:00:00", "2027-03-11T13:00:00").await;
    expect_json(add_contact(&app, &token, "AT", "Head", "head@at.example", "head_of_delegation", "en").await, 201)
        .await;
    expect_json(add_contact(&app, &token, "AT", "Point", "point@at.example", "contact_point", "en").await, 201).await;
    let preview = expect_json(
        post(&app, &token, &format!("/api/v1/meetings/{}/invitations", meeting["id"]), json!({"preview": true})).await,
        200,
    )
    .await;
    let emails: Vec<&str> =
        preview["recipients"].as_array().unwrap().iter().map(|r| r["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["head@at.example"]);
    app.stop().await;
}
