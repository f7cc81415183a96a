//! Calendar subscription feeds: one secret URL each, stored only as the hash of its token.
//!
//! `scope` is `delegation` (with `iso2`), `body` (with `body_code`) or `all`. `owner_iso2` is the
//! delegation that created the feed and may list and revoke it; null for organisers' feeds.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Feeds::Table)
                    .col(pk_auto(Feeds::Id))
                    .col(string_uniq(Feeds::TokenHash))
                    .col(string(Feeds::Scope))
                    .col(string_len_null(Feeds::Iso2, 2))
                    .col(string_null(Feeds::BodyCode))
                    .col(string_len_null(Feeds::OwnerIso2, 2))
                    .col(string(Feeds::CreatedBy))
                    .col(timestamp_with_time_zone(Feeds::CreatedAt))
                    .col(timestamp_with_time_zone_null(Feeds::LastUsedAt))
                    .col(timestamp_with_time_zone_null(Feeds::RevokedAt))
                    .foreign_key(ForeignKey::create().from(Feeds::Table, Feeds::Iso2).to(States::Table, States::Iso2))
                    .foreign_key(
                        ForeignKey::create().from(Feeds::Table, Feeds::OwnerIso2).to(States::Table, States::Iso2),
                    )
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum States {
    Table,
    Iso2,
}

#[derive(DeriveIden)]
enum Feeds {
    Table,
    Id,
    TokenHash,
    Scope,
    Iso2,
    BodyCode,
    OwnerIso2,
    CreatedBy,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}
