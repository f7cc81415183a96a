//! `/delegation`: a delegation's own page — its State and the meetings coming up that it is
//! invited to. Organisers can look at any delegation's page with `?state=XX`.
//!
//! Contacts, registrations and feed links join this page once those features are merged.

use std::collections::HashMap;

use askama::Template;
use axum::{
    Router,
    extract::{Query, State},
    routing::get,
};
use chrono::{NaiveDate, TimeDelta, Utc};
use scheduler::eligibility::invitees;
use serde::Deserialize;

use super::{
    Chrome, CurrentUser, WebError, WebResult, render,
    views::{HOME_ZONE, MeetingItem, StateOption, state_name, state_options},
};
use crate::{
    http::AppState,
    store::{
        self,
        meetings::{CANCELLED, Context, body_of, local_date},
    },
};

pub fn router() -> Router<AppState> {
    Router::new().route("/delegation", get(delegation))
}

/// How far ahead the page looks.
const HORIZON: TimeDelta = TimeDelta::days(120);

#[derive(Deserialize)]
struct DelegationQuery {
    state: Option<String>,
}

struct Invited {
    item: MeetingItem,
    why: String,
}

#[derive(Template)]
#[template(path = "delegation.html")]
struct DelegationPage<'a> {
    c: &'a Chrome,
    iso2: Option<String>,
    name: String,
    standing: String,
    meetings: Vec<Invited>,
    /// For organisers: every delegation, to pick one.
    states: Vec<StateOption>,
    horizon_days: i64,
}

async fn delegation(
    State(state): State<AppState>,
    c: Chrome,
    user: CurrentUser,
    Query(query): Query<DelegationQuery>,
) -> WebResult {
    let context = Context::load(&state.db).await?;
    let iso2 = if user.is_organiser() {
        query.state.map(|iso2| iso2.trim().to_uppercase()).filter(|iso2| !iso2.is_empty())
    } else {
        Some(user.iso2.clone().ok_or_else(|| WebError::Forbidden("This account is not bound to a State.".into()))?)
    };
    let states = if user.is_organiser() { state_options(&context) } else { Vec::new() };
    let Some(iso2) = iso2 else {
        let page = DelegationPage {
            c: &c,
            iso2: None,
            name: String::new(),
            standing: String::new(),
            meetings: Vec::new(),
            states,
            horizon_days: HORIZON.num_days(),
        };
        return render(&c, &page);
    };
    if !context.states.states.iter().any(|known| known.iso2 == iso2) {
        return Err(WebError::NotFound(format!("There is no State or Partner with the code {iso2}.")));
    }
    let today = Utc::now().with_timezone(&HOME_ZONE).date_naive();
    let standing = context.states.on(today).into_iter().find(|delegation| delegation.iso2 == iso2).map_or_else(
        || "Not a participating State or Partner today".to_owned(),
        |delegation| match delegation.partner_group {
            None => "Participating State".to_owned(),
            Some(group) => format!("{} Partner for Co-operation", capitalise(group.as_str())),
        },
    );
    let now = Utc::now();
    let rows = store::meetings::list(&state.db, Some(now - TimeDelta::hours(12)), Some(now + HORIZON), None).await?;
    let mut on_date: HashMap<NaiveDate, Vec<scheduler::states::Delegation>> = HashMap::new();
    let mut meetings = Vec::new();
    for row in rows.iter().filter(|row| row.status != CANCELLED) {
        let Some(body) = body_of(row) else { continue };
        let date = local_date(row);
        let delegations = on_date.entry(date).or_insert_with(|| context.states.on(date));
        if let Some(invitee) = invitees(body, delegations).into_iter().find(|invitee| invitee.delegation.iso2 == iso2) {
            meetings.push(Invited {
                item: MeetingItem::new(row, &context),
                why: capitalise(&invitee.reason.describe(body, date)),
            });
        }
    }
    let page = DelegationPage {
        c: &c,
        name: state_name(&context, &iso2),
        iso2: Some(iso2),
        standing,
        meetings,
        states,
        horizon_days: HORIZON.num_days(),
    };
    render(&c, &page)
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}
