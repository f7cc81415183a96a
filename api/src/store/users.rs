//! User accounts for the web pages.

use chrono::Utc;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait as _, PaginatorTrait as _, QueryFilter as _,
};

use crate::{
    auth::{Role, hash_password, new_secret},
    db::entities::users,
};

/// The login name of the organiser account created on the first start.
pub const FIRST_ORGANISER: &str = "admin";

/// Creates the first organiser account when there is no user at all.
///
/// Returns the password when it was generated here, so the caller can print it once; a password
/// given in the configuration is not echoed.
///
/// # Errors
/// When the database refuses the row.
pub async fn ensure_first_organiser(
    db: &impl ConnectionTrait,
    configured_password: Option<&str>,
) -> anyhow::Result<Option<String>> {
    if users::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    let generated = configured_password.is_none().then(|| new_secret("").chars().take(20).collect::<String>());
    let password = configured_password.or(generated.as_deref()).unwrap_or_default();
    users::Entity::insert(users::ActiveModel {
        username: Set(FIRST_ORGANISER.to_owned()),
        display_name: Set("Organiser".to_owned()),
        password_hash: Set(Some(hash_password(password)?)),
        role: Set(Role::Admin),
        iso2: Set(None),
        disabled: Set(false),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(generated)
}

/// Whether the only accounts are the first organiser that set-up created (what a database that
/// only `plenary migrate` has prepared holds).
///
/// # Errors
/// When the database does not answer.
pub async fn only_the_first_organiser(db: &impl ConnectionTrait) -> Result<bool, sea_orm::DbErr> {
    let others = users::Entity::find().filter(users::Column::Username.ne(FIRST_ORGANISER)).count(db).await?;
    Ok(others == 0)
}
