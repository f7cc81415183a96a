//! Who is looking at a page: the session cookie, the [`CurrentUser`] extractors, CSRF tokens
//! and one-shot flash messages.
//!
//! The cookie `plenary_session` carries a random secret whose SHA-256 names a row of
//! `sessions`; it is `HttpOnly`, `SameSite=Lax`, and `Secure` when Plenary is served over https.
//! Every POST form carries a CSRF token in a hidden field: the session's own, or for visitors
//! who are not logged in (the login and set-password forms) the value of a `plenary_csrf`
//! cookie (double submit). A disabled user's sessions end on their next request.

use axum::{
    extract::{FromRequestParts, OptionalFromRequestParts},
    http::{HeaderMap, HeaderValue, header, request::Parts},
};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::WebError;
use crate::{
    app::AppState,
    auth::{Principal, Role, new_secret},
    service,
    store::accounts::SESSION_LIFETIME,
};

// The JSON API recognises sessions too (a logged-in visitor's seating plan names people), so
// the session cookie's name and reader live with the other credentials in `auth`.
pub use crate::auth::{SESSION_COOKIE, cookie};
pub const CSRF_COOKIE: &str = "plenary_csrf";
pub const FLASH_COOKIE: &str = "plenary_flash";

/// A logged-in user, as pages see them.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: i32,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The State a delegation user acts for.
    pub iso2: Option<String>,
    /// The `sessions` row (the SHA-256 of the cookie's secret), for logging out.
    pub session_id: String,
    /// What this session's forms must echo.
    pub csrf: String,
}

impl CurrentUser {
    #[must_use]
    pub fn is_organiser(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Organiser)
    }

    #[must_use]
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// The same caller as the JSON API knows it, so pages call the same functions.
    #[must_use]
    pub fn principal(&self) -> Principal {
        Principal { role: self.role, state: self.iso2.clone(), actor: format!("user:{}", self.username) }
    }
}

/// The session of this request, looked up once and kept in the request's extensions.
#[derive(Clone)]
struct Resolved(Option<CurrentUser>);

async fn resolve(parts: &mut Parts, state: &AppState) -> Result<Option<CurrentUser>, WebError> {
    if let Some(Resolved(user)) = parts.extensions.get::<Resolved>() {
        return Ok(user.clone());
    }
    let user = match cookie(&parts.headers, SESSION_COOKIE) {
        Some(secret) => service::accounts::session(&state.db, &secret).await?.map(|found| CurrentUser {
            id: found.user.id,
            username: found.user.username,
            display_name: found.user.display_name,
            role: found.user.role,
            iso2: found.user.iso2,
            session_id: found.session.id,
            csrf: found.session.csrf_token,
        }),
        None => None,
    };
    parts.extensions.insert(Resolved(user.clone()));
    Ok(user)
}

/// Required: a visitor who is not logged in is sent to `/login?next=<this page>`.
impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let next = parts.uri.path_and_query().map_or("/", |pq| pq.as_str()).to_owned();
        resolve(parts, state).await?.ok_or(WebError::LoginRequired { next })
    }
}

/// Optional: `Option<CurrentUser>` is `None` for visitors.
impl OptionalFromRequestParts<AppState> for CurrentUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Option<Self>, Self::Rejection> {
        resolve(parts, state).await
    }
}

/// A logged-in organiser (or admin); others get a 403 page.
pub struct OrganiserUser(pub CurrentUser);

impl FromRequestParts<AppState> for OrganiserUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = <CurrentUser as FromRequestParts<AppState>>::from_request_parts(parts, state).await?;
        if user.is_organiser() {
            Ok(Self(user))
        } else {
            Err(WebError::Forbidden("This page is for organisers. You are logged in as a delegation user.".into()))
        }
    }
}

/// A message shown once, on the next page, after a redirect.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    /// `ok`, `warn` or `error`: how it is styled and announced.
    pub kind: String,
    pub lines: Vec<String>,
}

impl Flash {
    #[must_use]
    pub fn ok(line: impl Into<String>) -> Self {
        Self { kind: "ok".into(), lines: vec![line.into()] }
    }

