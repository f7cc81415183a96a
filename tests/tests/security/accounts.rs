//! Account ranks, one-time links, redirects after login and login throttling (issue 12, items
//! 2, 3 and 5, and the links' expiry).

use std::collections::BTreeMap;

use plenary::{
    auth::Role,
    db::entities::{login_failures, meetings, password_tokens, rsvps},
    mail::rsvp::{self, Answer, Rsvp},
    store,
};
use reqwest::{Client, Method, redirect::Policy};
use sea_orm::{ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _, sea_query::Expr};
use serde_json::json;
use tests::{TestApp, browser::Browser, builders::NewAccount, expect_json};

const ADMIN_PASSWORD: &str = "test-admin-password";
const PASSWORD: &str = "a long and private passphrase";

/// A response read whole.
struct Page {
    status: u16,
    location: Option<String>,
    body: String,
}

/// A client that keeps its cookies and does not follow redirects, like a browser seen from the
/// server.
struct Visitor<'a> {
    app: &'a TestApp,
    client: Client,
    cookies: BTreeMap<String, String>,
}

impl<'a> Visitor<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            client: Client::builder().redirect(Policy::none()).build().expect("client"),
            cookies: BTreeMap::new(),
        }
    }

    async fn send(&mut self, method: Method, path: &str, form: Option<&[(&str, &str)]>) -> Page {
        let cookies: Vec<String> = self.cookies.iter().map(|(name, value)| format!("{name}={value}")).collect();
        let mut request = self.client.request(method, format!("{}{path}", self.app.base_url));
        if !cookies.is_empty() {
            request = request.header("cookie", cookies.join("; "));
        }
        if let Some(form) = form {
            request = request.form(form);
        }
        let response = request.send().await.expect("request sent");
        for set in response.headers().get_all("set-cookie") {
            let set = set.to_str().expect("ASCII cookie");
            let (name, value) = set.split(';').next().unwrap().split_once('=').expect("name=value");
            if set.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = response.status().as_u16();
        let location = response.headers().get("location").map(|value| value.to_str().expect("ASCII").to_owned());
        Page { status, location, body: response.text().await.expect("body") }
    }

    async fn get(&mut self, path: &str) -> Page {
        self.send(Method::GET, path, None).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send(Method::POST, path, Some(form)).await
    }

    /// The CSRF token of the forms on `path`.
    async fn csrf(&mut self, path: &str) -> String {
        let page = self.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        hidden(&page.body, "csrf")
    }

    /// Sends the login form; the response tells how it went.
    async fn log_in(&mut self, username: &str, password: &str) -> Page {
        let csrf = self.csrf("/login").await;
        self.post("/login", &[("csrf", &csrf), ("username", username), ("password", password)]).await
    }

    /// Logs in, expecting to succeed.
    async fn log_in_ok(&mut self, username: &str, password: &str) {
        let page = self.log_in(username, password).await;
        assert_eq!(page.status, 303, "logging in as {username}: {}", page.body);
    }

    /// Forgets the session, keeping every other cookie (the device cookie among them).
    fn drop_session(&mut self) {
        self.cookies.remove("plenary_session");
    }
}

/// The value of the hidden field `name` in `html`.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html.find(&marker).unwrap_or_else(|| panic!("a hidden {name} field in {html}")) + marker.len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// An account with `PASSWORD` set.
async fn account(app: &TestApp, username: &str, role: Role, iso2: Option<&str>) -> i32 {
    NewAccount::with_role(username, "Someone", role).of_state(iso2).create_with_password(app, PASSWORD).await.id
}

async fn admin_id(app: &TestApp) -> i32 {
    store::accounts::find_by_username(&app.state.db, "admin").await.unwrap().expect("the admin").id
}

async fn links_of(app: &TestApp, user_id: i32) -> u64 {
    password_tokens::Entity::find()
        .filter(password_tokens::Column::UserId.eq(user_id))
        .count(&app.state.db)
        .await
        .unwrap()
}

