//! Attendance: whether a delegation may register one more named attendee for a meeting, and
//! who moves up from the waiting list when a seat frees.
//!
//! The rules, in the order they are checked: the meeting must not be cancelled; only invited
//! delegations register; one person is registered once per meeting; registration closes at a
//! deadline (48 hours before a meeting in Vienna, 14 days before one abroad, or what organisers
//! set for the meeting); each delegation has one `main` seat at the table and a quota of seats
//! `behind` it (the body's, or the meeting's); the room's capacity bounds the confirmed
//! registrations of the whole meeting, and past it registrations wait in a list, first come
//! first served by order of arrival. Organisers may exceed the quota and the deadline, but only
//! when they say so, and the decision says which limit they exceeded so it can be recorded.
//!
//! Everything here is pure: the caller loads the meeting, the registrations and `now`, asks,
//! and stores the answer. Keeping the answer true under concurrent requests is the storage
//! layer's job (it decides while holding the meeting's lock).

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::{
    bodies::Body,
    eligibility::{Adjustments, invitees, invitees_adjusted},
    states::{Delegation, PartnerGroup, StateKind},
};

/// How long before the start registration closes for a meeting in Vienna.
pub const DEADLINE_IN_VIENNA: TimeDelta = TimeDelta::hours(48);
/// How long before the start registration closes for a meeting abroad.
pub const DEADLINE_ABROAD: TimeDelta = TimeDelta::days(14);

/// Where an attendee sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Seat {
    /// The delegation's one seat at the main table, for the head of delegation.
    Main,
    /// A seat behind it, for advisers, within the quota.
    Behind,
}

/// Where a registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Holds a seat.
    Confirmed,
    /// Waits for a seat, in order of arrival.
    Waiting,
    /// Withdrawn; kept for the record, counts for nothing.
    Withdrawn,
}

/// What organisers set for one meeting; `None` keeps the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Seats behind each head of delegation, instead of the body's quota.
    pub seats_behind_quota: Option<u32>,
    /// When registration closes, instead of the default before the start.
    pub deadline: Option<DateTime<Utc>>,
    /// Seats for the whole meeting: lowers the room's capacity, or bounds a meeting without a
    /// room (which is otherwise unlimited).
    pub capacity: Option<u32>,
}

/// A meeting as the attendance rules see it.
#[derive(Debug, Clone, Copy)]
pub struct MeetingRules<'a> {
    pub body: &'a Body,
    pub start: DateTime<Utc>,
    /// The zone of the place, for the deadline as people there read it.
    pub zone: Tz,
    /// Held in Vienna (the Hofburg), which sets the default deadline.
    pub in_vienna: bool,
    /// The capacity of the meeting's room, if it has one.
    pub room_capacity: Option<u32>,
    pub cancelled: bool,
    pub settings: Settings,
    /// Organisers' changes to who is invited (guests, a closed session).
    pub adjustments: &'a Adjustments,
}

impl MeetingRules<'_> {
    /// The date the meeting starts on, where it happens.
    #[must_use]
    pub fn local_date(&self) -> NaiveDate {
        self.start.with_timezone(&self.zone).date_naive()
    }

    /// Seats behind each head of delegation.
    #[must_use]
    pub fn quota(&self) -> u32 {
        self.settings.seats_behind_quota.unwrap_or(self.body.seats_behind_quota)
    }

    /// When registration closes: the meeting's own deadline, or the body's for a meeting where
    /// the body usually meets, or the default for the place (48 hours before a meeting in
    /// Vienna, 14 days before one abroad).
    #[must_use]
    pub fn deadline(&self) -> DateTime<Utc> {
        if let Some(deadline) = self.settings.deadline {
            return deadline;
        }
        let body_meets_in_vienna = self.body.default_room.is_some();
        let before = if self.in_vienna == body_meets_in_vienna {
            self.body.registration_deadline
        } else if self.in_vienna {
            DEADLINE_IN_VIENNA
        } else {
            DEADLINE_ABROAD
        };
        self.start - before
    }

    /// The deadline on the clock of the place.
    #[must_use]
    pub fn local_deadline(&self) -> DateTime<Tz> {
        self.deadline().with_timezone(&self.zone)
    }

    /// Seats for the whole meeting; `None` is unlimited.
    #[must_use]
    pub fn capacity(&self) -> Option<u32> {
        match (self.room_capacity, self.settings.capacity) {
            (Some(room), Some(set)) => Some(room.min(set)),
            (room, set) => room.or(set),
        }
    }
}

