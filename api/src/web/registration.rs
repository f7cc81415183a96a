//! `/meetings/{id}/registration`: one delegation's registration for one meeting, whatever its
//! date — the meeting, its deadline, quota and capacity, the people registered or waiting (with
//! withdraw), and the form to register someone, through the same functions as the JSON API.
//!
//! A delegation sees its own; organisers register on behalf of any delegation (`?state=XX`).
//! A delegation that is not invited is told why, and offered no form. After a form, the person
//! lands back at the form (`#register`) with what happened, the meeting and the person named.

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use chrono::DateTime;
use chrono_tz::Tz;
use scheduler::{
    attendance::{Refusal, Seat},
    when_where::{Language, moment, zone_city},
};
use serde::Deserialize;

use super::{
    Chrome, CurrentUser, Flash, WebError, WebResult,
    forms::FormErrors,
    params::{PagePath, PageQuery},
    redirect_with, render_status,
    views::{MeetingItem, StateOption, state_name},
};
use crate::{
    app::AppState,
    db::entities::meetings,
    service::{
        self,
        registrations::{self, NewRegistration, Registration},
    },
    store::{self, meetings::Context},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/meetings/{id}/registration", get(registration_page).post(register_attendee))
        .route("/meetings/{id}/registration/{registration}/withdraw", post(withdraw_attendee))
}

#[derive(Deserialize)]
struct StateQuery {
    state: Option<String>,
}

/// The registration form's fields, kept as typed when the form comes back with errors.
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
    /// Organisers only: register past the deadline or the quota, on purpose.
    #[serde(default)]
    exceed_limits: Option<String>,
}

/// One delegation's side of the page.
struct DelegationSide {
    iso2: String,
    name: String,
    /// Why it may register nobody (not invited, cancelled), in words; no form then.
    closed: Option<String>,
    registrations: Vec<Registration>,
    quota: u32,
    quota_left: u32,
    /// The deadline on the clock of the meeting's place, with the place's zone named.
    deadline: String,
    deadline_passed: bool,
    /// Registered and waiting, all delegations together, against the capacity.
    confirmed: u32,
    waiting: u32,
    capacity: Option<u32>,
    /// What the last form did, shown right above the form.
    notice: Option<Flash>,
    form: RegistrationForm,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "registration.html")]
struct RegistrationPage<'a> {
    c: &'a Chrome,
    item: MeetingItem,
    place: String,
    /// This page's address (forms and the chooser come back here).
    path: String,
    /// For organisers: the invited delegations, to choose one.
    states: Vec<StateOption>,
    delegation: Option<DelegationSide>,
}

async fn registration_page(
    State(state): State<AppState>,
    c: Chrome,
    user: CurrentUser,
    PagePath(id): PagePath<i32>,
    PageQuery(query): PageQuery<StateQuery>,
) -> WebResult {
    let iso2 = acting_for(&state, &user, query.state.as_deref().unwrap_or_default()).await?;
    page(&state, c, &user, id, iso2, Sent::default(), StatusCode::OK).await
}

/// The delegation the page is about: the user's own (a delegation naming another is refused),
/// or for organisers the one they chose, if any.
async fn acting_for(state: &AppState, user: &CurrentUser, named: &str) -> WebResult<Option<String>> {
    let named = Some(named.trim().to_uppercase()).filter(|iso2| !iso2.is_empty());
    if user.is_organiser() {
        return Ok(named);
    }
    let own = user.iso2.clone().ok_or_else(|| WebError::Forbidden("This account is not bound to a State.".into()))?;
    match named {
        Some(other) if other != own => {
            let context = Context::load(&state.db).await?;
            Err(WebError::Forbidden(format!(
                "This account registers attendees for {} only, not for {}.",
                state_name(&context, &own),
                state_name(&context, &other)
            )))
        }
        _ => Ok(Some(own)),
    }
}

/// The page's address for `iso2`: organisers name the delegation, delegations need not.
fn path_of(user: &CurrentUser, id: i32, iso2: &str) -> String {
    if user.is_organiser() {
        // Encoded: it may come from a form, and a raw control character in Location is a 500.
        let iso2: String = url::form_urlencoded::byte_serialize(iso2.as_bytes()).collect();
        format!("/meetings/{id}/registration?state={iso2}")
    } else {
        format!("/meetings/{id}/registration")
    }
}

/// A registration form that came back, with what was wrong with it.
#[derive(Default)]
struct Sent {
    form: RegistrationForm,
    errors: FormErrors,
}

