//! Accounts, the phone and accessibility in a real browser (headless Chromium): "forgot
//! password" through a real SMTP server, the calendar on a phone, and axe-core on every kind of
//! page. `PLENARY_SCREENSHOTS=<folder>` also saves each journey's steps as PNGs.

use std::time::Duration;

use chrono::Datelike as _;
use plenary::{
    db::entities::outbox,
    mail::{accounts::PASSWORD_LINK, worker::Worker},
    service,
};
use sea_orm::{ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _};
use tests::{
    TestApp,
    browser::Browser,
    builders::{NewAccount, NewMeeting, NewRegistration, date_in},
    smtp::SmtpSink,
};

const PASSWORD: &str = "a long and private passphrase";

/// The service with mail going to `sink`, and its mail worker.
async fn app_with_mail(sink: &SmtpSink) -> (TestApp, plenary::mail::worker::WorkerHandle) {
    let app = TestApp::spawn_with(|config| {
        config.smtp_url = Some(sink.url());
        config.mail_from = "OSCE Plenary <plenary@osce.example>".into();
        config.mail.poll_ms = 50;
    })
    .await;
    let worker = Worker::new(app.state.db.clone(), &app.state.config).expect("a worker").expect("SMTP is set").spawn();
    (app, worker)
}

/// The text of the "forgot password" answer after asking for `name`.
async fn ask_for_a_link(browser: &Browser, name: &str) -> String {
    browser.goto("/login").await;
    browser.click("#forgot-password").await;
    browser.wait_for_text("main h1", "Forgot your password").await;
    browser.fill("#reset-name", name).await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text("#reset-sent", "a link to set a new password").await
}

#[tokio::test]
async fn a_contact_point_who_forgot_the_password_gets_a_link_by_mail_and_logs_in_with_a_new_one() {
    let sink = SmtpSink::start();
    let (app, worker) = app_with_mail(&sink).await;
    NewAccount::delegation("anna.huber@bmeia.example", "Anna Huber", "AT")
        .create_with_password(&app, "forgotten passphrase")
        .await;
    let browser = Browser::start(&app.base_url).await;

    browser.goto("/login").await;
    let login = browser.page_text().await;
    assert!(!login.contains("admin"), "the public login page names no account: {login}");
    browser.screenshot("forgot-password-1-login").await;

    // An unknown address first: the same answer, and (below) no mail.
    let unknown = ask_for_a_link(&browser, "nobody@nowhere.example").await;
    let known = ask_for_a_link(&browser, "Anna.Huber@bmeia.example").await;
    assert_eq!(
        unknown.replace("nobody@nowhere.example", "…"),
        known.replace("Anna.Huber@bmeia.example", "…"),
        "the answer does not tell whether an account matched"
    );
    browser.screenshot("forgot-password-2-sent").await;

    let messages = sink.wait_for(1, Duration::from_secs(60)).await;
    let message = mail_parser::MessageParser::default().parse(&messages[0]).expect("a MIME message");
    let to = message.to().and_then(|to| to.first()).and_then(|addr| addr.address()).unwrap_or_default();
    assert_eq!(to, "anna.huber@bmeia.example");
    let text = message.body_text(0).expect("a plain text part").into_owned();
    let link = text.lines().find(|line| line.contains("/set-password/")).expect("the link").trim().to_owned();

    browser.client.goto(&link).await.expect("open the link");
    browser.wait_for_text("main h1", "Set your password").await;
    browser.fill("#password", PASSWORD).await;
    browser.fill("#confirm", PASSWORD).await;
    browser.screenshot("forgot-password-3-set").await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_text(".flash-ok", "Your password is set").await;
    let username = browser.find("#username").await.prop("value").await.unwrap().unwrap_or_default();
    assert_eq!(username, "anna.huber@bmeia.example", "the username is filled in");
    browser.screenshot("forgot-password-4-login").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("main form button[type=submit]").await;
    browser.wait_for_path("/delegation").await;
    browser.wait_for_text("main h1", "Austria").await;
    assert_eq!(sink.messages().len(), 1, "nothing was mailed for the unknown address");
    browser.close().await;
    worker.stop().await;
    app.stop().await;
}

