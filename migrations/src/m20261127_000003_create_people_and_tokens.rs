//! Delegations' contacts, user accounts and API tokens (stored only as hashes).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Contacts::Table)
                    .col(pk_auto(Contacts::Id))
                    .col(string_len(Contacts::Iso2, 2))
                    .col(string(Contacts::Name))
                    .col(string(Contacts::Email))
                    .col(string(Contacts::Role))
                    .col(string_len(Contacts::Language, 2))
                    .col(timestamp_with_time_zone(Contacts::CreatedAt))
                    .foreign_key(
                        ForeignKey::create().from(Contacts::Table, Contacts::Iso2).to(States::Table, States::Iso2),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("contacts_iso2_email")
                    .table(Contacts::Table)
                    .col(Contacts::Iso2)
                    .col(Contacts::Email)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_auto(Users::Id))
                    .col(string_uniq(Users::Username))
                    .col(string(Users::DisplayName))
                    .col(string_null(Users::PasswordHash))
                    .col(string(Users::Role))
                    .col(string_len_null(Users::Iso2, 2))
                    .col(boolean(Users::Disabled))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .foreign_key(ForeignKey::create().from(Users::Table, Users::Iso2).to(States::Table, States::Iso2))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(pk_auto(ApiTokens::Id))
                    .col(string_uniq(ApiTokens::TokenHash))
                    .col(string(ApiTokens::Role))
                    .col(string_len_null(ApiTokens::Iso2, 2))
                    .col(string(ApiTokens::Label))
                    .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::RevokedAt))
                    .foreign_key(
                        ForeignKey::create().from(ApiTokens::Table, ApiTokens::Iso2).to(States::Table, States::Iso2),
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
enum Contacts {
    Table,
    Id,
    Iso2,
    Name,
    Email,
    Role,
    Language,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    DisplayName,
    PasswordHash,
    Role,
    Iso2,
    Disabled,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    TokenHash,
    Role,
    Iso2,
    Label,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}