async fn page(
    state: &AppState,
    mut c: Chrome,
    user: &CurrentUser,
    id: i32,
    iso2: Option<String>,
    sent: Sent,
    status: StatusCode,
) -> WebResult {
    let meeting = store::meetings::find(&state.db, id)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("There is no meeting {id}.")))?;
    let context = Context::load(&state.db).await?;
    let states = if user.is_organiser() { invited_options(state, &context, &meeting).await? } else { Vec::new() };
    // The outcome of the last form belongs above the form, not at the top of the page.
    let notice = if iso2.is_some() { c.flash.take() } else { None };
    let delegation = match iso2 {
        Some(iso2) => Some(delegation_side(state, &context, user, &meeting, iso2, notice, sent).await?),
        None => None,
    };
    let page = RegistrationPage {
        item: MeetingItem::new(&meeting, &context),
        place: context.place(&meeting, Language::English).line(),
        path: format!("/meetings/{id}/registration"),
        states,
        delegation,
        c: &c,
    };
    render_status(&c, status, &page)
}

async fn invited_options(
    state: &AppState,
    context: &Context,
    meeting: &meetings::Model,
) -> WebResult<Vec<StateOption>> {
    let (invited, _) = store::invitations::invitees(&state.db, context, meeting).await?;
    let mut options: Vec<StateOption> = invited
        .into_iter()
        .map(|invitee| StateOption { iso2: invitee.delegation.iso2, name: invitee.delegation.name_en, zone: "" })
        .collect();
    options.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(options)
}

async fn delegation_side(
    state: &AppState,
    context: &Context,
    user: &CurrentUser,
    meeting: &meetings::Model,
    iso2: String,
    notice: Option<Flash>,
    Sent { form, errors }: Sent,
) -> WebResult<DelegationSide> {
    if !context.states.states.iter().any(|known| known.iso2 == iso2) {
        return Err(WebError::NotFound(format!("There is no State or Partner with the code {iso2}.")));
    }
    let attendance = registrations::of_delegation(&state.db, &user.principal(), meeting.id, &iso2).await?;
    let name = state_name(context, &iso2);
    let closed = attendance.closed.as_ref().map(|refusal| refusal_in_words(refusal, &name, &meeting.title));
    Ok(DelegationSide {
        closed,
        registrations: attendance.registrations,
        quota: attendance.limits.seats_behind_quota,
        quota_left: attendance.quota_left,
        deadline: deadline_in_words(&attendance.limits.deadline),
        deadline_passed: attendance.deadline_passed,
        confirmed: attendance.seats.confirmed(),
        waiting: attendance.seats.waiting(),
        capacity: attendance.limits.capacity,
        notice,
        form,
        errors,
        iso2,
        name,
    })
}

/// "Thursday 30 September 2027, 10:00 Amman time".
pub(super) fn deadline_in_words(deadline: &DateTime<Tz>) -> String {
    format!("{} {} time", moment(deadline, Language::English), zone_city(deadline.timezone().name()))
}

/// A refusal as the person reads it: the delegation and the meeting named, never codes.
fn refusal_in_words(refusal: &Refusal, delegation: &str, meeting: &str) -> String {
    match refusal {
        Refusal::Cancelled => format!("{meeting} is cancelled; nobody can register for it."),
        Refusal::NotInvited { reason, .. } => format!("{delegation} is not invited to {meeting}: {reason}."),
        Refusal::AlreadyRegistered { name, email, .. } => {
            format!("{email} is already registered for {meeting}, as {name}.")
        }
        Refusal::PastDeadline { deadline } => format!(
            "Registration for {meeting} closed on {}; ask an organiser to register them.",
            deadline_in_words(deadline)
        ),
        Refusal::MainSeatTaken { holder, .. } => format!(
            "{delegation}’s seat at the main table of {meeting} is already taken by {holder}: register them behind, or withdraw {holder} first."
        ),
        Refusal::OverQuota { quota, holders, .. } => format!(
            "{delegation} already holds its {quota} {} behind the main table of {meeting}: {}. Withdraw one of them first, or ask an organiser.",
            if *quota == 1 { "seat" } else { "seats" },
            holders.join(", ")
        ),
    }
}

