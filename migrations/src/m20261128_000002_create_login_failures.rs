//! Failed logins, counted in the database so that every replica sees the same counts and three
//! replicas do not allow three times the guesses.
//!
//! One row per attempt that has not (yet) succeeded, under the SHA-256 of what it is counted
//! against (`user:<name>` for untrusted clients, `address:<ip>`, `device:<nonce>` for a browser
//! holding a device cookie); hashing keeps passwords typed into the username field out of the
//! table. `at` is Unix seconds (`BIGINT`) because queries compare it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginFailures::Table)
                    .col(string(LoginFailures::Id).primary_key())
                    .col(string(LoginFailures::Key))
                    .col(big_integer(LoginFailures::At))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("login_failures_key_at")
                    .table(LoginFailures::Table)
                    .col(LoginFailures::Key)
                    .col(LoginFailures::At)
                    .to_owned(),
            )
            .await?;
        // Clean-up deletes by age alone.
        manager
            .create_index(
                Index::create().name("login_failures_at").table(LoginFailures::Table).col(LoginFailures::At).to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    /// Random: names one attempt, so it can be taken back when the password was right.
    Id,
    /// SHA-256 (hex) of what the attempt is counted against.
    Key,
    /// When, in Unix seconds.
    At,
}
