//! The mail outbox: every outgoing message is stored here first, in the transaction that caused
//! it, and delivered later by the worker in `crate::mail`.
//!
//! Anyone who sends mail calls [`enqueue`] with a rendered [`NewMessage`]; the `dedupe_key` makes
//! enqueueing idempotent, so a retried request or a second "send" never sends twice.

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait as _, TryInsertResult};

use crate::db::entities::outbox;

/// Waiting for a worker (new, or after a temporary failure).
pub const QUEUED: &str = "queued";
/// Claimed by a worker whose lease has not run out.
pub const SENDING: &str = "sending";
/// Accepted by the SMTP server.
pub const SENT: &str = "sent";
/// Refused for good (a 5xx answer, or too many temporary failures); `last_error` says why.
pub const FAILED: &str = "failed";

/// A rendered message to queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMessage {
    /// `invitation` | `update` | `cancellation` | `waitlist_promotion` | ...
    pub kind: String,
    pub meeting_id: Option<i32>,
    pub recipient_email: String,
    pub recipient_name: String,
    /// `en` | `fr`
    pub language: String,
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
    let now = Utc::now();
    let (calendar_method, calendar_ics) = match message.calendar {
        Some(part) => (Some(part.method), Some(part.ics)),
        None => (None, None),
    };
    let row = outbox::ActiveModel {
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
        status: Set(QUEUED.to_owned()),
        attempts: Set(0),
        available_at: Set(now.timestamp_millis()),
        lease_expires_at: Set(None),
        leased_by: Set(None),
        last_error: Set(None),
        sent_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let result = outbox::Entity::insert(row)
        .on_conflict_do_nothing_on([outbox::Column::DedupeKey])
        .exec_without_returning(db)
        .await?;
    Ok(matches!(result, TryInsertResult::Inserted(rows) if rows > 0))
}
