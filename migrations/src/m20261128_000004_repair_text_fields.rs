//! Brings text stored before the input policy (issue 12) in line with it.
//!
//! Before the policy, names, titles and places were stored as typed: control characters (a
//! contact named "Eve\nX" made the mail worker panic), bidi overrides, decomposed accents,
//! surrounding spaces and unbounded lengths. Each people-entered column is read, every value
//! that [`scheduler::text::repair`] changes (forbidden characters → one space, NFC, trimmed,
//! over-long → cut with "…") is written back, and each repair is reported: a line in the
//! migration's log and an `audit_log` entry (actor `migration`) with the value before and after.
//!
//! A repair that would leave a required value empty writes "?" instead, so no row is left that
//! the pages or the mail cannot show. An e-mail address is repaired only when no other row of
//! the column already holds the repaired value (the unique constraints), otherwise it is
//! reported for an organiser to fix.
//!
//! The rule itself is the policy's, from `scheduler`, not a frozen copy: run on an old database
//! at any later time, the migration brings it to the policy of the code that runs it.

use std::collections::HashSet;

use scheduler::text::{Kind, repair};
use sea_orm_migration::{prelude::*, sea_orm::QueryResult};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The people-entered text columns: table, column, kind, whether a value is required, whether
/// the table's id is a `BIGINT`.
const COLUMNS: &[(&str, &str, Kind, bool, bool)] = &[
    ("meetings", "title", Kind::Title, true, false),
    ("meetings", "venue", Kind::Place, false, false),
    ("meetings", "city", Kind::Place, false, false),
    ("contacts", "name", Kind::PersonName, true, false),
    ("contacts", "email", Kind::Email, true, false),
    ("registrations", "name", Kind::PersonName, true, true),
    ("registrations", "function", Kind::Function, false, true),
    ("registrations", "email", Kind::Email, true, true),
    ("users", "display_name", Kind::PersonName, true, false),
    ("api_tokens", "label", Kind::Label, true, false),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for &(table, column, kind, required, big_id) in COLUMNS {
            let select =
                Query::select().column(Alias::new("id")).column(Alias::new(column)).from(Alias::new(table)).to_owned();
            let rows = db.query_all(&select).await?;
            let values: Vec<(i64, Option<String>)> =
                rows.iter().map(|row| read(row, column, big_id)).collect::<Result<_, _>>()?;
            let mut taken: HashSet<String> = values.iter().filter_map(|(_, value)| value.clone()).collect();
            for (id, value) in values {
                let Some(before) = value else { continue };
                let mut after = repair(kind, &before);
                if after == before {
                    continue;
                }
                if after.is_empty() && required {
                    "?".clone_into(&mut after);
                }
                if kind == Kind::Email && taken.contains(&after) {
                    eprintln!(
                        "migration: {table}.{column} of row {id} breaks the input policy ({before:?}); its repair {after:?} is taken by another row, left for an organiser"
                    );
                    continue;
                }
                let stored = if after.is_empty() { None } else { Some(after.clone()) };
                let update = Query::update()
                    .table(Alias::new(table))
                    .value(Alias::new(column), stored)
                    .and_where(Expr::col(Alias::new("id")).eq(id))
                    .to_owned();
                manager.exec_stmt(update).await?;
                taken.insert(after.clone());
                eprintln!("migration: repaired {table}.{column} of row {id}: {before:?} → {after:?}");
                let audit = Query::insert()
                    .into_table(Alias::new("audit_log"))
                    .columns(["at", "actor", "action", "subject_type", "subject_id", "before", "after"].map(Alias::new))
                    .values_panic([
                        Expr::current_timestamp(),
                        "migration".into(),
                        "text.repair".into(),
                        table.into(),
                        id.to_string().into(),
                        serde_json(column, &before).into(),
                        serde_json(column, &after).into(),
                    ])
                    .to_owned();
                manager.exec_stmt(audit).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // The values before the repair are in the audit log; nothing to undo in the schema.
        Ok(())
    }
}

fn read(row: &QueryResult, column: &str, big_id: bool) -> Result<(i64, Option<String>), DbErr> {
    let id = if big_id { row.try_get::<i64>("", "id")? } else { i64::from(row.try_get::<i32>("", "id")?) };
    Ok((id, row.try_get::<Option<String>>("", column)?))
}

/// `{"column": value}` as JSON text, as the audit log stores its snapshots.
fn serde_json(column: &str, value: &str) -> String {
    sea_orm_migration::sea_orm::JsonValue::Object([(column.to_owned(), value.into())].into_iter().collect()).to_string()
}
