//! Meetings: finding and listing them, planning a year, creating one-off meetings and
//! conferences abroad, changing, cancelling and reinstating them.
//!
//! Times come in as local date-times without offset plus the IANA zone of the place. Every
//! change a calendar must show raises `sequence` and keeps `uid`, and is written to the audit
//! log in the same transaction as the update or cancellation mail it causes. The rules a
//! meeting must follow are [`scheduler::meeting`]'s, its clashes [`scheduler::conflicts`]'.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use scheduler::{
    bodies::{all_bodies, body},
    conflicts::{Warning, find_conflicts},
    localtime::{parse_local, parse_zone, resolve_local},
    meeting::{self, Draft, DraftError, RoomPlace},
    planning::{PlanError, SkippedDate, plan_year},
};
use sea_orm::ConnectionTrait;
use serde_json::json;

use super::{ConflictKind, Error, Rule, ServiceResult};
use crate::{
    app::AppState,
    auth::Principal,
    db::entities::meetings,
    db::enums::MeetingStatus,
    store::{self, audit::AuditEntry, meetings::Context},
    validate::{self, TextKind},
};

/// The meeting `id`.
///
/// # Errors
/// [`Error::NotFound`] when there is no such meeting.
pub async fn load(db: &impl ConnectionTrait, id: i32) -> ServiceResult<meetings::Model> {
    store::meetings::find(db, id).await?.ok_or_else(|| Error::NotFound(format!("there is no meeting {id}")))
}

/// Meetings whose local start date is within `from..=to` (either open), of one body or all, in
/// order of start.
///
/// # Errors
/// When the database does not answer.
pub async fn list(
    db: &impl ConnectionTrait,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    body: Option<&str>,
) -> ServiceResult<Vec<meetings::Model>> {
    // Local dates differ from UTC dates by at most 14 hours: widen the query by a day, then
    // keep the meetings whose local date is in range.
    let day = TimeDelta::days(1);
    let from_utc = from.map(|date| date.and_time(chrono::NaiveTime::MIN).and_utc() - day);
    let to_utc = to.map(|date| date.and_time(chrono::NaiveTime::MIN).and_utc() + day + day);
    let rows = store::meetings::list(db, from_utc, to_utc, body).await?;
    Ok(rows
        .into_iter()
        .filter(|meeting| {
            let date = store::meetings::local_date(meeting);
            from.is_none_or(|from| date >= from) && to.is_none_or(|to| date <= to)
        })
        .collect())
}

/// What planning a year did.
#[derive(Debug)]
pub struct Planned {
    pub year: i32,
    /// Meetings added now.
    pub created: u64,
    /// Meetings of the plan that were already there (kept as organisers left them).
    pub already_planned: u64,
    /// Days a body would have met by its rhythm, and why it does not.
    pub skipped: Vec<SkippedDate>,
}

