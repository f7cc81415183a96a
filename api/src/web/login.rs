//! Logging in and out, and setting a password through a one-time link.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use askama::Template;
use axum::{
    Extension, Form, Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use chrono::Utc;
use serde::Deserialize;

use super::{
    Chrome, CurrentUser, Flash, WebResult,
    params::{PagePath, PageQuery},
    redirect_with, render, render_status,
    session::{self, SESSION_COOKIE},
};
use crate::{
    auth::{hash_password, verify_password},
    http::AppState,
    store,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(log_in))
        .route("/logout", post(log_out))
        .route("/set-password/{token}", get(set_password_page).post(set_password))
        .layer(Extension(Arc::new(LoginThrottle::default())))
}

/// Failed logins allowed per username within [`THROTTLE_WINDOW`] before that username must wait.
const MAX_FAILURES: usize = 10;
const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Usernames remembered at most; past this, those with no recent failure are forgotten first.
const MAX_TRACKED: usize = 10_000;

/// Slows down password guessing: after [`MAX_FAILURES`] wrong passwords for one username within
/// [`THROTTLE_WINDOW`], that username is refused until the oldest failure leaves the window.
/// Kept by username, not by address, so guessing from many addresses is slowed too; it is kept
/// per process (each replica counts its own), which bounds guessing without a shared store.
/// Unknown usernames are counted alike, so the refusal says nothing about which accounts exist.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginThrottle {
    /// How long `username` must wait before trying again, if it must.
    fn wait(&self, username: &str, now: Instant) -> Option<Duration> {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let recent = failures.get_mut(username)?;
        recent.retain(|at| now.duration_since(*at) < THROTTLE_WINDOW);
        if recent.len() < MAX_FAILURES {
            return None;
        }
        recent.first().map(|oldest| THROTTLE_WINDOW.saturating_sub(now.duration_since(*oldest)))
    }

    fn failed(&self, username: &str, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if failures.len() >= MAX_TRACKED && !failures.contains_key(username) {
            failures.retain(|_, times| times.iter().any(|at| now.duration_since(*at) < THROTTLE_WINDOW));
        }
        failures.entry(username.to_owned()).or_default().push(now);
    }

    fn succeeded(&self, username: &str) {
        self.failures.lock().unwrap_or_else(PoisonError::into_inner).remove(username);
    }
}

/// The shortest password accepted.
const MIN_PASSWORD: usize = 12;

/// Where to go after logging in: only a path on this site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(next) if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") => next.to_owned(),
        _ => "/".to_owned(),
    }
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
struct NextQuery {
    next: Option<String>,
}

async fn login_page(c: Chrome, PageQuery(query): PageQuery<NextQuery>) -> WebResult {
    let next = safe_next(query.next.as_deref());
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

async fn log_in(
    State(state): State<AppState>,
    Extension(throttle): Extension<Arc<LoginThrottle>>,
    c: Chrome,
    Form(form): Form<LoginForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let next = safe_next(form.next.as_deref());
    let username = form.username.trim().to_lowercase();
    if let Some(wait) = throttle.wait(&username, Instant::now()) {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let message = format!(
            "Too many failed attempts for this username. Wait {minutes} minute{} and try again, or ask an organiser for a new password link.",
            if minutes == 1 { "" } else { "s" }
        );
        let page = LoginPage { c: &c, next, username: form.username.clone(), error: Some(&message) };
        return render_status(&c, StatusCode::TOO_MANY_REQUESTS, &page);
    }
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
    let Some(user) = user.filter(|_| matches) else {
        throttle.failed(&username, Instant::now());
        return refused(WRONG);
    };
    throttle.succeeded(&username);
    if user.disabled {
        return refused("This account has been disabled. Ask an organiser if you need it again.");
    }
    let (secret, _) = store::accounts::create_session(&state.db, user.id, Utc::now()).await?;
    let mut response = redirect_with(&c, &next, &Flash::ok(format!("Welcome, {}.", user.display_name)));
    session::append_cookie(response.headers_mut(), &session::session_cookie(&secret, c.secure()));
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
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(safe_next(Some("/organiser?x=1")), "/organiser?x=1");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn the_dummy_hash_is_a_valid_hash_that_matches_nothing_likely() {
        assert!(argon2::password_hash::PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_password("", DUMMY_HASH));
    }

    #[test]
    fn a_username_waits_after_too_many_failures_until_the_oldest_leaves_the_window() {
        let throttle = LoginThrottle::default();
        let start = Instant::now();
        for i in 0..MAX_FAILURES {
            assert_eq!(throttle.wait("admin", start), None, "attempt {i} is allowed");
            throttle.failed("admin", start + Duration::from_secs(u64::try_from(i).unwrap()));
        }
        let later = start + Duration::from_secs(60);
        assert_eq!(throttle.wait("admin", later), Some(THROTTLE_WINDOW - Duration::from_secs(60)));
        assert_eq!(throttle.wait("someone.else", later), None, "other usernames are not affected");
        assert_eq!(throttle.wait("admin", start + THROTTLE_WINDOW + Duration::from_secs(1)), None);
    }

    #[test]
    fn a_success_clears_the_count() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..MAX_FAILURES - 1 {
            throttle.failed("admin", now);
        }
        throttle.succeeded("admin");
        throttle.failed("admin", now);
        assert_eq!(throttle.wait("admin", now), None);
    }
}
