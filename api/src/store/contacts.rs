//! Delegations' contacts: the people invitations go to.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _,
    QueryFilter as _, QueryOrder as _, TryInsertResult,
};

use crate::db::{entities::contacts, enums::Language};

/// A delegation's contacts, in the order they were added.
///
/// # Errors
/// When the database does not answer.
pub async fn list(db: &impl ConnectionTrait, iso2: &str) -> Result<Vec<contacts::Model>, DbErr> {
    contacts::Entity::find().filter(contacts::Column::Iso2.eq(iso2)).order_by_asc(contacts::Column::Id).all(db).await
}

/// The contacts of `delegations` whose role is one of `roles`, in the order they were added.
///
/// # Errors
/// When the database does not answer.
pub async fn with_roles(
    db: &impl ConnectionTrait,
    delegations: &[String],
    roles: &[String],
) -> Result<Vec<contacts::Model>, DbErr> {
    contacts::Entity::find()
        .filter(contacts::Column::Iso2.is_in(delegations.iter().map(String::as_str)))
        .filter(contacts::Column::Role.is_in(roles.iter().map(String::as_str)))
        .order_by_asc(contacts::Column::Id)
        .all(db)
        .await
}

/// Adds a contact (the e-mail address is stored in lower case; the caller checked the values).
///
/// # Errors
/// A unique-constraint violation (see `DbErr::sql_err`) when the delegation already has a
/// contact with that address.
pub async fn create(
    db: &impl ConnectionTrait,
    iso2: &str,
    name: &str,
    email: &str,
    role: &str,
    language: Language,
) -> Result<contacts::Model, DbErr> {
    new_contact(iso2, name, email, role, language).insert(db).await
}

/// The row of a new contact, its address in lower case.
fn new_contact(iso2: &str, name: &str, email: &str, role: &str, language: Language) -> contacts::ActiveModel {
    contacts::ActiveModel {
        iso2: Set(iso2.to_owned()),
        name: Set(name.to_owned()),
        email: Set(email.to_lowercase()),
        role: Set(role.to_owned()),
        language: Set(language),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
}

/// Adds a contact like [`create`], or nothing when the delegation already has one with that
/// address (`None`). Safe inside a larger transaction: on PostgreSQL a failed insert would abort
/// the whole transaction, so the conflict is skipped by the database instead of caught here.
///
/// # Errors
/// When the database does not answer.
pub async fn create_unless_present(
    db: &impl ConnectionTrait,
    iso2: &str,
    name: &str,
    email: &str,
    role: &str,
    language: Language,
) -> Result<Option<contacts::Model>, DbErr> {
    let email = email.to_lowercase();
    let inserted = contacts::Entity::insert(new_contact(iso2, name, &email, role, language))
        .on_conflict_do_nothing_on([contacts::Column::Iso2, contacts::Column::Email])
        .exec_without_returning(db)
        .await?;
    if !matches!(inserted, TryInsertResult::Inserted(rows) if rows > 0) {
        return Ok(None);
    }
    contacts::Entity::find()
        .filter(contacts::Column::Iso2.eq(iso2))
        .filter(contacts::Column::Email.eq(email))
        .one(db)
        .await
}

/// Removes contact `id` of delegation `iso2`; `None` when there is no such contact.
///
/// # Errors
/// When the database does not answer.
pub async fn delete(db: &impl ConnectionTrait, iso2: &str, id: i32) -> Result<Option<contacts::Model>, DbErr> {
    let Some(contact) = contacts::Entity::find_by_id(id).filter(contacts::Column::Iso2.eq(iso2)).one(db).await? else {
        return Ok(None);
    };
    contacts::Entity::delete_by_id(id).exec(db).await?;
    Ok(Some(contact))
}
