//! Meetings: planning a year, listing and reading meetings, creating one-off meetings and
//! conferences abroad, moving, renaming, changing room, cancelling.
//!
//! Times come in as local date-times without offset plus the IANA zone of the place, and go out
//! as RFC 3339 with the local offset plus the zone. Every change a calendar must show raises
//! `sequence` and keeps `uid`, and is written to the audit log in the same transaction as the
//! update or cancellation mail it causes.

use axum::{Json, extract::State, http::StatusCode};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use sea_orm::{ConnectionTrait, TransactionTrait as _};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    AppState,
    error::{ApiError, ApiResult, ErrorBody},
    extract::{ApiJson, ApiPath, ApiQuery, Organiser, parse_date_param},
};
use crate::{
    auth::Principal,
    db::{entities::meetings, enums::MeetingStatus},
    store::{
        self,
        audit::AuditEntry,
        meetings::{Context, body_codes},
    },
    validate::{self, TextKind},
};
use scheduler::{
    bodies::{all_bodies, body},
    chairs::Chair,
    conflicts::{Warning, find_conflicts},
    localtime::{parse_zone, resolve_local},
    planning::plan_year,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(plan))
        .routes(routes!(list_meetings, create_meeting))
        .routes(routes!(get_meeting, update_meeting))
        .routes(routes!(cancel_meeting))
}

/// The longest a single meeting may last.
const LONGEST_MEETING: TimeDelta = TimeDelta::days(31);

// ---------------------------------------------------------------------------------------------
// Output

/// A meeting as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingOut {
    pub id: i32,
    /// iCalendar UID, stable for the meeting's whole life.
    pub uid: String,
    pub body: String,
    pub title: String,
    /// RFC 3339 with the local offset of `time_zone`.
    pub start: String,
    pub end: String,
    /// IANA zone of the place.
    pub time_zone: String,
    pub venue: Option<String>,
    /// Room code (see the rooms of a venue); null for meetings abroad.
    pub room: Option<String>,
    pub room_name: Option<String>,
    pub city: Option<String>,
    /// ISO code of the country the meeting is in.
    pub country: Option<String>,
    /// ISO code of the host country, for conferences.
    pub host: Option<String>,
    /// ISO code of the presiding State (for co-chaired meetings, the incoming Chairmanship);
    /// null when not yet decided.
    pub chair: Option<String>,
    /// Every presiding State with its role; `iso2` null where not yet decided.
    pub chairs: Vec<ChairOut>,
    /// `scheduled` or `cancelled`.
    #[schema(value_type = String)]
    pub status: MeetingStatus,
    /// iCalendar SEQUENCE: raised by every change a calendar must show.
    pub sequence: i32,
    pub updated_at: DateTime<Utc>,
}

/// One presiding State.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChairOut {
    /// `chair`, or `incoming` / `outgoing` for co-chairs.
    pub role: &'static str,
    pub iso2: Option<String>,
    /// The State's English name, or "to be decided".
    pub name_en: String,
}

/// A meeting just created or changed, with what the organiser should know.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingChange {
    #[serde(flatten)]
    pub meeting: MeetingOut,
    /// Accepted, but worth a look: a closure day, a recess, a chair with two meetings at once,
    /// or a room clash the organiser forced.
    pub warnings: Vec<WarningOut>,
}

/// A finding the organiser accepted or may want to reconsider.
#[derive(Debug, Serialize, ToSchema)]
pub struct WarningOut {
    /// `hofburg_closed`, `recess`, `chair_busy` or `room_clash_forced`.
    pub kind: String,
    pub message: String,
    /// The other meeting involved, if any.
    pub other_meeting: Option<i32>,
}

