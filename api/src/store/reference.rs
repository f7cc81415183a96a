//! Reference data in the database: loading the bundled facts, and reading them back.
//!
//! Loading is an upsert keyed on each fact's natural key, so restarting never duplicates a row
//! and a corrected fact in a new release replaces the old one. Rows organisers added (a
//! Chairmanship agreed after the release) are kept.

use chrono::NaiveDate;
use scheduler::{
    chairmanship::Chairmanships,
    reference::{Chairmanship, ReferenceData},
    states::{Delegation, Membership, PartnerGroup, State, StateKind},
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    TryInsertResult, sea_query::OnConflict,
};

use crate::db::entities::{chairmanships, memberships, rooms, states, venues};

/// Upserts the bundled reference data.
///
/// # Errors
/// When the database refuses a row.
pub async fn load(db: &impl ConnectionTrait, data: &ReferenceData) -> Result<(), DbErr> {
    let state_rows = data.states.iter().map(|state| states::ActiveModel {
        iso2: Set(state.iso2.clone()),
        name_en: Set(state.name_en.clone()),
        name_fr: Set(state.name_fr.clone()),
        protocol_sort_key: Set(state.protocol_sort_key.clone()),
    });
    states::Entity::insert_many(state_rows)
        .on_conflict(
            OnConflict::column(states::Column::Iso2)
                .update_columns([states::Column::NameEn, states::Column::NameFr, states::Column::ProtocolSortKey])
                .to_owned(),
        )
        .exec(db)
        .await?;

    let membership_rows = data.memberships.iter().map(|membership| memberships::ActiveModel {
        iso2: Set(membership.iso2.clone()),
        kind: Set(membership.kind.as_str().to_owned()),
        partner_group: Set(membership.partner_group.map(|group| group.as_str().to_owned())),
        valid_from: Set(membership.from),
        valid_until: Set(membership.until),
        ..Default::default()
    });
    memberships::Entity::insert_many(membership_rows)
        .on_conflict(
            OnConflict::columns([memberships::Column::Iso2, memberships::Column::ValidFrom])
                .update_columns([
                    memberships::Column::Kind,
                    memberships::Column::PartnerGroup,
                    memberships::Column::ValidUntil,
                ])
                .to_owned(),
        )
        .exec(db)
        .await?;

    let chairmanship_rows = data.chairmanships.iter().map(|chairmanship| chairmanships::ActiveModel {
        year: Set(chairmanship.year),
        iso2: Set(chairmanship.iso2.clone()),
    });
    chairmanships::Entity::insert_many(chairmanship_rows)
        .on_conflict(
            OnConflict::column(chairmanships::Column::Year).update_column(chairmanships::Column::Iso2).to_owned(),
        )
        .exec(db)
        .await?;

    for room in &data.rooms {
        let venue_code = venue_code(&room.venue, &room.city);
        venues::Entity::insert(venues::ActiveModel {
            code: Set(venue_code.clone()),
            name: Set(room.venue.clone()),
            city: Set(room.city.clone()),
            country: Set(room.country.clone()),
            time_zone: Set(room.time_zone.clone()),
        })
        .on_conflict(
            OnConflict::column(venues::Column::Code)
                .update_columns([
                    venues::Column::Name,
                    venues::Column::City,
                    venues::Column::Country,
                    venues::Column::TimeZone,
                ])
                .to_owned(),
        )
        .exec(db)
        .await?;
        rooms::Entity::insert(rooms::ActiveModel {
            code: Set(room.code.clone()),
            venue_code: Set(venue_code),
            name: Set(room.name.clone()),
            capacity: Set(i32::try_from(room.capacity).unwrap_or(i32::MAX)),
            main_table_seats: Set(i32::try_from(room.main_table_seats).unwrap_or(i32::MAX)),
        })
        .on_conflict(
            OnConflict::column(rooms::Column::Code)
                .update_columns([
                    rooms::Column::VenueCode,
                    rooms::Column::Name,
                    rooms::Column::Capacity,
                    rooms::Column::MainTableSeats,
                ])
                .to_owned(),
        )
        .exec(db)
        .await?;
    }
    super::bodies::load(db).await
}

fn venue_code(venue: &str, city: &str) -> String {
    format!("{venue}-{city}").to_uppercase().replace(' ', "-")
}

/// Every State ever known, with all its memberships: what the domain functions take.
pub struct StatesAndMemberships {
    pub states: Vec<State>,
    pub memberships: Vec<Membership>,
}

