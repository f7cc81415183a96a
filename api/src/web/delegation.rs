//! `/delegation`: a delegation's own page — its State and the meetings coming up that it is
//! invited to, with its registrations for each (register, withdraw) through the same functions
//! as the JSON API. Organisers can look at any delegation's page with `?state=XX`.

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use chrono::{TimeDelta, Utc};
use scheduler::{
    attendance::{Refusal, Seat},
    when_where::{Language, moment, zone_city},
};
use serde::Deserialize;

use super::{
    Chrome, CurrentUser, Flash, WebError, WebResult,
    forms::{FormErrors, capitalise},
    params::{PagePath, PageQuery},
    redirect_with, render_status,
    subscriptions::{FeedRow, feed_rows},
    views::{HOME_ZONE, MeetingItem, StateOption, state_name, state_options},
};
use crate::{
    app::AppState,
    db::entities::contacts::Model as Contact,
    db::enums::{Language as MailLanguage, MeetingStatus, RegistrationStatus},
    service::{
        self,
        contacts::{self, NewContact},
        registrations::{self, NewRegistration, Registration},
    },
    store::{
        self,
        meetings::{Context, body_of, local_date},
    },
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/delegation", get(delegation))
        .route("/delegation/meetings/{id}/register", post(register_attendee))
        .route("/delegation/registrations/{id}/withdraw", post(withdraw_attendee))
        .route("/delegation/contacts", post(add_contact_form))
        .route("/delegation/contacts/{id}/remove", post(remove_contact_form))
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
    registrations: Vec<Registration>,
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

/// The contact form's fields.
#[derive(Debug, Default, Clone, Deserialize)]
struct ContactForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    language: String,
}

/// A form that came back with errors: a registration for one meeting, or a new contact.
enum Sent {
    Registration { meeting_id: i32, form: RegistrationForm, errors: FormErrors },
    Contact { form: ContactForm, errors: FormErrors },
}

/// A contact as the page lists it.
struct ContactRow {
    contact: Contact,
    role: &'static str,
    receives_invitations: bool,
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
    /// The delegation's calendar subscriptions.
    feeds: Vec<FeedRow>,
    /// Where their revoke forms come back to.
    back: String,
    /// Whether the viewer is this delegation (organisers subscribe on `/subscriptions`).
    own_delegation: bool,
    contacts: Vec<ContactRow>,
    contact_form: ContactForm,
    contact_errors: FormErrors,
    /// Which roles receive invitations, in words.
    invited_roles: String,
}

async fn delegation(
    State(state): State<AppState>,
    c: Chrome,
    user: CurrentUser,
    PageQuery(query): PageQuery<DelegationQuery>,
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
            feeds: Vec::new(),
            back: String::new(),
            own_delegation: false,
            contacts: Vec::new(),
            contact_form: ContactForm::default(),
            contact_errors: FormErrors::default(),
            invited_roles: String::new(),
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
    let mut meetings = Vec::new();
    let mut sent = sent;
    for row in rows.iter().filter(|row| row.status != MeetingStatus::Cancelled) {
        let Some(body) = body_of(row) else { continue };
        let date = local_date(row);
        let (invited, _adjustments) = store::invitations::invitees(&state.db, &context, row).await?;
        let Some(invitee) = invited.into_iter().find(|invitee| invitee.delegation.iso2 == iso2) else {
            continue;
        };
        let attendance = registrations::of_delegation(&state.db, &principal, row.id, &iso2).await?;
        let deadline = attendance.limits.deadline;
        let (form, errors) =
            match sent.take_if(|sent| matches!(sent, Sent::Registration { meeting_id, .. } if *meeting_id == row.id)) {
                Some(Sent::Registration { form, errors, .. }) => (form, errors),
                _ => (RegistrationForm::default(), FormErrors::default()),
            };
        meetings.push(Invited {
            item: MeetingItem::new(row, &context),
            why: capitalise(&invitee.reason.describe(body, date)),
            quota: attendance.limits.seats_behind_quota,
            quota_left: attendance.quota_left,
            deadline: format!(
                "{} {} time",
                moment(&deadline, Language::English),
                zone_city(deadline.timezone().name())
            ),
            past_deadline: deadline < now,
            registrations: attendance.registrations,
            form,
            errors,
        });
    }
    let (contact_form, contact_errors) = match sent {
        Some(Sent::Contact { form, errors }) => (form, errors),
        _ => (
            ContactForm { language: "en".into(), role: "contact_point".into(), ..ContactForm::default() },
            FormErrors::default(),
        ),
    };
    let invite_roles = &state.config.mail.invite_roles;
    let contacts = contacts::list(&state.db, &principal, &iso2)
        .await?
        .into_iter()
        .map(|contact| ContactRow {
            role: super::roles::contact_role(&contact.role),
            receives_invitations: invite_roles.contains(&contact.role),
            contact,
        })
        .collect();
    let invited_roles = invite_roles
        .iter()
        .map(|role| super::roles::contact_role(role).to_lowercase() + "s")
        .collect::<Vec<_>>()
        .join(", ");
    let page = DelegationPage {
        c,
        name: state_name(&context, &iso2),
        contacts,
        contact_form,
        contact_errors,
        invited_roles,
        feeds: feed_rows(state, &context, &principal, Some(&iso2)).await?,
        back: page_of(user, &iso2),
        own_delegation: !user.is_organiser() && user.iso2.as_deref() == Some(iso2.as_str()),
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
    PagePath(id): PagePath<i32>,
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
        let input = NewRegistration {
            state: iso2.clone(),
            name: form.name.clone(),
            function: form.function.clone(),
            email: form.email.clone(),
            seat,
            language: Some(form.language.clone()).filter(|language| !language.is_empty()),
            override_limits: false,
        };
        match registrations::register(&state.db, &user.principal(), id, input).await {
            Ok(registration) => {
                let name = &registration.row.name;
                let message = match registration.position {
                    Some(position) => {
                        format!("{name} is on the waiting list (number {position}); they move up when a seat is freed.")
                    }
                    None => format!("{name} is registered."),
                };
                return Ok(redirect_with(&c, &page_of(&user, &iso2), &Flash::ok(message)));
            }
            Err(error) => errors = form_errors(error)?,
        }
    }
    let sent = Sent::Registration { meeting_id: id, form, errors };
    page(&state, &c, &user, Some(iso2), Some(sent), StatusCode::UNPROCESSABLE_ENTITY).await
}

