//! Delegations' contacts, the people invitations go to: a delegation (or an organiser for it)
//! adds, lists and removes them. Every change is audited.

use sea_orm::{DatabaseConnection, SqlErr};
use serde_json::json;

use super::{Error, Rule, ServiceResult};
use crate::{
    auth::Principal,
    db::entities::contacts,
    mail,
    store::{self, audit::AuditEntry},
    validate::{self, TextKind},
};

/// A contact as the caller typed it.
#[derive(Debug, Clone)]
pub struct NewContact {
    pub name: String,
    pub email: String,
    /// One of [`mail::ROLES`].
    pub role: String,
    /// One of [`mail::LANGUAGES`].
    pub language: String,
}

/// The delegation `iso2` names (upper-cased), after checking it exists and the caller may act
/// for it.
async fn delegation(db: &DatabaseConnection, principal: &Principal, iso2: &str) -> ServiceResult<String> {
    let iso2 = iso2.to_uppercase();
    if store::reference::state(db, &iso2).await?.is_none() {
        return Err(Error::NotFound(format!("there is no State or Partner with the code {iso2:?}")));
    }
    super::require_acting_for(principal, &iso2)?;
    Ok(iso2)
}

/// Adds a contact to delegation `iso2` and audits it.
///
/// # Errors
/// [`Error::NotFound`] for an unknown State, [`Error::Forbidden`] for another delegation,
/// [`Error::Invalid`] naming the field at fault, [`Error::Conflict`] for an address the
/// delegation already has.
pub async fn add(
    db: &DatabaseConnection,
    principal: &Principal,
    iso2: &str,
    input: &NewContact,
) -> ServiceResult<contacts::Model> {
    let iso2 = delegation(db, principal, iso2).await?;
    let name = validate::required("name", TextKind::PersonName, &input.name)?;
    let email = validate::email("email", &input.email)?;
    if !mail::ROLES.contains(&input.role.as_str()) {
        return Err(Error::invalid(
            "role",
            Rule::Unknown,
            format!("must be one of {}, got {:?}", mail::ROLES.join(", "), input.role),
        ));
    }
    let language = validate::language("language", &input.language)?;
    let contact = match store::contacts::create(db, &iso2, &name, &email, &input.role, language).await {
        Ok(contact) => contact,
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(Error::conflict(format!("{iso2} already has a contact with the address {email}")));
        }
        Err(error) => return Err(error.into()),
    };
    store::audit::record(
        db,
        AuditEntry::<(), _> {
            actor: &principal.actor,
            action: "contact.create",
            subject_type: "contact",
            subject_id: contact.id.to_string(),
            before: None,
            after: Some(&json!({"state": iso2, "name": contact.name, "email": contact.email, "role": contact.role})),
        },
    )
    .await?;
    Ok(contact)
}

/// Delegation `iso2`'s contacts, in the order they were added.
///
/// # Errors
/// [`Error::NotFound`] for an unknown State, [`Error::Forbidden`] for another delegation.
pub async fn list(db: &DatabaseConnection, principal: &Principal, iso2: &str) -> ServiceResult<Vec<contacts::Model>> {
    let iso2 = delegation(db, principal, iso2).await?;
    Ok(store::contacts::list(db, &iso2).await?)
}

/// Removes contact `id` of delegation `iso2` and audits it; returns it as it was.
///
/// # Errors
/// [`Error::NotFound`] for an unknown State or contact, [`Error::Forbidden`] for another
/// delegation.
pub async fn remove(
    db: &DatabaseConnection,
    principal: &Principal,
    iso2: &str,
    id: i32,
) -> ServiceResult<contacts::Model> {
    let iso2 = delegation(db, principal, iso2).await?;
    let removed = store::contacts::delete(db, &iso2, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("{iso2} has no contact {id}")))?;
    store::audit::record(
        db,
        AuditEntry::<_, ()> {
            actor: &principal.actor,
            action: "contact.delete",
            subject_type: "contact",
            subject_id: id.to_string(),
            before: Some(&json!({"state": iso2, "name": removed.name, "email": removed.email})),
            after: None,
        },
    )
    .await?;
    Ok(removed)
}