impl StatesAndMemberships {
    /// The delegations taking part on `date`, in protocol order.
    #[must_use]
    pub fn on(&self, date: NaiveDate) -> Vec<Delegation> {
        scheduler::states::delegations_on(&self.states, &self.memberships, date)
    }
}

/// Loads every State and membership.
///
/// # Errors
/// When the database does not answer or holds a kind it does not know.
pub async fn states_and_memberships(db: &impl ConnectionTrait) -> anyhow::Result<StatesAndMemberships> {
    let states = states::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|row| State {
            iso2: row.iso2,
            name_en: row.name_en,
            name_fr: row.name_fr,
            protocol_sort_key: row.protocol_sort_key,
        })
        .collect();
    let memberships = memberships::Entity::find()
        .order_by_asc(memberships::Column::ValidFrom)
        .all(db)
        .await?
        .into_iter()
        .map(|row| {
            Ok(Membership {
                kind: StateKind::parse(&row.kind).map_err(anyhow::Error::msg)?,
                partner_group: row
                    .partner_group
                    .as_deref()
                    .map(PartnerGroup::parse)
                    .transpose()
                    .map_err(anyhow::Error::msg)?,
                iso2: row.iso2,
                from: row.valid_from,
                until: row.valid_until,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(StatesAndMemberships { states, memberships })
}

/// One State by its code.
///
/// # Errors
/// When the database does not answer.
pub async fn state(db: &impl ConnectionTrait, iso2: &str) -> Result<Option<states::Model>, DbErr> {
    states::Entity::find_by_id(iso2.to_owned()).one(db).await
}

/// A State's memberships, oldest first.
///
/// # Errors
/// When the database does not answer.
pub async fn memberships_of(db: &impl ConnectionTrait, iso2: &str) -> Result<Vec<memberships::Model>, DbErr> {
    memberships::Entity::find()
        .filter(memberships::Column::Iso2.eq(iso2))
        .order_by_asc(memberships::Column::ValidFrom)
        .all(db)
        .await
}

/// Every known Chairmanship.
///
/// # Errors
/// When the database does not answer.
pub async fn chairmanships(db: &impl ConnectionTrait) -> Result<Chairmanships, DbErr> {
    let rows = chairmanships::Entity::find().order_by_asc(chairmanships::Column::Year).all(db).await?;
    Ok(Chairmanships::new(
        &rows.into_iter().map(|row| Chairmanship { year: row.year, iso2: row.iso2 }).collect::<Vec<_>>(),
    ))
}

/// Records the Chairmanship of `year` (agreed after this release), replacing any earlier entry.
///
/// # Errors
/// When the database refuses the row.
pub async fn set_chairmanship(db: &impl ConnectionTrait, year: i32, iso2: &str) -> Result<(), DbErr> {
    chairmanships::Entity::insert(chairmanships::ActiveModel { year: Set(year), iso2: Set(iso2.to_owned()) })
        .on_conflict(
            OnConflict::column(chairmanships::Column::Year).update_column(chairmanships::Column::Iso2).to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// Records the Chairmanship of `year` unless one is recorded already (by anyone, even a moment
/// ago in another transaction); `false`, changing nothing, when it was.
///
/// # Errors
/// When the database refuses the row.
pub async fn add_chairmanship(db: &impl ConnectionTrait, year: i32, iso2: &str) -> Result<bool, DbErr> {
    let result =
        chairmanships::Entity::insert(chairmanships::ActiveModel { year: Set(year), iso2: Set(iso2.to_owned()) })
            .on_conflict_do_nothing_on([chairmanships::Column::Year])
            .exec_without_returning(db)
            .await?;
    Ok(matches!(result, TryInsertResult::Inserted(rows) if rows > 0))
}

/// The room with `code`, if the reference data has it.
///
/// # Errors
/// When the database does not answer.
pub async fn room(db: &impl ConnectionTrait, code: &str) -> Result<Option<rooms::Model>, DbErr> {
    rooms::Entity::find_by_id(code.to_owned()).one(db).await
}

/// Every room with its venue.
///
/// # Errors
/// When the database does not answer.
pub async fn rooms(db: &impl ConnectionTrait) -> Result<Vec<(rooms::Model, venues::Model)>, DbErr> {
    let rooms = rooms::Entity::find().order_by_asc(rooms::Column::Code).all(db).await?;
    let venues = venues::Entity::find().all(db).await?;
    Ok(rooms
        .into_iter()
        .filter_map(|room| {
            let venue = venues.iter().find(|venue| venue.code == room.venue_code)?.clone();
            Some((room, venue))
        })
        .collect())
}
