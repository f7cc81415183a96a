//! What makes a one-off meeting or conference acceptable before it is stored, checked in this
//! order (the first failure is the answer, naming the field at fault):
//!
//! 1. the body is one Plenary knows (its code in any case);
//! 2. the title is not blank;
//! 3. the end comes after the start, and the meeting lasts at most [`LONGEST_MEETING`];
//! 4. `country` and `host` are codes of known States or Partners (in any case), and the host
//!    takes part on the meeting's local start date (a Partner admitted later cannot host before);
//! 5. the place: a known room, in the meeting's own time zone (a room in Vienna cannot hold a
//!    meeting timed in Tokyo), or, for a meeting elsewhere, at least a city.
//!
//! Codes are normalised in place (upper case; the body's canonical code). Conflicts with other
//! meetings are [`crate::conflicts`]' business, asked after this.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use thiserror::Error;

use crate::{
    bodies::{BodyCode, body},
    states::{Membership, State, delegations_on},
};

/// The longest a single meeting may last.
pub const LONGEST_MEETING: TimeDelta = TimeDelta::days(31);

/// A meeting's fields as an organiser gave them, before they are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub body: String,
    pub title: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub zone: Tz,
    pub room: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub host: Option<String>,
}

impl Draft {
    /// The date the meeting starts on where it happens.
    #[must_use]
    pub fn local_date(&self) -> NaiveDate {
        self.start.with_timezone(&self.zone).date_naive()
    }
}

/// A room Plenary books, and where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomPlace<'a> {
    pub code: &'a str,
    pub city: &'a str,
    /// IANA name of the venue's zone.
    pub time_zone: &'a str,
}

/// The reference data a draft is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Reference<'a> {
    pub states: &'a [State],
    pub memberships: &'a [Membership],
    pub rooms: &'a [RoomPlace<'a>],
}

/// Why a draft is refused; [`DraftError::field`] names the field at fault, `Display` says what
/// is wrong without repeating it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DraftError {
    #[error("unknown body {code:?}; known bodies are {}", known_bodies())]
    UnknownBody { code: String },
    #[error("must not be empty")]
    EmptyTitle,
    #[error("must be after start")]
    EndNotAfterStart,
    #[error("a meeting may last at most {} days", LONGEST_MEETING.num_days())]
    TooLong,
    #[error("there is no State or Partner with the code {code:?}")]
    UnknownState { field: &'static str, code: String },
    #[error("{host} is not a participating State or Partner on {date}")]
    HostNotMember { host: String, date: NaiveDate },
    #[error("unknown room {code:?}; known rooms are {known}")]
    UnknownRoom { code: String, known: String },
    #[error("room {code} is in {city} ({room_zone}), not {zone}")]
    RoomElsewhere { code: String, city: String, room_zone: String, zone: String },
    #[error("give a room code, or a city (and country) for a meeting elsewhere")]
    NoPlace,
}

impl DraftError {
    /// The field of the draft at fault.
    #[must_use]
    pub const fn field(&self) -> &'static str {
        match self {
            Self::UnknownBody { .. } => "body",
            Self::EmptyTitle => "title",
            Self::EndNotAfterStart | Self::TooLong => "end",
            Self::UnknownState { field, .. } => field,
            Self::HostNotMember { .. } => "host",
            Self::UnknownRoom { .. } | Self::NoPlace => "room",
            Self::RoomElsewhere { .. } => "time_zone",
        }
    }
}

/// Every body code, for messages.
#[must_use]
pub fn known_bodies() -> String {
    BodyCode::ALL.iter().map(|code| code.as_str()).collect::<Vec<_>>().join(", ")
}

