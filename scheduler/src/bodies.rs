//! The OSCE bodies Plenary schedules, and each body's rules, kept as data.
//!
//! A [`Body`] says when the body normally meets ([`Cadence`], with its recesses), where, for how
//! long, who chairs it ([`ChairRule`]), who is invited ([`Invites`]), how many advisers sit behind
//! each head of delegation and when registration closes. Planning ([`crate::planning`]), chairs
//! ([`crate::chairs`]) and conflict detection ([`crate::conflicts`]) read these rules; none of
//! them hard-codes a body.
//!
//! Where the public record is silent, Plenary's conventions (all documented on [`BODIES`]):
//! - **PC**: Thursdays 10:00–13:00 in the Neuer Saal; recess for all of August and from 18
//!   December to 10 January.
//! - **FSC**: Wednesdays 10:00–13:00 in the Neuer Saal; the FSC has three sessions a year with
//!   longer breaks than the PC: a winter recess from 8 December (after the Ministerial Council)
//!   to 14 January, a two-week spring break from 1 to 14 April, and a summer recess over July
//!   and August.
//! - **Contact Groups**: six meetings a year each, spread evenly over the PC's working weeks, in
//!   the Ratsaal on days the PC and FSC never use: the Mediterranean group on Mondays 15:00–17:00,
//!   the Asian group on Fridays 15:00–17:00.
//! - **Joint Contact Group meeting**: once a year in the Neuer Saal, on the first open Tuesday
//!   from 10 November, 15:00–17:30. All 68 delegations are invited, and with two advisers each
//!   they need about 204 seats: more than the Ratsaal's 160.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, NaiveTime, TimeDelta, Weekday};
use serde::{Deserialize, Serialize, Serializer};
use thiserror::Error;

use crate::states::{PartnerGroup, StateKind};

/// The code of a body, as used in plan keys, the database and the API ("PC", "CG-MED").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum BodyCode {
    #[serde(rename = "PC")]
    Pc,
    #[serde(rename = "FSC")]
    Fsc,
    #[serde(rename = "CG-MED")]
    CgMed,
    #[serde(rename = "CG-ASIA")]
    CgAsia,
    #[serde(rename = "CG-JOINT")]
    CgJoint,
    #[serde(rename = "CONF-MED")]
    ConfMed,
    #[serde(rename = "CONF-ASIA")]
    ConfAsia,
    #[serde(rename = "MC")]
    Mc,
    #[serde(rename = "TROIKA-PARTNERS")]
    TroikaPartners,
    #[serde(rename = "ASRC")]
    Asrc,
    #[serde(rename = "EEF")]
    Eef,
    #[serde(rename = "HDIM")]
    Hdim,
}

impl BodyCode {
    /// Every code, in the order of [`BODIES`].
    pub const ALL: [Self; 12] = [
        Self::Pc,
        Self::Fsc,
        Self::CgMed,
        Self::CgAsia,
        Self::CgJoint,
        Self::ConfMed,
        Self::ConfAsia,
        Self::Mc,
        Self::TroikaPartners,
        Self::Asrc,
        Self::Eef,
        Self::Hdim,
    ];

    /// The code as text: "PC", "CG-MED", "TROIKA-PARTNERS".
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pc => "PC",
            Self::Fsc => "FSC",
            Self::CgMed => "CG-MED",
            Self::CgAsia => "CG-ASIA",
            Self::CgJoint => "CG-JOINT",
            Self::ConfMed => "CONF-MED",
            Self::ConfAsia => "CONF-ASIA",
            Self::Mc => "MC",
            Self::TroikaPartners => "TROIKA-PARTNERS",
            Self::Asrc => "ASRC",
            Self::Eef => "EEF",
            Self::Hdim => "HDIM",
        }
    }

    /// This body's rules.
    #[must_use]
    pub fn body(self) -> &'static Body {
        // BODIES lists one body per code, in the order of ALL (checked by a test).
        &BODIES[self as usize]
    }
}

impl fmt::Display for BodyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A body code that Plenary does not know.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "unknown body code {code:?}: expected one of PC, FSC, CG-MED, CG-ASIA, CG-JOINT, CONF-MED, CONF-ASIA, MC, TROIKA-PARTNERS, ASRC, EEF, HDIM"
)]
pub struct UnknownBody {
    pub code: String,
}

impl FromStr for BodyCode {
    type Err = UnknownBody;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|candidate| candidate.as_str() == code)
            .ok_or_else(|| UnknownBody { code: code.to_owned() })
    }
}

