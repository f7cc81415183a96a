//! API tokens: created by the CLI or an organiser, stored as hashes, checked on every call.

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _, QueryFilter as _};

use crate::{
    auth::{Principal, Role, hash_secret, new_secret},
    db::entities::api_tokens,
};

/// Creates a token and returns its secret, which is shown once and never stored.
///
/// # Errors
/// When the database refuses the row (for example a State that does not exist).
pub async fn create(db: &impl ConnectionTrait, role: Role, state: Option<&str>, label: &str) -> Result<String, DbErr> {
    let secret = new_secret("plt_");
    api_tokens::Entity::insert(api_tokens::ActiveModel {
        token_hash: Set(hash_secret(&secret)),
        role: Set(role),
        iso2: Set(state.map(str::to_owned)),
        label: Set(label.to_owned()),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(secret)
}

/// The principal a token stands for, if it exists and is not revoked; records its use.
///
/// # Errors
/// When the database does not answer.
pub async fn authenticate(db: &impl ConnectionTrait, secret: &str) -> Result<Option<Principal>, DbErr> {
    let Some(token) = api_tokens::Entity::find()
        .filter(api_tokens::Column::TokenHash.eq(hash_secret(secret)))
        .filter(api_tokens::Column::RevokedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let now = Utc::now();
    // Written at most once a minute per token, so busy clients do not turn reads into writes.
    // It is bookkeeping: when the database is busy (SQLite's single writer under load), the
    // request goes on and the next use records it.
    if token.last_used_at.is_none_or(|last| (now - last).num_seconds() >= 60)
        && let Err(error) = api_tokens::Entity::update_many()
            .col_expr(api_tokens::Column::LastUsedAt, sea_orm::sea_query::Expr::value(now))
            .filter(api_tokens::Column::Id.eq(token.id))
            .exec(db)
            .await
    {
        tracing::debug!(%error, token = token.id, "could not record the token's last use");
    }
    Ok(Some(Principal { role: token.role, state: token.iso2, actor: format!("token:{}", token.id) }))
}
