//! What a subscription feed says: which meetings a scope (a delegation, a body, everything)
//! sees, and how a meeting reads as a calendar event. Pure: the service loads the meetings and
//! the names, this module turns them into a [`Feed`] that [`crate::ical::render_feed`] writes.
//!
//! The feed's DTSTAMP is the latest change among its events, not the time of the request, so
//! the same data always gives the same bytes (and the same ETag).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use thiserror::Error;

use crate::{
    bodies::{Body, BodyCode, Invites},
    chairs::Chair,
    eligibility::invitees,
    ical::{CalendarEvent, EventStatus, Feed},
    states::Delegation,
    when_where::Place,
};

/// Whose meetings a feed shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedScope<'a> {
    /// The meetings a delegation is invited to, by each body's rules on each meeting's date.
    Delegation { iso2: &'a str, name_en: &'a str },
    /// Every meeting of one body.
    Body(&'static Body),
    /// Every meeting.
    All,
}

impl FeedScope<'_> {
    /// The calendar's name as clients show it (X-WR-CALNAME).
    #[must_use]
    pub fn calendar_name(&self) -> String {
        match self {
            Self::Delegation { name_en, .. } => format!("Plenary — Delegation of {name_en}"),
            Self::Body(body) => format!("Plenary — {}", body.name_en),
            Self::All => "Plenary — all meetings".to_owned(),
        }
    }

    /// What the feed shows, in words, for the pages that list subscriptions.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Delegation { name_en, .. } => format!("Meetings {name_en} is invited to"),
            Self::Body(body) => format!("{} meetings", body.name_en),
            Self::All => "Every meeting".to_owned(),
        }
    }

    /// Whether a meeting of `body` belongs in this feed; `delegations` are those taking part on
    /// the meeting's local date (only a delegation scope looks at them).
    #[must_use]
    pub fn includes<'d>(&self, body: &Body, delegations: impl FnOnce() -> &'d [Delegation]) -> bool {
        match self {
            Self::Delegation { iso2, .. } => {
                invitees(body, delegations()).iter().any(|invitee| invitee.delegation.iso2 == *iso2)
            }
            Self::Body(only) => only.code == body.code,
            Self::All => true,
        }
    }
}

/// What a new subscription asks for, once its shape is right: [`requested`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// The meetings the delegation of this State (ISO code, upper case) is invited to.
    Delegation(String),
    /// Every meeting of one body.
    Body(&'static Body),
    /// Every meeting.
    All,
}

impl Requested {
    /// The scope's name as stored and as the API spells it.
    #[must_use]
    pub fn scope(&self) -> &'static str {
        match self {
            Self::Delegation(_) => "delegation",
            Self::Body(_) => "body",
            Self::All => "all",
        }
    }
}

/// Why a subscription cannot be made as asked; [`Self::field`] names the input to blame.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RequestProblem {
    #[error("unknown scope {0:?}; expected delegation, body or all")]
    UnknownScope(String),
    #[error("a delegation feed needs the State's ISO code")]
    StateMissing,
    #[error("there is no State or Partner with the code {0:?}")]
    UnknownState(String),
    #[error("only a delegation feed names a State, not {0}")]
    StateNotAllowed(&'static str),
    #[error("a body feed needs the body's code")]
    BodyMissing,
    #[error("unknown body {0:?}; known bodies are {known}", known = known_bodies())]
    UnknownBody(String),
    #[error("only a body feed names a body, not {0}")]
    BodyNotAllowed(&'static str),
}

impl RequestProblem {
    /// The input the problem is in: `scope`, `state` or `body`.
    #[must_use]
    pub fn field(&self) -> &'static str {
        match self {
            Self::UnknownScope(_) => "scope",
            Self::StateMissing | Self::UnknownState(_) | Self::StateNotAllowed(_) => "state",
            Self::BodyMissing | Self::UnknownBody(_) | Self::BodyNotAllowed(_) => "body",
        }
    }
}

/// A field's text, with a blank one (an empty choice on a form) taken as absent.
fn given(field: Option<&str>) -> Option<&str> {
    field.map(str::trim).filter(|text| !text.is_empty())
}

fn known_bodies() -> String {
    BodyCode::ALL.iter().map(|code| code.as_str()).collect::<Vec<_>>().join(", ")
}

