//! The use cases: one function per thing a user does, shared by the JSON API ([`crate::http`]),
//! the pages ([`crate::web`]) and the command line ([`crate::cli`]).
//!
//! Each takes typed input and the acting user ([`crate::auth::Principal`]), checks text through
//! [`crate::validate`], loads and writes through [`crate::store`] (one transaction), asks
//! [`scheduler`] for every decision, and returns typed output or an [`Error`] that each edge
//! renders its own way: JSON with a status code, or a message next to a form's field.

pub mod error;
pub mod meetings;
pub mod seating;

pub use error::{ConflictKind, Error, Rule, ServiceResult};
