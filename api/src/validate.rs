//! The input policy at the edges: every JSON endpoint, form and command that stores text people
//! typed passes it through here first.
//!
//! The rules themselves are pure, in [`scheduler::text`] (kinds, maxima, forbidden characters,
//! the e-mail rule); this module turns a refusal into [`service::Error::Invalid`] with the field
//! and the rule (the JSON edge answers 422 with `details` `{"field": …, "rule": …}` plus
//! `code_point` or `max`; a form shows it beside the field) and adds what only the service
//! knows: an address must also be one lettre can put in a `To:` header.

use scheduler::text::{self, Kind, Rule, TextError};

use sea_orm::Iterable as _;

use crate::{db::enums::Language, service};

pub use scheduler::text::Kind as TextKind;

/// A required field of `kind`, normalised.
///
/// # Errors
/// [`service::Error::Invalid`] naming `field` and the rule broken.
pub fn required(field: &str, kind: Kind, value: &str) -> Result<String, service::Error> {
    Ok(text::required(field, kind, value)?)
}

/// An optional field of `kind`: absent or blank is `None`.
///
/// # Errors
/// [`service::Error::Invalid`] naming `field` and the rule broken.
pub fn optional(field: &str, kind: Kind, value: Option<&str>) -> Result<Option<String>, service::Error> {
    Ok(text::optional(field, kind, value)?)
}

/// An e-mail address, lower-cased: [`scheduler::text::email`], and one that lettre accepts, so
/// that a stored address always makes a mail that can be built.
///
/// # Errors
/// [`service::Error::Invalid`] naming `field` (`invalid_email`, or the policy's rule).
pub fn email(field: &str, value: &str) -> Result<String, service::Error> {
    let address = text::email(field, value)?;
    if address.parse::<lettre::Address>().is_err() {
        return Err(TextError { field: field.to_owned(), rule: Rule::InvalidEmail }.into());
    }
    Ok(address)
}

/// The language of mail to a person, read trimmed and in lower case. Every language a request
/// names is read here.
///
/// # Errors
/// [`service::Error::Invalid`] naming `field` ([`service::Rule::Format`]).
pub fn language(field: &str, value: &str) -> Result<Language, service::Error> {
    Language::parse(&value.trim().to_lowercase()).ok_or_else(|| {
        let known: Vec<String> = Language::iter().map(|language| language.to_string()).collect();
        service::Error::invalid(
            field,
            service::Rule::Format,
            format!("must be one of {}, got {value:?}", known.join(", ")),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_carry_field_and_rule() {
        let refused = required("name", Kind::PersonName, "Eve\nX").unwrap_err();
        let expected = TextError { field: "name".into(), rule: Rule::ControlCharacter('\n') };
        assert_eq!(refused.as_text_error(), Some(expected));
        assert!(email("email", "anna@bmeia.gv.at").is_ok());
        let refused = email("email", "anna@x..org").unwrap_err();
        assert_eq!(refused.as_text_error().map(|error| error.rule), Some(Rule::InvalidEmail));
    }

    #[test]
    fn a_language_is_read_trimmed_and_in_lower_case() {
        assert_eq!(language("language", " FR ").unwrap(), Language::Fr);
        let refused = language("language", "de").unwrap_err();
        assert_eq!(refused.to_string(), "language: must be one of en, fr, got \"de\"");
    }
}
