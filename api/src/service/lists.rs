//! The lists of a meeting's people, for downloads: the attendance list (organisers see every
//! delegation, a delegation only its own people) and, for organisers, the list of participants
//! and the name badges. What the lists hold and in which order is [`scheduler::lists`]'s; this
//! loads the rows the caller may see and the meeting's heading.

use chrono::NaiveDate;
use scheduler::{
    lists::Attendee,
    when_where::{Language, zone_city},
};
use sea_orm::DatabaseConnection;

use super::{Error, ServiceResult};
use crate::{
    auth::{Principal, Role},
    store::{
        self,
        meetings::{Context, local_date, time_of},
    },
};

/// Who a list is about and what its heading says.
#[derive(Debug, Clone)]
pub struct MeetingPeople {
    pub title: String,
    /// The local start date, for file names.
    pub date: NaiveDate,
    /// "Wednesday 20 October 2027, 10:00–13:00 (Asia/Amman)".
    pub when: String,
    /// Where, in one line; empty while not known.
    pub place: String,
    /// The city whose clock registration times are on ("Amman").
    pub zone_city: String,
    /// Everyone registered or waiting whom the caller may see.
    pub attendees: Vec<Attendee>,
}

/// Meeting `id`'s people as the caller may see them: an organiser everyone, a delegation its
/// own State's people.
///
/// # Errors
/// [`Error::NotFound`] for an unknown meeting; [`Error::Forbidden`] for a delegation account
/// without a State; [`Error::Internal`] when the database fails.
pub async fn attendance(db: &DatabaseConnection, principal: &Principal, id: i32) -> ServiceResult<MeetingPeople> {
    let own_state = match (principal.role, principal.state.as_deref()) {
        (Role::Admin | Role::Organiser, _) => None,
        (Role::Delegation, Some(iso2)) => Some(iso2.to_owned()),
        (Role::Delegation, None) => {
            return Err(Error::Forbidden("this account acts for no delegation, so it has no list".into()));
        }
    };
    let meeting = super::meetings::load(db, id).await?;
    let context = Context::load(db).await?;
    let zone = meeting.zone();
    let rows = store::attendance::active(db, id).await?;
    let attendees = rows
        .into_iter()
        .filter(|row| own_state.as_deref().is_none_or(|own| own == row.iso2))
        .map(|row| {
            let state = context.states.states.iter().find(|state| state.iso2 == row.iso2);
            Attendee {
                state_name: state.map_or_else(|| row.iso2.clone(), |state| state.name_en.clone()),
                protocol_sort_key: state.map_or_else(|| row.iso2.clone(), |state| state.protocol_sort_key.clone()),
                registered_at: row.created_at.with_timezone(&zone).naive_local(),
                name: row.name,
                function: row.function,
                email: row.email,
                seat: row.seat.into(),
                status: row.status.into(),
                arrival: row.arrival,
            }
        })
        .collect();
    Ok(MeetingPeople {
        date: local_date(&meeting),
        when: time_of(&meeting).period_with_zone(Language::English),
        place: context.place(&meeting, Language::English).line(),
        zone_city: zone_city(&meeting.time_zone),
        title: meeting.title,
        attendees,
    })
}

/// Meeting `id`'s people for the list of participants and the badges, which only organisers
/// print.
///
/// # Errors
/// [`Error::Forbidden`] for a delegation; otherwise as [`attendance`].
pub async fn participants(db: &DatabaseConnection, principal: &Principal, id: i32) -> ServiceResult<MeetingPeople> {
    if !principal.is_organiser() {
        return Err(Error::Forbidden("only organisers print the list of participants and the badges".into()));
    }
    attendance(db, principal, id).await
}
