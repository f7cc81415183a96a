//! Attendance: delegations (or organisers for them) register named attendees for a meeting,
//! change their function or seat until the deadline, and withdraw them; organisers set a
//! meeting's quota, deadline and capacity, and read the attendance list as JSON or CSV.
//!
//! The rules are [`scheduler::attendance`]'s; [`store::attendance`] applies them under the
//! meeting's lock, so concurrent requests on any number of replicas never exceed a capacity or
//! a quota and the waiting list keeps the order of arrival. Every change is audited.

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use scheduler::{
    attendance::{self, Caller, MeetingRules, Refusal, Seat, Settings, Status},
    bodies::Body,
    eligibility::Adjustments,
    localtime::resolve_local,
    states::Delegation,
};
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait as _, TransactionTrait as _};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    AppState,
    error::{ApiError, ApiResult, ErrorBody},
    extract::{ApiJson, ApiPath, Organiser},
    meetings::load_meeting,
};
use crate::{
    auth::Principal,
    db::{
        entities::{attendance_settings, meetings, registrations, rooms},
        enums::{self, Language, MeetingStatus, RegistrationStatus},
    },
    store::{
        self,
        attendance::{AttendanceError, retrying},
    },
    validate::{self, TextKind},
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

// ---------------------------------------------------------------------------------------------
// The meeting as the rules see it

/// What the rules need of a meeting besides its settings row.
struct Facts {
    meeting: meetings::Model,
    body: &'static Body,
    zone: Tz,
    in_vienna: bool,
    room_capacity: Option<u32>,
    adjustments: Adjustments,
}

impl Facts {
    fn rules(&self, settings: Settings) -> MeetingRules<'_> {
        MeetingRules {
            body: self.body,
            start: DateTime::from_timestamp(self.meeting.starts_at, 0).unwrap_or_default(),
            zone: self.zone,
            in_vienna: self.in_vienna,
            room_capacity: self.room_capacity,
            cancelled: self.meeting.status == MeetingStatus::Cancelled,
            settings,
            adjustments: &self.adjustments,
        }
    }

    fn for_mail(&self) -> store::attendance::MeetingForMail<'_> {
        store::attendance::MeetingForMail {
            id: self.meeting.id,
            title: &self.meeting.title,
            start: DateTime::from_timestamp(self.meeting.starts_at, 0).unwrap_or_default().with_timezone(&self.zone),
        }
    }

    fn limits(&self, settings: Settings) -> Limits {
        let rules = self.rules(settings);
        Limits {
            seats_behind_quota: rules.quota(),
            deadline: rules.local_deadline().to_rfc3339(),
            time_zone: self.zone.name().to_owned(),
            capacity: rules.capacity(),
            room_capacity: self.room_capacity,
        }
    }
}

async fn facts(db: &DatabaseConnection, meeting: meetings::Model) -> ApiResult<Facts> {
    let body = store::meetings::body_of(&meeting)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("meeting {} has an unknown body", meeting.id)))?;
    let zone = meeting.zone();
    let room = match meeting.room_code.as_deref() {
        Some(code) => rooms::Entity::find_by_id(code.to_owned()).one(db).await?,
        None => None,
    };
    let in_vienna = meeting.time_zone == "Europe/Vienna"
        && (room.is_some()
            || meeting
                .city
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case("vienna") || c.eq_ignore_ascii_case("wien")));
    let adjustments = store::invitations::adjustments(db, meeting.id).await?;
    Ok(Facts {
        room_capacity: room.and_then(|room| u32::try_from(room.capacity).ok()),
        meeting,
        body,
        zone,
        in_vienna,
        adjustments,
    })
}

