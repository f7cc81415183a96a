//! `/organiser/accounts`: user accounts for delegations' contact points (bound to a State) and
//! organisers. A new account gets a one-time link to set its password, e-mailed to its address
//! through the outbox (shown here only when it cannot be mailed); disabling an account ends its
//! sessions at once.
//!
//! Accounts have ranks: delegation < organiser < admin. An organiser acts on delegation
//! accounts only; only an admin acts on organiser and admin accounts; nobody acts on their own
//! account here. A set-password link lets whoever holds it become that user, so nobody is ever
//! shown a link for an account of their own rank or above: such a link only goes by mail to
//! the account's address, and when it cannot be mailed none is made. The page offers only what
//! the server allows.

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use chrono::Utc;
use sea_orm::{ConnectionTrait, SqlErr, TransactionTrait as _};
use serde::Deserialize;

use super::{
    Chrome, CurrentUser, Flash, OrganiserUser, WebError, WebResult,
    forms::FormErrors,
    params::PagePath,
    redirect_with, render_status,
    views::{StateOption, state_name, state_options},
};
use crate::{
    auth::Role,
    db::entities::users,
    http::AppState,
    mail,
    store::{self, meetings::Context},
    validate::{self, TextKind},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/organiser/accounts", get(accounts).post(create_account))
        .route("/organiser/accounts/{id}/disable", post(disable))
        .route("/organiser/accounts/{id}/enable", post(enable))
        .route("/organiser/accounts/{id}/link", post(new_link))
}

struct Account {
    user: users::Model,
    state_name: Option<String>,
    has_password: bool,
    /// Whether the organiser looking at the page may act on it (see [`may_manage`]): the
    /// buttons are shown only then.
    may_manage: bool,
}

/// A set-password link just made (or withheld), and how it reaches its user.
struct NewLink {
    username: String,
    /// Queued in the outbox for the user's address.
    mailed: bool,
    /// No mail server is configured: the mail waits in the outbox.
    waiting: bool,
    /// The link itself, for the organiser to hand over, when mail cannot take it and the
    /// account ranks below the organiser (see [`issue_link`]).
    url: Option<String>,
    /// No link was made: the account ranks with or above the organiser and cannot be mailed.
    withheld: bool,
}

/// Delegation 0 < organiser 1 < admin 2.
fn rank(role: Role) -> u8 {
    match role {
        Role::Delegation => 0,
        Role::Organiser => 1,
        Role::Admin => 2,
    }
}

/// Whether `viewer` may act on `account` (links, disabling, enabling): an admin on every
/// account, an organiser on delegation accounts, nobody on their own.
fn may_manage(viewer: &CurrentUser, account: &users::Model) -> bool {
    account.id != viewer.id && (viewer.is_admin() || rank(account.role) == 0)
}

/// Whether `viewer` may see a set-password link for `account`: only below their own rank.
fn may_see_link(viewer: &CurrentUser, account: &users::Model) -> bool {
    rank(account.role) < rank(viewer.role)
}

#[derive(Debug, Default, Deserialize)]
struct AccountForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    state: String,
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage<'a> {
    c: &'a Chrome,
    accounts: Vec<Account>,
    states: Vec<StateOption>,
    form: AccountForm,
    errors: FormErrors,
    new_link: Option<NewLink>,
    may_create_organisers: bool,
}

async fn page(
    state: &AppState,
    c: &Chrome,
    form: AccountForm,
    errors: FormErrors,
    new_link: Option<NewLink>,
    status: StatusCode,
) -> WebResult {
    let context = Context::load(&state.db).await?;
    let accounts = store::accounts::list_users(&state.db)
        .await?
        .into_iter()
        .map(|user| Account {
            state_name: user.iso2.as_deref().map(|iso2| state_name(&context, iso2)),
            has_password: user.password_hash.is_some(),
            may_manage: c.user.as_ref().is_some_and(|viewer| may_manage(viewer, &user)),
            user,
        })
        .collect();
    let page = AccountsPage {
        c,
        accounts,
        states: state_options(&context),
        form,
        errors,
        new_link,
        may_create_organisers: c.user.as_ref().is_some_and(super::CurrentUser::is_admin),
    };
    render_status(c, status, &page)
}

async fn accounts(State(state): State<AppState>, c: Chrome, _user: OrganiserUser) -> WebResult {
    page(
        &state,
        &c,
        AccountForm { role: "delegation".into(), ..AccountForm::default() },
        FormErrors::default(),
        None,
        StatusCode::OK,
    )
    .await
}

/// Makes a new set-password link for `user` and queues the mail that takes it to them, in the
/// caller's transaction `db`, on behalf of `viewer`.
async fn issue_link(
    state: &AppState,
    db: &impl ConnectionTrait,
    viewer: &CurrentUser,
    user: &users::Model,
    new_account: bool,
) -> WebResult<NewLink> {
    let may_see = may_see_link(viewer, user);
    let waiting = state.config.smtp_url.is_none();
    if !may_see && !mail::accounts::mailable(user) {
        // Making one would only cancel the link the user may already have.
        return Ok(NewLink { username: user.username.clone(), mailed: false, waiting, url: None, withheld: true });
    }
    let secret = store::accounts::create_password_link(db, user.id, Utc::now()).await?;
    let url = format!("{}/set-password/{secret}", state.config.public_base());
    let message = mail::accounts::password_link_message(&state.config, user, &url, new_account);
    let mailed = message.is_some();
    if let Some(message) = message {
        store::outbox::enqueue(db, message).await?;
    }
    // The organiser sees the link only when mail cannot take it: with it they could set the
    // user's password and act as them, while a mailed link reaches only whoever holds the
    // address. Without a mail server the mail waits in the outbox, and a username that is not
    // an address cannot be mailed at all: then the page is the only way, and only for an
    // account below the organiser's rank.
    let shown = may_see && (!mailed || waiting);
    Ok(NewLink { username: user.username.clone(), mailed, waiting, url: shown.then_some(url), withheld: false })
}

