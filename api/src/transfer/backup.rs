//! `plenary backup`: a consistent copy of a SQLite database while the service runs and writes.
//!
//! `VACUUM INTO` copies from one read transaction, so the copy is the database as of one
//! instant, never a torn mix; writers go on meanwhile (WAL mode). The copy is then opened on
//! its own and checked with `PRAGMA integrity_check` before it is reported as written.
//! PostgreSQL has its own tools for this (`pg_dump -Fc`, see the README's "Backups").

use std::{fs::File, os::unix::fs::OpenOptionsExt as _, path::Path};

use anyhow::{Context as _, bail};
use sea_orm::{
    ConnectionTrait as _, DatabaseConnection, DbBackend, SqlxSqliteConnector, Statement,
    sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions},
};

use super::catalogue;

/// What a backup wrote.
pub struct Backup {
    pub bytes: u64,
    /// Each table and its rows, as read from the copy.
    pub tables: Vec<(String, i64)>,
}

/// Copies the SQLite database behind `db` into a new file at `out`.
///
/// # Errors
/// On PostgreSQL (with the procedure to use instead), when `out` exists, or when the copy
/// cannot be written or fails its integrity check (it is then removed).
pub async fn sqlite(db: &DatabaseConnection, out: &Path) -> anyhow::Result<Backup> {
    if db.get_database_backend() == DbBackend::Postgres {
        bail!(
            "plenary backup copies SQLite databases; back up PostgreSQL with its own tools: \
             `pg_dump -Fc` and `pg_restore` as the README describes under \"Backups\" (or move the \
             installation with `plenary export`)"
        );
    }
    if out.exists() {
        bail!("{} exists already: choose a new file name (a backup never overwrites)", out.display());
    }
    // An empty file of the owner's only, created first: the copy holds password hashes, the
    // RSVP signing key and personal data, and VACUUM INTO writes into an existing empty file.
    File::options()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(out)
        .with_context(|| format!("cannot create {} (a backup never overwrites an existing file)", out.display()))?;
    let copied = copy_and_check(db, out).await;
    if copied.is_err() {
        let _ = std::fs::remove_file(out);
    }
    copied
}

/// Copies into the empty file `out`, checks the copy and syncs it and its directory.
async fn copy_and_check(db: &DatabaseConnection, out: &Path) -> anyhow::Result<Backup> {
    let target = out.to_str().with_context(|| format!("{} is not a UTF-8 path", out.display()))?;
    db.execute_raw(Statement::from_sql_and_values(DbBackend::Sqlite, "VACUUM INTO ?", [target.into()]))
        .await
        .with_context(|| format!("cannot write the backup to {}", out.display()))?;
    let tables = check(out).await.map_err(|error| {
        error.context(format!("the backup failed its check and was removed from {}", out.display()))
    })?;
    File::open(out)
        .and_then(|file| file.sync_all())
        .with_context(|| format!("cannot sync the backup {}", out.display()))?;
    super::sync_directory_of(out)?;
    Ok(Backup { bytes: std::fs::metadata(out)?.len(), tables })
}

/// Opens the copy read-only, runs SQLite's integrity check and counts each table's rows.
async fn check(copy: &Path) -> anyhow::Result<Vec<(String, i64)>> {
    // Options rather than a URL: `?`, `#` or `%` in the file's name must not change its meaning.
    let options = SqliteConnectOptions::new().filename(copy).read_only(true);
    let pool =
        SqlitePoolOptions::new().max_connections(1).connect_with(options).await.context("cannot open the copy")?;
    let db = SqlxSqliteConnector::from_sqlx_sqlite_pool(pool);
    let verdict = db
        .query_all_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA integrity_check"))
        .await?
        .iter()
        .map(|row| row.try_get_by_index::<String>(0))
        .collect::<Result<Vec<_>, _>>()?;
    if verdict != ["ok"] {
        bail!("PRAGMA integrity_check says: {}", verdict.join("; "));
    }
    let mut tables = Vec::new();
    for table in catalogue::tables(&db).await? {
        let count = super::count_rows(&db, &table.name).await?;
        tables.push((table.name, count));
    }
    db.close().await?;
    Ok(tables)
}