impl From<Warning> for WarningOut {
    fn from(warning: Warning) -> Self {
        Self {
            kind: serde_json::to_value(warning.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            message: warning.message,
            other_meeting: warning.other_id.and_then(|id| id.parse().ok()),
        }
    }
}

fn rfc3339_local(unix: i64, zone: Tz) -> String {
    DateTime::from_timestamp(unix, 0).unwrap_or_default().with_timezone(&zone).to_rfc3339()
}

/// Builds the API view of a stored meeting.
#[must_use]
pub fn meeting_out(meeting: meetings::Model, context: &Context) -> MeetingOut {
    let zone = meeting.zone();
    let room = meeting.room_code.as_deref().and_then(|code| context.room(code));
    let name_of = |iso2: &Option<String>| match iso2 {
        Some(iso2) => context
            .states
            .states
            .iter()
            .find(|state| &state.iso2 == iso2)
            .map_or_else(|| iso2.clone(), |state| state.name_en.clone()),
        None => "to be decided".to_owned(),
    };
    let (chair, chairs) = match context.chair(&meeting) {
        Chair::Single(iso2) => (iso2.clone(), vec![ChairOut { role: "chair", name_en: name_of(&iso2), iso2 }]),
        Chair::CoChairs { incoming, outgoing } => (
            incoming.clone(),
            vec![
                ChairOut { role: "incoming", name_en: name_of(&incoming), iso2: incoming },
                ChairOut { role: "outgoing", name_en: name_of(&outgoing), iso2: outgoing },
            ],
        ),
    };
    MeetingOut {
        id: meeting.id,
        uid: meeting.uid,
        body: meeting.body_code,
        title: meeting.title,
        start: rfc3339_local(meeting.starts_at, zone),
        end: rfc3339_local(meeting.ends_at, zone),
        time_zone: meeting.time_zone,
        venue: meeting.venue.or_else(|| room.map(|(_, venue)| venue.name.clone())),
        room_name: room.map(|(room, _)| room.name.clone()),
        room: meeting.room_code,
        city: meeting.city.or_else(|| room.map(|(_, venue)| venue.city.clone())),
        country: meeting.country.or_else(|| room.map(|(_, venue)| venue.country.clone())),
        host: meeting.host,
        chair,
        chairs,
        status: meeting.status,
        sequence: meeting.sequence,
        updated_at: meeting.updated_at,
    }
}

// ---------------------------------------------------------------------------------------------
// Planning

#[derive(Debug, Deserialize, ToSchema)]
pub struct PlanIn {
    /// The year to plan, 1975–2100.
    pub year: i32,
}

/// What planning a year did.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanOut {
    pub year: i32,
    /// Meetings added now.
    pub created: u64,
    /// Meetings of the plan that were already there (kept as organisers left them).
    pub already_planned: u64,
    /// Days a body would have met by its rhythm, and why it does not.
    pub skipped: Vec<SkippedOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedOut {
    pub body: String,
    pub date: NaiveDate,
    pub reason: String,
}

/// Plans the regular meetings of a year (organisers); running it twice adds nothing.
#[utoipa::path(post, path = "/plan", tag = "meetings", security(("bearer" = [])), request_body = PlanIn,
    responses((status = 200, body = PlanOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn plan(
    State(state): State<AppState>,
    Organiser(principal): Organiser,
    ApiJson(input): ApiJson<PlanIn>,
) -> ApiResult<Json<PlanOut>> {
    Ok(Json(plan_and_store(&state, input.year, &principal).await?))
}

/// Plans `year` and stores the new meetings; shared by the API, the CLI and start-up.
///
/// # Errors
/// 422 for a year outside 1975–2100; 500 when the database fails.
pub async fn plan_and_store(state: &AppState, year: i32, principal: &Principal) -> ApiResult<PlanOut> {
    let plan = plan_year(year, all_bodies()).map_err(|error| ApiError::Invalid(error.to_string()))?;
    let created = store::meetings::insert_plan(&state.db, &plan, Utc::now()).await?;
    let total = plan.meetings.len() as u64;
    if created > 0 {
        store::audit::record(
            &state.db,
            AuditEntry::<(), _> {
                actor: &principal.actor,
                action: "plan.year",
                subject_type: "year",
                subject_id: year.to_string(),
                before: None,
                after: Some(&json!({ "created": created })),
            },
        )
        .await?;
    }
    Ok(PlanOut {
        year,
        created,
        already_planned: total.saturating_sub(created),
        skipped: plan
            .skipped
            .into_iter()
            .map(|skip| SkippedOut { body: skip.body.as_str().to_owned(), date: skip.date, reason: skip.reason })
            .collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// Reading

#[derive(Debug, Deserialize, IntoParams)]
pub struct MeetingFilter {
    /// First local date (YYYY-MM-DD), inclusive.
    pub from: Option<String>,
    /// Last local date (YYYY-MM-DD), inclusive.
    pub to: Option<String>,
    /// Body code, e.g. `PC` or `CG-ASIA`.
    pub body: Option<String>,
}

/// Meetings, filtered by local date and body, in order of start.
#[utoipa::path(get, path = "/meetings", tag = "meetings", params(MeetingFilter),
    responses((status = 200, body = [MeetingOut]), (status = 400, body = ErrorBody)))]
async fn list_meetings(
    State(state): State<AppState>,
    ApiQuery(filter): ApiQuery<MeetingFilter>,
) -> ApiResult<Json<Vec<MeetingOut>>> {
    let from = filter.from.as_deref().map(|text| parse_date_param("from", text)).transpose()?;
    let to = filter.to.as_deref().map(|text| parse_date_param("to", text)).transpose()?;
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        return Err(ApiError::BadRequest(format!("parameter `to` ({to}) is before `from` ({from})")));
    }
    let body_code = match filter.body.as_deref() {
        Some(code) => Some(
            body(&code.to_uppercase())
                .ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "parameter `body`: unknown body {code:?}; known bodies are {}",
                        body_codes()
                    ))
                })?
                .code
                .as_str(),
        ),
        None => None,
    };
    // Local dates differ from UTC dates by at most 14 hours: widen the query by a day, then
    // keep the meetings whose local date is in range.
    let day = TimeDelta::days(1);
    let from_utc = from.map(|date| date.and_time(chrono::NaiveTime::MIN).and_utc() - day);
    let to_utc = to.map(|date| date.and_time(chrono::NaiveTime::MIN).and_utc() + day + day);
    let rows = store::meetings::list(&state.db, from_utc, to_utc, body_code).await?;
    let context = Context::load(&state.db).await?;
    Ok(Json(
        rows.into_iter()
            .filter(|meeting| {
                let date = store::meetings::local_date(meeting);
                from.is_none_or(|from| date >= from) && to.is_none_or(|to| date <= to)
            })
            .map(|meeting| meeting_out(meeting, &context))
            .collect(),
    ))
}

