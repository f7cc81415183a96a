//! `bodies`: the OSCE bodies Plenary schedules, with their rules (`rules` is the JSON of
//! `scheduler::bodies::Body`, so organisers' changes survive restarts).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bodies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name_en: String,
    pub name_fr: String,
    pub cadence: String,
    pub chair_rule: String,
    pub invites: String,
    pub default_room: Option<String>,
    pub seats_behind: i32,
    #[sea_orm(column_type = "Text")]
    pub rules: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
