//! Conflict detection for a meeting being created or moved, against the meetings already there.
//!
//! Two kinds of findings:
//! - **Room clashes** are hard: one room cannot hold two meetings at once. The service refuses
//!   the change (409) and names the other meeting, unless the organiser forces it.
//! - **Warnings** are for the organiser to weigh: the Hofburg is closed that day (an Austrian
//!   public holiday, for meetings in Vienna), the body is in recess, or a chair presides over two
//!   meetings at once.
//!
//! Everything is pure: the caller passes the candidate and the other meetings (cancelled ones
//! left out) as [`Slot`]s, with instants in UTC and each meeting's own time zone.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::bodies::{Body, BodyCode};
use crate::holidays::austrian_public_holidays;

/// A meeting as conflict detection sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// Identifies the meeting in messages; a slot never conflicts with one of the same id, so a
    /// meeting being moved can be checked against a list that still holds it.
    pub id: String,
    /// Names the meeting for people: its title ("Permanent Council").
    pub label: String,
    pub body: BodyCode,
    /// Room code; `None` for meetings whose room is not Plenary's to book.
    pub room: Option<String>,
    /// The room's name for people ("Neuer Saal"), used in messages instead of its code.
    pub room_name: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The presiding States, as [`crate::chairs::Chair::known`] gives them.
    pub chairs: Vec<ChairState>,
    /// Where the meeting happens: decides its local days and whether Austrian holidays apply.
    pub time_zone: Tz,
}

/// A State presiding over a meeting: compared by its code, named in messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChairState {
    /// ISO 3166 alpha-2.
    pub iso2: String,
    /// Its English name.
    pub name: String,
}

impl Slot {
    fn overlaps(&self, other: &Self) -> bool {
        self.id != other.id && self.start < other.end && other.start < self.end
    }

    /// The local days the meeting touches, first to last (a meeting ending at midnight does not
    /// touch the next day).
    fn local_days(&self) -> impl Iterator<Item = NaiveDate> {
        let first = self.start.with_timezone(&self.time_zone).date_naive();
        let last_instant = (self.end - TimeDelta::seconds(1)).max(self.start);
        let last = last_instant.with_timezone(&self.time_zone).date_naive();
        first.iter_days().take_while(move |day| *day <= last)
    }

    /// When the meeting happens on its own clock, in words: "3 March 2027, 10:00–13:00".
    fn local_period(&self) -> String {
        let start = self.start.with_timezone(&self.time_zone);
        let end = self.end.with_timezone(&self.time_zone);
        if start.date_naive() == end.date_naive() {
            format!("{}–{}", start.format("%-d %B %Y, %H:%M"), end.format("%H:%M"))
        } else {
            format!("{} – {}", start.format("%-d %B %Y, %H:%M"), end.format("%-d %B %Y, %H:%M"))
        }
    }

    /// The meeting named in a sentence: "the Permanent Council" (a title that starts with an
    /// article keeps its own).
    fn named(&self) -> String {
        if self.label.starts_with("The ") || self.label.starts_with("the ") {
            self.label.clone()
        } else {
            format!("the {}", self.label)
        }
    }
}

/// The candidate's room is taken: a hard conflict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoomClash {
    pub room: String,
    /// The room's name for people.
    pub room_name: String,
    /// The [`Slot::id`] of the meeting holding the room.
    pub other_id: String,
    pub other_label: String,
    pub other_start: DateTime<Utc>,
    pub other_end: DateTime<Utc>,
    /// When the other meeting happens, in words on its own clock ("3 March 2027, 10:00–13:00").
    pub other_when: String,
    /// Names the room and the other meeting in words (never codes or ids), for the 409 answer.
    pub message: String,
}

/// What a warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// A meeting in Vienna on an Austrian public holiday.
    HofburgClosed,
    /// A meeting during one of its body's recesses.
    Recess,
    /// A State chairs another meeting at the same time.
    ChairBusy,
    /// The room is booked by another meeting, and the organiser booked it anyway.
    RoomClashForced,
}

/// A finding the organiser may accept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub kind: WarningKind,
    /// The other meeting involved, for [`WarningKind::ChairBusy`].
    pub other_id: Option<String>,
    /// Says what and why, for people.
    pub message: String,
}

