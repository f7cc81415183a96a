//! The database: connecting (SQLite or PostgreSQL from one URL), migrating and setting up under
//! one lock, and the entities.

pub mod entities;
pub mod enums;
mod meeting_ext;

use std::time::Duration;

use anyhow::Context as _;
use migration::{Migrator, MigratorTrait as _};
use sea_orm::{
    ConnectOptions, ConnectionTrait as _, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait as _,
};

/// Opens a pool on `url` (`sqlite://file.db` or `postgres://...`).
///
/// A SQLite file that does not exist yet is created; every connection to it uses WAL mode (so
/// readers never wait for the writer) with `synchronous = NORMAL` (a commit does not fsync).
///
/// # Errors
/// When the URL is malformed or the database does not answer.
pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    let url = sqlite_create_if_missing(url);
    let mut options = ConnectOptions::new(url.clone());
    options
        .max_connections(if url.starts_with("sqlite:") { 8 } else { 20 })
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        // Per connection: a `PRAGMA` sent once reaches only the one connection that ran it, and
        // every other connection of the pool would fsync the WAL on each commit (FULL).
        .map_sqlx_sqlite_opts(|options| {
            options
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
        });
    let db =
        Database::connect(options).await.with_context(|| format!("cannot open the database at {}", redact(&url)))?;
    Ok(db)
}

/// The key of the PostgreSQL advisory lock that set-up holds ("PLENARY" in ASCII), shared by
/// every Plenary process on the database.
const SET_UP_LOCK: i64 = 0x0050_4C45_4E41_5259;

/// Applies the migrations that have not run yet.
///
/// # Errors
/// When a migration fails; the message names it.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    set_up(db, async |_| Ok(())).await
}

/// Starts a transaction that will write. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`): a deferred transaction that reads, then writes after another connection
/// committed, fails at once with a busy-snapshot error that no busy timeout waits out (a 500
/// under concurrent use); waiting for the lock at `BEGIN` instead is what SQLite's single
/// writer needs. On PostgreSQL it is a plain `BEGIN`. Every change goes through this.
///
/// # Errors
/// When the database does not answer.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Applies the pending migrations, then runs `setup` (loading reference data, the first
/// account, planning), all in one transaction that no other Plenary process runs at the same
/// time: replicas started together, or upgraded together, wait for each other, and each finds
/// the work of the one before done.
///
/// PostgreSQL serialises on a transaction-level advisory lock (released by the commit, or by
/// the connection closing if the process dies); SQLite on its own write lock, taken at `BEGIN
/// IMMEDIATE`. A database migrated by a newer Plenary is refused by the migrator, which names
/// the migration this build does not know, so an old replica never serves a newer schema.
///
/// # Errors
/// When a migration or `setup` fails (nothing of either is kept), or the database does not
/// answer.
pub async fn set_up<T>(
    db: &DatabaseConnection,
    setup: impl AsyncFnOnce(&DatabaseTransaction) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let txn = begin_write(db).await.context("cannot start setting up the database")?;
    if db.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({SET_UP_LOCK})"))
            .await
            .context("cannot take the set-up lock")?;
    }
    Migrator::up(&txn, None).await.context("migrating the database failed")?;
    let outcome = setup(&txn).await?;
    txn.commit().await.context("cannot commit the set-up of the database")?;
    Ok(outcome)
}

fn sqlite_create_if_missing(url: &str) -> String {
    if url.starts_with("sqlite:") && !url.contains("mode=") && !url.contains(":memory:") {
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}mode=rwc")
    } else {
        url.to_owned()
    }
}

/// The URL without its password, for messages and logs.
#[must_use]
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