fn refusal(refusal: Refusal) -> ApiError {
    let message = refusal.to_string();
    match refusal {
        Refusal::NotInvited { .. } => ApiError::Forbidden(message),
        Refusal::Cancelled => ApiError::Conflict { message, details: Some(json!({ "reason": "cancelled" })) },
        Refusal::AlreadyRegistered { id, .. } => {
            ApiError::Conflict { message, details: Some(json!({ "reason": "already_registered", "registration": id })) }
        }
        Refusal::PastDeadline { deadline } => ApiError::Conflict {
            message,
            details: Some(json!({
                "reason": "past_deadline",
                "deadline": deadline.to_rfc3339(),
                "time_zone": deadline.timezone().name(),
            })),
        },
        Refusal::MainSeatTaken { holder, .. } => {
            ApiError::Conflict { message, details: Some(json!({ "reason": "main_seat_taken", "holder": holder })) }
        }
        Refusal::OverQuota { quota, holders, .. } => ApiError::Conflict {
            message,
            details: Some(json!({ "reason": "over_quota", "quota": quota, "holders": holders })),
        },
    }
}

impl From<AttendanceError> for ApiError {
    fn from(error: AttendanceError) -> Self {
        match error {
            AttendanceError::Refused(reason) => refusal(reason),
            AttendanceError::NotFound(message) => Self::NotFound(message),
            AttendanceError::Conflict(message) => Self::conflict(message),
            AttendanceError::Db(error) => match error.sql_err() {
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Self::Conflict {
                    message: "this attendee is already registered for the meeting".into(),
                    details: Some(json!({ "reason": "already_registered" })),
                },
                _ => Self::Internal(error.into()),
            },
        }
    }
}

fn caller(principal: &Principal, override_limits: bool) -> ApiResult<Caller> {
    if principal.is_organiser() {
        Ok(Caller::Organiser { override_limits })
    } else if override_limits {
        Err(ApiError::Forbidden("only organisers may exceed the quota or the deadline (\"override\")".into()))
    } else {
        Ok(Caller::Delegation)
    }
}

// ---------------------------------------------------------------------------------------------
// Validation

/// An attendee's function; it may be left blank.
fn clean_function(text: &str) -> ApiResult<String> {
    Ok(validate::optional("function", TextKind::Function, Some(text))?.unwrap_or_default())
}

