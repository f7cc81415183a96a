//! The export file: gzipped JSON Lines, readable with `zcat | jq`.
//!
//! ```text
//! {"format":"plenary-export","version":1,"plenary":"0.1.0","source":"sqlite","exported_at":"…","migrations":["m2026…",…]}
//! {"table":"states","columns":[["iso2","text"],["name_en","text"],…]}
//! ["AT","Austria",…]                         one line per row, values in the columns' order
//! …                                          every table, parents before children
//! {"summary":[{"table":"states","rows":68,"sha256":"…"},…]}
//! ```
//!
//! Values are portable: integers and reals as JSON numbers, booleans, text, bytes in base64,
//! instants in RFC 3339 UTC to the microsecond, dates as `YYYY-MM-DD`, JSON documents as their
//! compact text, NULL as `null`. A table's checksum is the SHA-256 of its columns line followed
//! by its rows' lines in canonical order (sorted by primary key, text by its bytes), each ending in `\n`, so the
//! same data gives the same checksum whichever database it was read from.

use std::cmp::Ordering;

use anyhow::{Context as _, anyhow, bail};
use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use chrono::{DateTime, NaiveDate, NaiveDateTime, SubsecRound as _, Utc};
use futures::TryStreamExt as _;
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, StreamTrait, Value as Bound};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::catalogue::{Kind, Storage, Table};

/// What the first line says the file is.
pub const FORMAT: &str = "plenary-export";
/// Raised when a reader of an older version could no longer understand the file.
pub const VERSION: u32 = 1;

/// The first line.
#[derive(Debug, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    /// The Plenary version that wrote it.
    pub plenary: String,
    /// `sqlite` or `postgres`.
    pub source: String,
    pub exported_at: DateTime<Utc>,
    /// The migrations applied to the source, in order.
    pub migrations: Vec<String>,
}

/// The line that opens a table's rows.
#[derive(Debug, Serialize, Deserialize)]
pub struct TableStart {
    pub table: String,
    /// `[name, kind]` pairs in canonical order.
    pub columns: Vec<(String, Kind)>,
}

/// The last line.
#[derive(Debug, Serialize, Deserialize)]
pub struct Summary {
    pub summary: Vec<TableSum>,
}

/// A table's count and checksum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSum {
    pub table: String,
    pub rows: u64,
    pub sha256: String,
}

impl TableStart {
    pub fn of(table: &Table) -> Self {
        Self {
            table: table.name.clone(),
            columns: table.columns.iter().map(|column| (column.name.clone(), column.storage.kind())).collect(),
        }
    }

    /// The line the checksum starts with: the columns, not the table's name.
    fn checksum_line(&self) -> String {
        serde_json::to_string(&self.columns).expect("columns serialise")
    }
}

/// Counts and hashes one table's lines as they go by.
pub struct Checksum {
    table: String,
    rows: u64,
    hasher: Sha256,
}

impl Checksum {
    pub fn start(table: &TableStart) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(table.checksum_line());
        hasher.update(b"\n");
        Self { table: table.table.clone(), rows: 0, hasher }
    }

    /// Adds a row, as the compact JSON line it is written as.
    pub fn add(&mut self, line: &str) {
        self.rows += 1;
        self.hasher.update(line);
        self.hasher.update(b"\n");
    }

    pub fn finish(self) -> TableSum {
        let digest = self.hasher.finalize();
        TableSum {
            table: self.table,
            rows: self.rows,
            sha256: digest.iter().map(|byte| format!("{byte:02x}")).collect(),
        }
    }
}

