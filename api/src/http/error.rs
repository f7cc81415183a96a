//! The one error type every handler returns, and its JSON shape.
//!
//! Use [`ApiError`] in `http` and `web` handlers; `store` functions return `DbErr` or
//! `anyhow::Error`, which become [`ApiError::Internal`] through `?`; binaries and background
//! jobs use `anyhow` with context. Internal errors are logged with their cause and answered with
//! a generic message, never with the cause.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

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
    Field(#[from] scheduler::text::TextError),
    /// 500: our fault; the cause is logged, not shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
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
    /// `conflict`, `invalid`, `internal`.
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
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Internal(error.into())
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
            Self::Conflict { message, details } => (message, details),
            Self::Field(error) => (error.to_string(), Some(crate::validate::details(&error))),
            other => (other.to_string(), None),
        };
        let mut response = (status, Json(ErrorBody { error: ErrorDetail { code, message, details } })).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;
