//! A cancelled meeting's reason (issue 15), as the organiser gave it: shown on the meeting
//! page, in the cancellation mail and in the feeds. Cleared when the meeting is reinstated.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(Meetings::Table).add_column(text_null(Meetings::CancellationReason)).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Meetings::Table).drop_column(Meetings::CancellationReason).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Meetings {
    Table,
    CancellationReason,
}
