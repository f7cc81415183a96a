//! `registrations`: a named attendee of a meeting for a delegation, with the seat, the status
//! (`confirmed`, `waiting`, `withdrawn`) and the order of arrival the waiting list follows.

use sea_orm::entity::prelude::*;

use crate::db::enums::{Language, RegistrationStatus, Seat};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "registrations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub meeting_id: i32,
    pub iso2: String,
    pub name: String,
    pub function: String,
    /// Stored lower-cased, so one address is registered once per meeting.
    pub email: String,
    pub seat: Seat,
    /// `en` or `fr`: the language of mail to this attendee.
    pub language: Language,
    pub status: RegistrationStatus,
    /// Order of arrival within the meeting (from the settings row's counter): the waiting list
    /// is served in this order.
    pub arrival: i64,
    /// An organiser exceeded the quota or the deadline for it.
    pub overridden: bool,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