fn clean_language(text: Option<&str>) -> ApiResult<Language> {
    match text.map(str::trim).map(str::to_lowercase).as_deref() {
        None => Ok(Language::En),
        Some(code) => {
            Language::parse(code).ok_or_else(|| ApiError::Invalid(format!("language: expected en or fr, got {code:?}")))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Registering

/// Registers a named attendee (the delegation itself, or an organiser). Past the capacity it
/// goes onto the waiting list (`status: waiting`, with its `position`).
#[utoipa::path(post, path = "/meetings/{id}/registrations", tag = "attendance", security(("bearer" = [])),
    params(("id" = i32, Path)), request_body = RegistrationIn,
    responses((status = 201, body = RegistrationOut),
        (status = 403, body = ErrorBody, description = "another delegation, or not invited (with the reason)"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "cancelled, past the deadline, over the quota, main seat taken, already registered"),
        (status = 422, body = ErrorBody)))]
async fn create_registration(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i32>,
    ApiJson(input): ApiJson<RegistrationIn>,
) -> ApiResult<(StatusCode, Json<RegistrationOut>)> {
    Ok((StatusCode::CREATED, Json(register(&state, &principal, id, input).await?)))
}

/// Registers an attendee for meeting `id` under the rules (the API and the web pages).
///
/// # Errors
/// As the `POST /meetings/{id}/registrations` API: 403, 404, 409 (with the refusal's reason)
/// and 422 (naming the field).
pub async fn register(
    state: &AppState,
    principal: &Principal,
    id: i32,
    input: RegistrationIn,
) -> ApiResult<RegistrationOut> {
    let iso2 = input.state.trim().to_uppercase();
    principal.require_acting_for(&iso2)?;
    let caller = caller(principal, input.override_limits)?;
    let name = validate::required("name", TextKind::PersonName, &input.name)?;
    let function = clean_function(&input.function)?;
    let email = validate::email("email", &input.email)?;
    let language = clean_language(input.language.as_deref())?;
    let meeting = load_meeting(state, id).await?;
    let facts = facts(&state.db, meeting).await?;
    let delegations =
        store::reference::states_and_memberships(&state.db).await?.on(facts.rules(Settings::default()).local_date());
    let new = NewRegistration { iso2, name, function, email, seat: input.seat, language };
    let (row, position) = retrying(|| register_once(&state.db, &facts, &delegations, principal, caller, &new)).await?;
    Ok(registration_out(row, position))
}

/// The quota, deadline and capacity of meeting `id` as they stand.
///
/// # Errors
/// 404 for an unknown meeting; 500 when the database fails.
pub async fn limits_of(state: &AppState, id: i32) -> ApiResult<Limits> {
    let meeting = load_meeting(state, id).await?;
    let settings = store::attendance::settings_of(store::attendance::settings(&state.db, id).await?.as_ref());
    Ok(facts(&state.db, meeting).await?.limits(settings))
}

struct NewRegistration {
    iso2: String,
    name: String,
    function: String,
    email: String,
    seat: Seat,
    language: Language,
}

async fn register_once(
    db: &DatabaseConnection,
    facts: &Facts,
    delegations: &[Delegation],
    principal: &Principal,
    caller: Caller,
    new: &NewRegistration,
) -> Result<(registrations::Model, Option<u32>), AttendanceError> {
    let txn = db.begin().await?;
    let settings_row = store::attendance::lock(&txn, facts.meeting.id).await?;
    let rules = facts.rules(store::attendance::settings_of(Some(&settings_row)));
    let rows = store::attendance::active(&txn, facts.meeting.id).await?;
    let currents: Vec<_> = rows.iter().map(store::attendance::current).collect();
    let now = Utc::now();
    let request = attendance::Request { iso2: &new.iso2, email: &new.email, seat: new.seat };
    let accepted = attendance::decide(&rules, caller, now, delegations, &currents, request)?;
    let row = registrations::Entity::insert(registrations::ActiveModel {
        meeting_id: Set(facts.meeting.id),
        iso2: Set(new.iso2.clone()),
        name: Set(new.name.clone()),
        function: Set(new.function.clone()),
        email: Set(new.email.clone()),
        seat: Set(new.seat.into()),
        language: Set(new.language),
        status: Set(accepted.status.into()),
        arrival: Set(settings_row.last_arrival),
        overridden: Set(!accepted.overridden.is_empty()),
        created_by: Set(principal.actor.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec_with_returning(&txn)
    .await?;
    store::attendance::record(&txn, &principal.actor, "registration.create", None, &row, accepted.overridden).await?;
    txn.commit().await?;
    Ok((row, accepted.position))
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
    Ok(Json(registrations_of(&state, &principal, id).await?))
}

/// The registrations of meeting `id` the caller may see (a delegation its own, organisers all),
/// withdrawn ones too, in order of arrival, with waiting-list positions.
///
/// # Errors
/// 404 for an unknown meeting; 500 when the database fails.
pub async fn registrations_of(state: &AppState, principal: &Principal, id: i32) -> ApiResult<Vec<RegistrationOut>> {
    load_meeting(state, id).await?;
    let rows = store::attendance::all(&state.db, id).await?;
    let positions = positions(&rows);
    Ok(rows
        .into_iter()
        .filter(|row| visible_to(principal, row))
        .map(|row| {
            let position = position_of(&positions, row.id);
            registration_out(row, position)
        })
        .collect())
}

fn visible_to(principal: &Principal, row: &registrations::Model) -> bool {
    principal.is_organiser() || principal.state.as_deref() == Some(row.iso2.as_str())
}

fn positions(rows: &[registrations::Model]) -> Vec<(i64, u32)> {
    let currents: Vec<_> =
        rows.iter().filter(|row| row.status != Status::Withdrawn).map(store::attendance::current).collect();
    attendance::waiting_positions(&currents)
}

fn position_of(positions: &[(i64, u32)], id: i64) -> Option<u32> {
    positions.iter().find(|(other, _)| *other == id).map(|(_, position)| *position)
}

/// Loads a registration the caller may act on, or answers 404 (also for another delegation's,
/// so ids do not reveal who registered).
async fn load_registration(state: &AppState, principal: &Principal, id: i64) -> ApiResult<registrations::Model> {
    store::attendance::find(&state.db, id)
        .await?
        .filter(|row| visible_to(principal, row))
        .ok_or_else(|| ApiError::NotFound(format!("there is no registration {id}")))
}

// ---------------------------------------------------------------------------------------------
// Changing and withdrawing

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
    let caller = caller(&principal, patch.override_limits)?;
    let function = patch.function.as_deref().map(clean_function).transpose()?;
    let existing = load_registration(&state, &principal, id).await?;
    let meeting = load_meeting(&state, existing.meeting_id).await?;
    let facts = facts(&state.db, meeting).await?;
    let change = Change { id, function, seat: patch.seat };
    let row = retrying(|| change_once(&state.db, &facts, &principal, caller, &change)).await?;
    let rows = store::attendance::active(&state.db, row.meeting_id).await?;
    let position = position_of(&positions(&rows), row.id);
    Ok(Json(registration_out(row, position)))
}

struct Change {
    id: i64,
    function: Option<String>,
    seat: Option<Seat>,
}

async fn change_once(
    db: &DatabaseConnection,
    facts: &Facts,
    principal: &Principal,
    caller: Caller,
    change: &Change,
) -> Result<registrations::Model, AttendanceError> {
    let txn = db.begin().await?;
    let settings_row = store::attendance::lock(&txn, facts.meeting.id).await?;
    let before = store::attendance::find(&txn, change.id)
        .await?
        .ok_or_else(|| AttendanceError::NotFound(format!("there is no registration {}", change.id)))?;
    if before.status == Status::Withdrawn {
        return Err(AttendanceError::Conflict(format!("registration {} has been withdrawn", change.id)));
    }
    let rules = facts.rules(store::attendance::settings_of(Some(&settings_row)));
    let rows = store::attendance::active(&txn, facts.meeting.id).await?;
    let currents: Vec<_> = rows.iter().map(store::attendance::current).collect();
    let seat = change.seat.unwrap_or_else(|| store::attendance::current(&before).seat);
    let overridden = attendance::decide_change(&rules, caller, Utc::now(), &currents, change.id, seat)?;
    let after = registrations::Model {
        function: change.function.clone().unwrap_or_else(|| before.function.clone()),
        seat: seat.into(),
        overridden: before.overridden || !overridden.is_empty(),
        updated_at: Utc::now(),
        ..before.clone()
    };
    if after.function == before.function && after.seat == before.seat {
        return Ok(before);
    }
    registrations::Entity::update(registrations::ActiveModel {
        id: sea_orm::ActiveValue::Unchanged(after.id),
        function: Set(after.function.clone()),
        seat: Set(after.seat),
        overridden: Set(after.overridden),
        updated_at: Set(after.updated_at),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    store::attendance::record(&txn, &principal.actor, "registration.update", Some(&before), &after, overridden).await?;
    txn.commit().await?;
    Ok(after)
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
    Ok(Json(withdraw(&state, &principal, id).await?))
}

/// Withdraws registration `id` (the API and the web pages); the waiting list moves up.
///
/// # Errors
/// 404 for a registration the caller may not see; 409 past the deadline; 500 when the
/// database fails.
pub async fn withdraw(state: &AppState, principal: &Principal, id: i64) -> ApiResult<WithdrawalOut> {
    let existing = load_registration(state, principal, id).await?;
    let meeting = load_meeting(state, existing.meeting_id).await?;
    let facts = facts(&state.db, meeting).await?;
    let (row, promoted) = retrying(|| withdraw_once(&state.db, &facts, principal, id)).await?;
    Ok(WithdrawalOut {
        registration: registration_out(row, None),
        promoted: promoted.into_iter().map(|row| registration_out(row, None)).collect(),
    })
}

async fn withdraw_once(
    db: &DatabaseConnection,
    facts: &Facts,
    principal: &Principal,
    id: i64,
) -> Result<(registrations::Model, Vec<registrations::Model>), AttendanceError> {
    let txn = db.begin().await?;
    let settings_row = store::attendance::lock(&txn, facts.meeting.id).await?;
    let before = store::attendance::find(&txn, id)
        .await?
        .ok_or_else(|| AttendanceError::NotFound(format!("there is no registration {id}")))?;
    if before.status == Status::Withdrawn {
        return Err(AttendanceError::Conflict(format!("registration {id} is already withdrawn")));
    }
    let now = Utc::now();
    let after = registrations::Model { status: RegistrationStatus::Withdrawn, updated_at: now, ..before.clone() };
    registrations::Entity::update(registrations::ActiveModel {
        id: sea_orm::ActiveValue::Unchanged(id),
        status: Set(after.status),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    store::attendance::record(&txn, &principal.actor, "registration.withdraw", Some(&before), &after, Vec::new())
        .await?;
    let rules = facts.rules(store::attendance::settings_of(Some(&settings_row)));
    let rows = store::attendance::active(&txn, facts.meeting.id).await?;
    let promoted =
        store::attendance::promote(&txn, &principal.actor, rules.capacity(), &rows, &facts.for_mail(), now).await?;
    txn.commit().await?;
    Ok((after, promoted))
}

// ---------------------------------------------------------------------------------------------
// Settings

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
    let meeting = load_meeting(&state, id).await?;
    let facts = facts(&state.db, meeting).await?;
    let deadline = match input.deadline.as_deref() {
        Some(text) => {
            let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
                .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
                .map_err(|_| {
                    ApiError::Invalid(format!(
                        "deadline: expected a local date-time without offset such as 2027-06-13T18:00:00, got {text:?}"
                    ))
                })?;
            let at =
                resolve_local(local, facts.zone).map_err(|error| ApiError::Invalid(format!("deadline: {error}")))?;
            Some(at.with_timezone(&Utc))
        }
        None => None,
    };
    let wanted = Settings { seats_behind_quota: input.seats_behind_quota, deadline, capacity: input.capacity };
    if wanted.seats_behind_quota.is_some_and(|q| q > 100) || wanted.capacity.is_some_and(|c| c > 100_000) {
        return Err(ApiError::Invalid("seats_behind_quota must be at most 100 and capacity at most 100000".into()));
    }
    let promoted = retrying(|| settings_once(&state.db, &facts, &principal, wanted)).await?;
    Ok(Json(SettingsOut {
        meeting_id: id,
        seats_behind_quota: wanted.seats_behind_quota,
        deadline: wanted.deadline.map(|d| d.with_timezone(&facts.zone).to_rfc3339()),
        capacity: wanted.capacity,
        effective: facts.limits(wanted),
        promoted: promoted.into_iter().map(|row| registration_out(row, None)).collect(),
    }))
}

async fn settings_once(
    db: &DatabaseConnection,
    facts: &Facts,
    principal: &Principal,
    wanted: Settings,
) -> Result<Vec<registrations::Model>, AttendanceError> {
    let txn = db.begin().await?;
    let before = store::attendance::lock(&txn, facts.meeting.id).await?;
    let now = Utc::now();
    let to_i32 = |v: Option<u32>| v.and_then(|v| i32::try_from(v).ok());
    let after = attendance_settings::Model {
        seats_behind_quota: to_i32(wanted.seats_behind_quota),
        deadline: wanted.deadline.map(|d| d.timestamp()),
        capacity: to_i32(wanted.capacity),
        updated_at: Some(now),
        ..before.clone()
    };
    attendance_settings::Entity::update(attendance_settings::ActiveModel {
        meeting_id: sea_orm::ActiveValue::Unchanged(after.meeting_id),
        seats_behind_quota: Set(after.seats_behind_quota),
        deadline: Set(after.deadline),
        capacity: Set(after.capacity),
        updated_at: Set(after.updated_at),
        ..Default::default()
    })
    .exec(&txn)
    .await?;
    let snapshot = |row: &attendance_settings::Model| json!({ "seats_behind_quota": row.seats_behind_quota, "deadline": row.deadline, "capacity": row.capacity });
    store::audit::record(
        &txn,
        store::audit::AuditEntry {
            actor: &principal.actor,
            action: "attendance.settings",
            subject_type: "meeting",
            subject_id: facts.meeting.id.to_string(),
            before: Some(&snapshot(&before)),
            after: Some(&snapshot(&after)),
        },
    )
    .await?;
    let rows = store::attendance::active(&txn, facts.meeting.id).await?;
    let capacity = facts.rules(wanted).capacity();
    let promoted = store::attendance::promote(&txn, &principal.actor, capacity, &rows, &facts.for_mail(), now).await?;
    txn.commit().await?;
    Ok(promoted)
}

// ---------------------------------------------------------------------------------------------
// The attendance list

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
    Ok(Json(attendance_list(&state, &principal, id).await?))
}

async fn attendance_list(state: &AppState, principal: &Principal, id: i32) -> ApiResult<AttendanceOut> {
    let meeting = load_meeting(state, id).await?;
    let facts = facts(&state.db, meeting).await?;
    let settings = store::attendance::settings_of(store::attendance::settings(&state.db, id).await?.as_ref());
    let rows = store::attendance::active(&state.db, id).await?;
    let positions = positions(&rows);
    let names = store::reference::states_and_memberships(&state.db).await?;
    let limits = facts.limits(settings);
    let quota = limits.seats_behind_quota;
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let is = |row: &registrations::Model, status: Status, seat: Seat| row.status == status && row.seat == seat;
    let mut delegations: Vec<DelegationCount> = Vec::new();
    for row in rows.iter().filter(|row| visible_to(principal, row)) {
        if delegations.iter().any(|d| d.state == row.iso2) {
            continue;
        }
        let of = |status, seat| count(rows.iter().filter(|r| r.iso2 == row.iso2 && is(r, status, seat)).count());
        let behind_held = of(Status::Confirmed, Seat::Behind) + of(Status::Waiting, Seat::Behind);
        delegations.push(DelegationCount {
            state: row.iso2.clone(),
            name_en: names
                .states
                .iter()
                .find(|s| s.iso2 == row.iso2)
                .map_or_else(|| row.iso2.clone(), |s| s.name_en.clone()),
            confirmed: SeatCounts {
                main: of(Status::Confirmed, Seat::Main),
                behind: of(Status::Confirmed, Seat::Behind),
            },
            waiting: SeatCounts { main: of(Status::Waiting, Seat::Main), behind: of(Status::Waiting, Seat::Behind) },
            quota_left: quota.saturating_sub(behind_held),
        });
    }
    delegations.sort_by(|a, b| a.state.cmp(&b.state));
    let confirmed_by_seat = SeatCounts {
        main: count(rows.iter().filter(|r| is(r, Status::Confirmed, Seat::Main)).count()),
        behind: count(rows.iter().filter(|r| is(r, Status::Confirmed, Seat::Behind)).count()),
    };
    Ok(AttendanceOut {
        meeting_id: id,
        deadline_passed: Utc::now() >= facts.rules(settings).deadline(),
        limits,
        confirmed: confirmed_by_seat.main + confirmed_by_seat.behind,
        waiting: count(rows.iter().filter(|r| r.status == Status::Waiting).count()),
        confirmed_by_seat,
        delegations,
        registrations: rows
            .into_iter()
            .filter(|row| visible_to(principal, row))
            .map(|row| {
                let position = position_of(&positions, row.id);
                registration_out(row, position)
            })
            .collect(),
    })
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
    attendance_csv(&state, &principal, id).await
}

/// Meeting `id`'s attendance list as a CSV download (the API and the organisers' pages).
///
/// # Errors
/// 403 for anyone but organisers; 404 for an unknown meeting; 500 when the database fails.
pub async fn attendance_csv(state: &AppState, principal: &Principal, id: i32) -> ApiResult<Response> {
    let list = attendance_list(state, principal, id).await?;
    let mut text = String::from("id,state,name,function,email,seat,language,status,position,arrival,overridden\r\n");
    for r in &list.registrations {
        let fields = [
            r.id.to_string(),
            r.state.clone(),
            r.name.clone(),
            r.function.clone(),
            r.email.clone(),
            r.seat.to_string(),
            r.language.to_string(),
            r.status.to_string(),
            r.position.map(|p| p.to_string()).unwrap_or_default(),
            r.arrival.to_string(),
            r.overridden.to_string(),
        ];
        text.push_str(&fields.iter().map(|f| scheduler::text::csv_cell(f)).collect::<Vec<_>>().join(","));
        text.push_str("\r\n");
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"attendance-{id}.csv\"")),
        ],
        text,
    )
        .into_response())
}
