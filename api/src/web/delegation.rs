//! `/delegation`: a delegation's own page — its State and the meetings coming up that it is
//! invited to, with its registrations for each (register, withdraw) through the same functions
//! as the JSON API. Organisers can look at any delegation's page with `?state=XX`.

use std::collections::HashMap;

use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    routing::{get, post},
};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use scheduler::{
    attendance::{Seat, Status},
    eligibility::invitees,
};
use serde::Deserialize;

use super::{
    Chrome, CurrentUser, Flash, WebError, WebResult,
    forms::FormErrors,
    redirect_with, render_status,
    views::{HOME_ZONE, MeetingItem, StateOption, state_name, state_options, zone_city},
};
use crate::{
    http::{
        ApiError, AppState,
        registrations::{RegistrationIn, RegistrationOut, limits_of, register, registrations_of, withdraw},
    },
    store::{
        self,
        meetings::{CANCELLED, Context, body_of, local_date},
    },
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/delegation", get(delegation))
        .route("/delegation/meetings/{id}/register", post(register_attendee))
        .route("/delegation/registrations/{id}/withdraw", post(withdraw_attendee))
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
    /// The delegation's registrations, withdrawn ones left out.
    registrations: Vec<RegistrationOut>,
    quota: u32,
    /// Seats behind still free within the quota (confirmed and waiting count).
    quota_left: u32,
    /// The deadline in the meeting's local time, with the place's zone named.
    deadline: String,
    past_deadline: bool,
    /// The registration form: what was sent and what was wrong with it, if it was this one.
    form: RegistrationForm,
    errors: FormErrors,
}

/// The registration form's fields.
#[derive(Debug, Default, Clone, Deserialize)]
struct RegistrationForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    function: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    seat: String,
    #[serde(default)]
    language: String,
}

/// A form that came back with errors, for one meeting.
struct Sent {
    meeting_id: i32,
    form: RegistrationForm,
    errors: FormErrors,
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
    let iso2 = if user.is_organiser() {
        query.state.map(|iso2| iso2.trim().to_uppercase()).filter(|iso2| !iso2.is_empty())
    } else {
        Some(own_state(&user)?)
    };
    page(&state, &c, &user, iso2, None, StatusCode::OK).await
}

fn own_state(user: &CurrentUser) -> WebResult<String> {
    user.iso2.clone().ok_or_else(|| WebError::Forbidden("This account is not bound to a State.".into()))
}

