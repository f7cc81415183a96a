//! Moving a whole installation between databases, and backing one up.
//!
//! - [`export`] writes every table (read from the database's catalogue, so none is forgotten)
//!   from one consistent snapshot into one portable file ([`format`]).
//! - [`import`] loads such a file into a new database — SQLite or PostgreSQL, whichever the
//!   source was — in one transaction: it migrates the target, refuses a target that already
//!   holds an installation, replaces what set-up put there (reference data, the first account),
//!   inserts every row with its primary key, moves PostgreSQL's id sequences past the highest
//!   id, and commits only once every table's count and checksum, read back from the target,
//!   match the file.
//! - [`backup`] copies a running SQLite database ([`backup::sqlite`]).

pub mod backup;
pub mod catalogue;
pub mod format;

use std::{
    fs::File,
    io::{BufRead as _, BufReader, BufWriter, Write as _},
    os::unix::fs::OpenOptionsExt as _,
    path::{Path, PathBuf},
};

use anyhow::{Context as _, anyhow, bail};
use flate2::{Compression, read::MultiGzDecoder, write::GzEncoder};
use migration::{Migrator, MigratorTrait as _};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, IsolationLevel, Statement,
    TransactionOptions, TransactionTrait as _,
};

use self::{
    catalogue::Table,
    format::{Checksum, Header, Line, Summary, TableStart, TableSum},
};
use crate::{db, store};

/// Tables that `plenary migrate` (and every start) fills by itself: an import replaces their
/// rows with the file's. Any other row in the target means it already holds an installation.
const SET_UP_TABLES: &[&str] =
    &["seaql_migrations", "states", "memberships", "chairmanships", "venues", "rooms", "bodies", "server_secrets"];

/// Rows per `INSERT`: well below both databases' limits on bound values (32 766 on SQLite,
/// 65 535 on PostgreSQL) for the widest table.
const ROWS_PER_INSERT: usize = 200;

/// An `INSERT` is sent once its rows' lines reach this many bytes, even with fewer than
/// [`ROWS_PER_INSERT`] rows: large documents would otherwise make one statement bigger than
/// PostgreSQL's 1 GB message limit, and held in memory several times over.
const BYTES_PER_INSERT: usize = 32 * 1024 * 1024;

/// What an export or import moved, table by table.
pub struct Report {
    pub tables: Vec<TableSum>,
}

impl Report {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|table| table.rows).sum()
    }

    /// One line per table: name, rows, the start of the checksum, and `note`.
    pub fn table(&self, note: &str) -> String {
        let width = self.tables.iter().map(|table| table.table.len()).max().unwrap_or(5).max(5);
        let mut text = format!("{:<width$}  {:>8}  {:<16}\n", "table", "rows", "sha256");
        for table in &self.tables {
            text.push_str(&format!(
                "{:<width$}  {:>8}  {:<16}  {note}\n",
                table.table,
                table.rows,
                &table.sha256[..16]
            ));
        }
        text
    }
}

/// Opens the database at `url` to read it (export, backup) without ever creating it: a SQLite
/// file that does not exist is refused, and so is a database Plenary never set up.
///
/// # Errors
/// When the database cannot be opened or holds no Plenary installation.
pub async fn open_source(url: &str) -> anyhow::Result<DatabaseConnection> {
    let url = if url.starts_with("sqlite:") && !url.contains("mode=") {
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}mode=rw")
    } else {
        url.to_owned()
    };
    let db = db::connect(&url).await?;
    let tables = catalogue::tables(&db).await.context("cannot read the database's catalogue")?;
    if !tables.iter().any(|table| table.name == "seaql_migrations") {
        bail!("{} is not a Plenary database (it has no seaql_migrations table)", db::redact(&url));
    }
    Ok(db)
}

/// Writes every table of `db` into a new file at `out`, from one snapshot.
///
/// The file is written as `out` with `.partial` appended, readable by its owner only (it holds
/// password hashes, the RSVP signing key and personal data), synced, and only then renamed to
/// `out`: an interrupted export never leaves a file under the final name.
///
/// # Errors
/// When `out` exists or cannot be written, or the database cannot be read; a partly written
/// file is removed.
pub async fn export(db: &DatabaseConnection, out: &Path) -> anyhow::Result<Report> {
    if out.exists() {
        bail!("{} exists already (an existing file is never overwritten)", out.display());
    }
    let mut partial_name = out.as_os_str().to_owned();
    partial_name.push(".partial");
    let partial = PathBuf::from(partial_name);
    let file = File::options()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .with_context(|| format!("cannot create {} (an existing file is never overwritten)", partial.display()))?;
    let written = async {
        let report = write_export(db, file).await?;
        if out.exists() {
            bail!("{} appeared during the export (an existing file is never overwritten)", out.display());
        }
        std::fs::rename(&partial, out).with_context(|| format!("cannot rename the export to {}", out.display()))?;
        sync_directory_of(out)?;
        Ok(report)
    }
    .await;
    if written.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    written
}

