//! A delegation's registration journey through the pages: from its overview (`/delegation`) to
//! a meeting's registration page (`/meetings/{id}/registration`), for a conference abroad
//! eleven months ahead, on a phone-sized screen; the outcome of each form where the person
//! acted; a delegation that is not invited; and who may open whose registration page.

use plenary::{auth::Principal, service};
use reqwest::{Client, Method, Response, header, redirect::Policy};
use tests::{
    TestApp,
    browser::Browser,
    builders::{NewAccount, NewMeeting, NewRegistration, date_in},
    expect_json,
};

const PASSWORD: &str = "a long and private passphrase";
const CONFERENCE: &str = "Mediterranean Conference 2027";

/// The Mediterranean Conference about eleven months ahead in Amman, on Amman's clock.
async fn conference_in_amman(app: &TestApp) -> i64 {
    let organiser = app.organiser_token().await;
    NewMeeting::of("CONF-MED")
        .with("title", CONFERENCE.into())
        .on(date_in(335), "09:30", "17:30")
        .abroad("Asia/Amman", "Amman", "JO")
        .create_id(app, &organiser)
        .await
}

/// A browser the size of a phone, logged in as a new member of `iso2`'s delegation.
async fn delegation_on_a_phone(app: &TestApp, iso2: &str, username: &str) -> Browser {
    NewAccount::delegation(username, "Maria Muster", iso2).create_with_password(app, PASSWORD).await;
    let browser = Browser::start(&app.base_url).await;
    browser.client.set_window_size(390, 844).await.expect("phone-sized window");
    browser.log_in(username, PASSWORD).await;
    browser
}

async fn number(browser: &Browser, script: &str) -> f64 {
    browser.client.execute(script, vec![]).await.expect("run the script").as_f64().expect("a number")
}

/// Nothing on the page is wider than the phone's screen.
async fn assert_no_sideways_scrolling(browser: &Browser, page: &str) {
    let width = number(browser, "return document.documentElement.scrollWidth;").await;
    if width > 390.0 {
        let culprits = browser
            .client
            .execute(
                "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 390)\
                 .slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).join(', ');",
                vec![],
            )
            .await
            .expect("run the script");
        panic!("{page} is {width}px wide on a 390px screen; too wide: {culprits}");
    }
}

/// `css` is on screen, without scrolling.
async fn assert_in_viewport(browser: &Browser, css: &str) {
    let script = format!(
        "const r = document.querySelector('{css}').getBoundingClientRect(); \
         return r.top >= 0 && r.bottom <= window.innerHeight ? 1 : -r.top;"
    );
    let answer = number(browser, &script).await;
    assert!(answer == 1.0, "{css} is out of sight (top at {}px of {}px)", -answer, {
        number(browser, "return window.innerHeight;").await
    });
}

