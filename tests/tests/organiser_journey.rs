//! An organiser's journey through every setting of a meeting in a real browser (headless
//! Chromium), with a real SMTP server: a move onto a taken room shown on the field, in view,
//! with the other meeting linked and the input kept; a new Chairmanship named on the meetings it
//! chairs; a cancellation with a reason, read back from the feed and the mail; and undoing it.

use std::time::Duration;

use plenary::{auth::Principal, service};
use reqwest::Method;
use serde_json::{Value, json};
use tests::{TestApp, browser::Browser, expect_json, smtp::SmtpSink};

const ADMIN_PASSWORD: &str = "test-admin-password";
const REASON: &str = "The Hofburg is closed for repairs.";

/// Whether the element `css` is inside the browser's window (the user sees it without
/// scrolling).
async fn in_viewport(browser: &Browser, css: &str) -> bool {
    let script = "const r = document.querySelector(arguments[0]).getBoundingClientRect(); \
                  return r.top >= 0 && r.bottom <= window.innerHeight;";
    browser.client.execute(script, vec![json!(css)]).await.expect("run the check").as_bool().unwrap_or(false)
}

async fn value_of(browser: &Browser, css: &str) -> String {
    browser.find(css).await.prop("value").await.unwrap().unwrap_or_default()
}

/// The event with `uid` in a feed, read back with the `icalendar` parser: its STATUS and
/// DESCRIPTION (unescaped).
fn event_in_feed(ics: &str, uid: &str) -> (String, String) {
    let unfolded = icalendar::parser::unfold(ics);
    let calendar = icalendar::parser::read_calendar(&unfolded).expect("the feed parses");
    let event = calendar
        .components
        .iter()
        .filter(|component| component.name == "VEVENT")
        .find(|component| component.find_prop("UID").is_some_and(|prop| prop.val.as_str() == uid))
        .expect("the meeting is in the feed");
    let text = |name: &str| event.find_prop(name).map(|prop| prop.val.to_string()).unwrap_or_default();
    (text("STATUS"), text("DESCRIPTION").replace("\\n", "\n").replace("\\,", ",").replace("\\;", ";"))
}

/// The `count`-th message the sink received: its subject and plain text.
async fn mail(sink: &SmtpSink, count: usize) -> (String, String) {
    let messages = sink.wait_for(count, Duration::from_secs(60)).await;
    let message = mail_parser::MessageParser::default().parse(&messages[count - 1]).expect("a MIME message");
    (message.subject().unwrap_or_default().to_owned(), message.body_text(0).expect("a text part").into_owned())
}

