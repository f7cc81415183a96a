//! Meetings: UTC instants (Unix seconds) plus the IANA zone of the place, status, sequence and a
//! stable UID shared by feeds and invitations.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Meetings::Table)
                    .col(pk_auto(Meetings::Id))
                    .col(string_uniq(Meetings::Uid))
                    .col(string_null(Meetings::PlanKey).unique_key())
                    .col(string(Meetings::BodyCode))
                    .col(string(Meetings::Title))
                    .col(big_integer(Meetings::StartsAt))
                    .col(big_integer(Meetings::EndsAt))
                    .col(string(Meetings::TimeZone))
                    .col(string_null(Meetings::RoomCode))
                    .col(string_null(Meetings::Venue))
                    .col(string_null(Meetings::City))
                    .col(string_len_null(Meetings::Country, 2))
                    .col(string_len_null(Meetings::Host, 2))
                    .col(string(Meetings::Status))
                    .col(integer(Meetings::Sequence))
                    .col(timestamp_with_time_zone(Meetings::CreatedAt))
                    .col(timestamp_with_time_zone(Meetings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create().from(Meetings::Table, Meetings::BodyCode).to(Bodies::Table, Bodies::Code),
                    )
                    .foreign_key(
                        ForeignKey::create().from(Meetings::Table, Meetings::RoomCode).to(Rooms::Table, Rooms::Code),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("meetings_starts_at").table(Meetings::Table).col(Meetings::StartsAt).to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Meetings {
    Table,
    Id,
    Uid,
    PlanKey,
    BodyCode,
    Title,
    StartsAt,
    EndsAt,
    TimeZone,
    RoomCode,
    Venue,
    City,
    Country,
    Host,
    Status,
    Sequence,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Bodies {
    Table,
    Code,
}

#[derive(DeriveIden)]
enum Rooms {
    Table,
    Code,
}
