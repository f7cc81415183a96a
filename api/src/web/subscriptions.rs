//! `/subscriptions`: calendar feeds on the web — create one (its secret link shown this once,
//! with a copy button and a `webcal:` link that opens the calendar app's subscription dialog),
//! list them with when a calendar last fetched them, and revoke them. Feeds are created, listed
//! and revoked through [`service::feeds`], as by the JSON API, so ownership and the audit log
//! follow the same rules. The delegation and meeting pages offer the common subscriptions in one click
//! and post here.

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use scheduler::when_where::{Language, moment};
use serde::Deserialize;

use super::{
    Chrome, CurrentUser, Flash, WebResult,
    forms::{FormErrors, capitalise},
    params::PagePath,
    redirect_with, render_status,
    views::{BodyEntry, HOME_ZONE, StateOption, bodies, state_name, state_options},
};
use crate::{
    app::AppState,
    auth::Principal,
    db::entities::feeds,
    feeds::{SCOPE_BODY, SCOPE_DELEGATION, feed_scope},
    service::{
        self,
        feeds::{Created, NewSubscription},
    },
    store::meetings::Context,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/subscriptions", get(subscriptions).post(subscribe))
        .route("/subscriptions/{id}/revoke", post(revoke))
}

/// One feed as the pages list it.
pub struct FeedRow {
    pub id: i32,
    /// What it shows, in words.
    pub label: String,
    /// Who may manage it: a delegation's name, or "Organisers".
    pub owner: String,
    pub created: String,
    pub last_used: String,
    pub revoked: bool,
}

/// What a feed shows, in words: "Meetings Austria is invited to", "Permanent Council meetings".
fn label(context: &Context, feed: &feeds::Model) -> WebResult<String> {
    Ok(feed_scope(&feed.scope, feed.iso2.as_deref(), feed.body_code.as_deref(), context)?.describe())
}

fn when(at: DateTime<Utc>) -> String {
    moment(&at.with_timezone(&HOME_ZONE), Language::English)
}

/// The feeds the delegation `of` owns, or for `None` the viewer's own (organisers: every feed).
///
/// # Errors
/// When the viewer may not see them, or the database does not answer.
pub async fn feed_rows(
    state: &AppState,
    context: &Context,
    viewer: &Principal,
    of: Option<&str>,
) -> WebResult<Vec<FeedRow>> {
    let feeds = service::feeds::list(&state.db, viewer, of).await?;
    feeds.iter().map(|feed| row(context, feed)).collect()
}

fn row(context: &Context, feed: &feeds::Model) -> WebResult<FeedRow> {
    Ok(FeedRow {
        id: feed.id,
        label: label(context, feed)?,
        owner: feed.owner_iso2.as_deref().map_or_else(|| "Organisers".to_owned(), |iso2| state_name(context, iso2)),
        created: when(feed.created_at),
        last_used: feed.last_used_at.map_or_else(|| "Not yet".to_owned(), when),
        revoked: feed.revoked_at.is_some(),
    })
}

/// The create form's fields.
#[derive(Debug, Default, Deserialize)]
struct SubscribeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    body: String,
}

/// A subscription just created: its links, shown on this response only.
struct NewLink {
    label: String,
    url: String,
    webcal_url: String,
}

#[derive(Template)]
#[template(path = "subscriptions.html")]
struct SubscriptionsPage<'a> {
    c: &'a Chrome,
    created: Option<NewLink>,
    feeds: Vec<FeedRow>,
    /// Where a revoke form comes back to.
    back: &'a str,
    form: SubscribeForm,
    errors: FormErrors,
    /// The delegation a delegation user acts for, by name.
    own: Option<(String, String)>,
    /// For organisers: every delegation, for a delegation feed.
    states: Vec<StateOption>,
    bodies: Vec<BodyEntry>,
}

async fn subscriptions(State(state): State<AppState>, c: Chrome, user: CurrentUser) -> WebResult {
    let form = SubscribeForm { scope: SCOPE_DELEGATION.to_owned(), ..SubscribeForm::default() };
    page(&state, &c, &user, None, form, FormErrors::default(), StatusCode::OK).await
}

async fn page(
    state: &AppState,
    c: &Chrome,
    user: &CurrentUser,
    created: Option<NewLink>,
    form: SubscribeForm,
    errors: FormErrors,
    status: StatusCode,
) -> WebResult {
    let context = Context::load(&state.db).await?;
    let page = SubscriptionsPage {
        c,
        created,
        feeds: feed_rows(state, &context, &user.principal(), None).await?,
        back: "/subscriptions",
        form,
        errors,
        own: user
            .iso2
            .as_deref()
            .filter(|_| !user.is_organiser())
            .map(|iso2| (iso2.to_owned(), state_name(&context, iso2))),
        states: if user.is_organiser() { state_options(&context) } else { Vec::new() },
        bodies: bodies(),
    };
    render_status(c, status, &page)
}

/// Creates the feed and answers with its links in this response (never a redirect: the token
/// is not stored, so no later page could show it again).
async fn subscribe(
    State(state): State<AppState>,
    c: Chrome,
    user: CurrentUser,
    Form(form): Form<SubscribeForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let scope = form.scope.as_str();
    let input = NewSubscription {
        scope: form.scope.clone(),
        state: (scope == SCOPE_DELEGATION)
            .then(|| if user.is_organiser() { form.state.clone() } else { user.iso2.clone().unwrap_or_default() }),
        body: (scope == SCOPE_BODY).then(|| form.body.clone()),
    };
    match service::feeds::create(&state.db, &state.config.public_base(), &user.principal(), &input).await {
        Ok(Created { feed, url, webcal_url }) => {
            let context = Context::load(&state.db).await?;
            let created = NewLink { label: label(&context, &feed)?, url, webcal_url };
            page(&state, &c, &user, Some(created), form, FormErrors::default(), StatusCode::OK).await
        }
        Err(error) => {
            let errors = match error {
                service::Error::Forbidden(message) => {
                    let mut errors = FormErrors::default();
                    errors.general.push(capitalise(&message));
                    errors
                }
                other => FormErrors::from_service(other, &["scope", "state", "body"])?,
            };
            page(&state, &c, &user, None, form, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Deserialize)]
struct RevokeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    back: String,
}

async fn revoke(
    State(state): State<AppState>,
    c: Chrome,
    user: CurrentUser,
    PagePath(id): PagePath<i32>,
    Form(form): Form<RevokeForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    // Only a path on this site: a form must not be able to send the user elsewhere.
    let back = super::redirect::local_or(Some(&form.back), &state.config.public_base(), "/subscriptions");
    let feed = service::feeds::revoke(&state.db, &user.principal(), id).await?;
    let context = Context::load(&state.db).await?;
    let what = label(&context, &feed)?;
    let flash = Flash::ok(format!(
        "The subscription “{what}” is revoked: calendars that use its link get nothing more from it."
    ));
    Ok(redirect_with(&c, &back, &flash))
}