async fn page(
    state: &AppState,
    c: &Chrome,
    user: &CurrentUser,
    iso2: Option<String>,
    sent: Option<Sent>,
    status: StatusCode,
) -> WebResult {
    let context = Context::load(&state.db).await?;
    let states = if user.is_organiser() { state_options(&context) } else { Vec::new() };
    let Some(iso2) = iso2 else {
        let page = DelegationPage {
            c,
            iso2: None,
            name: String::new(),
            standing: String::new(),
            meetings: Vec::new(),
            states,
            horizon_days: HORIZON.num_days(),
        };
        return render_status(c, status, &page);
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
    let principal = user.principal();
    let rows = store::meetings::list(&state.db, Some(now - TimeDelta::hours(12)), Some(now + HORIZON), None).await?;
    let mut on_date: HashMap<NaiveDate, Vec<scheduler::states::Delegation>> = HashMap::new();
    let mut meetings = Vec::new();
    let mut sent = sent;
    for row in rows.iter().filter(|row| row.status != CANCELLED) {
        let Some(body) = body_of(row) else { continue };
        let date = local_date(row);
        let delegations = on_date.entry(date).or_insert_with(|| context.states.on(date));
        let Some(invitee) = invitees(body, delegations).into_iter().find(|invitee| invitee.delegation.iso2 == iso2)
        else {
            continue;
        };
        let registrations: Vec<_> = registrations_of(state, &principal, row.id)
            .await?
            .into_iter()
            .filter(|reg| reg.state == iso2 && reg.status != Status::Withdrawn.as_str())
            .collect();
        let limits = limits_of(state, row.id).await?;
        let behind = registrations.iter().filter(|reg| reg.seat == Seat::Behind.as_str()).count();
        let deadline = DateTime::parse_from_rfc3339(&limits.deadline).map_err(anyhow::Error::from)?;
        let (form, errors) = match sent.take_if(|sent| sent.meeting_id == row.id) {
            Some(sent) => (sent.form, sent.errors),
            None => (RegistrationForm::default(), FormErrors::default()),
        };
        meetings.push(Invited {
            item: MeetingItem::new(row, &context),
            why: capitalise(&invitee.reason.describe(body, date)),
            quota: limits.seats_behind_quota,
            quota_left: limits.seats_behind_quota.saturating_sub(u32::try_from(behind).unwrap_or(u32::MAX)),
            deadline: format!("{} {} time", deadline.format("%A %-d %B %Y, %H:%M"), zone_city(&limits.time_zone)),
            past_deadline: deadline < now,
            registrations,
            form,
            errors,
        });
    }
    let page = DelegationPage {
        c,
        name: state_name(&context, &iso2),
        iso2: Some(iso2),
        standing,
        meetings,
        states,
        horizon_days: HORIZON.num_days(),
    };
    render_status(c, status, &page)
}

/// The delegation a form acts for: its own, or for organisers the one the form names.
fn acting_for(user: &CurrentUser, named: &str) -> WebResult<String> {
    if user.is_organiser() {
        let iso2 = named.trim().to_uppercase();
        if iso2.is_empty() {
            return Err(WebError::BadRequest("Choose a delegation first.".into()));
        }
        Ok(iso2)
    } else {
        own_state(user)
    }
}

fn page_of(user: &CurrentUser, iso2: &str) -> String {
    if user.is_organiser() { format!("/delegation?state={iso2}") } else { "/delegation".to_owned() }
}

async fn register_attendee(
    State(state): State<AppState>,
    c: Chrome,
    user: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<RegistrationForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let iso2 = acting_for(&user, &form.state)?;
    let mut errors = FormErrors::default();
    let seat = match form.seat.as_str() {
        "main" => Some(Seat::Main),
        "behind" => Some(Seat::Behind),
        _ => {
            errors.add("seat", "Choose the seat: at the table (head of delegation) or behind (adviser).");
            None
        }
    };
    if let Some(seat) = seat {
        let input = RegistrationIn {
            state: iso2.clone(),
            name: form.name.clone(),
            function: form.function.clone(),
            email: form.email.clone(),
            seat,
            language: Some(form.language.clone()).filter(|language| !language.is_empty()),
            override_limits: false,
        };
        match register(&state, &user.principal(), id, input).await {
            Ok(registration) => {
                let message = match registration.position {
                    Some(position) => format!(
                        "{} is on the waiting list (number {position}); they move up when a seat is freed.",
                        registration.name
                    ),
                    None => format!("{} is registered.", registration.name),
                };
                return Ok(redirect_with(&c, &page_of(&user, &iso2), &Flash::ok(message)));
            }
            Err(error) => errors = form_errors(error)?,
        }
    }
    let sent = Sent { meeting_id: id, form, errors };
    page(&state, &c, &user, Some(iso2), Some(sent), StatusCode::UNPROCESSABLE_ENTITY).await
}

/// An API refusal sorted onto the registration form; "not invited" is about the form too.
fn form_errors(error: ApiError) -> WebResult<FormErrors> {
    match error {
        ApiError::Forbidden(message) => {
            let mut errors = FormErrors::default();
            errors.general.push(super::forms::capitalise(&message));
            Ok(errors)
        }
        other => FormErrors::from_api(other, &["name", "function", "email", "seat", "language"]),
    }
}

#[derive(Deserialize)]
struct WithdrawForm {
    #[serde(default)]
    csrf: String,
}

async fn withdraw_attendee(
    State(state): State<AppState>,
    c: Chrome,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<WithdrawForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    match withdraw(&state, &user.principal(), id).await {
        Ok(withdrawal) => {
            let mut lines = vec![format!("{} is withdrawn.", withdrawal.registration.name)];
            lines.extend(withdrawal.promoted.iter().map(|up| format!("{} moved up from the waiting list.", up.name)));
            let to = page_of(&user, &withdrawal.registration.state);
            Ok(redirect_with(&c, &to, &Flash { kind: "ok".into(), lines }))
        }
        Err(ApiError::Conflict { message, .. }) => {
            let flash = Flash { kind: "error".into(), lines: vec![super::forms::capitalise(&message)] };
            Ok(redirect_with(&c, "/delegation", &flash))
        }
        Err(error) => Err(error.into()),
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}
