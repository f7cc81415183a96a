//! Who chairs a meeting, derived from the body's [`ChairRule`] and the date; never typed in.
//!
//! Most bodies are chaired by a Chairmanship: the current one (PC, conferences), the incoming one
//! (the Mediterranean Contact Group), the outgoing one (the Asian Contact Group) or both (their
//! joint meeting). A Chairmanship not yet decided stays unknown, serialised as `null`, and is
//! shown as "to be decided"; nothing is guessed.
//!
//! The FSC chair rotates every four months (January–April, May–August, September–December) in
//! protocol order among the participating States. The rotation is walked from a recorded anchor
//! ([`FSC_ANCHOR`]: Bosnia and Herzegovina in the first period of 2006), one period at a time:
//! each period's chair is the next State in the protocol ring after the previous chair among the
//! States participating on the period's first day, so States that join later (Mongolia in
//! November 2012) enter the ring at their place.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::bodies::{Body, ChairRule};
use crate::chairmanship::Chairmanships;
use crate::protocol::protocol_cmp;
use crate::states::{Membership, State, StateKind};

/// The chair (or co-chairs) of a meeting, as ISO 3166 alpha-2 codes; `None` where not yet
/// decided.
///
/// Serialised as `{"single": "CH"}`, `{"single": null}` or
/// `{"co_chairs": {"incoming": null, "outgoing": "FI"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Chair {
    /// One participating State presides.
    Single(Option<String>),
    /// The incoming and outgoing Chairmanships preside together.
    CoChairs { incoming: Option<String>, outgoing: Option<String> },
}

impl Chair {
    /// The chairs that are decided, in presiding order (incoming first for co-chairs).
    #[must_use]
    pub fn known(&self) -> Vec<&str> {
        match self {
            Self::Single(chair) => chair.iter().map(String::as_str).collect(),
            Self::CoChairs { incoming, outgoing } => incoming.iter().chain(outgoing).map(String::as_str).collect(),
        }
    }

    /// Whether every chair is known.
    #[must_use]
    pub fn is_decided(&self) -> bool {
        match self {
            Self::Single(chair) => chair.is_some(),
            Self::CoChairs { incoming, outgoing } => incoming.is_some() && outgoing.is_some(),
        }
    }
}

/// A recorded FSC chair from which the rotation is walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FscAnchor {
    pub year: i32,
    /// 1 for January–April, 2 for May–August, 3 for September–December.
    pub period: u32,
    pub iso2: &'static str,
}

/// The FSC chair in the first period of 2006, from the public record.
pub const FSC_ANCHOR: FscAnchor = FscAnchor { year: 2006, period: 1, iso2: "BA" };

/// Who chairs a meeting of `body` on `date`.
///
/// `states` and `memberships` are needed for the FSC rotation only; the other rules read
/// `chairmanships`.
#[must_use]
pub fn chair_of(
    body: &Body,
    date: NaiveDate,
    chairmanships: &Chairmanships,
    states: &[State],
    memberships: &[Membership],
) -> Chair {
    let year = date.year();
    let chairmanship = |year: i32| chairmanships.of(year).map(str::to_owned);
    match body.chair_rule {
        ChairRule::Chairmanship => Chair::Single(chairmanship(year)),
        ChairRule::Incoming => Chair::Single(chairmanship(year + 1)),
        ChairRule::Outgoing => Chair::Single(chairmanship(year - 1)),
        ChairRule::IncomingAndOutgoing => {
            Chair::CoChairs { incoming: chairmanship(year + 1), outgoing: chairmanship(year - 1) }
        }
        ChairRule::FscRotation => Chair::Single(fsc_chair(date, states, memberships)),
    }
}

/// The FSC chair on `date`, walking the rotation from [`FSC_ANCHOR`].
///
/// `None` before the anchor, or when the reference data lacks the anchor State or has no
/// participating State on a period's first day.
#[must_use]
pub fn fsc_chair(date: NaiveDate, states: &[State], memberships: &[Membership]) -> Option<String> {
    // The anchor's period is 1..=3, so the cast is exact.
    let anchor = FSC_ANCHOR.year * 3 + FSC_ANCHOR.period as i32 - 1;
    let target = period_number(date);
    if target < anchor {
        return None;
    }
    let mut ring: Vec<&State> = states.iter().collect();
    ring.sort_by(|a, b| protocol_cmp(&a.protocol_sort_key, &b.protocol_sort_key));
    let mut position = ring.iter().position(|state| state.iso2 == FSC_ANCHOR.iso2)?;
    for period in anchor + 1..=target {
        let first_day = first_day_of_period(period)?;
        position = (1..=ring.len())
            .map(|step| (position + step) % ring.len())
            .find(|&candidate| participating_on(&ring[candidate].iso2, first_day, memberships))?;
    }
    Some(ring[position].iso2.clone())
}

