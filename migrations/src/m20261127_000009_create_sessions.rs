//! Web sessions and one-time set-password links.
//!
//! Both store only the SHA-256 of their random secret, so a copy of the database lets nobody
//! log in. Expiry instants are Unix seconds (`BIGINT`) because queries compare them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(string(Sessions::Id).primary_key())
                    .col(integer(Sessions::UserId))
                    .col(string(Sessions::CsrfToken))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(big_integer(Sessions::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("sessions_user_id").table(Sessions::Table).col(Sessions::UserId).to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PasswordTokens::Table)
                    .col(string(PasswordTokens::Id).primary_key())
                    .col(integer(PasswordTokens::UserId))
                    .col(timestamp_with_time_zone(PasswordTokens::CreatedAt))
                    .col(big_integer(PasswordTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(PasswordTokens::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PasswordTokens::Table, PasswordTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    /// SHA-256 of the cookie's secret.
    Id,
    UserId,
    CsrfToken,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum PasswordTokens {
    Table,
    /// SHA-256 of the link's secret.
    Id,
    UserId,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}
