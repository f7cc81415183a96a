//! Chairmanships by year and the Troika.
//!
//! The next Chair is sometimes agreed very late, so a year without a known Chairmanship is
//! normal: every lookup returns `Option`, and nothing here ever guesses.

use std::{collections::BTreeMap, ops::RangeInclusive};

use serde::Serialize;

use crate::{
    reference::Chairmanship,
    states::{Delegation, StateKind},
};

/// The years a Chairmanship can be recorded for.
pub const RECORDABLE_YEARS: RangeInclusive<i32> = 1975..=2100;

/// Whether `iso2` may hold a year's Chairmanship: only a participating State on 1 January of
/// that year; `delegations` are those taking part on that day.
#[must_use]
pub fn may_chair(iso2: &str, delegations: &[Delegation]) -> bool {
    delegations.iter().any(|delegation| delegation.iso2 == iso2 && delegation.kind == StateKind::Participating)
}

/// The known Chairmanships, by year.
#[derive(Debug, Clone, Default)]
pub struct Chairmanships {
    by_year: BTreeMap<i32, String>,
}

/// The previous, current and next Chairmanship of a year; `None` where not yet decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Troika {
    pub previous: Option<String>,
    pub current: Option<String>,
    pub next: Option<String>,
}

impl Chairmanships {
    #[must_use]
    pub fn new(chairmanships: &[Chairmanship]) -> Self {
        Self { by_year: chairmanships.iter().map(|c| (c.year, c.iso2.clone())).collect() }
    }

    /// The Chairmanship of `year`, if decided.
    #[must_use]
    pub fn of(&self, year: i32) -> Option<&str> {
        self.by_year.get(&year).map(String::as_str)
    }

    #[must_use]
    pub fn troika(&self, year: i32) -> Troika {
        let owned = |year| self.of(year).map(str::to_owned);
        Troika { previous: owned(year - 1), current: owned(year), next: owned(year + 1) }
    }

    /// The years with a known Chairmanship, in order.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.by_year.keys().copied()
    }

    /// The years worth listing in `this_year`: from the first known Chairmanship (1999 when none
    /// is known) to next year, or to the last known one when that is later.
    #[must_use]
    pub fn listed_years(&self, this_year: i32) -> RangeInclusive<i32> {
        let first = self.years().next().unwrap_or(1999);
        let last = self.years().last().unwrap_or(first).max(this_year + 1);
        first..=last
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::ReferenceData;

    #[test]
    fn the_troika_is_previous_current_and_next_and_unknown_years_stay_unknown() {
        let chairmanships = Chairmanships::new(&ReferenceData::bundled().chairmanships);
        assert_eq!(
            chairmanships.troika(2025),
            Troika { previous: Some("MT".into()), current: Some("FI".into()), next: Some("CH".into()) }
        );
        assert_eq!(chairmanships.troika(2026).next, None);
        assert_eq!(chairmanships.of(1998), None);
    }

    #[test]
    fn the_list_runs_from_the_first_known_year_to_next_year_or_the_last_known() {
        let bundled = Chairmanships::new(&ReferenceData::bundled().chairmanships);
        let first = bundled.years().next().unwrap();
        assert_eq!(bundled.listed_years(2026), first..=2027);
        assert_eq!(bundled.listed_years(1990), first..=bundled.years().last().unwrap());
        assert_eq!(Chairmanships::default().listed_years(2026), 1999..=2027);
    }

    #[test]
    fn only_a_participating_state_on_the_first_of_january_may_chair() {
        let data = ReferenceData::bundled();
        let on = |date: &str| crate::states::delegations_on(&data.states, &data.memberships, date.parse().unwrap());
        let january = on("2027-01-01");
        assert!(may_chair("AT", &january));
        assert!(!may_chair("JP", &january), "a Partner");
        assert!(!may_chair("XX", &january), "unknown");
        assert!(!may_chair("MN", &on("2010-01-01")), "a Partner then");
        assert!(RECORDABLE_YEARS.contains(&1975) && !RECORDABLE_YEARS.contains(&2101));
    }
}
