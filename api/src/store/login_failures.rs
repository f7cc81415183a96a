//! Counting failed logins in the database, shared by every replica.
//!
//! An attempt is written down *before* its password is checked, then counted with every other
//! recent attempt under the same keys: concurrent guesses on several replicas therefore see
//! each other, and the limit holds across replicas. When the password was right the attempt is
//! taken back; when it was wrong it stays, as a failure, until it leaves [`WINDOW`]. A refused
//! attempt is taken back too, so hammering a locked key does not lengthen its wait.
//!
//! What an attempt is counted against, and how many failures each may have, is
//! [`scheduler::accounts`]'s to say ([`Limit`], [`Counter`]). Keys are stored as the SHA-256 of
//! their text (`user:admin`), so a password typed into the username field never lands in the
//! table. Rows older than [`WINDOW`] are deleted whenever
//! someone tries to log in.

use chrono::{DateTime, TimeDelta, Utc};
use scheduler::accounts::{Counter, Limit};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _,
};

use crate::{
    auth::{hash_secret, new_secret},
    db::entities::login_failures,
};

/// How long a failure counts.
pub const WINDOW: TimeDelta = TimeDelta::minutes(15);

/// An attempt written down by [`begin`]: [`succeeded`] takes it back.
#[must_use]
#[derive(Debug)]
pub struct Attempt {
    ids: Vec<String>,
}

/// The attempt may not go ahead: which counter is over its limit and how long until it is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub counter: Counter,
    pub wait: TimeDelta,
}

/// Writes down an attempt against every key in `limits` and checks them; over a limit, the
/// attempt is taken back and refused. Also deletes every row older than [`WINDOW`].
///
/// # Errors
/// When the database refuses a query.
pub async fn begin(
    db: &impl ConnectionTrait,
    limits: &[Limit],
    now: DateTime<Utc>,
) -> Result<Result<Attempt, Refused>, DbErr> {
    let since = (now - WINDOW).timestamp();
    login_failures::Entity::delete_many().filter(login_failures::Column::At.lte(since)).exec(db).await?;
    let attempt = Attempt { ids: limits.iter().map(|_| new_secret("")).collect() };
    let rows: Vec<_> = limits
        .iter()
        .zip(&attempt.ids)
        .map(|(limit, id)| login_failures::ActiveModel {
            id: Set(id.clone()),
            key: Set(hash_secret(&limit.counter.key())),
            at: Set(now.timestamp()),
        })
        .collect();
    if !rows.is_empty() {
        login_failures::Entity::insert_many(rows).exec(db).await?;
    }
    for limit in limits {
        // One more than the limit: this attempt's own row is among them.
        let recent: Vec<i64> = login_failures::Entity::find()
            .select_only()
            .column(login_failures::Column::At)
            .filter(login_failures::Column::Key.eq(hash_secret(&limit.counter.key())))
            .filter(login_failures::Column::At.gt(since))
            .order_by_asc(login_failures::Column::At)
            .limit(u64::try_from(limit.max_failures).unwrap_or(u64::MAX).saturating_add(1))
            .into_tuple()
            .all(db)
            .await?;
        if recent.len() > limit.max_failures {
            forget(db, &attempt.ids).await?;
            // Allowed again once the oldest failure leaves the window.
            let oldest = recent.first().copied().unwrap_or(now.timestamp());
            let wait = TimeDelta::seconds(oldest + WINDOW.num_seconds() - now.timestamp()).max(TimeDelta::seconds(1));
            return Ok(Err(Refused { counter: limit.counter.clone(), wait }));
        }
    }
    Ok(Ok(attempt))
}

/// The password was right: the attempt was no failure, and the failures counted against
/// `clear` (the user's and the device's own, never an address's) are forgotten.
///
/// # Errors
/// When the database refuses the change.
pub async fn succeeded(db: &impl ConnectionTrait, attempt: Attempt, clear: &[Counter]) -> Result<(), DbErr> {
    forget(db, &attempt.ids).await?;
    if !clear.is_empty() {
        login_failures::Entity::delete_many()
            .filter(login_failures::Column::Key.is_in(clear.iter().map(|counter| hash_secret(&counter.key()))))
            .exec(db)
            .await?;
    }
    Ok(())
}

async fn forget(db: &impl ConnectionTrait, ids: &[String]) -> Result<(), DbErr> {
    if !ids.is_empty() {
        login_failures::Entity::delete_many()
            .filter(login_failures::Column::Id.is_in(ids.iter().cloned()))
            .exec(db)
            .await?;
    }
    Ok(())
}