#[tokio::test]
async fn a_delegation_registers_for_a_conference_eleven_months_ahead_from_a_phone() {
    let app = TestApp::spawn().await;
    // Every meeting of this year and the next: the conference is far beyond the next ones.
    let year = chrono::Datelike::year(&chrono::Utc::now());
    for year in [year, year + 1] {
        service::meetings::plan(&app.state.db, year, &Principal::command_line()).await.expect("plan");
    }
    let id = conference_in_amman(&app).await;
    let browser = delegation_on_a_phone(&app, "AT", "contact.point@bmeia.example").await;

    // The overview lists the next meetings; the month browser reaches the conference.
    browser.goto("/delegation").await;
    browser.wait_for_text("#upcoming-title", "The next meetings you are invited to").await;
    assert!(!browser.find_all("#meetings li.meeting").await.is_empty(), "the next meetings are listed");
    assert!(browser.find_all(&format!("#meeting-{id}")).await.is_empty(), "not among the next few");
    assert_no_sideways_scrolling(&browser, "/delegation").await;
    browser.screenshot("phone-delegation").await;
    let month = date_in(335).format("%Y-%m").to_string();
    browser.set_value("#month", &month).await;
    browser.click(".month-picker button[type=submit]").await;
    let listed = browser.wait_for_text(&format!("#meeting-{id}"), CONFERENCE).await;
    assert!(listed.contains("Amman time") && listed.contains("0 registered"), "{listed}");
    browser.click(&format!("#meeting-{id} a.button")).await;

    // The registration page: the meeting on Amman's clock, the deadline, the quota.
    browser.wait_for_path(&format!("/meetings/{id}/registration")).await;
    browser.wait_for_text("main h1", "Registration of Austria").await;
    let deadline = browser.wait_for_text("#deadline", "Amman time").await;
    assert!(!deadline.contains("closed"), "{deadline}");
    browser.wait_for_text("#quota", "2 of 2 left").await;
    assert_no_sideways_scrolling(&browser, "the registration page").await;

    let register = async |name: &str, email: &str, seat: &str| {
        browser.fill("#name", name).await;
        browser.fill("#function", "Delegate").await;
        browser.fill("#email", email).await;
        browser.select("#seat", seat).await;
        browser.click("form.register-form button[type=submit]").await;
    };
    register("Jürgen Müller", "juergen.mueller@bmeia.example", "main").await;
    browser
        .wait_for_text("#register-notice", &format!("Jürgen Müller is registered for {CONFERENCE}, at the main table"))
        .await;
    assert_in_viewport(&browser, "#register-notice").await;
    register("Bernd Gruber", "bernd.gruber@bmeia.example", "behind").await;
    browser.wait_for_text("#register-notice", "Bernd Gruber is registered").await;
    register("Clara Wagner", "clara.wagner@bmeia.example", "behind").await;
    browser.wait_for_text("#register-notice", "Clara Wagner is registered").await;

    // A fourth is over the quota: told right where the form was sent, in words, input kept.
    register("Dora Mayer", "dora.mayer@bmeia.example", "behind").await;
    let refusal = browser.wait_for_text("#register-errors", "Austria already holds its 2 seats").await;
    assert!(refusal.contains("Bernd Gruber") && refusal.contains("Clara Wagner"), "names the holders: {refusal}");
    assert!(refusal.contains(CONFERENCE) && !refusal.contains("AT "), "the meeting named, no codes: {refusal}");
    assert_in_viewport(&browser, "#register-errors").await;
    let scrolled = number(&browser, "return window.scrollY;").await;
    assert!(scrolled > 0.0, "the form is further down than a screen, and the page went there");
    let kept = browser.find("#name").await.prop("value").await.unwrap();
    assert_eq!(kept.as_deref(), Some("Dora Mayer"));
    assert_no_sideways_scrolling(&browser, "the registration page with its list").await;
    browser.screenshot("phone-registration-refused").await;

    // Withdraw is on screen's width and lands back at the form, naming person and meeting.
    let table = browser.wait_for_text("table.registered", "Clara Wagner").await;
    assert!(table.contains("At the table (head of delegation)") && !table.contains("Dora Mayer"), "{table}");
    let withdraw = "table.registered tr:nth-child(3) form button";
    let (x, _, width, _) = browser.find(withdraw).await.rectangle().await.unwrap();
    assert!(x >= 0.0 && x + width <= 390.0, "Withdraw is within the screen: {x} + {width}");
    browser.client.execute("window.confirm = () => true;", vec![]).await.expect("accept the confirmation");
    browser.click(withdraw).await;
    browser.wait_for_text("#register-notice", &format!("Clara Wagner is withdrawn from {CONFERENCE}")).await;
    assert_in_viewport(&browser, "#register-notice").await;
    browser.wait_for_text("#quota", "1 of 2 left").await;

    // The overview counts them; the meeting page links here.
    browser.goto(&format!("/delegation?month={month}")).await;
    browser.wait_for_text(&format!("#meeting-{id}"), "2 registered").await;
    browser.goto(&format!("/meetings/{id}")).await;
    browser.click("#registration-link").await;
    browser.wait_for_path(&format!("/meetings/{id}/registration")).await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn japan_is_told_it_is_not_invited_to_the_mediterranean_conference_and_offered_no_form() {
    let app = TestApp::spawn().await;
    let id = conference_in_amman(&app).await;
    let browser = delegation_on_a_phone(&app, "JP", "contact.point@mofa.example").await;
    browser.goto(&format!("/meetings/{id}")).await;
    browser.wait_for_text("main h1", CONFERENCE).await;
    browser.wait_for_text("#registrations-title", "Registrations").await;
    assert!(browser.find_all("#registration-link").await.is_empty(), "Japan is not offered to register");

    browser.goto(&format!("/meetings/{id}/registration")).await;
    let why = browser.wait_for_text("#not-invited", "Japan is not invited").await;
    assert!(why.contains("Asian Partner") && why.contains(CONFERENCE), "{why}");
    assert!(browser.find_all("form.register-form").await.is_empty(), "no form");
    assert_no_sideways_scrolling(&browser, "the registration page").await;
    browser.close().await;
    app.stop().await;
}

/// The `csrf` value of the first form in `html`.
fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
    html[start..].split('"').next().unwrap().to_owned()
}

/// `GET path` with `cookie`, redirects not followed (a browser's view of the answer).
async fn page(app: &TestApp, cookie: &str, path: &str) -> Response {
    let client = Client::builder().redirect(Policy::none()).build().expect("a client");
    client.get(format!("{}{path}", app.base_url)).header(header::COOKIE, cookie).send().await.unwrap()
}