/// A day of the year, without the year: the bounds of a recess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct MonthDay {
    pub month: u32,
    pub day: u32,
}

impl MonthDay {
    /// The `day` of `month` (1-based, like chrono).
    #[must_use]
    pub const fn new(month: u32, day: u32) -> Self {
        Self { month, day }
    }

    /// The month and day of `date`.
    #[must_use]
    pub fn of(date: NaiveDate) -> Self {
        Self::new(date.month(), date.day())
    }
}

/// A period every year when a body holds no regular meetings; both ends included. A recess
/// whose end comes before its start in the calendar spans the new year (18 December – 10
/// January).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Recess {
    /// Shown to organisers ("winter recess").
    pub name: &'static str,
    pub from: MonthDay,
    pub to: MonthDay,
}

impl Recess {
    /// Whether `date` falls within this recess.
    #[must_use]
    pub fn contains(&self, date: NaiveDate) -> bool {
        let day = MonthDay::of(date);
        if self.from <= self.to { self.from <= day && day <= self.to } else { day >= self.from || day <= self.to }
    }
}

/// How often a body meets, which decides what [`crate::planning::plan_year`] plans for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cadence {
    /// Every `weekday` at `start` (Vienna time), except in the recesses and on Hofburg closures.
    Weekly { weekday: Weekday, start: NaiveTime, recesses: &'static [Recess] },
    /// `per_year` meetings spread evenly over the open `weekday`s outside the recesses (fewer
    /// only if a year had fewer open days than `per_year`).
    Spread { per_year: u32, weekday: Weekday, start: NaiveTime, recesses: &'static [Recess] },
    /// Once a year, on the first `weekday` on or after `on_or_after` that is neither a holiday
    /// nor taken in the body's room.
    Annual { weekday: Weekday, start: NaiveTime, on_or_after: MonthDay },
    /// Organisers create each meeting; `usually` says when it tends to happen.
    OneOff { usually: &'static str },
}

impl Cadence {
    /// The recesses of a regular cadence; none for annual and one-off meetings.
    #[must_use]
    pub fn recesses(&self) -> &'static [Recess] {
        match self {
            Self::Weekly { recesses, .. } | Self::Spread { recesses, .. } => recesses,
            Self::Annual { .. } | Self::OneOff { .. } => &[],
        }
    }

    /// The recess containing `date`, if any.
    #[must_use]
    pub fn recess_on(&self, date: NaiveDate) -> Option<&'static Recess> {
        self.recesses().iter().find(|recess| recess.contains(date))
    }
}

/// Who presides over a body's meetings; [`crate::chairs::chair_of`] applies it to a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChairRule {
    /// The Chairmanship of the meeting's year.
    Chairmanship,
    /// The incoming Chairmanship: next year's Chair.
    Incoming,
    /// The outgoing Chairmanship: last year's Chair.
    Outgoing,
    /// The incoming and the outgoing Chairmanship together, as co-chairs.
    IncomingAndOutgoing,
    /// The FSC's four-monthly rotation in protocol order.
    FscRotation,
}

/// Which delegations a body invites. Guests and civil society are invited per meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Invites {
    pub participating_states: bool,
    pub mediterranean_partners: bool,
    pub asian_partners: bool,
}

impl Invites {
    /// Participating States and all Partners for Co-operation.
    pub const EVERYONE: Self = Self { participating_states: true, mediterranean_partners: true, asian_partners: true };
    /// Participating States and the Mediterranean Partners.
    pub const MEDITERRANEAN: Self =
        Self { participating_states: true, mediterranean_partners: true, asian_partners: false };
    /// Participating States and the Asian Partners.
    pub const ASIAN: Self = Self { participating_states: true, mediterranean_partners: false, asian_partners: true };

    /// Whether a delegation of this standing on the meeting's date is invited.
    #[must_use]
    pub fn includes(&self, kind: StateKind, group: Option<PartnerGroup>) -> bool {
        match (kind, group) {
            (StateKind::Participating, _) => self.participating_states,
            (StateKind::Partner, Some(PartnerGroup::Mediterranean)) => self.mediterranean_partners,
            (StateKind::Partner, Some(PartnerGroup::Asian)) => self.asian_partners,
            (StateKind::Partner, None) => false,
        }
    }
}

