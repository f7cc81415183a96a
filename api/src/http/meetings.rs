//! Meetings: planning a year, listing and reading meetings, creating one-off meetings and
//! conferences abroad, moving, renaming, changing room, cancelling (with a reason) and
//! reinstating.
//!
//! Times come in as local date-times without offset plus the IANA zone of the place, and go out
//! as RFC 3339 with the local offset plus the zone. Every change a calendar must show raises
//! `sequence` and keeps `uid`, and is written to the audit log in the same transaction as the
//! update or cancellation mail it causes.

use axum::{Json, extract::State, http::StatusCode};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use scheduler::{bodies::body, conflicts::Warning};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    error::{ApiError, ApiResult, ErrorBody},
    extract::{ApiJson, ApiPath, ApiQuery, Organiser, parse_date_param},
};
use crate::{
    app::AppState,
    db::entities::meetings,
    db::enums::MeetingStatus,
    service::{
        self,
        meetings::{Changed, MeetingChanges, NewMeeting},
    },
    store::meetings::{Context, body_codes},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(plan))
        .routes(routes!(list_meetings, create_meeting))
        .routes(routes!(get_meeting, update_meeting))
        .routes(routes!(cancel_meeting))
        .routes(routes!(reinstate_meeting))
}

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
    /// Why it is cancelled, when the organiser said; null otherwise.
    pub cancellation_reason: Option<String>,
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
    let site = context.site(&meeting);
    let chairs: Vec<ChairOut> = context
        .presiding(&meeting)
        .into_iter()
        .map(|presiding| ChairOut { role: presiding.role, iso2: presiding.iso2, name_en: presiding.name_en })
        .collect();
    MeetingOut {
        id: meeting.id,
        uid: meeting.uid,
        body: meeting.body_code,
        title: meeting.title,
        start: rfc3339_local(meeting.starts_at, zone),
        end: rfc3339_local(meeting.ends_at, zone),
        time_zone: meeting.time_zone,
        venue: site.venue,
        room_name: site.room_name,
        room: meeting.room_code,
        city: site.city,
        country: site.country,
        host: meeting.host,
        chair: chairs.first().and_then(|chair| chair.iso2.clone()),
        chairs,
        status: meeting.status,
        cancellation_reason: meeting.cancellation_reason,
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
    let planned = service::meetings::plan(&state.db, input.year, &principal).await?;
    Ok(Json(PlanOut {
        year: planned.year,
        created: planned.created,
        already_planned: planned.already_planned,
        skipped: planned
            .skipped
            .into_iter()
            .map(|skip| SkippedOut { body: skip.body.as_str().to_owned(), date: skip.date, reason: skip.reason })
            .collect(),
    }))
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
    let rows = service::meetings::list(&state.db, from, to, body_code).await?;
    let context = Context::load(&state.db).await?;
    Ok(Json(rows.into_iter().map(|meeting| meeting_out(meeting, &context)).collect()))
}

/// One meeting.
#[utoipa::path(get, path = "/meetings/{id}", tag = "meetings", params(("id" = i32, Path)),
    responses((status = 200, body = MeetingOut), (status = 404, body = ErrorBody)))]
async fn get_meeting(State(state): State<AppState>, ApiPath(id): ApiPath<i32>) -> ApiResult<Json<MeetingOut>> {
    let meeting = service::meetings::load(&state.db, id).await?;
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

impl From<MeetingIn> for NewMeeting {
    fn from(input: MeetingIn) -> Self {
        Self {
            body: input.body,
            title: input.title,
            start: input.start,
            end: input.end,
            time_zone: input.time_zone,
            room: input.room,
            venue: input.venue,
            city: input.city,
            country: input.country,
            host: input.host,
            force: input.force,
        }
    }
}

impl From<MeetingPatch> for MeetingChanges {
    fn from(patch: MeetingPatch) -> Self {
        Self {
            body: patch.body,
            title: patch.title,
            start: patch.start,
            end: patch.end,
            time_zone: patch.time_zone,
            room: patch.room,
            venue: patch.venue,
            city: patch.city,
            country: patch.country,
            host: patch.host,
            force: patch.force,
        }
    }
}

/// The API view of a meeting just created or changed.
async fn change_out(state: &AppState, changed: Changed) -> ApiResult<MeetingChange> {
    let context = Context::load(&state.db).await?;
    let warnings = changed.warnings.into_iter().map(WarningOut::from).collect();
    Ok(MeetingChange { meeting: meeting_out(changed.meeting, &context), warnings })
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
    let created = service::meetings::create(&state, &principal, input.into()).await?;
    Ok((StatusCode::CREATED, Json(change_out(&state, created).await?)))
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
    let changed = service::meetings::update(&state, &principal, id, patch.into()).await?;
    Ok(Json(change_out(&state, changed).await?))
}

/// Why a meeting is cancelled (the body is optional: no body cancels without a reason).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelIn {
    /// Shown on the meeting page, in the cancellation mail and in the feeds.
    pub reason: Option<String>,
}

/// Undoing a cancellation (the body is optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReinstateIn {
    /// Book the room even if another meeting has taken it since the cancellation.
    #[serde(default)]
    pub force: bool,
}

/// An optional JSON body: none (or an empty one) is `T::default()`, so clients that send no
/// body keep working.
fn optional_body<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> ApiResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|error| ApiError::Invalid(format!("the request body is not as expected: {error}")))
}

/// Cancels a meeting (organisers), with an optional reason. It stays visible, marked
/// cancelled, with a higher `sequence`; those invited are sent the cancellation.
#[utoipa::path(post, path = "/meetings/{id}/cancel", tag = "meetings", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body(content = Option<CancelIn>, description = "optional"),
    responses((status = 200, body = MeetingOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn cancel_meeting(
    State(state): State<AppState>,
    Organiser(principal): Organiser,
    ApiPath(id): ApiPath<i32>,
    body: axum::body::Bytes,
) -> ApiResult<Json<MeetingOut>> {
    let input: CancelIn = optional_body(&body)?;
    let cancelled = service::meetings::cancel(&state, &principal, id, input.reason.as_deref()).await?;
    let context = Context::load(&state.db).await?;
    Ok(Json(meeting_out(cancelled, &context)))
}

/// Undoes a cancellation (organisers): the meeting is scheduled again with a higher
/// `sequence`, and those invited are sent the update. 409 when it is not cancelled or its room
/// has been taken since (send `"force": true` to book it anyway).
#[utoipa::path(post, path = "/meetings/{id}/reinstate", tag = "meetings", security(("bearer" = [])), params(("id" = i32, Path)),
    request_body(content = Option<ReinstateIn>, description = "optional"),
    responses((status = 200, body = MeetingChange), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn reinstate_meeting(
    State(state): State<AppState>,
    Organiser(principal): Organiser,
    ApiPath(id): ApiPath<i32>,
    body: axum::body::Bytes,
) -> ApiResult<Json<MeetingChange>> {
    let input: ReinstateIn = optional_body(&body)?;
    let changed = service::meetings::reinstate(&state, &principal, id, input.force).await?;
    Ok(Json(change_out(&state, changed).await?))
}
