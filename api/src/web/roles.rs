//! One name per role on every page: accounts, a delegation's contacts and the two kinds of
//! seat. Templates and page code call these, never spell a role themselves.

use scheduler::attendance::Seat;

use crate::auth::Role;

/// What an account may do, as the accounts page names it.
#[must_use]
pub fn account_role(role: Role) -> &'static str {
    match role {
        Role::Admin => "Administrator",
        Role::Organiser => "Organiser",
        Role::Delegation => "Delegation (contact point)",
    }
}

/// A delegation's contact's role (`contacts.role`) and its name, in the order forms offer them.
pub const CONTACT_ROLES: [(&str, &str); 3] =
    [("contact_point", "Contact point"), ("head_of_delegation", "Head of delegation"), ("adviser", "Adviser")];

/// The name of a contact's role (`contact_point`, `head_of_delegation`, `adviser`).
#[must_use]
pub fn contact_role(role: &str) -> &'static str {
    CONTACT_ROLES.iter().find(|(value, _)| *value == role).map_or("Adviser", |(_, name)| name)
}

/// A kind of seat, named after who sits there.
#[must_use]
pub fn seat(seat: Seat) -> &'static str {
    match seat {
        Seat::Main => "At the table (head of delegation)",
        Seat::Behind => "Behind (adviser)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_role_has_the_same_name_everywhere() {
        assert_eq!(contact_role("head_of_delegation"), "Head of delegation");
        assert!(seat(Seat::Main).contains(&contact_role("head_of_delegation").to_lowercase()));
        assert!(seat(Seat::Behind).contains(&contact_role("adviser").to_lowercase()));
        assert!(account_role(Role::Delegation).contains(&contact_role("contact_point").to_lowercase()));
    }
}