/// Loads a meeting or answers 404 naming the id.
///
/// # Errors
/// 404 when there is no such meeting.
pub async fn load_meeting(state: &AppState, id: i32) -> ApiResult<meetings::Model> {
    store::meetings::find(&state.db, id).await?.ok_or_else(|| ApiError::NotFound(format!("there is no meeting {id}")))
}

/// One meeting.
#[utoipa::path(get, path = "/meetings/{id}", tag = "meetings", params(("id" = i32, Path)),
    responses((status = 200, body = MeetingOut), (status = 404, body = ErrorBody)))]
async fn get_meeting(State(state): State<AppState>, ApiPath(id): ApiPath<i32>) -> ApiResult<Json<MeetingOut>> {
    let meeting = load_meeting(&state, id).await?;
    let context = Context::load(&state.db).await?;
    Ok(Json(meeting_out(meeting, &context)))
}

// ---------------------------------------------------------------------------------------------
// Creating and changing

/// A one-off meeting or conference. Times are local, without offset, in `time_zone`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingIn {
    /// Body code, e.g. `CONF-ASIA`, `MC`, `PC` (for a special session).
    pub body: String,
    /// Defaults to the body's name.
    pub title: Option<String>,
    /// Local start, e.g. `2027-06-15T09:00:00`.
    pub start: String,
    /// Local end.
    pub end: String,
    /// IANA zone of the place, e.g. `Asia/Tokyo`.
    pub time_zone: String,
    /// Room code, for meetings in a venue Plenary books.
    pub room: Option<String>,
    pub venue: Option<String>,
    pub city: Option<String>,
    /// ISO code of the country the meeting is in.
    pub country: Option<String>,
    /// ISO code of the host State or Partner.
    pub host: Option<String>,
    /// Book the room even if another meeting holds it.
    #[serde(default)]
    pub force: bool,
}

