//! Showing errors next to the field they are about.
//!
//! A use case's [`service::Error::Invalid`] names its field, and lands next to that field; a
//! room clash ([`ConflictKind::RoomTaken`]) lands on the room. [`FormErrors::from_service`]
//! sorts them onto the form's fields, and keeps anything it cannot place as a message for the
//! top of the form.

use std::collections::BTreeMap;

use scheduler::{conflicts::RoomClash, text::Rule};

use crate::service::{self, ConflictKind};

use serde::Deserialize;

use super::{Chrome, Flash, WebError};

/// `?done=<form>`: the form just sent, whose message is shown in it.
#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

impl DoneQuery {
    /// The message of the form just sent, with that form's anchor, when it is one of `forms`:
    /// it is shown in that form, not at the top of the page (where it stays otherwise).
    pub fn take_flash(self, c: &mut Chrome, forms: &[&str]) -> Option<(String, Flash)> {
        match (self.done, c.flash.take()) {
            (Some(anchor), Some(flash)) if forms.contains(&anchor.as_str()) => Some((anchor, flash)),
            (_, flash) => {
                c.flash = flash;
                None
            }
        }
    }
}

/// The errors of one form: by field, plus those about the whole form.
#[derive(Debug, Default, Clone)]
pub struct FormErrors {
    fields: BTreeMap<String, String>,
    pub general: Vec<String>,
    /// The room is taken: offer "book anyway".
    pub room_clash: bool,
    /// The meeting holding the room, so the form can link it by its title and date.
    pub clash: Option<RoomClash>,
}

impl FormErrors {
    /// Sorts a use case's error onto `fields` (the names of the form's inputs).
    ///
    /// # Errors
    /// Errors that are not about the form's content (not found, forbidden, internal, a
    /// delegation that is not invited) stay errors, shown as their own page.
    pub fn from_service(error: service::Error, fields: &[&str]) -> Result<Self, WebError> {
        let mut errors = Self::default();
        errors.add_service(error, fields)?;
        Ok(errors)
    }

    /// Adds a use case's error to these, as [`Self::from_service`] sorts it.
    ///
    /// # Errors
    /// As [`Self::from_service`].
    pub fn add_service(&mut self, error: service::Error, fields: &[&str]) -> Result<(), WebError> {
        match error {
            service::Error::Invalid { field: Some(field), message, .. } if fields.contains(&field.as_str()) => {
                self.add(&field, capitalise(&message));
            }
            invalid @ service::Error::Invalid { .. } => self.general.push(capitalise(&invalid.to_string())),
            service::Error::Conflict { kind: ConflictKind::RoomTaken(clash), message } if fields.contains(&"room") => {
                self.room_clash = true;
                self.clash = Some(*clash);
                self.add("room", capitalise(&message));
            }
            service::Error::Conflict { kind: ConflictKind::Duplicate { field }, message }
                if fields.contains(&field) =>
            {
                self.add(field, capitalise(&message));
            }
            service::Error::Conflict { message, .. } => self.general.push(capitalise(&message)),
            service::Error::Refused(refusal)
                if !matches!(refusal, scheduler::attendance::Refusal::NotInvited { .. }) =>
            {
                self.general.push(capitalise(&refusal.to_string()));
            }
            service::Error::Several(errors) => {
                for error in errors {
                    self.add_service(error, fields)?;
                }
            }
            other => return Err(other.into()),
        }
        Ok(())
    }

    /// Places a refusal of the input policy next to its field. An empty or malformed value gets
    /// `hint` (what to type), every other rule its own message (what is wrong with the text).
    pub fn place(&mut self, error: service::Error, hint: &str) {
        match error {
            service::Error::Invalid { field: Some(field), rule: service::Rule::Text(rule), message } => {
                let message = match rule {
                    Rule::Empty | Rule::InvalidEmail => hint.to_owned(),
                    _ => capitalise(&message),
                };
                self.add(&field, message);
            }
            other => self.general.push(capitalise(&other.to_string())),
        }
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.fields.insert(field.to_owned(), message.into());
    }

    /// The error for `field`, if any (templates call this next to each input).
    #[must_use]
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_empty()
    }

    /// The number of errors, for the summary at the top of the form.
    #[must_use]
    pub fn count(&self) -> usize {
        self.fields.len() + self.general.len()
    }
}

/// `text` with a capital first letter (the API's messages start in lower case).
pub fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_land_next_to_their_field() {
        let after_start = service::Error::invalid("end", service::Rule::Range, "must be after start");
        let errors = FormErrors::from_service(after_start, &["start", "end"]).unwrap();
        assert_eq!(errors.get("end"), Some("Must be after start"));
        let elsewhere = service::Error::invalid("time_zone", service::Rule::Unknown, "oops");
        let errors = FormErrors::from_service(elsewhere, &["start"]).unwrap();
        assert_eq!(errors.general, ["Time_zone: oops"]);
        let clash = scheduler::conflicts::RoomClash {
            room: "X".into(),
            room_name: "Room X".into(),
            other_id: "7".into(),
            other_label: "PC".into(),
            other_start: chrono::DateTime::UNIX_EPOCH,
            other_end: chrono::DateTime::UNIX_EPOCH,
            other_when: "1 January 1970, 00:00–00:00".into(),
            message: "Room taken.".into(),
        };
        let taken =
            service::Error::Conflict { message: clash.message.clone(), kind: ConflictKind::RoomTaken(Box::new(clash)) };
        let errors = FormErrors::from_service(taken, &["room"]).unwrap();
        assert!(errors.room_clash);
        assert_eq!(errors.get("room"), Some("Room taken."));
        let errors = FormErrors::from_service(service::Error::NotFound("gone".into()), &["room"]);
        assert!(matches!(errors, Err(WebError::NotFound(_))));
        let refused = crate::validate::required("name", crate::validate::TextKind::PersonName, "Eve\nX").unwrap_err();
        let errors = FormErrors::from_service(refused, &["name", "email"]).unwrap();
        assert_eq!(errors.get("name"), Some("Must be on one line: it contains U+000A LINE FEED"));
    }
}
