//! Logging in and out, and setting a password through a one-time link.
//!
//! Password guessing is slowed without letting anyone lock the real user out (OWASP's device
//! cookies, see [`super::device`]). A login from a browser holding a valid device cookie for
//! the username is counted against that cookie alone; every other login is counted against
//! the username and against the client's address (the TCP peer), and refused with a 429 page
//! once either has too many recent failures. The counts are kept in the database
//! ([`store::login_failures`]), so every replica sees the same. Usernames longer than any
//! account's are refused before any lookup or hashing.

use std::net::SocketAddr;

use askama::Template;
use axum::{
    Extension, Form, Router,
    extract::{ConnectInfo, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use chrono::Utc;
use serde::Deserialize;

use super::{
    Chrome, CurrentUser, Flash, WebResult, device,
    params::{PagePath, PageQuery},
    redirect, redirect_with, render, render_status,
    session::{self, SESSION_COOKIE},
};
use crate::{
    app::AppState,
    auth::{hash_password, verify_password},
    store::{self, login_failures},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(log_in))
        .route("/logout", post(log_out))
        .route("/set-password/{token}", get(set_password_page).post(set_password))
}

/// Failed logins allowed within [`login_failures::WINDOW`] for one username from clients without its device
/// cookie (they all share this count, so it bounds guessing from many addresses).
const MAX_UNTRUSTED_FAILURES: usize = 10;
/// Failed logins allowed within [`login_failures::WINDOW`] for one device cookie: the browser that holds it
/// waits, nobody else does.
const MAX_DEVICE_FAILURES: usize = 10;
/// Failed logins allowed within [`login_failures::WINDOW`] from one client address without a device cookie,
/// across usernames. Behind a reverse proxy every client has the proxy's address, so this is
/// then a bound on all untrusted guessing together: high enough that a few people mistyping
/// do not reach it, low enough that guessing across many usernames stays slow.
const MAX_ADDRESS_FAILURES: usize = 100;
/// Longest username looked at; longer ones are refused before any database work or hashing
/// (the input policy allows no longer username).
const MAX_USERNAME: usize = 100;

/// The shortest password accepted.
const MIN_PASSWORD: usize = 12;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    c: &'a Chrome,
    next: String,
    username: String,
    error: Option<&'a str>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_page(State(state): State<AppState>, c: Chrome, PageQuery(query): PageQuery<NextQuery>) -> WebResult {
    let next = redirect::local_or(query.next.as_deref(), &state.config.public_base(), "/");
    if c.user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    render(&c, &LoginPage { c: &c, next, username: String::new(), error: None })
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// The one message for an unknown user, a wrong password, or an account without a password
/// yet: it never says which part was wrong.
const WRONG: &str = "The username and password do not match an account. Check both and try again.";

/// The address of the client's TCP connection; `unknown` when the service runs without it
/// (a router called directly), which then counts every such client together.
fn client_address(connect: Option<&ConnectInfo<SocketAddr>>) -> String {
    connect.map_or_else(|| "unknown".to_owned(), |ConnectInfo(addr)| addr.ip().to_string())
}

/// The refusal of a throttled attempt, in words, with how long to wait. It reads the same for
/// known and unknown usernames.
fn throttled_message(refused: &login_failures::Refused) -> String {
    let minutes = refused.wait.num_seconds().max(1).unsigned_abs().div_ceil(60);
    let wait = format!("Wait {minutes} minute{} and try again", if minutes == 1 { "" } else { "s" });
    if refused.key.starts_with("address:") {
        format!(
            "Too many failed attempts from your network address. {wait}. A browser you have logged in with before is not affected."
        )
    } else if refused.key.starts_with("device:") {
        format!("Too many failed attempts for this username. {wait}, or ask an organiser for a new password link.")
    } else {
        format!(
            "Too many failed attempts for this username. {wait}, or ask an organiser for a new password link. A browser you have logged in with before is not affected."
        )
    }
}

async fn log_in(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    c: Chrome,
    Form(form): Form<LoginForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let next = redirect::local_or(form.next.as_deref(), &state.config.public_base(), "/");
    let username = form.username.trim().to_lowercase();
    if username.chars().count() > MAX_USERNAME {
        // No account has such a name; nothing is looked up, hashed or counted for it.
        let message = format!("{WRONG} A username has at most {MAX_USERNAME} characters.");
        let page = LoginPage { c: &c, next, username: String::new(), error: Some(&message) };
        return render_status(&c, StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let secret = store::invitations::secret(&state.db, device::SECRET_NAME).await?;
    let trusted = session::cookie(&headers, device::COOKIE)
        .and_then(|value| device::nonce_for(&secret, &value, &username))
        .map(|nonce| format!("device:{nonce}"));
    // A browser that logged in as this user before is counted on its own; everyone else is
    // counted per username and per address.
    let limits = match &trusted {
        Some(device) => vec![login_failures::Limit { key: device.clone(), max_failures: MAX_DEVICE_FAILURES }],
        None => vec![
            login_failures::Limit { key: format!("user:{username}"), max_failures: MAX_UNTRUSTED_FAILURES },
            login_failures::Limit {
                key: format!("address:{}", client_address(connect.as_ref().map(|Extension(info)| info))),
                max_failures: MAX_ADDRESS_FAILURES,
            },
        ],
    };
    let attempt = match login_failures::begin(&state.db, &limits, Utc::now()).await? {
        Ok(attempt) => attempt,
        Err(refused) => {
            let message = throttled_message(&refused);
            let page = LoginPage { c: &c, next, username: form.username.clone(), error: Some(&message) };
            return render_status(&c, StatusCode::TOO_MANY_REQUESTS, &page);
        }
    };
    let user = store::accounts::find_by_username(&state.db, &username).await?;
    let password = form.password;
    let (user, matches) = tokio::task::spawn_blocking(move || {
        // Hash against a dummy when the user is unknown, so timing does not tell either.
        let hash = user.as_ref().and_then(|user| user.password_hash.clone()).unwrap_or_else(|| DUMMY_HASH.to_owned());
        let matches = verify_password(&password, &hash);
        (user, matches)
    })
    .await
    .map_err(|error| anyhow::anyhow!("password check panicked: {error}"))?;
    let refused = |message: &'static str| {
        render_status(
            &c,
            StatusCode::UNAUTHORIZED,
            &LoginPage { c: &c, next: next.clone(), username: form.username.clone(), error: Some(message) },
        )
    };
    // A wrong password leaves the attempt written down: it is a failure now.
    let Some(user) = user.filter(|_| matches) else {
        return refused(WRONG);
    };
    // The user's and this browser's own failures are forgotten; the address's are not, or one
    // account's owner could guess at others' between their own logins.
    let mut clear = vec![format!("user:{username}")];
    clear.extend(trusted);
    login_failures::succeeded(&state.db, attempt, &clear).await?;
    if user.disabled {
        return refused("This account has been disabled. Ask an organiser if you need it again.");
    }
    let (session_secret, _) = store::accounts::create_session(&state.db, user.id, Utc::now()).await?;
    let mut response = redirect_with(&c, &next, &Flash::ok(format!("Welcome, {}.", user.display_name)));
    session::append_cookie(response.headers_mut(), &session::session_cookie(&session_secret, c.secure()));
    session::append_cookie(
        response.headers_mut(),
        &session::set_cookie(
            device::COOKIE,
            &device::issue(&secret, &username),
            Some(device::LIFETIME.num_seconds()),
            c.secure(),
        ),
    );
    Ok(response)
}

/// An argon2 hash of a random password nobody knows.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0VnbyS4f7xoKUm6qkxXG9Wt2Oal6l6sMpnRwiBaVmUk";

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn log_out(
    State(state): State<AppState>,
    c: Chrome,
    user: Option<CurrentUser>,
    Form(form): Form<CsrfForm>,
) -> WebResult {
    if let Some(user) = user {
        c.check_csrf(&form.csrf)?;
        store::accounts::end_session(&state.db, &user.session_id).await?;
    }
    let mut response = redirect_with(&c, "/", &Flash::ok("You are logged out."));
    session::append_cookie(response.headers_mut(), &session::set_cookie(SESSION_COOKIE, "", Some(0), c.secure()));
    Ok(response)
}

#[derive(Template)]
#[template(path = "set_password.html")]
struct SetPasswordPage<'a> {
    c: &'a Chrome,
    /// `None` when the link no longer works.
    username: Option<String>,
    token: String,
    error: Option<String>,
}

async fn set_password_page(State(state): State<AppState>, c: Chrome, PagePath(token): PagePath<String>) -> WebResult {
    let user = store::accounts::password_link_user(&state.db, &token, Utc::now()).await?;
    let status = if user.is_some() { StatusCode::OK } else { StatusCode::GONE };
    render_status(&c, status, &SetPasswordPage { c: &c, username: user.map(|user| user.username), token, error: None })
}

#[derive(Deserialize)]
struct SetPasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

async fn set_password(
    State(state): State<AppState>,
    c: Chrome,
    PagePath(token): PagePath<String>,
    Form(form): Form<SetPasswordForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let now = Utc::now();
    let Some(user) = store::accounts::password_link_user(&state.db, &token, now).await? else {
        return render_status(&c, StatusCode::GONE, &SetPasswordPage { c: &c, username: None, token, error: None });
    };
    let error = if form.password.chars().count() < MIN_PASSWORD {
        Some(format!("Choose a password of at least {MIN_PASSWORD} characters."))
    } else if form.password != form.confirm {
        Some("The two passwords are not the same. Type the same password twice.".to_owned())
    } else {
        None
    };
    if let Some(error) = error {
        return render_status(
            &c,
            StatusCode::UNPROCESSABLE_ENTITY,
            &SetPasswordPage { c: &c, username: Some(user.username), token, error: Some(error) },
        );
    }
    let password = form.password;
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|error| anyhow::anyhow!("password hashing panicked: {error}"))??;
    if !store::accounts::use_password_link(&state.db, &token, &hash, now).await? {
        return render_status(&c, StatusCode::GONE, &SetPasswordPage { c: &c, username: None, token, error: None });
    }
    Ok(redirect_with(
        &c,
        &format!("/login?next=%2F{}", if user.iso2.is_some() { "delegation" } else { "organiser" }),
        &Flash::ok(format!("Your password is set. Log in as {} with it.", user.username)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_is_a_valid_hash_that_matches_nothing_likely() {
        assert!(argon2::password_hash::PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_password("", DUMMY_HASH));
    }

    #[test]
    fn a_refusal_says_how_long_to_wait_in_whole_minutes() {
        let refused =
            |key: &str, seconds| login_failures::Refused { key: key.into(), wait: chrono::TimeDelta::seconds(seconds) };
        assert!(throttled_message(&refused("user:admin", 900)).contains("Wait 15 minutes"));
        assert!(throttled_message(&refused("user:admin", 61)).contains("Wait 2 minutes"));
        assert!(throttled_message(&refused("device:x", 1)).contains("Wait 1 minute and"));
        assert!(throttled_message(&refused("address:127.0.0.1", 30)).contains("network address"));
        assert_eq!(
            throttled_message(&refused("user:admin", 600)),
            throttled_message(&refused("user:nobody", 600)),
            "the same for any username"
        );
    }
}
