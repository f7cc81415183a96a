//! The one error type every JSON handler returns, and its JSON shape.
//!
//! Use cases return [`service::Error`], which becomes an [`ApiError`] through `?` (the mapping
//! is [`From<service::Error>`] below: one place decides each variant's status and `details`);
//! what only the edge knows (an unreadable body, a missing token) is an [`ApiError`] directly.
//! The pages have their own error (`web::WebError`); binaries and background jobs use `anyhow`
//! with context. Internal errors are logged with their cause and answered with a generic
//! message, never with the cause.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use scheduler::{
    attendance::Refusal,
    text::{self, TextError},
};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::service::{self, ConflictKind};

/// Every failure a client can see.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request cannot be read (malformed JSON, a parameter in the wrong format).
    #[error("{0}")]
    BadRequest(String),
    /// 401: no token, or one Plenary does not know.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the caller is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: the thing named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// 405: the path exists but not with this method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 409: the request clashes with the current state; `details` says with what.
    #[error("{message}")]
    Conflict { message: String, details: Option<Value> },
    /// 422: the request is readable but a value is not acceptable; the message names the field.
    #[error("{0}")]
    Invalid(String),
    /// 422: a text field breaks the input policy ([`scheduler::text`]); `details` carries the
    /// field and the rule, so a form can place the message next to its input.
    #[error("{0}")]
    Field(#[from] TextError),
    /// 503 `database_unavailable`: the database cannot be reached right now; try again in a
    /// moment (`Retry-After`). The cause is logged, not shown.
    #[error("the database cannot be reached right now")]
    Unavailable(anyhow::Error),
    /// 503 `try_again`: Plenary cannot take the request right now but may in a moment
    /// (`Retry-After`); the message says why (too many registrations for the meeting waiting).
    #[error("{0}")]
    TryAgain(String),
    /// 500: our fault; the cause is logged, not shown.
    #[error(transparent)]
    Internal(anyhow::Error),
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong, for machines (`code`) and people (`message`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// One of `bad_request`, `unauthorized`, `forbidden`, `not_found`, `method_not_allowed`,
    /// `conflict`, `invalid`, `internal`, `database_unavailable`, `try_again`.
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl ApiError {
    #[must_use]
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict { message: message.into(), details: None }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::Conflict { .. } => (StatusCode::CONFLICT, "conflict"),
            Self::Invalid(_) | Self::Field(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable"),
            Self::TryAgain(_) => (StatusCode::SERVICE_UNAVAILABLE, "try_again"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        if crate::db::is_unavailable_cause(&error) { Self::Unavailable(error) } else { Self::Internal(error) }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        anyhow::Error::from(error).into()
    }
}

impl From<service::Error> for ApiError {
    fn from(error: service::Error) -> Self {
        if let Some(text) = error.as_text_error() {
            return Self::Field(text);
        }
        match error {
            invalid @ service::Error::Invalid { .. } => Self::Invalid(invalid.to_string()),
            service::Error::Conflict { kind, message } => conflict(kind, message),
            service::Error::Refused(reason) => refusal(reason),
            service::Error::NotFound(message) => Self::NotFound(message),
            service::Error::Forbidden(message) => Self::Forbidden(message),
            // No endpoint checks a form as a whole; should one, its first problem answers.
            service::Error::Several(errors) => {
                errors.into_iter().next().map_or_else(|| Self::Invalid(String::new()), Self::from)
            }
            service::Error::Unavailable(cause) => Self::Unavailable(cause),
            service::Error::TryAgain(message) => Self::TryAgain(message),
            service::Error::Internal(cause) => Self::Internal(cause),
        }
    }
}

fn conflict(kind: ConflictKind, message: String) -> ApiError {
    match kind {
        ConflictKind::RoomTaken(clash) => ApiError::Conflict {
            message: format!("{message} Send \"force\": true to book it anyway."),
            details: Some(json!({
                "room": clash.room,
                "other_meeting": clash.other_id.parse::<i32>().ok(),
                "other_title": clash.other_label,
                "other_start": clash.other_start,
                "other_end": clash.other_end,
            })),
        },
        ConflictKind::AlreadyRegistered => {
            ApiError::Conflict { message, details: Some(json!({ "reason": "already_registered" })) }
        }
        ConflictKind::State | ConflictKind::Duplicate { .. } => ApiError::conflict(message),
    }
}

/// A refused registration: 403 when the delegation is not invited, else 409 with the reason
/// and what a client needs to act on it.
fn refusal(refusal: Refusal) -> ApiError {
    let message = refusal.to_string();
    match refusal {
        Refusal::NotInvited { .. } => ApiError::Forbidden(message),
        Refusal::Cancelled => ApiError::Conflict { message, details: Some(json!({ "reason": "cancelled" })) },
        Refusal::AlreadyRegistered { id, .. } => {
            ApiError::Conflict { message, details: Some(json!({ "reason": "already_registered", "registration": id })) }
        }
        Refusal::PastDeadline { deadline } => ApiError::Conflict {
            message,
            details: Some(json!({
                "reason": "past_deadline",
                "deadline": deadline.to_rfc3339(),
                "time_zone": deadline.timezone().name(),
            })),
        },
        Refusal::MainSeatTaken { holder, .. } => {
            ApiError::Conflict { message, details: Some(json!({ "reason": "main_seat_taken", "holder": holder })) }
        }
        Refusal::OverQuota { quota, holders, .. } => ApiError::Conflict {
            message,
            details: Some(json!({ "reason": "over_quota", "quota": quota, "holders": holders })),
        },
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let (message, details) = match self {
            Self::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                ("Something went wrong on our side; it has been logged.".to_owned(), None)
            }
            Self::Unavailable(cause) => {
                crate::db::log_unavailable(&cause);
                (
                    "The database cannot be reached right now, so nothing was read or changed; try again in a moment."
                        .to_owned(),
                    None,
                )
            }
            Self::Conflict { message, details } => (message, details),
            Self::Field(error) => (error.to_string(), Some(text_details(&error))),
            other => (other.to_string(), None),
        };
        let mut response = (status, Json(ErrorBody { error: ErrorDetail { code, message, details } })).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // What a 503 asks clients to wait before trying again, in seconds.
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("5"));
        }
        response
    }
}

/// The `details` of a refusal by the input policy: the field, the rule's name and what the rule
/// needs to be read.
fn text_details(error: &TextError) -> Value {
    let mut details = json!({"field": error.field, "rule": error.rule.code()});
    match &error.rule {
        text::Rule::ControlCharacter(c) => details["code_point"] = json!(format!("U+{:04X}", u32::from(*c))),
        text::Rule::TooLong { max } => details["max"] = json!(max),
        text::Rule::Empty | text::Rule::InvalidEmail => {}
    }
    details
}

/// The result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{self, TextKind};

    #[test]
    fn a_refused_text_names_field_rule_and_character() {
        let refused = validate::required("name", TextKind::PersonName, "Eve\nX").unwrap_err();
        let ApiError::Field(error) = ApiError::from(refused) else { panic!("not a field error") };
        assert_eq!(text_details(&error), json!({"field": "name", "rule": "control_character", "code_point": "U+000A"}));
    }

    #[tokio::test]
    async fn try_again_is_a_503_with_retry_after_that_says_why() {
        let why = "too many registrations for this meeting are waiting; try again in a moment";
        let response = ApiError::from(service::Error::TryAgain(why.into())).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[axum::http::header::RETRY_AFTER], "5");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body, json!({"error": {"code": "try_again", "message": why}}));
    }
}
