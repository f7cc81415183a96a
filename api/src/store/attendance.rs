//! Registrations in the database, kept within the rules under concurrent requests.
//!
//! Every change of a meeting's registrations (a new one, a change, a withdrawal, new settings)
//! runs in one transaction that first *writes* the meeting's `attendance_settings` row (raising
//! its arrival counter). On PostgreSQL that takes the row lock, so transactions on one meeting
//! queue behind each other on every replica, and under READ COMMITTED each later statement sees
//! what the previous holder committed. On SQLite, whose transactions begin DEFERRED, that first
//! write takes the database's write lock before anything is read, so no transaction decides on
//! a stale snapshot. Then the registrations are read, [`scheduler::attendance`] decides, and the
//! outcome, its audit entry and any promotion are written before the commit.
//!
//! A transaction that loses a race for the lock (SQLite's busy timeout running out, a
//! PostgreSQL deadlock or serialization failure) is retried whole, with backoff and jitter, so
//! those errors never reach the client.

use std::{future::Future, time::Duration};

use chrono::{DateTime, Utc};
use scheduler::attendance::{self, Current, Seat, Settings, Status};
use sea_orm::{
    ActiveValue::{Set, Unchanged},
    ColumnTrait as _, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    RuntimeErr,
    sea_query::{Expr, ExprTrait as _},
};
use serde::Serialize;

use super::{
    audit::{self, AuditEntry},
    outbox::{self, NewMessage},
};
use crate::db::{
    entities::{attendance_settings, registrations},
    enums::{self, Language, RegistrationStatus},
};

/// Why a storage operation on attendance did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AttendanceError {
    /// The rules refuse it.
    #[error(transparent)]
    Refused(#[from] attendance::Refusal),
    /// The registration named does not exist (any more) in this meeting.
    #[error("{0}")]
    NotFound(String),
    /// The request clashes with the registration's state (already withdrawn).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// How often a transaction that lost a race is tried again before giving up.
const ATTEMPTS: u32 = 30;
/// How long retrying may take in all, well within the service's 30-second request timeout.
const RETRY_BUDGET: Duration = Duration::from_secs(20);

/// Runs `attempt` (one whole transaction) until it succeeds or fails for a reason other than
/// contention.
///
/// # Errors
/// The attempt's own error, or the contention error after [`ATTEMPTS`] tries or
/// [`RETRY_BUDGET`].
pub async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T, AttendanceError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AttendanceError>>,
{
    let mut delay = Duration::from_millis(2);
    let mut tries = 1;
    let began = std::time::Instant::now();
    loop {
        match attempt().await {
            Err(AttendanceError::Db(error))
                if tries < ATTEMPTS && began.elapsed() < RETRY_BUDGET && is_contention(&error) =>
            {
                tracing::debug!(%error, tries, "attendance transaction lost a race; retrying");
                let jitter = Duration::from_micros(rand::random_range(0..=delay.as_micros() as u64));
                tokio::time::sleep(delay + jitter).await;
                delay = (delay * 2).min(Duration::from_millis(250));
                tries += 1;
            }
            other => return other,
        }
    }
}

/// Whether `error` is a lost race that the same transaction, run again, can win: SQLite's
/// `SQLITE_BUSY`/`SQLITE_LOCKED` (and their extended codes), PostgreSQL's serialization failure
/// and deadlock, or a pool that had no connection free in time.
#[must_use]
pub fn is_contention(error: &DbErr) -> bool {
    if let DbErr::ConnectionAcquire(_) = error {
        return true;
    }
    if let DbErr::Exec(RuntimeErr::SqlxError(inner))
    | DbErr::Query(RuntimeErr::SqlxError(inner))
    | DbErr::Conn(RuntimeErr::SqlxError(inner)) = error
        && let sea_orm::sqlx::Error::Database(database) = inner.as_ref()
    {
        let code = database.code().unwrap_or_default();
        // SQLite: primary code 5 (BUSY) or 6 (LOCKED); extended codes keep it in the low byte.
        if let Ok(number) = code.parse::<i32>() {
            return matches!(number & 0xff, 5 | 6);
        }
        return matches!(code.as_ref(), "40001" | "40P01" | "55P03");
    }
    let text = error.to_string();
    text.contains("database is locked") || text.contains("database table is locked")
}

/// Takes the meeting's attendance lock inside `txn` and returns its settings row, with a new
/// arrival number in `last_arrival`.
///
/// # Errors
/// When the database refuses (contention is retried by [`retrying`]).
pub async fn lock(txn: &DatabaseTransaction, meeting_id: i32) -> Result<attendance_settings::Model, DbErr> {
    reserve(txn, meeting_id, 1).await
}

/// As [`lock`], handing out `arrivals` new arrival numbers at once: those up to and including
/// the returned `last_arrival`.
///
/// # Errors
/// When the database refuses (contention is retried by [`retrying`]).
pub async fn reserve(
    txn: &DatabaseTransaction,
    meeting_id: i32,
    arrivals: i64,
) -> Result<attendance_settings::Model, DbErr> {
    let bump = || {
        attendance_settings::Entity::update_many()
            .col_expr(
                attendance_settings::Column::LastArrival,
                Expr::col(attendance_settings::Column::LastArrival).add(arrivals),
            )
            .filter(attendance_settings::Column::MeetingId.eq(meeting_id))
    };
    if let Some(row) = bump().exec_with_returning(txn).await?.into_iter().next() {
        return Ok(row);
    }
    attendance_settings::Entity::insert(attendance_settings::ActiveModel {
        meeting_id: Set(meeting_id),
        seats_behind_quota: Set(None),
        deadline: Set(None),
        capacity: Set(None),
        last_arrival: Set(0),
        updated_at: Set(None),
    })
    .on_conflict_do_nothing_on([attendance_settings::Column::MeetingId])
    .exec_without_returning(txn)
    .await?;
    bump()
        .exec_with_returning(txn)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| DbErr::RecordNotFound(format!("attendance settings of meeting {meeting_id}")))
}

