//! The mail outbox: every outgoing message is stored here first, in the transaction that caused
//! it, and delivered later by the worker in `crate::mail`.
//!
//! Anyone who sends mail calls [`enqueue`] with a rendered [`NewMessage`]; the `dedupe_key` makes
//! enqueueing idempotent, so a retried request or a second "send" never sends twice.

use chrono::Utc;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait as _, ConnectionTrait, DbBackend, DbErr, EntityTrait as _, PaginatorTrait as _, QueryFilter as _,
    QueryOrder as _, Statement, TryInsertResult, Value,
    sea_query::{Expr, ExprTrait as _},
};

use crate::db::{
    entities::outbox,
    enums::{Language, OutboxStatus},
};

/// A rendered message to queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMessage {
    /// `invitation` | `update` | `cancellation` | `waitlist_promotion` | ...
    pub kind: String,
    pub meeting_id: Option<i32>,
    pub recipient_email: String,
    pub recipient_name: String,
    pub language: Language,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
    /// An iCalendar part (RFC 6047): sent as `text/calendar; method=...` and as `invite.ics`.
    pub calendar: Option<CalendarPart>,
    /// The `Message-ID` (with or without angle brackets); stable for one logical message.
    pub message_id: String,
    /// Unique: enqueueing the same key twice is a no-op.
    pub dedupe_key: String,
}

/// The calendar carried by a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarPart {
    /// `REQUEST` | `CANCEL` (the iTIP method, repeated in the MIME `method=` parameter).
    pub method: String,
    /// The whole VCALENDAR, CRLF line endings.
    pub ics: String,
}

/// Queues `message` for delivery.
///
/// Returns `false`, and changes nothing, when a message with the same `dedupe_key` was queued
/// before (whatever became of it).
///
/// # Errors
/// When the database refuses the row.
pub async fn enqueue(db: &impl ConnectionTrait, message: NewMessage) -> Result<bool, DbErr> {
    let result = outbox::Entity::insert(queued(message, Utc::now()))
        .on_conflict_do_nothing_on([outbox::Column::DedupeKey])
        .exec_without_returning(db)
        .await?;
    Ok(matches!(result, TryInsertResult::Inserted(rows) if rows > 0))
}

/// Queues `messages` for delivery in one statement, skipping those whose `dedupe_key` was
/// queued before (as [`enqueue`] does).
///
/// # Errors
/// When the database refuses a row.
pub async fn enqueue_all(db: &impl ConnectionTrait, messages: Vec<NewMessage>) -> Result<(), DbErr> {
    if messages.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    outbox::Entity::insert_many(messages.into_iter().map(|message| queued(message, now)))
        .on_conflict_do_nothing_on([outbox::Column::DedupeKey])
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The outbox row of `message`, queued at `now` and due at once.
fn queued(message: NewMessage, now: chrono::DateTime<Utc>) -> outbox::ActiveModel {
    let (calendar_method, calendar_ics) = match message.calendar {
        Some(part) => (Some(part.method), Some(part.ics)),
        None => (None, None),
    };
    outbox::ActiveModel {
        kind: Set(message.kind),
        meeting_id: Set(message.meeting_id),
        recipient_email: Set(message.recipient_email),
        recipient_name: Set(message.recipient_name),
        language: Set(message.language),
        subject: Set(message.subject),
        text_body: Set(message.text_body),
        html_body: Set(message.html_body),
        calendar_method: Set(calendar_method),
        calendar_ics: Set(calendar_ics),
        message_id: Set(message.message_id.trim_start_matches('<').trim_end_matches('>').to_owned()),
        dedupe_key: Set(message.dedupe_key),
        status: Set(OutboxStatus::Queued),
        attempts: Set(0),
        available_at: Set(now.timestamp_millis()),
        lease_expires_at: Set(None),
        leased_by: Set(None),
        last_error: Set(None),
        sent_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        finished_at: Set(None),
        purged_at: Set(None),
        ..Default::default()
    }
}

/// Claims up to `limit` messages for worker `worker` until `lease_until_ms`: those queued and
/// due at `now_ms`, and those whose previous worker's lease ran out (it crashed or hung).
///
/// One statement does the choosing and the marking, so two workers never claim the same row:
/// on PostgreSQL the rows are locked `FOR UPDATE SKIP LOCKED` (a busy replica's rows are
/// skipped, not waited for); SQLite has a single writer, so the statement runs alone.
/// Each claim counts as an attempt.
///
/// Messages about one meeting to one recipient go out in order: a message is not claimed while
/// an earlier one to the same address about the same meeting still waits (an update never
/// overtakes the invitation, nor a cancellation the update).
///
/// # Errors
/// When the database does not answer.
pub async fn claim(
    db: &impl ConnectionTrait,
    worker: &str,
    limit: u64,
    now_ms: i64,
    lease_until_ms: i64,
) -> Result<Vec<outbox::Model>, DbErr> {
    let backend = db.get_database_backend();
    let lock = if backend == DbBackend::Postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE outbox SET status = $1, leased_by = $2, lease_expires_at = $3, attempts = attempts + 1, \
         updated_at = $4 \
         WHERE id IN (SELECT o.id FROM outbox o \
           WHERE ((o.status = $5 AND o.available_at <= $6) OR (o.status = $1 AND o.lease_expires_at < $6)) \
           AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.meeting_id = o.meeting_id \
             AND e.recipient_email = o.recipient_email AND e.id < o.id AND e.status IN ($5, $1)) \
           ORDER BY o.id LIMIT $7 {lock}) \
         RETURNING *"
    );
    let values: Vec<Value> = vec![
        OutboxStatus::Sending.into(),
        worker.into(),
        lease_until_ms.into(),
        Utc::now().into(),
        OutboxStatus::Queued.into(),
        now_ms.into(),
        i64::try_from(limit).unwrap_or(i64::MAX).into(),
    ];
    let mut rows =
        outbox::Entity::find().from_raw_sql(Statement::from_sql_and_values(backend, sql, values)).all(db).await?;
    rows.sort_by_key(|row| row.id);
    Ok(rows)
}