async fn post_form(app: &TestApp, cookie: &str, path: &str, form: &[(&str, &str)]) -> Response {
    let client = Client::builder().redirect(Policy::none()).build().expect("a client");
    client.post(format!("{}{path}", app.base_url)).header(header::COOKIE, cookie).form(form).send().await.unwrap()
}

/// The `name=value` of cookie `name` that `response` sets.
fn cookie_set(response: &Response, name: &str) -> String {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with(&format!("{name}=")))
        .and_then(|value| value.split(';').next())
        .unwrap_or_else(|| panic!("no {name} cookie set"))
        .to_owned()
}

#[tokio::test]
async fn a_delegation_opens_only_its_own_registration_page_and_organisers_any() {
    let app = TestApp::spawn().await;
    let id = conference_in_amman(&app).await;
    let path = format!("/meetings/{id}/registration");
    let france = app.delegation_token("FR").await;
    let response = NewRegistration::of("FR", "Claire Martin", "Ambassador", "main").post(&app, &france, id).await;
    let french = expect_json(response, 201).await["id"].as_i64().expect("an id");

    // Visitors log in first.
    let anonymous = page(&app, "", &path).await;
    assert_eq!(anonymous.status(), 303);
    assert!(anonymous.headers()[header::LOCATION].to_str().unwrap().starts_with("/login?next="));

    // Austria: its own page, never France's, by address or by form.
    let austria = NewAccount::delegation("at@example.org", "Anna Huber", "AT").session_cookie(&app).await;
    let own = page(&app, &austria, &path).await;
    assert_eq!(own.status(), 200);
    let html = own.text().await.unwrap();
    assert!(html.contains("Registration of Austria") && !html.contains("Claire Martin"), "{html}");
    let csrf = csrf_of(&html);
    let other = page(&app, &austria, &format!("{path}?state=FR")).await;
    assert_eq!(other.status(), 403);
    assert!(other.text().await.unwrap().contains("for Austria only, not for France"));
    let form = [
        ("csrf", csrf.as_str()),
        ("state", "FR"),
        ("name", "Intruder"),
        ("email", "x@example.org"),
        ("seat", "behind"),
    ];
    assert_eq!(post_form(&app, &austria, &path, &form).await.status(), 403);
    let withdraw = format!("{path}/{french}/withdraw");
    assert_eq!(post_form(&app, &austria, &withdraw, &[("csrf", csrf.as_str())]).await.status(), 404);

    // An organiser: any delegation's page, registering on its behalf and back at its form.
    let organiser = NewAccount::organiser("org@example.org", "Olga Organiser").session_cookie(&app).await;
    let chooser = page(&app, &organiser, &path).await.text().await.unwrap();
    assert!(chooser.contains("Register for the delegation of") && chooser.contains("Egypt"), "{chooser}");
    assert!(!chooser.contains("value=\"JP\""), "only invited delegations are offered");
    let french_page = page(&app, &organiser, &format!("{path}?state=FR")).await;
    assert_eq!(french_page.status(), 200);
    let html = french_page.text().await.unwrap();
    assert!(html.contains("Registration of France") && html.contains("Claire Martin"), "{html}");
    let csrf = csrf_of(&html);
    let form = [
        ("csrf", csrf.as_str()),
        ("state", "FR"),
        ("name", "Luc Bernard"),
        ("email", "luc@example.org"),
        ("seat", "behind"),
    ];
    let registered = post_form(&app, &organiser, &path, &form).await;
    assert_eq!(registered.status(), 303);
    assert_eq!(registered.headers()[header::LOCATION], format!("{path}?state=FR#register").as_str());
    let flash = cookie_set(&registered, "plenary_flash");
    let back = page(&app, &format!("{organiser}; {flash}"), &format!("{path}?state=FR")).await;
    let html = back.text().await.unwrap();
    assert!(
        html.contains("Luc Bernard is registered for Mediterranean Conference 2027, behind the main table."),
        "{html}"
    );
    // Withdrawing France's registration twice: the second is told so, at the form, whatever
    // the hidden State field was made to say (a control character there is no 500).
    let withdraw = format!("{path}/{french}/withdraw");
    assert_eq!(post_form(&app, &organiser, &withdraw, &[("csrf", csrf.as_str()), ("state", "FR")]).await.status(), 303);
    let again = post_form(&app, &organiser, &withdraw, &[("csrf", csrf.as_str()), ("state", "F\nR\u{7f}")]).await;
    assert_eq!(again.status(), 303);
    assert_eq!(again.headers()[header::LOCATION], format!("{path}?state=F%0AR%7F#register").as_str());
    app.stop().await;
}

