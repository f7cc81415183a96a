//! The application as a whole: what every handler can reach ([`AppState`]), bringing it up
//! ([`prepare`]), the root router mounting both edges (JSON [`crate::http`] and pages
//! [`crate::web`]) with the layers every request goes through ([`router`]), and serving it.
//!
//! The edges never import each other; this module is the only one that knows both.

use std::{future::Future, sync::Arc, time::Duration};

use anyhow::Context as _;
use axum::{
    Router,
    http::{HeaderName, HeaderValue, Request, header},
    response::{IntoResponse as _, Response},
    serve::ListenerExt as _,
};
use scheduler::reference::ReferenceData;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tower::layer::util::Stack;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    timeout::TimeoutLayer,
    trace::{DefaultOnFailure, TraceLayer},
};

use crate::{config::Config, db, feeds::FeedCache, http, store, web};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    /// Rendered calendar feeds and what decides whether they are still current.
    pub feeds: Arc<FeedCache>,
    /// Beaten by this process's mail worker; `/readyz` reads it.
    pub mail_worker: crate::mail::worker::Heartbeat,
    /// Whether the service is stopping, and the requests in flight ([`crate::shutdown`]).
    pub drain: Arc<crate::shutdown::Drain>,
    /// Registrations waiting to be decided together, per meeting.
    pub registrations: crate::service::registrations::RegistrationQueue,
}

/// What preparing the database found out, for the start-up message.
pub struct Prepared {
    pub state: AppState,
    /// The generated password of the first organiser account, when it was just created.
    pub new_admin_password: Option<String>,
}

/// Connects, migrates, loads the reference data and makes sure an organiser can log in.
///
/// Safe to run on every start: each step only adds what is missing.
///
/// # Errors
/// When the database cannot be reached or refuses a change.
pub async fn prepare(config: Config) -> anyhow::Result<Prepared> {
    // Before the mail worker starts, so that its first batch is counted.
    crate::metrics::install();
    let db = db::connect_with_timeout(&config.database_url, config.database_timeout()).await?;
    let new_admin_password = db::set_up(&db, async |txn| {
        store::reference::load(txn, &ReferenceData::bundled()).await.context("loading the reference data failed")?;
        store::users::ensure_first_organiser(txn, config.admin_password.as_deref())
            .await
            .context("creating the first organiser account failed")
    })
    .await?;
    Ok(Prepared {
        state: AppState {
            db,
            config: Arc::new(config),
            feeds: FeedCache::shared(),
            mail_worker: crate::mail::worker::Heartbeat::default(),
            drain: Arc::default(),
            registrations: crate::service::registrations::RegistrationQueue::default(),
        },
        new_admin_password,
    })
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application: API, OpenAPI document, health checks and pages, with their layers.
///
/// `GET /feeds/{token}.ics` is polled by every subscribed calendar and answered from memory, so
/// it skips the layers it does not need: no compression (its bodies are gzipped once when
/// rendered), no timeout (it waits on nothing but the rare database lookup), no request id or
/// request span (internal errors are still logged by the JSON edge's error), and no
/// [`crate::feeds::note_changes`] (a GET changes nothing). It keeps the panic guard and the
/// security headers.
///
/// Every other request's span names its path through [`http::redact::path`], so the secrets of
/// RSVP and set-password links (and of a feed address that reaches this stack) never reach a log.
/// Every request, feeds included, is counted and timed by its route template
/// ([`crate::metrics::track_request`]).
pub fn router(state: AppState) -> Router {
    crate::metrics::install();
    let drain = Arc::clone(&state.drain);
    let feeds = http::feed_router()
        .method_not_allowed_fallback(http::method_not_allowed)
        .with_state(state.clone())
        .layer(tower::ServiceBuilder::new().layer(catch_panic()).layer(security_headers()));
    let rest = Router::new()
        .merge(http::router())
        .merge(web::router())
        .fallback(not_found)
        .method_not_allowed_fallback(http::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&state.feeds), crate::feeds::note_changes))
        .with_state(state)
        .layer(
            tower::ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|request: &Request<_>| {
                            let id =
                                request.headers().get(REQUEST_ID).and_then(|value| value.to_str().ok()).unwrap_or("-");
                            let path = http::redact::path(request.uri().path());
                            tracing::info_span!("request", id, method = %request.method(), %path)
                        })
                        // A 500 is logged with its cause where it arises, and a 503 for an unreachable
                        // database once a minute (`db::log_unavailable`): an ERROR line for every such
                        // response as well would flood the log during an outage.
                        .on_failure(DefaultOnFailure::new().level(tracing::Level::DEBUG)),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(catch_panic())
                .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
                .layer(CompressionLayer::new())
                .layer(security_headers()),
        );
    feeds
        .merge(rest)
        .layer(axum::middleware::from_fn(crate::metrics::track_request))
        .layer(axum::middleware::from_fn_with_state(drain, crate::shutdown::count_requests))
}

/// Unknown addresses: a page in words for browsers, the API's JSON error for everyone else
/// (API clients, and anything under `/api/`).
async fn not_found(uri: axum::http::Uri, headers: axum::http::HeaderMap) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html && !uri.path().starts_with("/api/") {
        web::not_found(&uri).into_response()
    } else {
        http::not_found().into_response()
    }
}

type PanicResponse = fn(Box<dyn std::any::Any + Send>) -> Response;

/// A panicking handler answers 500 in the JSON error shape instead of dropping the connection.
fn catch_panic() -> CatchPanicLayer<PanicResponse> {
    fn respond(_: Box<dyn std::any::Any + Send>) -> Response {
        http::panicked()
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

/// Serves `app` on `listener` until `shutdown` completes; then stops accepting connections (the
/// listener is closed), closes idle keep-alive connections, lets open requests finish, closing
/// each connection after its current response, and returns once every connection is closed.
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
