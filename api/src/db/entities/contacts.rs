//! `contacts`: a delegation's people (head of delegation, contact points, advisers).

use sea_orm::entity::prelude::*;

use crate::db::enums::Language;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contacts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub iso2: String,
    pub name: String,
    pub email: String,
    pub role: String,
    pub language: Language,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