/// Reproduces item 2: a non-admin organiser got a set-password link for `admin` (always shown,
/// as `admin` is not an address) and, without SMTP, for any other organiser; they could also
/// disable them. Now only an admin acts on organisers and admins, and nobody sees a link for an
/// account of their own rank or above.
#[tokio::test]
async fn only_an_admin_acts_on_organisers_and_nobody_sees_a_link_for_their_own_rank() {
    let app = TestApp::spawn().await;
    let admin = admin_id(&app).await;
    let olga = account(&app, "olga@osce.example", Role::Organiser, None).await;
    let otto = account(&app, "otto@osce.example", Role::Organiser, None).await;
    let dana = account(&app, "dana@bmeia.example", Role::Delegation, Some("AT")).await;
    let links_before = links_of(&app, admin).await;

    let mut organiser = Visitor::new(&app);
    organiser.log_in_ok("olga@osce.example", PASSWORD).await;
    let page = organiser.get("/organiser/accounts").await;
    assert_eq!(page.status, 200);
    let csrf = hidden(&page.body, "csrf");
    // The page offers nothing for the admin or another organiser, everything for a delegation.
    for id in [admin, otto, olga] {
        for action in ["link", "disable", "enable"] {
            let form = format!("action=\"/organiser/accounts/{id}/{action}\"");
            assert!(!page.body.contains(&form), "an organiser is offered {form}");
        }
    }
    for action in ["link", "disable"] {
        let form = format!("action=\"/organiser/accounts/{dana}/{action}\"");
        assert!(page.body.contains(&form), "an organiser manages delegation accounts: {form}");
    }
    // The server refuses what the page does not offer.
    for id in [admin, otto] {
        for action in ["link", "disable", "enable"] {
            let refused = organiser.post(&format!("/organiser/accounts/{id}/{action}"), &[("csrf", &csrf)]).await;
            assert_eq!(refused.status, 403, "{action} on account {id}: {}", refused.body);
            assert!(refused.body.contains("Only an administrator"), "{}", refused.body);
            assert!(!refused.body.contains("/set-password/"), "no link in {}", refused.body);
        }
    }
    assert_eq!(links_of(&app, admin).await, links_before, "no link was made for the admin");
    assert_eq!(links_of(&app, otto).await, 1, "only the one used when the account was set up");
    let found = store::accounts::find_user(&app.state.db, admin).await.unwrap().unwrap();
    assert!(!found.disabled);
    // A delegation account is still theirs to manage; without SMTP its link is shown.
    let link = organiser.post(&format!("/organiser/accounts/{dana}/link"), &[("csrf", &csrf)]).await;
    assert_eq!(link.status, 200, "{}", link.body);
    assert!(link.body.contains("/set-password/"), "{}", link.body);
    let disabled = organiser.post(&format!("/organiser/accounts/{dana}/disable"), &[("csrf", &csrf)]).await;
    assert_eq!(disabled.status, 303, "{}", disabled.body);

    // An admin acts on organisers and sees their links (they rank below)...
    let mut admin_visitor = Visitor::new(&app);
    admin_visitor.log_in_ok("admin", ADMIN_PASSWORD).await;
    let page = admin_visitor.get("/organiser/accounts").await;
    let csrf = hidden(&page.body, "csrf");
    assert!(page.body.contains(&format!("action=\"/organiser/accounts/{otto}/link\"")));
    assert!(!page.body.contains(&format!("action=\"/organiser/accounts/{admin}/link\"")), "not on themselves");
    let link = admin_visitor.post(&format!("/organiser/accounts/{otto}/link"), &[("csrf", &csrf)]).await;
    assert_eq!(link.status, 200, "{}", link.body);
    assert!(link.body.contains("/set-password/"), "{}", link.body);
    let disabled = admin_visitor.post(&format!("/organiser/accounts/{otto}/disable"), &[("csrf", &csrf)]).await;
    assert_eq!(disabled.status, 303, "{}", disabled.body);
    // ...but never another admin's: one that cannot be mailed is not even made...
    let root = store::accounts::create_user(&app.state.db, "root", "Second admin", Role::Admin, None).await.unwrap();
    let withheld = admin_visitor.post(&format!("/organiser/accounts/{}/link", root.id), &[("csrf", &csrf)]).await;
    assert_eq!(withheld.status, 200, "{}", withheld.body);
    assert!(withheld.body.contains("No link was made for root"), "{}", withheld.body);
    assert!(!withheld.body.contains("/set-password/"), "{}", withheld.body);
    assert_eq!(links_of(&app, root.id).await, 0);
    // ...and one that can is mailed (it waits in the outbox without SMTP), not shown.
    let ada = store::accounts::create_user(&app.state.db, "ada@osce.example", "Ada", Role::Admin, None).await.unwrap();
    let mailed = admin_visitor.post(&format!("/organiser/accounts/{}/link", ada.id), &[("csrf", &csrf)]).await;
    assert_eq!(mailed.status, 200, "{}", mailed.body);
    assert!(mailed.body.contains("e-mailed to ada@osce.example"), "{}", mailed.body);
    assert!(!mailed.body.contains("/set-password/"), "{}", mailed.body);
    assert_eq!(links_of(&app, ada.id).await, 1);
    // Nobody acts on their own account here.
    let own = admin_visitor.post(&format!("/organiser/accounts/{admin}/link"), &[("csrf", &csrf)]).await;
    assert_eq!(own.status, 403);
    app.stop().await;
}

