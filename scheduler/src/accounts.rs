//! Accounts: who may act on whose account, how a set-password link reaches its user, what a
//! new password must be, and what a failed login is counted against.
//!
//! The rules, in the order a manager meets them:
//! - Ranks: delegation < organiser < admin. An admin acts on every account, an organiser on
//!   delegation accounts only, and nobody on their own account ([`may_manage`]); only an admin
//!   creates organiser accounts ([`may_create`]).
//! - A set-password link lets whoever holds it become that user, so it is shown only to someone
//!   of a higher rank than the account's ([`may_see_link`]), and only when mail cannot take it;
//!   when it can be neither shown nor mailed, none is made ([`handover`]).
//! - A new password has at least [`MIN_PASSWORD`] characters and is typed twice alike
//!   ([`check_new_password`]).
//! - Password guessing is slowed without locking the real user out (OWASP's device cookies): a
//!   login from a browser that logged in as that user before is counted against that browser
//!   alone; every other login against the username and the client's address ([`login_limits`]).
//! - "Forgot password" mails a link at most [`MAX_RESET_MAILS`] times per account and answers at
//!   most [`MAX_RESET_REQUESTS`] requests per client address within the window
//!   ([`reset_limits`]), so nobody can flood an inbox or probe many names quickly.

use thiserror::Error;

/// How far an account reaches; the order is the rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    /// A delegation's contact point, acting for one State.
    Delegation,
    Organiser,
    /// An organiser who also manages organisers' accounts.
    Admin,
}

/// An account as the rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account {
    pub id: i32,
    pub rank: Rank,
}

/// Whether `manager` may act on `account` (links, disabling, enabling): an admin on every
/// account, an organiser on delegation accounts, nobody on their own.
#[must_use]
pub fn may_manage(manager: Account, account: Account) -> bool {
    account.id != manager.id && (manager.rank == Rank::Admin || account.rank == Rank::Delegation)
}

/// Whether `manager` may create an account of `rank`: an admin any, an organiser delegation
/// accounts.
#[must_use]
pub fn may_create(manager: Rank, rank: Rank) -> bool {
    manager == Rank::Admin || rank == Rank::Delegation
}

/// Whether `manager` may see a set-password link for an account of `rank`: only below their own.
#[must_use]
pub fn may_see_link(manager: Rank, rank: Rank) -> bool {
    rank < manager
}

/// How a new set-password link reaches its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handover {
    /// No link is made: the manager may not see it and mail cannot take it (making one would
    /// only cancel the link the user may already have).
    Withhold,
    /// A link is made and mailed when the account can be mailed; `show` says whether the
    /// manager sees it too.
    Issue { show: bool },
}

/// How a link for an account of `rank` reaches its user, when `manager` asks for one.
/// `mailable`: the username is an address; `mail_waits`: no mail server is configured, so the
/// mail would wait in the outbox.
///
/// The manager sees the link only when mail cannot take it: with it they could set the user's
/// password and act as them, while a mailed link reaches only whoever holds the address.
#[must_use]
pub fn handover(manager: Rank, rank: Rank, mailable: bool, mail_waits: bool) -> Handover {
    let may_see = may_see_link(manager, rank);
    if !may_see && !mailable {
        return Handover::Withhold;
    }
    Handover::Issue { show: may_see && (!mailable || mail_waits) }
}

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 12;

/// Why a new password is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PasswordProblem {
    #[error("a password has at least {MIN_PASSWORD} characters")]
    TooShort,
    #[error("the two passwords are not the same")]
    Mismatch,
}

/// Checks a new password typed twice.
///
/// # Errors
/// [`PasswordProblem::TooShort`] first, then [`PasswordProblem::Mismatch`].
pub fn check_new_password(password: &str, confirm: &str) -> Result<(), PasswordProblem> {
    if password.chars().count() < MIN_PASSWORD {
        Err(PasswordProblem::TooShort)
    } else if password != confirm {
        Err(PasswordProblem::Mismatch)
    } else {
        Ok(())
    }
}

