//! `/delegation`: a delegation's overview — its State, the meetings it is invited to with how
//! far its registration for each has got (each linking to the meeting's registration page),
//! the deadlines coming soon, a month at a time for any month ahead, its contacts and calendar
//! subscriptions. Organisers can look at any delegation's page with `?state=XX`.

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use chrono::{Months, NaiveDate, TimeDelta, Utc};
use serde::Deserialize;

use super::{
    Chrome, CurrentUser, Flash, WebError, WebResult,
    forms::{FormErrors, capitalise},
    params::{PagePath, PageQuery},
    redirect_with,
    registration::deadline_in_words,
    render_status,
    subscriptions::{FeedRow, feed_rows},
    views::{HOME_ZONE, MeetingItem, StateOption, state_name, state_options},
};
use crate::{
    app::AppState,
    auth::Principal,
    db::entities::{contacts::Model as Contact, meetings},
    db::enums::{Language as MailLanguage, MeetingStatus},
    service::{
        self,
        contacts::{self, NewContact},
        registrations,
    },
    store::{
        self,
        meetings::{Context, body_of, local_date},
    },
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/delegation", get(delegation))
        .route("/delegation/contacts", post(add_contact_form))
        .route("/delegation/contacts/{id}/remove", post(remove_contact_form))
}

/// How many of the next meetings the overview lists; the month browser reaches the others.
const NEXT_MEETINGS: usize = 8;
/// How far ahead the overview looks for the next meetings (conferences are announced about a
/// year ahead).
const LOOK_AHEAD: TimeDelta = TimeDelta::days(2 * 366);
/// A deadline this close is "soon".
const SOON: TimeDelta = TimeDelta::days(14);
/// Meetings that start within this can close registration within [`SOON`] by default (at most
/// 14 days before the start); a deadline an organiser set earlier shows with its meeting.
const DEADLINE_SCAN: TimeDelta = TimeDelta::days(30);

#[derive(Deserialize)]
struct DelegationQuery {
    state: Option<String>,
    /// `YYYY-MM`: list that month's meetings instead of the next ones.
    month: Option<String>,
}

/// A meeting the delegation is invited to, with how far its registration has got.
#[derive(Clone)]
struct Invited {
    item: MeetingItem,
    why: String,
    registered: usize,
    waiting: usize,
    /// The deadline in the meeting's local time, with the place's zone named.
    deadline: String,
    deadline_passed: bool,
    /// When the deadline falls within [`SOON`].
    deadline_soon: bool,
    /// Its registration page for this delegation.
    registration: String,
}

/// The month the overview lists, when one is chosen.
struct Month {
    /// `2027-10`, for the month field.
    value: String,
    /// "October 2027".
    label: String,
    previous: String,
    next: String,
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
    /// Registration open and closing within [`SOON`].
    deadlines_soon: Vec<Invited>,
    /// The next meetings, or the chosen month's.
    meetings: Vec<Invited>,
    month: Option<Month>,
    /// This month, for the month field's starting value.
    this_month: String,
    /// For organisers: every delegation, to pick one.
    states: Vec<StateOption>,
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
    let month = match query.month.as_deref().map(str::trim).filter(|month| !month.is_empty()) {
        Some(text) => Some(NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").map_err(|_| {
            WebError::BadRequest(format!("The month must be written as year and month, such as 2027-10, not “{text}”."))
        })?),
        None => None,
    };
    page(&state, &c, &user, iso2, month, None, StatusCode::OK).await
}

fn own_state(user: &CurrentUser) -> WebResult<String> {
    user.iso2.clone().ok_or_else(|| WebError::Forbidden("This account is not bound to a State.".into()))
}