/// What a browser makes of `value` in a query string or form.
fn encoded(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Redirect targets that leave the site, or could once a browser has cleaned them up.
const HOSTILE: &[&str] = &[
    "/\t/evil.example",
    "/%09/evil.example",
    "/\n/evil",
    "//evil",
    "/\\evil",
    "/%5Cevil",
    "https://evil",
    "java\nscript:alert(1)",
    "/%2F/evil",
    "/\u{2028}/evil",
];

/// Reproduces item 3: `next=/%09/evil.example` answered `303 Location: /\t/evil.example`, which
/// browsers resolve to `http://evil.example/`; the subscriptions page's `back` passed the same
/// check. Every hostile value now goes to the default page.
#[tokio::test]
async fn hostile_next_and_back_targets_go_to_the_default_page() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let feed = app
        .request(Method::POST, "/api/v1/feeds")
        .bearer_auth(&token)
        .json(&json!({"scope": "all"}))
        .send()
        .await
        .unwrap();
    let feed = expect_json(feed, 201).await["id"].as_i64().expect("a feed id");

    let mut visitor = Visitor::new(&app);
    for hostile in HOSTILE {
        // The login page does not carry the target along...
        let page = visitor.get(&format!("/login?next={}", encoded(hostile))).await;
        assert_eq!(page.status, 200);
        assert_eq!(hidden(&page.body, "next"), "/", "{hostile:?}");
        // ...and the form's own field is checked again.
        let csrf = hidden(&page.body, "csrf");
        let logged_in = visitor
            .post("/login", &[("csrf", &csrf), ("username", "admin"), ("password", ADMIN_PASSWORD), ("next", hostile)])
            .await;
        assert_eq!(logged_in.status, 303, "{}", logged_in.body);
        assert_eq!(logged_in.location.as_deref(), Some("/"), "login with next={hostile:?}");
        // Logged in, the login page sends on at once: to the default page.
        let page = visitor.get(&format!("/login?next={}", encoded(hostile))).await;
        assert_eq!(page.status, 303);
        assert_eq!(page.location.as_deref(), Some("/"), "GET /login?next={hostile:?}");
        let csrf = visitor.csrf("/subscriptions").await;
        let revoked =
            visitor.post(&format!("/subscriptions/{feed}/revoke"), &[("csrf", &csrf), ("back", hostile)]).await;
        assert_eq!(revoked.status, 303, "{}", revoked.body);
        assert_eq!(revoked.location.as_deref(), Some("/subscriptions"), "back={hostile:?}");
        visitor.drop_session();
    }
    // A path on the site is still followed.
    let csrf = visitor.csrf("/login").await;
    let page = visitor
        .post(
            "/login",
            &[("csrf", &csrf), ("username", "admin"), ("password", ADMIN_PASSWORD), ("next", "/organiser?x=1")],
        )
        .await;
    assert_eq!(page.location.as_deref(), Some("/organiser?x=1"));
    app.stop().await;
}

/// Ten wrong passwords for `username` from `visitor`, each refused as wrong.
async fn fail_ten_times(visitor: &mut Visitor<'_>, username: &str) {
    for attempt in 0..10 {
        let page = visitor.log_in(username, "not the password").await;
        assert_eq!(page.status, 401, "attempt {attempt}: {}", page.body);
    }
}