/// Room codes from `data/rooms.csv` that bodies use by default.
pub mod rooms {
    /// The Neuer Saal: the PC's and FSC's room, 84 seats at the main table.
    pub const NEUER_SAAL: &str = "HOFBURG-NEUER-SAAL";
    /// The Ratsaal: 72 seats at the main table.
    pub const RATSAAL: &str = "HOFBURG-RATSAAL";
    /// The Segmentgalerie: 40 seats at the main table.
    pub const SEGMENTGALERIE: &str = "HOFBURG-SEGMENTGALERIE";
}

/// One body's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Body {
    pub code: BodyCode,
    pub name_en: &'static str,
    pub name_fr: &'static str,
    pub cadence: Cadence,
    /// Room code from `data/rooms.csv`; `None` for meetings held wherever the host decides.
    pub default_room: Option<&'static str>,
    /// How long a meeting lasts unless organisers say otherwise (days for conferences).
    #[serde(rename = "default_duration_minutes", serialize_with = "serialize_minutes")]
    pub default_duration: TimeDelta,
    pub chair_rule: ChairRule,
    pub invites: Invites,
    /// Seats behind each head of delegation, for advisers.
    pub seats_behind_quota: u32,
    /// How long before the start registration closes: 48 hours for meetings in Vienna, 14 days
    /// for conferences abroad (travel and security lists need the time).
    #[serde(rename = "registration_deadline_minutes", serialize_with = "serialize_minutes")]
    pub registration_deadline: TimeDelta,
}

impl Body {
    /// Whether [`crate::planning::plan_year`] plans this body's meetings (weekly, spread or
    /// annual), as opposed to organisers creating each one.
    #[must_use]
    pub fn is_regular(&self) -> bool {
        !matches!(self.cadence, Cadence::OneOff { .. })
    }
}

fn serialize_minutes<S: Serializer>(duration: &TimeDelta, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_i64(duration.num_minutes())
}

const fn at(hour: u32, minute: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(hour, minute, 0) {
        Some(time) => time,
        None => panic!("invalid time in the body table"),
    }
}

const IN_VIENNA: TimeDelta = TimeDelta::hours(48);
const ABROAD: TimeDelta = TimeDelta::days(14);
const ADVISERS: u32 = 2;

/// The PC's recesses: no regular meetings in August, nor over the turn of the year.
pub const PC_RECESSES: &[Recess] = &[
    Recess { name: "summer recess", from: MonthDay::new(8, 1), to: MonthDay::new(8, 31) },
    Recess { name: "winter recess", from: MonthDay::new(12, 18), to: MonthDay::new(1, 10) },
];

/// The FSC's recesses between its three sessions, longer than the PC's.
pub const FSC_RECESSES: &[Recess] = &[
    Recess { name: "spring break", from: MonthDay::new(4, 1), to: MonthDay::new(4, 14) },
    Recess { name: "summer recess", from: MonthDay::new(7, 1), to: MonthDay::new(8, 31) },
    Recess { name: "winter recess", from: MonthDay::new(12, 8), to: MonthDay::new(1, 14) },
];