/// A refusal sorted onto the registration form; "not invited" (and any other "may not") is
/// about the form too.
fn form_errors(error: service::Error) -> WebResult<FormErrors> {
    let forbidden = match error {
        service::Error::Forbidden(message) => message,
        service::Error::Refused(refusal @ Refusal::NotInvited { .. }) => refusal.to_string(),
        other => return FormErrors::from_service(other, &["name", "function", "email", "seat", "language"]),
    };
    let mut errors = FormErrors::default();
    errors.general.push(capitalise(&forbidden));
    Ok(errors)
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
    PagePath(id): PagePath<i64>,
    Form(form): Form<WithdrawForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    match registrations::withdraw(&state.db, &user.principal(), id).await {
        Ok(withdrawal) => {
            let mut lines = vec![format!("{} is withdrawn.", withdrawal.registration.name)];
            lines.extend(withdrawal.promoted.iter().map(|up| format!("{} moved up from the waiting list.", up.name)));
            let to = page_of(&user, &withdrawal.registration.iso2);
            Ok(redirect_with(&c, &to, &Flash { kind: "ok".into(), lines }))
        }
        Err(service::Error::Conflict { message, .. }) => {
            let flash = Flash { kind: "error".into(), lines: vec![capitalise(&message)] };
            Ok(redirect_with(&c, "/delegation", &flash))
        }
        Err(error) => Err(error.into()),
    }
}

async fn add_contact_form(
    State(state): State<AppState>,
    c: Chrome,
    user: CurrentUser,
    Form(form): Form<ContactForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let iso2 = acting_for(&user, &form.state)?;
    let input = NewContact {
        name: form.name.clone(),
        email: form.email.clone(),
        role: form.role.clone(),
        language: form.language.clone(),
    };
    match contacts::add(&state.db, &user.principal(), &iso2, &input).await {
        Ok(contact) => {
            let flash = Flash::ok(format!("{} ({}) is added to your contacts.", contact.name, contact.email));
            Ok(redirect_with(&c, &format!("{}#contacts", page_of(&user, &iso2)), &flash))
        }
        Err(error) => {
            let errors = FormErrors::from_service(error, &["name", "email", "role", "language"])?;
            let sent = Sent::Contact { form, errors };
            page(&state, &c, &user, Some(iso2), Some(sent), StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Deserialize)]
struct RemoveContactForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    state: String,
}

async fn remove_contact_form(
    State(state): State<AppState>,
    c: Chrome,
    user: CurrentUser,
    PagePath(id): PagePath<i32>,
    Form(form): Form<RemoveContactForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let iso2 = acting_for(&user, &form.state)?;
    let removed = contacts::remove(&state.db, &user.principal(), &iso2, id).await?;
    let flash = Flash::ok(format!("{} is removed from your contacts; they get no more invitations.", removed.name));
    Ok(redirect_with(&c, &format!("{}#contacts", page_of(&user, &iso2)), &flash))
}
