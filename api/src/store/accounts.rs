//! Web accounts: creating users, one-time set-password links, sessions, disabling.
//!
//! Secrets (session cookies, set-password links) are random, shown once, and stored only as
//! their SHA-256, like API tokens.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    sea_query::Expr,
};

use crate::{
    auth::{Role, hash_secret, new_secret},
    db::entities::{password_tokens, sessions, users},
};

/// How long a session lasts without logging in again.
pub const SESSION_LIFETIME: TimeDelta = TimeDelta::days(14);
/// How long a set-password link works.
pub const PASSWORD_LINK_LIFETIME: TimeDelta = TimeDelta::days(7);

/// A user and the session they are logged in with.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub session: sessions::Model,
    pub user: users::Model,
}

/// Every user, by username.
///
/// # Errors
/// When the database does not answer.
pub async fn list_users(db: &impl ConnectionTrait) -> Result<Vec<users::Model>, DbErr> {
    users::Entity::find().order_by_asc(users::Column::Username).all(db).await
}

/// One user by login name (stored lower-case for the accounts created here).
///
/// # Errors
/// When the database does not answer.
pub async fn find_by_username(db: &impl ConnectionTrait, username: &str) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find().filter(users::Column::Username.eq(username)).one(db).await
}

/// One user by id.
///
/// # Errors
/// When the database does not answer.
pub async fn find_user(db: &impl ConnectionTrait, id: i32) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find_by_id(id).one(db).await
}

/// Creates a user without a password; they set it through a link from [`create_password_link`].
///
/// # Errors
/// When the database refuses the row; a taken username is a unique violation
/// (`DbErr::sql_err()` reads it the same on SQLite and PostgreSQL).
pub async fn create_user(
    db: &impl ConnectionTrait,
    username: &str,
    display_name: &str,
    role: Role,
    iso2: Option<&str>,
) -> Result<users::Model, DbErr> {
    let inserted = users::Entity::insert(users::ActiveModel {
        username: Set(username.to_owned()),
        display_name: Set(display_name.to_owned()),
        password_hash: Set(None),
        role: Set(role),
        iso2: Set(iso2.map(str::to_owned)),
        disabled: Set(false),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    find_user(db, inserted.last_insert_id)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("user {} just inserted", inserted.last_insert_id)))
}