/// Checks `draft` by the rules in the module doc and normalises its codes.
///
/// # Errors
/// The first rule broken.
pub fn check(draft: &mut Draft, reference: &Reference<'_>) -> Result<(), DraftError> {
    let body = body(&draft.body.to_uppercase()).ok_or_else(|| DraftError::UnknownBody { code: draft.body.clone() })?;
    draft.body = body.code.as_str().to_owned();
    if draft.title.trim().is_empty() {
        return Err(DraftError::EmptyTitle);
    }
    if draft.end <= draft.start {
        return Err(DraftError::EndNotAfterStart);
    }
    if draft.end - draft.start > LONGEST_MEETING {
        return Err(DraftError::TooLong);
    }
    let date = draft.local_date();
    for (field, value) in [("country", &mut draft.country), ("host", &mut draft.host)] {
        if let Some(code) = value.as_mut() {
            *code = code.to_uppercase();
            if !reference.states.iter().any(|state| state.iso2 == *code) {
                return Err(DraftError::UnknownState { field, code: code.clone() });
            }
        }
    }
    if let Some(host) = &draft.host
        && !delegations_on(reference.states, reference.memberships, date)
            .iter()
            .any(|taking_part| &taking_part.iso2 == host)
    {
        return Err(DraftError::HostNotMember { host: host.clone(), date });
    }
    match draft.room.as_deref() {
        Some(code) => {
            let code = code.to_uppercase();
            let room =
                reference.rooms.iter().find(|room| room.code == code).ok_or_else(|| DraftError::UnknownRoom {
                    known: reference.rooms.iter().map(|room| room.code).collect::<Vec<_>>().join(", "),
                    code: code.clone(),
                })?;
            if room.time_zone != draft.zone.name() {
                return Err(DraftError::RoomElsewhere {
                    code,
                    city: room.city.to_owned(),
                    room_zone: room.time_zone.to_owned(),
                    zone: draft.zone.name().to_owned(),
                });
            }
            draft.room = Some(code);
        }
        None if draft.city.is_none() => return Err(DraftError::NoPlace),
        None => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;
    use crate::states::{PartnerGroup, StateKind};

    fn state(iso2: &str) -> State {
        State { iso2: iso2.into(), name_en: iso2.into(), name_fr: iso2.into(), protocol_sort_key: iso2.into() }
    }

    fn member(iso2: &str, kind: StateKind, from: NaiveDate) -> Membership {
        let partner_group = (kind == StateKind::Partner).then_some(PartnerGroup::Mediterranean);
        Membership { iso2: iso2.into(), kind, partner_group, from, until: None }
    }

    const ROOMS: [RoomPlace<'static>; 1] =
        [RoomPlace { code: "HOFBURG-NEUER-SAAL", city: "Vienna", time_zone: "Europe/Vienna" }];

    fn draft() -> Draft {
        Draft {
            body: "conf-med".into(),
            title: "Mediterranean Conference".into(),
            start: Utc.with_ymd_and_hms(2027, 10, 20, 7, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2027, 10, 21, 14, 0, 0).unwrap(),
            zone: chrono_tz::Asia::Amman,
            room: None,
            city: Some("Amman".into()),
            country: Some("jo".into()),
            host: Some("jo".into()),
        }
    }

    fn check_draft(mut draft: Draft) -> Result<Draft, DraftError> {
        let states = [state("AT"), state("JO")];
        let day = |year| NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
        let memberships =
            [member("AT", StateKind::Participating, day(1995)), member("JO", StateKind::Partner, day(1998))];
        check(&mut draft, &Reference { states: &states, memberships: &memberships, rooms: &ROOMS })?;
        Ok(draft)
    }

    #[test]
    fn a_conference_abroad_is_accepted_with_its_codes_normalised() {
        let checked = check_draft(draft()).unwrap();
        assert_eq!(checked.body, "CONF-MED");
        assert_eq!((checked.country.as_deref(), checked.host.as_deref()), (Some("JO"), Some("JO")));
    }

    #[test]
    fn each_rule_names_its_field() {
        type Case = (fn(&mut Draft), &'static str, &'static str);
        let cases: [Case; 9] = [
            (|d| d.body = "XYZ".into(), "body", "unknown body \"XYZ\""),
            (|d| d.title = "  ".into(), "title", "must not be empty"),
            (|d| d.end = d.start, "end", "must be after start"),
            (|d| d.end = d.start + TimeDelta::days(32), "end", "at most 31 days"),
            (|d| d.country = Some("zz".into()), "country", "no State or Partner with the code \"ZZ\""),
            (|d| d.start = Utc.with_ymd_and_hms(1997, 5, 1, 7, 0, 0).unwrap(), "host", "JO is not a participating"),
            (|d| d.room = Some("ROOM-X".into()), "room", "known rooms are HOFBURG-NEUER-SAAL"),
            (
                |d| d.room = Some("hofburg-neuer-saal".into()),
                "time_zone",
                "is in Vienna (Europe/Vienna), not Asia/Amman",
            ),
            (|d| d.city = None, "room", "give a room code"),
        ];
        for (change, field, words) in cases {
            let mut broken = draft();
            change(&mut broken);
            if field == "host" {
                broken.end = broken.start + TimeDelta::hours(3);
            }
            let error = check_draft(broken).unwrap_err();
            assert_eq!(error.field(), field, "{error}");
            assert!(error.to_string().contains(words), "{error} lacks {words}");
        }
    }

    #[test]
    fn a_room_in_the_meetings_zone_is_booked_by_its_code() {
        let mut in_vienna = draft();
        in_vienna.zone = chrono_tz::Europe::Vienna;
        in_vienna.room = Some("hofburg-neuer-saal".into());
        in_vienna.city = None;
        assert_eq!(check_draft(in_vienna).unwrap().room.as_deref(), Some("HOFBURG-NEUER-SAAL"));
    }
}
