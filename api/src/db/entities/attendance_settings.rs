//! `attendance_settings`: one row per meeting that has had registrations or settings; its
//! overrides of quota, deadline and capacity, and the arrival counter. Every change of the
//! meeting's registrations writes this row first, which serialises them in the database.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attendance_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub meeting_id: i32,
    pub seats_behind_quota: Option<i32>,
    /// Unix seconds (UTC).
    pub deadline: Option<i64>,
    pub capacity: Option<i32>,
    /// The arrival number last handed out.
    pub last_arrival: i64,
    pub updated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
