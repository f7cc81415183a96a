//! Calendar subscriptions: creating, listing and revoking feeds (`/api/v1/feeds`), and serving
//! them (`GET`/`HEAD /feeds/{token}.ics`, public: the token in the URL is the secret).
//!
//! Managing feeds maps to [`service::feeds`] (who may manage which feed, what a subscription
//! may ask for). A feed's token is shown once, when it is created; only its hash is stored, and
//! unknown and revoked tokens get the same 404.
//!
//! Serving is built for clients that poll: strong ETags (one per content coding), Last-Modified,
//! `If-None-Match` / `If-Modified-Since` answered with 304, gzip from bytes compressed once, and
//! the rendered feed kept until its data changes ([`crate::feeds`]).

use axum::{
    Json, Router,
    body::Body,
    extract::{Query, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
    routing::get,
};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    error::{ApiError, ApiResult, ErrorBody},
    extract::{ApiJson, ApiPath, parse_date_param},
};
use crate::{
    app::AppState,
    auth::Principal,
    db::entities::feeds,
    feeds::{LONGEST_WINDOW_DAYS, RenderedFeed, Window},
    service::{self, feeds::NewSubscription},
};

/// The JSON API: `/feeds` and `/feeds/{id}` (nested under `/api/v1`).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_feed, list_feeds)).routes(routes!(revoke_feed))
}

/// The public feed URLs. They read the service's [`crate::feeds::FeedCache`], which
/// [`crate::feeds::note_changes`] in front of every other route keeps current (see
/// `http::router`, which also gives these their own, lighter layers).
pub fn public_router() -> Router<AppState> {
    Router::new().route("/feeds/{file}", get(get_feed))
}

/// How long clients and their proxies may reuse a feed without asking again.
const CACHE_CONTROL: HeaderValue = HeaderValue::from_static("private, max-age=300");
const CALENDAR: HeaderValue = HeaderValue::from_static("text/calendar; charset=utf-8");

// ---------------------------------------------------------------------------------------------
// Managing feeds

/// A new subscription.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedIn {
    /// `delegation` (the meetings a State is invited to), `body` (one body's) or `all`.
    pub scope: String,
    /// ISO code of the delegation, for scope `delegation`.
    pub state: Option<String>,
    /// Body code, for scope `body`.
    pub body: Option<String>,
}

/// A feed as listed (without its token, which is shown only once).
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedOut {
    pub id: i32,
    pub scope: String,
    pub state: Option<String>,
    pub body: Option<String>,
    /// The delegation that owns it; null for organisers' feeds.
    pub owner: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// When a calendar last fetched it (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A feed just created, with its secret URLs: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedCreated {
    #[serde(flatten)]
    pub feed: FeedOut,
    /// `https://…/feeds/plf_….ics`, for calendar clients.
    pub url: String,
    /// The same as `webcal://…`, which opens the subscription dialog of most clients.
    pub webcal_url: String,
}

/// A feed row as the API shows it.
#[must_use]
fn feed_out(feed: feeds::Model) -> FeedOut {
    FeedOut {
        id: feed.id,
        scope: feed.scope,
        state: feed.iso2,
        body: feed.body_code,
        owner: feed.owner_iso2,
        created_by: feed.created_by,
        created_at: feed.created_at,
        last_used_at: feed.last_used_at,
        revoked_at: feed.revoked_at,
    }
}

impl From<FeedIn> for NewSubscription {
    fn from(input: FeedIn) -> Self {
        Self { scope: input.scope, state: input.state, body: input.body }
    }
}

/// Creates a calendar feed and returns its secret URL, shown only this once. A delegation may
/// create a feed of its own meetings, or of a body's or everyone's; organisers any.
#[utoipa::path(post, path = "/feeds", tag = "feeds", security(("bearer" = [])), request_body = FeedIn,
    responses((status = 201, body = FeedCreated), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn create_feed(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<FeedIn>,
) -> ApiResult<(StatusCode, Json<FeedCreated>)> {
    let created = service::feeds::create(&state.db, &state.config.public_base(), &principal, &input.into()).await?;
    Ok((
        StatusCode::CREATED,
        Json(FeedCreated { feed: feed_out(created.feed), url: created.url, webcal_url: created.webcal_url }),
    ))
}

/// The caller's feeds (organisers: every feed), newest first, without their tokens.
#[utoipa::path(get, path = "/feeds", tag = "feeds", security(("bearer" = [])),
    responses((status = 200, body = [FeedOut]), (status = 401, body = ErrorBody)))]
