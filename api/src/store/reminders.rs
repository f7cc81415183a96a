//! Reminders to register: which upcoming meetings had their invitations sent, and which
//! delegations were already reminded of a meeting. A reminder's row and its mail are written in
//! one transaction; the row's primary key (meeting, State) lets only one replica write it.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _, TryInsertResult,
};

use crate::db::entities::{meetings, outbox, registration_reminders};

/// The meetings that start after `now`, by start.
///
/// # Errors
/// When the database does not answer.
pub async fn upcoming(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Vec<meetings::Model>, DbErr> {
    meetings::Entity::find()
        .filter(meetings::Column::StartsAt.gt(now.timestamp()))
        .order_by_asc(meetings::Column::StartsAt)
        .all(db)
        .await
}

/// The meetings whose invitations were sent (an invitation is in the outbox, whatever became
/// of it).
///
/// # Errors
/// When the database does not answer.
pub async fn invitations_sent(db: &impl ConnectionTrait) -> Result<Vec<i32>, DbErr> {
    let ids: Vec<Option<i32>> = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::MeetingId)
        .distinct()
        .filter(outbox::Column::Kind.eq("invitation"))
        .into_tuple()
        .all(db)
        .await?;
    Ok(ids.into_iter().flatten().collect())
}

/// The delegations already reminded of meeting `meeting_id`.
///
/// # Errors
/// When the database does not answer.
pub async fn reminded(db: &impl ConnectionTrait, meeting_id: i32) -> Result<Vec<String>, DbErr> {
    registration_reminders::Entity::find()
        .select_only()
        .column(registration_reminders::Column::Iso2)
        .filter(registration_reminders::Column::MeetingId.eq(meeting_id))
        .into_tuple()
        .all(db)
        .await
}

/// Records that delegation `iso2` is reminded of meeting `meeting_id`; `false`, changing
/// nothing, when it already was (by this replica or another).
///
/// # Errors
/// When the database refuses the row.
pub async fn record(db: &impl ConnectionTrait, meeting_id: i32, iso2: &str, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let result = registration_reminders::Entity::insert(registration_reminders::ActiveModel {
        meeting_id: Set(meeting_id),
        iso2: Set(iso2.to_owned()),
        sent_at: Set(now),
    })
    .on_conflict_do_nothing_on([registration_reminders::Column::MeetingId, registration_reminders::Column::Iso2])
    .exec_without_returning(db)
    .await?;
    Ok(matches!(result, TryInsertResult::Inserted(rows) if rows > 0))
}
