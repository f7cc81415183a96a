//! `GET /metrics`: Prometheus text (see [`crate::metrics`] for what it holds).
//!
//! Readable with an organiser's bearer token, or without one from a connection whose peer
//! address is in `--metrics-allow`; 401 otherwise (a delegation's token too). The peer is the
//! TCP peer, never `X-Forwarded-For`: behind a proxy it is the proxy.

use std::net::SocketAddr;

use axum::{
    Router,
    extract::{ConnectInfo, FromRequestParts, State},
    http::{HeaderValue, header, request::Parts},
    response::IntoResponse,
    routing::get,
};

use super::{error::ApiError, health};
use crate::{app::AppState, auth::Principal};

/// The exposition format's content type (text format 0.0.4).
const EXPOSITION: HeaderValue = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(export_metrics))
}

async fn export_metrics(_reader: MetricsReader, State(state): State<AppState>) -> impl IntoResponse {
    // The figures `/readyz` computes (readiness, the outbox), read once for both.
    let readiness = health::readiness(&state).await;
    let text = crate::metrics::render(&state.db, readiness.ready, readiness.backlog);
    ([(header::CONTENT_TYPE, EXPOSITION)], text)
}

/// Someone who may read the metrics: a connection from an allowed address, or an organiser's
/// token.
struct MetricsReader;

impl FromRequestParts<AppState> for MetricsReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| peer.ip());
        if peer.is_some_and(|peer| state.config.metrics_allow.allows(peer)) {
            return Ok(Self);
        }
        let principal = Principal::from_request_parts(parts, state).await?;
        if principal.is_organiser() {
            Ok(Self)
        } else {
            Err(ApiError::Unauthorized(format!(
                "the metrics need an organiser's token; this token's role is {}",
                principal.role.as_str()
            )))
        }
    }
}
