//! Meetings in the database: planned slots, one-off meetings, their changes, and reading them
//! back with what the domain derives from them (chair, place).

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use scheduler::{
    bodies::{Body, BodyCode, body},
    chairmanship::Chairmanships,
    chairs::{Chair, chair_of},
    conflicts::{ChairState, Slot},
    planning::YearPlan,
    when_where::{Language, MeetingTime, Place},
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

/// Stores a changed meeting, unless it changed since it was read at `read_sequence` (every
/// change raises the sequence): `None` then, changing nothing. The condition is part of the
/// `UPDATE`, so a concurrent change committed first makes this one find no row, on PostgreSQL
/// as on SQLite, instead of overwriting it.
///
/// # Errors
/// When the database refuses the change.
pub async fn save_if_unchanged(
    db: &impl ConnectionTrait,
    read_sequence: i32,
    meeting: meetings::Model,
) -> Result<Option<meetings::Model>, DbErr> {
    let id = meeting.id;
    let updated = meetings::Entity::update_many()
        .set(meeting.clone().into_active_model().reset_all())
        .filter(meetings::Column::Id.eq(id))
        .filter(meetings::Column::Sequence.eq(read_sequence))
        .exec(db)
        .await?;
    Ok((updated.rows_affected == 1).then_some(meeting))
}

/// Inserts a new meeting and returns it with its id.
///
/// # Errors
/// When the database refuses the row.
pub async fn insert(db: &impl ConnectionTrait, meeting: meetings::ActiveModel) -> Result<meetings::Model, DbErr> {
    meeting.insert(db).await
}

/// Where a meeting is held, as codes and names the API gives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Site {
    pub room_name: Option<String>,
    pub venue: Option<String>,
    pub city: Option<String>,
    /// ISO code of the country.
    pub country: Option<String>,
}

/// One presiding State of a meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presiding {
    /// `chair`, or `incoming` / `outgoing` for co-chairs.
    pub role: &'static str,
    /// `None` while the Chairmanship is not known.
    pub iso2: Option<String>,
    /// The State's English name, or "to be decided".
    pub name_en: String,
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

    /// Where `meeting` is, as codes: what it says itself, completed from its room's venue.
    #[must_use]
    pub fn site(&self, meeting: &meetings::Model) -> Site {
        let room = meeting.room_code.as_deref().and_then(|code| self.room(code));
        Site {
            room_name: room.map(|(room, _)| room.name.clone()),
            venue: meeting.venue.clone().or_else(|| room.map(|(_, venue)| venue.name.clone())),
            city: meeting.city.clone().or_else(|| room.map(|(_, venue)| venue.city.clone())),
            country: meeting.country.clone().or_else(|| room.map(|(_, venue)| venue.country.clone())),
        }
    }

    /// Who presides over `meeting`, each with their role and English name ("to be decided"
    /// where the Chairmanship is not known yet); for co-chaired meetings the incoming first.
    #[must_use]
    pub fn presiding(&self, meeting: &meetings::Model) -> Vec<Presiding> {
        let presiding = |role, iso2: Option<String>| Presiding {
            role,
            name_en: iso2
                .as_deref()
                .map_or_else(|| "to be decided".to_owned(), |iso2| self.state_name(iso2, Language::English)),
            iso2,
        };
        match self.chair(meeting) {
            Chair::Single(iso2) => vec![presiding("chair", iso2)],
            Chair::CoChairs { incoming, outgoing } => {
                vec![presiding("incoming", incoming), presiding("outgoing", outgoing)]
            }
        }
    }

    /// A State's or Partner's name in `language`; its code when it is not known.
    #[must_use]
    pub fn state_name(&self, iso2: &str, language: Language) -> String {
        self.states.states.iter().find(|state| state.iso2 == iso2).map_or_else(
            || iso2.to_owned(),
            |state| match language {
                Language::English => state.name_en.clone(),
                Language::French => state.name_fr.clone(),
            },
        )
    }

    /// Where `meeting` happens, for people: its [`Context::site`] with the country named in
    /// `language`.
    #[must_use]
    pub fn place(&self, meeting: &meetings::Model, language: Language) -> Place {
        let site = self.site(meeting);
        Place {
            room: site.room_name,
            venue: site.venue,
            city: site.city,
            country: site.country.map(|iso2| self.state_name(&iso2, language)),
        }
    }

    /// The meeting as conflict detection sees it.
    #[must_use]
    pub fn slot(&self, meeting: &meetings::Model) -> Option<Slot> {
        let body = body(&meeting.body_code)?;
        Some(Slot {
            id: meeting.id.to_string(),
            label: meeting.title.clone(),
            body: body.code,
            room: meeting.room_code.clone(),
            room_name: meeting.room_code.as_deref().and_then(|code| self.room(code)).map(|(room, _)| room.name.clone()),
            start: DateTime::from_timestamp(meeting.starts_at, 0)?,
            end: DateTime::from_timestamp(meeting.ends_at, 0)?,
            chairs: self
                .chair(meeting)
                .known()
                .into_iter()
                .map(|iso2| ChairState { iso2: iso2.to_owned(), name: self.state_name(iso2, Language::English) })
                .collect(),
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

/// When a meeting happens, on the clock of its place.
#[must_use]
pub fn time_of(meeting: &meetings::Model) -> MeetingTime {
    let zone = meeting.zone();
    let instant = |unix| DateTime::from_timestamp(unix, 0).unwrap_or_default();
    MeetingTime { start: instant(meeting.starts_at), end: instant(meeting.ends_at), zone }
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
