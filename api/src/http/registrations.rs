//! Attendance: delegations (or organisers for them) register named attendees for a meeting,
//! change their function or seat until the deadline, and withdraw them; organisers set a
//! meeting's quota, deadline and capacity, and read the attendance list as JSON or CSV.
//!
//! The JSON edge only: request and response types, and handlers that map them to the use cases
//! of [`crate::service::registrations`].

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use scheduler::attendance::{Seat, SeatTally};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    error::{ApiResult, ErrorBody},
    extract::{ApiJson, ApiPath, Organiser},
};
use crate::{
    app::AppState,
    auth::Principal,
    db::entities::registrations,
    db::enums::{self, Language, RegistrationStatus},
    service::registrations::{self as service, Registration},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_registration, list_registrations))
        .routes(routes!(update_registration, withdraw_registration))
        .routes(routes!(put_attendance_settings))
        .routes(routes!(get_attendance))
        .routes(routes!(get_attendance_csv))
}

// ---------------------------------------------------------------------------------------------
// Input and output

/// A named attendee to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationIn {
    /// ISO code of the delegation; a delegation's token may only name its own.
    pub state: String,
    pub name: String,
    #[serde(default)]
    pub function: String,
    pub email: String,
    /// `main` (the head of delegation's seat at the table) or `behind` (an adviser).
    #[schema(value_type = String, example = "behind")]
    pub seat: Seat,
    /// `en` (default) or `fr`: the language of mail to this attendee.
    pub language: Option<String>,
    /// Organisers only: exceed the quota and the deadline on purpose; recorded.
    #[serde(default, rename = "override")]
    pub override_limits: bool,
}

/// A change of function or seat; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationPatch {
    pub function: Option<String>,
    #[schema(value_type = Option<String>)]
    pub seat: Option<Seat>,
    /// Organisers only: change after the deadline or past the quota; recorded.
    #[serde(default, rename = "override")]
    pub override_limits: bool,
}

/// A registration as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationOut {
    pub id: i64,
    pub meeting_id: i32,
    pub state: String,
    pub name: String,
    pub function: String,
    pub email: String,
    /// `main` or `behind`.
    #[schema(value_type = String)]
    pub seat: enums::Seat,
    #[schema(value_type = String)]
    pub language: Language,
    /// `confirmed`, `waiting` or `withdrawn`.
    #[schema(value_type = String)]
    pub status: RegistrationStatus,
    /// 1-based place in the waiting list while waiting.
    pub position: Option<u32>,
    /// Order of arrival within the meeting.
    pub arrival: i64,
    /// An organiser exceeded the quota or the deadline for it.
    pub overridden: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn registration_out(row: registrations::Model, position: Option<u32>) -> RegistrationOut {
    RegistrationOut {
        id: row.id,
        meeting_id: row.meeting_id,
        state: row.iso2,
        name: row.name,
        function: row.function,
        email: row.email,
        seat: row.seat,
        language: row.language,
        status: row.status,
        position,
        arrival: row.arrival,
        overridden: row.overridden,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

impl From<Registration> for RegistrationOut {
    fn from(registration: Registration) -> Self {
        registration_out(registration.row, registration.position)
    }
}

/// A withdrawal, and who moved up from the waiting list because of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WithdrawalOut {
    pub registration: RegistrationOut,
    pub promoted: Vec<RegistrationOut>,
}

/// A meeting's attendance settings; null keeps the default.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsIn {
    /// Seats behind each head of delegation (the body's quota when null).
    pub seats_behind_quota: Option<u32>,
    /// When registration closes, as a local date-time in the meeting's zone
    /// (`2027-06-13T18:00:00`); the default before the start when null.
    pub deadline: Option<String>,
    /// Seats for the whole meeting: lowers the room's capacity, or bounds a meeting without
    /// a room (unlimited when null).
    pub capacity: Option<u32>,
}

/// The settings in force and the limits they give.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsOut {
    pub meeting_id: i32,
    /// What organisers set (null: the default).
    pub seats_behind_quota: Option<u32>,
    pub deadline: Option<String>,
    pub capacity: Option<u32>,
    /// The limits in force.
    pub effective: Limits,
    /// Registrations moved up from the waiting list by this change.
    pub promoted: Vec<RegistrationOut>,
}