/// Set-password mails queued for `address`.
async fn links_queued_for(app: &TestApp, address: &str) -> u64 {
    outbox::Entity::find()
        .filter(outbox::Column::Kind.eq(PASSWORD_LINK))
        .filter(outbox::Column::RecipientEmail.eq(address))
        .count(&app.state.db)
        .await
        .unwrap()
}

/// How many set-password links account `user_id` has, used or not.
async fn links_of(app: &TestApp, user_id: i32) -> u64 {
    use plenary::db::entities::password_tokens;
    use sea_orm::{ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _};
    password_tokens::Entity::find()
        .filter(password_tokens::Column::UserId.eq(user_id))
        .count(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn forgot_password_mails_an_account_a_few_times_only_whichever_replica_is_asked() {
    let app = TestApp::spawn().await;
    let replica = app.spawn_replica().await;
    NewAccount::delegation("anna.huber@bmeia.example", "Anna Huber", "AT").create(&app).await;
    NewAccount::delegation("off@bmeia.example", "Disabled", "AT").create(&app).await;
    let disabled =
        plenary::store::accounts::find_by_username(&app.state.db, "off@bmeia.example").await.unwrap().unwrap();
    plenary::store::accounts::set_disabled(&app.state.db, disabled.id, true).await.unwrap();
    for round in 0..6 {
        let replica = if round % 2 == 0 { &app } else { &replica };
        let (db, config) = (&replica.state.db, &replica.state.config);
        let address = format!("192.0.2.{round}");
        service::accounts::request_password_reset(db, config, " ANNA.huber@bmeia.example ", &address).await.unwrap();
        service::accounts::request_password_reset(db, config, "off@bmeia.example", &address).await.unwrap();
    }
    assert_eq!(
        links_queued_for(&app, "anna.huber@bmeia.example").await,
        u64::try_from(scheduler::accounts::MAX_RESET_MAILS).unwrap(),
        "the limit holds across replicas"
    );
    assert_eq!(links_queued_for(&app, "off@bmeia.example").await, 0, "a disabled account gets no link");
    replica.stop().await;

    // A visitor typing someone's address adds a link beside the one an organiser sent, never
    // cancels it; asking for `admin` (no address to mail) makes no link at all.
    let db = &app.state.db;
    let newcomer = NewAccount::delegation("new@bmeia.example", "New Contact", "AT").create(&app).await;
    let sent = plenary::store::accounts::create_password_link(db, newcomer.id, chrono::Utc::now()).await.unwrap();
    service::accounts::request_password_reset(db, &app.state.config, "new@bmeia.example", "192.0.2.99").await.unwrap();
    assert_eq!(links_queued_for(&app, "new@bmeia.example").await, 1, "the visitor's request is mailed");
    let pending = plenary::store::accounts::password_link_user(db, &sent, chrono::Utc::now()).await.unwrap();
    assert!(pending.is_some(), "the organiser's link still works");
    let admin = plenary::store::accounts::find_by_username(db, "admin").await.unwrap().expect("the first account");
    let links_before = links_of(&app, admin.id).await;
    service::accounts::request_password_reset(db, &app.state.config, "admin", "192.0.2.99").await.unwrap();
    assert_eq!(links_of(&app, admin.id).await, links_before, "no link for an account that cannot be mailed");
    app.stop().await;
}

#[tokio::test]
async fn on_a_phone_the_calendar_opens_on_the_agenda_from_today_with_times_and_filters_to_my_delegation() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let today = date_in(0);
    let yesterday = date_in(-1);
    NewMeeting::of("CG-ASIA").on(today, "10:00", "12:00").room("HOFBURG-NEUER-SAAL").create(&app, &token).await;
    NewMeeting::of("CG-MED").on(today, "14:00", "16:00").room("HOFBURG-NEUER-SAAL").create(&app, &token).await;
    let earlier_this_month = yesterday.month() == today.month();
    if earlier_this_month {
        NewMeeting::of("FSC").on(yesterday, "10:00", "13:00").room("HOFBURG-NEUER-SAAL").create(&app, &token).await;
    }
    NewAccount::delegation("yuki@jp.example", "Yuki Sato", "JP").create_with_password(&app, PASSWORD).await;
    let browser = Browser::start(&app.base_url).await;
    browser.phone().await;

    browser.goto("/").await;
    assert!(browser.shown(".agenda").await, "a phone gets the agenda");
    assert!(!browser.shown(".month-scroll").await, "and not the month grid");
    let first_day = browser.find(".agenda > .agenda-day h3").await.text().await.unwrap();
    assert!(first_day.contains("Today"), "the agenda starts today: {first_day}");
    let agenda = browser.find(".agenda").await.text().await.unwrap();
    assert!(agenda.contains("10:00–12:00") && agenda.contains("14:00–16:00"), "with times: {agenda}");
    assert!(agenda.contains("Asian Partners") || agenda.contains("CG-ASIA"), "{agenda}");
    if earlier_this_month {
        assert!(!agenda.contains("10:00–13:00"), "yesterday is folded away: {agenda}");
        browser.click(".agenda details.earlier summary").await;
        browser.wait_for_text(".agenda details.earlier", "10:00–13:00").await;
    }
    let width = browser.client.execute("return document.documentElement.scrollWidth;", vec![]).await.unwrap();
    assert!(width.as_f64().unwrap() <= 390.0, "nothing overflows sideways: {width}");
    browser.screenshot("phone-calendar-agenda").await;

    // A delegation keeps to its own meetings: Japan is invited to the Asian contact group only.
    browser.log_in("yuki@jp.example", PASSWORD).await;
    browser.goto("/").await;
    browser.wait_for_text("label[for=mine-filter]", "my delegation (Japan)").await;
    browser.click("#mine-filter").await;
    browser.wait_for_path("/?").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !browser.path().await.contains("mine=1") {
        assert!(std::time::Instant::now() < deadline, "the filter is in the address: {}", browser.path().await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mine = browser.wait_for_text(".agenda", "10:00–12:00").await;
    assert!(!mine.contains("14:00–16:00"), "the Mediterranean group does not invite Japan: {mine}");
    browser.screenshot("phone-calendar-my-delegation").await;
    browser.click("a[rel=next]").await;
    browser.wait_for_path("/?month=").await;
    assert!(browser.path().await.contains("mine=1"), "the next month keeps the filter: {}", browser.path().await);

    // A wider screen gets the month grid for the same address.
    browser.desktop().await;
    browser.goto("/").await;
    assert!(browser.shown("table.month").await, "a desktop gets the month grid");
    assert!(!browser.shown(".agenda").await);
    browser.close().await;
    app.stop().await;
}

#[tokio::test]
async fn every_kind_of_page_has_no_serious_accessibility_violation() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let meeting =
        NewMeeting::of("PC").on(date_in(30), "10:00", "13:00").room("HOFBURG-NEUER-SAAL").create_id(&app, &token).await;
    let delegation = app.delegation_token("AT").await;
    let registered =
        NewRegistration::of("AT", "Anna Huber", "Ambassador", "main").post(&app, &delegation, meeting).await;
    assert_eq!(registered.status(), 201, "{}", registered.text().await.unwrap_or_default());
    NewAccount::delegation("anna.huber@bmeia.example", "Anna Huber", "AT").create_with_password(&app, PASSWORD).await;
    let newcomer = NewAccount::delegation("new@bmeia.example", "New Contact", "AT").create(&app).await;
    let link =
        plenary::store::accounts::create_password_link(&app.state.db, newcomer.id, chrono::Utc::now()).await.unwrap();
    let browser = Browser::start(&app.base_url).await;

    let mut violations = Vec::new();
    let mut check = async |path: &str, waits_for: &str| {
        browser.goto(path).await;
        browser.find(waits_for).await;
        for violation in browser.serious_accessibility_violations().await {
            violations.push(format!("{path}: {violation}"));
        }
    };
    // A visitor.
    check("/", "table.month").await;
    check("/?view=agenda", ".agenda").await;
    check(&format!("/meetings/{meeting}"), "main h1").await;
    check("/login", "#username").await;
    check("/forgot-password", "#reset-name").await;
    check(&format!("/set-password/{link}"), "#password").await;
    check("/no-such-page", "main h1").await;
    // A delegation.
    browser.log_in("anna.huber@bmeia.example", PASSWORD).await;
    check("/delegation", "main h1").await;
    check("/subscriptions", "main h1").await;
    check(&format!("/meetings/{meeting}"), "main h1").await;
    check(&format!("/meetings/{meeting}/registration"), "#register").await;
    browser.phone().await;
    check("/delegation", "main h1").await;
    check(&format!("/meetings/{meeting}/registration"), "#register").await;
    browser.desktop().await;
    browser.client.delete_all_cookies().await.expect("log out");
    // An organiser.
    browser.log_in("admin", "test-admin-password").await;
    check("/organiser", "main h1").await;
    check("/organiser/accounts", "main h1").await;
    check(&format!("/organiser/meetings/{meeting}/invitations"), "main h1").await;
    check(&format!("/meetings/{meeting}"), "main h1").await;
    check(&format!("/meetings/{meeting}/registration"), "#pick-state").await;
    check(&format!("/meetings/{meeting}/registration?state=AT"), "#register").await;
    browser.phone().await;
    check("/", ".agenda").await;
    check(&format!("/meetings/{meeting}"), "main h1").await;
    assert!(violations.is_empty(), "serious or critical accessibility violations:\n{}", violations.join("\n"));
    browser.close().await;
    app.stop().await;
}

/// The width of the first element matching `css`, in CSS pixels.
async fn width_of(browser: &Browser, css: &str) -> f64 {
    browser.find(css).await.rectangle().await.expect("its size").2
}

#[tokio::test]
async fn the_seating_plan_zooms_in_to_read_the_plates_and_back_to_the_whole_plan() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let meeting =
        NewMeeting::of("PC").on(date_in(30), "10:00", "13:00").room("HOFBURG-NEUER-SAAL").create_id(&app, &token).await;
    let delegation = app.delegation_token("AT").await;
    let registered =
        NewRegistration::of("AT", "Anna Huber", "Ambassador", "main").post(&app, &delegation, meeting).await;
    assert_eq!(registered.status(), 201);
    let browser = Browser::start(&app.base_url).await;
    browser.phone().await;
    browser.goto(&format!("/meetings/{meeting}")).await;
    browser.find("#seating-plan").await;
    browser.client.execute("document.getElementById('seating-title').scrollIntoView();", vec![]).await.unwrap();
    let frame = width_of(&browser, "[data-seating-frame]").await;
    let whole = width_of(&browser, "#seating-plan").await;
    assert!(whole <= frame + 1.0, "the whole plan fits its frame: {whole} in {frame}");
    browser.click("[data-seating-zoom=in]").await;
    browser.click("[data-seating-zoom=in]").await;
    let zoomed = width_of(&browser, "#seating-plan").await;
    assert!(zoomed > 2.2 * whole, "two steps in make it 2.25 times as wide: {zoomed} from {whole}");
    let scrolled = browser
        .client
        .execute("return document.querySelector('[data-seating-frame]').scrollLeft;", vec![])
        .await
        .unwrap();
    assert!(scrolled.as_f64().unwrap() > 0.0, "zooming keeps the middle in view: {scrolled}");
    browser.screenshot("seating-zoomed-on-a-phone").await;
    browser.click("[data-seating-zoom=fit]").await;
    let back = width_of(&browser, "#seating-plan").await;
    assert!((back - whole).abs() < 1.0, "the whole plan again: {back}, was {whole}");
    let download = browser
        .find("section[aria-labelledby=seating-title] a[download]")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(
        download.ends_with(".svg") || download.contains("seating"),
        "the A3 picture stays downloadable: {download}"
    );
    browser.close().await;
    app.stop().await;
}
