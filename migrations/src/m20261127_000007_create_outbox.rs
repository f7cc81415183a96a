//! The mail outbox: every message is stored here first and delivered by a worker, so a crash or
//! an SMTP outage loses nothing.
//!
//! Rows are claimed with a lease (`lease_expires_at`): a worker that dies mid-batch leaves rows
//! whose lease runs out and another worker takes them over. `available_at` and
//! `lease_expires_at` are Unix milliseconds in `BIGINT` columns because queries compare them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(big_pk_auto(Outbox::Id))
                    .col(string(Outbox::Kind))
                    .col(integer_null(Outbox::MeetingId))
                    .col(string(Outbox::RecipientEmail))
                    .col(string(Outbox::RecipientName))
                    .col(string_len(Outbox::Language, 8))
                    .col(string(Outbox::Subject))
                    .col(text(Outbox::TextBody))
                    .col(text_null(Outbox::HtmlBody))
                    .col(string_null(Outbox::CalendarMethod))
                    .col(text_null(Outbox::CalendarIcs))
                    .col(string(Outbox::MessageId))
                    .col(string_uniq(Outbox::DedupeKey))
                    .col(string(Outbox::Status))
                    .col(integer(Outbox::Attempts).default(0))
                    .col(big_integer(Outbox::AvailableAt))
                    .col(big_integer_null(Outbox::LeaseExpiresAt))
                    .col(string_null(Outbox::LeasedBy))
                    .col(text_null(Outbox::LastError))
                    .col(timestamp_with_time_zone_null(Outbox::SentAt))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(timestamp_with_time_zone(Outbox::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Outbox::Table, Outbox::MeetingId)
                            .to(Meetings::Table, Meetings::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        // The worker's query: due rows in order.
        manager
            .create_index(
                Index::create()
                    .name("outbox_status_available_at")
                    .table(Outbox::Table)
                    .col(Outbox::Status)
                    .col(Outbox::AvailableAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("outbox_meeting_id").table(Outbox::Table).col(Outbox::MeetingId).to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Meetings {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Kind,
    MeetingId,
    RecipientEmail,
    RecipientName,
    Language,
    Subject,
    TextBody,
    HtmlBody,
    CalendarMethod,
    CalendarIcs,
    MessageId,
    DedupeKey,
    Status,
    Attempts,
    AvailableAt,
    LeaseExpiresAt,
    LeasedBy,
    LastError,
    SentAt,
    CreatedAt,
    UpdatedAt,
}
