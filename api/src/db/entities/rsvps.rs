//! `rsvps`: answers given through the one-click accept/decline links, one per meeting and
//! recipient (the latest answer wins).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rsvps")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub meeting_id: i32,
    /// The delegation that answered; `None` for an official guest.
    pub iso2: Option<String>,
    pub recipient_email: String,
    /// `accepted` or `declined`.
    pub answer: String,
    pub answered_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
