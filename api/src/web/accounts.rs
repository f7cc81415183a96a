//! `/organiser/accounts`: user accounts for delegations' contact points (bound to a State) and
//! organisers, through [`service::accounts`]. A new account gets a one-time link to set its
//! password, e-mailed to its address through the outbox (shown here only when it cannot be
//! mailed); disabling an account ends its sessions at once.
//!
//! A contact point's account makes its holder the delegation's contact who receives
//! invitations (unless the organiser unticks it); an existing delegation account whose holder
//! is no contact yet gets a one-click "Add as contact". `?state=XX` pre-fills the form for that
//! State (the invitations page links here for a delegation no invitation would reach).
//!
//! Accounts have ranks ([`scheduler::accounts`]): an organiser acts on delegation accounts only,
//! only an admin on organiser and admin accounts, nobody on their own account here; nobody is
//! ever shown a set-password link for an account of their own rank or above. The page offers
//! only what the server allows.

use std::collections::HashSet;

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use serde::Deserialize;

use super::{
    Chrome, CurrentUser, Flash, OrganiserUser, WebResult,
    forms::{FormErrors, capitalise},
    params::{PagePath, PageQuery},
    redirect_with, render_status,
    views::{StateOption, state_name, state_options},
};
use crate::{
    app::AppState,
    auth::Role,
    db::entities::users,
    service::{
        self,
        accounts::{Listed, Manager, NewAccount, NewLink},
    },
    store::meetings::Context,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/organiser/accounts", get(accounts).post(create_account))
        .route("/organiser/accounts/{id}/disable", post(disable))
        .route("/organiser/accounts/{id}/enable", post(enable))
        .route("/organiser/accounts/{id}/link", post(new_link))
        .route("/organiser/accounts/{id}/contact", post(add_as_contact))
}

struct Account {
    user: users::Model,
    state_name: Option<String>,
    has_password: bool,
    /// Whether the organiser looking at the page may act on it: the buttons are shown only then.
    may_manage: bool,
    /// A delegation account whose holder is not yet a contact of their delegation.
    may_add_contact: bool,
}

impl CurrentUser {
    /// This user as the manager of accounts.
    fn manager(&self) -> Manager {
        Manager { user_id: self.id, principal: self.principal() }
    }
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
    /// Present (ticked) when the holder also becomes the delegation's contact point.
    #[serde(default)]
    contact: Option<String>,
    #[serde(default)]
    contact_language: String,
}

/// The form's inputs, where the use case's errors land.
const FIELDS: [&str; 5] = ["username", "display_name", "role", "state", "contact_language"];

#[derive(Deserialize)]
struct AccountsQuery {
    state: Option<String>,
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
    user: &CurrentUser,
    form: AccountForm,
    errors: FormErrors,
    new_link: Option<NewLink>,
    status: StatusCode,
) -> WebResult {
    let context = Context::load(&state.db).await?;
    let listed = service::accounts::list(&state.db, &user.manager()).await?;
    let delegations: Vec<String> = listed.iter().filter_map(|listed| listed.user.iso2.clone()).collect();
    let contacts: HashSet<(String, String)> =
        service::contacts::addresses(&state.db, &delegations).await?.into_iter().collect();
    let accounts = listed
        .into_iter()
        .map(|Listed { user, has_password, may_manage }| Account {
            state_name: user.iso2.as_deref().map(|iso2| state_name(&context, iso2)),
            has_password,
            may_manage,
            may_add_contact: user.role == Role::Delegation
                && user
                    .iso2
                    .as_ref()
                    .is_some_and(|iso2| !contacts.contains(&(iso2.clone(), user.username.to_lowercase()))),
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
        may_create_organisers: user.is_admin(),
    };
    render_status(c, status, &page)
}

/// An empty form for the next account: a contact point who receives invitations in English.
fn blank_form() -> AccountForm {
    AccountForm {
        role: "delegation".into(),
        contact: Some("on".into()),
        contact_language: "en".into(),
        ..AccountForm::default()
    }
}

async fn accounts(
    State(state): State<AppState>,
    c: Chrome,
    OrganiserUser(user): OrganiserUser,
    PageQuery(query): PageQuery<AccountsQuery>,
) -> WebResult {
    let form = AccountForm { state: query.state.unwrap_or_default().trim().to_uppercase(), ..blank_form() };
    page(&state, &c, &user, form, FormErrors::default(), None, StatusCode::OK).await
}

/// The form's errors next to their fields; an empty or malformed username or name gets what to
/// type instead.
fn form_errors(error: service::Error) -> WebResult<FormErrors> {
    let mut errors = FormErrors::default();
    let all = match error {
        service::Error::Several(all) => all,
        one => vec![one],
    };
    for error in all {
        let hint = match &error {
            service::Error::Invalid { field: Some(field), rule: service::Rule::Text(_), .. } => match field.as_str() {
                "username" => Some("Give the person's e-mail address; it is their username."),
                "display_name" => Some("Give the person's name, as it should appear on pages."),
                _ => None,
            },
            _ => None,
        };
        match hint {
            Some(hint) => errors.place(error, hint),
            None => errors.add_service(error, &FIELDS)?,
        }
    }
    Ok(errors)
}

async fn create_account(
    State(state): State<AppState>,
    c: Chrome,
    OrganiserUser(user): OrganiserUser,
    Form(form): Form<AccountForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let input = NewAccount {
        username: form.username.clone(),
        display_name: form.display_name.clone(),
        role: form.role.clone(),
        state: form.state.clone(),
        contact_language: form.contact.is_some().then(|| form.contact_language.clone()),
    };
    match service::accounts::create(&state.db, &state.config, &user.manager(), &input).await {
        Ok(link) => page(&state, &c, &user, blank_form(), FormErrors::default(), Some(link), StatusCode::OK).await,
        Err(error) => {
            let errors = form_errors(error)?;
            page(&state, &c, &user, form, errors, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Deserialize)]
struct ContactForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    language: String,
}

async fn add_as_contact(
    State(state): State<AppState>,
    c: Chrome,
    OrganiserUser(user): OrganiserUser,
    PagePath(id): PagePath<i32>,
    Form(form): Form<ContactForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let flash = match service::contacts::add_account_as_contact(&state.db, &user.principal(), id, &form.language).await
    {
        Ok(contact) => {
            let context = Context::load(&state.db).await?;
            Flash::ok(format!(
                "{} ({}) is now {}’s contact point and receives its invitations.",
                contact.name,
                contact.email,
                state_name(&context, &contact.iso2)
            ))
        }
        Err(service::Error::Conflict { message, .. } | service::Error::Invalid { message, .. }) => {
            Flash { kind: "error".into(), lines: vec![capitalise(&message)] }
        }
        Err(error) => return Err(error.into()),
    };
    Ok(redirect_with(&c, "/organiser/accounts", &flash))
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn set_disabled(state: &AppState, c: &Chrome, user: &CurrentUser, id: i32, disabled: bool) -> WebResult {
    let account = service::accounts::set_disabled(&state.db, &user.manager(), id, disabled).await?;
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
    let link = service::accounts::new_link(&state.db, &state.config, &user.manager(), id).await?;
    page(&state, &c, &user, blank_form(), FormErrors::default(), Some(link), StatusCode::OK).await
}
