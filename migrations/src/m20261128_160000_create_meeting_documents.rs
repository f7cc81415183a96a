//! Invitations that reach delegations (issue 15): the documents organisers attach to a meeting
//! (agenda, logistics note), and the invitation's own words per meeting and language.
//!
//! Documents are stored in the database, not on a disk, so that every replica serves and mails
//! the same files; their size is capped by the service (10 MB).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MeetingDocuments::Table)
                    .col(pk_auto(MeetingDocuments::Id))
                    .col(integer(MeetingDocuments::MeetingId))
                    .col(string(MeetingDocuments::Filename))
                    .col(string(MeetingDocuments::ContentType))
                    .col(big_integer(MeetingDocuments::SizeBytes))
                    .col(blob(MeetingDocuments::Content))
                    .col(timestamp_with_time_zone(MeetingDocuments::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MeetingDocuments::Table, MeetingDocuments::MeetingId)
                            .to(Meetings::Table, Meetings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("meeting_documents_meeting")
                    .table(MeetingDocuments::Table)
                    .col(MeetingDocuments::MeetingId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(InvitationTexts::Table)
                    .col(integer(InvitationTexts::MeetingId))
                    .col(string_len(InvitationTexts::Language, 8))
                    .col(text_null(InvitationTexts::Subject))
                    .col(text_null(InvitationTexts::Opening))
                    .col(timestamp_with_time_zone(InvitationTexts::UpdatedAt))
                    .primary_key(Index::create().col(InvitationTexts::MeetingId).col(InvitationTexts::Language))
                    .foreign_key(
                        ForeignKey::create()
                            .from(InvitationTexts::Table, InvitationTexts::MeetingId)
                            .to(Meetings::Table, Meetings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(InvitationTexts::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(MeetingDocuments::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Meetings {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum MeetingDocuments {
    Table,
    Id,
    MeetingId,
    /// Sanitised: what the download and the attachment are called.
    Filename,
    /// Decided from the file's extension and checked against its first bytes.
    ContentType,
    SizeBytes,
    Content,
    CreatedAt,
}

#[derive(DeriveIden)]
enum InvitationTexts {
    Table,
    MeetingId,
    /// `en` or `fr`.
    Language,
    /// Replaces the generated subject line; `NULL` keeps it.
    Subject,
    /// Replaces the opening paragraph; `NULL` keeps it.
    Opening,
    UpdatedAt,
}
