//! Seating: a meeting's plan as JSON and as a printable SVG, the lot per body and year, and
//! each body's seating rules; the use cases are [`crate::service::seating`]'s.

use axum::{
    Json,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use scheduler::seating_svg::render_svg;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    error::{ApiResult, ErrorBody},
    extract::{ApiJson, ApiPath, Audience, Organiser},
};
use crate::{
    app::AppState,
    service::{
        self,
        seating::{LotOut, NewRules, SeatingOut, SeatingRulesOut},
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_seating))
        .routes(routes!(get_seating_svg))
        .routes(routes!(get_seating_rules, put_seating_rules))
        .routes(routes!(redraw_lot))
}

/// New seating rules for a body; every field is required.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeatingRulesIn {
    /// Whether the Partners sit at the main table (true since 2007) or in a row of their own.
    pub partners_at_main_table: bool,
    /// The officials at the head of the table after the chair(s), in order; each must be one of
    /// `known_officials`.
    pub officials: Vec<String>,
    /// Adviser seats behind each delegation (0–10).
    pub seats_behind: u32,
}

// ---------------------------------------------------------------------------------------------
// The plan

/// A meeting's seating plan (public, like other meeting reads). Registered people's names
/// (`occupant`) are given only to a request with a valid bearer token (any role) or a logged-in
/// session; anyone else sees the plates and roles with every `occupant` null.
#[utoipa::path(get, path = "/meetings/{id}/seating", tag = "seating", params(("id" = i32, Path)),
    responses((status = 200, body = SeatingOut), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "the room's main table is too small, or the registrations do not fit")))]
async fn get_seating(
    State(state): State<AppState>,
    Audience(occupants): Audience,
    ApiPath(id): ApiPath<i32>,
) -> ApiResult<Json<SeatingOut>> {
    Ok(Json(service::seating::plan(&state.db, id, occupants).await?))
}

/// A meeting's seating plan as a printable A3 SVG picture (public; names as for the JSON plan).
#[utoipa::path(get, path = "/meetings/{id}/seating.svg", tag = "seating", params(("id" = i32, Path)),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn get_seating_svg(
    State(state): State<AppState>,
    Audience(occupants): Audience,
    ApiPath(id): ApiPath<i32>,
) -> ApiResult<Response> {
    let seating = service::seating::plan(&state.db, id, occupants).await?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")], render_svg(&seating.plan)).into_response())
}

// ---------------------------------------------------------------------------------------------
// The lot

/// Draws the lot of a body and year again (organisers). Every later plan of that body and year
/// starts from the new draw; the old and the new lot go to the audit log.
#[utoipa::path(post, path = "/seating-lots/{body}/{year}/redraw", tag = "seating", security(("bearer" = [])),
    params(("body" = String, Path, description = "body code, e.g. PC"), ("year" = i32, Path)),
    responses((status = 200, body = LotOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn redraw_lot(
    State(state): State<AppState>,
    Organiser(principal): Organiser,
    ApiPath((code, year)): ApiPath<(String, i32)>,
) -> ApiResult<Json<LotOut>> {
    Ok(Json(service::seating::redraw(&state, &principal, &code, year).await?))
}

// ---------------------------------------------------------------------------------------------
// Rules

/// A body's seating rules (public): the organisers' if set, otherwise Plenary's defaults.
#[utoipa::path(get, path = "/bodies/{code}/seating-rules", tag = "seating", params(("code" = String, Path)),
    responses((status = 200, body = SeatingRulesOut), (status = 404, body = ErrorBody)))]
async fn get_seating_rules(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<SeatingRulesOut>> {
    Ok(Json(service::seating::rules_of(&state.db, &code).await?))
}

/// Replaces a body's seating rules (organisers); audited with the rules before and after.
#[utoipa::path(put, path = "/bodies/{code}/seating-rules", tag = "seating", security(("bearer" = [])),
    params(("code" = String, Path)), request_body = SeatingRulesIn,
    responses((status = 200, body = SeatingRulesOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_seating_rules(
    State(state): State<AppState>,
    Organiser(principal): Organiser,
    ApiPath(code): ApiPath<String>,
    ApiJson(input): ApiJson<SeatingRulesIn>,
) -> ApiResult<Json<SeatingRulesOut>> {
    let input = NewRules {
        partners_at_main_table: input.partners_at_main_table,
        officials: input.officials,
        seats_behind: input.seats_behind,
    };
    Ok(Json(service::seating::save_rules(&state.db, &principal, &code, input).await?))
}
