//! Reminders to register: one row per meeting and invited delegation that was reminded, so the
//! reminder job, running on every replica, sends each reminder once. The primary key is the
//! unique constraint the replicas meet on: the one whose insert wins queues the mail, in the
//! same transaction.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RegistrationReminders::Table)
                    .col(integer(RegistrationReminders::MeetingId))
                    .col(string_len(RegistrationReminders::Iso2, 2))
                    .col(timestamp_with_time_zone(RegistrationReminders::SentAt))
                    .primary_key(Index::create().col(RegistrationReminders::MeetingId).col(RegistrationReminders::Iso2))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RegistrationReminders::Table, RegistrationReminders::MeetingId)
                            .to(Meetings::Table, Meetings::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(RegistrationReminders::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum RegistrationReminders {
    Table,
    MeetingId,
    /// The reminded delegation.
    Iso2,
    /// When its reminder was queued.
    SentAt,
}

#[derive(DeriveIden)]
enum Meetings {
    Table,
    Id,
}