/// Plans the regular meetings of `year` and stores the new ones; planning twice adds nothing.
///
/// # Errors
/// [`Error::Invalid`] for a year Plenary does not plan; database failures.
pub async fn plan(db: &impl ConnectionTrait, year: i32, principal: &Principal) -> ServiceResult<Planned> {
    let plan = plan_year(year, all_bodies()).map_err(|error| match error {
        PlanError::YearOutOfRange { .. } => Error::invalid_request(Rule::Range, error.to_string()),
        other => Error::Internal(other.into()),
    })?;
    let created = store::meetings::insert_plan(db, &plan, Utc::now()).await?;
    if created > 0 {
        store::audit::record(
            db,
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
    let total = plan.meetings.len() as u64;
    Ok(Planned { year, created, already_planned: total.saturating_sub(created), skipped: plan.skipped })
}

/// A one-off meeting or conference as an organiser asks for it. Times are local, without
/// offset, in `time_zone`.
#[derive(Debug, Clone, Default)]
pub struct NewMeeting {
    /// Body code, e.g. `CONF-ASIA`, `MC`, `PC` (for a special session).
    pub body: String,
    /// Defaults to the body's name.
    pub title: Option<String>,
    pub start: String,
    pub end: String,
    pub time_zone: String,
    /// Room code, for meetings in a venue Plenary books.
    pub room: Option<String>,
    pub venue: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub host: Option<String>,
    /// Book the room even if another meeting holds it.
    pub force: bool,
}

/// Any of a meeting's fields; absent ones stay as they are. Moving `start` alone keeps the
/// meeting's length; a blank place field clears it.
#[derive(Debug, Clone, Default)]
pub struct MeetingChanges {
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
    pub force: bool,
}

/// A meeting just created or changed, with what the organiser should know: a closure day, a
/// recess, a chair with two meetings at once, or a room clash they forced.
#[derive(Debug)]
pub struct Changed {
    pub meeting: meetings::Model,
    pub warnings: Vec<Warning>,
}

/// Creates a one-off meeting or conference.
///
/// # Errors
/// [`Error::Invalid`] naming the field at fault; [`ConflictKind::RoomTaken`] when the room is
/// taken and `force` is not set.
pub async fn create(state: &AppState, principal: &Principal, input: NewMeeting) -> ServiceResult<Changed> {
    super::require_organiser(principal, "create meetings")?;
    let zone = zone(&input.time_zone)?;
    let start = instant("start", local("start", &input.start)?, zone)?;
    let end = instant("end", local("end", &input.end)?, zone)?;
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
        cancellation_reason: None,
        created_at: now,
        updated_at: now,
    };
    check(&mut candidate, zone, &context)?;
    let warnings = conflicts(&state.db, &candidate, &context, input.force).await?;
    let mut row: meetings::ActiveModel = sea_orm::IntoActiveModel::into_active_model(candidate);
    row.id = sea_orm::ActiveValue::NotSet;
    let created = store::meetings::insert(&state.db, row).await?;
    audit(&state.db, principal, "meeting.create", &created, None, Some(&created), &warnings).await?;
    Ok(Changed { meeting: created, warnings })
}

/// Moves, renames or re-rooms a meeting; each change a calendar must show raises `sequence`
/// and sends the update to those already invited.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Invalid`] naming the field at fault; a conflict when it is
/// cancelled, or the room is taken and `force` is not set.
pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: i32,
    changes: MeetingChanges,
) -> ServiceResult<Changed> {
    super::require_organiser(principal, "change meetings")?;
    let before = load(&state.db, id).await?;
    if before.status == MeetingStatus::Cancelled {
        return Err(Error::conflict(format!(
            "“{}” is cancelled; reinstate it first, or create a new meeting",
            before.title
        )));
    }
    let old_zone = before.zone();
    let zone = changes.time_zone.as_deref().map(zone).transpose()?.unwrap_or(old_zone);
    let wall_clock =
        |unix: i64| DateTime::from_timestamp(unix, 0).unwrap_or_default().with_timezone(&old_zone).naive_local();
    let (old_start, old_end) = (wall_clock(before.starts_at), wall_clock(before.ends_at));
    let start_local = changes.start.as_deref().map(|text| local("start", text)).transpose()?.unwrap_or(old_start);
    let end_local = match changes.end.as_deref() {
        Some(text) => local("end", text)?,
        None => start_local + (old_end - old_start),
    };
    let mut candidate = before.clone();
    candidate.starts_at = instant("start", start_local, zone)?.timestamp();
    candidate.ends_at = instant("end", end_local, zone)?.timestamp();
    candidate.time_zone = zone.name().to_owned();
    if let Some(body) = changes.body {
        candidate.body_code = validate::required("body", TextKind::Code, &body)?;
    }
    if let Some(title) = changes.title {
        candidate.title = validate::required("title", TextKind::Title, &title)?;
    }
    for (name, field, value) in [
        ("room", &mut candidate.room_code, changes.room),
        ("venue", &mut candidate.venue, changes.venue),
        ("city", &mut candidate.city, changes.city),
        ("country", &mut candidate.country, changes.country),
        ("host", &mut candidate.host, changes.host),
    ] {
        if value.is_some() {
            *field = place(name, value.as_deref())?;
        }
    }
    let context = Context::load(&state.db).await?;
    check(&mut candidate, zone, &context)?;
    if candidate == before {
        return Ok(Changed { meeting: before, warnings: Vec::new() });
    }
    let warnings = conflicts(&state.db, &candidate, &context, changes.force).await?;
    candidate.sequence += 1;
    candidate.updated_at = Utc::now();
    let saved = save_change(state, principal, "meeting.update", &before, candidate, &warnings).await?;
    Ok(Changed { meeting: saved, warnings })
}

