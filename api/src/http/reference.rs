//! The public reference endpoints: States and Partners on a date, Chairmanships with their
//! Troika, bodies; and recording a newly agreed Chairmanship (organisers), through
//! [`service::reference`].

use axum::{Json, extract::State, http::StatusCode};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    error::{ApiError, ApiResult, ErrorBody},
    extract::{ApiJson, ApiPath, ApiQuery, Organiser, parse_date_param},
};
use crate::{
    app::AppState,
    service::{self, reference::ChairmanshipYear},
    store,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_states))
        .routes(routes!(get_state))
        .routes(routes!(list_chairmanships, record_chairmanship))
        .routes(routes!(set_chairmanship))
        .routes(routes!(list_bodies))
}

/// A State or Partner as it stands on the date asked for.
#[derive(Debug, Serialize, ToSchema)]
pub struct StateOut {
    pub iso2: String,
    pub name_en: String,
    pub name_fr: String,
    /// `participating` or `partner`.
    pub kind: String,
    /// `mediterranean` or `asian` for Partners, otherwise null.
    pub partner_group: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct OnDate {
    /// The date (YYYY-MM-DD) whose membership to show; today when absent.
    pub on: Option<String>,
}

/// States and Partners taking part on a date: the participating States in protocol order, then
/// the Partners in protocol order.
#[utoipa::path(get, path = "/states", tag = "reference", params(OnDate),
    responses((status = 200, body = [StateOut]), (status = 400, body = ErrorBody, description = "malformed date")))]
async fn list_states(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<OnDate>,
) -> ApiResult<Json<Vec<StateOut>>> {
    let on = query.on.as_deref().map(|text| parse_date_param("on", text)).transpose()?;
    let delegations = service::reference::delegations_on(&state.db, on).await?;
    Ok(Json(
        delegations
            .into_iter()
            .map(|delegation| StateOut {
                iso2: delegation.iso2,
                name_en: delegation.name_en,
                name_fr: delegation.name_fr,
                kind: delegation.kind.as_str().to_owned(),
                partner_group: delegation.partner_group.map(|group| group.as_str().to_owned()),
            })
            .collect(),
    ))
}

/// One State with the history of its standing.
#[derive(Debug, Serialize, ToSchema)]
pub struct StateDetail {
    pub iso2: String,
    pub name_en: String,
    pub name_fr: String,
    pub protocol_sort_key: String,
    pub memberships: Vec<MembershipOut>,
}

/// One period of a State's standing; `until` is exclusive.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipOut {
    pub kind: String,
    pub partner_group: Option<String>,
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

/// One State by its ISO code, with its memberships over time.
#[utoipa::path(get, path = "/states/{iso2}", tag = "reference", params(("iso2" = String, Path, description = "ISO 3166-1 alpha-2 code")),
    responses((status = 200, body = StateDetail), (status = 404, body = ErrorBody)))]
async fn get_state(State(state): State<AppState>, ApiPath(iso2): ApiPath<String>) -> ApiResult<Json<StateDetail>> {
    let iso2 = iso2.to_uppercase();
    let row = store::reference::state(&state.db, &iso2)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("there is no State with the code {iso2:?}")))?;
    let memberships = store::reference::memberships_of(&state.db, &iso2).await?;
    Ok(Json(StateDetail {
        iso2: row.iso2,
        name_en: row.name_en,
        name_fr: row.name_fr,
        protocol_sort_key: row.protocol_sort_key,
        memberships: memberships
            .into_iter()
            .map(|m| MembershipOut {
                kind: m.kind,
                partner_group: m.partner_group,
                from: m.valid_from,
                until: m.valid_until,
            })
            .collect(),
    }))
}

/// The Chairmanship of a year and its Troika; null where not yet decided.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChairmanshipOut {
    pub year: i32,
    /// The chairing State, or null when not yet decided ("to be decided", never guessed).
    pub iso2: Option<String>,
    pub name_en: Option<String>,
    pub troika: TroikaOut,
}

/// The previous, current and next Chairmanship.
#[derive(Debug, Serialize, ToSchema)]
pub struct TroikaOut {
    pub previous: Option<String>,
    pub current: Option<String>,
    pub next: Option<String>,
}