/// What became of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// A temporary failure: try again at `retry_at_ms` (Unix milliseconds).
    Retry {
        error: String,
        retry_at_ms: i64,
    },
    /// A permanent failure.
    Failed {
        error: String,
    },
}

/// Records what became of messages `worker` claimed: the sent ones in one statement, each
/// other one with its own error and retry time. Returns how many were recorded; a row whose
/// lease ran out and another worker took over is left to that worker.
///
/// # Errors
/// When the database does not answer.
pub async fn finish(db: &impl ConnectionTrait, outcomes: &[(i64, Outcome)], worker: &str) -> Result<u64, DbErr> {
    let now = Utc::now();
    let held = |update: sea_orm::UpdateMany<outbox::Entity>| {
        update
            .col_expr(outbox::Column::LeaseExpiresAt, Expr::value(Option::<i64>::None))
            .col_expr(outbox::Column::LeasedBy, Expr::value(Option::<String>::None))
            .col_expr(outbox::Column::UpdatedAt, Expr::value(now))
            .filter(outbox::Column::Status.eq(OutboxStatus::Sending))
            .filter(outbox::Column::LeasedBy.eq(worker))
    };
    let sent: Vec<i64> = outcomes.iter().filter(|(_, outcome)| *outcome == Outcome::Sent).map(|(id, _)| *id).collect();
    let mut recorded = 0;
    if !sent.is_empty() {
        recorded += held(outbox::Entity::update_many())
            .col_expr(outbox::Column::Status, Expr::value(OutboxStatus::Sent))
            .col_expr(outbox::Column::FinishedAt, Expr::value(Some(now.timestamp_millis())))
            .col_expr(outbox::Column::SentAt, Expr::value(Some(now)))
            .col_expr(outbox::Column::LastError, Expr::value(Option::<String>::None))
            .filter(outbox::Column::Id.is_in(sent))
            .exec(db)
            .await?
            .rows_affected;
    }
    for (id, outcome) in outcomes {
        let update = held(outbox::Entity::update_many()).filter(outbox::Column::Id.eq(*id));
        let update = match outcome {
            Outcome::Sent => continue,
            Outcome::Retry { error, retry_at_ms } => update
                .col_expr(outbox::Column::Status, Expr::value(OutboxStatus::Queued))
                .col_expr(outbox::Column::AvailableAt, Expr::value(*retry_at_ms))
                .col_expr(outbox::Column::LastError, Expr::value(Some(error.clone()))),
            Outcome::Failed { error } => update
                .col_expr(outbox::Column::Status, Expr::value(OutboxStatus::Failed))
                .col_expr(outbox::Column::FinishedAt, Expr::value(Some(now.timestamp_millis())))
                .col_expr(outbox::Column::LastError, Expr::value(Some(error.clone()))),
        };
        recorded += update.exec(db).await?.rows_affected;
    }
    Ok(recorded)
}

