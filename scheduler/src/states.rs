//! Participating States and Partners for Co-operation, and their dated memberships.
//!
//! A State's standing is not fixed: Mongolia was an Asian Partner from 2004 and has been a
//! participating State since 21 November 2012. Everything that depends on who takes part
//! (invitations, seating, the FSC rotation) asks [`delegations_on`] for the meeting's date.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::protocol::protocol_cmp;

/// Whether a State takes part as a participating State or as a Partner for Co-operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateKind {
    Participating,
    Partner,
}

impl StateKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Participating => "participating",
            Self::Partner => "partner",
        }
    }

    /// # Errors
    /// When `text` is neither `participating` nor `partner`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "participating" => Ok(Self::Participating),
            "partner" => Ok(Self::Partner),
            other => Err(format!("unknown State kind {other:?}: expected participating or partner")),
        }
    }
}

/// The two groups of Partners for Co-operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartnerGroup {
    Mediterranean,
    Asian,
}

impl PartnerGroup {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mediterranean => "mediterranean",
            Self::Asian => "asian",
        }
    }

    /// # Errors
    /// When `text` is neither `mediterranean` nor `asian`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "mediterranean" => Ok(Self::Mediterranean),
            "asian" => Ok(Self::Asian),
            other => Err(format!("unknown partner group {other:?}: expected mediterranean or asian")),
        }
    }
}

/// A country as protocol names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub iso2: String,
    pub name_en: String,
    pub name_fr: String,
    /// The name used for ordering, which differs from everyday French ("Amérique (États-Unis d')").
    pub protocol_sort_key: String,
}

/// One period of a State's standing. `until` is exclusive: the day the next standing begins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub iso2: String,
    pub kind: StateKind,
    pub partner_group: Option<PartnerGroup>,
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

impl Membership {
    #[must_use]
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.from <= date && self.until.is_none_or(|until| date < until)
    }
}

/// A State with its standing on a given date: who sits at the table that day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegation {
    pub iso2: String,
    pub name_en: String,
    pub name_fr: String,
    pub protocol_sort_key: String,
    pub kind: StateKind,
    pub partner_group: Option<PartnerGroup>,
}

/// The delegations taking part on `date`, in protocol order (participating States and Partners
/// mixed; callers that need them apart filter on `kind`).
#[must_use]
pub fn delegations_on(states: &[State], memberships: &[Membership], date: NaiveDate) -> Vec<Delegation> {
    let mut delegations: Vec<Delegation> = memberships
        .iter()
        .filter(|membership| membership.covers(date))
        .filter_map(|membership| {
            let state = states.iter().find(|state| state.iso2 == membership.iso2)?;
            Some(Delegation {
                iso2: state.iso2.clone(),
                name_en: state.name_en.clone(),
                name_fr: state.name_fr.clone(),
                protocol_sort_key: state.protocol_sort_key.clone(),
                kind: membership.kind,
                partner_group: membership.partner_group,
            })
        })
        .collect();
    sort_in_protocol_order(&mut delegations);
    delegations
}

/// Sorts delegations by French collation of their protocol names.
pub fn sort_in_protocol_order(delegations: &mut [Delegation]) {
    delegations.sort_by(|a, b| protocol_cmp(&a.protocol_sort_key, &b.protocol_sort_key));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::ReferenceData;

    fn on(text: &str) -> Vec<Delegation> {
        let data = ReferenceData::bundled();
        delegations_on(&data.states, &data.memberships, text.parse().unwrap())
    }

    fn count(delegations: &[Delegation], kind: StateKind) -> usize {
        delegations.iter().filter(|d| d.kind == kind).count()
    }

    #[test]
    fn today_there_are_57_participating_states_and_11_partners() {
        let today = on("2026-11-27");
        assert_eq!(count(&today, StateKind::Participating), 57);
        assert_eq!(count(&today, StateKind::Partner), 11);
    }

    #[test]
    fn mongolia_changes_standing_on_21_november_2012() {
        let mongolia = |date| on(date).into_iter().find(|d| d.iso2 == "MN").map(|d| (d.kind, d.partner_group));
        assert_eq!(mongolia("2010-06-01"), Some((StateKind::Partner, Some(PartnerGroup::Asian))));
        assert_eq!(mongolia("2012-11-20"), Some((StateKind::Partner, Some(PartnerGroup::Asian))));
        assert_eq!(mongolia("2012-11-21"), Some((StateKind::Participating, None)));
        assert_eq!(mongolia("2003-01-01"), None);
    }

    #[test]
    fn protocol_order_puts_the_united_states_after_germany_and_the_uk_under_g() {
        let order: Vec<String> =
            on("2026-01-01").into_iter().filter(|d| d.kind == StateKind::Participating).map(|d| d.iso2).collect();
        let position = |iso2: &str| order.iter().position(|x| x == iso2).unwrap();
        assert_eq!(order.first().map(String::as_str), Some("AL"));
        assert_eq!(position("US"), position("DE") + 1);
        assert_eq!(position("GB"), position("GE") + 1);
        assert_eq!(position("GR"), position("GB") + 1);
        assert_eq!(position("BY") + 1, position("BE"));
        assert!(position("RU") > position("RO"));
        assert_eq!(order.last().map(String::as_str), Some("UA"));
    }
}
