//! Accounts: organisers creating accounts for delegations' contact points and for organisers,
//! set-password links, disabling and enabling; logging in (with failed logins counted in the
//! database, so every replica sees the same), sessions, and setting a password through a link.
//!
//! Who may act on whose account, who may see a link, what a password must be and what a failed
//! login is counted against are [`scheduler::accounts`]'s rules. A new account gets a one-time
//! link to set its password, e-mailed to its address through the outbox; disabling an account
//! ends its sessions at once. Every change to an account is audited.

pub mod device;

use chrono::Utc;
use scheduler::accounts::{self as rules, Account, Handover, PasswordProblem, Rank};
use sea_orm::{ConnectionTrait, DatabaseConnection, SqlErr};
use serde_json::json;

use super::{ConflictKind, Error, Rule, ServiceResult};
use crate::{
    auth::{Principal, Role, hash_password, verify_password},
    config::Config,
    db::entities::users,
    mail,
    store::{
        self,
        accounts::SessionUser,
        audit::AuditEntry,
        login_failures::{self, Refused},
    },
    validate::{self, TextKind},
};

/// A logged-in organiser managing accounts.
#[derive(Debug, Clone)]
pub struct Manager {
    /// Their own account, which they may not act on here.
    pub user_id: i32,
    pub principal: Principal,
}

impl Manager {
    fn account(&self) -> Account {
        Account { id: self.user_id, rank: rank_of(self.principal.role) }
    }

    fn require_organiser(&self) -> ServiceResult<()> {
        if self.principal.is_organiser() {
            Ok(())
        } else {
            Err(Error::Forbidden("This page is for organisers. You are logged in as a delegation user.".into()))
        }
    }
}

fn rank_of(role: Role) -> Rank {
    match role {
        Role::Delegation => Rank::Delegation,
        Role::Organiser => Rank::Organiser,
        Role::Admin => Rank::Admin,
    }
}

/// A stored account's rank.
fn rank(user: &users::Model) -> Rank {
    rank_of(user.role)
}

fn account(user: &users::Model) -> Account {
    Account { id: user.id, rank: rank(user) }
}

/// An account as its manager sees it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub user: users::Model,
    pub has_password: bool,
    /// Whether the manager may act on it ([`rules::may_manage`]).
    pub may_manage: bool,
}

/// Every account, by username, with what `manager` may do with each.
///
/// # Errors
/// [`Error::Forbidden`] for a delegation user.
pub async fn list(db: &impl ConnectionTrait, manager: &Manager) -> ServiceResult<Vec<Listed>> {
    manager.require_organiser()?;
    Ok(store::accounts::list_users(db)
        .await?
        .into_iter()
        .map(|user| Listed {
            has_password: user.password_hash.is_some(),
            may_manage: rules::may_manage(manager.account(), account(&user)),
            user,
        })
        .collect())
}

/// A new account, as its form was filled in.
#[derive(Debug, Clone, Default)]
pub struct NewAccount {
    /// The person's e-mail address, which is their username.
    pub username: String,
    pub display_name: String,
    /// `delegation` (also when blank) or `organiser`.
    pub role: String,
    /// The State or Partner a delegation account acts for (ISO code).
    pub state: String,
    /// For a delegation account: also make its holder the delegation's contact point who
    /// receives invitations, in this language (`en`, `fr`); `None` does not.
    pub contact_language: Option<String>,
}

/// A set-password link just made (or withheld), and how it reaches its user.
#[derive(Debug, Clone)]
pub struct NewLink {
    pub username: String,
    /// Queued in the outbox for the user's address.
    pub mailed: bool,
    /// No mail server is configured: the mail waits in the outbox.
    pub waiting: bool,
    /// The link itself, for the manager to hand over, when mail cannot take it and the account
    /// ranks below the manager ([`rules::handover`]).
    pub url: Option<String>,
    /// No link was made: the account ranks with or above the manager and cannot be mailed.
    pub withheld: bool,
    /// The account's holder was made their delegation's contact point just now.
    pub contact_added: bool,
}

