//! Seating in the database: the lot drawn per body and year, each body's seating rules, and the
//! registered attendees a plan writes on its seats.

use chrono::{DateTime, Utc};
use scheduler::attendance::Seat;
use scheduler::seating::{Attendee, AttendeeSeat};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    TryInsertResult, sea_query::OnConflict,
};

use crate::db::{
    entities::{registrations, seating_lots, seating_rules},
    enums::RegistrationStatus,
};

/// A lot to store.
pub struct NewLot<'a> {
    pub body_code: &'a str,
    pub year: i32,
    pub seed: u64,
    pub first_iso2: &'a str,
    pub drawn_at: DateTime<Utc>,
    pub drawn_by: &'a str,
}

impl NewLot<'_> {
    fn row(&self) -> seating_lots::ActiveModel {
        seating_lots::ActiveModel {
            body_code: Set(self.body_code.to_owned()),
            year: Set(self.year),
            seed: Set(self.seed.to_string()),
            first_iso2: Set(self.first_iso2.to_owned()),
            drawn_at: Set(self.drawn_at),
            drawn_by: Set(self.drawn_by.to_owned()),
            ..Default::default()
        }
    }
}

/// The lot drawn for `body_code` and `year`, if any.
///
/// # Errors
/// When the database does not answer.
pub async fn lot(db: &impl ConnectionTrait, body_code: &str, year: i32) -> Result<Option<seating_lots::Model>, DbErr> {
    seating_lots::Entity::find()
        .filter(seating_lots::Column::BodyCode.eq(body_code))
        .filter(seating_lots::Column::Year.eq(year))
        .one(db)
        .await
}

/// Stores `lot` unless one is already drawn for its body and year, and returns the lot that is
/// stored now, with whether it is the one just given. Two callers racing both get the same lot.
///
/// # Errors
/// When the database refuses the row or does not answer.
pub async fn insert_lot_if_absent(
    db: &impl ConnectionTrait,
    lot: &NewLot<'_>,
) -> Result<(seating_lots::Model, bool), DbErr> {
    let result = seating_lots::Entity::insert(lot.row())
        .on_conflict_do_nothing_on([seating_lots::Column::BodyCode, seating_lots::Column::Year])
        .exec_without_returning(db)
        .await?;
    let inserted = matches!(result, TryInsertResult::Inserted(count) if count > 0);
    let stored = self::lot(db, lot.body_code, lot.year)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("the lot for {} {} vanished", lot.body_code, lot.year)))?;
    Ok((stored, inserted))
}

/// Stores `lot` in place of any earlier one for its body and year (a redraw), and returns it.
///
/// # Errors
/// When the database refuses the row or does not answer.
pub async fn replace_lot(db: &impl ConnectionTrait, lot: &NewLot<'_>) -> Result<seating_lots::Model, DbErr> {
    seating_lots::Entity::insert(lot.row())
        .on_conflict(
            OnConflict::columns([seating_lots::Column::BodyCode, seating_lots::Column::Year])
                .update_columns([
                    seating_lots::Column::Seed,
                    seating_lots::Column::FirstIso2,
                    seating_lots::Column::DrawnAt,
                    seating_lots::Column::DrawnBy,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    self::lot(db, lot.body_code, lot.year)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("the lot for {} {} vanished", lot.body_code, lot.year)))
}

/// The seating rules organisers set for `body_code`, if they did.
///
/// # Errors
/// When the database does not answer.
pub async fn rules(db: &impl ConnectionTrait, body_code: &str) -> Result<Option<seating_rules::Model>, DbErr> {
    seating_rules::Entity::find_by_id(body_code.to_owned()).one(db).await
}

/// Stores `rules_json` as `body_code`'s seating rules, replacing earlier ones.
///
/// # Errors
/// When the database refuses the row.
pub async fn save_rules(
    db: &impl ConnectionTrait,
    body_code: &str,
    rules_json: String,
    at: DateTime<Utc>,
    by: &str,
) -> Result<(), DbErr> {
    seating_rules::Entity::insert(seating_rules::ActiveModel {
        body_code: Set(body_code.to_owned()),
        rules: Set(rules_json),
        updated_at: Set(at),
        updated_by: Set(by.to_owned()),
    })
    .on_conflict(
        OnConflict::column(seating_rules::Column::BodyCode)
            .update_columns([
                seating_rules::Column::Rules,
                seating_rules::Column::UpdatedAt,
                seating_rules::Column::UpdatedBy,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The people registered for `meeting_id` whose names a seating plan writes on its seats: the
/// confirmed registrations (`main` → the delegation's seat at the main table, `behind` → an
/// adviser seat), in order of arrival, so advisers fill the seats behind in that order. Waiting
/// and withdrawn registrations hold no seat.
///
/// # Errors
/// When the database does not answer.
pub async fn attendees(db: &impl ConnectionTrait, meeting_id: i32) -> Result<Vec<Attendee>, DbErr> {
    let rows = registrations::Entity::find()
        .filter(registrations::Column::MeetingId.eq(meeting_id))
        .filter(registrations::Column::Status.eq(RegistrationStatus::Confirmed))
        .order_by_asc(registrations::Column::Arrival)
        .order_by_asc(registrations::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| Attendee {
            seat: if row.seat == Seat::Main { AttendeeSeat::Main } else { AttendeeSeat::Behind },
            iso2: row.iso2,
            name: row.name,
        })
        .collect())
}