/// Whether a meeting is held in Vienna, which decides its default deadline: on Vienna's clock,
/// and either in a room of the Hofburg (`in_a_known_room`: a room from the reference data) or
/// in a city named Vienna or Wien. A meeting in Vienna's zone elsewhere (Graz, Salzburg) is
/// abroad as far as registration goes.
#[must_use]
pub fn held_in_vienna(time_zone: &str, in_a_known_room: bool, city: Option<&str>) -> bool {
    time_zone == "Europe/Vienna"
        && (in_a_known_room
            || city.is_some_and(|city| city.eq_ignore_ascii_case("vienna") || city.eq_ignore_ascii_case("wien")))
}

/// How many registrations hold or wait for each kind of seat: the one count behind the
/// attendance list, the quota left shown to a delegation, and the totals of a meeting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeatTally {
    pub confirmed_main: u32,
    pub confirmed_behind: u32,
    pub waiting_main: u32,
    pub waiting_behind: u32,
}

impl SeatTally {
    /// Counts `registrations` (withdrawn ones count for nothing).
    #[must_use]
    pub fn of<'a>(registrations: impl IntoIterator<Item = &'a Current>) -> Self {
        let mut tally = Self::default();
        for registration in registrations {
            let counter = match (registration.status, registration.seat) {
                (Status::Confirmed, Seat::Main) => &mut tally.confirmed_main,
                (Status::Confirmed, Seat::Behind) => &mut tally.confirmed_behind,
                (Status::Waiting, Seat::Main) => &mut tally.waiting_main,
                (Status::Waiting, Seat::Behind) => &mut tally.waiting_behind,
                (Status::Withdrawn, _) => continue,
            };
            *counter = counter.saturating_add(1);
        }
        tally
    }

    /// Counts delegation `iso2`'s registrations among `registrations`.
    #[must_use]
    pub fn of_delegation(registrations: &[Current], iso2: &str) -> Self {
        Self::of(registrations.iter().filter(|registration| registration.iso2 == iso2))
    }

    #[must_use]
    pub fn confirmed(&self) -> u32 {
        self.confirmed_main.saturating_add(self.confirmed_behind)
    }

    #[must_use]
    pub fn waiting(&self) -> u32 {
        self.waiting_main.saturating_add(self.waiting_behind)
    }

    /// Seats behind still free within `quota`: confirmed and waiting registrations both hold
    /// one, as [`decide`] counts them.
    #[must_use]
    pub fn quota_left(&self, quota: u32) -> u32 {
        quota.saturating_sub(self.confirmed_behind.saturating_add(self.waiting_behind))
    }
}

/// A registration that counts (confirmed or waiting), as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub id: i64,
    pub iso2: String,
    pub name: String,
    /// Compared case-insensitively.
    pub email: String,
    pub seat: Seat,
    pub status: Status,
    /// Order of arrival within the meeting; the waiting list is served in this order.
    pub arrival: i64,
}

/// Who asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// The delegation itself (its own token was checked by the caller).
    Delegation,
    /// An organiser; `override_limits` lets them exceed the quota and the deadline.
    Organiser { override_limits: bool },
}

impl Caller {
    fn may_override(self) -> bool {
        matches!(self, Self::Organiser { override_limits: true })
    }
}

/// A limit an organiser exceeded on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Overridden {
    Deadline,
    Quota,
}

/// One more registration asked for.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub iso2: &'a str,
    pub email: &'a str,
    pub seat: Seat,
}

/// The registration is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// `Confirmed` or `Waiting`.
    pub status: Status,
    /// 1-based place in the waiting list, when waiting.
    pub position: Option<u32>,
    /// Limits an organiser exceeded, to record.
    pub overridden: Vec<Overridden>,
}