/// Cancels a meeting, with the organiser's reason (optional, under the input policy). It stays
/// visible, marked cancelled, with a higher `sequence`, and those invited are sent the
/// cancellation, which gives the reason.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Invalid`] for a reason the input policy refuses; a conflict
/// when it is already cancelled.
pub async fn cancel(
    state: &AppState,
    principal: &Principal,
    id: i32,
    reason: Option<&str>,
) -> ServiceResult<meetings::Model> {
    super::require_organiser(principal, "cancel meetings")?;
    let reason = validate::optional("reason", TextKind::FreeText, reason)?;
    let before = load(&state.db, id).await?;
    if before.status == MeetingStatus::Cancelled {
        return Err(Error::conflict(format!("“{}” is already cancelled", before.title)));
    }
    let mut cancelled = before.clone();
    cancelled.status = MeetingStatus::Cancelled;
    cancelled.cancellation_reason = reason;
    cancelled.sequence += 1;
    cancelled.updated_at = Utc::now();
    save_change(state, principal, "meeting.cancel", &before, cancelled, &[]).await
}

/// Undoes a cancellation: the meeting is scheduled again with a higher `sequence` and those
/// invited are sent the update, like after any other change. Its room is checked again, as
/// another meeting may have taken it meanwhile.
///
/// # Errors
/// [`Error::NotFound`]; a conflict when it is not cancelled, or the room is taken and `force`
/// is not set.
pub async fn reinstate(state: &AppState, principal: &Principal, id: i32, force: bool) -> ServiceResult<Changed> {
    super::require_organiser(principal, "undo a cancellation")?;
    let before = load(&state.db, id).await?;
    if before.status != MeetingStatus::Cancelled {
        return Err(Error::conflict(format!("“{}” is not cancelled; there is nothing to undo", before.title)));
    }
    let mut reinstated = before.clone();
    reinstated.status = MeetingStatus::Scheduled;
    reinstated.cancellation_reason = None;
    let context = Context::load(&state.db).await?;
    let warnings = conflicts(&state.db, &reinstated, &context, force).await?;
    reinstated.sequence += 1;
    reinstated.updated_at = Utc::now();
    let saved = save_change(state, principal, "meeting.reinstate", &before, reinstated, &warnings).await?;
    Ok(Changed { meeting: saved, warnings })
}

fn local(field: &str, text: &str) -> ServiceResult<NaiveDateTime> {
    parse_local(text).map_err(|error| Error::invalid(field, Rule::Format, error.to_string()))
}

fn zone(text: &str) -> ServiceResult<Tz> {
    parse_zone(text).map_err(|error| Error::invalid("time_zone", Rule::Unknown, error.to_string()))
}

fn instant(field: &str, local: NaiveDateTime, zone: Tz) -> ServiceResult<DateTime<Utc>> {
    resolve_local(local, zone)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|error| Error::invalid(field, Rule::Mismatch, error.to_string()))
}

/// A meeting's optional place field (`room`, `venue`, `city`, `country`, `host`) under the
/// input policy; blank is `None`.
fn place(field: &str, value: Option<&str>) -> ServiceResult<Option<String>> {
    validate::optional(field, TextKind::Place, value)
}