/// Syncs the directory holding `file`, so that its new name survives a crash.
fn sync_directory_of(file: &Path) -> anyhow::Result<()> {
    let directory = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(directory)
        .and_then(|directory| directory.sync_all())
        .with_context(|| format!("cannot sync the directory {}", directory.display()))
}

async fn write_export(db: &DatabaseConnection, file: File) -> anyhow::Result<Report> {
    let backend = db.get_database_backend();
    // One snapshot for every table: REPEATABLE READ on PostgreSQL; on SQLite (WAL) a read
    // transaction sees the database as of its first read until it ends.
    let options = match backend {
        DbBackend::Postgres => TransactionOptions {
            isolation_level: Some(IsolationLevel::RepeatableRead),
            access_mode: Some(AccessMode::ReadOnly),
            ..TransactionOptions::default()
        },
        _ => TransactionOptions::default(),
    };
    let txn = db.begin_with_options(options).await.context("cannot start reading the database")?;
    let tables = catalogue::tables(&txn).await.context("cannot read the database's catalogue")?;
    let header = Header {
        format: format::FORMAT.to_owned(),
        version: format::VERSION,
        plenary: env!("CARGO_PKG_VERSION").to_owned(),
        source: if backend == DbBackend::Postgres { "postgres" } else { "sqlite" }.to_owned(),
        exported_at: chrono::Utc::now(),
        migrations: applied_migrations(&txn).await?,
    };
    let mut out = GzEncoder::new(BufWriter::new(file), Compression::default());
    writeln!(out, "{}", serde_json::to_string(&header)?)?;
    let mut sums = Vec::with_capacity(tables.len());
    for table in &tables {
        let start = TableStart::of(table);
        writeln!(out, "{}", serde_json::to_string(&start)?)?;
        let mut checksum = Checksum::start(&start);
        format::for_each_row(&txn, table, |row| {
            let line = serde_json::to_string(&row)?;
            checksum.add(&line);
            writeln!(out, "{line}")?;
            Ok(())
        })
        .await?;
        sums.push(checksum.finish());
    }
    txn.commit().await?;
    writeln!(out, "{}", serde_json::to_string(&Summary { summary: sums.clone() })?)?;
    out.finish()?.into_inner().map_err(|error| error.into_error())?.sync_all()?;
    Ok(Report { tables: sums })
}

async fn applied_migrations(db: &impl ConnectionTrait) -> anyhow::Result<Vec<String>> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM seaql_migrations ORDER BY version",
        ))
        .await
        .context("cannot read which migrations the database has")?;
    rows.iter().map(|row| Ok(row.try_get_by_index::<String>(0)?)).collect()
}

/// Loads the export at `from` into `db`, all or nothing.
///
/// # Errors
/// When the file is not a complete, unaltered export of the migrations this binary knows, when
/// the target already holds an installation, or when any row cannot be stored; the target is
/// then left as it was.
pub async fn import(db: &DatabaseConnection, from: &Path) -> anyhow::Result<Report> {
    let file = File::open(from).with_context(|| format!("cannot open {}", from.display()))?;
    // Every gzip member, so a second file appended to an export is read (and refused below)
    // instead of silently ignored.
    let mut lines = BufReader::new(MultiGzDecoder::new(file)).lines().enumerate();
    let mut next_line = move || -> anyhow::Result<Option<(usize, Line)>> {
        match lines.next() {
            None => Ok(None),
            Some((index, text)) => {
                let text = text.with_context(|| format!("cannot read line {} of the file", index + 1))?;
                Ok(Some((index + 1, Line::parse(&text, index + 1)?)))
            }
        }
    };
    let Some((_, Line::Header(header))) = next_line()? else {
        bail!("the file does not start like a Plenary export (it should come from plenary export)");
    };
    format::check_header(&header)?;
    check_migrations(&header.migrations)?;
    db::set_up(db, async |txn| {
        let tables = catalogue::tables(txn).await?;
        refuse_an_installation(txn, &tables).await?;
        for table in tables.iter().rev() {
            txn.execute_unprepared(&format!("DELETE FROM {}", format::quote(&table.name))).await?;
        }
        let from_file = insert_all(txn, &tables, &mut next_line).await?;
        let mut sums = Vec::with_capacity(tables.len());
        for table in &tables {
            let start = TableStart::of(table);
            let mut checksum = Checksum::start(&start);
            format::for_each_row(txn, table, |row| {
                checksum.add(&serde_json::to_string(&row)?);
                Ok(())
            })
            .await?;
            let stored = checksum.finish();
            let expected = from_file.iter().find(|sum| sum.table == table.name).expect("every table was loaded");
            if stored != *expected {
                bail!(
                    "table {} reads back as {} rows with checksum {} but the file has {} rows with checksum {}",
                    table.name,
                    stored.rows,
                    stored.sha256,
                    expected.rows,
                    expected.sha256
                );
            }
            sums.push(stored);
        }
        if txn.get_database_backend() == DbBackend::Postgres {
            move_sequences_past_ids(txn, &tables).await?;
        }
        Ok(Report { tables: sums })
    })
    .await
}