/// The meeting's settings as the rules take them.
#[must_use]
pub fn settings_of(row: Option<&attendance_settings::Model>) -> Settings {
    Settings {
        seats_behind_quota: row.and_then(|r| r.seats_behind_quota).and_then(|q| u32::try_from(q).ok()),
        deadline: row.and_then(|r| r.deadline).and_then(|d| DateTime::from_timestamp(d, 0)),
        capacity: row.and_then(|r| r.capacity).and_then(|c| u32::try_from(c).ok()),
    }
}

/// A meeting's settings row, if it has one (without locking).
///
/// # Errors
/// When the database does not answer.
pub async fn settings(db: &impl ConnectionTrait, meeting_id: i32) -> Result<Option<attendance_settings::Model>, DbErr> {
    attendance_settings::Entity::find_by_id(meeting_id).one(db).await
}

/// Every registration of a meeting, withdrawn ones too, in order of arrival.
///
/// # Errors
/// When the database does not answer.
pub async fn all(db: &impl ConnectionTrait, meeting_id: i32) -> Result<Vec<registrations::Model>, DbErr> {
    registrations::Entity::find()
        .filter(registrations::Column::MeetingId.eq(meeting_id))
        .order_by_asc(registrations::Column::Arrival)
        .all(db)
        .await
}

/// The registrations of a meeting that count (confirmed or waiting), in order of arrival.
///
/// # Errors
/// When the database does not answer.
pub async fn active(db: &impl ConnectionTrait, meeting_id: i32) -> Result<Vec<registrations::Model>, DbErr> {
    registrations::Entity::find()
        .filter(registrations::Column::MeetingId.eq(meeting_id))
        .filter(registrations::Column::Status.ne(RegistrationStatus::Withdrawn))
        .order_by_asc(registrations::Column::Arrival)
        .all(db)
        .await
}

/// One registration by id.
///
/// # Errors
/// When the database does not answer.
pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<registrations::Model>, DbErr> {
    registrations::Entity::find_by_id(id).one(db).await
}

/// A stored registration as the rules see it.
#[must_use]
pub fn current(row: &registrations::Model) -> Current {
    Current {
        id: row.id,
        iso2: row.iso2.clone(),
        name: row.name.clone(),
        email: row.email.clone(),
        seat: row.seat.into(),
        status: row.status.into(),
        arrival: row.arrival,
    }
}

