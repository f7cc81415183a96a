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
use scheduler::attendance::{self, Current, Settings};
use sea_orm::{
    ActiveValue::Set,
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
    let bump = || {
        attendance_settings::Entity::update_many()
            .col_expr(
                attendance_settings::Column::LastArrival,
                Expr::col(attendance_settings::Column::LastArrival).add(1),
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

/// What the promotion mail says about the meeting.
pub struct MeetingForMail<'a> {
    pub id: i32,
    pub title: &'a str,
    /// The start on the clock of the place.
    pub start: DateTime<chrono_tz::Tz>,
}

/// The mail telling `row`'s attendee that a seat is theirs, in their language (en or fr).
#[must_use]
pub fn promotion_message(row: &registrations::Model, meeting: &MeetingForMail<'_>) -> NewMessage {
    let zone = meeting.start.timezone().name();
    let (subject, text_body) = if row.language == Language::Fr {
        let when = meeting.start.format("%d/%m/%Y à %H:%M");
        (
            format!("Une place vous est attribuée : {}", meeting.title),
            format!(
                "Bonjour {name},\r\n\r\nUne place s'est libérée : votre inscription à « {title} » ({when}, heure \
                 locale, {zone}) est confirmée. Vous étiez sur la liste d'attente.\r\n\r\nSi vous ne pouvez pas \
                 venir, retirez votre inscription afin que la personne suivante puisse prendre la place.\r\n\r\nPlenary\r\n",
                name = row.name,
                title = meeting.title,
            ),
        )
    } else {
        let when = meeting.start.format("%A %-d %B %Y at %H:%M");
        (
            format!("A seat is yours: {}", meeting.title),
            format!(
                "Dear {name},\r\n\r\nA seat has become free: your registration for \"{title}\" ({when}, local time, \
                 {zone}) is now confirmed. You were on the waiting list.\r\n\r\nIf you cannot come, please withdraw \
                 your registration so that the next person in line can have the seat.\r\n\r\nPlenary\r\n",
                name = row.name,
                title = meeting.title,
            ),
        )
    };
    NewMessage {
        kind: "waitlist_promotion".into(),
        meeting_id: Some(meeting.id),
        recipient_email: row.email.clone(),
        recipient_name: row.name.clone(),
        language: row.language,
        subject,
        text_body,
        html_body: None,
        calendar: None,
        message_id: format!("waitlist-promotion-{}@plenary", row.id),
        // A registration moves up once at most: it never goes back to the waiting list.
        dedupe_key: format!("waitlist_promotion:{}", row.id),
    }
}

/// Moves up the first in the waiting list while seats are free; records each move, queues the
/// mail that tells the attendee (in the same transaction, so no promotion goes untold and no
/// mail tells of a promotion that was rolled back) and returns the promoted registrations.
/// Call it holding the meeting's lock.
///
/// # Errors
/// When the database refuses a change.
pub async fn promote(
    txn: &DatabaseTransaction,
    actor: &str,
    capacity: Option<u32>,
    rows: &[registrations::Model],
    meeting: &MeetingForMail<'_>,
    now: DateTime<Utc>,
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
        outbox::enqueue(txn, promotion_message(&after, meeting)).await?;
        promoted.push(after);
    }
    Ok(promoted)
}
