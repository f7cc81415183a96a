//! The web pages: server-rendered HTML (askama templates under `frontend/templates`), hand-written
//! CSS and a little JavaScript (`frontend/static`, embedded), each page usable without scripts.
//!
//! Pages call the same functions as the JSON API (`http::meetings::create_and_store` and
//! friends), so a rule holds in one place; they show every API error in words next to the field
//! it names.

mod accounts;
mod assets;
mod calendar;
mod delegation;
mod forms;
mod invitations;
mod lists;
mod login;
mod meeting;
mod organiser;
mod params;
mod redirect;
mod registration;
mod roles;
mod rsvp;
pub mod session;
mod subscriptions;
mod views;

use askama::Template;
use axum::{
    Router,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};

use crate::app::AppState;
pub use session::{Chrome, CurrentUser, Flash, OrganiserUser};

/// Every page and the static files.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(assets::router())
        .merge(calendar::router())
        .merge(meeting::router())
        .merge(login::router())
        .merge(organiser::router())
        .merge(accounts::router())
        .merge(delegation::router())
        .merge(subscriptions::router())
        .merge(invitations::router())
        .merge(rsvp::router())
        .merge(registration::router())
        .merge(lists::router())
}

/// The page for an address that does not exist.
#[must_use]
pub fn not_found(uri: &axum::http::Uri) -> WebError {
    WebError::NotFound(format!("There is no page at {}.", uri.path()))
}

/// What a page handler can fail with; each becomes a page in words, never JSON.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// 303 to the login page, coming back to `next` afterwards.
    #[error("log in to see this page")]
    LoginRequired { next: String },
    /// 403 page.
    #[error("{0}")]
    Forbidden(String),
    /// 403 page: the form's CSRF token was missing or stale.
    #[error("this form has expired")]
    BadCsrf,
    /// 404 page.
    #[error("{0}")]
    NotFound(String),
    /// 400 page: a request the pages never make (a hand-edited address).
    #[error("{0}")]
    BadRequest(String),
    /// 503 page: the database cannot be reached right now; the cause is logged, not shown.
    #[error("the database cannot be reached right now")]
    Unavailable(anyhow::Error),
    /// 503 page: Plenary cannot take the request right now but may in a moment; the message
    /// says why.
    #[error("{0}")]
    TryAgain(String),
    /// 500 page; the cause is logged, not shown.
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl From<anyhow::Error> for WebError {
    fn from(error: anyhow::Error) -> Self {
        if crate::db::is_unavailable_cause(&error) { Self::Unavailable(error) } else { Self::Internal(error) }
    }
}

impl From<sea_orm::DbErr> for WebError {
    fn from(error: sea_orm::DbErr) -> Self {
        anyhow::Error::from(error).into()
    }
}

impl From<askama::Error> for WebError {
    fn from(error: askama::Error) -> Self {
        Self::Internal(error.into())
    }
}

impl From<crate::service::Error> for WebError {
    fn from(error: crate::service::Error) -> Self {
        use crate::service::Error;
        match error {
            Error::NotFound(message) => Self::NotFound(message),
            Error::Forbidden(message) => Self::Forbidden(message),
            Error::Refused(refusal @ scheduler::attendance::Refusal::NotInvited { .. }) => {
                Self::Forbidden(refusal.to_string())
            }
            Error::Internal(cause) => Self::Internal(cause),
            Error::Unavailable(cause) => Self::Unavailable(cause),
            Error::TryAgain(message) => Self::TryAgain(message),
            other => Self::BadRequest(other.to_string()),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    c: &'a Chrome,
    heading: &'a str,
    message: String,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, heading, message) = match self {
            Self::LoginRequired { next } => {
                let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
                return Redirect::to(&format!("/login?next={next}")).into_response();
            }
            Self::Forbidden(message) => (StatusCode::FORBIDDEN, "Not allowed", message),
            Self::BadCsrf => (
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The page you sent it from was too old, or you logged in or out in another tab. Go back, reload the page and try again.".to_owned(),
            ),
            Self::NotFound(message) => (StatusCode::NOT_FOUND, "Not found", message),
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, "That address is not right", message),
            Self::Unavailable(cause) => {
                crate::db::log_unavailable(&cause);
                return unavailable_page(
                    "Plenary cannot reach its database right now, so nothing was read or changed. Please try again in a minute.".to_owned(),
                );
            }
            Self::TryAgain(message) => return unavailable_page(forms::capitalise(&message)),
            Self::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error on a page");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Something went wrong on our side; it has been logged. Please try again.".to_owned(),
                )
            }
        };
        render_error((status, heading, message))
    }
}

/// What a 503 asks clients to wait before trying again, in seconds.
const RETRY_AFTER_SECS: &str = "5";

/// A 503 page saying `message`, and when to try again.
fn unavailable_page(message: String) -> Response {
    let mut response = render_error((StatusCode::SERVICE_UNAVAILABLE, "Unavailable for a moment", message));
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
    response
}

fn render_error((status, heading, message): (StatusCode, &str, String)) -> Response {
    let chrome = Chrome::bare();
    let page = ErrorPage { c: &chrome, heading, message };
    match page.render() {
        Ok(html) => (status, html_headers(), html).into_response(),
        Err(_) => (status, heading.to_owned()).into_response(),
    }
}

/// The result of page handlers.
pub type WebResult<T = Response> = Result<T, WebError>;

fn html_headers() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ]
}

/// Renders `template` as this request's page, with the cookies its chrome needs.
///
/// # Errors
/// When the template fails to render.
pub fn render(chrome: &Chrome, template: &impl Template) -> WebResult {
    render_status(chrome, StatusCode::OK, template)
}

/// Like [`render`], with a status (422 for a form sent back with errors).
///
/// # Errors
/// When the template fails to render.
pub fn render_status(chrome: &Chrome, status: StatusCode, template: &impl Template) -> WebResult {
    let html = template.render()?;
    let mut response = (status, html_headers(), html).into_response();
    chrome.cookies(response.headers_mut());
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    Ok(response)
}

/// A 303 to `to` that shows `flash` there.
#[must_use]
pub fn redirect_with(chrome: &Chrome, to: &str, flash: &Flash) -> Response {
    let mut response = Redirect::to(to).into_response();
    session::append_cookie(response.headers_mut(), &session::flash_cookie(flash, chrome.secure()));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn try_again_is_a_503_page_with_retry_after_that_says_why() {
        let why = "too many registrations for this meeting are waiting; try again in a moment";
        let response = WebError::from(crate::service::Error::TryAgain(why.into())).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], RETRY_AFTER_SECS);
        let page = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let page = String::from_utf8(page.to_vec()).unwrap();
        assert!(page.contains("Too many registrations for this meeting are waiting; try again in a moment"), "{page}");
    }
}