/// Asks [`scheduler::meeting::check`] about `candidate` and keeps its normalised codes.
fn check(candidate: &mut meetings::Model, zone: Tz, context: &Context) -> ServiceResult<()> {
    let rooms: Vec<RoomPlace<'_>> = context
        .rooms
        .iter()
        .map(|(room, venue)| RoomPlace { code: &room.code, city: &venue.city, time_zone: &venue.time_zone })
        .collect();
    let reference =
        meeting::Reference { states: &context.states.states, memberships: &context.states.memberships, rooms: &rooms };
    let mut draft = Draft {
        body: candidate.body_code.clone(),
        title: candidate.title.clone(),
        start: DateTime::from_timestamp(candidate.starts_at, 0).unwrap_or_default(),
        end: DateTime::from_timestamp(candidate.ends_at, 0).unwrap_or_default(),
        zone,
        room: candidate.room_code.clone(),
        city: candidate.city.clone(),
        country: candidate.country.clone(),
        host: candidate.host.clone(),
    };
    meeting::check(&mut draft, &reference).map_err(|error| {
        let rule = match error {
            DraftError::UnknownBody { .. } | DraftError::UnknownState { .. } | DraftError::UnknownRoom { .. } => {
                Rule::Unknown
            }
            DraftError::EmptyTitle | DraftError::NoPlace => Rule::Missing,
            DraftError::EndNotAfterStart | DraftError::TooLong => Rule::Range,
            DraftError::HostNotMember { .. } | DraftError::RoomElsewhere { .. } => Rule::Mismatch,
        };
        Error::invalid(error.field(), rule, error.to_string())
    })?;
    candidate.body_code = draft.body;
    candidate.room_code = draft.room;
    candidate.country = draft.country;
    candidate.host = draft.host;
    Ok(())
}

/// The warnings an organiser accepts with `candidate`; a room clash refuses it unless forced.
async fn conflicts(
    db: &impl ConnectionTrait,
    candidate: &meetings::Model,
    context: &Context,
    force: bool,
) -> ServiceResult<Vec<Warning>> {
    let Some(slot) = context.slot(candidate) else {
        return Ok(Vec::new());
    };
    let others: Vec<_> = store::meetings::scheduled_around(db, slot.start, slot.end, TimeDelta::days(1))
        .await?
        .iter()
        .filter(|other| other.id != candidate.id)
        .filter_map(|other| context.slot(other))
        .collect();
    find_conflicts(&slot, &others, all_bodies())
        .accept(force)
        .map_err(|clash| Error::Conflict { message: clash.message.clone(), kind: ConflictKind::RoomTaken(clash) })
}

/// Saves a change to a stored meeting, records it in the audit log and queues the update or
/// cancellation mail to those already invited, in one transaction: a calendar never shows a
/// change whose mail was lost, nor is mail sent for a change that was not saved.
async fn save_change(
    state: &AppState,
    principal: &Principal,
    action: &str,
    before: &meetings::Model,
    after: meetings::Model,
    warnings: &[Warning],
) -> ServiceResult<meetings::Model> {
    let txn = crate::db::begin_write(&state.db).await?;
    let Some(saved) = store::meetings::save_if_unchanged(&txn, before.sequence, after).await? else {
        return Err(Error::conflict(format!(
            "“{}” was changed by someone else a moment ago; reload it and make your change again",
            before.title
        )));
    };
    audit(&txn, principal, action, &saved, Some(before), Some(&saved), warnings).await?;
    crate::mail::invitations::meeting_changed(&txn, &state.config, before, &saved).await?;
    txn.commit().await?;
    Ok(saved)
}

async fn audit(
    db: &impl ConnectionTrait,
    principal: &Principal,
    action: &str,
    meeting: &meetings::Model,
    before: Option<&meetings::Model>,
    after: Option<&meetings::Model>,
    warnings: &[Warning],
) -> ServiceResult<()> {
    let snapshot = |m: &meetings::Model| {
        json!({
            "title": m.title, "body": m.body_code, "starts_at": m.starts_at, "ends_at": m.ends_at,
            "time_zone": m.time_zone, "room": m.room_code, "city": m.city, "country": m.country,
            "host": m.host, "status": m.status, "sequence": m.sequence,
            "cancellation_reason": m.cancellation_reason,
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
