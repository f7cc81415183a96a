//! `plenary backup`: a consistent copy of a SQLite database while the service runs and writes.
//!
//! `VACUUM INTO` copies from one read transaction, so the copy is the database as of one
//! instant, never a torn mix; writers go on meanwhile (WAL mode). The copy is then opened on
//! its own and checked with `PRAGMA integrity_check` before it is reported as written.
//! PostgreSQL has its own tools for this (`pg_dump -Fc`, see the README's "Backups").

use std::path::Path;

use anyhow::{Context as _, bail};
use sea_orm::{ConnectionTrait as _, Database, DatabaseConnection, DbBackend, Statement};

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
    let target = out.to_str().with_context(|| format!("{} is not a UTF-8 path", out.display()))?;
    db.execute_raw(Statement::from_sql_and_values(DbBackend::Sqlite, "VACUUM INTO ?", [target.into()]))
        .await
        .with_context(|| format!("cannot write the backup to {}", out.display()))?;
    match check(out).await {
        Ok(tables) => Ok(Backup { bytes: std::fs::metadata(out)?.len(), tables }),
        Err(error) => {
            let _ = std::fs::remove_file(out);
            Err(error.context(format!("the backup failed its check and was removed from {}", out.display())))
        }
    }
}

/// Opens the copy read-only, runs SQLite's integrity check and counts each table's rows.
async fn check(copy: &Path) -> anyhow::Result<Vec<(String, i64)>> {
    let db = Database::connect(format!("sqlite://{}?mode=ro", copy.display())).await.context("cannot open the copy")?;
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