/// Reads a subscription request: a delegation feed names a State (and nothing else), a body
/// feed a body, a feed of everything neither. Blank values count as absent; codes are read
/// trimmed and in upper case. The checks run in that order (scope, State, body), and
/// `state_exists` is asked only about the State of a delegation feed.
///
/// # Errors
/// The first [`RequestProblem`] found.
pub fn requested(
    scope: &str,
    state: Option<&str>,
    body: Option<&str>,
    state_exists: impl FnOnce(&str) -> bool,
) -> Result<Requested, RequestProblem> {
    let scope = match scope {
        "delegation" => "delegation",
        "body" => "body",
        "all" => "all",
        other => return Err(RequestProblem::UnknownScope(other.to_owned())),
    };
    let iso2 = match (scope, given(state)) {
        ("delegation", None) => return Err(RequestProblem::StateMissing),
        ("delegation", Some(code)) => {
            let code = code.to_uppercase();
            if !state_exists(&code) {
                return Err(RequestProblem::UnknownState(code));
            }
            Some(code)
        }
        (_, Some(_)) => return Err(RequestProblem::StateNotAllowed(scope)),
        (_, None) => None,
    };
    let body = match (scope, given(body)) {
        ("body", None) => return Err(RequestProblem::BodyMissing),
        ("body", Some(code)) => Some(
            crate::bodies::body(&code.to_uppercase()).ok_or_else(|| RequestProblem::UnknownBody(code.to_owned()))?,
        ),
        (_, Some(_)) => return Err(RequestProblem::BodyNotAllowed(scope)),
        (_, None) => None,
    };
    Ok(match (iso2, body) {
        (Some(iso2), _) => Requested::Delegation(iso2),
        (None, Some(body)) => Requested::Body(body),
        (None, None) => Requested::All,
    })
}

/// Who a body invites, in words.
#[must_use]
pub fn invited_in_words(invites: Invites) -> &'static str {
    match (invites.participating_states, invites.mediterranean_partners, invites.asian_partners) {
        (true, true, true) => "Participating States and all Partners for Co-operation",
        (true, true, false) => "Participating States and the Mediterranean Partners",
        (true, false, true) => "Participating States and the Asian Partners",
        (true, false, false) => "Participating States",
        (false, true, true) => "All Partners for Co-operation",
        (false, true, false) => "The Mediterranean Partners",
        (false, false, true) => "The Asian Partners",
        (false, false, false) => "By invitation",
    }
}

/// The chair in words: "Switzerland", "to be decided", or "Cyprus (incoming) and Finland
/// (outgoing)"; `name_of` gives a State's English name from its code.
#[must_use]
pub fn chair_in_words(chair: &Chair, name_of: impl Fn(&str) -> String) -> String {
    let name = |iso2: &Option<String>| iso2.as_deref().map_or_else(|| "to be decided".to_owned(), &name_of);
    match chair {
        Chair::Single(iso2) => name(iso2),
        Chair::CoChairs { incoming, outgoing } => {
            format!("{} (incoming) and {} (outgoing)", name(incoming), name(outgoing))
        }
    }
}

/// A meeting as a feed needs it, with the names already looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedMeeting {
    pub uid: String,
    pub sequence: u32,
    pub body: &'static Body,
    pub title: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub time_zone: Tz,
    pub cancelled: bool,
    /// Why it is cancelled, as the organiser wrote it.
    pub cancellation_reason: Option<String>,
    /// Where it happens, written as [`Place::line`] says.
    pub place: Place,
    /// The chair in words ([`chair_in_words`]).
    pub chair: String,
    /// The meeting's page.
    pub url: String,
    /// Where a delegation registers its attendees; `None` when the meeting takes no
    /// registrations (cancelled).
    pub registration_url: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// The calendar event for one meeting.
#[must_use]
pub fn calendar_event(meeting: &FeedMeeting) -> CalendarEvent {
    let code = meeting.body.code.as_str();
    let mut summary = format!("{code} — {}", meeting.title);
    if meeting.cancelled {
        summary.push_str(" (cancelled)");
    }
    let mut description = String::new();
    if meeting.cancelled {
        description.push_str("This meeting is cancelled.");
        if let Some(reason) = &meeting.cancellation_reason {
            description.push_str(" Reason: ");
            description.push_str(reason);
        }
        description.push_str("\n\n");
    }
    description.push_str(meeting.body.name_en);
    description.push_str("\nChair: ");
    description.push_str(&meeting.chair);
    description.push_str("\nInvited: ");
    description.push_str(invited_in_words(meeting.body.invites));
    description.push_str("\n\nDetails: ");
    description.push_str(&meeting.url);
    if let Some(registration_url) = &meeting.registration_url {
        description.push_str("\nRegister attendees: ");
        description.push_str(registration_url);
    }
    CalendarEvent {
        uid: meeting.uid.clone(),
        sequence: meeting.sequence,
        summary,
        location: meeting.place.line(),
        description,
        url: Some(meeting.url.clone()),
        start: meeting.start,
        end: meeting.end,
        time_zone: meeting.time_zone,
        status: if meeting.cancelled { EventStatus::Cancelled } else { EventStatus::Confirmed },
        last_modified: meeting.updated_at,
        categories: vec![code.to_owned()],
    }
}