/// Hands every row of `table`, as portable values in canonical order, to `each` as it arrives
/// from the database: a table is never held in memory whole.
///
/// The database sorts by the primary key (by every column for a table without one), text by its
/// bytes on both (`COLLATE "C"` on PostgreSQL; SQLite's BINARY already is), and each row is
/// checked to follow the one before in [`compare`]'s order, so the checksum cannot depend on
/// which database the rows came from.
///
/// # Errors
/// When the database does not answer, holds a value its column's type cannot, or returns rows
/// out of canonical order; and whatever `each` returns.
pub async fn for_each_row<C: ConnectionTrait + StreamTrait>(
    db: &C,
    table: &Table,
    mut each: impl FnMut(Vec<Value>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let backend = ConnectionTrait::get_database_backend(db);
    let columns: Vec<_> = table.columns.iter().map(|column| quote(&column.name)).collect();
    let mut order = table.key_positions();
    if order.is_empty() {
        order = (0..table.columns.len()).collect();
    }
    let order_by: Vec<_> = order
        .iter()
        .map(|&index| {
            let column = &table.columns[index];
            match (backend, column.storage) {
                (DbBackend::Postgres, Storage::Text) => format!("{} COLLATE \"C\"", quote(&column.name)),
                _ => quote(&column.name),
            }
        })
        .collect();
    let sql = format!("SELECT {} FROM {} ORDER BY {}", columns.join(", "), quote(&table.name), order_by.join(", "));
    let mut rows = std::pin::pin!(db.stream_raw(Statement::from_string(backend, sql)).await?);
    let mut previous_key: Option<Vec<Value>> = None;
    while let Some(result) = rows.try_next().await? {
        let row = table
            .columns
            .iter()
            .enumerate()
            .map(|(index, column)| {
                read(&result, index, column.storage)
                    .with_context(|| format!("cannot read {}.{}", table.name, column.name))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let key: Vec<Value> = order.iter().map(|&index| row[index].clone()).collect();
        if let Some(previous_key) = &previous_key
            && canonical_order(previous_key, &key) == Ordering::Greater
        {
            bail!("the database returned the rows of {} out of canonical order", table.name);
        }
        previous_key = Some(key);
        each(row)?;
    }
    Ok(())
}

/// Orders two rows' sort keys, value by value as [`compare`] does.
fn canonical_order(a: &[Value], b: &[Value]) -> Ordering {
    a.iter().zip(b).map(|(x, y)| compare(x, y)).fold(Ordering::Equal, Ordering::then)
}

/// `"name"`: identifiers quoted the same way on both databases.
pub fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

fn read(row: &QueryResult, index: usize, storage: Storage) -> anyhow::Result<Value> {
    let value = match storage {
        Storage::Int16 => row.try_get_by_index::<Option<i16>>(index)?.map(Value::from),
        Storage::Int32 => row.try_get_by_index::<Option<i32>>(index)?.map(Value::from),
        Storage::Int64 => row.try_get_by_index::<Option<i64>>(index)?.map(Value::from),
        Storage::Float32 => row.try_get_by_index::<Option<f32>>(index)?.map(|real| Value::from(f64::from(real))),
        Storage::Float64 => row.try_get_by_index::<Option<f64>>(index)?.map(Value::from),
        Storage::Boolean => row.try_get_by_index::<Option<bool>>(index)?.map(Value::from),
        Storage::Text => row.try_get_by_index::<Option<String>>(index)?.map(Value::from),
        Storage::Bytes => {
            row.try_get_by_index::<Option<Vec<u8>>>(index)?.map(|bytes| Value::from(BASE64.encode(bytes)))
        }
        Storage::Timestamp => row
            .try_get_by_index::<Option<DateTime<Utc>>>(index)?
            .map(|instant| Value::from(instant.trunc_subsecs(6).format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())),
        Storage::DateTime => row
            .try_get_by_index::<Option<NaiveDateTime>>(index)?
            .map(|local| Value::from(local.trunc_subsecs(6).format("%Y-%m-%dT%H:%M:%S%.6f").to_string())),
        Storage::Date => row.try_get_by_index::<Option<NaiveDate>>(index)?.map(|date| Value::from(date.to_string())),
        Storage::Json => row.try_get_by_index::<Option<Value>>(index)?.map(|json| Value::from(json.to_string())),
    };
    Ok(value.unwrap_or(Value::Null))
}

/// The value to bind for a portable `value` in a column stored as `storage`.
///
/// # Errors
/// When the value is not of the column's kind (a damaged or hand-edited file).
pub fn bind(value: &Value, storage: Storage) -> anyhow::Result<Bound> {
    let null = value.is_null();
    let bound = match storage {
        Storage::Int16 => Bound::SmallInt(if null { None } else { Some(i16::try_from(integer(value)?)?) }),
        Storage::Int32 => Bound::Int(if null { None } else { Some(i32::try_from(integer(value)?)?) }),
        Storage::Int64 => Bound::BigInt(if null { None } else { Some(integer(value)?) }),
        // Narrowing is exact: the value was read from a 32-bit column.
        Storage::Float32 => Bound::Float(if null { None } else { Some(real(value)? as f32) }),
        Storage::Float64 => Bound::Double(if null { None } else { Some(real(value)?) }),
        Storage::Boolean => {
            Bound::Bool(if null { None } else { Some(value.as_bool().ok_or_else(|| expected("a boolean", value))?) })
        }
        Storage::Text => Bound::String(if null { None } else { Some(text(value)?.to_owned()) }),
        Storage::Bytes => Bound::Bytes(if null { None } else { Some(BASE64.decode(text(value)?)?) }),
        Storage::Timestamp => Bound::ChronoDateTimeUtc(if null {
            None
        } else {
            Some(DateTime::parse_from_rfc3339(text(value)?)?.with_timezone(&Utc))
        }),
        Storage::DateTime => Bound::ChronoDateTime(if null {
            None
        } else {
            Some(NaiveDateTime::parse_from_str(text(value)?, "%Y-%m-%dT%H:%M:%S%.f")?)
        }),
        Storage::Date => Bound::ChronoDate(if null { None } else { Some(text(value)?.parse::<NaiveDate>()?) }),
        Storage::Json => Bound::Json(if null { None } else { Some(Box::new(serde_json::from_str(text(value)?)?)) }),
    };
    Ok(bound)
}

fn integer(value: &Value) -> anyhow::Result<i64> {
    value.as_i64().ok_or_else(|| expected("an integer", value))
}

fn real(value: &Value) -> anyhow::Result<f64> {
    value.as_f64().ok_or_else(|| expected("a number", value))
}

fn text(value: &Value) -> anyhow::Result<&str> {
    value.as_str().ok_or_else(|| expected("a string", value))
}

fn expected(what: &str, value: &Value) -> anyhow::Error {
    anyhow!("expected {what}, found {value}")
}

/// Orders two values of one column: NULL first, numbers by value, text by its bytes (not by a
/// database's collation, which differs between SQLite and PostgreSQL).
fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => x.as_f64().unwrap_or(f64::NAN).total_cmp(&y.as_f64().unwrap_or(f64::NAN)),
        },
        (Value::String(x), Value::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

/// One line of the file, told apart by its shape.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Line {
    Row(Vec<Value>),
    Table(TableStart),
    Summary(Summary),
    Header(Header),
}

impl Line {
    /// Parses line `number` (1-based) of the file.
    ///
    /// # Errors
    /// When it is none of the lines an export writes.
    pub fn parse(text: &str, number: usize) -> anyhow::Result<Self> {
        serde_json::from_str(text).map_err(|_| anyhow!("line {number} of the file is not part of a Plenary export"))
    }
}

/// Checks the first line.
///
/// # Errors
/// When the file is not an export this version can read.
pub fn check_header(header: &Header) -> anyhow::Result<()> {
    if header.format != FORMAT {
        bail!("the file is not a Plenary export (its format is {:?})", header.format);
    }
    if header.version != VERSION {
        bail!("the file is in version {} of the export format; this plenary reads version {VERSION}", header.version);
    }
    Ok(())
}