/// Creates an account without a password and sends it a set-password link; the account, its
/// audit entry, its link and the mail with it are stored together or not at all.
///
/// # Errors
/// [`Error::Several`] with every problem of the form ([`Error::Invalid`] by field, a role the
/// manager may not give is [`Rule::NotPermitted`]); a taken username is
/// [`ConflictKind::Duplicate`].
pub async fn create(
    db: &DatabaseConnection,
    config: &Config,
    manager: &Manager,
    input: &NewAccount,
) -> ServiceResult<NewLink> {
    manager.require_organiser()?;
    let mut problems = Vec::new();
    // The username is the person's e-mail address, under the one e-mail rule and the login
    // page's limit on usernames.
    let username = validate::email("username", &input.username)
        .and_then(|address| validate::required("username", TextKind::Username, &address))
        .map_err(|error| problems.push(error))
        .unwrap_or_default();
    let display_name = validate::required("display_name", TextKind::PersonName, &input.display_name)
        .map_err(|error| problems.push(error))
        .unwrap_or_default();
    let role = match input.role.as_str() {
        "delegation" | "" => Role::Delegation,
        "organiser" => {
            if !rules::may_create(rank_of(manager.principal.role), Rank::Organiser) {
                let message = "only an administrator can create organiser accounts.";
                problems.push(Error::invalid("role", Rule::NotPermitted, message));
            }
            Role::Organiser
        }
        _ => {
            problems.push(Error::invalid("role", Rule::Unknown, "choose delegation or organiser."));
            Role::Delegation
        }
    };
    let iso2 = input.state.trim().to_uppercase();
    let iso2 = match role {
        Role::Delegation if iso2.is_empty() => {
            let message = "choose the State or Partner this contact point acts for.";
            problems.push(Error::invalid("state", Rule::Missing, message));
            None
        }
        Role::Delegation => {
            if store::reference::state(db, &iso2).await?.is_none() {
                let message = format!("there is no State or Partner with the code {iso2}.");
                problems.push(Error::invalid("state", Rule::Unknown, message));
            }
            Some(iso2)
        }
        _ => None,
    };
    let contact_language = match (role, input.contact_language.as_deref()) {
        (Role::Delegation, Some(code)) => {
            validate::language("contact_language", code).map_err(|error| problems.push(error)).ok()
        }
        _ => None,
    };
    if !problems.is_empty() {
        return Err(Error::Several(problems));
    }
    let txn = crate::db::begin_write(db).await?;
    let created = match store::accounts::create_user(&txn, &username, &display_name, role, iso2.as_deref()).await {
        Ok(created) => created,
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            txn.rollback().await?;
            return Err(Error::Conflict {
                kind: ConflictKind::Duplicate { field: "username" },
                message: format!("there is already an account for {username}."),
            });
        }
        Err(error) => return Err(error.into()),
    };
    let after = json!({ "username": created.username, "role": created.role, "iso2": created.iso2 });
    audit(&txn, manager, "user.create", &created, Some(&after)).await?;
    let mut link = issue_link(&txn, config, manager, &created, true).await?;
    if let Some(language) = contact_language {
        let contact = super::contacts::add_account_holder(&txn, &manager.principal, &created, language).await?;
        link.contact_added = contact.is_some();
    }
    txn.commit().await?;
    Ok(link)
}

/// Makes a new set-password link for `user` and queues the mail that takes it to them, in the
/// caller's transaction `db`, on behalf of `manager`.
async fn issue_link(
    db: &impl ConnectionTrait,
    config: &Config,
    manager: &Manager,
    user: &users::Model,
    new_account: bool,
) -> ServiceResult<NewLink> {
    let waiting = config.smtp_url.is_none();
    let handover =
        rules::handover(rank_of(manager.principal.role), rank(user), mail::accounts::mailable(user), waiting);
    let Handover::Issue { show } = handover else {
        return Ok(NewLink {
            username: user.username.clone(),
            mailed: false,
            waiting,
            url: None,
            withheld: true,
            contact_added: false,
        });
    };
    let (url, mailed) = mail_new_link(db, config, user, new_account).await?;
    Ok(NewLink {
        username: user.username.clone(),
        mailed,
        waiting,
        url: show.then_some(url),
        withheld: false,
        contact_added: false,
    })
}

/// Makes a new set-password link for `user` (cancelling earlier ones) and queues the mail with
/// it when their username is an address; returns the link and whether it was mailed.
async fn mail_new_link(
    db: &impl ConnectionTrait,
    config: &Config,
    user: &users::Model,
    new_account: bool,
) -> ServiceResult<(String, bool)> {
    let secret = store::accounts::create_password_link(db, user.id, Utc::now()).await?;
    let url = format!("{}/set-password/{secret}", config.public_base());
    let message = mail::accounts::password_link_message(config, user, &url, new_account);
    let mailed = message.is_some();
    if let Some(message) = message {
        store::outbox::enqueue(db, message).await?;
    }
    Ok((url, mailed))
}

