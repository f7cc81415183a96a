//! Outbox retention (issue 12): a delivered or failed message's bodies hold set-password and
//! RSVP links, so they are purged after a retention period while the delivery record stays.
//!
//! - `finished_at`: Unix milliseconds when the message was sent or given up. It is a `BIGINT`
//!   because the purge compares it (see the crate docs on instants). Rows finished before this
//!   migration get their `available_at` (when their last attempt became due, normally seconds
//!   before it ended): the only comparable instant they have.
//! - `purged_at`: when the bodies were cleared; only shown, so a timestamp.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter().table(Outbox::Table).add_column(big_integer_null(Outbox::FinishedAt)).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .add_column(timestamp_with_time_zone_null(Outbox::PurgedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(Outbox::Table)
                    .value(Outbox::FinishedAt, Expr::col(Outbox::AvailableAt))
                    .and_where(Expr::col(Outbox::Status).is_in(["sent", "failed"]))
                    .to_owned(),
            )
            .await?;
        // The purge's query: finished rows not purged yet, oldest first.
        manager
            .create_index(
                Index::create().name("outbox_finished_at").table(Outbox::Table).col(Outbox::FinishedAt).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("outbox_finished_at").table(Outbox::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Outbox::Table).drop_column(Outbox::PurgedAt).to_owned()).await?;
        manager.alter_table(Table::alter().table(Outbox::Table).drop_column(Outbox::FinishedAt).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Status,
    AvailableAt,
    FinishedAt,
    PurgedAt,
}