/// Four-month periods counted from year 0: `year * 3 + (0, 1 or 2)`.
fn period_number(date: NaiveDate) -> i32 {
    // month0 is 0..=11, so the period within the year is 0..=2 and the cast is exact.
    date.year() * 3 + (date.month0() / 4) as i32
}

fn first_day_of_period(period: i32) -> Option<NaiveDate> {
    // rem_euclid(3) is 0..=2, so the cast is exact.
    let month = period.rem_euclid(3) as u32 * 4 + 1;
    NaiveDate::from_ymd_opt(period.div_euclid(3), month, 1)
}

fn participating_on(iso2: &str, date: NaiveDate, memberships: &[Membership]) -> bool {
    memberships.iter().any(|membership| {
        membership.iso2 == iso2 && membership.kind == StateKind::Participating && membership.covers(date)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bodies::BodyCode;
    use crate::reference::ReferenceData;

    fn chair(code: BodyCode, date: &str) -> Chair {
        let data = ReferenceData::bundled();
        chair_of(
            code.body(),
            date.parse().unwrap(),
            &Chairmanships::new(&data.chairmanships),
            &data.states,
            &data.memberships,
        )
    }

    fn single(iso2: &str) -> Chair {
        Chair::Single(Some(iso2.to_owned()))
    }

    #[test]
    fn the_2006_fsc_chairs_are_bosnia_bulgaria_and_canada() {
        assert_eq!(chair(BodyCode::Fsc, "2006-01-01"), single("BA"));
        assert_eq!(chair(BodyCode::Fsc, "2006-04-30"), single("BA"));
        assert_eq!(chair(BodyCode::Fsc, "2006-05-01"), single("BG"));
        assert_eq!(chair(BodyCode::Fsc, "2006-09-01"), single("CA"));
        assert_eq!(chair(BodyCode::Fsc, "2006-12-31"), single("CA"));
        assert_eq!(chair(BodyCode::Fsc, "2007-01-10"), single("CY"));
    }

    #[test]
    fn before_the_anchor_the_fsc_chair_is_unknown() {
        assert_eq!(chair(BodyCode::Fsc, "2005-12-31"), Chair::Single(None));
    }

    #[test]
    fn mongolia_enters_the_rotation_after_joining_and_the_ring_wraps() {
        assert_eq!(chair(BodyCode::Fsc, "2014-09-01"), single("MC"));
        assert_eq!(chair(BodyCode::Fsc, "2015-01-01"), single("MN"));
        assert_eq!(chair(BodyCode::Fsc, "2015-05-01"), single("ME"));
        assert_eq!(chair(BodyCode::Fsc, "2021-09-01"), single("UA"));
        assert_eq!(chair(BodyCode::Fsc, "2022-01-01"), single("AL"));
    }

    #[test]
    fn a_state_still_a_partner_is_passed_over() {
        let data = ReferenceData::bundled();
        let memberships: Vec<Membership> = data
            .memberships
            .iter()
            .filter(|m| !(m.iso2 == "MN" && m.kind == StateKind::Participating))
            .cloned()
            .collect();
        let on = |date: &str| fsc_chair(date.parse().unwrap(), &data.states, &memberships);
        assert_eq!(on("2015-01-01").as_deref(), Some("ME"));
    }

    #[test]
    fn chairmanship_rules_read_the_right_year() {
        assert_eq!(chair(BodyCode::Pc, "2026-03-12"), single("CH"));
        assert_eq!(chair(BodyCode::Hdim, "2025-09-30"), single("FI"));
        assert_eq!(chair(BodyCode::CgAsia, "2026-03-13"), single("FI"));
        assert_eq!(chair(BodyCode::CgMed, "2026-03-09"), Chair::Single(None));
        assert_eq!(chair(BodyCode::CgMed, "2025-03-10"), single("CH"));
        assert_eq!(chair(BodyCode::ConfAsia, "2025-10-20"), single("MT"));
        assert_eq!(
            chair(BodyCode::CgJoint, "2026-11-10"),
            Chair::CoChairs { incoming: None, outgoing: Some("FI".into()) }
        );
    }

    #[test]
    fn unknown_chairs_serialise_as_null() {
        let joint = chair(BodyCode::CgJoint, "2026-11-10");
        assert!(!joint.is_decided());
        assert_eq!(joint.known(), ["FI"]);
        assert_eq!(
            serde_json::to_value(&joint).unwrap(),
            serde_json::json!({"co_chairs": {"incoming": null, "outgoing": "FI"}})
        );
        assert_eq!(serde_json::to_value(Chair::Single(None)).unwrap(), serde_json::json!({"single": null}));
        assert!(single("CH").is_decided());
    }
}