/// Reproduces item 5: ten wrong passwords for a known username made the right password answer
/// 429 for everyone, the user included. The lockout now holds for clients without the user's
/// device cookie only; a browser that logged in before still logs in.
#[tokio::test]
async fn failures_by_others_do_not_lock_out_a_browser_that_logged_in_before() {
    let app = TestApp::spawn().await;
    let mut owner = Visitor::new(&app);
    owner.log_in_ok("admin", ADMIN_PASSWORD).await;
    assert!(owner.cookies.contains_key("plenary_device"), "a device cookie after logging in: {:?}", owner.cookies);
    owner.drop_session();

    let mut attacker = Visitor::new(&app);
    fail_ten_times(&mut attacker, "admin").await;
    let locked = attacker.log_in("admin", ADMIN_PASSWORD).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(locked.body.contains("Too many failed attempts for this username. Wait 15 minutes"), "{}", locked.body);
    // A forged or foreign device cookie does not help the attacker.
    attacker.cookies.insert("plenary_device".into(), owner.cookies["plenary_device"].replace('.', "x"));
    assert_eq!(attacker.log_in("admin", ADMIN_PASSWORD).await.status, 429);
    let mut other = Visitor::new(&app);
    account(&app, "eve@osce.example", Role::Organiser, None).await;
    other.log_in_ok("eve@osce.example", PASSWORD).await;
    other.drop_session();
    assert_eq!(other.log_in("admin", ADMIN_PASSWORD).await.status, 429, "a device cookie is for its own username");

    // The owner's browser is counted on its own.
    owner.log_in_ok("admin", ADMIN_PASSWORD).await;
    owner.drop_session();
    // Its own failures still slow it down, without touching anyone else.
    fail_ten_times(&mut owner, "admin").await;
    assert_eq!(owner.log_in("admin", ADMIN_PASSWORD).await.status, 429);
    app.stop().await;
}

/// Guessing across many usernames from one address is bounded too, while a browser with a
/// device cookie from that address still logs in.
#[tokio::test]
async fn failures_are_bounded_per_client_address() {
    let app = TestApp::spawn().await;
    let mut owner = Visitor::new(&app);
    owner.log_in_ok("admin", ADMIN_PASSWORD).await;
    owner.drop_session();
    let mut guesser = Visitor::new(&app);
    for i in 0..100 {
        let page = guesser.log_in(&format!("guess{i}@example.org"), "not the password").await;
        assert_eq!(page.status, 401, "attempt {i}: {}", page.body);
    }
    let refused = guesser.log_in("someone.new@example.org", "not the password").await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert!(refused.body.contains("network address"), "{}", refused.body);
    owner.log_in_ok("admin", ADMIN_PASSWORD).await;
    app.stop().await;
}

/// The counts live in the database: two replicas together allow no more guesses than one.
#[tokio::test]
async fn replicas_share_the_failure_counts() {
    let app = TestApp::spawn().await;
    let replica = app.spawn_replica().await;
    let mut first = Visitor::new(&app);
    let mut second = Visitor::new(&replica);
    for i in 0..5 {
        assert_eq!(first.log_in("admin", "wrong").await.status, 401, "attempt {i} on the first replica");
        assert_eq!(second.log_in("admin", "wrong").await.status, 401, "attempt {i} on the second replica");
    }
    assert_eq!(first.log_in("admin", ADMIN_PASSWORD).await.status, 429);
    assert_eq!(second.log_in("admin", ADMIN_PASSWORD).await.status, 429);
    replica.stop().await;
    app.stop().await;
}

/// A username longer than any account's is refused before it is looked up, counted or hashed.
#[tokio::test]
async fn a_huge_username_is_refused_without_work() {
    let app = TestApp::spawn().await;
    let mut visitor = Visitor::new(&app);
    let huge = "a".repeat(10_000);
    let page = visitor.log_in(&huge, "x").await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert!(page.body.contains("at most 100 characters"), "{}", page.body);
    assert!(!page.body.contains(&huge[..200]), "the username is not echoed back");
    assert_eq!(login_failures::Entity::find().count(&app.state.db).await.unwrap(), 0, "nothing was counted");
    app.stop().await;
}

/// Set-password links work once and expire; refusals are pages in words.
#[tokio::test]
async fn expired_and_used_set_password_links_are_refused_in_words() {
    let app = TestApp::spawn().await;
    let db = &app.state.db;
    let user =
        store::accounts::create_user(db, "nina@bmeia.example", "Nina", Role::Delegation, Some("AT")).await.unwrap();
    let expired = store::accounts::create_password_link(db, user.id, chrono::Utc::now() - chrono::TimeDelta::days(8))
        .await
        .unwrap();
    let mut visitor = Visitor::new(&app);
    let page = visitor.get(&format!("/set-password/{expired}")).await;
    assert_eq!(page.status, 410, "a link older than seven days: {}", page.body);
    assert!(page.body.contains("no longer works"), "{}", page.body);

    let link = store::accounts::create_password_link(db, user.id, chrono::Utc::now()).await.unwrap();
    let path = format!("/set-password/{link}");
    let csrf = visitor.csrf(&path).await;
    let set = visitor.post(&path, &[("csrf", &csrf), ("password", PASSWORD), ("confirm", PASSWORD)]).await;
    assert_eq!(set.status, 303, "{}", set.body);
    let again = visitor
        .post(&path, &[("csrf", &csrf), ("password", "another passphrase"), ("confirm", "another passphrase")])
        .await;
    assert_eq!(again.status, 410, "{}", again.body);
    assert!(again.body.contains("no longer works"), "{}", again.body);
    visitor.log_in_ok("nina@bmeia.example", PASSWORD).await;
    app.stop().await;
}

