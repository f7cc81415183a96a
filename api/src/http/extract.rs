//! Extractors that turn every malformed request into an [`ApiError`] in the JSON error shape
//! ([`ApiJson`], [`ApiPath`], [`ApiQuery`]: every handler uses them instead of axum's own, whose
//! rejections are plain text), the bearer-token [`Principal`] every protected endpoint asks for,
//! and the [`Audience`] of public reads that show more to people who take part in Plenary.

use axum::{
    extract::{FromRequest, FromRequestParts, Path, Query, Request, rejection::JsonRejection},
    http::request::Parts,
};
use chrono::{NaiveDate, Utc};
use scheduler::seating::Occupants;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::{
    app::AppState,
    auth::{Principal, SESSION_COOKIE, cookie},
    params::PathProblem,
    store,
};

/// `axum::Json`, but a body that is not valid JSON, or not of the expected shape, is answered
/// with a 400 or 422 in Plenary's error shape.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(JsonRejection::JsonDataError(error)) => Err(ApiError::Invalid(format!(
                "the request body does not have the expected fields: {}",
                error.body_text().trim_start_matches("Failed to deserialize the JSON body into the target type: ")
            ))),
            Err(JsonRejection::JsonSyntaxError(error)) => {
                Err(ApiError::BadRequest(format!("the request body is not valid JSON: {}", error.body_text())))
            }
            Err(JsonRejection::MissingJsonContentType(_)) => {
                Err(ApiError::BadRequest("send the request body as JSON with `Content-Type: application/json`".into()))
            }
            Err(other) => Err(ApiError::BadRequest(other.body_text())),
        }
    }
}

/// `axum::extract::Path`, but a path parameter that does not parse is answered with a 400 in
/// Plenary's error shape naming the parameter (`/api/v1/meetings/abc`: "path parameter `id`
/// must be a whole number, got \"abc\"").
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::BadRequest(PathProblem::of(parts, state, rejection).await.to_string())),
        }
    }
}

/// `axum::extract::Query`, but a query string that does not fit is answered with a 400 in
/// Plenary's error shape, with serde's message (which names the parameter, e.g. "duplicate
/// field `from`").
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::try_from_uri(&parts.uri).map(|Query(value)| Self(value)).map_err(|rejection| {
            ApiError::BadRequest(format!(
                "the query string does not fit: {}",
                rejection.body_text().trim_start_matches("Failed to deserialize query string: ")
            ))
        })
    }
}

/// Who a public read is for: [`Occupants::Named`] for a request with a valid bearer token (any
/// role) or a logged-in session, [`Occupants::Hidden`] for anyone else. An unknown or revoked
/// token on a public read is not an error: the caller simply sees what everyone sees.
pub struct Audience(pub Occupants);

impl FromRequestParts<AppState> for Audience {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(token) = bearer_token(parts)
            && store::tokens::authenticate(&state.db, token).await?.is_some()
        {
            return Ok(Self(Occupants::Named));
        }
        if let Some(secret) = cookie(&parts.headers, SESSION_COOKIE)
            && store::accounts::session_user(&state.db, &secret, Utc::now()).await?.is_some()
        {
            return Ok(Self(Occupants::Named));
        }
        Ok(Self(Occupants::Hidden))
    }
}

/// The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive (RFC
/// 9110, section 11.1).
fn bearer_token(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
}

/// Parses a `YYYY-MM-DD` query parameter, naming it in the error.
///
/// # Errors
/// 400 saying which parameter is wrong and the format expected.
pub fn parse_date_param(name: &str, value: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
        ApiError::BadRequest(format!("parameter `{name}` must be a date in the form YYYY-MM-DD, got {value:?}"))
    })
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if !parts.headers.contains_key(axum::http::header::AUTHORIZATION) {
            return Err(ApiError::Unauthorized("this endpoint needs `Authorization: Bearer <token>`".into()));
        }
        let token = bearer_token(parts)
            .ok_or_else(|| ApiError::Unauthorized("the Authorization header must read `Bearer <token>`".into()))?;
        store::tokens::authenticate(&state.db, token)
            .await?
            .ok_or_else(|| ApiError::Unauthorized("this token is unknown or has been revoked".into()))
    }
}

/// A principal that must be an organiser (or admin).
pub struct Organiser(pub Principal);

impl FromRequestParts<AppState> for Organiser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        if principal.is_organiser() {
            Ok(Self(principal))
        } else {
            Err(ApiError::Forbidden(format!(
                "only organisers may do this; this token's role is {}",
                principal.role.as_str()
            )))
        }
    }
}

impl Principal {
    /// Organisers may act for any delegation; a delegation only for itself.
    ///
    /// # Errors
    /// 403 naming both States when a delegation acts for another.
    pub fn require_acting_for(&self, iso2: &str) -> Result<(), ApiError> {
        Ok(crate::service::require_acting_for(self, iso2)?)
    }
}
