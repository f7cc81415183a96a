//! `outbox`: mail waiting for, in, or done with delivery. See `crate::store::outbox`.

use sea_orm::entity::prelude::*;

use crate::db::enums::{Language, OutboxStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// What the message is about: `invitation`, `update`, `cancellation`, `waitlist_promotion` ...
    pub kind: String,
    pub meeting_id: Option<i32>,
    pub recipient_email: String,
    pub recipient_name: String,
    pub language: Language,
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub text_body: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub html_body: Option<String>,
    /// `REQUEST` or `CANCEL` when the message carries a calendar part.
    pub calendar_method: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub calendar_ics: Option<String>,
    /// The `Message-ID` header, without angle brackets; stable for one message.
    pub message_id: String,
    /// Enqueueing the same key twice queues one message.
    #[sea_orm(unique)]
    pub dedupe_key: String,
    pub status: OutboxStatus,
    pub attempts: i32,
    /// Unix milliseconds before which no worker tries it (backoff after a temporary failure).
    pub available_at: i64,
    /// Unix milliseconds when a worker's claim runs out; another worker may then take it.
    pub lease_expires_at: Option<i64>,
    pub leased_by: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Unix milliseconds when the message was sent or given up (`None` while it waits); the
    /// retention purge compares it.
    pub finished_at: Option<i64>,
    /// When the bodies (text, HTML, calendar) were cleared by the retention purge; the delivery
    /// record stays.
    pub purged_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
