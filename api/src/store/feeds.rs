//! Calendar feeds in the database: creating (the token is returned once and stored hashed),
//! listing, revoking, finding by token, and the cheap "has anything changed" probe that lets a
//! rendered feed be served again without reading the meetings.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _,
    ActiveValue::Set,
    ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
    sea_query::{Expr, Func},
};

use crate::{
    auth::{hash_secret, new_secret},
    db::entities::{chairmanships, feeds, meetings},
};

/// What a new feed shows and who made it.
#[derive(Debug, Clone)]
pub struct NewFeed<'a> {
    /// `delegation`, `body` or `all`.
    pub scope: &'a str,
    pub iso2: Option<&'a str>,
    pub body_code: Option<&'a str>,
    /// The delegation that may list and revoke it; `None` for organisers.
    pub owner_iso2: Option<&'a str>,
    pub created_by: &'a str,
}

/// Creates a feed and returns it with its token, which is shown once and never stored.
///
/// # Errors
/// When the database refuses the row.
pub async fn create(db: &impl ConnectionTrait, new: NewFeed<'_>) -> Result<(feeds::Model, String), DbErr> {
    let token = new_secret("plf_");
    let row = feeds::ActiveModel {
        token_hash: Set(hash_secret(&token)),
        scope: Set(new.scope.to_owned()),
        iso2: Set(new.iso2.map(str::to_owned)),
        body_code: Set(new.body_code.map(str::to_owned)),
        owner_iso2: Set(new.owner_iso2.map(str::to_owned)),
        created_by: Set(new.created_by.to_owned()),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((row, token))
}

/// Feeds, newest first: all of them, or those owned by one delegation.
///
/// # Errors
/// When the database does not answer.
pub async fn list(db: &impl ConnectionTrait, owner_iso2: Option<&str>) -> Result<Vec<feeds::Model>, DbErr> {
    let mut query = feeds::Entity::find();
    if let Some(owner) = owner_iso2 {
        query = query.filter(feeds::Column::OwnerIso2.eq(owner));
    }
    query.order_by_desc(feeds::Column::Id).all(db).await
}

/// One feed by id.
///
/// # Errors
/// When the database does not answer.
pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<feeds::Model>, DbErr> {
    feeds::Entity::find_by_id(id).one(db).await
}

/// Marks a feed revoked; its URL answers 404 from now on. Revoking twice keeps the first time.
///
/// # Errors
/// When the database refuses the change.
pub async fn revoke(db: &impl ConnectionTrait, id: i32, at: DateTime<Utc>) -> Result<(), DbErr> {
    feeds::Entity::update_many()
        .col_expr(feeds::Column::RevokedAt, Expr::value(at))
        .filter(feeds::Column::Id.eq(id))
        .filter(feeds::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// The live (not revoked) feed whose token hashes to `token_hash` ([`hash_secret`]), if any.
///
/// # Errors
/// When the database does not answer.
pub async fn by_token_hash(db: &impl ConnectionTrait, token_hash: &str) -> Result<Option<feeds::Model>, DbErr> {
    feeds::Entity::find()
        .filter(feeds::Column::TokenHash.eq(token_hash))
        .filter(feeds::Column::RevokedAt.is_null())
        .one(db)
        .await
}

/// Records that feed `id` was fetched at `now`. The caller limits how often
/// ([`crate::feeds::LiveFeed::touch`]: once a minute), so polling clients do not turn reads into
/// writes.
///
/// # Errors
/// When the database refuses the change.
pub async fn touch(db: &impl ConnectionTrait, id: i32, now: DateTime<Utc>) -> Result<(), DbErr> {
    feeds::Entity::update_many()
        .col_expr(feeds::Column::LastUsedAt, Expr::value(now))
        .filter(feeds::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// A fingerprint of everything a feed over `[from, to)` (UTC starts) is rendered from that can
/// change while the service runs: the meetings in the range and the Chairmanships. Reference
/// data (States, rooms) only changes at start-up, when every cache is new anyway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataVersion {
    pub meetings: i64,
    pub max_id: Option<i32>,
    pub sequences: Option<i64>,
    pub last_updated: Option<DateTime<Utc>>,
    pub chairmanships: Vec<(i32, String)>,
}

/// Reads the [`DataVersion`] for meetings starting in `[from, to)` (UTC): one aggregate over the
/// indexed start column, and the few Chairmanship rows.
///
/// # Errors
/// When the database does not answer.
pub async fn data_version(
    db: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<DataVersion, DbErr> {
    let (count, max_id, sequences, last_updated) = meetings::Entity::find()
        .select_only()
        .column_as(meetings::Column::Id.count(), "count")
        .column_as(meetings::Column::Id.max(), "max_id")
        .column_as(Expr::from(Func::cast_as(Func::sum(Expr::col(meetings::Column::Sequence)), "BIGINT")), "sequences")
        .column_as(meetings::Column::UpdatedAt.max(), "last_updated")
        .filter(meetings::Column::StartsAt.gte(from.timestamp()))
        .filter(meetings::Column::StartsAt.lt(to.timestamp()))
        .into_tuple::<(i64, Option<i32>, Option<i64>, Option<DateTime<Utc>>)>()
        .one(db)
        .await?
        .unwrap_or_default();
    let chairmanships = chairmanships::Entity::find()
        .order_by_asc(chairmanships::Column::Year)
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.year, row.iso2))
        .collect();
    Ok(DataVersion { meetings: count, max_id, sequences, last_updated, chairmanships })
}
