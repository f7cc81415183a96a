//! `seating_rules`: a body's seating rules as organisers set them (`rules` is the JSON of
//! `scheduler::seating::SeatingRules`); bodies without a row use the defaults.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "seating_rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub body_code: String,
    #[sea_orm(column_type = "Text")]
    pub rules: String,
    pub updated_at: DateTimeUtc,
    pub updated_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
