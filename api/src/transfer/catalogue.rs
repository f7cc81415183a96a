//! What tables the database holds, read from its own catalogue (`sqlite_master` and
//! `pragma_table_info` on SQLite, `information_schema` and `pg_constraint` on PostgreSQL), never
//! from a list in the code: a table a future migration adds is exported without anyone
//! remembering to add it here.
//!
//! Each column gets a portable [`Kind`] (what the export file holds) and a [`Storage`] (how this
//! backend reads and binds it): an `integer` and a `bigint` id are both integers in the file,
//! whichever database wrote it.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context as _, bail};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

/// One table: its columns in canonical order (by name, so two databases whose migrations
/// appended columns in a different physical order still agree), its primary key, and the
/// tables its foreign keys point at.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    /// Names of the primary key's columns, in canonical order.
    pub primary_key: Vec<String>,
    /// Other tables this one references.
    pub references: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub storage: Storage,
}

/// The portable type of a column, as the export file names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Integer,
    Real,
    Boolean,
    Text,
    /// Base64 in the file.
    Bytes,
    /// An instant: RFC 3339 in UTC, to the microsecond (PostgreSQL's precision).
    Timestamp,
    /// A wall-clock date and time without zone.
    DateTime,
    Date,
    /// A JSON document, in the file as its compact text.
    Json,
}

/// How this backend stores a column: what Rust type reads it and what value binds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    Text,
    Bytes,
    Timestamp,
    DateTime,
    Date,
    Json,
}

impl Storage {
    pub fn kind(self) -> Kind {
        match self {
            Self::Int16 | Self::Int32 | Self::Int64 => Kind::Integer,
            Self::Float32 | Self::Float64 => Kind::Real,
            Self::Boolean => Kind::Boolean,
            Self::Text => Kind::Text,
            Self::Bytes => Kind::Bytes,
            Self::Timestamp => Kind::Timestamp,
            Self::DateTime => Kind::DateTime,
            Self::Date => Kind::Date,
            Self::Json => Kind::Json,
        }
    }

    /// The storage of a SQLite column by its declared type (what sea-query writes in `CREATE
    /// TABLE`: `integer`, `varchar(2)`, `timestamp_with_timezone_text`, `date_text`, …).
    fn sqlite(declared: &str) -> Option<Self> {
        let declared = declared.to_ascii_lowercase();
        let storage = match declared.as_str() {
            "boolean" | "bool" => Self::Boolean,
            "timestamp_with_timezone_text" | "timestamp with time zone" | "timestamptz" => Self::Timestamp,
            "datetime_text" | "timestamp_text" | "datetime" | "timestamp" => Self::DateTime,
            "date_text" | "date" => Self::Date,
            "json_text" | "jsonb_text" | "json" | "jsonb" => Self::Json,
            "blob" | "bytea" => Self::Bytes,
            // SQLite's own affinity rules, in its order.
            other if other.contains("int") => Self::Int64,
            other if other.contains("char") || other.contains("clob") || other.contains("text") => Self::Text,
            other if other.contains("real") || other.contains("floa") || other.contains("doub") => Self::Float64,
            other if other.starts_with("binary") || other.starts_with("varbinary") => Self::Bytes,
            _ => return None,
        };
        Some(storage)
    }

    /// The storage of a PostgreSQL column by `information_schema.columns.data_type`.
    fn postgres(data_type: &str) -> Option<Self> {
        let storage = match data_type {
            "smallint" => Self::Int16,
            "integer" => Self::Int32,
            "bigint" => Self::Int64,
            "real" => Self::Float32,
            "double precision" => Self::Float64,
            "boolean" => Self::Boolean,
            "text" | "character varying" | "character" => Self::Text,
            "bytea" => Self::Bytes,
            "timestamp with time zone" => Self::Timestamp,
            "timestamp without time zone" => Self::DateTime,
            "date" => Self::Date,
            "json" | "jsonb" => Self::Json,
            _ => return None,
        };
        Some(storage)
    }
}

/// Every table of the database, parents before the tables that reference them (ties broken by
/// name), so inserting in this order never breaks a foreign key and deleting in reverse never
/// leaves an orphan.
///
/// # Errors
/// When the catalogue cannot be read, a column has a type the export cannot carry, or the
/// foreign keys form a cycle.
pub async fn tables(db: &impl ConnectionTrait) -> anyhow::Result<Vec<Table>> {
    let backend = db.get_database_backend();
    let mut tables = BTreeMap::new();
    for name in table_names(db).await? {
        let table = match backend {
            DbBackend::Postgres => postgres_table(db, name).await?,
            _ => sqlite_table(db, name).await?,
        };
        tables.insert(table.name.clone(), table);
    }
    in_dependency_order(tables)
}

async fn table_names(db: &impl ConnectionTrait) -> anyhow::Result<Vec<String>> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
        // `sqlite_sequence` and `sqlite_stat*` are SQLite's own bookkeeping.
        _ => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    };
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await?;
    rows.iter().map(|row| Ok(row.try_get_by_index::<String>(0)?)).collect()
}

