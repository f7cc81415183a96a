//! The database: connecting (SQLite or PostgreSQL from one URL), migrating and setting up under
//! one lock, telling an unreachable database from a refused statement ([`is_unavailable`]), and
//! the entities.

pub mod entities;
pub mod enums;
mod meeting_ext;

use std::{
    sync::atomic::{AtomicI64, Ordering},
    time::Duration,
};

use anyhow::Context as _;
use migration::{Migrator, MigratorTrait as _};
use sea_orm::{
    ConnectOptions, ConnectionTrait as _, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    RuntimeErr, SqliteTransactionMode, TransactionOptions, TransactionTrait as _, sqlx,
};

/// How long [`connect`] waits for a connection: `--database-timeout-ms`'s default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens a pool on `url` (`sqlite://file.db` or `postgres://...`) that waits at most
/// [`DEFAULT_TIMEOUT`] for a connection.
///
/// # Errors
/// When the URL is malformed or the database does not answer.
pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    connect_with_timeout(url, DEFAULT_TIMEOUT).await
}

/// Opens a pool on `url` (`sqlite://file.db` or `postgres://...`).
///
/// Getting a connection from the pool, opening one included, waits at most `timeout`: while
/// the database is down every query fails after that wait with an error [`is_unavailable`]
/// recognises, rather than hanging (the pool keeps retrying a refused connection until then).
/// A SQLite file that does not exist yet is created; every connection to it uses WAL mode (so
/// readers never wait for the writer) with `synchronous = NORMAL` (a commit does not fsync).
///
/// # Errors
/// When the URL is malformed or the database does not answer.
pub async fn connect_with_timeout(url: &str, timeout: Duration) -> anyhow::Result<DatabaseConnection> {
    let url = sqlite_create_if_missing(url);
    let mut options = ConnectOptions::new(url.clone());
    options
        .max_connections(if url.starts_with("sqlite:") { 8 } else { 20 })
        .min_connections(1)
        .connect_timeout(timeout)
        .acquire_timeout(timeout)
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

/// Whether `error` says the database cannot be reached right now (no connection within the
/// timeout, a refused or broken connection, PostgreSQL shutting down or starting up), as opposed
/// to refusing a statement. Such a failure is temporary: requests answer 503 and background jobs
/// pause, instead of a 500 or giving up.
#[must_use]
pub fn is_unavailable(error: &DbErr) -> bool {
    match error {
        DbErr::ConnectionAcquire(_) => true,
        // Opening or pinging a connection failed; or the pool is gone.
        DbErr::Conn(RuntimeErr::SqlxError(_)) => true,
        DbErr::Conn(RuntimeErr::Internal(message)) => message == "Disconnected",
        DbErr::Exec(RuntimeErr::SqlxError(error)) | DbErr::Query(RuntimeErr::SqlxError(error)) => {
            sqlx_unavailable(error)
        }
        _ => false,
    }
}

/// [`is_unavailable`] for an error that may carry a [`DbErr`] anywhere in its chain of causes.
#[must_use]
pub fn is_unavailable_cause(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.downcast_ref::<DbErr>().is_some_and(is_unavailable))
}

fn sqlx_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(error) => error.code().is_some_and(|code| unavailable_sqlstate(&code)),
        _ => false,
    }
}

/// PostgreSQL's codes for a connection that failed or that the server is ending: class 08
/// (connection exception), `57P01` admin shutdown (`pg_ctl stop -m fast`), `57P02` crash
/// shutdown, `57P03` cannot connect now (starting up or shutting down), `53300` too many
/// connections.
fn unavailable_sqlstate(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}

/// Logs that a request found the database unreachable: at most one line a minute for the whole
/// process, so an outage under load is one line per minute rather than one per request.
pub fn log_unavailable(error: &anyhow::Error) {
    static LAST_LOGGED_MS: AtomicI64 = AtomicI64::new(0);
    let now = chrono::Utc::now().timestamp_millis();
    let last = LAST_LOGGED_MS.load(Ordering::Relaxed);
    if now - last >= 60_000 && LAST_LOGGED_MS.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    {
        tracing::warn!(
            error = format!("{error:#}"),
            "the database cannot be reached: requests answer 503 until it can"
        );
    } else {
        tracing::debug!(error = format!("{error:#}"), "the database cannot be reached");
    }
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sea_orm::ConnAcquireErr;

    use super::*;

    #[test]
    fn an_unreachable_database_is_told_apart_from_a_refused_statement() {
        let io = |kind| DbErr::Query(RuntimeErr::SqlxError(Arc::new(sqlx::Error::Io(std::io::Error::from(kind)))));
        assert!(is_unavailable(&DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)));
        assert!(is_unavailable(&io(std::io::ErrorKind::ConnectionRefused)));
        assert!(is_unavailable(&io(std::io::ErrorKind::UnexpectedEof)));
        assert!(is_unavailable(&DbErr::Conn(RuntimeErr::Internal("Disconnected".into()))));
        assert!(!is_unavailable(&DbErr::Query(RuntimeErr::SqlxError(Arc::new(sqlx::Error::RowNotFound)))));
        assert!(!is_unavailable(&DbErr::RecordNotFound("meeting 1".into())));
        let wrapped = anyhow::Error::from(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)).context("loading");
        assert!(is_unavailable_cause(&wrapped.context("the page")));
        assert!(!is_unavailable_cause(&anyhow::anyhow!("meeting 1 has an unknown body")));
    }

    #[test]
    fn postgres_ending_or_refusing_connections_counts_as_unavailable() {
        for code in ["57P01", "57P02", "57P03", "08006", "08001", "53300"] {
            assert!(unavailable_sqlstate(code), "{code}");
        }
        for code in ["23505", "40001", "42P01"] {
            assert!(!unavailable_sqlstate(code), "{code}");
        }
    }
}