async fn page(
    state: &AppState,
    c: &Chrome,
    user: &CurrentUser,
    iso2: Option<String>,
    month: Option<NaiveDate>,
    contact: Option<(ContactForm, FormErrors)>,
    status: StatusCode,
) -> WebResult {
    let context = Context::load(&state.db).await?;
    let states = if user.is_organiser() { state_options(&context) } else { Vec::new() };
    let today = Utc::now().with_timezone(&HOME_ZONE).date_naive();
    let Some(iso2) = iso2 else {
        let page = DelegationPage {
            c,
            iso2: None,
            name: String::new(),
            standing: String::new(),
            deadlines_soon: Vec::new(),
            meetings: Vec::new(),
            month: None,
            this_month: today.format("%Y-%m").to_string(),
            states,
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
    let standing = context.states.on(today).into_iter().find(|delegation| delegation.iso2 == iso2).map_or_else(
        || "Not a participating State or Partner today".to_owned(),
        |delegation| match delegation.partner_group {
            None => "Participating State".to_owned(),
            Some(group) => format!("{} Partner for Co-operation", capitalise(group.as_str())),
        },
    );
    let principal = user.principal();
    let lister = Lister { state, context: &context, principal: &principal, user, iso2: &iso2 };
    let (deadlines_soon, meetings) = match month {
        Some(first) => (Vec::new(), lister.month(first).await?),
        None => lister.next().await?,
    };
    let (contact_form, contact_errors) = contact.unwrap_or_else(|| {
        (
            ContactForm { language: "en".into(), role: "contact_point".into(), ..ContactForm::default() },
            FormErrors::default(),
        )
    });
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
        month: month.map(|first| month_of(user, &iso2, first)),
        this_month: today.format("%Y-%m").to_string(),
        iso2: Some(iso2),
        standing,
        deadlines_soon,
        meetings,
        states,
    };
    render_status(c, status, &page)
}

fn month_of(user: &CurrentUser, iso2: &str, first: NaiveDate) -> Month {
    let link = |date: Option<NaiveDate>| {
        let date = date.unwrap_or(first);
        let separator = if user.is_organiser() { "&" } else { "?" };
        format!("{}{separator}month={}", page_of(user, iso2), date.format("%Y-%m"))
    };
    Month {
        value: first.format("%Y-%m").to_string(),
        label: first.format("%B %Y").to_string(),
        previous: link(first.checked_sub_months(Months::new(1))),
        next: link(first.checked_add_months(Months::new(1))),
    }
}

/// Lists meetings as one delegation's overview shows them.
struct Lister<'a> {
    state: &'a AppState,
    context: &'a Context,
    principal: &'a Principal,
    user: &'a CurrentUser,
    iso2: &'a str,
}

impl Lister<'_> {
    /// The next meetings the delegation is invited to, and those of the coming weeks whose
    /// registration closes soon.
    async fn next(&self) -> WebResult<(Vec<Invited>, Vec<Invited>)> {
        let now = Utc::now();
        let rows =
            store::meetings::list(&self.state.db, Some(now - TimeDelta::hours(12)), Some(now + LOOK_AHEAD), None)
                .await?;
        let (mut soon, mut next) = (Vec::new(), Vec::new());
        for row in &rows {
            let starts_soon = row.starts_at < (now + DEADLINE_SCAN).timestamp();
            if next.len() >= NEXT_MEETINGS && !starts_soon {
                break;
            }
            let Some(invited) = self.invited(row).await? else { continue };
            if invited.deadline_soon {
                soon.push(invited.clone());
            }
            if next.len() < NEXT_MEETINGS {
                next.push(invited);
            }
        }
        Ok((soon, next))
    }

    /// The meetings of the month starting on `first` that the delegation is invited to.
    async fn month(&self, first: NaiveDate) -> WebResult<Vec<Invited>> {
        let last = first.checked_add_months(Months::new(1)).map_or(first, |next| next - TimeDelta::days(1));
        let rows = service::meetings::list(&self.state.db, Some(first), Some(last), None).await?;
        let mut meetings = Vec::new();
        for row in &rows {
            meetings.extend(self.invited(row).await?);
        }
        Ok(meetings)
    }

    /// `row` as the overview lists it, or `None` when the delegation is not invited (or the
    /// meeting is cancelled).
    async fn invited(&self, row: &meetings::Model) -> WebResult<Option<Invited>> {
        let Some(body) = body_of(row).filter(|_| row.status != MeetingStatus::Cancelled) else {
            return Ok(None);
        };
        let (invited, _adjustments) = store::invitations::invitees(&self.state.db, self.context, row).await?;
        let Some(invitee) = invited.into_iter().find(|invitee| invitee.delegation.iso2 == self.iso2) else {
            return Ok(None);
        };
        let attendance = registrations::of_delegation(&self.state.db, self.principal, row.id, self.iso2).await?;
        let deadline = attendance.limits.deadline;
        let waiting = attendance.registrations.iter().filter(|registration| registration.position.is_some()).count();
        let registration = if self.user.is_organiser() {
            format!("/meetings/{}/registration?state={}", row.id, self.iso2)
        } else {
            format!("/meetings/{}/registration", row.id)
        };
        Ok(Some(Invited {
            item: MeetingItem::new(row, self.context),
            why: capitalise(&invitee.reason.describe(body, local_date(row))),
            registered: attendance.registrations.len() - waiting,
            waiting,
            deadline: deadline_in_words(&deadline),
            deadline_soon: !attendance.deadline_passed && deadline < Utc::now() + SOON,
            deadline_passed: attendance.deadline_passed,
            registration,
        }))
    }
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
            page(&state, &c, &user, Some(iso2), None, Some((form, errors)), StatusCode::UNPROCESSABLE_ENTITY).await
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