/// Every year from the first known Chairmanship to next year, with its Troika.
#[utoipa::path(get, path = "/chairmanships", tag = "reference", responses((status = 200, body = [ChairmanshipOut])))]
async fn list_chairmanships(State(state): State<AppState>) -> ApiResult<Json<Vec<ChairmanshipOut>>> {
    let years = service::reference::chairmanships(&state.db).await?;
    Ok(Json(years.into_iter().map(chairmanship_out).collect()))
}

fn chairmanship_out(ChairmanshipYear { year, name_en, troika }: ChairmanshipYear) -> ChairmanshipOut {
    ChairmanshipOut {
        year,
        iso2: troika.current.clone(),
        name_en,
        troika: TroikaOut { previous: troika.previous, current: troika.current, next: troika.next },
    }
}

/// A newly agreed Chairmanship.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChairmanshipIn {
    pub iso2: String,
}

/// Records the Chairmanship of a year (organisers); the chairs derived from it follow.
#[utoipa::path(put, path = "/chairmanships/{year}", tag = "reference", security(("bearer" = [])),
    params(("year" = i32, Path)), request_body = ChairmanshipIn,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_chairmanship(
    State(state): State<AppState>,
    Organiser(principal): Organiser,
    ApiPath(year): ApiPath<i32>,
    ApiJson(body): ApiJson<ChairmanshipIn>,
) -> ApiResult<StatusCode> {
    service::reference::set_chairmanship(&state.db, &principal, year, &body.iso2).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A newly agreed Chairmanship, for a year not decided yet.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChairmanshipIn {
    pub year: i32,
    /// ISO code of the participating State that chairs.
    pub state: String,
}

/// Records the Chairmanship of a year not decided yet (organisers); 409 when the year already
/// has one (`PUT /chairmanships/{year}` replaces it). The chairs derived from it follow.
#[utoipa::path(post, path = "/chairmanships", tag = "reference", security(("bearer" = [])),
    request_body = NewChairmanshipIn,
    responses((status = 201, body = ChairmanshipOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn record_chairmanship(
    State(state): State<AppState>,
    Organiser(principal): Organiser,
    ApiJson(body): ApiJson<NewChairmanshipIn>,
) -> ApiResult<(StatusCode, Json<ChairmanshipOut>)> {
    service::reference::record_chairmanship(&state.db, &principal, body.year, &body.state).await?;
    let recorded = service::reference::chairmanships(&state.db)
        .await?
        .into_iter()
        .find(|year| year.year == body.year)
        .map(chairmanship_out)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the Chairmanship of {} is not listed", body.year)))?;
    Ok((StatusCode::CREATED, Json(recorded)))
}

/// A body and its rules.
#[derive(Debug, Serialize, ToSchema)]
pub struct BodyOut {
    /// `PC`, `FSC`, `CG-MED`, `CG-ASIA`, `CG-JOINT`, `CONF-MED`, `CONF-ASIA`, `MC`,
    /// `TROIKA-PARTNERS`, `ASRC`, `EEF`, `HDIM`.
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
    /// How it meets: `weekly`, `spread`, `annual` or `one_off`.
    pub cadence: String,
    /// Who chairs: `chairmanship`, `incoming`, `outgoing`, `incoming_and_outgoing`, `fsc_rotation`.
    pub chair_rule: String,
    /// Who is invited besides the participating States.
    pub invites: String,
    pub default_room: Option<String>,
    /// Seats behind the main table per delegation.
    pub seats_behind: i32,
    /// The full rules as data.
    #[schema(value_type = Object)]
    pub rules: serde_json::Value,
}

/// Every body Plenary schedules.
#[utoipa::path(get, path = "/bodies", tag = "reference", responses((status = 200, body = [BodyOut])))]
async fn list_bodies(State(state): State<AppState>) -> ApiResult<Json<Vec<BodyOut>>> {
    let bodies = store::bodies::all_rows(&state.db).await?;
    Ok(Json(
        bodies
            .into_iter()
            .map(|row| BodyOut {
                rules: serde_json::from_str(&row.rules).unwrap_or(serde_json::Value::Null),
                code: row.code,
                name_en: row.name_en,
                name_fr: row.name_fr,
                cadence: row.cadence,
                chair_rule: row.chair_rule,
                invites: row.invites,
                default_room: row.default_room,
                seats_behind: row.seats_behind,
            })
            .collect(),
    ))
}
