//! Who is invited to a meeting: the body's rules applied to each State's standing on the
//! meeting's date, with the reason for each invitation.
//!
//! A Contact Group with the Mediterranean Partners invites the participating States and the
//! Mediterranean Partners, not the Asian ones; a 2010 Asian meeting invites Mongolia as a
//! Partner, a 2013 one as a participating State.

use chrono::NaiveDate;
use serde::Serialize;

use crate::{
    bodies::Body,
    states::{Delegation, PartnerGroup, StateKind},
};

/// Why a delegation is on the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// A participating State on the meeting's date, invited by the body's rules.
    ParticipatingState,
    /// A Mediterranean Partner on the meeting's date, invited by the body's rules.
    MediterraneanPartner,
    /// An Asian Partner on the meeting's date, invited by the body's rules.
    AsianPartner,
}

impl Reason {
    /// The reason in words, for pages and mail.
    #[must_use]
    pub fn describe(self, body: &Body, date: NaiveDate) -> String {
        let standing = match self {
            Self::ParticipatingState => "participating State",
            Self::MediterraneanPartner => "Mediterranean Partner for Co-operation",
            Self::AsianPartner => "Asian Partner for Co-operation",
        };
        format!("{standing} on {date}; the {} invites them", body.name_en)
    }
}

/// One invited delegation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invitee {
    pub delegation: Delegation,
    pub reason: Reason,
}

/// The delegations `body` invites to a meeting on `date`, from `delegations` (those taking part
/// on that date, as [`crate::states::delegations_on`] gives them); participating States first,
/// then Partners, each in protocol order.
#[must_use]
pub fn invitees(body: &Body, delegations: &[Delegation]) -> Vec<Invitee> {
    let mut invited: Vec<Invitee> = delegations
        .iter()
        .filter(|delegation| body.invites.includes(delegation.kind, delegation.partner_group))
        .map(|delegation| Invitee {
            delegation: delegation.clone(),
            reason: match (delegation.kind, delegation.partner_group) {
                (StateKind::Participating, _) => Reason::ParticipatingState,
                (StateKind::Partner, Some(PartnerGroup::Asian)) => Reason::AsianPartner,
                (StateKind::Partner, _) => Reason::MediterraneanPartner,
            },
        })
        .collect();
    // Stable: keeps protocol order within each group.
    invited.sort_by_key(|invitee| invitee.delegation.kind != StateKind::Participating);
    invited
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{bodies::body, reference::ReferenceData, states::delegations_on};

    fn invited(code: &str, date: &str) -> Vec<Invitee> {
        let data = ReferenceData::bundled();
        invitees(body(code).unwrap(), &delegations_on(&data.states, &data.memberships, date.parse().unwrap()))
    }

    fn codes(invitees: &[Invitee], reason: Reason) -> Vec<String> {
        invitees.iter().filter(|i| i.reason == reason).map(|i| i.delegation.iso2.clone()).collect()
    }

    #[test]
    fn the_mediterranean_contact_group_invites_the_states_and_the_six_mediterranean_partners_only() {
        let list = invited("CG-MED", "2026-11-27");
        assert_eq!(codes(&list, Reason::ParticipatingState).len(), 57);
        assert_eq!(codes(&list, Reason::MediterraneanPartner), ["DZ", "EG", "IL", "JO", "MA", "TN"]);
        assert!(codes(&list, Reason::AsianPartner).is_empty());
    }

    #[test]
    fn the_pc_invites_everyone_states_first() {
        let list = invited("PC", "2026-11-27");
        assert_eq!(list.len(), 68);
        assert_eq!(list[0].delegation.iso2, "AL");
        assert!(list[..57].iter().all(|i| i.reason == Reason::ParticipatingState));
    }

    #[test]
    fn mongolia_is_invited_as_a_partner_in_2010_and_as_a_state_in_2013() {
        let mongolia =
            |date| invited("CG-ASIA", date).into_iter().find(|i| i.delegation.iso2 == "MN").map(|i| i.reason);
        assert_eq!(mongolia("2010-06-01"), Some(Reason::AsianPartner));
        assert_eq!(mongolia("2013-06-01"), Some(Reason::ParticipatingState));
        assert_eq!(codes(&invited("CG-ASIA", "2026-06-01"), Reason::AsianPartner), ["AF", "AU", "JP", "KR", "TH"]);
    }

    #[test]
    fn reasons_read_as_words() {
        let pc = body("PC").unwrap();
        let text = Reason::AsianPartner.describe(pc, "2026-01-08".parse().unwrap());
        assert_eq!(text, "Asian Partner for Co-operation on 2026-01-08; the Permanent Council invites them");
    }
}
