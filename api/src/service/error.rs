//! What a use case can fail with, as types: the edges map each variant (the JSON edge to a
//! status and `{"error": …}`, the pages to a message beside a field or a page in words), so no
//! edge ever parses a message to find out what went wrong.

use scheduler::{
    attendance::Refusal,
    conflicts::RoomClash,
    text::{self, TextError},
};

use crate::store::attendance::AttendanceError;

/// Why a use case did not happen.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value is not acceptable. `field` names the input it came in (`None`: the request as a
    /// whole); `message` says what is wrong without repeating the field's name.
    #[error("{}", display_invalid(field.as_deref(), message))]
    Invalid { field: Option<String>, rule: Rule, message: String },
    /// The request clashes with the current state of things.
    #[error("{message}")]
    Conflict { kind: ConflictKind, message: String },
    /// The attendance rules refuse a registration; the refusal names the reason.
    #[error(transparent)]
    Refused(Refusal),
    /// The thing named does not exist (or the caller may not know that it does).
    #[error("{0}")]
    NotFound(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// A form checked as a whole found several problems; each says its own (never one of these
    /// itself).
    #[error("{}", display_several(.0))]
    Several(Vec<Error>),
    /// The database cannot be reached right now ([`crate::db::is_unavailable`]): the request
    /// may succeed when it is back (503 at the edges). The cause is logged, never shown.
    #[error("the database cannot be reached right now")]
    Unavailable(anyhow::Error),
    /// Plenary cannot take this request right now, but may in a moment (too many like it are
    /// waiting, or the task deciding it ended before it did); the message says which and is
    /// shown. 503 with `Retry-After` at the edges, like [`Error::Unavailable`].
    #[error("{0}")]
    TryAgain(String),
    /// Our fault (a database error, a bug); logged by the edge, never shown.
    #[error(transparent)]
    Internal(anyhow::Error),
}

/// Which rule an invalid value breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// The input policy for text ([`scheduler::text`]): forbidden characters, length, e-mail.
    Text(text::Rule),
    /// Not in the expected form (a date-time, a time zone, a language).
    Format,
    /// Names something Plenary does not know (a body, a room, a State).
    Unknown,
    /// Outside the allowed range or order (an end before the start, a year, a quota).
    Range,
    /// Disagrees with another value or with the date (a room in another zone, a host that is
    /// not a member on that day).
    Mismatch,
    /// Needed here, but not given.
    Missing,
    /// A value this caller may not choose (an organiser account, asked for by an organiser).
    NotPermitted,
}

/// What a request clashes with.
#[derive(Debug, Clone, PartialEq)]
pub enum ConflictKind {
    /// The room is booked by another meeting at that time (can be overridden by forcing).
    RoomTaken(Box<RoomClash>),
    /// The same attendee is already registered for the meeting (found by the database's unique
    /// index when two requests raced past the rules).
    AlreadyRegistered,
    /// The thing is not in a state that allows this (already cancelled, withdrawn, sent).
    State,
    /// Something else already has this value of `field`, which must be unique (an account's
    /// username).
    Duplicate { field: &'static str },
}

/// The result of a use case.
pub type ServiceResult<T> = Result<T, Error>;

impl Error {
    /// `field`'s value breaks `rule`.
    #[must_use]
    pub fn invalid(field: &str, rule: Rule, message: impl Into<String>) -> Self {
        Self::Invalid { field: Some(field.to_owned()), rule, message: message.into() }
    }

    /// The request as a whole is not acceptable (no one field is to blame).
    #[must_use]
    pub fn invalid_request(rule: Rule, message: impl Into<String>) -> Self {
        Self::Invalid { field: None, rule, message: message.into() }
    }

    /// The thing is not in a state that allows this.
    #[must_use]
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict { kind: ConflictKind::State, message: message.into() }
    }

    /// The refusal of the input policy this error is, if it is one.
    #[must_use]
    pub fn as_text_error(&self) -> Option<TextError> {
        match self {
            Self::Invalid { field: Some(field), rule: Rule::Text(rule), .. } => {
                Some(TextError { field: field.clone(), rule: rule.clone() })
            }
            _ => None,
        }
    }
}

fn display_several(errors: &[Error]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

fn display_invalid(field: Option<&str>, message: &str) -> String {
    field.map_or_else(|| message.to_owned(), |field| format!("{field}: {message}"))
}

impl From<TextError> for Error {
    fn from(error: TextError) -> Self {
        let message = error.reason();
        Self::Invalid { field: Some(error.field), rule: Rule::Text(error.rule), message }
    }
}

/// The one place a failure becomes [`Error::Unavailable`] or [`Error::Internal`].
impl From<anyhow::Error> for Error {
    fn from(error: anyhow::Error) -> Self {
        if crate::db::is_unavailable_cause(&error) { Self::Unavailable(error) } else { Self::Internal(error) }
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(error: sea_orm::DbErr) -> Self {
        anyhow::Error::from(error).into()
    }
}

impl From<AttendanceError> for Error {
    fn from(error: AttendanceError) -> Self {
        match error {
            AttendanceError::Refused(refusal) => Self::Refused(refusal),
            AttendanceError::NotFound(message) => Self::NotFound(message),
            AttendanceError::Conflict(message) => Self::conflict(message),
            AttendanceError::Db(error) => match error.sql_err() {
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Self::Conflict {
                    kind: ConflictKind::AlreadyRegistered,
                    message: "this attendee is already registered for the meeting".into(),
                },
                _ => error.into(),
            },
        }
    }
}