/// The file's migrations must be exactly this binary's: rows of another schema cannot be
/// loaded faithfully.
fn check_migrations(in_file: &[String]) -> anyhow::Result<()> {
    let known: Vec<String> = Migrator::migrations().iter().map(|migration| migration.name().to_owned()).collect();
    let unknown: Vec<_> = in_file.iter().filter(|name| !known.contains(name)).cloned().collect();
    if !unknown.is_empty() {
        bail!(
            "the file was exported from a database with migrations this plenary does not know ({}): \
             import it with the plenary version that exported it, or a newer one",
            unknown.join(", ")
        );
    }
    let missing: Vec<_> = known.iter().filter(|name| !in_file.contains(name)).cloned().collect();
    if !missing.is_empty() {
        bail!(
            "the file was exported by an older plenary, before the migrations {}: run this plenary's \
             `plenary migrate` on the source database, export again, and import that file",
            missing.join(", ")
        );
    }
    Ok(())
}

async fn refuse_an_installation(txn: &DatabaseTransaction, tables: &[Table]) -> anyhow::Result<()> {
    let mut found = Vec::new();
    for table in tables.iter().filter(|table| !SET_UP_TABLES.contains(&table.name.as_str())) {
        let count = count_rows(txn, &table.name).await?;
        let first_organiser_only =
            table.name == "users" && count == 1 && store::users::only_the_first_organiser(txn).await?;
        if count > 0 && !first_organiser_only {
            found.push(format!("{count} in {}", table.name));
        }
    }
    if !found.is_empty() {
        bail!(
            "the target database already holds an installation (rows: {}): import only into a new, empty \
             database (one that at most `plenary migrate` has prepared)",
            found.join(", ")
        );
    }
    Ok(())
}