/// Longest username looked at when logging in; longer ones are refused before any lookup or
/// hashing (the input policy allows no longer username).
pub const MAX_USERNAME: usize = 100;
/// Failed logins allowed within the counting window for one username from clients without its
/// device cookie (they all share this count, so it bounds guessing from many addresses).
pub const MAX_UNTRUSTED_FAILURES: usize = 10;
/// Failed logins allowed for one device cookie: the browser that holds it waits, nobody else.
pub const MAX_DEVICE_FAILURES: usize = 10;
/// Failed logins allowed from one client address without a device cookie, across usernames.
/// Behind a reverse proxy every client has the proxy's address, so this is then a bound on all
/// untrusted guessing together: high enough that a few people mistyping do not reach it, low
/// enough that guessing across many usernames stays slow.
pub const MAX_ADDRESS_FAILURES: usize = 100;

/// What failed logins are counted against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Counter {
    /// A username, for browsers without its device cookie.
    User(String),
    /// A client address (the TCP peer), across usernames.
    Address(String),
    /// The nonce of a device cookie.
    Device(String),
    /// "Forgot password" requests for one username or e-mail address.
    ResetFor(String),
    /// "Forgot password" requests from one client address, across names.
    ResetFrom(String),
}

impl Counter {
    /// The key the count is kept under: `user:admin`, `address:192.0.2.1`, `device:<nonce>`.
    #[must_use]
    pub fn key(&self) -> String {
        match self {
            Self::User(username) => format!("user:{username}"),
            Self::Address(address) => format!("address:{address}"),
            Self::Device(nonce) => format!("device:{nonce}"),
            Self::ResetFor(name) => format!("reset-for:{name}"),
            Self::ResetFrom(address) => format!("reset-from:{address}"),
        }
    }
}

/// A counter and the failures it may have within the counting window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub counter: Counter,
    pub max_failures: usize,
}

/// What a login as `username` from `address` is counted against: the browser's device nonce
/// alone when it has a valid device cookie for that username, else the username and the
/// address.
#[must_use]
pub fn login_limits(username: &str, device: Option<&str>, address: &str) -> Vec<Limit> {
    match device {
        Some(nonce) => vec![Limit { counter: Counter::Device(nonce.to_owned()), max_failures: MAX_DEVICE_FAILURES }],
        None => vec![
            Limit { counter: Counter::User(username.to_owned()), max_failures: MAX_UNTRUSTED_FAILURES },
            Limit { counter: Counter::Address(address.to_owned()), max_failures: MAX_ADDRESS_FAILURES },
        ],
    }
}

/// Set-password links "forgot password" mails to one account within the counting window.
pub const MAX_RESET_MAILS: usize = 3;
/// "Forgot password" requests one client address may make within the counting window. High:
/// behind a reverse proxy every visitor shares one address, and a low bound would let one of
/// them silence the form for all; the answer never says whether a name exists, and each account
/// gets at most [`MAX_RESET_MAILS`], so this only bounds mass mailing.
pub const MAX_RESET_REQUESTS: usize = 200;

/// What a "forgot password" request for `name` (as typed, trimmed and lower-cased) from
/// `address` is counted against. Every request counts, whether or not an account matches, so
/// the count tells nothing either.
#[must_use]
pub fn reset_limits(name: &str, address: &str) -> Vec<Limit> {
    vec![
        Limit { counter: Counter::ResetFor(name.to_owned()), max_failures: MAX_RESET_MAILS },
        Limit { counter: Counter::ResetFrom(address.to_owned()), max_failures: MAX_RESET_REQUESTS },
    ]
}

