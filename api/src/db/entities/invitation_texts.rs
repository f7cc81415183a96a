//! `invitation_texts`: the words organisers chose for one meeting's invitation in one language
//! (the subject line and the opening paragraph); the meeting's facts stay generated.

use sea_orm::entity::prelude::*;

use crate::db::enums::Language;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invitation_texts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub meeting_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub language: Language,
    /// `None` keeps the generated subject.
    #[sea_orm(column_type = "Text", nullable)]
    pub subject: Option<String>,
    /// `None` keeps the generated opening.
    #[sea_orm(column_type = "Text", nullable)]
    pub opening: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