async fn count_rows(db: &impl ConnectionTrait, table: &str) -> anyhow::Result<i64> {
    let sql = format!("SELECT COUNT(*) FROM {}", format::quote(table));
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .ok_or_else(|| anyhow!("COUNT(*) gave no row"))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// Inserts the file's tables, which must come in an order the foreign keys allow and match the
/// target's tables and columns, and returns their counts and checksums as computed from the
/// lines read — after checking them against the file's summary, so a changed or cut file is
/// refused.
async fn insert_all(
    txn: &DatabaseTransaction,
    tables: &[Table],
    next_line: &mut impl FnMut() -> anyhow::Result<Option<(usize, Line)>>,
) -> anyhow::Result<Vec<TableSum>> {
    let mut loaded: Vec<TableSum> = Vec::with_capacity(tables.len());
    let mut current: Option<(&Table, Checksum, Vec<Vec<serde_json::Value>>)> = None;
    let mut batch_bytes = 0;
    let summary = loop {
        let Some((number, line)) = next_line()? else {
            bail!("the file ends before its summary: it is incomplete (was the export interrupted?)");
        };
        match line {
            Line::Row(row) => {
                let Some((table, checksum, batch)) = current.as_mut() else {
                    bail!("line {number} of the file is a row outside any table");
                };
                if row.len() != table.columns.len() {
                    bail!(
                        "line {number} of the file has {} values; {} has {} columns",
                        row.len(),
                        table.name,
                        table.columns.len()
                    );
                }
                let line = serde_json::to_string(&row)?;
                checksum.add(&line);
                batch_bytes += line.len();
                batch.push(row);
                if batch.len() == ROWS_PER_INSERT || batch_bytes >= BYTES_PER_INSERT {
                    insert(txn, table, batch).await?;
                    batch.clear();
                    batch_bytes = 0;
                }
            }
            Line::Table(start) => {
                if let Some((table, checksum, batch)) = current.take() {
                    insert(txn, table, &batch).await?;
                    loaded.push(checksum.finish());
                }
                batch_bytes = 0;
                let table = matching_table(tables, &start, &loaded)?;
                current = Some((table, Checksum::start(&start), Vec::new()));
            }
            Line::Summary(summary) => break summary,
            Line::Header(_) => bail!("line {number} of the file is a second header"),
        }
    };
    if let Some((number, _)) = next_line()? {
        bail!("line {number} of the file comes after its summary: the file was changed or another was appended to it");
    }
    if let Some((table, checksum, batch)) = current.take() {
        insert(txn, table, &batch).await?;
        loaded.push(checksum.finish());
    }
    if let Some(missing) = tables.iter().find(|table| !loaded.iter().any(|sum| sum.table == table.name)) {
        bail!("the file holds no table {}, which this database has", missing.name);
    }
    for sum in &loaded {
        match summary.summary.iter().find(|listed| listed.table == sum.table) {
            Some(listed) if listed == sum => {}
            Some(listed) => bail!(
                "the file's rows of {} do not match its summary ({} rows, checksum {}; the summary says {} rows, \
                 checksum {}): the file was changed or damaged after the export",
                sum.table,
                sum.rows,
                sum.sha256,
                listed.rows,
                listed.sha256
            ),
            None => bail!("the file's summary does not list the table {}", sum.table),
        }
    }
    if summary.summary.len() != loaded.len() {
        bail!("the file's summary lists tables the file does not hold");
    }
    Ok(loaded)
}

/// The target's table that `start` opens, checked: it exists, has the same columns of the same
/// kinds, is not loaded twice, and every table it references is loaded already.
fn matching_table<'t>(tables: &'t [Table], start: &TableStart, loaded: &[TableSum]) -> anyhow::Result<&'t Table> {
    let table = tables
        .iter()
        .find(|table| table.name == start.table)
        .ok_or_else(|| anyhow!("the file holds a table {} that this database does not have", start.table))?;
    if TableStart::of(table).columns != start.columns {
        bail!(
            "the columns of {} in the file ({:?}) differ from this database's ({:?})",
            table.name,
            start.columns,
            TableStart::of(table).columns
        );
    }
    if loaded.iter().any(|sum| sum.table == table.name) {
        bail!("the file holds the table {} twice", table.name);
    }
    if let Some(parent) = table.references.iter().find(|parent| !loaded.iter().any(|sum| sum.table == **parent)) {
        bail!("the file holds {} before {}, which it references", table.name, parent);
    }
    Ok(table)
}

async fn insert(txn: &DatabaseTransaction, table: &Table, rows: &[Vec<serde_json::Value>]) -> anyhow::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let backend = txn.get_database_backend();
    let columns: Vec<_> = table.columns.iter().map(|column| format::quote(&column.name)).collect();
    let mut values = Vec::with_capacity(rows.len() * columns.len());
    let mut tuples = Vec::with_capacity(rows.len());
    for row in rows {
        let mut placeholders = Vec::with_capacity(columns.len());
        for (value, column) in row.iter().zip(&table.columns) {
            values
                .push(format::bind(value, column.storage).with_context(|| {
                    format!("the file's value {value} does not fit {}.{}", table.name, column.name)
                })?);
            placeholders.push(match backend {
                DbBackend::Postgres => format!("${}", values.len()),
                _ => "?".to_owned(),
            });
        }
        tuples.push(format!("({})", placeholders.join(", ")));
    }
    let sql =
        format!("INSERT INTO {} ({}) VALUES {}", format::quote(&table.name), columns.join(", "), tuples.join(", "));
    txn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .with_context(|| format!("cannot store the rows of {}", table.name))?;
    Ok(())
}

/// Rows inserted with their ids leave PostgreSQL's sequences where they were: moves each one
/// just past its column's highest id, so the next row created does not collide.
async fn move_sequences_past_ids(txn: &DatabaseTransaction, tables: &[Table]) -> anyhow::Result<()> {
    for table in tables {
        for column in &table.columns {
            if column.storage.kind() != catalogue::Kind::Integer {
                continue;
            }
            let sequence = txn
                .query_one_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_get_serial_sequence($1, $2)",
                    [format::quote(&table.name).into(), column.name.clone().into()],
                ))
                .await?
                .and_then(|row| row.try_get_by_index::<Option<String>>(0).ok().flatten());
            if let Some(sequence) = sequence {
                let sql = format!(
                    "SELECT setval($1::regclass, COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)",
                    column = format::quote(&column.name),
                    table = format::quote(&table.name)
                );
                txn.execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [sequence.into()]))
                    .await
                    .with_context(|| format!("cannot move the sequence of {}.{}", table.name, column.name))?;
            }
        }
    }
    Ok(())
}