async fn list_feeds(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Vec<FeedOut>>> {
    let feeds = service::feeds::list(&state.db, &principal, None).await?;
    Ok(Json(feeds.into_iter().map(feed_out).collect()))
}

/// Revokes a feed: its URL answers 404 from now on. Revoking a revoked feed changes nothing.
#[utoipa::path(delete, path = "/feeds/{id}", tag = "feeds", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 204), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "no such feed, or not one this caller may revoke")))]
async fn revoke_feed(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i32>,
) -> ApiResult<StatusCode> {
    service::feeds::revoke(&state.db, &principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Serving feeds

/// Replaces the default window (90 days back to 18 months ahead of today).
#[derive(Debug, Deserialize, IntoParams)]
pub struct FeedWindow {
    /// First local date (YYYY-MM-DD), inclusive.
    pub from: Option<String>,
    /// Last local date (YYYY-MM-DD), inclusive.
    pub to: Option<String>,
}

fn window(query: &FeedWindow, today: chrono::NaiveDate) -> ApiResult<Window> {
    let default = Window::default_for(today);
    let from = query.from.as_deref().map(|text| parse_date_param("from", text)).transpose()?.unwrap_or(default.from);
    let to = query.to.as_deref().map(|text| parse_date_param("to", text)).transpose()?.unwrap_or(default.to);
    if to < from {
        return Err(ApiError::BadRequest(format!("parameter `to` ({to}) is before `from` ({from})")));
    }
    if to - from > TimeDelta::days(LONGEST_WINDOW_DAYS) {
        return Err(ApiError::BadRequest(format!(
            "parameters `from` and `to` span more than {LONGEST_WINDOW_DAYS} days; ask for a shorter window"
        )));
    }
    Ok(Window { from, to })
}

/// The feed behind a secret URL, as iCalendar (`text/calendar`). Unknown and revoked tokens
/// answer the same 404.
///
/// Calendar clients poll this far more than anything else is asked, so it reads the request in
/// place (no copy of its headers, no query parsing when there is no query string).
async fn get_feed(
    State(state): State<AppState>,
    ApiPath(file): ApiPath<String>,
    request: Request,
) -> ApiResult<Response> {
    let not_found = || ApiError::NotFound("there is no feed at this address; it may have been revoked".into());
    let query = match request.uri().query() {
        None => None,
        Some(_) => Some(
            Query::<FeedWindow>::try_from_uri(request.uri())
                .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?
                .0,
        ),
    };
    let token = file.strip_suffix(".ics").ok_or_else(not_found)?;
    let cache = &state.feeds;
    let feed = cache.feed_by_token(&state.db, token).await?.ok_or_else(not_found)?;
    let now = Utc::now();
    let window = match &query {
        None => Window::default_for(now.date_naive()),
        Some(query) => window(query, now.date_naive())?,
    };
    feed.touch(&state.db, now).await?;
    let rendered = crate::feeds::rendered(&state.db, cache, &feed, window, || state.config.public_base()).await?;
    let headers = request.headers();
    Ok(respond(&rendered, headers, accepts_gzip(headers)))
}

fn respond(rendered: &RenderedFeed, request: &HeaderMap, gzip: bool) -> Response {
    let etag = if gzip { &rendered.etag_gzip } else { &rendered.etag };
    let not_modified = match request.get(header::IF_NONE_MATCH) {
        // RFC 9110 §13.2.2: If-None-Match wins; If-Modified-Since is then ignored.
        Some(value) => none_match_hits(value, &rendered.tag),
        None => request
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|value| value.to_str().ok())
            .and_then(|text| DateTime::parse_from_rfc2822(text).ok())
            .zip(rendered.last_modified)
            .is_some_and(|(since, last)| last.timestamp() <= since.timestamp()),
    };
    let body = match (not_modified, gzip) {
        (true, _) => Body::empty(),
        (false, true) => Body::from(rendered.gzip.clone()),
        (false, false) => Body::from(rendered.body.clone()),
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    // Room for these and the security headers the router adds: no growing.
    headers.reserve(12);
    headers.insert(header::ETAG, etag.clone());
    headers.insert(header::CACHE_CONTROL, CACHE_CONTROL);
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Some(last) = &rendered.last_modified_header {
        headers.insert(header::LAST_MODIFIED, last.clone());
    }
    if not_modified {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        return response;
    }
    headers.insert(header::CONTENT_TYPE, CALENDAR);
    if gzip {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

/// Whether `If-None-Match` names this version, in either coding (weak comparison, as RFC 9110
/// §13.1.2 asks for this header), or is `*`.
fn none_match_hits(value: &HeaderValue, tag: &str) -> bool {
    let Ok(text) = value.to_str() else { return false };
    text.split(',').map(str::trim).any(|candidate| {
        if candidate == "*" {
            return true;
        }
        let opaque = candidate.strip_prefix("W/").unwrap_or(candidate).trim_matches('"');
        opaque == tag || opaque.strip_suffix("-gzip") == Some(tag)
    })
}

/// Whether the client takes gzip (`Accept-Encoding: gzip`, not with `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|value| value.to_str().ok()).any(|text| {
        text.split(',').any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts
                .any(|param| param.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()).is_some_and(|q| q <= 0.0));
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_taken_unless_refused() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
            accepts_gzip(&headers)
        };
        assert!(with("gzip"));
        assert!(with("br, gzip;q=0.5"));
        assert!(with("*"));
        assert!(!with("gzip;q=0"));
        assert!(!with("br, deflate"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn if_none_match_accepts_either_coding_weak_or_strong_and_lists() {
        let hits = |value: &'static str| none_match_hits(&HeaderValue::from_static(value), "abc");
        assert!(hits("\"abc\""));
        assert!(hits("\"abc-gzip\""));
        assert!(hits("W/\"abc\""));
        assert!(hits("\"x\", \"abc\""));
        assert!(hits("*"));
        assert!(!hits("\"abcd\""));
        assert!(!hits("\"ab\""));
    }
}