/// An answer link stops working once its meeting is over: the page and the POST that records
/// the answer are both refused, and nothing is recorded.
#[tokio::test]
async fn rsvp_answers_are_refused_once_the_meeting_is_over() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let next_year = chrono::Datelike::year(&chrono::Utc::now()) + 1;
    let created = app
        .request(Method::POST, "/api/v1/meetings")
        .bearer_auth(&token)
        .json(&json!({
            "body": "PC", "title": "Special session", "start": format!("{next_year}-06-15T10:00:00"),
            "end": format!("{next_year}-06-15T13:00:00"), "time_zone": "Europe/Vienna", "city": "Vienna",
            "country": "AT",
        }))
        .send()
        .await
        .unwrap();
    let meeting = i32::try_from(expect_json(created, 201).await["id"].as_i64().unwrap()).unwrap();
    let secret = store::invitations::secret(&app.state.db, rsvp::SECRET_NAME).await.unwrap();
    let answer = |answer| {
        rsvp::sign(
            &secret,
            &Rsvp { meeting_id: meeting, answer, iso2: Some("AT".into()), email: "hod@bmeia.example".into() },
        )
    };
    let (decline, accept) = (answer(Answer::Declined), answer(Answer::Accepted));
    let mut visitor = Visitor::new(&app);
    let recorded = visitor.post("/rsvp", &[("token", &decline)]).await;
    assert_eq!(recorded.status, 200, "{}", recorded.body);

    // The meeting is moved into the past, as time would.
    let past = chrono::Utc::now().timestamp() - 3600;
    meetings::Entity::update_many()
        .col_expr(meetings::Column::StartsAt, Expr::value(past - 3 * 3600))
        .col_expr(meetings::Column::EndsAt, Expr::value(past))
        .filter(meetings::Column::Id.eq(meeting))
        .exec(&app.state.db)
        .await
        .unwrap();
    let page = visitor.get(&format!("/rsvp/{accept}")).await;
    assert_eq!(page.status, 410, "{}", page.body);
    let refused = visitor.post("/rsvp", &[("token", &accept)]).await;
    assert_eq!(refused.status, 410, "{}", refused.body);
    assert!(refused.body.contains("This meeting is over"), "{}", refused.body);
    let answers: Vec<String> = rsvps::Entity::find()
        .filter(rsvps::Column::MeetingId.eq(meeting))
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.answer)
        .collect();
    assert_eq!(answers, ["declined"], "the late answer changed nothing");
    app.stop().await;
}

/// The browser test of item 2: a non-admin organiser sees no link or button to act on the
/// admin's account, and sees them for a delegation account.
#[tokio::test]
async fn an_organiser_is_offered_no_action_on_the_admin_in_the_browser() {
    let app = TestApp::spawn().await;
    let admin = admin_id(&app).await;
    account(&app, "olga@osce.example", Role::Organiser, None).await;
    let dana = account(&app, "dana@bmeia.example", Role::Delegation, Some("AT")).await;
    let browser = Browser::start(&app.base_url).await;
    browser.log_in("olga@osce.example", PASSWORD).await;
    browser.goto("/organiser/accounts").await;
    browser.wait_for_text("table.list", "dana@bmeia.example").await;
    let rows = browser.find_all("table.list tbody tr").await;
    let mut seen = 0;
    for row in rows {
        let text = row.text().await.unwrap();
        let actions =
            row.find_all(fantoccini::Locator::Css("td.actions form, td.actions button, td.actions a")).await.unwrap();
        if text.starts_with("admin") {
            assert!(actions.is_empty(), "no action on the admin's row: {text}");
            seen += 1;
        } else if text.starts_with("dana@bmeia.example") {
            assert!(!actions.is_empty(), "actions on a delegation's row: {text}");
            seen += 1;
        }
    }
    assert_eq!(seen, 2, "both rows are listed");
    assert!(browser.find_all(&format!("form[action='/organiser/accounts/{admin}/link']")).await.is_empty());
    browser.find(&format!("form[action='/organiser/accounts/{dana}/link'] button")).await;
    browser.close().await;
    app.stop().await;
}
