//! `feeds`: calendar subscriptions, each reached by a secret URL whose token is stored only as
//! its SHA-256.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "feeds")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub token_hash: String,
    /// `delegation`, `body` or `all`.
    pub scope: String,
    /// The delegation whose meetings a `delegation` feed shows.
    pub iso2: Option<String>,
    /// The body whose meetings a `body` feed shows.
    pub body_code: Option<String>,
    /// The delegation that created the feed, and so may list and revoke it; null when an
    /// organiser created it.
    pub owner_iso2: Option<String>,
    /// The audit actor that created it (`token:12`, `user:admin`).
    pub created_by: String,
    pub created_at: DateTimeUtc,
    /// Written at most once a minute, so polling calendar clients do not turn reads into writes.
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