/// The limits in force for a meeting.
#[derive(Debug, Serialize, ToSchema)]
pub struct Limits {
    pub seats_behind_quota: u32,
    /// RFC 3339 with the offset of the meeting's place.
    pub deadline: String,
    pub time_zone: String,
    /// Null: unlimited.
    pub capacity: Option<u32>,
    pub room_capacity: Option<u32>,
}

/// The attendance list: counts and registrations.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceOut {
    pub meeting_id: i32,
    pub limits: Limits,
    pub deadline_passed: bool,
    pub confirmed: u32,
    pub waiting: u32,
    /// Confirmed registrations per seat kind: `main` and `behind`.
    pub confirmed_by_seat: SeatCounts,
    /// Per delegation with registrations (for a delegation's token, its own only).
    pub delegations: Vec<DelegationCount>,
    /// Confirmed and waiting registrations, in order of arrival.
    pub registrations: Vec<RegistrationOut>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct SeatCounts {
    pub main: u32,
    pub behind: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DelegationCount {
    pub state: String,
    pub name_en: String,
    pub confirmed: SeatCounts,
    pub waiting: SeatCounts,
    /// Seats behind still free within the quota (confirmed and waiting count).
    pub quota_left: u32,
}

impl From<service::Limits> for Limits {
    fn from(limits: service::Limits) -> Self {
        Self {
            seats_behind_quota: limits.seats_behind_quota,
            deadline: limits.deadline.to_rfc3339(),
            time_zone: limits.deadline.timezone().name().to_owned(),
            capacity: limits.capacity,
            room_capacity: limits.room_capacity,
        }
    }
}

fn out(rows: Vec<registrations::Model>) -> Vec<RegistrationOut> {
    rows.into_iter().map(|row| registration_out(row, None)).collect()
}

// ---------------------------------------------------------------------------------------------
// Handlers: each maps its input to a use case of [`service`] and the outcome to JSON.

/// Registers a named attendee (the delegation itself, or an organiser). Past the capacity it
/// goes onto the waiting list (`status: waiting`, with its `position`).
#[utoipa::path(post, path = "/meetings/{id}/registrations", tag = "attendance", security(("bearer" = [])),
    params(("id" = i32, Path)), request_body = RegistrationIn,
    responses((status = 201, body = RegistrationOut),
        (status = 403, body = ErrorBody, description = "another delegation, or not invited (with the reason)"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "cancelled, past the deadline, over the quota, main seat taken, already registered"),
        (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody, description = "try again after Retry-After: `try_again` when too many registrations for the meeting are waiting (or the service stopped deciding it), `database_unavailable` when the database is out of reach")))]
async fn create_registration(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i32>,
    ApiJson(input): ApiJson<RegistrationIn>,
) -> ApiResult<(StatusCode, Json<RegistrationOut>)> {
    let input = service::NewRegistration {
        state: input.state,
        name: input.name,
        function: input.function,
        email: input.email,
        seat: input.seat,
        language: input.language,
        override_limits: input.override_limits,
    };
    let registration = service::register(&state, &principal, id, input).await?;
    Ok((StatusCode::CREATED, Json(registration.into())))
}

/// The registrations of a meeting in order of arrival, withdrawn ones too: a delegation's
/// token sees its own, organisers all.
#[utoipa::path(get, path = "/meetings/{id}/registrations", tag = "attendance", security(("bearer" = [])),
    params(("id" = i32, Path)),
    responses((status = 200, body = [RegistrationOut]), (status = 404, body = ErrorBody)))]
async fn list_registrations(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i32>,
) -> ApiResult<Json<Vec<RegistrationOut>>> {
    let registrations = service::registrations_of(&state.db, &principal, id).await?;
    Ok(Json(registrations.into_iter().map(RegistrationOut::from).collect()))
}

