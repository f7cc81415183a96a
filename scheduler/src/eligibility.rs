//! Who is invited to a meeting: the body's rules applied to each State's standing on the
//! meeting's date, with the reason for each invitation.
//!
//! A Contact Group with the Mediterranean Partners invites the participating States and the
//! Mediterranean Partners, not the Asian ones; a 2010 Asian meeting invites Mongolia as a
//! Partner, a 2013 one as a participating State.
//!
//! Organisers adjust a single meeting with [`Adjustments`]: a closed session leaves the Partners
//! out, and guests (another State or Partner taking part on that date, or a named official or
//! organisation with an e-mail address) are added to the body's list.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

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
    /// Not invited by the body's rules: the organisers added them to this meeting.
    Guest,
}

impl Reason {
    /// The reason in words, for pages and mail.
    #[must_use]
    pub fn describe(self, body: &Body, date: NaiveDate) -> String {
        let standing = match self {
            Self::ParticipatingState => "participating State",
            Self::MediterraneanPartner => "Mediterranean Partner for Co-operation",
            Self::AsianPartner => "Asian Partner for Co-operation",
            Self::Guest => return format!("guest of this meeting of the {}, added by the organisers", body.name_en),
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

/// An official or organisation invited to one meeting as a guest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficialGuest {
    /// The person, e.g. "Secretary General".
    pub name: String,
    /// Their organisation, e.g. "OSCE Parliamentary Assembly".
    #[serde(default)]
    pub organisation: Option<String>,
    pub email: String,
    /// `en` or `fr`.
    #[serde(default = "english")]
    pub language: String,
}

fn english() -> String {
    "en".to_owned()
}

/// What organisers changed about one meeting's list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustments {
    /// A closed session: the Partners the body would invite are left out (guests stay).
    #[serde(default)]
    pub closed: bool,
    /// ISO codes of States or Partners added as guests.
    #[serde(default)]
    pub guest_delegations: Vec<String>,
    /// Officials and organisations added as guests.
    #[serde(default)]
    pub officials: Vec<OfficialGuest>,
}

/// The body's list for a meeting, changed by `adjustments`: without the Partners for a closed
/// session, then with the guest delegations that take part on that date (those not in
/// `delegations` are skipped; check them with [`unknown_guests`] when they are set). Guests come
/// last, in protocol order; a guest the body invites anyway keeps the body's reason.
#[must_use]
pub fn invitees_adjusted(body: &Body, delegations: &[Delegation], adjustments: &Adjustments) -> Vec<Invitee> {
    let mut invited = invitees(body, delegations);
    if adjustments.closed {
        invited.retain(|invitee| invitee.delegation.kind == StateKind::Participating);
    }
    for delegation in delegations {
        if adjustments.guest_delegations.iter().any(|code| code.eq_ignore_ascii_case(&delegation.iso2))
            && !invited.iter().any(|invitee| invitee.delegation.iso2 == delegation.iso2)
        {
            invited.push(Invitee { delegation: delegation.clone(), reason: Reason::Guest });
        }
    }
    invited
}

/// The guest codes in `adjustments` that are not among `delegations` (not taking part on the
/// meeting's date, or unknown).
#[must_use]
pub fn unknown_guests<'a>(delegations: &[Delegation], adjustments: &'a Adjustments) -> Vec<&'a str> {
    adjustments
        .guest_delegations
        .iter()
        .filter(|code| !delegations.iter().any(|delegation| delegation.iso2.eq_ignore_ascii_case(code)))
        .map(String::as_str)
        .collect()
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

    fn adjusted(code: &str, date: &str, adjustments: &Adjustments) -> Vec<Invitee> {
        let data = ReferenceData::bundled();
        let delegations = delegations_on(&data.states, &data.memberships, date.parse().unwrap());
        invitees_adjusted(body(code).unwrap(), &delegations, adjustments)
    }

    #[test]
    fn a_closed_session_leaves_the_partners_out_but_keeps_guests() {
        let closed = Adjustments { closed: true, guest_delegations: vec!["jp".into()], ..Adjustments::default() };
        let list = adjusted("CG-MED", "2026-11-27", &closed);
        assert_eq!(codes(&list, Reason::ParticipatingState).len(), 57);
        assert!(codes(&list, Reason::MediterraneanPartner).is_empty());
        assert_eq!(codes(&list, Reason::Guest), ["JP"]);
        assert_eq!(list.last().unwrap().delegation.iso2, "JP");
    }

    #[test]
    fn a_guest_the_body_invites_anyway_keeps_the_bodys_reason() {
        let guests = Adjustments { guest_delegations: vec!["EG".into(), "KR".into()], ..Adjustments::default() };
        let list = adjusted("CG-MED", "2026-11-27", &guests);
        assert_eq!(list.len(), 57 + 6 + 1);
        assert_eq!(codes(&list, Reason::Guest), ["KR"]);
        assert!(list.iter().any(|i| i.delegation.iso2 == "EG" && i.reason == Reason::MediterraneanPartner));
    }

    #[test]
    fn guests_not_taking_part_on_the_date_are_reported_and_skipped() {
        let data = ReferenceData::bundled();
        let before_australia = delegations_on(&data.states, &data.memberships, "2005-06-01".parse().unwrap());
        let guests = Adjustments { guest_delegations: vec!["AU".into(), "XX".into()], ..Adjustments::default() };
        assert_eq!(unknown_guests(&before_australia, &guests), ["AU", "XX"]);
        let list = invitees_adjusted(body("CG-MED").unwrap(), &before_australia, &guests);
        assert!(codes(&list, Reason::Guest).is_empty());
    }

    #[test]
    fn reasons_read_as_words() {
        let pc = body("PC").unwrap();
        let text = Reason::AsianPartner.describe(pc, "2026-01-08".parse().unwrap());
        assert_eq!(text, "Asian Partner for Co-operation on 2026-01-08; the Permanent Council invites them");
    }
}
