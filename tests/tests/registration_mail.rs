//! The mail around registration (issue 15), delivered through a real SMTP server: the person
//! registered is told (registered, or on the waiting list), told again when they move up and when
//! they are withdrawn, each once; invited delegations that registered nobody are reminded before
//! the deadline, once, however often and on however many replicas the reminder job runs.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use mail_parser::MessageParser;
use plenary::{
    mail::worker::{Worker, WorkerHandle},
    service::reminders::{self, Reminded},
};
use reqwest::Method;
use serde_json::{Value, json};
use tests::{
    TestApp,
    builders::{NewMeeting, NewRegistration},
    expect_error, expect_json,
    smtp::SmtpSink,
};

const DEADLINE: Duration = Duration::from_secs(60);
const PUBLIC_URL: &str = "https://plenary.osce.example";

/// The service with mail going to `sink`, links under [`PUBLIC_URL`], and its mail worker.
async fn app_with_mail(sink: &SmtpSink) -> (TestApp, WorkerHandle) {
    let app = TestApp::spawn_with(|config| {
        config.smtp_url = Some(sink.url());
        config.public_url = Some(PUBLIC_URL.parse().unwrap());
        config.mail.retry_base_ms = 100;
        config.mail.poll_ms = 50;
    })
    .await;
    let worker = Worker::new(app.state.db.clone(), &app.state.config).unwrap().expect("an SMTP URL").spawn();
    (app, worker)
}

/// A local date-time string in Vienna `days` days from now, at `time`.
fn vienna_in(days: i64, time: &str) -> String {
    format!("{}T{time}", (Utc::now() + TimeDelta::days(days)).date_naive())
}

/// A meeting of `body` in the Neuer Saal `days` from now, 10:00–13:00 Vienna time: its id and
/// title.
async fn meeting(app: &TestApp, token: &str, body: &str, days: i64) -> (i64, String) {
    let meeting = NewMeeting::of(body)
        .at(&vienna_in(days, "10:00:00"), &vienna_in(days, "13:00:00"))
        .room("HOFBURG-NEUER-SAAL")
        .create(app, token)
        .await;
    (meeting["id"].as_i64().unwrap(), meeting["title"].as_str().unwrap().to_owned())
}

async fn withdraw(app: &TestApp, registration: &Value, token: &str) -> reqwest::Response {
    app.send(Method::DELETE, &format!("/api/v1/registrations/{}", registration["id"]), token, Value::Null).await
}

async fn settings(app: &TestApp, token: &str, meeting: i64, body: Value) -> Value {
    let path = format!("/api/v1/meetings/{meeting}/attendance-settings");
    expect_json(app.send(Method::PUT, &path, token, body).await, 200).await
}

/// Waits until the outbox has delivered everything, then returns what the sink received: no
/// message can still be on its way, so a count is final.
async fn delivered(app: &TestApp, sink: &SmtpSink) -> Vec<Mail> {
    let until = Instant::now() + DEADLINE;
    while plenary::store::outbox::pending(&app.state.db, None).await.unwrap() > 0 {
        assert!(Instant::now() < until, "the outbox did not empty");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sink.messages().iter().map(|bytes| parse(bytes)).collect()
}

/// What a test reads of one received message.
#[derive(Debug)]
struct Mail {
    to: String,
    subject: String,
    text: String,
    html: String,
}

fn parse(bytes: &[u8]) -> Mail {
    let message = MessageParser::default().parse(bytes).expect("a MIME message");
    Mail {
        to: message.to().and_then(|to| to.first()).and_then(|addr| addr.address()).unwrap_or_default().to_owned(),
        subject: message.subject().unwrap_or_default().to_owned(),
        text: message.body_text(0).unwrap_or_default().into_owned(),
        html: message.body_html(0).unwrap_or_default().into_owned(),
    }
}

/// The subjects of the messages to `to`, in order of arrival.
fn subjects_to<'a>(mails: &'a [Mail], to: &str) -> Vec<&'a str> {
    mails.iter().filter(|mail| mail.to == to).map(|mail| mail.subject.as_str()).collect()
}

