//! Bodies in the database: the rules from `scheduler::bodies`, stored so other tools can read
//! them and the API can list them.

use scheduler::bodies::{Body, Cadence, all_bodies};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait as _, QueryOrder as _, sea_query::OnConflict};

use crate::db::entities::bodies;

/// Upserts every body's rules.
///
/// # Errors
/// When the database refuses a row.
pub async fn load(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let rows = all_bodies().iter().map(|body| bodies::ActiveModel {
        code: Set(body.code.as_str().to_owned()),
        name_en: Set(body.name_en.to_owned()),
        name_fr: Set(body.name_fr.to_owned()),
        cadence: Set(cadence_name(body).to_owned()),
        chair_rule: Set(json_string(&body.chair_rule)),
        invites: Set(invites_summary(body).to_owned()),
        default_room: Set(body.default_room.map(str::to_owned)),
        seats_behind: Set(i32::try_from(body.seats_behind_quota).unwrap_or(i32::MAX)),
        rules: Set(serde_json::to_string(body).unwrap_or_default()),
    });
    bodies::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(bodies::Column::Code)
                .update_columns([
                    bodies::Column::NameEn,
                    bodies::Column::NameFr,
                    bodies::Column::Cadence,
                    bodies::Column::ChairRule,
                    bodies::Column::Invites,
                    bodies::Column::DefaultRoom,
                    bodies::Column::SeatsBehind,
                    bodies::Column::Rules,
                ])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// Every body, by code.
///
/// # Errors
/// When the database does not answer.
pub async fn all_rows(db: &impl ConnectionTrait) -> Result<Vec<bodies::Model>, DbErr> {
    bodies::Entity::find().order_by_asc(bodies::Column::Code).all(db).await
}

fn cadence_name(body: &Body) -> &'static str {
    match body.cadence {
        Cadence::Weekly { .. } => "weekly",
        Cadence::Spread { .. } => "spread",
        Cadence::Annual { .. } => "annual",
        Cadence::OneOff { .. } => "one_off",
    }
}

fn invites_summary(body: &Body) -> &'static str {
    match (body.invites.mediterranean_partners, body.invites.asian_partners) {
        (true, true) => "participating_states_and_all_partners",
        (true, false) => "participating_states_and_mediterranean_partners",
        (false, true) => "participating_states_and_asian_partners",
        (false, false) => "participating_states",
    }
}

/// A unit enum's serde name (`"fsc_rotation"` → `fsc_rotation`).
fn json_string(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}
