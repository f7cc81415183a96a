//! The HTTP service: one `router()` per resource module, merged here with the layers every
//! request goes through (request ids, tracing, compression, timeouts, security headers), except
//! the calendar feeds, which get a lighter stack (see [`router`]).

pub mod error;
pub mod extract;
pub mod feeds;
mod health;
pub mod invitations;
pub mod meetings;
mod openapi;
pub mod redact;
mod reference;
pub mod registrations;
pub mod seating;

use std::{future::Future, sync::Arc, time::Duration};

use axum::{
    Router,
    http::{HeaderName, HeaderValue, Request, header},
    serve::ListenerExt as _,
};
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tower::layer::util::Stack;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    timeout::TimeoutLayer,
    trace::TraceLayer,
};
use utoipa_axum::router::OpenApiRouter;

use crate::{config::Config, feeds::FeedCache};
pub use error::{ApiError, ApiResult};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    /// Rendered calendar feeds and what decides whether they are still current.
    pub feeds: Arc<FeedCache>,
    /// Beaten by this process's mail worker; `/readyz` reads it.
    pub mail_worker: crate::mail::worker::Heartbeat,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application: API, OpenAPI document, health check, with its layers.
///
/// `GET /feeds/{token}.ics` is polled by every subscribed calendar and answered from memory, so
/// it skips the layers it does not need: no compression (its bodies are gzipped once when
/// rendered), no timeout (it waits on nothing but the rare database lookup), no request id or
/// request span (internal errors are still logged by [`ApiError`]), and no
/// [`crate::feeds::note_changes`] (a GET changes nothing). It keeps the panic guard and the
/// security headers.
///
/// Every other request's span names its path through [`redact::path`], so the secrets of RSVP
/// and set-password links (and of a feed address that reaches this stack) never reach a log.
pub fn router(state: AppState) -> Router {
    let feeds = feeds::public_router()
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone())
        .layer(tower::ServiceBuilder::new().layer(catch_panic()).layer(security_headers()));
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
    let rest = Router::new()
        .merge(health::router())
        .merge(openapi::router(openapi))
        .merge(api)
        .merge(crate::web::router())
        .fallback(crate::web::not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&state.feeds), crate::feeds::note_changes))
        .with_state(state)
        .layer(
            tower::ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                    let id = request.headers().get(REQUEST_ID).and_then(|value| value.to_str().ok()).unwrap_or("-");
                    let path = redact::path(request.uri().path());
                    tracing::info_span!("request", id, method = %request.method(), %path)
                }))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(catch_panic())
                .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
                .layer(CompressionLayer::new())
                .layer(security_headers()),
        );
    feeds.merge(rest)
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed("this address does not accept that method".into())
}

type PanicResponse = fn(Box<dyn std::any::Any + Send>) -> axum::response::Response;

/// A panicking handler answers 500 in the usual error shape instead of dropping the connection.
fn catch_panic() -> CatchPanicLayer<PanicResponse> {
    fn respond(_: Box<dyn std::any::Any + Send>) -> axum::response::Response {
        axum::response::IntoResponse::into_response(ApiError::Internal(anyhow::anyhow!("a handler panicked")))
    }
    CatchPanicLayer::custom(respond as PanicResponse)
}

type SetHeader = SetResponseHeaderLayer<HeaderValue>;

/// `nosniff`, no framing and a same-origin referrer on every response that does not set its own.
fn security_headers() -> Stack<SetHeader, Stack<SetHeader, SetHeader>> {
    let header = |name, value| SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value));
    Stack::new(
        header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        Stack::new(header(header::X_FRAME_OPTIONS, "DENY"), header(header::REFERRER_POLICY, "same-origin")),
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
    // Responses go out as soon as they are written (no Nagle delay behind a keep-alive
    // client's delayed ACK). Each connection gets a cheap handle to the router rather than a
    // deep copy of every route, and its peer address (`ConnectInfo`), which bounds failed
    // logins per client address.
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