/// Any of a meeting's fields; absent ones stay as they are. Moving `start` alone keeps the
/// meeting's length.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingPatch {
    pub body: Option<String>,
    pub title: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub time_zone: Option<String>,
    pub room: Option<String>,
    pub venue: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub host: Option<String>,
    #[serde(default)]
    pub force: bool,
}

fn parse_local(field: &str, text: &str) -> ApiResult<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
        .map_err(|_| {
            ApiError::Invalid(format!(
                "{field}: expected a local date-time without offset such as 2027-06-15T09:00:00, got {text:?}"
            ))
        })
}

fn parse_zone_field(text: &str) -> ApiResult<Tz> {
    parse_zone(text).map_err(|error| ApiError::Invalid(format!("time_zone: {error}")))
}

fn instant(field: &str, local: NaiveDateTime, zone: Tz) -> ApiResult<DateTime<Utc>> {
    resolve_local(local, zone)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|error| ApiError::Invalid(format!("{field}: {error}")))
}

/// A meeting's optional place field (`room`, `venue`, `city`, `country`, `host`) under the
/// input policy; blank is `None`.
fn place(field: &str, value: Option<&str>) -> ApiResult<Option<String>> {
    validate::optional(field, TextKind::Place, value)
}

/// Checks a candidate meeting's fields against the reference data and returns it normalised.
fn validate(candidate: &mut meetings::Model, context: &Context) -> ApiResult<()> {
    let body = body(&candidate.body_code.to_uppercase()).ok_or_else(|| {
        ApiError::Invalid(format!("body: unknown body {:?}; known bodies are {}", candidate.body_code, body_codes()))
    })?;
    candidate.body_code = body.code.as_str().to_owned();
    if candidate.title.trim().is_empty() {
        return Err(ApiError::Invalid("title: must not be empty".into()));
    }
    if candidate.ends_at <= candidate.starts_at {
        return Err(ApiError::Invalid("end: must be after start".into()));
    }
    if candidate.ends_at - candidate.starts_at > LONGEST_MEETING.num_seconds() {
        return Err(ApiError::Invalid(format!("end: a meeting may last at most {} days", LONGEST_MEETING.num_days())));
    }
    let date = store::meetings::local_date(candidate);
    for (field, value) in [("country", &mut candidate.country), ("host", &mut candidate.host)] {
        if let Some(code) = value.as_mut() {
            *code = code.to_uppercase();
            if !context.states.states.iter().any(|state| state.iso2 == *code) {
                return Err(ApiError::Invalid(format!("{field}: there is no State or Partner with the code {code:?}")));
            }
        }
    }
    if let Some(host) = &candidate.host
        && !context.states.on(date).iter().any(|delegation| &delegation.iso2 == host)
    {
        return Err(ApiError::Invalid(format!("host: {host} is not a participating State or Partner on {date}")));
    }
    match candidate.room_code.as_deref() {
        Some(code) => {
            let code = code.to_uppercase();
            let (_, venue) = context.room(&code).ok_or_else(|| {
                let known = context.rooms.iter().map(|(room, _)| room.code.as_str()).collect::<Vec<_>>().join(", ");
                ApiError::Invalid(format!("room: unknown room {code:?}; known rooms are {known}"))
            })?;
            if venue.time_zone != candidate.time_zone {
                return Err(ApiError::Invalid(format!(
                    "time_zone: room {code} is in {} ({}), not {}",
                    venue.city, venue.time_zone, candidate.time_zone
                )));
            }
            candidate.room_code = Some(code);
        }
        None if candidate.city.is_none() => {
            return Err(ApiError::Invalid(
                "room: give a room code, or a city (and country) for a meeting elsewhere".into(),
            ));
        }
        None => {}
    }
    Ok(())
}