    fn encode(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(text: &str) -> Option<Self> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// What the layout of every page needs: the user, the CSRF token for its forms, a flash
/// message, and where we are.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub user: Option<CurrentUser>,
    pub csrf: String,
    pub flash: Option<Flash>,
    /// Path of this page, for `aria-current` in the navigation.
    pub path: String,
    /// Version of the static files, to bust caches when they change.
    pub asset_version: &'static str,
    /// A visitor's CSRF token was just made and must be set as a cookie.
    new_visitor_csrf: bool,
    had_flash: bool,
    secure: bool,
}

impl Chrome {
    /// The chrome of an error page, when the request's own could not be built.
    #[must_use]
    pub fn bare() -> Self {
        Self {
            user: None,
            csrf: String::new(),
            flash: None,
            path: String::new(),
            asset_version: super::assets::version(),
            new_visitor_csrf: false,
            had_flash: false,
            secure: false,
        }
    }

    #[must_use]
    pub fn is_organiser(&self) -> bool {
        self.user.as_ref().is_some_and(CurrentUser::is_organiser)
    }

    #[must_use]
    pub fn is_delegation(&self) -> bool {
        self.user.as_ref().is_some_and(|user| user.role == Role::Delegation)
    }

    /// Whether the navigation entry for `prefix` is the current page.
    #[must_use]
    pub fn current(&self, prefix: &str) -> bool {
        if prefix == "/" {
            self.path == "/" || self.path.starts_with("/meetings")
        } else {
            self.path.starts_with(prefix)
        }
    }

    /// Checks the CSRF token a form sent back.
    ///
    /// # Errors
    /// [`WebError::BadCsrf`] when it is missing or does not match.
    pub fn check_csrf(&self, sent: &str) -> Result<(), WebError> {
        if !self.csrf.is_empty() && constant_time_eq(self.csrf.as_bytes(), sent.as_bytes()) {
            Ok(())
        } else {
            Err(WebError::BadCsrf)
        }
    }

    /// `Set-Cookie` headers this page's response must carry.
    pub(crate) fn cookies(&self, headers: &mut HeaderMap) {
        if self.new_visitor_csrf {
            append_cookie(headers, &set_cookie(CSRF_COOKIE, &self.csrf, None, self.secure));
        }
        if self.had_flash {
            append_cookie(headers, &set_cookie(FLASH_COOKIE, "", Some(0), self.secure));
        }
    }

    #[must_use]
    pub fn secure(&self) -> bool {
        self.secure
    }
}

impl FromRequestParts<AppState> for Chrome {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = resolve(parts, state).await?;
        let secure = state.config.public_base().starts_with("https");
        let (csrf, new_visitor_csrf) = match &user {
            Some(user) => (user.csrf.clone(), false),
            None => match cookie(&parts.headers, CSRF_COOKIE).filter(|value| value.len() >= 32) {
                Some(value) => (value, false),
                None => (new_secret(""), true),
            },
        };
        let flash_cookie = cookie(&parts.headers, FLASH_COOKIE).filter(|value| !value.is_empty());
        Ok(Self {
            user,
            csrf,
            flash: flash_cookie.as_deref().and_then(Flash::decode),
            path: parts.uri.path().to_owned(),
            asset_version: super::assets::version(),
            new_visitor_csrf,
            had_flash: flash_cookie.is_some(),
            secure,
        })
    }
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, path `/`, `Secure` over https.
#[must_use]
pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> String {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(max_age) = max_age {
        cookie.push_str(&format!("; Max-Age={max_age}"));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

/// The session cookie for a new session.
#[must_use]
pub fn session_cookie(secret: &str, secure: bool) -> String {
    set_cookie(SESSION_COOKIE, secret, Some(SESSION_LIFETIME.num_seconds()), secure)
}

/// A flash message cookie, read and cleared by the next page.
#[must_use]
pub fn flash_cookie(flash: &Flash, secure: bool) -> String {
    set_cookie(FLASH_COOKIE, &flash.encode(), Some(300), secure)
}

pub(crate) fn append_cookie(headers: &mut HeaderMap, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.append(header::SET_COOKIE, value);
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_from_every_header() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; plenary_session=abc"));
        headers.append(header::COOKIE, HeaderValue::from_static("plenary_csrf=xyz"));
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, CSRF_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn flash_survives_the_cookie() {
        let flash = Flash { kind: "warn".into(), lines: vec!["Moved; the room was taken — “PC”".into()] };
        let decoded = Flash::decode(&flash.encode()).unwrap();
        assert_eq!(decoded.lines, flash.lines);
        assert!(set_cookie("x", "y", Some(0), true).ends_with("Max-Age=0; Secure"));
    }
}
