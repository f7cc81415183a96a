//! `seating_lots`: the lot drawn for a body and year; `seed` is the `u64` drawn, in decimal.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "seating_lots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub body_code: String,
    pub year: i32,
    /// The random number the State was drawn with; `scheduler::seating::draw_lot` reproduces
    /// the draw from it.
    pub seed: String,
    /// The participating State drawn.
    pub first_iso2: String,
    pub drawn_at: DateTimeUtc,
    /// `plenary` for the automatic first draw, otherwise the organiser's actor (`token:12`).
    pub drawn_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