/// Why a registration or change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the meeting is cancelled; nobody can register for it")]
    Cancelled,
    #[error("{iso2} is not invited to this meeting: {reason}")]
    NotInvited { iso2: String, reason: String },
    #[error("{email} is already registered for this meeting ({name}, registration {id})")]
    AlreadyRegistered { id: i64, name: String, email: String },
    #[error(
        "registration for this meeting closed at {} ({}, {}); ask an organiser",
        deadline.format("%Y-%m-%d %H:%M"), deadline.timezone().name(), deadline.format("UTC%:z")
    )]
    PastDeadline { deadline: DateTime<Tz> },
    #[error("{iso2}'s seat at the main table is already taken by {holder}")]
    MainSeatTaken { iso2: String, holder: String },
    #[error("{iso2} already holds its quota of {quota} seat(s) behind the main table: {}", holders.join(", "))]
    OverQuota { iso2: String, quota: u32, holders: Vec<String> },
}

/// Whether delegation `iso2` may register anyone at all for the meeting: it is not cancelled
/// and the delegation is invited. What a registration page asks before it offers a form; the
/// deadline, the seats and the person are [`decide`]'s to check.
///
/// # Errors
/// [`Refusal::Cancelled`], or [`Refusal::NotInvited`] with the reason in words.
pub fn open_to(meeting: &MeetingRules<'_>, delegations: &[Delegation], iso2: &str) -> Result<(), Refusal> {
    if meeting.cancelled {
        return Err(Refusal::Cancelled);
    }
    check_invited(meeting, delegations, iso2)
}

/// Decides one new registration against the meeting's rules and its current registrations
/// (those confirmed or waiting). `delegations` are those taking part on the meeting's date.
///
/// # Errors
/// The first rule the request breaks, as a [`Refusal`].
pub fn decide(
    meeting: &MeetingRules<'_>,
    caller: Caller,
    now: DateTime<Utc>,
    delegations: &[Delegation],
    current: &[Current],
    request: Request<'_>,
) -> Result<Accepted, Refusal> {
    open_to(meeting, delegations, request.iso2)?;
    if let Some(same) = current.iter().find(|r| r.email.eq_ignore_ascii_case(request.email)) {
        return Err(Refusal::AlreadyRegistered { id: same.id, name: same.name.clone(), email: same.email.clone() });
    }
    let mut overridden = check_deadline(meeting, caller, now)?;
    overridden.extend(check_seat(meeting, caller, current, request.iso2, request.seat, None)?);
    let confirmed = current.iter().filter(|r| r.status == Status::Confirmed).count();
    let waiting = current.iter().filter(|r| r.status == Status::Waiting).count();
    let full = meeting.capacity().is_some_and(|capacity| confirmed >= capacity as usize);
    // Nobody jumps the queue: while others wait, a newcomer waits too.
    if full || waiting > 0 {
        Ok(Accepted { status: Status::Waiting, position: Some(count(waiting) + 1), overridden })
    } else {
        Ok(Accepted { status: Status::Confirmed, position: None, overridden })
    }
}

/// Decides a change of seat (and checks the deadline for any change) of registration `id`.
///
/// # Errors
/// A [`Refusal`] when the meeting is cancelled, registration has closed, or the new seat is
/// taken or over the quota.
pub fn decide_change(
    meeting: &MeetingRules<'_>,
    caller: Caller,
    now: DateTime<Utc>,
    current: &[Current],
    id: i64,
    new_seat: Seat,
) -> Result<Vec<Overridden>, Refusal> {
    if meeting.cancelled {
        return Err(Refusal::Cancelled);
    }
    let mut overridden = check_deadline(meeting, caller, now)?;
    if let Some(registration) = current.iter().find(|r| r.id == id)
        && registration.seat != new_seat
    {
        overridden.extend(check_seat(meeting, caller, current, &registration.iso2, new_seat, Some(id))?);
    }
    Ok(overridden)
}

/// The waiting registrations that move up now, in order: as many as there are free seats,
/// first come first served.
#[must_use]
pub fn promotions(capacity: Option<u32>, current: &[Current]) -> Vec<i64> {
    let confirmed = current.iter().filter(|r| r.status == Status::Confirmed).count();
    let mut waiting: Vec<&Current> = current.iter().filter(|r| r.status == Status::Waiting).collect();
    waiting.sort_by_key(|r| (r.arrival, r.id));
    let free = capacity.map_or(waiting.len(), |capacity| (capacity as usize).saturating_sub(confirmed));
    waiting.into_iter().take(free).map(|r| r.id).collect()
}