/// Gives back the rows `worker` still holds (on a graceful shutdown), so another worker need
/// not wait for the lease to run out.
///
/// # Errors
/// When the database does not answer.
pub async fn release(db: &impl ConnectionTrait, worker: &str) -> Result<u64, DbErr> {
    let result = outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(OutboxStatus::Queued))
        .col_expr(outbox::Column::LeaseExpiresAt, Expr::value(Option::<i64>::None))
        .col_expr(outbox::Column::LeasedBy, Expr::value(Option::<String>::None))
        .col_expr(outbox::Column::Attempts, Expr::col(outbox::Column::Attempts).sub(1))
        .filter(outbox::Column::Status.eq(OutboxStatus::Sending))
        .filter(outbox::Column::LeasedBy.eq(worker))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// The messages about `meeting_id`, oldest first.
///
/// # Errors
/// When the database does not answer.
pub async fn for_meeting(db: &impl ConnectionTrait, meeting_id: i32) -> Result<Vec<outbox::Model>, DbErr> {
    outbox::Entity::find()
        .filter(outbox::Column::MeetingId.eq(meeting_id))
        .order_by_asc(outbox::Column::Id)
        .all(db)
        .await
}

/// The language of the latest message to `email` about `meeting_id`; `None` when none was sent.
///
/// # Errors
/// When the database does not answer.
pub async fn language_of(db: &impl ConnectionTrait, meeting_id: i32, email: &str) -> Result<Option<Language>, DbErr> {
    let latest = outbox::Entity::find()
        .filter(outbox::Column::MeetingId.eq(meeting_id))
        .filter(outbox::Column::RecipientEmail.eq(email.to_lowercase()))
        .order_by_desc(outbox::Column::Id)
        .one(db)
        .await?;
    Ok(latest.map(|row| row.language))
}

/// How many messages wait for delivery (queued or being sent), for `meeting_id` or all.
///
/// # Errors
/// When the database does not answer.
pub async fn pending(db: &impl ConnectionTrait, meeting_id: Option<i32>) -> Result<u64, DbErr> {
    let mut query =
        outbox::Entity::find().filter(outbox::Column::Status.is_in([OutboxStatus::Queued, OutboxStatus::Sending]));
    if let Some(id) = meeting_id {
        query = query.filter(outbox::Column::MeetingId.eq(id));
    }
    query.count(db).await
}

/// Clears the bodies (text, HTML and calendar) of the messages sent or given up before
/// `finished_before_ms` (Unix milliseconds) and records when, keeping the delivery record:
/// recipient, kind, subject, status, attempts, `sent_at`, `last_error`, `message_id`. The bodies
/// hold set-password and RSVP links, which should not outlive their use.
///
/// Returns how many messages were purged. Idempotent and safe on several replicas at once: one
/// statement, and a purged row is never touched again.
///
/// # Errors
/// When the database does not answer.
pub async fn purge(db: &impl ConnectionTrait, finished_before_ms: i64) -> Result<u64, DbErr> {
    let result = outbox::Entity::update_many()
        .col_expr(outbox::Column::TextBody, Expr::value(""))
        .col_expr(outbox::Column::HtmlBody, Expr::value(Option::<String>::None))
        .col_expr(outbox::Column::CalendarIcs, Expr::value(Option::<String>::None))
        .col_expr(outbox::Column::PurgedAt, Expr::value(Some(Utc::now())))
        .filter(outbox::Column::Status.is_in([OutboxStatus::Sent, OutboxStatus::Failed]))
        .filter(outbox::Column::FinishedAt.lt(finished_before_ms))
        .filter(outbox::Column::PurgedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// The messages waiting for delivery, for the readiness report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backlog {
    /// Queued or being sent.
    pub waiting: u64,
    /// When the oldest of them was queued.
    pub oldest_queued_at: Option<chrono::DateTime<Utc>>,
}

/// How many messages wait for delivery and since when the oldest waits.
///
/// # Errors
/// When the database does not answer.
pub async fn backlog(db: &impl ConnectionTrait) -> Result<Backlog, DbErr> {
    let waiting = pending(db, None).await?;
    // Ids grow with time, so the lowest waiting id is the oldest message; ordering by
    // `created_at` would compare timestamps, which SQLite stores as text.
    let oldest = outbox::Entity::find()
        .filter(outbox::Column::Status.is_in([OutboxStatus::Queued, OutboxStatus::Sending]))
        .order_by_asc(outbox::Column::Id)
        .one(db)
        .await?;
    Ok(Backlog { waiting, oldest_queued_at: oldest.map(|row| row.created_at) })
}