/// The counts a successful login clears: the user's and the browser's own, never the
/// address's, or one account's owner could guess at others' between their own logins.
#[must_use]
pub fn cleared_by_success(username: &str, device: Option<&str>) -> Vec<Counter> {
    let mut cleared = vec![Counter::User(username.to_owned())];
    cleared.extend(device.map(|nonce| Counter::Device(nonce.to_owned())));
    cleared
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN: Account = Account { id: 1, rank: Rank::Admin };
    const ORGANISER: Account = Account { id: 2, rank: Rank::Organiser };
    const DELEGATE: Account = Account { id: 3, rank: Rank::Delegation };

    #[test]
    fn managers_act_below_them_and_never_on_themselves() {
        assert!(may_manage(ADMIN, ORGANISER) && may_manage(ADMIN, DELEGATE));
        assert!(may_manage(ADMIN, Account { id: 9, rank: Rank::Admin }), "an admin acts on another admin");
        assert!(may_manage(ORGANISER, DELEGATE));
        assert!(!may_manage(ORGANISER, ADMIN) && !may_manage(ORGANISER, Account { id: 9, rank: Rank::Organiser }));
        assert!(!may_manage(ADMIN, ADMIN) && !may_manage(ORGANISER, ORGANISER) && !may_manage(DELEGATE, DELEGATE));
        assert!(may_create(Rank::Admin, Rank::Organiser) && may_create(Rank::Organiser, Rank::Delegation));
        assert!(!may_create(Rank::Organiser, Rank::Organiser));
    }

    #[test]
    fn a_link_is_shown_only_below_ones_rank_and_only_when_mail_cannot_take_it() {
        assert!(may_see_link(Rank::Admin, Rank::Organiser) && !may_see_link(Rank::Admin, Rank::Admin));
        assert!(may_see_link(Rank::Organiser, Rank::Delegation) && !may_see_link(Rank::Organiser, Rank::Organiser));
        let (organiser, delegation) = (Rank::Organiser, Rank::Delegation);
        assert_eq!(handover(organiser, delegation, true, false), Handover::Issue { show: false }, "mailed only");
        assert_eq!(handover(organiser, delegation, true, true), Handover::Issue { show: true }, "mail waits");
        assert_eq!(handover(organiser, delegation, false, false), Handover::Issue { show: true }, "no address");
        assert_eq!(handover(organiser, organiser, true, true), Handover::Issue { show: false }, "a peer's: mail");
        assert_eq!(handover(organiser, organiser, false, false), Handover::Withhold, "a peer's, no address");
        assert_eq!(handover(Rank::Admin, Rank::Admin, false, true), Handover::Withhold);
    }

    #[test]
    fn a_new_password_is_long_enough_and_typed_twice_alike() {
        assert_eq!(check_new_password("short", "short"), Err(PasswordProblem::TooShort));
        assert_eq!(check_new_password("correct horse", "correct hors"), Err(PasswordProblem::Mismatch));
        assert_eq!(check_new_password("correct horse", "correct horse"), Ok(()));
        assert_eq!(check_new_password("ééééééééééé", "ééééééééééé"), Err(PasswordProblem::TooShort), "characters");
    }

    #[test]
    fn a_trusted_browser_is_counted_alone_and_success_never_clears_the_address() {
        let trusted = login_limits("anna", Some("n1"), "192.0.2.1");
        assert_eq!(trusted, [Limit { counter: Counter::Device("n1".into()), max_failures: MAX_DEVICE_FAILURES }]);
        let keys: Vec<_> = login_limits("anna", None, "192.0.2.1").iter().map(|limit| limit.counter.key()).collect();
        assert_eq!(keys, ["user:anna", "address:192.0.2.1"]);
        let cleared: Vec<_> = cleared_by_success("anna", Some("n1")).iter().map(Counter::key).collect();
        assert_eq!(cleared, ["user:anna", "device:n1"]);
        assert_eq!(cleared_by_success("anna", None), [Counter::User("anna".into())]);
    }

    #[test]
    fn password_resets_are_counted_apart_from_logins() {
        let keys: Vec<_> = reset_limits("anna", "192.0.2.1").iter().map(|limit| limit.counter.key()).collect();
        assert_eq!(keys, ["reset-for:anna", "reset-from:192.0.2.1"]);
        let login: Vec<_> = login_limits("anna", None, "192.0.2.1").iter().map(|limit| limit.counter.key()).collect();
        assert!(keys.iter().all(|key| !login.contains(key)), "a reset never makes a login wait");
    }
}
