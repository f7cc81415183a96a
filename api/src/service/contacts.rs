//! Delegations' contacts, the people invitations go to: a delegation (or an organiser for it)
//! adds, lists and removes them; the person behind a delegation's account becomes its contact
//! point when the account is created, or later in one click. Every change is audited.

use sea_orm::{ConnectionTrait, DatabaseConnection, SqlErr};
use serde_json::json;

use super::{ConflictKind, Error, Rule, ServiceResult};
use crate::{
    auth::{Principal, Role},
    db::{
        entities::{contacts, users},
        enums::Language,
    },
    mail,
    store::{self, audit::AuditEntry},
    validate::{self, TextKind},
};

/// The role a delegation account's holder is given as a contact: the one invitations go to
/// by default ([`mail::MailConfig::invite_roles`]).
pub const ACCOUNT_HOLDER_ROLE: &str = "contact_point";

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
    audit_created(db, principal, &contact).await?;
    Ok(contact)
}

async fn audit_created(
    db: &impl ConnectionTrait,
    principal: &Principal,
    contact: &contacts::Model,
) -> ServiceResult<()> {
    store::audit::record(
        db,
        AuditEntry::<(), _> {
            actor: &principal.actor,
            action: "contact.create",
            subject_type: "contact",
            subject_id: contact.id.to_string(),
            before: None,
            after: Some(
                &json!({"state": contact.iso2, "name": contact.name, "email": contact.email, "role": contact.role}),
            ),
        },
    )
    .await?;
    Ok(())
}

/// Makes the holder of delegation account `user` their delegation's contact point who receives
/// invitations (name, address, `language`), in the caller's transaction `db`. `None` when the
/// delegation already has a contact with that address (it is not added twice), or when the
/// account is not a delegation's.
///
/// # Errors
/// When the database does not answer.
pub async fn add_account_holder(
    db: &impl ConnectionTrait,
    principal: &Principal,
    user: &users::Model,
    language: Language,
) -> ServiceResult<Option<contacts::Model>> {
    let (Role::Delegation, Some(iso2)) = (user.role, user.iso2.as_deref()) else {
        return Ok(None);
    };
    super::require_acting_for(principal, iso2)?;
    let email = user.username.to_lowercase();
    if store::contacts::list(db, iso2).await?.iter().any(|contact| contact.email.eq_ignore_ascii_case(&email)) {
        return Ok(None);
    }
    // Added by someone else a moment ago: it is there, as wanted.
    let Some(contact) =
        store::contacts::create_unless_present(db, iso2, &user.display_name, &email, ACCOUNT_HOLDER_ROLE, language)
            .await?
    else {
        return Ok(None);
    };
    audit_created(db, principal, &contact).await?;
    Ok(Some(contact))
}

/// The one-click "add as contact" for existing delegation account `user_id` (organisers):
/// adds its holder as their delegation's contact point, in `language` (`en`, `fr`).
///
/// # Errors
/// [`Error::Forbidden`] for a delegation user, [`Error::NotFound`] for an unknown account,
/// [`Error::Invalid`] for an account that is not a delegation's or a language not known,
/// [`ConflictKind::Duplicate`] when the delegation already has a contact with that address.
pub async fn add_account_as_contact(
    db: &DatabaseConnection,
    principal: &Principal,
    user_id: i32,
    language: &str,
) -> ServiceResult<contacts::Model> {
    if !principal.is_organiser() {
        return Err(Error::Forbidden("Only organisers add an account's holder as a contact.".into()));
    }
    let language = validate::language("language", language)?;
    let user = store::accounts::find_user(db, user_id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("There is no account {user_id}.")))?;
    if user.role != Role::Delegation || user.iso2.is_none() {
        let message =
            format!("{} is not a delegation's account, so it has no delegation to be a contact of.", user.username);
        return Err(Error::invalid("user", Rule::Mismatch, message));
    }
    let txn = crate::db::begin_write(db).await?;
    let Some(contact) = add_account_holder(&txn, principal, &user, language).await? else {
        txn.rollback().await?;
        return Err(Error::Conflict {
            kind: ConflictKind::Duplicate { field: "email" },
            message: format!("{} is already a contact of their delegation.", user.username),
        });
    };
    txn.commit().await?;
    Ok(contact)
}

/// The addresses that are contacts of each delegation in `delegations`, lower case, as pairs
/// (ISO code, address): the accounts page offers "add as contact" to the others.
///
/// # Errors
/// When the database does not answer.
pub async fn addresses(db: &DatabaseConnection, delegations: &[String]) -> ServiceResult<Vec<(String, String)>> {
    let all_roles: Vec<String> = mail::ROLES.iter().map(|&role| role.to_owned()).collect();
    Ok(store::contacts::with_roles(db, delegations, &all_roles)
        .await?
        .into_iter()
        .map(|contact| (contact.iso2, contact.email.to_lowercase()))
        .collect())
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