/// Every body Plenary knows, in the order of [`BodyCode::ALL`].
pub static BODIES: [Body; 12] = [
    Body {
        code: BodyCode::Pc,
        name_en: "Permanent Council",
        name_fr: "Conseil permanent",
        cadence: Cadence::Weekly { weekday: Weekday::Thu, start: at(10, 0), recesses: PC_RECESSES },
        default_room: Some(rooms::NEUER_SAAL),
        default_duration: TimeDelta::hours(3),
        chair_rule: ChairRule::Chairmanship,
        invites: Invites::EVERYONE,
        seats_behind_quota: ADVISERS,
        registration_deadline: IN_VIENNA,
    },
    Body {
        code: BodyCode::Fsc,
        name_en: "Forum for Security Co-operation",
        name_fr: "Forum pour la coopération en matière de sécurité",
        cadence: Cadence::Weekly { weekday: Weekday::Wed, start: at(10, 0), recesses: FSC_RECESSES },
        default_room: Some(rooms::NEUER_SAAL),
        default_duration: TimeDelta::hours(3),
        chair_rule: ChairRule::FscRotation,
        invites: Invites::EVERYONE,
        seats_behind_quota: ADVISERS,
        registration_deadline: IN_VIENNA,
    },
    Body {
        code: BodyCode::CgMed,
        name_en: "Contact Group with the Mediterranean Partners for Co-operation",
        name_fr: "Groupe de contact avec les partenaires méditerranéens pour la coopération",
        cadence: Cadence::Spread { per_year: 6, weekday: Weekday::Mon, start: at(15, 0), recesses: PC_RECESSES },
        default_room: Some(rooms::RATSAAL),
        default_duration: TimeDelta::hours(2),
        chair_rule: ChairRule::Incoming,
        invites: Invites::MEDITERRANEAN,
        seats_behind_quota: ADVISERS,
        registration_deadline: IN_VIENNA,
    },
    Body {
        code: BodyCode::CgAsia,
        name_en: "Contact Group with the Asian Partners for Co-operation",
        name_fr: "Groupe de contact avec les partenaires asiatiques pour la coopération",
        cadence: Cadence::Spread { per_year: 6, weekday: Weekday::Fri, start: at(15, 0), recesses: PC_RECESSES },
        default_room: Some(rooms::RATSAAL),
        default_duration: TimeDelta::hours(2),
        chair_rule: ChairRule::Outgoing,
        invites: Invites::ASIAN,
        seats_behind_quota: ADVISERS,
        registration_deadline: IN_VIENNA,
    },
    Body {
        code: BodyCode::CgJoint,
        name_en: "Joint Meeting of the Mediterranean and Asian Contact Groups",
        name_fr: "Réunion conjointe des groupes de contact méditerranéen et asiatique",
        cadence: Cadence::Annual { weekday: Weekday::Tue, start: at(15, 0), on_or_after: MonthDay::new(11, 10) },
        default_room: Some(rooms::NEUER_SAAL),
        default_duration: TimeDelta::minutes(150),
        chair_rule: ChairRule::IncomingAndOutgoing,
        invites: Invites::EVERYONE,
        seats_behind_quota: ADVISERS,
        registration_deadline: IN_VIENNA,
    },
    Body {
        code: BodyCode::ConfMed,
        name_en: "OSCE Mediterranean Conference",
        name_fr: "Conférence méditerranéenne de l'OSCE",
        cadence: Cadence::OneOff {
            usually: "two days in October, hosted by a Mediterranean Partner in its own time zone",
        },
        default_room: None,
        default_duration: TimeDelta::days(2),
        chair_rule: ChairRule::Incoming,
        invites: Invites::MEDITERRANEAN,
        seats_behind_quota: ADVISERS,
        registration_deadline: ABROAD,
    },
    Body {
        code: BodyCode::ConfAsia,
        name_en: "OSCE Asian Conference",
        name_fr: "Conférence asiatique de l'OSCE",
        cadence: Cadence::OneOff { usually: "two days, hosted by an Asian Partner or in Vienna" },
        default_room: None,
        default_duration: TimeDelta::days(2),
        chair_rule: ChairRule::Outgoing,
        invites: Invites::ASIAN,
        seats_behind_quota: ADVISERS,
        registration_deadline: ABROAD,
    },
    Body {
        code: BodyCode::Mc,
        name_en: "Ministerial Council",
        name_fr: "Conseil ministériel",
        cadence: Cadence::OneOff { usually: "two days in early December, in the Chairmanship's country" },
        default_room: None,
        default_duration: TimeDelta::days(2),
        chair_rule: ChairRule::Chairmanship,
        invites: Invites::EVERYONE,
        seats_behind_quota: ADVISERS,
        registration_deadline: ABROAD,
    },
    Body {
        code: BodyCode::TroikaPartners,
        name_en: "Troika Meeting with the Partners for Co-operation",
        name_fr: "Réunion de la Troïka avec les partenaires pour la coopération",
        cadence: Cadence::OneOff { usually: "on the margins of the Ministerial Council" },
        default_room: None,
        default_duration: TimeDelta::hours(2),
        chair_rule: ChairRule::Chairmanship,
        invites: Invites::EVERYONE,
        seats_behind_quota: ADVISERS,
        registration_deadline: ABROAD,
    },
    Body {
        code: BodyCode::Asrc,
        name_en: "Annual Security Review Conference",
        name_fr: "Conférence annuelle d'examen des questions de sécurité",
        cadence: Cadence::OneOff { usually: "two to three days in late June, Vienna" },
        default_room: Some(rooms::NEUER_SAAL),
        default_duration: TimeDelta::days(3),
        chair_rule: ChairRule::Chairmanship,
        invites: Invites::EVERYONE,
        seats_behind_quota: ADVISERS,
        registration_deadline: IN_VIENNA,
    },
    Body {
        code: BodyCode::Eef,
        name_en: "Economic and Environmental Forum",
        name_fr: "Forum économique et environnemental",
        cadence: Cadence::OneOff { usually: "concluding meeting of three days in mid-September, Prague" },
        default_room: None,
        default_duration: TimeDelta::days(3),
        chair_rule: ChairRule::Chairmanship,
        invites: Invites::EVERYONE,
        seats_behind_quota: ADVISERS,
        registration_deadline: ABROAD,
    },
    Body {
        code: BodyCode::Hdim,
        name_en: "Human Dimension Implementation Meeting",
        name_fr: "Réunion sur la mise en œuvre des engagements concernant la dimension humaine",
        cadence: Cadence::OneOff { usually: "about two weeks from late September to early October, Warsaw" },
        default_room: None,
        default_duration: TimeDelta::days(14),
        chair_rule: ChairRule::Chairmanship,
        invites: Invites::EVERYONE,
        seats_behind_quota: ADVISERS,
        registration_deadline: ABROAD,
    },
];

