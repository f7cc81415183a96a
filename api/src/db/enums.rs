//! The closed sets of words stored in text columns, as enums: a row read back always holds one
//! of them, and code compares variants instead of strings.
//!
//! The stored words are the serde names too, so JSON and the audit log show the same words as
//! before. Seats and registration statuses mirror `scheduler::attendance`'s (which knows nothing
//! of the database); the conversions and comparisons between the two live here.

use scheduler::attendance;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Whether a meeting takes place (`meetings.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum MeetingStatus {
    /// It takes place.
    Scheduled,
    /// Cancelled; it stays visible, marked.
    Cancelled,
}

/// Where a registration stands (`registrations.status`); see [`attendance::Status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum RegistrationStatus {
    Confirmed,
    Waiting,
    Withdrawn,
}

/// Where an attendee sits (`registrations.seat`); see [`attendance::Seat`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Seat {
    Main,
    Behind,
}

/// The language of mail to a person (`registrations`, `contacts` and `outbox.language`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Language {
    En,
    Fr,
}

impl Language {
    /// The language whose code is `code` exactly (`en`, `fr`).
    #[must_use]
    pub fn parse(code: &str) -> Option<Self> {
        Self::try_from_value(&code.to_owned()).ok()
    }
}

impl From<Language> for scheduler::when_where::Language {
    fn from(language: Language) -> Self {
        match language {
            Language::En => Self::English,
            Language::Fr => Self::French,
        }
    }
}

/// Where a message is in its delivery (`outbox.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting for a worker (new, or after a temporary failure).
    Queued,
    /// Claimed by a worker whose lease has not run out.
    Sending,
    /// Accepted by the SMTP server.
    Sent,
    /// Refused for good (a 5xx answer, or too many temporary failures); `last_error` says why.
    Failed,
}

impl From<Seat> for attendance::Seat {
    fn from(seat: Seat) -> Self {
        match seat {
            Seat::Main => Self::Main,
            Seat::Behind => Self::Behind,
        }
    }
}

impl From<attendance::Seat> for Seat {
    fn from(seat: attendance::Seat) -> Self {
        match seat {
            attendance::Seat::Main => Self::Main,
            attendance::Seat::Behind => Self::Behind,
        }
    }
}

impl PartialEq<attendance::Seat> for Seat {
    fn eq(&self, other: &attendance::Seat) -> bool {
        attendance::Seat::from(*self) == *other
    }
}

impl From<RegistrationStatus> for attendance::Status {
    fn from(status: RegistrationStatus) -> Self {
        match status {
            RegistrationStatus::Confirmed => Self::Confirmed,
            RegistrationStatus::Waiting => Self::Waiting,
            RegistrationStatus::Withdrawn => Self::Withdrawn,
        }
    }
}

impl From<attendance::Status> for RegistrationStatus {
    fn from(status: attendance::Status) -> Self {
        match status {
            attendance::Status::Confirmed => Self::Confirmed,
            attendance::Status::Waiting => Self::Waiting,
            attendance::Status::Withdrawn => Self::Withdrawn,
        }
    }
}

impl PartialEq<attendance::Status> for RegistrationStatus {
    fn eq(&self, other: &attendance::Status) -> bool {
        attendance::Status::from(*self) == *other
    }
}

/// Pages and CSV files show the stored word.
macro_rules! display_as_stored {
    ($($name:ident),*) => {$(
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.to_value())
            }
        }
    )*};
}

display_as_stored!(MeetingStatus, RegistrationStatus, Seat, Language, OutboxStatus);