/// A new one-time set-password link's secret for `user_id`; earlier unused links stop working.
///
/// # Errors
/// When the database refuses the row.
pub async fn create_password_link(
    db: &impl ConnectionTrait,
    user_id: i32,
    now: DateTime<Utc>,
) -> Result<String, DbErr> {
    password_tokens::Entity::delete_many()
        .filter(password_tokens::Column::UserId.eq(user_id))
        .filter(password_tokens::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    add_password_link(db, user_id, now).await
}

/// A new set-password link for `user_id` beside those already pending ("forgot password":
/// whoever asks cannot cancel the link an organiser sent).
///
/// # Errors
/// When the database refuses the row.
pub async fn add_password_link(db: &impl ConnectionTrait, user_id: i32, now: DateTime<Utc>) -> Result<String, DbErr> {
    let secret = new_secret("plp_");
    password_tokens::Entity::insert(password_tokens::ActiveModel {
        id: Set(hash_secret(&secret)),
        user_id: Set(user_id),
        created_at: Set(now),
        expires_at: Set((now + PASSWORD_LINK_LIFETIME).timestamp()),
        used_at: Set(None),
    })
    .exec(db)
    .await?;
    Ok(secret)
}

/// The user a set-password link is for, if it is unused, unexpired and the user is enabled.
///
/// # Errors
/// When the database does not answer.
pub async fn password_link_user(
    db: &impl ConnectionTrait,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Option<users::Model>, DbErr> {
    let Some(link) = password_tokens::Entity::find_by_id(hash_secret(secret)).one(db).await? else {
        return Ok(None);
    };
    if link.used_at.is_some() || link.expires_at <= now.timestamp() {
        return Ok(None);
    }
    Ok(find_user(db, link.user_id).await?.filter(|user| !user.disabled))
}

/// Sets the password through a link and uses the link up. Returns `false` when the link no
/// longer works (used in the meantime, expired, user disabled).
///
/// # Errors
/// When the database refuses the change.
pub async fn use_password_link(
    db: &impl ConnectionTrait,
    secret: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let Some(user) = password_link_user(db, secret, now).await? else {
        return Ok(false);
    };
    // Claiming the link first makes a second, concurrent use of it fail.
    let claimed = password_tokens::Entity::update_many()
        .col_expr(password_tokens::Column::UsedAt, Expr::value(now))
        .filter(password_tokens::Column::Id.eq(hash_secret(secret)))
        .filter(password_tokens::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(false);
    }
    users::Entity::update_many()
        .col_expr(users::Column::PasswordHash, Expr::value(password_hash))
        .filter(users::Column::Id.eq(user.id))
        .exec(db)
        .await?;
    // The other links still pending (a "forgot password" beside an organiser's) are spent too.
    password_tokens::Entity::delete_many()
        .filter(password_tokens::Column::UserId.eq(user.id))
        .filter(password_tokens::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    // A new password ends every session made with the old one.
    end_sessions(db, user.id).await?;
    Ok(true)
}

/// Disables or re-enables a user; disabling ends their sessions at once.
///
/// # Errors
/// When the database refuses the change.
pub async fn set_disabled(db: &impl ConnectionTrait, user_id: i32, disabled: bool) -> Result<(), DbErr> {
    users::Entity::update_many()
        .col_expr(users::Column::Disabled, Expr::value(disabled))
        .filter(users::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    if disabled {
        end_sessions(db, user_id).await?;
    }
    Ok(())
}

/// Starts a session for `user_id`; returns the cookie's secret and the session.
///
/// # Errors
/// When the database refuses the row.
pub async fn create_session(
    db: &impl ConnectionTrait,
    user_id: i32,
    now: DateTime<Utc>,
) -> Result<(String, sessions::Model), DbErr> {
    let secret = new_secret("pls_");
    let session = sessions::Model {
        id: hash_secret(&secret),
        user_id,
        csrf_token: new_secret(""),
        created_at: now,
        expires_at: (now + SESSION_LIFETIME).timestamp(),
    };
    sessions::Entity::insert(sea_orm::IntoActiveModel::into_active_model(session.clone())).exec(db).await?;
    // Housekeeping: expired sessions of anyone go when someone logs in.
    sessions::Entity::delete_many().filter(sessions::Column::ExpiresAt.lte(now.timestamp())).exec(db).await?;
    Ok((secret, session))
}

/// The session a cookie's secret stands for, with its user, if it is unexpired and the user is
/// enabled. A disabled user's sessions are deleted here too, in case they outlived the change.
///
/// # Errors
/// When the database does not answer.
pub async fn session_user(
    db: &impl ConnectionTrait,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Option<SessionUser>, DbErr> {
    let Some(session) = sessions::Entity::find_by_id(hash_secret(secret)).one(db).await? else {
        return Ok(None);
    };
    if session.expires_at <= now.timestamp() {
        sessions::Entity::delete_by_id(session.id).exec(db).await?;
        return Ok(None);
    }
    match find_user(db, session.user_id).await? {
        Some(user) if !user.disabled => Ok(Some(SessionUser { session, user })),
        Some(user) => {
            end_sessions(db, user.id).await?;
            Ok(None)
        }
        None => Ok(None),
    }
}

/// Ends one session (logging out).
///
/// # Errors
/// When the database refuses the change.
pub async fn end_session(db: &impl ConnectionTrait, session_id: &str) -> Result<(), DbErr> {
    sessions::Entity::delete_by_id(session_id.to_owned()).exec(db).await?;
    Ok(())
}

/// Ends every session of a user.
///
/// # Errors
/// When the database refuses the change.
pub async fn end_sessions(db: &impl ConnectionTrait, user_id: i32) -> Result<u64, DbErr> {
    Ok(sessions::Entity::delete_many().filter(sessions::Column::UserId.eq(user_id)).exec(db).await?.rows_affected)
}