async fn register_attendee(
    State(state): State<AppState>,
    c: Chrome,
    user: CurrentUser,
    PagePath(id): PagePath<i32>,
    Form(form): Form<RegistrationForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let iso2 = acting_for(&state, &user, &form.state)
        .await?
        .ok_or_else(|| WebError::BadRequest("Choose the delegation you register for first.".into()))?;
    let mut errors = FormErrors::default();
    let seat = match form.seat.as_str() {
        "main" => Some(Seat::Main),
        "behind" => Some(Seat::Behind),
        _ => {
            errors.add("seat", "Choose the seat: at the main table (head of delegation) or behind it (adviser).");
            None
        }
    };
    if let Some(seat) = seat {
        let input = NewRegistration {
            state: iso2.clone(),
            name: form.name.clone(),
            function: form.function.clone(),
            email: form.email.clone(),
            seat,
            language: Some(form.language.clone()).filter(|language| !language.is_empty()),
            override_limits: user.is_organiser() && form.exceed_limits.is_some(),
        };
        match registrations::register(&state, &user.principal(), id, input).await {
            Ok(registration) => {
                let title = title_of(&state, id).await?;
                let flash = Flash::ok(registered_in_words(&registration, &title));
                return Ok(redirect_with(&c, &format!("{}#register", path_of(&user, id, &iso2)), &flash));
            }
            Err(error) => errors = form_errors(&state, id, &iso2, error).await?,
        }
    }
    page(&state, c, &user, id, Some(iso2), Sent { form, errors }, StatusCode::UNPROCESSABLE_ENTITY).await
}

/// "Jürgen Müller is registered for the Mediterranean Conference 2027, at the main table."
fn registered_in_words(registration: &Registration, meeting: &str) -> String {
    let name = &registration.row.name;
    let seat = if registration.row.seat == Seat::Main { "at the main table" } else { "behind the main table" };
    match registration.position {
        Some(position) => format!(
            "{name} is on the waiting list for {meeting} ({seat}), number {position}; they move up when a seat is freed."
        ),
        None => format!("{name} is registered for {meeting}, {seat}."),
    }
}

/// A use case's error sorted onto the form, refusals in plain words.
async fn form_errors(state: &AppState, id: i32, iso2: &str, error: service::Error) -> WebResult<FormErrors> {
    let refusal = match error {
        service::Error::Refused(refusal) => refusal,
        other => return FormErrors::from_service(other, &["name", "function", "email", "seat", "language"]),
    };
    let context = Context::load(&state.db).await?;
    let title = title_of(state, id).await?;
    let mut errors = FormErrors::default();
    let message = refusal_in_words(&refusal, &state_name(&context, iso2), &title);
    match refusal {
        Refusal::AlreadyRegistered { .. } => errors.add("email", message),
        _ => errors.general.push(message),
    }
    Ok(errors)
}

#[derive(Deserialize)]
struct WithdrawForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    state: String,
}

async fn withdraw_attendee(
    State(state): State<AppState>,
    c: Chrome,
    user: CurrentUser,
    PagePath((id, registration)): PagePath<(i32, i64)>,
    Form(form): Form<WithdrawForm>,
) -> WebResult<Response> {
    c.check_csrf(&form.csrf)?;
    match registrations::withdraw(&state, &user.principal(), registration).await {
        Ok(withdrawal) => {
            // The registration names its meeting; the address only brought the person here.
            let withdrawn = withdrawal.registration;
            let title = title_of(&state, withdrawn.meeting_id).await?;
            let mut lines = vec![format!("{} is withdrawn from {title}.", withdrawn.name)];
            lines.extend(
                withdrawal
                    .promoted
                    .iter()
                    .map(|up| format!("{} moved up from the waiting list into the seat.", up.name)),
            );
            let to = format!("{}#register", path_of(&user, withdrawn.meeting_id, &withdrawn.iso2));
            Ok(redirect_with(&c, &to, &Flash { kind: "ok".into(), lines }))
        }
        Err(service::Error::Conflict { .. }) => {
            let title = title_of(&state, id).await?;
            let lines = vec![format!("That person was already withdrawn from {title}.")];
            let to = format!("{}#register", path_of(&user, id, form.state.trim()));
            Ok(redirect_with(&c, &to, &Flash { kind: "error".into(), lines }))
        }
        Err(error) => Err(error.into()),
    }
}

async fn title_of(state: &AppState, id: i32) -> WebResult<String> {
    store::meetings::find(&state.db, id)
        .await?
        .map(|meeting| meeting.title)
        .ok_or_else(|| WebError::NotFound(format!("There is no meeting {id}.")))
}
