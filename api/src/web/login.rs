//! Logging in and out, asking for a password link ("forgot password") and setting a password
//! through it: the forms of [`service::accounts`]'s use cases.
//!
//! Password guessing is slowed without letting anyone lock the real user out (OWASP's device
//! cookies, see [`device`]): a login from a browser holding a valid device cookie for the
//! username is counted against that cookie alone, every other login against the username and
//! the client's address (the TCP peer), and a refused one gets a 429 page saying how long to
//! wait. Usernames longer than any account's are refused before any lookup or hashing.

use std::net::SocketAddr;

use askama::Template;
use axum::{
    Extension, Form, Router,
    extract::{ConnectInfo, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use scheduler::accounts::{Counter, MAX_USERNAME, MIN_PASSWORD, PasswordProblem};
use serde::Deserialize;

use super::{
    Chrome, CurrentUser, Flash, WebResult,
    params::{PagePath, PageQuery},
    redirect, redirect_with, render, render_status,
    session::{self, SESSION_COOKIE},
};
use crate::{
    app::AppState,
    service::{
        self,
        accounts::{Credentials, LoginRefusal, PasswordSet, device},
    },
    store::login_failures,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(log_in))
        .route("/logout", post(log_out))
        .route("/forgot-password", get(forgot_password_page).post(forgot_password))
        .route("/set-password/{token}", get(set_password_page).post(set_password))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    c: &'a Chrome,
    next: String,
    username: String,
    error: Option<&'a str>,
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
    /// Filled in for the user who has just set their password.
    username: Option<String>,
}

async fn login_page(State(state): State<AppState>, c: Chrome, PageQuery(query): PageQuery<LoginQuery>) -> WebResult {
    let next = redirect::local_or(query.next.as_deref(), &state.config.public_base(), "/");
    if c.user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let username: String = query.username.unwrap_or_default().chars().take(MAX_USERNAME).collect();
    render(&c, &LoginPage { c: &c, next, username, error: None })
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
    match refused.counter {
        Counter::Address(_) | Counter::ResetFrom(_) => format!(
            "Too many failed attempts from your network address. {wait}. A browser you have logged in with before is not affected."
        ),
        Counter::Device(_) => {
            format!("Too many failed attempts for this username. {wait}, or ask an organiser for a new password link.")
        }
        Counter::User(_) | Counter::ResetFor(_) => format!(
            "Too many failed attempts for this username. {wait}, or ask an organiser for a new password link. A browser you have logged in with before is not affected."
        ),
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
    let credentials = Credentials {
        username: form.username.clone(),
        password: form.password,
        device_cookie: session::cookie(&headers, device::COOKIE),
        address: client_address(connect.as_ref().map(|Extension(info)| info)),
    };
    let (status, message) = match service::accounts::log_in(&state.db, credentials).await? {
        Ok(welcome) => {
            let flash = Flash::ok(format!("Welcome, {}.", welcome.user.display_name));
            let mut response = redirect_with(&c, &next, &flash);
            session::append_cookie(
                response.headers_mut(),
                &session::session_cookie(&welcome.session_secret, c.secure()),
            );
            session::append_cookie(
                response.headers_mut(),
                &session::set_cookie(
                    device::COOKIE,
                    &welcome.device_cookie,
                    Some(device::LIFETIME.num_seconds()),
                    c.secure(),
                ),
            );
            return Ok(response);
        }
        Err(LoginRefusal::UsernameTooLong) => {
            // The username is not shown again: no account has such a name.
            let message = format!("{WRONG} A username has at most {MAX_USERNAME} characters.");
            let page = LoginPage { c: &c, next, username: String::new(), error: Some(&message) };
            return render_status(&c, StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
        Err(LoginRefusal::Throttled(refused)) => (StatusCode::TOO_MANY_REQUESTS, throttled_message(&refused)),
        Err(LoginRefusal::Wrong) => (StatusCode::UNAUTHORIZED, WRONG.to_owned()),
        Err(LoginRefusal::Disabled) => (
            StatusCode::UNAUTHORIZED,
            "This account has been disabled. Ask an organiser if you need it again.".to_owned(),
        ),
    };
    render_status(&c, status, &LoginPage { c: &c, next, username: form.username, error: Some(&message) })
}

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
        service::accounts::log_out(&state.db, &user.session_id).await?;
    }
    let mut response = redirect_with(&c, "/", &Flash::ok("You are logged out."));
    session::append_cookie(response.headers_mut(), &session::set_cookie(SESSION_COOKIE, "", Some(0), c.secure()));
    Ok(response)
}

#[derive(Template)]
#[template(path = "forgot_password.html")]
struct ForgotPasswordPage<'a> {
    c: &'a Chrome,
    /// What was asked for, once the request is sent.
    sent_for: Option<String>,
}

async fn forgot_password_page(c: Chrome) -> WebResult {
    render(&c, &ForgotPasswordPage { c: &c, sent_for: None })
}

#[derive(Deserialize)]
struct ForgotPasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

/// Answers the same whatever was typed: whether an account matched is told only by its inbox.
async fn forgot_password(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    c: Chrome,
    Form(form): Form<ForgotPasswordForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let address = client_address(connect.as_ref().map(|Extension(info)| info));
    service::accounts::request_password_reset(&state.db, &state.config, &form.name, &address).await?;
    let sent_for = form.name.trim().chars().take(MAX_USERNAME).collect();
    render(&c, &ForgotPasswordPage { c: &c, sent_for: Some(sent_for) })
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
    let user = service::accounts::password_link_user(&state.db, &token).await?;
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
    match service::accounts::set_password(&state.db, &token, form.password, &form.confirm).await? {
        PasswordSet::Set(user) => {
            let home = if user.iso2.is_some() { "delegation" } else { "organiser" };
            let username: String = url::form_urlencoded::byte_serialize(user.username.as_bytes()).collect();
            Ok(redirect_with(
                &c,
                &format!("/login?next=%2F{home}&username={username}"),
                &Flash::ok(format!("Your password is set. Log in as {} with it.", user.username)),
            ))
        }
        PasswordSet::Gone => {
            render_status(&c, StatusCode::GONE, &SetPasswordPage { c: &c, username: None, token, error: None })
        }
        PasswordSet::Refused { user, problem } => {
            let error = match problem {
                PasswordProblem::TooShort => format!("Choose a password of at least {MIN_PASSWORD} characters."),
                PasswordProblem::Mismatch => {
                    "The two passwords are not the same. Type the same password twice.".to_owned()
                }
            };
            render_status(
                &c,
                StatusCode::UNPROCESSABLE_ENTITY,
                &SetPasswordPage { c: &c, username: Some(user.username), token, error: Some(error) },
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_says_how_long_to_wait_in_whole_minutes() {
        let refused = |counter, seconds| login_failures::Refused { counter, wait: chrono::TimeDelta::seconds(seconds) };
        let user = |name: &str| Counter::User(name.into());
        assert!(throttled_message(&refused(user("admin"), 900)).contains("Wait 15 minutes"));
        assert!(throttled_message(&refused(user("admin"), 61)).contains("Wait 2 minutes"));
        assert!(throttled_message(&refused(Counter::Device("x".into()), 1)).contains("Wait 1 minute and"));
        assert!(throttled_message(&refused(Counter::Address("127.0.0.1".into()), 30)).contains("network address"));
        assert_eq!(
            throttled_message(&refused(user("admin"), 600)),
            throttled_message(&refused(user("nobody"), 600)),
            "the same for any username"
        );
    }
}