/// Checks conflicts; a room clash is refused with 409 unless forced, then becomes a warning.
async fn check_conflicts(
    state: &AppState,
    candidate: &meetings::Model,
    context: &Context,
    force: bool,
) -> ApiResult<Vec<WarningOut>> {
    let Some(slot) = context.slot(candidate) else {
        return Ok(Vec::new());
    };
    let others: Vec<_> = store::meetings::scheduled_around(&state.db, slot.start, slot.end, TimeDelta::days(1))
        .await?
        .iter()
        .filter(|other| other.id != candidate.id)
        .filter_map(|other| context.slot(other))
        .collect();
    let conflicts = find_conflicts(&slot, &others, all_bodies());
    let mut warnings: Vec<WarningOut> = conflicts.warnings.into_iter().map(WarningOut::from).collect();
    if let Some(clash) = conflicts.room_clashes.first() {
        if !force {
            return Err(ApiError::Conflict {
                message: format!("{} Send \"force\": true to book it anyway.", clash.message),
                details: Some(json!({
                    "room": clash.room,
                    "other_meeting": clash.other_id.parse::<i32>().ok(),
                    "other_title": clash.other_label,
                    "other_start": clash.other_start,
                    "other_end": clash.other_end,
                })),
            });
        }
        warnings.extend(conflicts.room_clashes.iter().map(|clash| WarningOut {
            kind: "room_clash_forced".into(),
            message: clash.message.clone(),
            other_meeting: clash.other_id.parse().ok(),
        }));
    }
    Ok(warnings)
}

