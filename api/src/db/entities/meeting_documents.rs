//! `meeting_documents`: files organisers attach to a meeting (agenda, logistics note), listed
//! on its page and sent with its invitation and updates.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "meeting_documents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub meeting_id: i32,
    /// Sanitised ([`scheduler::documents::sanitise_filename`]).
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    #[sea_orm(column_type = "Blob")]
    pub content: Vec<u8>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