/// Each waiting registration's 1-based place in the list, by arrival.
#[must_use]
pub fn waiting_positions(current: &[Current]) -> Vec<(i64, u32)> {
    let mut waiting: Vec<&Current> = current.iter().filter(|r| r.status == Status::Waiting).collect();
    waiting.sort_by_key(|r| (r.arrival, r.id));
    waiting.into_iter().zip(1..).map(|(r, position)| (r.id, position)).collect()
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn check_invited(meeting: &MeetingRules<'_>, delegations: &[Delegation], iso2: &str) -> Result<(), Refusal> {
    let date = meeting.local_date();
    if invitees_adjusted(meeting.body, delegations, meeting.adjustments)
        .iter()
        .any(|invitee| invitee.delegation.iso2 == iso2)
    {
        return Ok(());
    }
    let reason = match delegations.iter().find(|delegation| delegation.iso2 == iso2) {
        None => format!("{iso2} is neither a participating State nor a Partner for Co-operation on {date}"),
        Some(delegation)
            if invitees(meeting.body, delegations).iter().any(|invitee| invitee.delegation.iso2 == iso2) =>
        {
            format!(
                "{} is a Partner for Co-operation, and this meeting is a closed session of the participating States",
                delegation.name_en
            )
        }
        Some(delegation) => {
            let standing = match (delegation.kind, delegation.partner_group) {
                (StateKind::Participating, _) => "a participating State",
                (StateKind::Partner, Some(PartnerGroup::Asian)) => "an Asian Partner for Co-operation",
                (StateKind::Partner, _) => "a Mediterranean Partner for Co-operation",
            };
            let invited = [
                (meeting.body.invites.participating_states, "the participating States"),
                (meeting.body.invites.mediterranean_partners, "the Mediterranean Partners"),
                (meeting.body.invites.asian_partners, "the Asian Partners"),
            ]
            .iter()
            .filter(|(yes, _)| *yes)
            .map(|(_, who)| *who)
            .collect::<Vec<_>>()
            .join(" and ");
            format!(
                "{} is {standing} on {date}, and the {} invites only {invited}",
                delegation.name_en, meeting.body.name_en
            )
        }
    };
    Err(Refusal::NotInvited { iso2: iso2.to_owned(), reason })
}

fn check_deadline(meeting: &MeetingRules<'_>, caller: Caller, now: DateTime<Utc>) -> Result<Vec<Overridden>, Refusal> {
    if now < meeting.deadline() {
        Ok(Vec::new())
    } else if caller.may_override() {
        Ok(vec![Overridden::Deadline])
    } else {
        Err(Refusal::PastDeadline { deadline: meeting.local_deadline() })
    }
}

/// Checks that `iso2` may hold one more `seat`, not counting registration `except` (the one
/// being changed).
fn check_seat(
    meeting: &MeetingRules<'_>,
    caller: Caller,
    current: &[Current],
    iso2: &str,
    seat: Seat,
    except: Option<i64>,
) -> Result<Vec<Overridden>, Refusal> {
    let held: Vec<&Current> =
        current.iter().filter(|r| r.iso2 == iso2 && r.seat == seat && Some(r.id) != except).collect();
    match seat {
        Seat::Main => match held.first() {
            Some(holder) => Err(Refusal::MainSeatTaken { iso2: iso2.to_owned(), holder: holder.name.clone() }),
            None => Ok(Vec::new()),
        },
        Seat::Behind => {
            let quota = meeting.quota();
            if held.len() < quota as usize {
                Ok(Vec::new())
            } else if caller.may_override() {
                Ok(vec![Overridden::Quota])
            } else {
                Err(Refusal::OverQuota {
                    iso2: iso2.to_owned(),
                    quota,
                    holders: held.iter().map(|r| r.name.clone()).collect(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{bodies::body, reference::ReferenceData, states::delegations_on};
    use chrono::TimeZone as _;
    use proptest::prelude::*;

    fn delegations(date: &str) -> Vec<Delegation> {
        let data = ReferenceData::bundled();
        delegations_on(&data.states, &data.memberships, date.parse().unwrap())
    }

    /// A PC meeting in the Neuer Saal on Thursday 10 December 2026 at 10:00 Vienna time.
    fn pc(capacity: Option<u32>) -> MeetingRules<'static> {
        MeetingRules {
            body: body("PC").unwrap(),
            start: Utc.with_ymd_and_hms(2026, 12, 10, 9, 0, 0).unwrap(),
            zone: chrono_tz::Europe::Vienna,
            in_vienna: true,
            room_capacity: Some(420),
            cancelled: false,
            settings: Settings { capacity, ..Settings::default() },
            adjustments: &NO_ADJUSTMENTS,
        }
    }

    static NO_ADJUSTMENTS: Adjustments =
        Adjustments { closed: false, guest_delegations: Vec::new(), officials: Vec::new() };

    fn early() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
    }

    fn reg(id: i64, iso2: &str, seat: Seat, status: Status) -> Current {
        Current {
            id,
            iso2: iso2.into(),
            name: format!("Person {id}"),
            email: format!("p{id}@example.org"),
            seat,
            status,
            arrival: id,
        }
    }

    fn ask<'a>(iso2: &'a str, email: &'a str, seat: Seat) -> Request<'a> {
        Request { iso2, email, seat }
    }

    #[test]
    fn a_mediterranean_conference_is_open_to_egypt_and_austria_not_to_japan_nor_once_cancelled() {
        let mut conference = pc(None);
        conference.body = body("CONF-MED").unwrap();
        let people = delegations("2026-12-10");
        assert_eq!(open_to(&conference, &people, "EG"), Ok(()));
        assert_eq!(open_to(&conference, &people, "AT"), Ok(()));
        let Err(Refusal::NotInvited { reason, .. }) = open_to(&conference, &people, "JP") else {
            panic!("Japan is not invited to the Mediterranean Conference");
        };
        assert!(reason.contains("Japan is an Asian Partner"), "{reason}");
        conference.cancelled = true;
        assert_eq!(open_to(&conference, &people, "EG"), Err(Refusal::Cancelled));
    }

    #[test]
    fn a_delegation_registers_its_head_and_two_advisers_and_a_fourth_is_refused() {
        let meeting = pc(None);
        let people = delegations("2026-12-10");
        let mut current = Vec::new();
        for (id, seat) in [(1, Seat::Main), (2, Seat::Behind), (3, Seat::Behind)] {
            let email = format!("p{id}@example.org");
            let accepted =
                decide(&meeting, Caller::Delegation, early(), &people, &current, ask("AT", &email, seat)).unwrap();
            assert_eq!(accepted.status, Status::Confirmed);
            current.push(reg(id, "AT", seat, Status::Confirmed));
        }
        let refusal =
            decide(&meeting, Caller::Delegation, early(), &people, &current, ask("AT", "x@example.org", Seat::Behind))
                .unwrap_err();
        assert_eq!(
            refusal,
            Refusal::OverQuota { iso2: "AT".into(), quota: 2, holders: vec!["Person 2".into(), "Person 3".into()] }
        );
        assert!(refusal.to_string().contains("quota of 2"), "{refusal}");
        let main =
            decide(&meeting, Caller::Delegation, early(), &people, &current, ask("AT", "y@example.org", Seat::Main))
                .unwrap_err();
        assert_eq!(main, Refusal::MainSeatTaken { iso2: "AT".into(), holder: "Person 1".into() });
    }

    #[test]
    fn organisers_exceed_the_quota_and_the_deadline_only_when_they_say_so() {
        let meeting = pc(None);
        let people = delegations("2026-12-10");
        let current =
            vec![reg(1, "AT", Seat::Behind, Status::Confirmed), reg(2, "AT", Seat::Behind, Status::Confirmed)];
        let late = Utc.with_ymd_and_hms(2026, 12, 9, 12, 0, 0).unwrap();
        let plain = Caller::Organiser { override_limits: false };
        let forcing = Caller::Organiser { override_limits: true };
        assert!(matches!(
            decide(&meeting, plain, late, &people, &current, ask("AT", "z@example.org", Seat::Behind)),
            Err(Refusal::PastDeadline { .. })
        ));
        assert!(matches!(
            decide(&meeting, plain, early(), &people, &current, ask("AT", "z@example.org", Seat::Behind)),
            Err(Refusal::OverQuota { .. })
        ));
        let forced = decide(&meeting, forcing, late, &people, &current, ask("AT", "z@example.org", Seat::Behind));
        assert_eq!(forced.unwrap().overridden, vec![Overridden::Deadline, Overridden::Quota]);
        let not_needed = decide(&meeting, forcing, early(), &people, &[], ask("AT", "z@example.org", Seat::Behind));
        assert!(not_needed.unwrap().overridden.is_empty());
    }

    #[test]
    fn the_deadline_is_48_hours_before_in_vienna_and_14_days_abroad_in_local_time() {
        let meeting = pc(None);
        assert_eq!(meeting.deadline(), meeting.start - TimeDelta::hours(48));
        let refusal = check_deadline(&meeting, Caller::Delegation, meeting.deadline()).unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "registration for this meeting closed at 2026-12-08 10:00 (Europe/Vienna, UTC+01:00); ask an organiser"
        );
        let tokyo = MeetingRules {
            body: body("CONF-ASIA").unwrap(),
            zone: chrono_tz::Asia::Tokyo,
            in_vienna: false,
            room_capacity: None,
            ..meeting
        };
        assert_eq!(tokyo.deadline(), tokyo.start - TimeDelta::days(14));
        assert_eq!(tokyo.local_deadline().format("%H:%M").to_string(), "18:00");
        let conference_in_vienna = MeetingRules { in_vienna: true, ..tokyo };
        assert_eq!(conference_in_vienna.deadline(), tokyo.start - TimeDelta::hours(48));
        let pc_abroad = MeetingRules { in_vienna: false, ..meeting };
        assert_eq!(pc_abroad.deadline(), meeting.start - TimeDelta::days(14));
        let set = Utc.with_ymd_and_hms(2026, 12, 3, 0, 0, 0).unwrap();
        let custom = MeetingRules { settings: Settings { deadline: Some(set), ..Settings::default() }, ..meeting };
        assert_eq!(custom.deadline(), set);
    }

    #[test]
    fn only_invited_delegations_register_and_the_refusal_says_why() {
        let med = MeetingRules { body: body("CG-MED").unwrap(), ..pc(None) };
        let people = delegations("2026-12-10");
        let refusal = decide(&med, Caller::Delegation, early(), &people, &[], ask("JP", "a@example.org", Seat::Main))
            .unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "JP is not invited to this meeting: Japan is an Asian Partner for Co-operation on 2026-12-10, and the \
             Contact Group with the Mediterranean Partners for Co-operation invites only the participating States and the \
             Mediterranean Partners"
        );
        let unknown = decide(&med, Caller::Delegation, early(), &people, &[], ask("ZZ", "a@example.org", Seat::Main))
            .unwrap_err();
        assert!(unknown.to_string().contains("neither a participating State nor a Partner"), "{unknown}");
    }

    #[test]
    fn guests_register_and_a_closed_session_leaves_the_partners_out() {
        let people = delegations("2026-12-10");
        let japan_as_guest = Adjustments { guest_delegations: vec!["JP".into()], ..Adjustments::default() };
        let med = MeetingRules { body: body("CG-MED").unwrap(), adjustments: &japan_as_guest, ..pc(None) };
        assert!(
            decide(&med, Caller::Delegation, early(), &people, &[], ask("JP", "a@example.org", Seat::Main)).is_ok()
        );

        let closed = Adjustments { closed: true, ..Adjustments::default() };
        let closed_pc = MeetingRules { adjustments: &closed, ..pc(None) };
        let refusal =
            decide(&closed_pc, Caller::Delegation, early(), &people, &[], ask("EG", "a@example.org", Seat::Main))
                .unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "EG is not invited to this meeting: Egypt is a Partner for Co-operation, and this meeting is a closed \
             session of the participating States"
        );
        assert!(
            decide(&closed_pc, Caller::Delegation, early(), &people, &[], ask("AT", "a@example.org", Seat::Main))
                .is_ok()
        );
    }

    #[test]
    fn cancelled_meetings_and_duplicates_are_refused() {
        let people = delegations("2026-12-10");
        let cancelled = MeetingRules { cancelled: true, ..pc(None) };
        assert_eq!(
            decide(&cancelled, Caller::Delegation, early(), &people, &[], ask("AT", "a@example.org", Seat::Main)),
            Err(Refusal::Cancelled)
        );
        let current = vec![reg(7, "AT", Seat::Main, Status::Confirmed)];
        assert!(matches!(
            decide(&pc(None), Caller::Delegation, early(), &people, &current, ask("DE", "P7@Example.org", Seat::Main)),
            Err(Refusal::AlreadyRegistered { id: 7, .. })
        ));
    }

    #[test]
    fn past_capacity_registrations_wait_and_move_up_in_order_of_arrival() {
        let meeting = pc(Some(2));
        let people = delegations("2026-12-10");
        let current = vec![reg(1, "AT", Seat::Main, Status::Confirmed), reg(2, "DE", Seat::Main, Status::Confirmed)];
        let third =
            decide(&meeting, Caller::Delegation, early(), &people, &current, ask("FR", "f@example.org", Seat::Main))
                .unwrap();
        assert_eq!((third.status, third.position), (Status::Waiting, Some(1)));
        let mut current = current;
        current.push(Current { arrival: 9, ..reg(4, "IT", Seat::Main, Status::Waiting) });
        current.push(Current { arrival: 5, ..reg(3, "FR", Seat::Main, Status::Waiting) });
        assert_eq!(waiting_positions(&current), vec![(3, 1), (4, 2)]);
        current[0].status = Status::Withdrawn;
        current.retain(|r| r.status != Status::Withdrawn);
        assert_eq!(promotions(meeting.capacity(), &current), vec![3]);
        assert_eq!(promotions(Some(10), &current), vec![3, 4]);
        assert_eq!(promotions(None, &current), vec![3, 4]);
    }

    #[test]
    fn capacity_is_the_smaller_of_the_room_and_the_setting_and_unlimited_without_either() {
        let meeting = pc(None);
        assert_eq!(meeting.capacity(), Some(420));
        assert_eq!(pc(Some(150)).capacity(), Some(150));
        assert_eq!(pc(Some(500)).capacity(), Some(420));
        let abroad = MeetingRules { room_capacity: None, ..meeting };
        assert_eq!(abroad.capacity(), None);
        assert_eq!(
            MeetingRules { settings: Settings { capacity: Some(30), ..Settings::default() }, ..abroad }.capacity(),
            Some(30)
        );
    }

    #[test]
    fn changing_seat_checks_the_new_seat_but_not_against_itself() {
        let meeting = pc(None);
        let current = vec![
            reg(1, "AT", Seat::Main, Status::Confirmed),
            reg(2, "AT", Seat::Behind, Status::Confirmed),
            reg(3, "AT", Seat::Behind, Status::Confirmed),
        ];
        assert!(matches!(
            decide_change(&meeting, Caller::Delegation, early(), &current, 2, Seat::Main),
            Err(Refusal::MainSeatTaken { .. })
        ));
        assert_eq!(decide_change(&meeting, Caller::Delegation, early(), &current, 2, Seat::Behind), Ok(vec![]));
        assert!(matches!(
            decide_change(&meeting, Caller::Delegation, early(), &current, 1, Seat::Behind),
            Err(Refusal::OverQuota { .. })
        ));
    }

    #[test]
    fn vienna_is_the_hofburg_or_the_city_on_vienna_time() {
        assert!(held_in_vienna("Europe/Vienna", true, None));
        assert!(held_in_vienna("Europe/Vienna", false, Some("Wien")));
        assert!(held_in_vienna("Europe/Vienna", false, Some("VIENNA")));
        assert!(!held_in_vienna("Europe/Vienna", false, Some("Graz")));
        assert!(!held_in_vienna("Europe/Vienna", false, None));
        assert!(!held_in_vienna("Europe/Berlin", true, Some("Vienna")));
    }

    #[test]
    fn the_tally_counts_seats_by_status_and_the_quota_left_counts_the_waiting_too() {
        let current = vec![
            reg(1, "AT", Seat::Main, Status::Confirmed),
            reg(2, "AT", Seat::Behind, Status::Confirmed),
            reg(3, "AT", Seat::Behind, Status::Waiting),
            reg(4, "DE", Seat::Behind, Status::Waiting),
            reg(5, "DE", Seat::Main, Status::Withdrawn),
        ];
        let all = SeatTally::of(&current);
        assert_eq!(all, SeatTally { confirmed_main: 1, confirmed_behind: 1, waiting_main: 0, waiting_behind: 2 });
        assert_eq!((all.confirmed(), all.waiting()), (2, 2));
        let austria = SeatTally::of_delegation(&current, "AT");
        assert_eq!(austria.quota_left(3), 1);
        assert_eq!(austria.quota_left(1), 0);
        assert_eq!(SeatTally::of_delegation(&current, "FR").quota_left(2), 2);
    }

    #[derive(Debug, Clone)]
    enum Step {
        Register { delegation: usize, seat: Seat },
        Withdraw { pick: usize },
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            3 => (0usize..6, any::<bool>()).prop_map(|(delegation, main)| Step::Register {
                delegation,
                seat: if main { Seat::Main } else { Seat::Behind },
            }),
            1 => any::<usize>().prop_map(|pick| Step::Withdraw { pick }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever the order of registrations and withdrawals: never more confirmed than the
        /// capacity, never more than one main seat or `quota` seats behind per delegation,
        /// nobody waits while a seat is free, and the waiting list moves up by arrival.
        #[test]
        fn registrations_and_withdrawals_keep_every_limit(
            capacity in proptest::option::of(0u32..12),
            quota in 0u32..4,
            steps in proptest::collection::vec(step(), 0..60),
        ) {
            let people = delegations("2026-12-10");
            let iso = ["AT", "DE", "FR", "IT", "JP", "DZ"];
            let meeting = MeetingRules {
                room_capacity: None,
                settings: Settings { capacity, seats_behind_quota: Some(quota), deadline: None },
                ..pc(None)
            };
            let mut current: Vec<Current> = Vec::new();
            let mut next = 0i64;
            for step in steps {
                match step {
                    Step::Register { delegation, seat } => {
                        next += 1;
                        let email = format!("p{next}@example.org");
                        let asked = ask(iso[delegation], &email, seat);
                        if let Ok(accepted) = decide(&meeting, Caller::Delegation, early(), &people, &current, asked) {
                            let waiting_before = current.iter().filter(|r| r.status == Status::Waiting).count();
                            prop_assert_eq!(accepted.position.is_some(), accepted.status == Status::Waiting);
                            if let Some(position) = accepted.position {
                                prop_assert_eq!(position as usize, waiting_before + 1);
                            }
                            current.push(Current { status: accepted.status, ..reg(next, iso[delegation], seat, accepted.status) });
                        }
                    }
                    Step::Withdraw { pick } => {
                        if !current.is_empty() {
                            let gone = current.remove(pick % current.len());
                            let before: Vec<i64> = waiting_positions(&current).into_iter().map(|(id, _)| id).collect();
                            let promoted = promotions(meeting.capacity(), &current);
                            prop_assert!(gone.status != Status::Confirmed || capacity != Some(0) || promoted.is_empty());
                            prop_assert_eq!(&promoted[..], &before[..promoted.len()]);
                            for r in &mut current {
                                if promoted.contains(&r.id) {
                                    r.status = Status::Confirmed;
                                }
                            }
                        }
                    }
                }
                let confirmed = current.iter().filter(|r| r.status == Status::Confirmed).count();
                let waiting = current.iter().filter(|r| r.status == Status::Waiting).count();
                if let Some(capacity) = capacity {
                    prop_assert!(confirmed <= capacity as usize);
                    prop_assert!(waiting == 0 || confirmed == capacity as usize);
                } else {
                    prop_assert_eq!(waiting, 0);
                }
                for code in iso {
                    let of = |seat| current.iter().filter(|r| r.iso2 == code && r.seat == seat).count();
                    prop_assert!(of(Seat::Main) <= 1);
                    prop_assert!(of(Seat::Behind) <= quota as usize);
                }
                // Every confirmed registration arrived before every waiting one... except
                // those confirmed by moving up, who arrived before the rest of the list.
                let last_confirmed_waiter = current.iter().filter(|r| r.status == Status::Waiting).map(|r| r.arrival).min();
                if let Some(first_waiting) = last_confirmed_waiter {
                    prop_assert!(current.iter().filter(|r| r.status == Status::Confirmed).all(|r| r.arrival < first_waiting));
                }
            }
        }
    }
}
