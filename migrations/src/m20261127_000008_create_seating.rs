//! Seating: the lot drawn per body and year, and each body's seating rules.
//!
//! A lot is drawn once per body and year and kept, so every plan of that year starts the ring
//! with the same State and the draw can be audited: `seed` is the random number drawn (a `u64`
//! in decimal; text so both databases keep all 64 bits unsigned) and `first_iso2` the
//! participating State it selected. The unique key on `(body_code, year)` makes the lazy first
//! draw safe when two replicas race: both insert-or-ignore, then both read the one row.
//!
//! `seating_rules` holds an organiser's rules for a body as the JSON of
//! `scheduler::seating::SeatingRules`; a body without a row uses the defaults.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SeatingLots::Table)
                    .col(pk_auto(SeatingLots::Id))
                    .col(string(SeatingLots::BodyCode))
                    .col(integer(SeatingLots::Year))
                    .col(string(SeatingLots::Seed))
                    .col(string_len(SeatingLots::FirstIso2, 2))
                    .col(timestamp_with_time_zone(SeatingLots::DrawnAt))
                    .col(string(SeatingLots::DrawnBy))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SeatingLots::Table, SeatingLots::BodyCode)
                            .to(Bodies::Table, Bodies::Code),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("seating_lots_body_year")
                    .table(SeatingLots::Table)
                    .col(SeatingLots::BodyCode)
                    .col(SeatingLots::Year)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SeatingRules::Table)
                    .col(string(SeatingRules::BodyCode).primary_key())
                    .col(text(SeatingRules::Rules))
                    .col(timestamp_with_time_zone(SeatingRules::UpdatedAt))
                    .col(string(SeatingRules::UpdatedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SeatingRules::Table, SeatingRules::BodyCode)
                            .to(Bodies::Table, Bodies::Code),
                    )
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum SeatingLots {
    Table,
    Id,
    BodyCode,
    Year,
    Seed,
    FirstIso2,
    DrawnAt,
    DrawnBy,
}

#[derive(DeriveIden)]
enum SeatingRules {
    Table,
    BodyCode,
    Rules,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum Bodies {
    Table,
    Code,
}
