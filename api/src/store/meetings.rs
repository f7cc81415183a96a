//! Meetings in the database: planned slots, one-off meetings, their changes, and reading them
//! back with what the domain derives from them (chair, place).

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use scheduler::{
    bodies::{Body, BodyCode, body},
    chairmanship::Chairmanships,
    chairs::{Chair, chair_of},
    conflicts::Slot,
    planning::YearPlan,
};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _,
    IntoActiveModel as _, QueryFilter as _, QueryOrder as _, TryInsertResult,
};

use super::reference::StatesAndMemberships;
use crate::db::{
    entities::{meetings, rooms, venues},
    enums::MeetingStatus,
};

/// Inserts the plan's meetings that are not in the database yet (matched by `plan_key`), so
/// planning twice adds nothing and never undoes an organiser's move or cancellation.
///
/// Returns how many were created.
///
/// # Errors
/// When the database refuses the rows.
pub async fn insert_plan(db: &impl ConnectionTrait, plan: &YearPlan, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let rows = plan.meetings.iter().map(|planned| meetings::ActiveModel {
        uid: Set(format!("{}@plenary", planned.plan_key.to_lowercase())),
        plan_key: Set(Some(planned.plan_key.clone())),
        body_code: Set(planned.body.as_str().to_owned()),
        title: Set(planned.title.clone()),
        starts_at: Set(planned.start_utc.timestamp()),
        ends_at: Set(planned.end_utc.timestamp()),
        time_zone: Set(planned.time_zone.name().to_owned()),
        room_code: Set(Some(planned.room.clone())),
        venue: Set(None),
        city: Set(None),
        country: Set(None),
        host: Set(None),
        status: Set(MeetingStatus::Scheduled),
        sequence: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    });
    let result = meetings::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([meetings::Column::PlanKey])
        .exec_without_returning(db)
        .await?;
    Ok(match result {
        TryInsertResult::Inserted(count) => count,
        TryInsertResult::Empty | TryInsertResult::Conflicted => 0,
    })
}

/// One meeting by id.
///
/// # Errors
/// When the database does not answer.
pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<meetings::Model>, DbErr> {
    meetings::Entity::find_by_id(id).one(db).await
}

/// Meetings starting in `[from, to)` (UTC), optionally of one body, in order of start.
///
/// # Errors
/// When the database does not answer.
pub async fn list(
    db: &impl ConnectionTrait,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    body: Option<&str>,
) -> Result<Vec<meetings::Model>, DbErr> {
    let mut query = meetings::Entity::find();
    if let Some(from) = from {
        query = query.filter(meetings::Column::StartsAt.gte(from.timestamp()));
    }
    if let Some(to) = to {
        query = query.filter(meetings::Column::StartsAt.lt(to.timestamp()));
    }
    if let Some(body) = body {
        query = query.filter(meetings::Column::BodyCode.eq(body));
    }
    query.order_by_asc(meetings::Column::StartsAt).order_by_asc(meetings::Column::Id).all(db).await
}

/// Scheduled meetings overlapping `[start - margin, end + margin)`, the candidates for conflicts.
///
/// # Errors
/// When the database does not answer.
pub async fn scheduled_around(
    db: &impl ConnectionTrait,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    margin: TimeDelta,
) -> Result<Vec<meetings::Model>, DbErr> {
    meetings::Entity::find()
        .filter(meetings::Column::Status.eq(MeetingStatus::Scheduled))
        .filter(meetings::Column::StartsAt.lt((end + margin).timestamp()))
        .filter(meetings::Column::EndsAt.gt((start - margin).timestamp()))
        .all(db)
        .await
}

/// Stores a changed meeting.
///
/// # Errors
/// When the database refuses the change.
pub async fn save(db: &impl ConnectionTrait, meeting: meetings::Model) -> Result<meetings::Model, DbErr> {
    meeting.into_active_model().reset_all().update(db).await
}

/// Inserts a new meeting and returns it with its id.
///
/// # Errors
/// When the database refuses the row.
pub async fn insert(db: &impl ConnectionTrait, meeting: meetings::ActiveModel) -> Result<meetings::Model, DbErr> {
    meeting.insert(db).await
}

/// What reading a meeting needs besides its row: Chairmanships, States, rooms.
pub struct Context {
    pub chairmanships: Chairmanships,
    pub states: StatesAndMemberships,
    pub rooms: Vec<(rooms::Model, venues::Model)>,
}

impl Context {
    /// Loads the context.
    ///
    /// # Errors
    /// When the database does not answer.
    pub async fn load(db: &impl ConnectionTrait) -> anyhow::Result<Self> {
        Ok(Self {
            chairmanships: super::reference::chairmanships(db).await?,
            states: super::reference::states_and_memberships(db).await?,
            rooms: super::reference::rooms(db).await?,
        })
    }

    #[must_use]
    pub fn room(&self, code: &str) -> Option<&(rooms::Model, venues::Model)> {
        self.rooms.iter().find(|(room, _)| room.code == code)
    }

    /// Who chairs `meeting`, derived from its body's rule and its local date.
    #[must_use]
    pub fn chair(&self, meeting: &meetings::Model) -> Chair {
        let date = local_date(meeting);
        match body(&meeting.body_code) {
            Some(body) => chair_of(body, date, &self.chairmanships, &self.states.states, &self.states.memberships),
            None => Chair::Single(None),
        }
    }

    /// The meeting as conflict detection sees it.
    #[must_use]
    pub fn slot(&self, meeting: &meetings::Model) -> Option<Slot> {
        let body = body(&meeting.body_code)?;
        Some(Slot {
            id: meeting.id.to_string(),
            label: format!("{} “{}”", body.code.as_str(), meeting.title),
            body: body.code,
            room: meeting.room_code.clone(),
            start: DateTime::from_timestamp(meeting.starts_at, 0)?,
            end: DateTime::from_timestamp(meeting.ends_at, 0)?,
            chairs: self.chair(meeting).known().into_iter().map(str::to_owned).collect(),
            time_zone: meeting.time_zone.parse().ok()?,
        })
    }
}

/// The date a meeting starts on where it happens.
#[must_use]
pub fn local_date(meeting: &meetings::Model) -> NaiveDate {
    let zone = meeting.zone();
    DateTime::from_timestamp(meeting.starts_at, 0).unwrap_or_default().with_timezone(&zone).date_naive()
}

/// The body of a stored meeting (its code was checked when it was stored).
#[must_use]
pub fn body_of(meeting: &meetings::Model) -> Option<&'static Body> {
    body(&meeting.body_code)
}

/// Every body code, for messages.
#[must_use]
pub fn body_codes() -> String {
    BodyCode::ALL.iter().map(|code| code.as_str()).collect::<Vec<_>>().join(", ")
}
