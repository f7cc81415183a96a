//! `invitation_settings`: organisers' changes to one meeting's list of invitees.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invitation_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub meeting_id: i32,
    /// A closed session: the Partners are left out.
    pub closed: bool,
    /// JSON of the guests: `{"guest_delegations": [...], "officials": [...]}`.
    #[sea_orm(column_type = "Text")]
    pub guests: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