/// Changes an attendee's function or seat, until the deadline (organisers later with
/// `"override": true`).
#[utoipa::path(patch, path = "/registrations/{id}", tag = "attendance", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RegistrationPatch,
    responses((status = 200, body = RegistrationOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn update_registration(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<RegistrationPatch>,
) -> ApiResult<Json<RegistrationOut>> {
    let change = service::RegistrationChange {
        function: patch.function,
        seat: patch.seat,
        override_limits: patch.override_limits,
    };
    Ok(Json(service::change(&state.db, &principal, id, change).await?.into()))
}

/// Withdraws a registration; the first in the waiting list moves up into a freed seat.
#[utoipa::path(delete, path = "/registrations/{id}", tag = "attendance", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = WithdrawalOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn withdraw_registration(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<WithdrawalOut>> {
    let withdrawal = service::withdraw(&state, &principal, id).await?;
    Ok(Json(WithdrawalOut {
        registration: registration_out(withdrawal.registration, None),
        promoted: out(withdrawal.promoted),
    }))
}

/// Sets a meeting's quota of seats behind, deadline and capacity (organisers); null restores
/// the default. A larger capacity moves people up from the waiting list at once.
#[utoipa::path(put, path = "/meetings/{id}/attendance-settings", tag = "attendance", security(("bearer" = [])),
    params(("id" = i32, Path)), request_body = SettingsIn,
    responses((status = 200, body = SettingsOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn put_attendance_settings(
    State(state): State<AppState>,
    Organiser(principal): Organiser,
    ApiPath(id): ApiPath<i32>,
    ApiJson(input): ApiJson<SettingsIn>,
) -> ApiResult<Json<SettingsOut>> {
    let input = service::NewSettings {
        seats_behind_quota: input.seats_behind_quota,
        deadline: input.deadline,
        capacity: input.capacity,
    };
    let changed = service::set_settings(&state, &principal, id, input).await?;
    Ok(Json(SettingsOut {
        meeting_id: changed.meeting_id,
        seats_behind_quota: changed.seats_behind_quota,
        deadline: changed.deadline.map(|deadline| deadline.to_rfc3339()),
        capacity: changed.capacity,
        effective: changed.effective.into(),
        promoted: out(changed.promoted),
    }))
}

/// Counts per delegation and seat kind, the limits in force and the registrations (organisers
/// see all delegations; a delegation's token its own, with its quota left and place in line).
#[utoipa::path(get, path = "/meetings/{id}/attendance", tag = "attendance", security(("bearer" = [])),
    params(("id" = i32, Path)),
    responses((status = 200, body = AttendanceOut), (status = 404, body = ErrorBody)))]
async fn get_attendance(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i32>,
) -> ApiResult<Json<AttendanceOut>> {
    let list = service::attendance_list(&state.db, &principal, id).await?;
    let confirmed = |seats: &SeatTally| SeatCounts { main: seats.confirmed_main, behind: seats.confirmed_behind };
    let waiting = |seats: &SeatTally| SeatCounts { main: seats.waiting_main, behind: seats.waiting_behind };
    Ok(Json(AttendanceOut {
        meeting_id: list.meeting_id,
        limits: list.limits.into(),
        deadline_passed: list.deadline_passed,
        confirmed: list.seats.confirmed(),
        waiting: list.seats.waiting(),
        confirmed_by_seat: confirmed(&list.seats),
        delegations: list
            .delegations
            .into_iter()
            .map(|delegation| DelegationCount {
                confirmed: confirmed(&delegation.seats),
                waiting: waiting(&delegation.seats),
                state: delegation.iso2,
                name_en: delegation.name_en,
                quota_left: delegation.quota_left,
            })
            .collect(),
        registrations: list.registrations.into_iter().map(RegistrationOut::from).collect(),
    }))
}

/// The attendance list as a CSV download (organisers): one line per confirmed or waiting
/// registration, in order of arrival.
#[utoipa::path(get, path = "/meetings/{id}/attendance.csv", tag = "attendance", security(("bearer" = [])),
    params(("id" = i32, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn get_attendance_csv(
    State(state): State<AppState>,
    Organiser(principal): Organiser,
    ApiPath(id): ApiPath<i32>,
) -> ApiResult<Response> {
    let text = service::attendance_csv(&state.db, &principal, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"attendance-{id}.csv\"")),
        ],
        text,
    )
        .into_response())
}
