//! `meetings`: one meeting of a body; `starts_at`/`ends_at` are Unix seconds (UTC).

use sea_orm::entity::prelude::*;

use crate::db::enums::MeetingStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "meetings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The iCalendar UID: stable for the meeting's whole life, shared by feeds and mail.
    #[sea_orm(unique)]
    pub uid: String,
    /// Set on planned meetings: which slot of the body's calendar this is, so planning twice
    /// adds nothing and never undoes an organiser's move or cancellation.
    #[sea_orm(unique)]
    pub plan_key: Option<String>,
    pub body_code: String,
    pub title: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub time_zone: String,
    pub room_code: Option<String>,
    pub venue: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub host: Option<String>,
    pub status: MeetingStatus,
    /// The iCalendar SEQUENCE: raised by every change a calendar must show.
    pub sequence: i32,
    /// Why the meeting is cancelled, as the organiser wrote it; `None` when it is not (or no
    /// reason was given).
    #[sea_orm(column_type = "Text", nullable)]
    pub cancellation_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
