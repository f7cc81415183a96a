//! States and their dated memberships, Chairmanships, bodies, venues and rooms.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(States::Table)
                    .col(string_len(States::Iso2, 2).primary_key())
                    .col(string(States::NameEn))
                    .col(string(States::NameFr))
                    .col(string(States::ProtocolSortKey))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .col(pk_auto(Memberships::Id))
                    .col(string_len(Memberships::Iso2, 2))
                    .col(string(Memberships::Kind))
                    .col(string_null(Memberships::PartnerGroup))
                    .col(date(Memberships::ValidFrom))
                    .col(date_null(Memberships::ValidUntil))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Memberships::Table, Memberships::Iso2)
                            .to(States::Table, States::Iso2),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("memberships_iso2_valid_from")
                    .table(Memberships::Table)
                    .col(Memberships::Iso2)
                    .col(Memberships::ValidFrom)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Chairmanships::Table)
                    .col(integer(Chairmanships::Year).primary_key())
                    .col(string_len(Chairmanships::Iso2, 2))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Chairmanships::Table, Chairmanships::Iso2)
                            .to(States::Table, States::Iso2),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Venues::Table)
                    .col(string(Venues::Code).primary_key())
                    .col(string(Venues::Name))
                    .col(string(Venues::City))
                    .col(string_len(Venues::Country, 2))
                    .col(string(Venues::TimeZone))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Rooms::Table)
                    .col(string(Rooms::Code).primary_key())
                    .col(string(Rooms::VenueCode))
                    .col(string(Rooms::Name))
                    .col(integer(Rooms::Capacity))
                    .col(integer(Rooms::MainTableSeats))
                    .foreign_key(
                        ForeignKey::create().from(Rooms::Table, Rooms::VenueCode).to(Venues::Table, Venues::Code),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Bodies::Table)
                    .col(string(Bodies::Code).primary_key())
                    .col(string(Bodies::NameEn))
                    .col(string(Bodies::NameFr))
                    .col(string(Bodies::Cadence))
                    .col(string(Bodies::ChairRule))
                    .col(string(Bodies::Invites))
                    .col(string_null(Bodies::DefaultRoom))
                    .col(integer(Bodies::SeatsBehind))
                    .col(text(Bodies::Rules))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum States {
    Table,
    Iso2,
    NameEn,
    NameFr,
    ProtocolSortKey,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    Id,
    Iso2,
    Kind,
    PartnerGroup,
    ValidFrom,
    ValidUntil,
}

#[derive(DeriveIden)]
enum Chairmanships {
    Table,
    Year,
    Iso2,
}

#[derive(DeriveIden)]
enum Venues {
    Table,
    Code,
    Name,
    City,
    Country,
    TimeZone,
}

#[derive(DeriveIden)]
enum Rooms {
    Table,
    Code,
    VenueCode,
    Name,
    Capacity,
    MainTableSeats,
}

#[derive(DeriveIden)]
enum Bodies {
    Table,
    Code,
    NameEn,
    NameFr,
    Cadence,
    ChairRule,
    Invites,
    DefaultRoom,
    SeatsBehind,
    Rules,
}
