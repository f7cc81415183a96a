//! Writing the audit log, and reading one subject's history back.

use chrono::Utc;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _, QueryFilter as _, QueryOrder as _,
};
use serde::Serialize;

use crate::db::entities::audit_log;

/// One change to record.
pub struct AuditEntry<'a, B: Serialize, A: Serialize> {
    pub actor: &'a str,
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: String,
    pub before: Option<&'a B>,
    pub after: Option<&'a A>,
}

/// Appends `entry` to the audit log (call it inside the transaction that makes the change).
///
/// # Errors
/// When the database refuses the row.
pub async fn record<B: Serialize, A: Serialize>(
    db: &impl ConnectionTrait,
    entry: AuditEntry<'_, B, A>,
) -> Result<(), DbErr> {
    audit_log::Entity::insert(row(entry)).exec(db).await?;
    Ok(())
}

/// Appends `entries` in one statement, in their order (call it inside the transaction that
/// makes the changes).
///
/// # Errors
/// When the database refuses a row.
pub async fn record_all<'a, B: Serialize + 'a, A: Serialize + 'a>(
    db: &impl ConnectionTrait,
    entries: impl IntoIterator<Item = AuditEntry<'a, B, A>>,
) -> Result<(), DbErr> {
    audit_log::Entity::insert_many(entries.into_iter().map(row)).exec_without_returning(db).await?;
    Ok(())
}

fn row<B: Serialize, A: Serialize>(entry: AuditEntry<'_, B, A>) -> audit_log::ActiveModel {
    audit_log::ActiveModel {
        at: Set(Utc::now()),
        actor: Set(entry.actor.to_owned()),
        action: Set(entry.action.to_owned()),
        subject_type: Set(entry.subject_type.to_owned()),
        subject_id: Set(entry.subject_id),
        before: Set(entry.before.and_then(|value| serde_json::to_string(value).ok())),
        after: Set(entry.after.and_then(|value| serde_json::to_string(value).ok())),
        ..Default::default()
    }
}

/// Every entry about one subject (`"meeting"`, `"42"`), oldest first.
///
/// # Errors
/// When the database does not answer.
pub async fn of_subject(
    db: &impl ConnectionTrait,
    subject_type: &str,
    subject_id: &str,
) -> Result<Vec<audit_log::Model>, DbErr> {
    audit_log::Entity::find()
        .filter(audit_log::Column::SubjectType.eq(subject_type))
        .filter(audit_log::Column::SubjectId.eq(subject_id))
        .order_by_asc(audit_log::Column::Id)
        .all(db)
        .await
}