#[tokio::test]
async fn the_feed_names_the_registration_page_of_each_meeting_that_takes_registrations() {
    let app = TestApp::spawn().await;
    let id = conference_in_amman(&app).await;
    let austria = app.delegation_token("AT").await;
    let body = serde_json::json!({"scope": "delegation", "state": "AT"});
    let feed = expect_json(app.send(Method::POST, "/api/v1/feeds", &austria, body).await, 201).await;
    let url = feed["url"].as_str().expect("the feed's address");
    let ics = app.get(&url[url.find("/feeds/").unwrap()..]).await.text().await.unwrap();
    // Lines are folded at 75 octets (RFC 5545 §3.1), and commas escaped.
    let unfolded = ics.replace("\r\n ", "");
    let link = format!("Register attendees: {}/meetings/{id}/registration", app.base_url);
    assert!(unfolded.contains(&link), "{unfolded}");

    // A cancelled meeting takes no registrations, and its event says nothing of them.
    let organiser = app.organiser_token().await;
    let cancel =
        app.send(Method::POST, &format!("/api/v1/meetings/{id}/cancel"), &organiser, serde_json::json!({})).await;
    expect_json(cancel, 200).await;
    let ics = app.get(&url[url.find("/feeds/").unwrap()..]).await.text().await.unwrap();
    assert!(!ics.replace("\r\n ", "").contains("Register attendees"), "{ics}");
    app.stop().await;
}

#[tokio::test]
async fn after_a_cancellation_the_registrations_stay_listed_and_can_be_withdrawn() {
    let app = TestApp::spawn().await;
    let id = conference_in_amman(&app).await;
    let austria_token = app.delegation_token("AT").await;
    let anna = NewRegistration::of("AT", "Anna Huber", "Ambassador", "main").post(&app, &austria_token, id).await;
    expect_json(anna, 201).await;
    let organiser = app.organiser_token().await;
    let cancel =
        app.send(Method::POST, &format!("/api/v1/meetings/{id}/cancel"), &organiser, serde_json::json!({})).await;
    expect_json(cancel, 200).await;

    let path = format!("/meetings/{id}/registration");
    let austria = NewAccount::delegation("at@example.org", "Karl Berger", "AT").session_cookie(&app).await;
    let html = page(&app, &austria, &path).await.text().await.unwrap();
    assert!(html.contains("id=\"not-invited\"") && !html.contains("id=\"name\""), "why, and no form: {html}");
    assert!(html.contains("Anna Huber") && html.contains("/withdraw"), "Anna still listed, with Withdraw: {html}");
    let withdraw = html.split("action=\"").find(|part| part.contains("/withdraw")).unwrap().split('"').next().unwrap();
    let csrf = csrf_of(&html);
    assert_eq!(post_form(&app, &austria, withdraw, &[("csrf", csrf.as_str())]).await.status(), 303);
    let html = page(&app, &austria, &path).await.text().await.unwrap();
    assert!(!html.contains("Anna Huber"), "withdrawn: {html}");
    app.stop().await;
}

#[tokio::test]
async fn the_overview_shows_deadlines_soon_and_any_month_ahead() {
    let app = TestApp::spawn().await;
    let conference = conference_in_amman(&app).await;
    let organiser = app.organiser_token().await;
    let soon = NewMeeting::of("PC")
        .with("title", "Special Permanent Council".into())
        .on(date_in(6), "10:00", "13:00")
        .room("HOFBURG-NEUER-SAAL")
        .forced()
        .create_id(&app, &organiser)
        .await;
    let austria = NewAccount::delegation("at@example.org", "Anna Huber", "AT").session_cookie(&app).await;
    let overview = page(&app, &austria, "/delegation").await.text().await.unwrap();
    let deadlines = &overview[overview.find("id=\"deadlines-soon\"").expect("deadlines soon")..];
    let deadlines = &deadlines[..deadlines.find("</section>").unwrap()];
    assert!(deadlines.contains("Special Permanent Council") && deadlines.contains("Vienna time"), "{deadlines}");
    assert!(deadlines.contains(&format!("/meetings/{soon}/registration")), "linked to its registration: {deadlines}");
    assert!(!deadlines.contains(CONFERENCE), "the conference closes in months: {deadlines}");

    let month = date_in(335).format("%Y-%m").to_string();
    let chosen = page(&app, &austria, &format!("/delegation?month={month}")).await.text().await.unwrap();
    assert!(chosen.contains(&format!("id=\"meeting-{conference}\"")) && chosen.contains("Amman time"), "{chosen}");
    assert!(!chosen.contains("Special Permanent Council"), "only that month: {chosen}");
    let bad = page(&app, &austria, "/delegation?month=October").await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("such as 2027-10"));
    app.stop().await;
}