/// Every body's rules, in the order of [`BodyCode::ALL`].
#[must_use]
pub fn all_bodies() -> &'static [Body] {
    &BODIES
}

/// The rules of the body with this code ("PC", "CG-MED"), if Plenary knows it.
#[must_use]
pub fn body(code: &str) -> Option<&'static Body> {
    code.parse::<BodyCode>().ok().map(BodyCode::body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::ReferenceData;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn the_table_has_one_body_per_code_in_order() {
        for (index, code) in BodyCode::ALL.into_iter().enumerate() {
            assert_eq!(BODIES[index].code, code);
            assert_eq!(code.body().code, code);
            assert_eq!(body(code.as_str()).map(|b| b.code), Some(code));
            assert_eq!(code.as_str().parse::<BodyCode>(), Ok(code));
        }
        assert_eq!(serde_json::to_value(BodyCode::TroikaPartners).unwrap(), "TROIKA-PARTNERS");
    }

    #[test]
    fn unknown_codes_are_named() {
        assert!(body("pc").is_none());
        let error = "CG-ARCTIC".parse::<BodyCode>().unwrap_err();
        assert!(error.to_string().contains("\"CG-ARCTIC\""), "{error}");
    }

    #[test]
    fn default_rooms_exist_in_the_reference_data() {
        let rooms = ReferenceData::bundled().rooms;
        for body in all_bodies() {
            if let Some(room) = body.default_room {
                assert!(rooms.iter().any(|r| r.code == room), "{room}");
            }
        }
        assert!(rooms.iter().any(|r| r.code == rooms::SEGMENTGALERIE));
    }

    #[test]
    fn recesses_include_their_ends_and_may_span_the_new_year() {
        let winter = PC_RECESSES[1];
        assert!(winter.contains(date("2026-12-18")));
        assert!(winter.contains(date("2027-01-01")));
        assert!(winter.contains(date("2027-01-10")));
        assert!(!winter.contains(date("2027-01-11")));
        assert!(!winter.contains(date("2026-12-17")));
        let summer = PC_RECESSES[0];
        assert!(summer.contains(date("2026-08-01")) && summer.contains(date("2026-08-31")));
        assert!(!summer.contains(date("2026-09-01")) && !summer.contains(date("2026-07-31")));
        assert_eq!(BodyCode::Fsc.body().cadence.recess_on(date("2026-07-15")).map(|r| r.name), Some("summer recess"));
    }

    #[test]
    fn contact_groups_invite_only_their_partners() {
        let med = BodyCode::CgMed.body().invites;
        let asia = BodyCode::CgAsia.body().invites;
        let participating = (StateKind::Participating, None);
        let mediterranean = (StateKind::Partner, Some(PartnerGroup::Mediterranean));
        let asian = (StateKind::Partner, Some(PartnerGroup::Asian));
        assert!(med.includes(participating.0, participating.1));
        assert!(med.includes(mediterranean.0, mediterranean.1));
        assert!(!med.includes(asian.0, asian.1));
        assert!(asia.includes(asian.0, asian.1));
        assert!(!asia.includes(mediterranean.0, mediterranean.1));
        assert!(Invites::EVERYONE.includes(asian.0, asian.1));
    }

    #[test]
    fn registration_closes_earlier_for_conferences_abroad() {
        assert_eq!(BodyCode::Pc.body().registration_deadline, TimeDelta::hours(48));
        assert_eq!(BodyCode::ConfMed.body().registration_deadline, TimeDelta::days(14));
        let json = serde_json::to_value(BodyCode::Pc.body()).unwrap();
        assert_eq!(json["default_duration_minutes"], 180);
        assert_eq!(json["cadence"]["kind"], "weekly");
        assert_eq!(json["default_room"], "HOFBURG-NEUER-SAAL");
    }
}
