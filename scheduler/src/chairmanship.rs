//! Chairmanships by year and the Troika.
//!
//! The next Chair is sometimes agreed very late, so a year without a known Chairmanship is
//! normal: every lookup returns `Option`, and nothing here ever guesses.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::reference::Chairmanship;

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
}