/// A registration the rules accepted, to store.
#[derive(Debug, Clone, Copy)]
pub struct NewRow<'a> {
    pub meeting_id: i32,
    pub iso2: &'a str,
    pub name: &'a str,
    pub function: &'a str,
    pub email: &'a str,
    pub seat: Seat,
    pub language: Language,
    pub status: Status,
    /// The arrival number [`lock`] handed out.
    pub arrival: i64,
    /// An organiser exceeded the quota or the deadline for it.
    pub overridden: bool,
    /// The actor who registered it, for the record.
    pub created_by: &'a str,
    pub now: DateTime<Utc>,
}

/// Stores new registrations in one statement and returns them in order of arrival. Call it
/// holding the meeting's lock.
///
/// # Errors
/// When the database refuses a row (a unique-constraint violation when an address is already
/// registered for the meeting).
pub async fn insert_all(txn: &DatabaseTransaction, new: &[NewRow<'_>]) -> Result<Vec<registrations::Model>, DbErr> {
    let rows = new.iter().map(|new| registrations::ActiveModel {
        meeting_id: Set(new.meeting_id),
        iso2: Set(new.iso2.to_owned()),
        name: Set(new.name.to_owned()),
        function: Set(new.function.to_owned()),
        email: Set(new.email.to_owned()),
        seat: Set(new.seat.into()),
        language: Set(new.language),
        status: Set(new.status.into()),
        arrival: Set(new.arrival),
        overridden: Set(new.overridden),
        created_by: Set(new.created_by.to_owned()),
        created_at: Set(new.now),
        updated_at: Set(new.now),
        ..Default::default()
    });
    // RETURNING promises no order; arrival numbers are unique within a meeting.
    let mut stored = registrations::Entity::insert_many(rows).exec_with_returning(txn).await?;
    stored.sort_by_key(|row| row.arrival);
    Ok(stored)
}

/// Stores what a change may change of a registration: its function, seat, `overridden` and
/// `updated_at`, as in `row`.
///
/// # Errors
/// When the database refuses the change.
pub async fn update(txn: &DatabaseTransaction, row: &registrations::Model) -> Result<(), DbErr> {
    registrations::Entity::update(registrations::ActiveModel {
        id: Unchanged(row.id),
        function: Set(row.function.clone()),
        seat: Set(row.seat),
        overridden: Set(row.overridden),
        updated_at: Set(row.updated_at),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    Ok(())
}

/// Marks registration `id` withdrawn.
///
/// # Errors
/// When the database refuses the change.
pub async fn withdraw(txn: &DatabaseTransaction, id: i64, now: DateTime<Utc>) -> Result<(), DbErr> {
    registrations::Entity::update(registrations::ActiveModel {
        id: Unchanged(id),
        status: Set(RegistrationStatus::Withdrawn),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    Ok(())
}

/// Stores a meeting's new settings over `before` (the row [`lock`] returned) and audits the
/// change. Call it holding the meeting's lock.
///
/// # Errors
/// When the database refuses the change or its audit entry.
pub async fn save_settings(
    txn: &DatabaseTransaction,
    actor: &str,
    before: &attendance_settings::Model,
    settings: Settings,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let to_i32 = |value: Option<u32>| value.and_then(|value| i32::try_from(value).ok());
    let after = attendance_settings::Model {
        seats_behind_quota: to_i32(settings.seats_behind_quota),
        deadline: settings.deadline.map(|deadline| deadline.timestamp()),
        capacity: to_i32(settings.capacity),
        updated_at: Some(now),
        ..before.clone()
    };
    attendance_settings::Entity::update(attendance_settings::ActiveModel {
        meeting_id: Unchanged(after.meeting_id),
        seats_behind_quota: Set(after.seats_behind_quota),
        deadline: Set(after.deadline),
        capacity: Set(after.capacity),
        updated_at: Set(after.updated_at),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    let snapshot = |row: &attendance_settings::Model| serde_json::json!({ "seats_behind_quota": row.seats_behind_quota, "deadline": row.deadline, "capacity": row.capacity });
    audit::record(
        txn,
        AuditEntry {
            actor,
            action: "attendance.settings",
            subject_type: "meeting",
            subject_id: after.meeting_id.to_string(),
            before: Some(&snapshot(before)),
            after: Some(&snapshot(&after)),
        },
    )
    .await
}

/// What the audit log keeps of a registration.
#[derive(Debug, Serialize)]
pub struct Snapshot<'a> {
    pub meeting_id: i32,
    pub state: &'a str,
    pub name: &'a str,
    pub function: &'a str,
    pub email: &'a str,
    pub seat: enums::Seat,
    pub language: Language,
    pub status: RegistrationStatus,
    pub arrival: i64,
    pub overridden: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<attendance::Overridden>,
}

#[must_use]
pub fn snapshot(row: &registrations::Model, overrides: Vec<attendance::Overridden>) -> Snapshot<'_> {
    Snapshot {
        meeting_id: row.meeting_id,
        state: &row.iso2,
        name: &row.name,
        function: &row.function,
        email: &row.email,
        seat: row.seat,
        language: row.language,
        status: row.status,
        arrival: row.arrival,
        overridden: row.overridden,
        overrides,
    }
}

/// Records a change of `row` in the audit log.
///
/// # Errors
/// When the database refuses the entry.
pub async fn record(
    txn: &DatabaseTransaction,
    actor: &str,
    action: &str,
    before: Option<&registrations::Model>,
    after: &registrations::Model,
    overrides: Vec<attendance::Overridden>,
) -> Result<(), DbErr> {
    audit::record(
        txn,
        AuditEntry {
            actor,
            action,
            subject_type: "registration",
            subject_id: after.id.to_string(),
            before: before.map(|row| snapshot(row, Vec::new())).as_ref(),
            after: Some(&snapshot(after, overrides)),
        },
    )
    .await
}

/// A new registration, with who made it and the limits they exceeded, for the audit log.
pub struct Created<'a> {
    pub actor: &'a str,
    pub row: &'a registrations::Model,
    pub overrides: Vec<attendance::Overridden>,
}

/// Records new registrations in the audit log, in one statement.
///
/// # Errors
/// When the database refuses an entry.
pub async fn record_created(txn: &DatabaseTransaction, created: Vec<Created<'_>>) -> Result<(), DbErr> {
    let snapshots: Vec<(&str, &registrations::Model, Snapshot<'_>)> =
        created.into_iter().map(|Created { actor, row, overrides }| (actor, row, snapshot(row, overrides))).collect();
    audit::record_all(
        txn,
        snapshots.iter().map(|(actor, row, after)| AuditEntry::<Snapshot<'_>, _> {
            actor,
            action: "registration.create",
            subject_type: "registration",
            subject_id: row.id.to_string(),
            before: None,
            after: Some(after),
        }),
    )
    .await
}

/// Moves up the first in the waiting list while seats are free; records each move, queues the
/// mail that tells the attendee and returns the promoted registrations. Call it holding the
/// meeting's lock.
///
/// The mail is queued here, in the same transaction as the move, so no promotion goes untold
/// and no mail tells of a promotion that was rolled back; what it says is the caller's
/// (`message`, e.g. `mail::registration::attendee_message`), so storage knows no wording.
///
/// # Errors
/// When the database refuses a change.
pub async fn promote(
    txn: &DatabaseTransaction,
    actor: &str,
    capacity: Option<u32>,
    rows: &[registrations::Model],
    now: DateTime<Utc>,
    message: impl Fn(&registrations::Model) -> NewMessage,
) -> Result<Vec<registrations::Model>, DbErr> {
    let currents: Vec<Current> = rows.iter().map(current).collect();
    let mut promoted = Vec::new();
    for id in attendance::promotions(capacity, &currents) {
        let Some(before) = rows.iter().find(|row| row.id == id) else { continue };
        registrations::Entity::update_many()
            .col_expr(registrations::Column::Status, Expr::value(RegistrationStatus::Confirmed))
            .col_expr(registrations::Column::UpdatedAt, Expr::value(now))
            .filter(registrations::Column::Id.eq(id))
            .exec(txn)
            .await?;
        let after = registrations::Model { status: RegistrationStatus::Confirmed, updated_at: now, ..before.clone() };
        record(txn, actor, "registration.promote", Some(before), &after, Vec::new()).await?;
        outbox::enqueue(txn, message(&after)).await?;
        promoted.push(after);
    }
    Ok(promoted)
}