/// Creates a one-off meeting or conference (organisers).
#[utoipa::path(post, path = "/meetings", tag = "meetings", security(("bearer" = [])), request_body = MeetingIn,
    responses((status = 201, body = MeetingChange), (status = 409, body = ErrorBody, description = "the room is taken"),
        (status = 422, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_meeting(
    State(state): State<AppState>,
    Organiser(principal): Organiser,
    ApiJson(input): ApiJson<MeetingIn>,
) -> ApiResult<(StatusCode, Json<MeetingChange>)> {
    Ok((StatusCode::CREATED, Json(create_and_store(&state, &principal, input).await?)))
}

/// Creates a one-off meeting or conference; shared by the API and the web pages.
///
/// # Errors
/// 422 naming the field at fault; 409 when the room is taken and `force` is not set.
pub async fn create_and_store(state: &AppState, principal: &Principal, input: MeetingIn) -> ApiResult<MeetingChange> {
    let zone = parse_zone_field(&input.time_zone)?;
    let start = instant("start", parse_local("start", &input.start)?, zone)?;
    let end = instant("end", parse_local("end", &input.end)?, zone)?;
    let context = Context::load(&state.db).await?;
    let now = Utc::now();
    let default_title = body(&input.body.to_uppercase()).map(|body| body.name_en.to_owned()).unwrap_or_default();
    let mut candidate = meetings::Model {
        id: 0,
        uid: format!("{}@plenary", uuid::Uuid::new_v4()),
        plan_key: None,
        body_code: validate::required("body", TextKind::Code, &input.body)?,
        title: validate::optional("title", TextKind::Title, input.title.as_deref())?.unwrap_or(default_title),
        starts_at: start.timestamp(),
        ends_at: end.timestamp(),
        time_zone: zone.name().to_owned(),
        room_code: place("room", input.room.as_deref())?,
        venue: place("venue", input.venue.as_deref())?,
        city: place("city", input.city.as_deref())?,
        country: place("country", input.country.as_deref())?,
        host: place("host", input.host.as_deref())?,
        status: MeetingStatus::Scheduled,
        sequence: 0,
        created_at: now,
        updated_at: now,
    };
    validate(&mut candidate, &context)?;
    let warnings = check_conflicts(state, &candidate, &context, input.force).await?;
    let mut row: meetings::ActiveModel = sea_orm::IntoActiveModel::into_active_model(candidate);
    row.id = sea_orm::ActiveValue::NotSet;
    let created = store::meetings::insert(&state.db, row).await?;
    audit_meeting(&state.db, principal, "meeting.create", &created, None, Some(&created), &warnings).await?;
    Ok(MeetingChange { meeting: meeting_out(created, &context), warnings })
}

/// Moves, renames or re-rooms a meeting (organisers). Each change raises `sequence`.
#[utoipa::path(patch, path = "/meetings/{id}", tag = "meetings", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body = MeetingPatch,
    responses((status = 200, body = MeetingChange), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn update_meeting(
    State(state): State<AppState>,
    Organiser(principal): Organiser,
    ApiPath(id): ApiPath<i32>,
    ApiJson(patch): ApiJson<MeetingPatch>,
) -> ApiResult<Json<MeetingChange>> {
    Ok(Json(update_and_store(&state, &principal, id, patch).await?))
}

/// Moves, renames or re-rooms a meeting; shared by the API and the web pages.
///
/// # Errors
/// 404 for an unknown meeting; 422 naming the field at fault; 409 when it is cancelled, or the
/// room is taken and `force` is not set.
pub async fn update_and_store(
    state: &AppState,
    principal: &Principal,
    id: i32,
    patch: MeetingPatch,
) -> ApiResult<MeetingChange> {
    let before = load_meeting(state, id).await?;
    if before.status == MeetingStatus::Cancelled {
        return Err(ApiError::conflict(format!(
            "meeting {id} is cancelled; create a new meeting instead of changing it"
        )));
    }
    let old_zone = before.zone();
    let zone = patch.time_zone.as_deref().map(parse_zone_field).transpose()?.unwrap_or(old_zone);
    let local =
        |unix: i64| DateTime::from_timestamp(unix, 0).unwrap_or_default().with_timezone(&old_zone).naive_local();
    let (old_start, old_end) = (local(before.starts_at), local(before.ends_at));
    let start_local = patch.start.as_deref().map(|text| parse_local("start", text)).transpose()?.unwrap_or(old_start);
    let end_local = match patch.end.as_deref() {
        Some(text) => parse_local("end", text)?,
        None => start_local + (old_end - old_start),
    };
    let mut candidate = before.clone();
    candidate.starts_at = instant("start", start_local, zone)?.timestamp();
    candidate.ends_at = instant("end", end_local, zone)?.timestamp();
    candidate.time_zone = zone.name().to_owned();
    if let Some(body) = patch.body {
        candidate.body_code = validate::required("body", TextKind::Code, &body)?;
    }
    if let Some(title) = patch.title {
        candidate.title = validate::required("title", TextKind::Title, &title)?;
    }
    for (name, field, value) in [
        ("room", &mut candidate.room_code, patch.room),
        ("venue", &mut candidate.venue, patch.venue),
        ("city", &mut candidate.city, patch.city),
        ("country", &mut candidate.country, patch.country),
        ("host", &mut candidate.host, patch.host),
    ] {
        if value.is_some() {
            *field = place(name, value.as_deref())?;
        }
    }
    let context = Context::load(&state.db).await?;
    validate(&mut candidate, &context)?;
    if candidate == before {
        return Ok(MeetingChange { meeting: meeting_out(before, &context), warnings: Vec::new() });
    }
    let warnings = check_conflicts(state, &candidate, &context, patch.force).await?;
    candidate.sequence += 1;
    candidate.updated_at = Utc::now();
    let saved = store_change(state, principal, "meeting.update", &before, candidate, &warnings).await?;
    Ok(MeetingChange { meeting: meeting_out(saved, &context), warnings })
}

/// Cancels a meeting (organisers). It stays visible, marked cancelled, with a higher `sequence`.
#[utoipa::path(post, path = "/meetings/{id}/cancel", tag = "meetings", security(("bearer" = [])), params(("id" = i32, Path)),
    responses((status = 200, body = MeetingOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn cancel_meeting(
    State(state): State<AppState>,
    Organiser(principal): Organiser,
    ApiPath(id): ApiPath<i32>,
) -> ApiResult<Json<MeetingOut>> {
    Ok(Json(cancel_and_store(&state, &principal, id).await?))
}

/// Cancels a meeting; shared by the API and the web pages.
///
/// # Errors
/// 404 for an unknown meeting; 409 when it is already cancelled.
pub async fn cancel_and_store(state: &AppState, principal: &Principal, id: i32) -> ApiResult<MeetingOut> {
    let before = load_meeting(state, id).await?;
    if before.status == MeetingStatus::Cancelled {
        return Err(ApiError::conflict(format!("meeting {id} is already cancelled")));
    }
    let mut cancelled = before.clone();
    cancelled.status = MeetingStatus::Cancelled;
    cancelled.sequence += 1;
    cancelled.updated_at = Utc::now();
    let saved = store_change(state, principal, "meeting.cancel", &before, cancelled, &[]).await?;
    let context = Context::load(&state.db).await?;
    Ok(meeting_out(saved, &context))
}

/// Saves a change to a stored meeting, records it in the audit log and queues the update or
/// cancellation mail to those already invited, in one transaction: a calendar never shows a
/// change whose mail was lost, nor is mail sent for a change that was not saved.
async fn store_change(
    state: &AppState,
    principal: &Principal,
    action: &str,
    before: &meetings::Model,
    after: meetings::Model,
    warnings: &[WarningOut],
) -> ApiResult<meetings::Model> {
    let txn = state.db.begin().await?;
    let saved = store::meetings::save(&txn, after).await?;
    audit_meeting(&txn, principal, action, &saved, Some(before), Some(&saved), warnings).await?;
    crate::mail::invitations::meeting_changed(&txn, &state.config, before, &saved).await?;
    txn.commit().await?;
    Ok(saved)
}

async fn audit_meeting(
    db: &impl ConnectionTrait,
    principal: &Principal,
    action: &str,
    meeting: &meetings::Model,
    before: Option<&meetings::Model>,
    after: Option<&meetings::Model>,
    warnings: &[WarningOut],
) -> ApiResult<()> {
    let snapshot = |m: &meetings::Model| {
        json!({
            "title": m.title, "body": m.body_code, "starts_at": m.starts_at, "ends_at": m.ends_at,
            "time_zone": m.time_zone, "room": m.room_code, "city": m.city, "country": m.country,
            "host": m.host, "status": m.status, "sequence": m.sequence,
        })
    };
    let mut after_json = after.map(snapshot);
    if let Some(after) = after_json.as_mut()
        && !warnings.is_empty()
    {
        after["warnings"] = json!(warnings.iter().map(|w| &w.message).collect::<Vec<_>>());
    }
    store::audit::record(
        db,
        AuditEntry {
            actor: &principal.actor,
            action,
            subject_type: "meeting",
            subject_id: meeting.id.to_string(),
            before: before.map(snapshot).as_ref(),
            after: after_json.as_ref(),
        },
    )
    .await?;
    Ok(())
}