#[tokio::test]
async fn registering_tells_the_person_with_the_meeting_its_time_and_place_and_the_link() {
    let sink = SmtpSink::start();
    let (app, worker) = app_with_mail(&sink).await;
    let organiser = app.organiser_token().await;
    let (id, title) = meeting(&app, &organiser, "PC", 40).await;
    let austria = app.delegation_token("AT").await;
    let france = app.delegation_token("FR").await;
    let anna = NewRegistration::of("AT", "Anna Huber", "Ambassador", "main");
    expect_json(anna.post(&app, &austria, id).await, 201).await;
    let marie = NewRegistration::of("FR", "Marie Dubois", "Conseillère", "main").with("language", json!("fr"));
    expect_json(marie.post(&app, &france, id).await, 201).await;

    let mails = delivered(&app, &sink).await;
    assert_eq!(mails.len(), 2, "one message to each person registered: {mails:#?}");
    let link = format!("{PUBLIC_URL}/meetings/{id}/registration");
    let english = mails.iter().find(|mail| mail.to == "anna.huber@at.example.org").expect("Anna is told");
    assert_eq!(english.subject, format!("You are registered: {title}"));
    for expected in ["Dear Anna Huber,", "your seat is confirmed", "Delegation: Austria", "10:00–13:00 (Europe/Vienna)"]
    {
        assert!(english.text.contains(expected), "{expected:?} in {}", english.text);
    }
    assert!(english.text.contains("Where: Neuer Saal, Hofburg"), "{}", english.text);
    assert!(english.text.contains(&link) && english.html.contains(&format!("href=\"{link}\"")), "{}", english.text);
    let french = mails.iter().find(|mail| mail.to == "marie.dubois@fr.example.org").expect("Marie is told");
    assert_eq!(french.subject, format!("Votre inscription est confirmée : {title}"));
    assert!(french.text.contains("Délégation: France") && french.text.contains(&link), "{}", french.text);
    assert!(french.html.contains("lang=\"fr\""));
    // The invitation's delivery report is about invitations: the attendees' mail is not in it.
    let report = expect_json(
        app.send(Method::GET, &format!("/api/v1/meetings/{id}/invitations"), &organiser, Value::Null).await,
        200,
    )
    .await;
    assert!(!report.to_string().contains("anna.huber@"), "attendee mail listed as an invitation: {report}");
    worker.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn waiting_then_moving_up_then_withdrawing_each_send_one_message() {
    let sink = SmtpSink::start();
    let (app, worker) = app_with_mail(&sink).await;
    let organiser = app.organiser_token().await;
    let (id, title) = meeting(&app, &organiser, "PC", 40).await;
    settings(&app, &organiser, id, json!({"capacity": 1})).await;
    let austria = app.delegation_token("AT").await;
    let germany = app.delegation_token("DE").await;
    let anna =
        expect_json(NewRegistration::of("AT", "Anna Huber", "Ambassador", "main").post(&app, &austria, id).await, 201)
            .await;
    let karl =
        expect_json(NewRegistration::of("DE", "Karl Weber", "Ambassador", "main").post(&app, &germany, id).await, 201)
            .await;
    assert_eq!(karl["status"], "waiting", "{karl}");

    // Anna withdraws: she is told, and Karl moves up into her seat and is told.
    let withdrawal = expect_json(withdraw(&app, &anna, &austria).await, 200).await;
    assert_eq!(withdrawal["promoted"][0]["id"], karl["id"], "{withdrawal}");
    // Withdrawing again changes nothing and tells nobody again.
    expect_error(withdraw(&app, &anna, &austria).await, 409).await;
    expect_json(withdraw(&app, &karl, &germany).await, 200).await;

    let mails = delivered(&app, &sink).await;
    assert_eq!(
        subjects_to(&mails, "anna.huber@at.example.org"),
        [format!("You are registered: {title}"), format!("Registration withdrawn: {title}")]
    );
    assert_eq!(
        subjects_to(&mails, "karl.weber@de.example.org"),
        [
            format!("On the waiting list: {title}"),
            format!("A seat is yours: {title}"),
            format!("Registration withdrawn: {title}")
        ]
    );
    assert_eq!(mails.len(), 5, "nobody else is written to: {mails:#?}");
    let waiting = mails.iter().find(|mail| mail.subject.starts_with("On the waiting list")).unwrap();
    assert!(waiting.text.contains("you are on the waiting list, number 1"), "{}", waiting.text);
    let promoted = mails.iter().find(|mail| mail.subject.starts_with("A seat is yours")).unwrap();
    assert!(promoted.text.contains(&format!("{PUBLIC_URL}/meetings/{id}/registration")), "{}", promoted.text);
    worker.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn a_delegation_that_registered_nobody_is_reminded_once_before_the_deadline() {
    let sink = SmtpSink::start();
    let (app, worker) = app_with_mail(&sink).await;
    let organiser = app.organiser_token().await;
    let (id, title) = meeting(&app, &organiser, "CG-MED", 60).await;
    // Registration closes 20 days before, at 18:00 in Vienna.
    let set = settings(&app, &organiser, id, json!({"deadline": vienna_in(40, "18:00:00")})).await;
    let deadline = DateTime::parse_from_rfc3339(set["effective"]["deadline"].as_str().unwrap()).unwrap().to_utc();
    // Another meeting in the same window whose invitations were never sent.
    let (quiet, _) = meeting(&app, &organiser, "CG-MED", 61).await;
    settings(&app, &organiser, quiet, json!({"deadline": vienna_in(40, "18:00:00")})).await;
    for (iso2, name, email, role, language) in [
        ("AT", "Anna Huber", "anna@at.example", "contact_point", "en"),
        ("AT", "Hans Gruber", "hans@at.example", "adviser", "en"),
        ("FR", "Claire Martin", "claire@fr.example", "contact_point", "fr"),
        ("JP", "Yuki Sato", "yuki@jp.example", "contact_point", "en"),
        ("IT", "Giulia Rossi", "giulia@it.example", "contact_point", "en"),
    ] {
        let body = json!({"name": name, "email": email, "role": role, "language": language});
        expect_json(
            app.send(Method::POST, &format!("/api/v1/delegations/{iso2}/contacts"), &organiser, body).await,
            201,
        )
        .await;
    }
    let sent = expect_json(
        app.send(Method::POST, &format!("/api/v1/meetings/{id}/invitations"), &organiser, json!({})).await,
        200,
    )
    .await;
    assert_eq!(sent["queued"], 3, "Austria's, France's and Italy's contact points: {sent}");
    // France registers; Austria does not; Italy declines through its reply link; Japan is not
    // invited to a Mediterranean meeting.
    plenary::store::invitations::record_rsvp(
        &app.state.db,
        i32::try_from(id).unwrap(),
        Some("IT"),
        "giulia@it.example",
        "declined",
    )
    .await
    .unwrap();
    let france = app.delegation_token("FR").await;
    expect_json(NewRegistration::of("FR", "Marie Dubois", "Ambassadrice", "main").post(&app, &france, id).await, 201)
        .await;

    let run = |app: &TestApp, now: DateTime<Utc>| {
        let (db, config) = (app.state.db.clone(), app.state.config.clone());
        async move { reminders::send_due(&db, &config, now).await.expect("the reminder pass") }
    };
    assert!(run(&app, deadline - TimeDelta::days(8)).await.is_empty(), "too early: seven days before by default");
    // Two replicas run the pass at the same moment: Austria is reminded once.
    let replica = app.spawn_replica().await;
    let now = deadline - TimeDelta::days(3);
    let (here, there) = tokio::join!(run(&app, now), run(&replica, now));
    let reminded: Vec<Reminded> = here.into_iter().chain(there).collect();
    let austria = i32::try_from(id).unwrap();
    assert_eq!(reminded, [Reminded { meeting_id: austria, iso2: "AT".into(), recipients: 1 }]);
    // Running again, later, sends nothing more; after the deadline nothing either.
    assert!(run(&app, now + TimeDelta::hours(1)).await.is_empty());
    assert!(run(&replica, deadline + TimeDelta::hours(1)).await.is_empty());
    replica.stop().await;

    let mails = delivered(&app, &sink).await;
    let reminders: Vec<&Mail> = mails.iter().filter(|mail| mail.subject.starts_with("Reminder")).collect();
    assert_eq!(reminders.len(), 1, "{mails:#?}");
    let reminder = reminders[0];
    assert_eq!(reminder.to, "anna@at.example");
    assert_eq!(reminder.subject, format!("Reminder: registration for {title} closes soon"));
    assert!(reminder.text.contains("has not registered anyone yet"), "{}", reminder.text);
    assert!(reminder.text.contains(", 18:00 (Europe/Vienna)."), "the deadline, local: {}", reminder.text);
    assert!(reminder.text.contains(&format!("{PUBLIC_URL}/meetings/{id}/registration")), "{}", reminder.text);
    assert!(!mails.iter().any(|mail| mail.subject.starts_with("Rappel")), "France registered: {mails:#?}");
    assert_eq!(mails.len(), 3 + 1 + 1, "three invitations, Marie's confirmation, one reminder: {mails:#?}");
    worker.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn no_reminders_when_turned_off() {
    let app = TestApp::spawn_with(|config| config.mail.reminder_days = 0).await;
    let organiser = app.organiser_token().await;
    let (id, _) = meeting(&app, &organiser, "CG-MED", 60).await;
    let body = json!({"name": "Anna Huber", "email": "anna@at.example", "role": "contact_point", "language": "en"});
    expect_json(app.send(Method::POST, "/api/v1/delegations/AT/contacts", &organiser, body).await, 201).await;
    expect_json(
        app.send(Method::POST, &format!("/api/v1/meetings/{id}/invitations"), &organiser, json!({})).await,
        200,
    )
    .await;
    let set = settings(&app, &organiser, id, json!({"deadline": vienna_in(40, "18:00:00")})).await;
    let deadline = DateTime::parse_from_rfc3339(set["effective"]["deadline"].as_str().unwrap()).unwrap().to_utc();
    let reminded = reminders::send_due(&app.state.db, &app.state.config, deadline - TimeDelta::hours(1)).await.unwrap();
    assert!(reminded.is_empty(), "{reminded:?}");
    app.stop().await;
}
