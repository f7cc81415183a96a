//! Invitations: per-meeting changes to who is invited, the delegations' answers to one-click
//! accept/decline links, server secrets (the key those links are signed with), and an index
//! that keeps the outbox worker's per-recipient ordering check cheap.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(InvitationSettings::Table)
                    .col(integer(InvitationSettings::MeetingId).primary_key())
                    .col(boolean(InvitationSettings::Closed).default(false))
                    .col(text(InvitationSettings::Guests))
                    .col(timestamp_with_time_zone(InvitationSettings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(InvitationSettings::Table, InvitationSettings::MeetingId)
                            .to(Meetings::Table, Meetings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Rsvps::Table)
                    .col(pk_auto(Rsvps::Id))
                    .col(integer(Rsvps::MeetingId))
                    .col(string_len_null(Rsvps::Iso2, 2))
                    .col(string(Rsvps::RecipientEmail))
                    .col(string(Rsvps::Answer))
                    .col(timestamp_with_time_zone(Rsvps::AnsweredAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Rsvps::Table, Rsvps::MeetingId)
                            .to(Meetings::Table, Meetings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("rsvps_meeting_recipient")
                    .table(Rsvps::Table)
                    .col(Rsvps::MeetingId)
                    .col(Rsvps::RecipientEmail)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The outbox worker claims a message only when no earlier one to the same recipient about
        // the same meeting is pending; this index answers that without scanning the meeting's rows.
        manager
            .create_index(
                Index::create()
                    .name("outbox_meeting_recipient_id")
                    .table(Outbox::Table)
                    .col(Outbox::MeetingId)
                    .col(Outbox::RecipientEmail)
                    .col(Outbox::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ServerSecrets::Table)
                    .col(string(ServerSecrets::Name).primary_key())
                    .col(string(ServerSecrets::Value))
                    .col(timestamp_with_time_zone(ServerSecrets::CreatedAt))
                    .to_owned(),
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
    MeetingId,
    RecipientEmail,
}

#[derive(DeriveIden)]
enum InvitationSettings {
    Table,
    MeetingId,
    Closed,
    /// JSON: `{"guest_delegations": [...], "officials": [...]}`.
    Guests,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Rsvps {
    Table,
    Id,
    MeetingId,
    Iso2,
    RecipientEmail,
    Answer,
    AnsweredAt,
}

#[derive(DeriveIden)]
enum ServerSecrets {
    Table,
    Name,
    Value,
    CreatedAt,
}