#[tokio::test]
async fn an_organiser_meets_a_room_clash_records_a_chairmanship_cancels_with_a_reason_and_undoes_it() {
    let sink = SmtpSink::start();
    let app = TestApp::spawn_with(|config| {
        config.smtp_url = Some(sink.url());
        config.mail_from = "OSCE Plenary <plenary@osce.example>".into();
        config.mail.poll_ms = 50;
    })
    .await;
    let worker = plenary::mail::worker::Worker::new(app.state.db.clone(), &app.state.config)
        .expect("a worker")
        .expect("SMTP is configured")
        .spawn();
    // Set-up, not under test: 2027 planned, Austria's contact invited to a PC meeting.
    service::meetings::plan(&app.state.db, 2027, &Principal::command_line()).await.unwrap();
    let token = app.organiser_token().await;
    let pc = app.get_json("/api/v1/meetings?body=PC&from=2027-03-01&to=2027-03-31", 200).await[0].clone();
    let fsc = app.get_json("/api/v1/meetings?body=FSC&from=2027-03-01&to=2027-03-31", 200).await[0].clone();
    let contact = json!({"name": "Anna Huber", "email": "anna.huber@bmeia.example.at", "role": "contact_point", "language": "en"});
    expect_json(app.send(Method::POST, "/api/v1/delegations/AT/contacts", &token, contact).await, 201).await;
    let invitations = format!("/api/v1/meetings/{}/invitations", pc["id"]);
    expect_json(app.send(Method::POST, &invitations, &token, json!({})).await, 200).await;
    let (subject, _) = mail(&sink, 1).await;
    assert!(subject.starts_with("Invitation"), "{subject}");

    let browser = Browser::start(&app.base_url).await;
    browser.log_in("admin", ADMIN_PASSWORD).await;

    // Move the PC onto the FSC's morning in the Neuer Saal, renaming it on the way.
    browser.goto(&format!("/meetings/{}", pc["id"])).await;
    browser.wait_for_text("#meeting-status", "Scheduled").await;
    let start = &fsc["start"].as_str().unwrap()[..16];
    let end = &fsc["end"].as_str().unwrap()[..16];
    browser.fill("#edit-title", "Permanent Council (moved)").await;
    browser.set_value("#edit-start", start).await;
    browser.set_value("#edit-end", end).await;
    browser.click("form[action$='/edit#change'] button[type=submit]").await;
    let clash = browser.wait_for_text("#room-error", "is taken by").await;
    let date = chrono::NaiveDate::parse_from_str(&start[..10], "%Y-%m-%d").unwrap().format("%-d %B %Y").to_string();
    assert_eq!(clash, format!("Neuer Saal is taken by the Forum for Security Co-operation on {date}, 10:00–13:00."));
    assert!(in_viewport(&browser, "#room-error").await, "the clash is shown where the organiser is");
    let link = browser.find("#room-error a#clashing-meeting").await;
    assert_eq!(link.attr("href").await.unwrap().as_deref(), Some(format!("/meetings/{}", fsc["id"]).as_str()));
    assert_eq!(value_of(&browser, "#edit-title").await, "Permanent Council (moved)", "the input is kept");
    assert_eq!(value_of(&browser, "#edit-start").await, start);
    browser.screenshot("meeting-room-clash-linked").await;

    // Record the 2027 and 2028 Chairmanships on the console.
    browser.goto("/organiser").await;
    browser.set_value("#chair-year", "2027").await;
    browser.select("#chair-state", "CY").await;
    browser.click("form[action^='/organiser/chairmanships'] button[type=submit]").await;
    browser.wait_for_text("#chairmanship .flash-ok", "Cyprus is recorded as the Chairmanship of 2027").await;
    assert!(in_viewport(&browser, "#chairmanship .flash-ok").await, "the message is where the form is");
    browser.set_value("#chair-year", "2028").await;
    browser.select("#chair-state", "AT").await;
    browser.click("form[action^='/organiser/chairmanships'] button[type=submit]").await;
    browser.wait_for_text("#chairmanship .flash-ok", "Austria is recorded as the Chairmanship of 2028").await;
    browser.wait_for_text("ul.chairmanships", "2027: Cyprus").await;
    browser.goto(&format!("/meetings/{}", pc["id"])).await;
    browser.wait_for_text("dl.facts", "Cyprus").await;
    let med = app.get_json("/api/v1/meetings?body=CG-MED&from=2027-01-01&to=2027-12-31", 200).await[0].clone();
    browser.goto(&format!("/meetings/{}", med["id"])).await;
    let facts = browser.wait_for_text("dl.facts", "Austria").await;
    assert!(!facts.contains("To be decided"), "{facts}");

    // Cancel the PC with a reason.
    browser.goto(&format!("/meetings/{}", pc["id"])).await;
    browser.fill("#cancel-reason", REASON).await;
    browser.client.execute("window.confirm = () => true;", vec![]).await.expect("accept the confirmation");
    browser.click("#cancel-meeting").await;
    browser.wait_for_text("#cancellation .flash-ok", "“Permanent Council” is cancelled").await;
    assert!(in_viewport(&browser, "#cancellation .flash-ok").await);
    browser.wait_for_text("#cancelled-line", REASON).await;
    browser.screenshot("meeting-cancelled-with-reason").await;

    // The feed says so, with the reason.
    let feed = expect_json(app.send(Method::POST, "/api/v1/feeds", &token, json!({"scope": "all"})).await, 201).await;
    let path = feed["url"].as_str().unwrap().split_once("/feeds/").map(|(_, token)| format!("/feeds/{token}")).unwrap();
    let ics = app.get(&path).await.text().await.unwrap();
    let (status, description) = event_in_feed(&ics, pc["uid"].as_str().unwrap());
    assert_eq!(status, "CANCELLED");
    assert!(description.starts_with(&format!("This meeting is cancelled. Reason: {REASON}")), "{description}");
    // And the mail.
    let (subject, text) = mail(&sink, 2).await;
    assert!(subject.starts_with("Cancelled: Permanent Council"), "{subject}");
    assert!(text.contains(&format!("Reason: {REASON}")), "{text}");

    // Undo it: scheduled again, and the contact is sent the update.
    browser.click("#reinstate").await;
    browser.wait_for_text("#cancellation .flash-ok", "“Permanent Council” is scheduled again").await;
    browser.wait_for_text("#meeting-status", "Scheduled").await;
    browser.wait_for_text("#history", "Cancellation undone").await;
    let (subject, _) = mail(&sink, 3).await;
    assert!(subject.starts_with("Updated: Permanent Council"), "{subject}");
    let ics = app.get(&path).await.text().await.unwrap();
    let (status, _) = event_in_feed(&ics, pc["uid"].as_str().unwrap());
    assert_eq!(status, "CONFIRMED");
    let reinstated: Value = app.get_json(&format!("/api/v1/meetings/{}", pc["id"]), 200).await;
    assert_eq!(reinstated["sequence"], 2);

    browser.close().await;
    worker.stop().await;
    app.stop().await;
}
