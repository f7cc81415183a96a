//! The web pages in a real browser (headless Chromium over WebDriver): what an organiser, a
//! delegation and a visitor see and can do. Assertions are on what the page shows.
//!
//! `PLENARY_SCREENSHOTS=1` also saves screenshots of the main pages to `docs/screenshots/`.

use plenary::{auth::Principal, http::meetings::plan_and_store};
use serde_json::Value;
use tests::{TestApp, browser::Browser};

const ADMIN_PASSWORD: &str = "test-admin-password";

/// Plans `year` as the command line does (setup, not under test here).
async fn plan(app: &TestApp, year: i32) {
    plan_and_store(&app.state, year, &Principal::command_line()).await.expect("plan");
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
    browser.screenshot("meeting").await;
    browser.set_value("#edit-start", &local_input(&fsc["start"])).await;
    browser.set_value("#edit-end", &local_input(&fsc["end"])).await;
    browser.click("form[action$='/edit'] button[type=submit]").await;
    let clash = browser.wait_for_text("#room-error", "is taken by").await;
    assert!(clash.contains("FSC"), "the message names the other meeting: {clash}");
    browser.wait_for_text("#edit-errors", "not saved").await;
    browser.wait_for_text("label.force", "Book anyway").await;

    // Book anyway: saved, and the warning stays in view.
    browser.click("label.force input[name=force]").await;
    browser.click("form[action$='/edit'] button[type=submit]").await;
    let warning = browser.wait_for_text(".flash-warn", "saved, with warnings").await;
    assert!(warning.contains("is taken by"), "{warning}");
    let moved = app.get_json(&format!("/api/v1/meetings/{}", pc["id"]), 200).await;
    assert_eq!(moved["start"], fsc["start"]);

    // Cancel it: struck through on its page.
    browser.client.execute("window.confirm = () => true;", vec![]).await.expect("accept the confirmation");
    browser.click(".cancel-form button").await;
    browser.wait_for_text(".flash-ok", "is cancelled").await;
    browser.wait_for_text(".status-line", "Cancelled").await;
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

#[tokio::test]
async fn pages_work_on_a_phone() {
    let app = TestApp::spawn().await;
    plan(&app, this_year()).await;
    let browser = Browser::start(&app.base_url).await;
    browser.client.set_window_size(390, 844).await.expect("phone-sized window");
    browser.goto("/").await;
    let nav = browser.find("#main-nav").await;
    assert!(nav.is_displayed().await.unwrap(), "the navigation is visible");
    for link in ["Calendar", "Organiser", "Delegation", "Log in"] {
        let text = nav.text().await.unwrap();
        assert!(text.contains(link), "{link} is in the navigation: {text}");
    }
    let width: f64 =
        browser.client.execute("return document.documentElement.scrollWidth;", vec![]).await.unwrap().as_f64().unwrap();
    assert!(width <= 400.0, "nothing overflows sideways: {width}px");
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
