//! The input policy at the edges: every JSON endpoint, form and command that stores text people
//! typed passes it through here first.
//!
//! The rules themselves are pure, in [`scheduler::text`] (kinds, maxima, forbidden characters,
//! the e-mail rule); this module turns a refusal into [`ApiError::Field`] — a 422 whose
//! `details` read `{"field": …, "rule": …}` (plus `code_point` or `max`) — and adds what only the
//! service knows: an address must also be one lettre can put in a `To:` header.

use scheduler::text::{self, Kind, Rule, TextError};
use serde_json::{Value, json};

use crate::http::ApiError;

pub use scheduler::text::Kind as TextKind;

/// A required field of `kind`, normalised.
///
/// # Errors
/// [`ApiError::Field`] naming `field` and the rule broken.
pub fn required(field: &str, kind: Kind, value: &str) -> Result<String, ApiError> {
    Ok(text::required(field, kind, value)?)
}

/// An optional field of `kind`: absent or blank is `None`.
///
/// # Errors
/// [`ApiError::Field`] naming `field` and the rule broken.
pub fn optional(field: &str, kind: Kind, value: Option<&str>) -> Result<Option<String>, ApiError> {
    Ok(text::optional(field, kind, value)?)
}

/// An e-mail address, lower-cased: [`scheduler::text::email`], and one that lettre accepts, so
/// that a stored address always makes a mail that can be built.
///
/// # Errors
/// [`ApiError::Field`] naming `field` (`invalid_email`, or the policy's rule).
pub fn email(field: &str, value: &str) -> Result<String, ApiError> {
    let address = text::email(field, value)?;
    if address.parse::<lettre::Address>().is_err() {
        return Err(TextError { field: field.to_owned(), rule: Rule::InvalidEmail }.into());
    }
    Ok(address)
}

/// The `details` of a refusal: the field, the rule's name and what the rule needs to be read.
#[must_use]
pub fn details(error: &TextError) -> Value {
    let mut details = json!({"field": error.field, "rule": error.rule.code()});
    match &error.rule {
        Rule::ControlCharacter(c) => details["code_point"] = json!(format!("U+{:04X}", u32::from(*c))),
        Rule::TooLong { max } => details["max"] = json!(max),
        Rule::Empty | Rule::InvalidEmail => {}
    }
    details
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_carry_field_and_rule() {
        let Err(ApiError::Field(error)) = required("name", Kind::PersonName, "Eve\nX") else { panic!("accepted") };
        assert_eq!(details(&error), json!({"field": "name", "rule": "control_character", "code_point": "U+000A"}));
        assert!(email("email", "anna@bmeia.gv.at").is_ok());
        assert!(matches!(email("email", "anna@x..org"), Err(ApiError::Field(_))));
    }
}