/// "Forgot password": mails a new set-password link to the enabled account whose username
/// (which is its e-mail address) is `name`, unless [`rules::reset_limits`] says too many were
/// asked for lately. The caller answers the same whatever happened, so nothing is returned:
/// whether an account matched is for its owner's inbox alone.
///
/// # Errors
/// When the database fails.
pub async fn request_password_reset(
    db: &DatabaseConnection,
    config: &Config,
    name: &str,
    address: &str,
) -> ServiceResult<()> {
    let name = name.trim().to_lowercase();
    if name.is_empty() || name.chars().count() > rules::MAX_USERNAME {
        return Ok(());
    }
    let txn = crate::db::begin_write(db).await?;
    // Every request stays counted (none is "taken back" as a good login is).
    if login_failures::begin(&txn, &rules::reset_limits(&name, address), Utc::now()).await?.is_err() {
        txn.commit().await?;
        return Ok(());
    }
    // Only an account whose username is an address: for any other (the first administrator's
    // `admin`) a link nobody receives would be made for nothing.
    let account = store::accounts::find_by_username(&txn, &name)
        .await?
        .filter(|user| !user.disabled && mail::accounts::mailable(user));
    if let Some(user) = account {
        // Added beside any pending link, never replacing it: a visitor typing someone's address
        // must not cancel the link an organiser sent them.
        let secret = store::accounts::add_password_link(&txn, user.id, Utc::now()).await?;
        let url = format!("{}/set-password/{secret}", config.public_base());
        if let Some(message) = mail::accounts::password_link_message(config, &user, &url, false) {
            store::outbox::enqueue(&txn, message).await?;
            let entry = AuditEntry::<(), serde_json::Value> {
                actor: &format!("visitor:{address}"),
                action: "user.password_reset",
                subject_type: "user",
                subject_id: user.id.to_string(),
                before: None,
                after: None,
            };
            store::audit::record(&txn, entry).await?;
        }
    }
    txn.commit().await?;
    Ok(())
}

/// The account `id`, when `manager` may act on it ([`rules::may_manage`]).
async fn target(db: &impl ConnectionTrait, manager: &Manager, id: i32) -> ServiceResult<users::Model> {
    manager.require_organiser()?;
    let user = store::accounts::find_user(db, id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("There is no account {id}.")))?;
    if user.id == manager.user_id {
        return Err(Error::Forbidden("You cannot change your own account here.".into()));
    }
    if !rules::may_manage(manager.account(), account(&user)) {
        return Err(Error::Forbidden("Only an administrator can act on organiser and administrator accounts.".into()));
    }
    Ok(user)
}

/// Disables account `id` (ending its sessions at once) or enables it again; returns it.
///
/// # Errors
/// [`Error::NotFound`] for an unknown account, [`Error::Forbidden`] for one `manager` may not
/// act on.
pub async fn set_disabled(
    db: &impl ConnectionTrait,
    manager: &Manager,
    id: i32,
    disabled: bool,
) -> ServiceResult<users::Model> {
    let user = target(db, manager, id).await?;
    store::accounts::set_disabled(db, user.id, disabled).await?;
    let action = if disabled { "user.disable" } else { "user.enable" };
    audit(db, manager, action, &user, Some(&json!({ "disabled": disabled }))).await?;
    Ok(user)
}

/// A new set-password link for account `id` (cancelling any earlier one), mailed and shown as
/// [`rules::handover`] says.
///
/// # Errors
/// As [`set_disabled`], and [`Error::Forbidden`] for a disabled account.
pub async fn new_link(db: &DatabaseConnection, config: &Config, manager: &Manager, id: i32) -> ServiceResult<NewLink> {
    let user = target(db, manager, id).await?;
    if user.disabled {
        return Err(Error::Forbidden(format!("{} is disabled; enable the account first.", user.username)));
    }
    let txn = crate::db::begin_write(db).await?;
    let link = issue_link(&txn, config, manager, &user, false).await?;
    txn.commit().await?;
    Ok(link)
}

async fn audit(
    db: &impl ConnectionTrait,
    manager: &Manager,
    action: &str,
    user: &users::Model,
    after: Option<&serde_json::Value>,
) -> ServiceResult<()> {
    store::audit::record(
        db,
        AuditEntry::<(), _> {
            actor: &manager.principal.actor,
            action,
            subject_type: "user",
            subject_id: user.id.to_string(),
            before: None,
            after,
        },
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Logging in and out

/// A login as typed, and what the request says about the browser.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    /// The browser's device cookie ([`device`]), if it sent one.
    pub device_cookie: Option<String>,
    /// The client's address (the TCP peer); failures without a device cookie count against it.
    pub address: String,
}

/// A successful login.
#[derive(Debug, Clone)]
pub struct Welcome {
    pub user: users::Model,
    /// The new session's secret, for the session cookie.
    pub session_secret: String,
    /// A fresh device cookie for this browser and username.
    pub device_cookie: String,
}

/// Why a login did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginRefusal {
    /// Longer than any username ([`rules::MAX_USERNAME`]): nothing was looked up, hashed or
    /// counted.
    UsernameTooLong,
    /// Too many recent failures for one of the counters the attempt is counted against.
    Throttled(Refused),
    /// An unknown user, a wrong password or an account without a password: never said which.
    Wrong,
    /// The password was right but the account is disabled.
    Disabled,
}