async fn sqlite_table(db: &impl ConnectionTrait, name: String) -> anyhow::Result<Table> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT name, type, pk FROM pragma_table_info(?)",
            [name.clone().into()],
        ))
        .await?;
    let mut columns = Vec::new();
    let mut primary_key = Vec::new();
    for row in &rows {
        let column: String = row.try_get_by_index(0)?;
        let declared: String = row.try_get_by_index(1)?;
        let storage = Storage::sqlite(&declared).with_context(|| unknown_type(&name, &column, &declared))?;
        if row.try_get_by_index::<i64>(2)? > 0 {
            primary_key.push(column.clone());
        }
        columns.push(Column { name: column, storage });
    }
    let references = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?)",
            [name.clone().into()],
        ))
        .await?
        .iter()
        .map(|row| row.try_get_by_index::<String>(0))
        .collect::<Result<_, _>>()?;
    Ok(Table::new(name, columns, primary_key, references))
}

async fn postgres_table(db: &impl ConnectionTrait, name: String) -> anyhow::Result<Table> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1",
            [name.clone().into()],
        ))
        .await?;
    let mut columns = Vec::new();
    for row in &rows {
        let column: String = row.try_get_by_index(0)?;
        let data_type: String = row.try_get_by_index(1)?;
        let storage = Storage::postgres(&data_type).with_context(|| unknown_type(&name, &column, &data_type))?;
        columns.push(Column { name: column, storage });
    }
    let primary_key = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT a.attname::text FROM pg_index i \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
             WHERE i.indrelid = quote_ident($1)::regclass AND i.indisprimary",
            [name.clone().into()],
        ))
        .await?
        .iter()
        .map(|row| row.try_get_by_index::<String>(0))
        .collect::<Result<_, _>>()?;
    let references = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT DISTINCT referenced.relname::text FROM pg_constraint c \
             JOIN pg_class referenced ON referenced.oid = c.confrelid \
             WHERE c.contype = 'f' AND c.conrelid = quote_ident($1)::regclass",
            [name.clone().into()],
        ))
        .await?
        .iter()
        .map(|row| row.try_get_by_index::<String>(0))
        .collect::<Result<_, _>>()?;
    Ok(Table::new(name, columns, primary_key, references))
}

fn unknown_type(table: &str, column: &str, declared: &str) -> String {
    format!("column {table}.{column} has the type {declared:?}, which plenary export does not know how to carry")
}

impl Table {
    fn new(name: String, mut columns: Vec<Column>, mut primary_key: Vec<String>, references: BTreeSet<String>) -> Self {
        columns.sort_by(|a, b| a.name.cmp(&b.name));
        primary_key.sort();
        let references = references.into_iter().filter(|referenced| *referenced != name).collect();
        Self { name, columns, primary_key, references }
    }

    /// The positions of the primary key's columns in [`Table::columns`].
    pub fn key_positions(&self) -> Vec<usize> {
        self.primary_key.iter().filter_map(|key| self.columns.iter().position(|column| column.name == *key)).collect()
    }
}

fn in_dependency_order(mut remaining: BTreeMap<String, Table>) -> anyhow::Result<Vec<Table>> {
    let mut ordered: Vec<Table> = Vec::with_capacity(remaining.len());
    while !remaining.is_empty() {
        let ready = remaining
            .values()
            .find(|table| table.references.iter().all(|parent| ordered.iter().any(|done| done.name == *parent)))
            .map(|table| table.name.clone());
        let Some(ready) = ready else {
            let names: Vec<_> = remaining.keys().cloned().collect();
            bail!("the foreign keys between these tables form a cycle: {}", names.join(", "));
        };
        ordered.push(remaining.remove(&ready).expect("the table just found"));
    }
    Ok(ordered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_databases_name_the_same_kinds_for_what_the_migrations_create() {
        let pairs = [
            ("INTEGER", "integer"),
            ("INTEGER", "bigint"),
            ("varchar(2)", "character varying"),
            ("TEXT", "text"),
            ("boolean", "boolean"),
            ("timestamp_with_timezone_text", "timestamp with time zone"),
            ("date_text", "date"),
            ("BLOB", "bytea"),
            ("json_text", "jsonb"),
            ("double", "double precision"),
        ];
        for (sqlite, postgres) in pairs {
            let (sqlite_kind, postgres_kind) =
                (Storage::sqlite(sqlite).map(Storage::kind), Storage::postgres(postgres).map(Storage::kind));
            assert!(sqlite_kind.is_some() && sqlite_kind == postgres_kind, "{sqlite} / {postgres}");
        }
        assert_eq!(Storage::sqlite("decimal(10, 2)"), None, "an unknown type is refused, never guessed");
        assert_eq!(Storage::postgres("numeric"), None);
    }

    fn table(name: &str, references: &[&str]) -> Table {
        Table::new(name.into(), Vec::new(), Vec::new(), references.iter().map(|&parent| parent.into()).collect())
    }

    #[test]
    fn parents_come_before_the_tables_that_reference_them_and_a_cycle_is_refused() {
        let tables = [
            table("registrations", &["meetings", "states"]),
            table("meetings", &["bodies"]),
            table("states", &[]),
            table("bodies", &[]),
            table("users", &["users"]),
        ];
        let ordered =
            in_dependency_order(tables.into_iter().map(|table| (table.name.clone(), table)).collect()).unwrap();
        let names: Vec<_> = ordered.iter().map(|table| table.name.as_str()).collect();
        assert_eq!(names, ["bodies", "meetings", "states", "registrations", "users"]);

        let cycle = [table("a", &["b"]), table("b", &["a"])];
        let refused = in_dependency_order(cycle.into_iter().map(|table| (table.name.clone(), table)).collect());
        assert!(refused.unwrap_err().to_string().contains("cycle"));
    }
}
