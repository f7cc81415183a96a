//! The HTTP service: one `router()` per resource module, merged here with the layers every
//! request goes through (request ids, tracing, compression, timeouts, security headers).

pub mod error;
pub mod extract;
pub mod feeds;
mod health;
pub mod invitations;
pub mod meetings;
mod openapi;
mod reference;
pub mod registrations;
pub mod seating;

use std::{future::Future, sync::Arc, time::Duration};

use axum::{
    Router,
    http::{HeaderName, HeaderValue, Request, header},
};
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    timeout::TimeoutLayer,
    trace::TraceLayer,
};
use utoipa_axum::router::OpenApiRouter;

use crate::config::Config;
pub use error::{ApiError, ApiResult};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application: API, OpenAPI document, health check, with its layers.
pub fn router(state: AppState) -> Router {
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
    Router::new()
        .merge(health::router())
        .merge(openapi::router(openapi))
        .merge(feeds::public_router())
        .merge(api)
        .merge(crate::web::router())
        .fallback(crate::web::not_found)
        .method_not_allowed_fallback(|| async {
            ApiError::MethodNotAllowed("this address does not accept that method".into())
        })
        .layer(axum::middleware::from_fn(crate::feeds::note_changes))
        .layer(axum::Extension(crate::feeds::FeedCache::shared()))
        .with_state(state)
        .layer(
            tower::ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                    let id = request.headers().get(REQUEST_ID).and_then(|value| value.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", id, method = %request.method(), path = %request.uri().path())
                }))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(CatchPanicLayer::custom(|_| {
                    axum::response::IntoResponse::into_response(ApiError::Internal(anyhow::anyhow!(
                        "a handler panicked"
                    )))
                }))
                .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
                .layer(CompressionLayer::new())
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("same-origin"),
                )),
        )
}

/// Serves `app` on `listener` until `shutdown` completes, then lets open requests finish.
///
/// # Errors
/// When accepting connections fails.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}