/// An argon2 hash of a random password nobody knows.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0VnbyS4f7xoKUm6qkxXG9Wt2Oal6l6sMpnRwiBaVmUk";

/// Checks a login and, when it is right, opens a session. The attempt is written down before
/// the password is checked ([`login_failures::begin`]) and counted as [`rules::login_limits`]
/// says; a right password takes it back and clears what [`rules::cleared_by_success`] names.
///
/// # Errors
/// Only when the database fails or hashing panics; a refused login is `Ok(Err(_))`.
pub async fn log_in(
    db: &impl ConnectionTrait,
    credentials: Credentials,
) -> ServiceResult<Result<Welcome, LoginRefusal>> {
    let username = credentials.username.trim().to_lowercase();
    if username.chars().count() > rules::MAX_USERNAME {
        return Ok(Err(LoginRefusal::UsernameTooLong));
    }
    let secret = store::invitations::secret(db, device::SECRET_NAME).await?;
    let device = credentials.device_cookie.as_deref().and_then(|value| device::nonce_for(&secret, value, &username));
    let limits = rules::login_limits(&username, device.as_deref(), &credentials.address);
    let attempt = match login_failures::begin(db, &limits, Utc::now()).await? {
        Ok(attempt) => attempt,
        Err(refused) => return Ok(Err(LoginRefusal::Throttled(refused))),
    };
    let user = store::accounts::find_by_username(db, &username).await?;
    let password = credentials.password;
    let (user, matches) = tokio::task::spawn_blocking(move || {
        // Hash against a dummy when the user is unknown, so timing does not tell either.
        let hash = user.as_ref().and_then(|user| user.password_hash.clone()).unwrap_or_else(|| DUMMY_HASH.to_owned());
        let matches = verify_password(&password, &hash);
        (user, matches)
    })
    .await
    .map_err(|error| anyhow::anyhow!("password check panicked: {error}"))?;
    // A wrong password leaves the attempt written down: it is a failure now.
    let Some(user) = user.filter(|_| matches) else {
        return Ok(Err(LoginRefusal::Wrong));
    };
    login_failures::succeeded(db, attempt, &rules::cleared_by_success(&username, device.as_deref())).await?;
    if user.disabled {
        return Ok(Err(LoginRefusal::Disabled));
    }
    let (session_secret, _) = store::accounts::create_session(db, user.id, Utc::now()).await?;
    Ok(Ok(Welcome { device_cookie: device::issue(&secret, &username), user, session_secret }))
}

/// The session a cookie's secret stands for, with its user, while it is current and the user
/// enabled.
///
/// # Errors
/// When the database fails.
pub async fn session(db: &impl ConnectionTrait, secret: &str) -> ServiceResult<Option<SessionUser>> {
    Ok(store::accounts::session_user(db, secret, Utc::now()).await?)
}

/// Ends the session `session_id` (logging out).
///
/// # Errors
/// When the database fails.
pub async fn log_out(db: &impl ConnectionTrait, session_id: &str) -> ServiceResult<()> {
    Ok(store::accounts::end_session(db, session_id).await?)
}

// ---------------------------------------------------------------------------------------------
// Setting a password through a link

/// The user a set-password link is for, while it works.
///
/// # Errors
/// When the database fails.
pub async fn password_link_user(db: &impl ConnectionTrait, token: &str) -> ServiceResult<Option<users::Model>> {
    Ok(store::accounts::password_link_user(db, token, Utc::now()).await?)
}

/// What came of setting a password through a link.
#[derive(Debug, Clone)]
pub enum PasswordSet {
    /// The password is set and the link used up.
    Set(users::Model),
    /// The link no longer works (used, replaced or expired).
    Gone,
    /// The new password is not accepted; the link still works.
    Refused { user: users::Model, problem: PasswordProblem },
}

/// Sets the password of the user the link `token` is for, typed twice, and uses up the link.
///
/// # Errors
/// When the database fails or hashing fails.
pub async fn set_password(
    db: &impl ConnectionTrait,
    token: &str,
    password: String,
    confirm: &str,
) -> ServiceResult<PasswordSet> {
    let now = Utc::now();
    let Some(user) = store::accounts::password_link_user(db, token, now).await? else {
        return Ok(PasswordSet::Gone);
    };
    if let Err(problem) = rules::check_new_password(&password, confirm) {
        return Ok(PasswordSet::Refused { user, problem });
    }
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|error| anyhow::anyhow!("password hashing panicked: {error}"))??;
    if !store::accounts::use_password_link(db, token, &hash, now).await? {
        return Ok(PasswordSet::Gone);
    }
    Ok(PasswordSet::Set(user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_is_a_valid_hash_that_matches_nothing_likely() {
        assert!(argon2::password_hash::PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_password("", DUMMY_HASH));
    }
}
