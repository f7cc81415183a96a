//! The database: connecting (SQLite or PostgreSQL from one URL), migrating, and the entities.

pub mod entities;
pub mod enums;
mod meeting_ext;

use std::time::Duration;

use anyhow::Context as _;
use migration::{Migrator, MigratorTrait as _};
use sea_orm::{ConnectOptions, ConnectionTrait as _, Database, DatabaseConnection, DbBackend};

/// Opens a pool on `url` (`sqlite://file.db` or `postgres://...`).
///
/// A SQLite file that does not exist yet is created, and is put in WAL mode so readers never
/// wait for the writer.
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
        .sqlx_logging(false);
    let db =
        Database::connect(options).await.with_context(|| format!("cannot open the database at {}", redact(&url)))?;
    if db.get_database_backend() == DbBackend::Sqlite {
        db.execute_unprepared("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
            .await
            .context("cannot switch SQLite to WAL mode")?;
    }
    Ok(db)
}

/// Applies the migrations that have not run yet.
///
/// # Errors
/// When a migration fails; the message names it.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await.context("migrating the database failed")
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
