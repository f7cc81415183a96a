//! The JSON edge: one `router()` per resource module, each handler mapping a request to a use
//! case in [`crate::service`] and its outcome (or [`ApiError`]) to JSON. [`router`] merges them
//! with the OpenAPI document and the health checks; [`crate::app`] mounts it beside the pages.

pub mod error;
pub mod extract;
pub mod feeds;
mod health;
pub mod invitations;
pub mod meetings;
mod metrics;
mod openapi;
pub mod redact;
mod reference;
pub mod registrations;
pub mod seating;

use axum::Router;
use utoipa_axum::router::OpenApiRouter;

use crate::app::AppState;
pub use error::{ApiError, ApiResult};

/// `/api/v1`, the OpenAPI document and its reference page, `/healthz`, `/readyz` and `/metrics`.
pub fn router() -> Router<AppState> {
    let (api, openapi) = OpenApiRouter::with_openapi(openapi::base())
        .nest(
            "/api/v1",
            reference::router()
                .merge(meetings::router())
                .merge(registrations::router())
                .merge(seating::router())
                .merge(feeds::router())
                .merge(invitations::router()),
        )
        .split_for_parts();
    Router::new().merge(health::router()).merge(metrics::router()).merge(openapi::router(openapi)).merge(api)
}

/// `GET /feeds/{token}.ics`, which [`crate::app::router`] serves with a lighter stack.
pub fn feed_router() -> Router<AppState> {
    feeds::public_router()
}

/// The JSON answer for an address that does not exist.
#[must_use]
pub fn not_found() -> ApiError {
    ApiError::NotFound("there is nothing at this address".into())
}

/// The JSON answer for a path that exists but not with this method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed("this address does not accept that method".into())
}

/// The answer of a handler that panicked: 500 in the usual error shape.
#[must_use]
pub fn panicked() -> axum::response::Response {
    axum::response::IntoResponse::into_response(ApiError::Internal(anyhow::anyhow!("a handler panicked")))
}
