//! Logging in and out, and setting a password through a one-time link.

use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use chrono::Utc;
use serde::Deserialize;

use super::{
    Chrome, CurrentUser, Flash, WebResult, redirect_with, render, render_status,
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

async fn login_page(c: Chrome, Query(query): Query<NextQuery>) -> WebResult {
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

async fn log_in(State(state): State<AppState>, c: Chrome, Form(form): Form<LoginForm>) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let next = safe_next(form.next.as_deref());
    let username = form.username.trim().to_lowercase();
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
        return refused(WRONG);
    };
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

async fn set_password_page(State(state): State<AppState>, c: Chrome, Path(token): Path<String>) -> WebResult {
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
    Path(token): Path<String>,
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
}