async fn create_account(
    State(state): State<AppState>,
    c: Chrome,
    OrganiserUser(user): OrganiserUser,
    Form(form): Form<AccountForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let mut errors = FormErrors::default();
    // The username is the person's e-mail address, under the one e-mail rule and the login
    // page's limit on usernames.
    let username = match validate::email("username", &form.username)
        .and_then(|address| validate::required("username", TextKind::Username, &address))
    {
        Ok(username) => username,
        Err(error) => {
            errors.place(error, "Give the person's e-mail address; it is their username.");
            String::new()
        }
    };
    let display_name = match validate::required("display_name", TextKind::PersonName, &form.display_name) {
        Ok(name) => name,
        Err(error) => {
            errors.place(error, "Give the person's name, as it should appear on pages.");
            String::new()
        }
    };
    let role = match form.role.as_str() {
        "delegation" | "" => Role::Delegation,
        "organiser" if user.is_admin() => Role::Organiser,
        "organiser" => {
            errors.add("role", "Only an administrator can create organiser accounts.");
            Role::Organiser
        }
        _ => {
            errors.add("role", "Choose delegation or organiser.");
            Role::Delegation
        }
    };
    let iso2 = form.state.trim().to_uppercase();
    let iso2 = match role {
        Role::Delegation if iso2.is_empty() => {
            errors.add("state", "Choose the State or Partner this contact point acts for.");
            None
        }
        Role::Delegation => {
            if store::reference::state(&state.db, &iso2).await?.is_none() {
                errors.add("state", format!("There is no State or Partner with the code {iso2}."));
            }
            Some(iso2)
        }
        _ => None,
    };
    if !errors.is_empty() {
        return page(&state, &c, form, errors, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    // The account, its audit entry, its link and the mail with it are stored together or not at all.
    let txn = state.db.begin().await?;
    let created = match store::accounts::create_user(&txn, &username, &display_name, role, iso2.as_deref()).await {
        Ok(created) => created,
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            txn.rollback().await?;
            errors.add("username", format!("There is already an account for {username}."));
            return page(&state, &c, form, errors, None, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
        Err(error) => return Err(error.into()),
    };
    store::audit::record(
        &txn,
        store::audit::AuditEntry::<(), _> {
            actor: &user.principal().actor,
            action: "user.create",
            subject_type: "user",
            subject_id: created.id.to_string(),
            before: None,
            after: Some(
                &serde_json::json!({ "username": created.username, "role": created.role, "iso2": created.iso2 }),
            ),
        },
    )
    .await?;
    let new_link = issue_link(&state, &txn, &user, &created, true).await?;
    txn.commit().await?;
    page(
        &state,
        &c,
        AccountForm { role: "delegation".into(), ..AccountForm::default() },
        FormErrors::default(),
        Some(new_link),
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// The account `id`, when `viewer` may act on it (see [`may_manage`]).
async fn target(state: &AppState, viewer: &CurrentUser, id: i32) -> WebResult<users::Model> {
    let account = store::accounts::find_user(&state.db, id)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("There is no account {id}.")))?;
    if account.id == viewer.id {
        return Err(WebError::Forbidden("You cannot change your own account here.".into()));
    }
    if !may_manage(viewer, &account) {
        return Err(WebError::Forbidden(
            "Only an administrator can act on organiser and administrator accounts.".into(),
        ));
    }
    Ok(account)
}

async fn set_disabled(state: &AppState, c: &Chrome, user: &CurrentUser, id: i32, disabled: bool) -> WebResult {
    let account = target(state, user, id).await?;
    store::accounts::set_disabled(&state.db, account.id, disabled).await?;
    store::audit::record(
        &state.db,
        store::audit::AuditEntry::<(), _> {
            actor: &user.principal().actor,
            action: if disabled { "user.disable" } else { "user.enable" },
            subject_type: "user",
            subject_id: account.id.to_string(),
            before: None,
            after: Some(&serde_json::json!({ "disabled": disabled })),
        },
    )
    .await?;
    let message = if disabled {
        format!("{} is disabled and logged out everywhere.", account.username)
    } else {
        format!("{} can log in again.", account.username)
    };
    Ok(redirect_with(c, "/organiser/accounts", &Flash::ok(message)))
}

async fn disable(
    State(state): State<AppState>,
    c: Chrome,
    OrganiserUser(user): OrganiserUser,
    PagePath(id): PagePath<i32>,
    Form(form): Form<CsrfForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    set_disabled(&state, &c, &user, id, true).await
}

async fn enable(
    State(state): State<AppState>,
    c: Chrome,
    OrganiserUser(user): OrganiserUser,
    PagePath(id): PagePath<i32>,
    Form(form): Form<CsrfForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    set_disabled(&state, &c, &user, id, false).await
}

async fn new_link(
    State(state): State<AppState>,
    c: Chrome,
    OrganiserUser(user): OrganiserUser,
    PagePath(id): PagePath<i32>,
    Form(form): Form<CsrfForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let account = target(&state, &user, id).await?;
    if account.disabled {
        return Err(WebError::Forbidden(format!("{} is disabled; enable the account first.", account.username)));
    }
    let txn = state.db.begin().await?;
    let new_link = issue_link(&state, &txn, &user, &account, false).await?;
    txn.commit().await?;
    page(
        &state,
        &c,
        AccountForm { role: "delegation".into(), ..AccountForm::default() },
        FormErrors::default(),
        Some(new_link),
        StatusCode::OK,
    )
    .await
}
