//! `/organiser/accounts`: user accounts for delegations' contact points (bound to a State) and
//! organisers. A new account gets a one-time link to set its password, e-mailed to its address
//! through the outbox (shown here only when it cannot be mailed); disabling an account ends its
//! sessions at once.

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
    Chrome, Flash, OrganiserUser, WebError, WebResult,
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
    /// The organiser looking at the page: no buttons to disable themselves.
    is_self: bool,
}

/// A set-password link just made, and how it reaches its user.
struct NewLink {
    username: String,
    /// Queued in the outbox for the user's address.
    mailed: bool,
    /// The link itself, for the organiser to hand over, when mail cannot take it (see
    /// [`issue_link`]).
    url: Option<String>,
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
    let me = c.user.as_ref().map(|user| user.id);
    let accounts = store::accounts::list_users(&state.db)
        .await?
        .into_iter()
        .map(|user| Account {
            state_name: user.iso2.as_deref().map(|iso2| state_name(&context, iso2)),
            has_password: user.password_hash.is_some(),
            is_self: Some(user.id) == me,
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
/// caller's transaction `db`.
async fn issue_link(
    state: &AppState,
    db: &impl ConnectionTrait,
    user: &users::Model,
    new_account: bool,
) -> WebResult<NewLink> {
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
    // an address (`admin`) cannot be mailed at all: then the page is the only way.
    let shown = !mailed || state.config.smtp_url.is_none();
    Ok(NewLink { username: user.username.clone(), mailed, url: shown.then_some(url) })
}

async fn create_account(
    State(state): State<AppState>,
    c: Chrome,
    OrganiserUser(user): OrganiserUser,
    Form(form): Form<AccountForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let mut errors = FormErrors::default();
    let username = form.username.trim().to_lowercase();
    let display_name = form.display_name.trim();
    if !username.contains('@') || username.contains(char::is_whitespace) || username.len() < 3 {
        errors.add("username", "Give the person's e-mail address; it is their username.");
    }
    if display_name.is_empty() {
        errors.add("display_name", "Give the person's name, as it should appear on pages.");
    }
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
    let created = match store::accounts::create_user(&txn, &username, display_name, role, iso2.as_deref()).await {
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
    let new_link = issue_link(&state, &txn, &created, true).await?;
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

async fn target(state: &AppState, id: i32) -> WebResult<users::Model> {
    store::accounts::find_user(&state.db, id)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("There is no account {id}.")))
}

async fn set_disabled(state: &AppState, c: &Chrome, user: &super::CurrentUser, id: i32, disabled: bool) -> WebResult {
    let account = target(state, id).await?;
    if account.id == user.id {
        return Err(WebError::Forbidden("You cannot disable your own account.".into()));
    }
    if account.role == Role::Admin.as_str() && !user.is_admin() {
        return Err(WebError::Forbidden("Only an administrator can change an administrator's account.".into()));
    }
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
    OrganiserUser(_user): OrganiserUser,
    PagePath(id): PagePath<i32>,
    Form(form): Form<CsrfForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let account = target(&state, id).await?;
    if account.disabled {
        return Err(WebError::Forbidden(format!("{} is disabled; enable the account first.", account.username)));
    }
    let txn = state.db.begin().await?;
    let new_link = issue_link(&state, &txn, &account, false).await?;
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
