//! The use cases: one function per thing a user does, shared by the JSON API ([`crate::http`]),
//! the pages ([`crate::web`]) and the command line ([`crate::cli`]).
//!
//! Each takes typed input and the acting user ([`crate::auth::Principal`]), checks text through
//! [`crate::validate`], loads and writes through [`crate::store`] (one transaction), asks
//! [`scheduler`] for every decision, and returns typed output or an [`Error`] that each edge
//! renders its own way: JSON with a status code, or a message next to a form's field.

pub mod accounts;
pub mod contacts;
pub mod documents;
pub mod error;
pub mod feeds;
pub mod invitations;
pub mod lists;
pub mod meetings;
pub mod reference;
pub mod registrations;
pub mod reminders;
pub mod seating;

pub use error::{ConflictKind, Error, Rule, ServiceResult};

use crate::auth::{Principal, Role};

/// Only organisers (and admins) may `what` ("attach a meeting's documents").
///
/// # Errors
/// [`Error::Forbidden`] saying so, for a delegation.
pub fn require_organiser(principal: &Principal, what: &str) -> ServiceResult<()> {
    if principal.is_organiser() { Ok(()) } else { Err(Error::Forbidden(format!("Only organisers {what}."))) }
}

/// Organisers may act for any delegation; a delegation only for itself.
///
/// # Errors
/// [`Error::Forbidden`] naming both States when a delegation acts for another.
pub fn require_acting_for(principal: &Principal, iso2: &str) -> ServiceResult<()> {
    match (&principal.role, &principal.state) {
        (Role::Admin | Role::Organiser, _) => Ok(()),
        (Role::Delegation, Some(own)) if own == iso2 => Ok(()),
        (Role::Delegation, own) => Err(Error::Forbidden(format!(
            "this token belongs to the delegation of {}; it cannot act for {iso2}",
            own.as_deref().unwrap_or("no State")
        ))),
    }
}