/// The feed of `scope` from its meetings (already filtered and in order). Its stamp is the
/// latest change among them, so unchanged data renders to identical bytes.
#[must_use]
pub fn build_feed(scope: &FeedScope<'_>, meetings: &[FeedMeeting]) -> Feed {
    Feed {
        name: scope.calendar_name(),
        stamp: last_modified(meetings).unwrap_or(DateTime::UNIX_EPOCH),
        events: meetings.iter().map(calendar_event).collect(),
    }
}

/// The latest change among `meetings`, if there are any.
#[must_use]
pub fn last_modified(meetings: &[FeedMeeting]) -> Option<DateTime<Utc>> {
    meetings.iter().map(|meeting| meeting.updated_at).max()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;
    use crate::{bodies::body, reference::ReferenceData, states::delegations_on};

    fn delegations(date: &str) -> Vec<Delegation> {
        let data = ReferenceData::bundled();
        delegations_on(&data.states, &data.memberships, date.parse().unwrap())
    }

    fn meeting(code: &str) -> FeedMeeting {
        let start = Utc.with_ymd_and_hms(2027, 3, 4, 9, 0, 0).unwrap();
        FeedMeeting {
            uid: "pc-2027-03-04@plenary".into(),
            sequence: 2,
            body: body(code).unwrap(),
            title: "Permanent Council".into(),
            start,
            end: start + chrono::TimeDelta::hours(3),
            time_zone: chrono_tz::Europe::Vienna,
            cancelled: false,
            cancellation_reason: None,
            place: Place {
                room: Some("Neuer Saal".into()),
                venue: Some("Hofburg".into()),
                city: Some("Vienna".into()),
                country: Some("Austria".into()),
            },
            chair: "Switzerland".into(),
            url: "https://plenary.example.org/meetings/7".into(),
            registration_url: Some("https://plenary.example.org/meetings/7/registration".into()),
            updated_at: Utc.with_ymd_and_hms(2026, 11, 2, 8, 0, 0).unwrap(),
        }
    }

    #[test]
    fn calendar_names_name_the_scope() {
        assert_eq!(
            FeedScope::Delegation { iso2: "AT", name_en: "Austria" }.calendar_name(),
            "Plenary — Delegation of Austria"
        );
        assert_eq!(FeedScope::Body(body("PC").unwrap()).calendar_name(), "Plenary — Permanent Council");
        assert_eq!(FeedScope::All.calendar_name(), "Plenary — all meetings");
        assert_eq!(
            FeedScope::Delegation { iso2: "AT", name_en: "Austria" }.describe(),
            "Meetings Austria is invited to"
        );
        assert_eq!(FeedScope::Body(body("PC").unwrap()).describe(), "Permanent Council meetings");
        assert_eq!(FeedScope::All.describe(), "Every meeting");
    }

    #[test]
    fn a_delegation_sees_what_its_standing_invites_it_to() {
        let egypt = FeedScope::Delegation { iso2: "EG", name_en: "Egypt" };
        let japan = FeedScope::Delegation { iso2: "JP", name_en: "Japan" };
        let austria = FeedScope::Delegation { iso2: "AT", name_en: "Austria" };
        let (med, asia) = (body("CG-MED").unwrap(), body("CG-ASIA").unwrap());
        let may = delegations("2027-05-01");
        let on = || may.as_slice();
        assert!(egypt.includes(med, on) && !egypt.includes(asia, on));
        assert!(japan.includes(asia, on) && !japan.includes(med, on));
        assert!(austria.includes(med, on) && austria.includes(asia, on));
        // Mongolia: an Asian Partner in 2010, a participating State since November 2012.
        let mongolia = FeedScope::Delegation { iso2: "MN", name_en: "Mongolia" };
        let (in_2010, in_2013) = (delegations("2010-05-01"), delegations("2013-05-01"));
        assert!(!mongolia.includes(med, || &in_2010));
        assert!(mongolia.includes(med, || &in_2013));
    }

    #[test]
    fn a_body_scope_sees_only_that_body_and_never_asks_for_delegations() {
        let pc = FeedScope::Body(body("PC").unwrap());
        assert!(pc.includes(body("PC").unwrap(), || unreachable!()));
        assert!(!pc.includes(body("FSC").unwrap(), || unreachable!()));
        assert!(FeedScope::All.includes(body("MC").unwrap(), || unreachable!()));
    }

    #[test]
    fn an_event_reads_as_body_title_place_chair_and_who_is_invited() {
        let event = calendar_event(&meeting("CG-ASIA"));
        assert_eq!(event.summary, "CG-ASIA — Permanent Council");
        assert_eq!(event.location, "Neuer Saal, Hofburg, Vienna");
        assert_eq!(
            event.description,
            "Contact Group with the Asian Partners for Co-operation\nChair: Switzerland\n\
             Invited: Participating States and the Asian Partners\n\nDetails: https://plenary.example.org/meetings/7\n\
             Register attendees: https://plenary.example.org/meetings/7/registration"
        );
        assert_eq!(event.url.as_deref(), Some("https://plenary.example.org/meetings/7"));
        assert_eq!(event.categories, ["CG-ASIA"]);
        assert_eq!((event.sequence, event.status), (2, EventStatus::Confirmed));

        let mut cancelled = meeting("PC");
        cancelled.cancelled = true;
        cancelled.registration_url = None;
        let event = calendar_event(&cancelled);
        assert!(!event.description.contains("Register"), "{}", event.description);
        assert_eq!(event.status, EventStatus::Cancelled);
        assert!(
            event.summary.ends_with("(cancelled)") && event.description.starts_with("This meeting is cancelled.\n")
        );
        cancelled.cancellation_reason = Some("The Hofburg is closed for repairs.".into());
        let event = calendar_event(&cancelled);
        assert!(
            event.description.starts_with("This meeting is cancelled. Reason: The Hofburg is closed for repairs.\n\n"),
            "{}",
            event.description
        );
    }

    #[test]
    fn chairs_in_words_say_to_be_decided_and_name_co_chairs() {
        let name = |iso2: &str| if iso2 == "FI" { "Finland".to_owned() } else { iso2.to_owned() };
        assert_eq!(chair_in_words(&Chair::Single(None), name), "to be decided");
        assert_eq!(chair_in_words(&Chair::Single(Some("FI".into())), name), "Finland");
        assert_eq!(
            chair_in_words(&Chair::CoChairs { incoming: None, outgoing: Some("FI".into()) }, name),
            "to be decided (incoming) and Finland (outgoing)"
        );
    }

    #[test]
    fn the_stamp_is_the_latest_change_so_equal_data_renders_equal_bytes() {
        let mut later = meeting("PC");
        later.uid = "other@plenary".into();
        later.updated_at += chrono::TimeDelta::days(3);
        let meetings = [meeting("PC"), later.clone()];
        let feed = build_feed(&FeedScope::All, &meetings);
        assert_eq!(feed.stamp, later.updated_at);
        let render = || crate::ical::render_feed(&build_feed(&FeedScope::All, &meetings));
        assert_eq!(render(), render());
        assert_eq!(build_feed(&FeedScope::All, &[]).stamp, DateTime::UNIX_EPOCH);
    }

    #[test]
    fn a_request_names_what_its_scope_needs_and_nothing_else() {
        let known = |code: &str| code == "AT";
        assert_eq!(requested("delegation", Some(" at "), None, known), Ok(Requested::Delegation("AT".into())));
        assert_eq!(requested("body", None, Some("pc"), known), Ok(Requested::Body(body("PC").unwrap())));
        assert_eq!(requested("all", Some(" "), Some(""), known), Ok(Requested::All), "blank is absent");
        let problem = |scope, state, body| requested(scope, state, body, known).unwrap_err();
        assert_eq!(problem("mine", None, None).field(), "scope");
        assert_eq!(problem("delegation", None, None), RequestProblem::StateMissing);
        assert_eq!(problem("delegation", Some("zz"), Some("PC")), RequestProblem::UnknownState("ZZ".into()));
        assert_eq!(problem("all", Some("AT"), None), RequestProblem::StateNotAllowed("all"));
        assert_eq!(problem("body", None, None), RequestProblem::BodyMissing);
        assert_eq!(problem("delegation", Some("AT"), Some("PC")), RequestProblem::BodyNotAllowed("delegation"));
        let unknown = problem("body", None, Some("XX"));
        assert_eq!(unknown.field(), "body");
        assert!(unknown.to_string().starts_with("unknown body \"XX\"; known bodies are PC, FSC, "), "{unknown}");
    }
}
