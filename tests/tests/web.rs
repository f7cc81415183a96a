//! The web pages in a real browser (headless Chromium over WebDriver): what an organiser, a
//! delegation and a visitor see and can do. Assertions are on what the page shows.
//!
//! `PLENARY_SCREENSHOTS=1` also saves screenshots of the main pages to `docs/screenshots/`.

use plenary::{auth::Principal, service};
use serde_json::Value;
use tests::{TestApp, browser::Browser, smtp};

const ADMIN_PASSWORD: &str = "test-admin-password";

/// Plans `year` as the command line does (setup, not under test here).
async fn plan(app: &TestApp, year: i32) {
    service::meetings::plan(&app.state.db, year, &Principal::command_line()).await.expect("plan");
}

fn this_year() -> i32 {
    chrono::Datelike::year(&chrono::Utc::now())
}

/// The local date-time of an RFC 3339 string, as a `datetime-local` input wants it.
fn local_input(rfc3339: &Value) -> String {
    rfc3339.as_str().expect("a time")[..16].to_owned()
}

#[tokio::test]
async fn an_organiser_plans_a_year_sees_it_and_moves_a_meeting_onto_a_taken_room() {
    let app = TestApp::spawn().await;
    let browser = Browser::start(&app.base_url).await;

    // Not logged in: the console sends us to the login page, and back afterwards.
    browser.goto("/organiser").await;
    browser.wait_for_path("/login?next=%2Forganiser").await;
    browser.screenshot("login").await;
    browser.fill("#username", "admin").await;
    browser.fill("#password", ADMIN_PASSWORD).await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text("main h1", "Organiser console").await;
    browser.wait_for_text(".flash-ok", "Welcome, Organiser.").await;

    // Plan a year through the form.
    browser.fill("#plan-year", "2027").await;
    browser.click("form[action='/organiser/plan'] button[type=submit]").await;
    let result = browser.wait_for_text(".plan-result", "Planned 2027:").await;
    assert!(result.contains("meetings added"), "{result}");
    assert!(!result.contains(" 0 meetings added"), "the first plan adds meetings: {result}");
    browser.click(".plan-result + details summary").await;
    browser.wait_for_text("ul.skipped", "PC").await;

    // The calendar shows them, coloured by body, with a legend; the agenda too.
    browser.goto("/?month=2027-03").await;
    browser.wait_for_text("main h1", "March 2027").await;
    let pc = browser.find_all("table.month li.meeting.b-pc").await;
    let fsc = browser.find_all("table.month li.meeting.b-fsc").await;
    assert!(pc.len() >= 3 && fsc.len() >= 3, "PC {} and FSC {} meetings in March 2027", pc.len(), fsc.len());
    browser.wait_for_text(".legend", "Permanent Council").await;
    browser.screenshot("calendar").await;
    browser.click("a[rel=next]").await;
    browser.wait_for_text("main h1", "April 2027").await;
    // The arrow keys move between months too (a small script; the links work without it).
    browser.find("body").await.send_keys("\u{E012}").await.expect("press ArrowLeft");
    browser.wait_for_text("main h1", "March 2027").await;
    browser.goto("/?month=2027-03&view=agenda&body=FSC").await;
    let agenda = browser.wait_for_text(".agenda", "FSC").await;
    assert!(!agenda.contains("Permanent Council"), "the agenda is filtered to the FSC: {agenda}");

    // Move a PC meeting onto the Wednesday slot of the FSC, in the same room.
    let pcs = app.get_json("/api/v1/meetings?body=PC&from=2027-03-01&to=2027-03-31", 200).await;
    let fscs = app.get_json("/api/v1/meetings?body=FSC&from=2027-03-01&to=2027-03-31", 200).await;
    let (pc, fsc) = (&pcs[0], &fscs[1]);
    assert_eq!(pc["room"], fsc["room"], "PC and FSC share the Neuer Saal");
    browser.goto(&format!("/meetings/{}", pc["id"])).await;
    browser.wait_for_text("main h1", "Permanent Council").await;
    browser.wait_for_text("#invited-title + p", "delegations").await;
    // The browser runs in UTC, so the viewer's own time is added to Vienna's.
    browser.wait_for_text("dl.facts time .yours", "your time").await;
    browser.screenshot("meeting").await;
    browser.set_value("#edit-start", &local_input(&fsc["start"])).await;
    browser.set_value("#edit-end", &local_input(&fsc["end"])).await;
    browser.click("form[action*='/edit'] button[type=submit]").await;
    let clash = browser.wait_for_text("#room-error", "is taken by").await;
    assert!(clash.contains("Forum for Security Co-operation"), "the message names the other meeting: {clash}");
    browser.wait_for_text("#edit-errors", "not saved").await;
    browser.wait_for_text("label.force", "Book anyway").await;
    browser.client.execute("document.getElementById('change-title').scrollIntoView();", vec![]).await.unwrap();
    browser.screenshot("meeting-room-clash").await;

    // Book anyway: saved, and the warning stays in view.
    browser.click("label.force input[name=force]").await;
    browser.click("form[action*='/edit'] button[type=submit]").await;
    let warning = browser.wait_for_text(".flash-warn", "is saved. Worth a look").await;
    assert!(warning.contains("is taken by"), "{warning}");
    let moved = app.get_json(&format!("/api/v1/meetings/{}", pc["id"]), 200).await;
    assert_eq!(moved["start"], fsc["start"]);

    // Cancel it: struck through on its page.
    browser.client.execute("window.confirm = () => true;", vec![]).await.expect("accept the confirmation");
    browser.click(".cancel-form button").await;
    browser.wait_for_text(".flash-ok", "is cancelled").await;
    browser.wait_for_text(".status-line", "Cancelled").await;
    browser.goto("/?month=2027-03").await;
    let struck = browser.find("table.month li.meeting.b-pc.cancelled a").await;
    assert_eq!(struck.css_value("text-decoration-line").await.unwrap(), "line-through");
    browser.goto(&format!("/meetings/{}", pc["id"])).await;
    browser.screenshot("organiser-after-cancel").await;

    browser.goto("/organiser").await;
    browser.wait_for_text("#create-title", "Create a one-off meeting").await;
    browser.screenshot("organiser").await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_password_is_refused_without_saying_which_part_was_wrong() {
    let app = TestApp::spawn().await;
    let browser = Browser::start(&app.base_url).await;
    browser.log_in_expecting_failure("admin", "not-the-password").await;
    let message = browser.wait_for_text("#login-error", "do not match").await;
    assert!(!message.to_lowercase().contains("password is wrong"), "{message}");
    browser.log_in_expecting_failure("nobody@example.org", ADMIN_PASSWORD).await;
    let unknown = browser.wait_for_text("#login-error", "do not match").await;
    assert_eq!(message, unknown, "an unknown user reads the same as a wrong password");
    // The username stays filled in; the password does not.
    assert_eq!(browser.find("#username").await.prop("value").await.unwrap().as_deref(), Some("nobody@example.org"));
    assert_eq!(browser.find("#password").await.prop("value").await.unwrap().as_deref(), Some(""));
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_contact_point_gets_a_link_sets_a_password_logs_in_and_is_disabled() {
    let app = TestApp::spawn().await;
    plan(&app, this_year()).await;
    plan(&app, this_year() + 1).await;
    let browser = Browser::start(&app.base_url).await;
    browser.log_in("admin", ADMIN_PASSWORD).await;

    browser.goto("/organiser/accounts").await;
    browser.fill("#acct-username", "Contact.Point@bmeia.gv.at").await;
    browser.fill("#acct-name", "Maria Muster").await;
    browser.select("#acct-state", "AT").await;
    browser.click("form[action='/organiser/accounts'] button[type=submit]").await;
    browser.wait_for_text(".new-link", "Give this link to contact.point@bmeia.gv.at").await;
    let link = browser.find("#set-password-link").await.attr("href").await.unwrap().expect("a link");
    assert!(link.starts_with(&format!("{}/set-password/", app.base_url)), "{link}");
    browser.wait_for_text("table.list", "Waiting for a password").await;

    // The same account twice is refused next to the field.
    browser.fill("#acct-username", "contact.point@bmeia.gv.at").await;
    browser.fill("#acct-name", "Someone Else").await;
    browser.select("#acct-state", "AT").await;
    browser.click("form[action='/organiser/accounts'] button[type=submit]").await;
    browser.wait_for_text("#username-error", "already an account").await;

    browser.click("header form[action='/logout'] button").await;
    browser.wait_for_text(".flash-ok", "logged out").await;

    // The contact point follows the link.
    browser.client.goto(&link).await.expect("open the link");
    browser.wait_for_text("main h1", "Set your password").await;
    browser.fill("#password", "short").await;
    browser.fill("#confirm", "short").await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text("#password-error", "at least 12 characters").await;
    browser.fill("#password", "a long and private passphrase").await;
    browser.fill("#confirm", "a long and private passphrase").await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text(".flash-ok", "Your password is set").await;

    // Logging in lands on the delegation's page.
    browser.fill("#username", "contact.point@bmeia.gv.at").await;
    browser.fill("#password", "a long and private passphrase").await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_path("/delegation").await;
    browser.wait_for_text("main h1", "Austria").await;
    browser.wait_for_text(".lead", "Participating State").await;
    let upcoming = browser.wait_for_text("#upcoming-title", "invited").await;
    assert!(!upcoming.is_empty());
    assert!(!browser.find_all("main li.meeting").await.is_empty(), "{}", browser.page_text().await);
    let nav = browser.find("#main-nav").await.text().await.unwrap();
    assert!(!nav.contains("Organiser"), "a delegation is not offered the organiser console: {nav}");
    browser.screenshot("delegation").await;

    // The link works once.
    browser.client.goto(&link).await.expect("open the link again");
    browser.wait_for_text("main h1", "no longer works").await;

    // Disabled: the next page asks to log in again.
    let user = plenary::store::accounts::find_by_username(&app.state.db, "contact.point@bmeia.gv.at")
        .await
        .unwrap()
        .expect("the account");
    plenary::store::accounts::set_disabled(&app.state.db, user.id, true).await.unwrap();
    browser.goto("/delegation").await;
    browser.wait_for_path("/login").await;
    browser.fill("#username", "contact.point@bmeia.gv.at").await;
    browser.fill("#password", "a long and private passphrase").await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text("#login-error", "disabled").await;
    browser.close().await;
    app.stop().await;
}

/// Waits for the `count`-th message in `sink`, checks it is the set-password mail to `to`, and
/// returns its link.
async fn mailed_password_link(sink: &smtp::SmtpSink, count: usize, to: &str) -> String {
    let messages = sink.wait_for(count, std::time::Duration::from_secs(60)).await;
    let message = mail_parser::MessageParser::default().parse(&messages[count - 1]).expect("a MIME message");
    let address = message.to().and_then(|to| to.first()).and_then(|addr| addr.address()).unwrap_or_default();
    assert_eq!(address, to);
    assert_eq!(message.subject(), Some("Your Plenary account"));
    let text = message.body_text(0).expect("a plain text part").into_owned();
    let html = message.body_html(0).expect("an HTML part").into_owned();
    let link = text.lines().find(|line| line.contains("/set-password/")).expect("the link").trim().to_owned();
    assert!(html.contains(&link), "the HTML part has the same link: {html}");
    link
}

#[tokio::test]
async fn a_new_contact_point_is_mailed_the_link_to_set_a_password() {
    let sink = smtp::SmtpSink::start();
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
    let browser = Browser::start(&app.base_url).await;
    browser.log_in("admin", ADMIN_PASSWORD).await;
    browser.goto("/organiser/accounts").await;
    browser.fill("#acct-username", "Anna.Huber@bmeia.example").await;
    browser.fill("#acct-name", "Anna Huber").await;
    browser.select("#acct-state", "AT").await;
    browser.click("form[action='/organiser/accounts'] button[type=submit]").await;
    browser.wait_for_text(".new-link", "e-mailed to anna.huber@bmeia.example").await;
    assert!(browser.find_all("#set-password-link").await.is_empty(), "a mailed link is not shown to the organiser");
    let first = mailed_password_link(&sink, 1, "anna.huber@bmeia.example").await;
    assert!(first.starts_with(&format!("{}/set-password/", app.base_url)), "{first}");

    // A new link goes by mail too, and the first one stops working.
    let user = plenary::store::accounts::find_by_username(&app.state.db, "anna.huber@bmeia.example")
        .await
        .unwrap()
        .expect("the account");
    browser.click(&format!("form[action='/organiser/accounts/{}/link'] button", user.id)).await;
    browser.wait_for_text(".new-link", "e-mailed to anna.huber@bmeia.example").await;
    let second = mailed_password_link(&sink, 2, "anna.huber@bmeia.example").await;
    assert_ne!(first, second);
    browser.click("header form[action='/logout'] button").await;
    browser.wait_for_text(".flash-ok", "logged out").await;
    browser.client.goto(&first).await.expect("open the first link");
    browser.wait_for_text("main h1", "no longer works").await;

    // The mailed link sets the password, and the contact point logs in with it.
    set_password_at(&browser, &second).await;
    browser.fill("#username", "anna.huber@bmeia.example").await;
    browser.fill("#password", "a long and private passphrase").await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_path("/delegation").await;
    browser.wait_for_text("main h1", "Austria").await;
    assert_eq!(sink.messages().len(), 2, "nothing else was mailed");
    browser.close().await;
    worker.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn pages_work_on_a_phone() {
    let app = TestApp::spawn().await;
    plan(&app, this_year()).await;
    let browser = Browser::start(&app.base_url).await;
    browser.client.set_window_size(390, 844).await.expect("phone-sized window");
    browser.goto("/").await;
    let nav = browser.find("#main-nav").await;
    assert!(nav.is_displayed().await.unwrap(), "the navigation is visible");
    let text = nav.text().await.unwrap();
    for link in ["Calendar", "Delegation", "Log in"] {
        assert!(text.contains(link), "{link} is in the navigation: {text}");
    }
    assert!(!text.contains("Organiser"), "visitors see no organiser menu: {text}");
    let width: f64 =
        browser.client.execute("return document.documentElement.scrollWidth;", vec![]).await.unwrap().as_f64().unwrap();
    assert!(width <= 400.0, "nothing overflows sideways: {width}px");
    browser.goto("/?view=month").await;
    let (_, _, cell_width, _) = browser.find("table.month td").await.rectangle().await.unwrap();
    assert!(cell_width > 40.0, "the month grid stays readable: {cell_width}px");
    browser.screenshot("phone-calendar").await;
    browser.log_in("admin", ADMIN_PASSWORD).await;
    browser.goto("/organiser").await;
    let (_, _, field_width, _) = browser.find("#new-zone").await.rectangle().await.unwrap();
    assert!(field_width <= 390.0, "form fields fit the screen: {field_width}px");
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn an_organiser_creates_a_conference_abroad_in_its_own_zone() {
    let app = TestApp::spawn().await;
    let browser = Browser::start(&app.base_url).await;
    browser.log_in("admin", ADMIN_PASSWORD).await;
    browser.goto("/organiser").await;

    // An end before the start is refused next to the end field, and the form keeps its values.
    browser.select("#new-body", "CONF-ASIA").await;
    browser.fill("#new-title", "OSCE Asian Conference 2027").await;
    browser.select("#new-country", "JP").await;
    let zone = browser.find("#new-zone").await.prop("value").await.unwrap();
    assert_eq!(zone.as_deref(), Some("Asia/Tokyo"), "choosing Japan offers Tokyo's zone");
    browser.fill("#new-city", "Tokyo").await;
    browser.select("#new-host", "JP").await;
    browser.set_value("#new-start", "2027-06-15T09:00").await;
    browser.set_value("#new-end", "2027-06-14T18:00").await;
    browser.click("form[action='/organiser/meetings'] button[type=submit]").await;
    browser.wait_for_text("#end-error", "after start").await;
    browser.wait_for_text("#create-errors", "not created").await;
    assert_eq!(browser.find("#new-city").await.prop("value").await.unwrap().as_deref(), Some("Tokyo"));

    browser.set_value("#new-end", "2027-06-16T18:00").await;
    browser.click("form[action='/organiser/meetings'] button[type=submit]").await;
    browser.wait_for_text(".flash", "is created").await;
    browser.wait_for_text("main h1", "OSCE Asian Conference 2027").await;
    let facts = browser.wait_for_text("dl.facts", "Tokyo time").await;
    assert!(facts.contains("Tuesday 15 June 2027, 09:00"), "{facts}");
    assert!(facts.contains("Japan"), "{facts}");
    let invited = browser.wait_for_text("#invited-title + p", "delegations").await;
    assert!(invited.starts_with("62 "), "57 participating States and 5 Asian Partners: {invited}");
    browser.close().await;
    app.stop().await;
}

/// A form post as a browser would send it, with its cookies.
async fn post_form(app: &TestApp, path: &str, cookies: &str, form: &[(&str, &str)]) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("{}{path}", app.base_url))
        .header("cookie", cookies)
        .form(form)
        .send()
        .await
        .expect("post")
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response.headers().get_all("set-cookie").iter().map(|value| value.to_str().unwrap().to_owned()).collect()
}

fn hidden_csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn sessions_use_safe_cookies_and_every_form_needs_its_csrf_token() {
    let app =
        TestApp::spawn_with(|config| config.public_url = Some("https://plenary.example.org".parse().unwrap())).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let login = client.get(format!("{}/login", app.base_url)).send().await.unwrap();
    let visitor_cookie = set_cookies(&login).into_iter().find(|c| c.starts_with("plenary_csrf=")).expect("csrf cookie");
    let visitor_csrf = visitor_cookie.split(';').next().unwrap().to_owned();
    let csrf = hidden_csrf(&login.text().await.unwrap());

    // Without the token, or with another one, the login form is refused.
    let forged = post_form(&app, "/login", &visitor_csrf, &[("username", "admin"), ("password", ADMIN_PASSWORD)]).await;
    assert_eq!(forged.status(), 403);
    assert!(forged.text().await.unwrap().contains("This form has expired"));
    let wrong = post_form(
        &app,
        "/login",
        "plenary_csrf=someone-elses-token-0123456789abcdef",
        &[("csrf", &csrf), ("username", "admin"), ("password", ADMIN_PASSWORD)],
    )
    .await;
    assert_eq!(wrong.status(), 403);

    let ok = post_form(
        &app,
        "/login",
        &visitor_csrf,
        &[("csrf", &csrf), ("username", "admin"), ("password", ADMIN_PASSWORD)],
    )
    .await;
    assert_eq!(ok.status(), 303);
    let session = set_cookies(&ok).into_iter().find(|c| c.starts_with("plenary_session=")).expect("session cookie");
    for flag in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(session.contains(flag), "{flag} in {session}");
    }
    let session_cookie = session.split(';').next().unwrap().to_owned();

    // Logged in: the session's own token is needed, the visitor's no longer counts.
    let console =
        app.request(reqwest::Method::GET, "/organiser").header("cookie", &session_cookie).send().await.unwrap();
    assert_eq!(console.status(), 200);
    let session_csrf = hidden_csrf(&console.text().await.unwrap());
    let refused = post_form(&app, "/organiser/plan", &session_cookie, &[("csrf", &csrf), ("year", "2027")]).await;
    assert_eq!(refused.status(), 403);
    let planned =
        post_form(&app, "/organiser/plan", &session_cookie, &[("csrf", &session_csrf), ("year", "2027")]).await;
    assert_eq!(planned.status(), 200);
    assert!(planned.text().await.unwrap().contains("Planned 2027:"));

    // Logging out ends the session on the server, not only in the browser.
    let out = post_form(&app, "/logout", &session_cookie, &[("csrf", &session_csrf)]).await;
    assert_eq!(out.status(), 303);
    let after =
        client.get(format!("{}/organiser", app.base_url)).header("cookie", &session_cookie).send().await.unwrap();
    assert_eq!(after.status(), 303, "the old cookie no longer logs anyone in");
    assert_eq!(after.headers()["location"], "/login?next=%2Forganiser");

    // Static files are cached and revalidated.
    let css = app.get("/static/plenary.css").await;
    assert_eq!(css.headers()["cache-control"], "public, max-age=86400");
    let etag = css.headers()["etag"].to_str().unwrap().to_owned();
    let again =
        app.request(reqwest::Method::GET, "/static/plenary.css").header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);

    // The .ics download is one published event.
    let pc = app.get_json("/api/v1/meetings?body=PC&from=2027-03-01&to=2027-03-31", 200).await;
    let ics = app.get(&format!("/meetings/{}.ics", pc[0]["id"])).await;
    assert_eq!(ics.status(), 200);
    assert!(ics.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let text = ics.text().await.unwrap();
    assert!(text.contains("METHOD:PUBLISH") && text.matches("BEGIN:VEVENT").count() == 1, "{text}");
    assert!(text.contains("https://plenary.example.org/meetings/"), "{text}");
    // The same event as in the feeds, with where delegations register.
    let registration = format!("Register attendees: https://plenary.example.org/meetings/{}/registration", pc[0]["id"]);
    assert!(text.replace("\r\n ", "").contains(&registration), "{text}");
    app.stop().await;
}

#[tokio::test]
async fn a_delegation_registers_its_attendees_up_to_the_quota_and_finds_its_head_on_the_seating_plan() {
    let app = TestApp::spawn().await;
    plan(&app, this_year()).await;
    plan(&app, this_year() + 1).await;
    // A Permanent Council meeting well before its deadline.
    let now = chrono::Utc::now();
    let (from, to) =
        ((now + chrono::TimeDelta::days(7)).date_naive(), (now + chrono::TimeDelta::days(100)).date_naive());
    let pcs = app.get_json(&format!("/api/v1/meetings?body=PC&from={from}&to={to}"), 200).await;
    let id = pcs[0]["id"].as_i64().expect("a PC meeting in the next months");

    let browser = delegation_browser(&app, "AT", "delegation.at@example.org").await;
    // From the overview's month to the meeting's registration page.
    let month = &pcs[0]["start"].as_str().expect("a start")[..7];
    browser.goto(&format!("/delegation?month={month}")).await;
    let listed = browser.wait_for_text(&format!("#meeting-{id}"), "0 registered").await;
    assert!(listed.contains("Vienna time"), "the deadline is in the meeting's local time: {listed}");
    browser.click(&format!("#meeting-{id} a.button")).await;
    browser.wait_for_path(&format!("/meetings/{id}/registration")).await;
    let quota = browser.wait_for_text("#quota", "2 of 2 left").await;
    assert!(quota.contains("Austria"), "{quota}");
    for (name, function, seat) in [
        ("Anna Huber", "Head of delegation", "main"),
        ("Bernd Gruber", "Adviser", "behind"),
        ("Clara Wagner", "Adviser", "behind"),
        ("Dora Mayer", "Adviser", "behind"),
    ] {
        browser.fill("#name", name).await;
        browser.fill("#function", function).await;
        browser.fill("#email", &format!("{}@example.org", name.replace(' ', "."))).await;
        browser.select("#seat", seat).await;
        browser.click("form.register-form button[type=submit]").await;
        if name == "Dora Mayer" {
            let refusal = browser.wait_for_text("#register-errors", "its 2 seats behind").await;
            assert!(
                refusal.contains("Bernd Gruber") && refusal.contains("Clara Wagner"),
                "names the holders: {refusal}"
            );
            // What was typed stays in the form.
            let kept = browser.find("#name").await.prop("value").await.unwrap();
            assert_eq!(kept.as_deref(), Some("Dora Mayer"));
        } else {
            browser.wait_for_text("#register-notice", &format!("{name} is registered for")).await;
        }
    }
    let table = browser.wait_for_text("table.registered", "Clara Wagner").await;
    assert!(table.contains("Anna Huber") && table.contains("At the table (head of delegation)"), "{table}");
    assert!(!table.contains("Dora Mayer"), "{table}");
    browser.wait_for_text("#quota", "0 of 2 left").await;
    browser.screenshot("delegation-registrations").await;

    // The meeting page counts them and shows the plan, with the head of delegation at the table.
    browser.goto(&format!("/meetings/{id}")).await;
    browser.wait_for_text("#registrations-title + table", "Behind (adviser)").await;
    let mut counts = Vec::new();
    for cell in browser.find_all("#registrations-title + table tbody td").await {
        counts.push(cell.text().await.unwrap());
    }
    assert_eq!(counts, ["1", "0", "2", "0"], "registered and waiting, at the table and behind");
    let src = browser.find("#seating-plan").await.attr("src").await.unwrap().expect("a picture");
    let loaded = browser
        .client
        .execute("return document.getElementById('seating-plan').complete && document.getElementById('seating-plan').naturalWidth > 0;", vec![])
        .await
        .unwrap();
    let mut loaded = loaded.as_bool() == Some(true);
    for _ in 0..50 {
        if loaded {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let again = browser
            .client
            .execute("return document.getElementById('seating-plan').naturalWidth > 0;", vec![])
            .await
            .unwrap();
        loaded = again.as_bool() == Some(true);
    }
    assert!(loaded, "the seating plan picture loads without a token");
    // The picture names people to logged-in visitors (the browser sends its session cookie),
    // never to anonymous ones (issue 12, item 4).
    let session = browser.client.get_named_cookie("plenary_session").await.expect("a session");
    let svg = app
        .request(reqwest::Method::GET, &src)
        .header("cookie", format!("plenary_session={}", session.value()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(svg.contains("Anna Huber"), "the head of delegation is on the plan");
    assert!(!app.get(&src).await.text().await.unwrap().contains("Anna Huber"), "but not for anonymous visitors");

    // The attendance list as CSV through the session (a link cannot send a bearer token), linked
    // from the meeting page: the delegation's own people to it, everyone to an organiser.
    browser.goto(&format!("/meetings/{id}")).await;
    let csv_path = browser.find("#lists #attendance-csv").await.attr("href").await.unwrap().expect("a link");
    assert_eq!(csv_path, format!("/meetings/{id}/attendance.csv"));
    let csv_with = |cookie: String| app.request(reqwest::Method::GET, &csv_path).header("cookie", cookie).send();
    let cookie = browser.client.get_named_cookie("plenary_session").await.expect("a session");
    let own = csv_with(format!("plenary_session={}", cookie.value())).await.unwrap().text().await.unwrap();
    assert!(own.contains("Austria,Anna Huber,"), "{own}");
    browser.click("header form[action='/logout'] button").await;
    browser.wait_for_text(".flash-ok", "logged out").await;
    browser.log_in("admin", ADMIN_PASSWORD).await;
    let cookie = browser.client.get_named_cookie("plenary_session").await.expect("a session");
    let csv = csv_with(format!("plenary_session={}", cookie.value())).await.unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("\u{feff}State,Name,"), "{csv}");
    assert!(csv.contains("Anna Huber") && csv.contains("Clara Wagner") && !csv.contains("Dora Mayer"), "{csv}");

    // The organiser redraws the lot (audited by the API's own function).
    browser.goto("/organiser").await;
    browser.client.execute("window.confirm = () => true;", vec![]).await.expect("accept the confirmation");
    browser.fill("#lot-year", "2027").await;
    browser.click("form[action^='/organiser/seating-lot'] button[type=submit]").await;
    browser
        .wait_for_text(
            "#lot .flash-ok",
            "The lot of the Permanent Council for 2027 is drawn again: seating starts with",
        )
        .await;
    // The body is chosen from a list, by its name.
    browser.client.execute("window.confirm = () => true;", vec![]).await.expect("accept the confirmation");
    browser.select("#lot-body", "FSC").await;
    browser.click("form[action^='/organiser/seating-lot'] button[type=submit]").await;
    browser.wait_for_text("#lot .flash-ok", "The lot of the Forum for Security Co-operation for 2027").await;
    browser.close().await;
    app.stop().await;
}

/// A delegation user for `iso2` with a password, logged in in a new browser.
async fn delegation_browser(app: &TestApp, iso2: &str, username: &str) -> Browser {
    let user = plenary::store::accounts::create_user(
        &app.state.db,
        username,
        "Maria Muster",
        plenary::auth::Role::Delegation,
        Some(iso2),
    )
    .await
    .unwrap();
    let secret =
        plenary::store::accounts::create_password_link(&app.state.db, user.id, chrono::Utc::now()).await.unwrap();
    let browser = Browser::start(&app.base_url).await;
    set_password_at(&browser, &format!("{}/set-password/{secret}", app.base_url)).await;
    browser.log_in(username, "a long and private passphrase").await;
    browser
}

/// Follows a set-password `link` and sets "a long and private passphrase".
async fn set_password_at(browser: &Browser, link: &str) {
    browser.client.goto(link).await.expect("open the link");
    browser.wait_for_text("main h1", "Set your password").await;
    browser.fill("#password", "a long and private passphrase").await;
    browser.fill("#confirm", "a long and private passphrase").await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text(".flash-ok", "Your password is set").await;
}

#[tokio::test]
async fn a_delegation_subscribes_from_its_page_copies_the_link_and_revokes_it() {
    let app = TestApp::spawn().await;
    plan(&app, this_year()).await;
    plan(&app, this_year() + 1).await;
    let browser = delegation_browser(&app, "AT", "feeds.at@example.org").await;

    browser.goto("/delegation").await;
    browser.wait_for_text("#subscriptions", "No subscriptions yet").await;
    browser.click("#subscribe-delegation").await;
    browser.wait_for_text("#new-feed", "Your new subscription: Meetings Austria is invited to").await;
    browser.wait_for_text("#new-feed", "shown only this once").await;
    let url = browser.find("#feed-url").await.prop("value").await.unwrap().expect("the link");
    assert!(url.starts_with(&format!("{}/feeds/plf_", app.base_url)) && url.ends_with(".ics"), "{url}");
    let webcal = browser.find("#webcal-link").await.attr("href").await.unwrap().expect("a webcal link");
    assert_eq!(webcal, url.replacen("http://", "webcal://", 1));
    browser.screenshot("subscription").await;

    // The copy button copies the field (it is selected for the clipboard) and says so.
    browser.click("button[data-copy='feed-url']").await;
    browser.wait_for_text("button[data-copy='feed-url']", "Copied").await;
    let selected = browser
        .client
        .execute(
            "var f = document.getElementById('feed-url'); return document.activeElement === f && f.selectionStart === 0 && f.selectionEnd === f.value.length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(selected.as_bool(), Some(true), "the whole link is selected for copying");

    // The link is a calendar of the delegation's meetings.
    let path = |url: &str| url.strip_prefix(&app.base_url).expect("a link to this service").to_owned();
    let feed = app.get(&path(&url)).await;
    assert_eq!(feed.status(), 200);
    assert!(feed.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let text = feed.text().await.unwrap();
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n") && text.contains("BEGIN:VEVENT"), "{text:.300}");
    assert!(text.contains("X-WR-CALNAME:") && text.contains("Austria"), "{text:.600}");

    // Listed on the delegation page, fetched once, and revoked there.
    browser.goto("/delegation").await;
    let listed = browser.wait_for_text("#subscriptions table.feeds", "Meetings Austria is invited to").await;
    assert!(!listed.contains("Not yet"), "the fetch is recorded: {listed}");
    browser.client.execute("window.confirm = () => true;", vec![]).await.expect("accept the confirmation");
    browser.click("#subscriptions table.feeds button[type=submit]").await;
    browser.wait_for_text(".flash-ok", "is revoked").await;
    browser.wait_for_text("#subscriptions table.feeds", "Revoked").await;
    assert_eq!(app.get(&path(&url)).await.status(), 404, "a revoked link serves nothing");

    // A body's feed without the body is refused next to the field.
    browser.goto("/subscriptions").await;
    browser.click("input[name=scope][value=body]").await;
    browser.click("form[action='/subscriptions'] button[type=submit]").await;
    browser.wait_for_text("#body-error", "A body feed needs the body's code").await;

    // The meeting page offers its body's feed; a visitor is asked to log in first.
    let now = chrono::Utc::now().date_naive();
    let pcs = app.get_json(&format!("/api/v1/meetings?body=PC&from={now}"), 200).await;
    let id = pcs[0]["id"].as_i64().expect("a PC meeting ahead");
    browser.goto(&format!("/meetings/{id}")).await;
    browser.click("#subscribe-body").await;
    browser.wait_for_text("#new-feed", "Permanent Council meetings").await;
    let body_url = browser.find("#feed-url").await.prop("value").await.unwrap().expect("the link");
    assert_eq!(app.get(&path(&body_url)).await.status(), 200);
    browser.click("header form[action='/logout'] button").await;
    // Wait for the logout to land, or its redirect may replace the next page.
    browser.wait_for_text(".flash-ok", "logged out").await;
    browser.goto(&format!("/meetings/{id}")).await;
    browser.wait_for_text("#subscribe-title + p", "Log in").await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_delegation_manages_its_contacts_with_errors_next_to_the_field() {
    let app = TestApp::spawn().await;
    let browser = delegation_browser(&app, "FR", "contacts.fr@example.org").await;
    browser.goto("/delegation").await;
    browser.wait_for_text("#contacts", "No contacts yet").await;

    browser.fill("#contact-name", "Jeanne Martin").await;
    browser.fill("#contact-email", "not an address").await;
    browser.select("#contact-language", "fr").await;
    browser.click("form.contact-form button[type=submit]").await;
    browser.wait_for_text("#contact-email-error", "is not an e-mail address").await;
    let kept = browser.find("#contact-name").await.prop("value").await.unwrap();
    assert_eq!(kept.as_deref(), Some("Jeanne Martin"), "what was typed stays");

    browser.fill("#contact-email", "jeanne.martin@diplomatie.gouv.fr").await;
    browser.click("form.contact-form button[type=submit]").await;
    browser.wait_for_text(".flash-ok", "Jeanne Martin (jeanne.martin@diplomatie.gouv.fr) is added").await;
    let table = browser.wait_for_text("#contacts table.contacts", "Contact point").await;
    assert!(table.contains("Français") && table.contains("Receives them"), "{table}");

    // The same address twice is refused in words.
    browser.fill("#contact-name", "Jeanne M.").await;
    browser.fill("#contact-email", "Jeanne.Martin@diplomatie.gouv.fr").await;
    browser.click("form.contact-form button[type=submit]").await;
    browser.wait_for_text("#contact-errors", "already has a contact with the address").await;

    // The API sees what the page did.
    let token = app.delegation_token("FR").await;
    let contacts = app
        .request(reqwest::Method::GET, "/api/v1/delegations/FR/contacts")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(contacts.as_array().map(Vec::len), Some(1), "{contacts}");
    assert_eq!(contacts[0]["language"], "fr");

    browser.client.execute("window.confirm = () => true;", vec![]).await.expect("accept the confirmation");
    browser.click("#contacts table.contacts button[type=submit]").await;
    browser.wait_for_text(".flash-ok", "Jeanne Martin is removed").await;
    browser.wait_for_text("#contacts", "No contacts yet").await;

    // Sending invitations is for organisers.
    browser.goto("/organiser/meetings/1/invitations").await;
    browser.wait_for_text("main", "This page is for organisers").await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_address_is_a_page_for_browsers_and_json_for_programs() {
    let app = TestApp::spawn().await;
    let page = app.request(reqwest::Method::GET, "/no/such/page").header("accept", "text/html").send().await.unwrap();
    assert_eq!(page.status(), 404);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.text().await.unwrap().contains("There is no page at /no/such/page."));
    let json = app.get("/no/such/page").await;
    assert_eq!(json.status(), 404);
    assert!(json.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let api = app.request(reqwest::Method::GET, "/api/v1/nothing").header("accept", "text/html").send().await.unwrap();
    assert!(api.headers()["content-type"].to_str().unwrap().starts_with("application/json"), "the API answers JSON");
    app.stop().await;
}

#[tokio::test]
async fn an_organiser_previews_sends_invitations_and_watches_them_arrive() {
    // The mail server is down at first, so the page shows the messages waiting and then,
    // without a reload, delivered once it is up.
    let port = smtp::free_port();
    let app = TestApp::spawn_with(|config| {
        config.smtp_url = Some(smtp::smtp_url(port));
        config.mail_from = "OSCE Plenary <plenary@osce.example>".into();
        config.mail.retry_base_ms = 50;
        config.mail.poll_ms = 50;
        config.mail.send_timeout_ms = 5_000;
    })
    .await;
    let worker = plenary::mail::worker::Worker::new(app.state.db.clone(), &app.state.config)
        .expect("worker")
        .map(plenary::mail::worker::Worker::spawn)
        .expect("a worker, with SMTP configured");
    plan(&app, this_year()).await;
    plan(&app, this_year() + 1).await;
    let now = chrono::Utc::now();
    let (from, to) =
        ((now + chrono::TimeDelta::days(7)).date_naive(), (now + chrono::TimeDelta::days(60)).date_naive());
    let pcs = app.get_json(&format!("/api/v1/meetings?body=PC&from={from}&to={to}"), 200).await;
    let id = pcs[0]["id"].as_i64().expect("a PC meeting in the next weeks");
    let token = app.organiser_token().await;
    for (iso2, name, email, role, language) in [
        ("AT", "Anna Huber", "anna.huber@bmeia.gv.at", "contact_point", "en"),
        ("FR", "Jeanne Martin", "jeanne.martin@diplomatie.gouv.fr", "contact_point", "fr"),
        ("DE", "Dieter Schmidt", "dieter.schmidt@auswaertiges-amt.de", "adviser", "en"),
    ] {
        let response = app
            .request(reqwest::Method::POST, &format!("/api/v1/delegations/{iso2}/contacts"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"name": name, "email": email, "role": role, "language": language}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }

    let browser = Browser::start(&app.base_url).await;
    browser.log_in("admin", ADMIN_PASSWORD).await;
    browser.goto(&format!("/meetings/{id}")).await;
    browser.click("#invitations-link").await;
    browser.wait_for_text("main h1", "Invitations").await;
    // The preview: the contact points, not the adviser, and the text in each one's language.
    let recipients = browser.wait_for_text("table.recipients", "Anna Huber").await;
    assert!(recipients.contains("Jeanne Martin") && !recipients.contains("Dieter Schmidt"), "{recipients}");
    browser.wait_for_text("#preview-title ~ details summary", "In English").await;
    let french = browser.find_all("#preview-title ~ details summary").await;
    assert_eq!(french.len(), 2, "one sample per language");
    browser.wait_for_text("#delivery-status", "Nothing sent for this meeting yet").await;
    browser.screenshot("invitations-preview").await;

    browser.click("#send-invitations").await;
    browser.wait_for_text(".flash-ok", "2 invitations are on their way").await;
    browser.client.execute("window.plenaryNoReload = true;", vec![]).await.unwrap();
    let waiting = browser.wait_for_text("#delivery-counts", "0 sent").await;
    assert!(waiting.contains("2 queued") || waiting.contains("sending"), "{waiting}");

    let sink = smtp::SmtpSink::start_with(port, None);
    browser.wait_for_text("#delivery-counts", "2 sent").await;
    let same_page = browser.client.execute("return window.plenaryNoReload === true;", vec![]).await.unwrap();
    assert_eq!(same_page.as_bool(), Some(true), "the status followed without a reload");
    browser.wait_for_text("table.deliveries", "jeanne.martin@diplomatie.gouv.fr").await;
    browser.screenshot("invitations-sent").await;
    let mut delivered: Vec<String> = sink
        .wait_for(2, std::time::Duration::from_secs(60))
        .await
        .iter()
        .map(|raw| {
            mail_parser::MessageParser::default()
                .parse(raw)
                .and_then(|message| {
                    message.to().and_then(|to| to.first()).and_then(|to| to.address()).map(str::to_owned)
                })
                .expect("a recipient")
        })
        .collect();
    delivered.sort();
    assert_eq!(delivered, ["anna.huber@bmeia.gv.at", "jeanne.martin@diplomatie.gouv.fr"]);

    // Sending again sends nothing twice; the button says there is nobody left.
    browser.goto(&format!("/organiser/meetings/{id}/invitations")).await;
    let button = browser.wait_for_text("#send-invitations", "the 0 not yet invited").await;
    assert!(!button.is_empty());
    assert_eq!(browser.find("#send-invitations").await.attr("disabled").await.unwrap().as_deref(), Some("true"));
    browser.close().await;
    worker.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn repeated_wrong_passwords_make_the_username_wait_even_with_the_right_one() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let login = client.get(format!("{}/login", app.base_url)).send().await.unwrap();
    let cookie = set_cookies(&login).into_iter().find(|c| c.starts_with("plenary_csrf=")).expect("csrf cookie");
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let csrf = hidden_csrf(&login.text().await.unwrap());
    let attempt = |password: &'static str| {
        let (cookie, csrf) = (cookie.clone(), csrf.clone());
        let app = &app;
        async move {
            post_form(app, "/login", &cookie, &[("csrf", &csrf), ("username", "Admin"), ("password", password)]).await
        }
    };
    for _ in 0..10 {
        assert_eq!(attempt("not the password").await.status(), 401);
    }
    let refused = attempt(ADMIN_PASSWORD).await;
    assert_eq!(refused.status(), 429);
    let page = refused.text().await.unwrap();
    assert!(page.contains("Too many failed attempts for this username. Wait 15 minutes"), "{page}");
    // Unknown usernames are counted the same way, so the refusal does not tell which exist.
    let mut statuses = Vec::new();
    for _ in 0..11 {
        let response =
            post_form(&app, "/login", &cookie, &[("csrf", &csrf), ("username", "nobody"), ("password", "x")]).await;
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 429]);
    app.stop().await;
}