/// Everything found for one candidate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Conflicts {
    pub room_clashes: Vec<RoomClash>,
    pub warnings: Vec<Warning>,
}

impl Conflicts {
    /// Whether nothing at all was found.
    #[must_use]
    pub fn is_clear(&self) -> bool {
        self.room_clashes.is_empty() && self.warnings.is_empty()
    }
}

impl Conflicts {
    /// What an organiser who asked to book (forcing a room clash when `force`) is told: the
    /// warnings, with each overridden room clash as one more.
    ///
    /// # Errors
    /// The first room clash, when the organiser did not force it: a room is never booked twice
    /// by accident.
    pub fn accept(self, force: bool) -> Result<Vec<Warning>, Box<RoomClash>> {
        let mut warnings = self.warnings;
        if let Some(clash) = self.room_clashes.first() {
            if !force {
                return Err(Box::new(clash.clone()));
            }
            warnings.extend(self.room_clashes.into_iter().map(|clash| Warning {
                kind: WarningKind::RoomClashForced,
                other_id: Some(clash.other_id),
                message: clash.message,
            }));
        }
        Ok(warnings)
    }
}

/// Checks `candidate` against `others` (cancelled meetings already left out) and against its
/// body's rules, looked up by code in `bodies` (a body not listed has no recesses to check).
#[must_use]
pub fn find_conflicts(candidate: &Slot, others: &[Slot], bodies: &[Body]) -> Conflicts {
    let mut conflicts = Conflicts::default();
    let days: Vec<NaiveDate> = candidate.local_days().collect();

    if let (Some(first), Some(last), chrono_tz::Europe::Vienna) = (days.first(), days.last(), candidate.time_zone) {
        for year in first.year()..=last.year() {
            for holiday in austrian_public_holidays(year) {
                if (*first..=*last).contains(&holiday.date) {
                    conflicts.warnings.push(Warning {
                        kind: WarningKind::HofburgClosed,
                        other_id: None,
                        message: format!(
                            "{} is {} (Austrian public holiday): the Hofburg is closed",
                            holiday.date, holiday.name_en
                        ),
                    });
                }
            }
        }
    }

    if let Some(body) = bodies.iter().find(|body| body.code == candidate.body) {
        let mut recesses =
            days.iter().filter_map(|&day| body.cadence.recess_on(day).map(|recess| (day, recess))).collect::<Vec<_>>();
        recesses.dedup_by_key(|(_, recess)| recess.name);
        for (day, recess) in recesses {
            conflicts.warnings.push(Warning {
                kind: WarningKind::Recess,
                other_id: None,
                message: format!(
                    "{day} falls in the {} {} ({:02}-{:02} to {:02}-{:02})",
                    body.name_en, recess.name, recess.from.month, recess.from.day, recess.to.month, recess.to.day
                ),
            });
        }
    }

    for other in others.iter().filter(|other| candidate.overlaps(other)) {
        if let (Some(room), Some(other_room)) = (&candidate.room, &other.room)
            && room == other_room
        {
            let room_name = candidate.room_name.clone().or_else(|| other.room_name.clone()).unwrap_or(room.clone());
            let other_when = other.local_period();
            conflicts.room_clashes.push(RoomClash {
                room: room.clone(),
                message: format!("{room_name} is taken by {} on {other_when}", other.named()),
                room_name,
                other_id: other.id.clone(),
                other_label: other.label.clone(),
                other_start: other.start,
                other_end: other.end,
                other_when,
            });
        }
        for chair in candidate.chairs.iter().filter(|chair| other.chairs.iter().any(|busy| busy.iso2 == chair.iso2)) {
            conflicts.warnings.push(Warning {
                kind: WarningKind::ChairBusy,
                other_id: Some(other.id.clone()),
                message: format!("{} also chairs {} on {}", chair.name, other.named(), other.local_period()),
            });
        }
    }
    conflicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bodies::{all_bodies, rooms};
    use chrono_tz::{Asia, Europe};
    use proptest::prelude::*;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn slot(id: &str, body: BodyCode, room: Option<&str>, start: &str, end: &str, chair: &str) -> Slot {
        Slot {
            id: id.into(),
            label: body.body().name_en.into(),
            body,
            room: room.map(str::to_owned),
            room_name: room.map(|_| "Neuer Saal".to_owned()),
            start: utc(start),
            end: utc(end),
            chairs: vec![ChairState { iso2: chair.into(), name: format!("State {chair}") }],
            time_zone: Europe::Vienna,
        }
    }

    fn pc() -> Slot {
        slot(
            "PC-2027-01-14",
            BodyCode::Pc,
            Some(rooms::NEUER_SAAL),
            "2027-01-14T09:00:00Z",
            "2027-01-14T12:00:00Z",
            "XX",
        )
    }

    #[test]
    fn an_overlapping_meeting_in_the_same_room_is_a_clash_naming_the_other() {
        let special = slot(
            "special",
            BodyCode::Asrc,
            Some(rooms::NEUER_SAAL),
            "2027-01-14T11:00:00Z",
            "2027-01-14T13:00:00Z",
            "YY",
        );
        let conflicts = find_conflicts(&special, &[pc()], all_bodies());
        assert_eq!(conflicts.room_clashes.len(), 1);
        let clash = &conflicts.room_clashes[0];
        assert_eq!(clash.other_id, "PC-2027-01-14");
        assert_eq!(
            clash.message, "Neuer Saal is taken by the Permanent Council on 14 January 2027, 10:00–13:00",
            "the room and the other meeting in words, never their codes or ids"
        );
        assert!(conflicts.warnings.is_empty(), "{:?}", conflicts.warnings);
    }

    #[test]
    fn back_to_back_other_rooms_and_the_same_meeting_do_not_clash() {
        let after = slot(
            "after",
            BodyCode::Asrc,
            Some(rooms::NEUER_SAAL),
            "2027-01-14T12:00:00Z",
            "2027-01-14T13:00:00Z",
            "YY",
        );
        assert!(find_conflicts(&after, &[pc()], all_bodies()).is_clear());
        let elsewhere = Slot { room: Some(rooms::RATSAAL.into()), id: "elsewhere".into(), ..pc() };
        assert!(find_conflicts(&elsewhere, &[pc()], all_bodies()).room_clashes.is_empty());
        let unbooked = Slot { room: None, id: "unbooked".into(), ..pc() };
        assert!(find_conflicts(&unbooked, &[pc()], all_bodies()).room_clashes.is_empty());
        assert!(find_conflicts(&pc(), &[pc()], all_bodies()).is_clear());
    }

    #[test]
    fn a_chair_presiding_twice_at_once_is_a_warning() {
        let asrc = Slot {
            room: Some(rooms::RATSAAL.into()),
            id: "ASRC".into(),
            body: BodyCode::Asrc,
            label: "Annual Security Review Conference".into(),
            ..pc()
        };
        let conflicts = find_conflicts(&asrc, &[pc()], all_bodies());
        assert!(conflicts.room_clashes.is_empty());
        assert_eq!(conflicts.warnings.len(), 1);
        assert_eq!(conflicts.warnings[0].kind, WarningKind::ChairBusy);
        assert_eq!(conflicts.warnings[0].other_id.as_deref(), Some("PC-2027-01-14"));
        assert_eq!(
            conflicts.warnings[0].message,
            "State XX also chairs the Permanent Council on 14 January 2027, 10:00–13:00"
        );
    }

    #[test]
    fn a_vienna_meeting_on_a_holiday_is_warned_but_not_one_in_tokyo() {
        // Ascension Day 2027 is Thursday 6 May.
        let ascension = slot(
            "special",
            BodyCode::Pc,
            Some(rooms::NEUER_SAAL),
            "2027-05-06T08:00:00Z",
            "2027-05-06T11:00:00Z",
            "XX",
        );
        let conflicts = find_conflicts(&ascension, &[], all_bodies());
        assert_eq!(conflicts.warnings.len(), 1);
        assert_eq!(conflicts.warnings[0].kind, WarningKind::HofburgClosed);
        assert_eq!(
            conflicts.warnings[0].message,
            "2027-05-06 is Ascension Day (Austrian public holiday): the Hofburg is closed"
        );
        let tokyo = Slot { time_zone: Asia::Tokyo, room: None, body: BodyCode::ConfAsia, ..ascension };
        assert!(find_conflicts(&tokyo, &[], all_bodies()).is_clear());
    }

    #[test]
    fn a_meeting_in_its_body_recess_is_warned_once() {
        let august = slot(
            "special",
            BodyCode::Pc,
            Some(rooms::NEUER_SAAL),
            "2027-08-12T08:00:00Z",
            "2027-08-13T11:00:00Z",
            "XX",
        );
        let conflicts = find_conflicts(&august, &[], all_bodies());
        assert_eq!(conflicts.warnings.len(), 1, "{:?}", conflicts.warnings);
        assert_eq!(conflicts.warnings[0].kind, WarningKind::Recess);
        assert_eq!(
            conflicts.warnings[0].message,
            "2027-08-12 falls in the Permanent Council summer recess (08-01 to 08-31)"
        );
        assert!(find_conflicts(&august, &[], &[]).is_clear());
    }

    #[test]
    fn a_meeting_ending_at_midnight_does_not_touch_the_next_day() {
        // 25 December 2026 is a holiday; a meeting ending at its first instant is not on it.
        let evening = slot("evening", BodyCode::Pc, None, "2026-12-24T20:00:00Z", "2026-12-24T23:00:00Z", "XX");
        let conflicts = find_conflicts(&evening, &[], &[]);
        assert!(conflicts.is_clear(), "{:?}", conflicts.warnings);
    }

    proptest! {
        #[test]
        fn room_clashes_are_symmetric_and_follow_overlap(
            a_start in 0i64..600, a_length in 1i64..300,
            b_start in 0i64..600, b_length in 1i64..300,
            same_room in any::<bool>(),
        ) {
            let base = utc("2027-03-01T08:00:00Z");
            let make = |id: &str, start: i64, length: i64, room: &str| Slot {
                id: id.into(),
                room: Some(room.into()),
                start: base + TimeDelta::minutes(start),
                end: base + TimeDelta::minutes(start + length),
                chairs: Vec::new(),
                ..pc()
            };
            let a = make("a", a_start, a_length, rooms::NEUER_SAAL);
            let b = make("b", b_start, b_length, if same_room { rooms::NEUER_SAAL } else { rooms::RATSAAL });
            let expected = same_room && a_start < b_start + b_length && b_start < a_start + a_length;
            let ab = !find_conflicts(&a, std::slice::from_ref(&b), all_bodies()).room_clashes.is_empty();
            let ba = !find_conflicts(&b, std::slice::from_ref(&a), all_bodies()).room_clashes.is_empty();
            prop_assert_eq!(ab, expected);
            prop_assert_eq!(ba, expected);
        }
    }

    #[test]
    fn a_room_clash_is_refused_unless_forced_then_it_is_a_warning() {
        let clash = RoomClash {
            room: "NEUER-SAAL".into(),
            room_name: "Neuer Saal".into(),
            other_id: "7".into(),
            other_label: "Permanent Council".into(),
            other_start: chrono::TimeZone::with_ymd_and_hms(&Utc, 2027, 6, 15, 8, 0, 0).unwrap(),
            other_end: chrono::TimeZone::with_ymd_and_hms(&Utc, 2027, 6, 15, 11, 0, 0).unwrap(),
            other_when: "15 June 2027, 10:00–13:00".into(),
            message: "Neuer Saal is taken.".into(),
        };
        let recess = Warning { kind: WarningKind::Recess, other_id: None, message: "In recess.".into() };
        let found = Conflicts { room_clashes: vec![clash.clone()], warnings: vec![recess.clone()] };
        assert_eq!(found.clone().accept(false), Err(Box::new(clash)));
        let warnings = found.accept(true).unwrap();
        assert_eq!(warnings[0], recess);
        assert_eq!(warnings[1].kind, WarningKind::RoomClashForced);
        assert_eq!(warnings[1].other_id.as_deref(), Some("7"));
        assert_eq!(Conflicts::default().accept(false), Ok(Vec::new()));
    }
}
