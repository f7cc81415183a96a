//! `/organiser`: plan a year, create a one-off meeting or a conference abroad (the zone offered
//! from the host country), record a newly agreed Chairmanship, redraw a seating lot, and the
//! meetings coming up, each a link to where it can be moved, renamed or cancelled.
//!
//! After a form, the organiser lands back at that form (`?done=<form>#<form>`) with its
//! message there.

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use chrono::{Datelike as _, TimeDelta, Utc};
use serde::Deserialize;

use super::{
    Chrome, Flash, OrganiserUser, WebResult,
    forms::FormErrors,
    params::PageQuery,
    redirect_with, render_status,
    views::{BodyEntry, HOME_ZONE, MeetingItem, StateOption, bodies, state_options},
};
use crate::{
    app::AppState,
    service::{
        self,
        meetings::{NewMeeting, Planned},
    },
    store::{self, meetings::Context},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/organiser", get(console))
        .route("/organiser/plan", post(plan))
        .route("/organiser/meetings", post(create_meeting))
        .route("/organiser/seating-lot", post(redraw_lot))
        .route("/organiser/chairmanships", post(record_chairmanship))
}

/// The console's forms whose message is shown in them (their section ids).
const FORMS: [&str; 2] = ["chairmanship", "lot"];

/// The Chairmanship form's values.
#[derive(Debug, Default, Deserialize)]
struct ChairmanshipForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    state: String,
}

/// One year's Chairmanship, as the console lists it.
struct ChairmanshipLine {
    year: i32,
    /// The chairing State's name; `None` while not decided.
    name: Option<String>,
}

/// The create form's values.
#[derive(Debug, Default, Deserialize)]
struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    room: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    host: String,
    force: Option<String>,
}

#[derive(Template)]
#[template(path = "organiser.html")]
struct ConsolePage<'a> {
    c: &'a Chrome,
    plan_year: i32,
    plan_errors: FormErrors,
    planned: Option<Planned>,
    form: CreateForm,
    errors: FormErrors,
    bodies: Vec<BodyEntry>,
    states: Vec<StateOption>,
    zones: Vec<&'static str>,
    rooms: Vec<(String, String)>,
    upcoming: Vec<MeetingItem>,
    chair_form: ChairmanshipForm,
    chair_errors: FormErrors,
    /// Last year to two years ahead.
    chairmanships: Vec<ChairmanshipLine>,
    flash_at: Option<(String, Flash)>,
}

impl ConsolePage<'_> {
    /// The message to show in form `anchor`, if it was the one just sent.
    fn flash_for(&self, anchor: &str) -> Option<&Flash> {
        self.flash_at.as_ref().filter(|(at, _)| at == anchor).map(|(_, flash)| flash)
    }
}

/// What the console shows besides the create and plan forms: the Chairmanship form (as sent,
/// when it came back with errors) and the message of a form just sent.
#[derive(Default)]
struct Extras {
    chair_form: Option<ChairmanshipForm>,
    chair_errors: FormErrors,
    flash_at: Option<(String, Flash)>,
}

#[derive(Deserialize)]
struct PlanForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    year: String,
}

async fn console(
    State(state): State<AppState>,
    c: Chrome,
    _user: OrganiserUser,
    PageQuery(done): PageQuery<super::forms::DoneQuery>,
) -> WebResult {
    let form = CreateForm { time_zone: "Europe/Vienna".into(), ..CreateForm::default() };
    let mut c = c;
    let flash_at = done.take_flash(&mut c, &FORMS);
    let extras = Extras { flash_at, ..Extras::default() };
    page_with(&state, &c, form, FormErrors::default(), None, FormErrors::default(), extras, StatusCode::OK).await
}

async fn page(
    state: &AppState,
    c: &Chrome,
    form: CreateForm,
    errors: FormErrors,
    planned: Option<Planned>,
    plan_errors: FormErrors,
    status: StatusCode,
) -> WebResult {
    page_with(state, c, form, errors, planned, plan_errors, Extras::default(), status).await
}

#[expect(clippy::too_many_arguments, reason = "each form of the console, as sent; a struct would only rename them")]
async fn page_with(
    state: &AppState,
    c: &Chrome,
    form: CreateForm,
    errors: FormErrors,
    planned: Option<Planned>,
    plan_errors: FormErrors,
    extras: Extras,
    status: StatusCode,
) -> WebResult {
    let context = Context::load(&state.db).await?;
    let now = Utc::now();
    let this_year = now.with_timezone(&HOME_ZONE).year();
    let rows = store::meetings::list(&state.db, Some(now), Some(now + TimeDelta::days(42)), None).await?;
    let mut zones: Vec<&'static str> =
        state_options(&context).iter().map(|option| option.zone).filter(|zone| !zone.is_empty()).collect();
    zones.sort_unstable();
    zones.dedup();
    let page = ConsolePage {
        c,
        plan_year: planned.as_ref().map_or(now.with_timezone(&HOME_ZONE).year() + 1, |planned| planned.year),
        plan_errors,
        planned,
        form,
        errors,
        bodies: bodies(),
        states: state_options(&context),
        zones,
        rooms: context
            .rooms
            .iter()
            .map(|(room, venue)| (room.code.clone(), format!("{}, {} ({})", room.name, venue.name, venue.city)))
            .collect(),
        upcoming: rows.iter().map(|row| MeetingItem::new(row, &context)).collect(),
        chair_form: extras
            .chair_form
            .unwrap_or_else(|| ChairmanshipForm { year: (this_year + 1).to_string(), ..ChairmanshipForm::default() }),
        chair_errors: extras.chair_errors,
        chairmanships: service::reference::chairmanships(&state.db)
            .await?
            .into_iter()
            .filter(|chairmanship| (this_year - 1..=this_year + 2).contains(&chairmanship.year))
            .map(|chairmanship| ChairmanshipLine { year: chairmanship.year, name: chairmanship.name_en })
            .collect(),
        flash_at: extras.flash_at,
    };
    render_status(c, status, &page)
}

async fn plan(
    State(state): State<AppState>,
    c: Chrome,
    OrganiserUser(user): OrganiserUser,
    Form(form): Form<PlanForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let blank = CreateForm { time_zone: "Europe/Vienna".into(), ..CreateForm::default() };
    let Ok(year) = form.year.trim().parse::<i32>() else {
        let mut errors = FormErrors::default();
        errors.add("year", format!("“{}” is not a year; write it with four digits, such as 2027.", form.year.trim()));
        return page(&state, &c, blank, FormErrors::default(), None, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    match service::meetings::plan(&state.db, year, &user.principal()).await {
        Ok(planned) => {
            page(&state, &c, blank, FormErrors::default(), Some(planned), FormErrors::default(), StatusCode::OK).await
        }
        Err(error) => {
            let mut errors = FormErrors::from_service(error, &[])?;
            for message in std::mem::take(&mut errors.general) {
                errors.add("year", message);
            }
            page(&state, &c, blank, FormErrors::default(), None, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|text| !text.is_empty())
}

async fn create_meeting(
    State(state): State<AppState>,
    c: Chrome,
    OrganiserUser(user): OrganiserUser,
    Form(form): Form<CreateForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let mut errors = FormErrors::default();
    for (field, value, what) in [
        ("body", &form.body, "Choose a body."),
        ("start", &form.start, "Give the local start."),
        ("end", &form.end, "Give the local end."),
        ("time_zone", &form.time_zone, "Give the time zone of the place, such as Asia/Tokyo."),
    ] {
        if value.trim().is_empty() {
            errors.add(field, what);
        }
    }
    if !errors.is_empty() {
        return page(&state, &c, form, errors, None, FormErrors::default(), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let input = NewMeeting {
        body: form.body.trim().to_owned(),
        title: optional(&form.title),
        start: form.start.trim().to_owned(),
        end: form.end.trim().to_owned(),
        time_zone: form.time_zone.trim().to_owned(),
        room: optional(&form.room),
        venue: None,
        city: optional(&form.city),
        country: optional(&form.country),
        host: optional(&form.host),
        force: form.force.is_some(),
    };
    match service::meetings::create(&state, &user.principal(), input).await {
        Ok(change) => {
            let mut lines = vec![format!("“{}” is created.", change.meeting.title)];
            let kind = if change.warnings.is_empty() { "ok" } else { "warn" };
            lines.extend(change.warnings.into_iter().map(|warning| warning.message));
            Ok(redirect_with(&c, &format!("/meetings/{}", change.meeting.id), &Flash { kind: kind.into(), lines }))
        }
        Err(error) => {
            let errors = FormErrors::from_service(
                error,
                &["body", "title", "start", "end", "time_zone", "room", "city", "country", "host"],
            )?;
            page(&state, &c, form, errors, None, FormErrors::default(), StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Deserialize)]
struct RedrawForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    year: String,
}

/// Draws a body's seating lot for a year again (audited, as through the API), and says
/// which delegation now heads the ring.
async fn redraw_lot(
    State(state): State<AppState>,
    c: Chrome,
    OrganiserUser(user): OrganiserUser,
    Form(form): Form<RedrawForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let flash = match form.year.trim().parse::<i32>() {
        Err(_) => Flash { kind: "error".into(), lines: vec![format!("The year “{}” is not a number.", form.year)] },
        Ok(year) => match service::seating::redraw(&state, &user.principal(), form.body.trim(), year).await {
            Ok(lot) => Flash::ok(format!(
                "The lot of the {} for {} is drawn again: seating starts with {}.",
                scheduler::bodies::body(&lot.body).map_or(lot.body.as_str(), |body| body.name_en),
                lot.year,
                lot.drawn_name
            )),
            Err(error @ (service::Error::Internal(_) | service::Error::Unavailable(_))) => return Err(error.into()),
            Err(error) => Flash { kind: "error".into(), lines: vec![super::forms::capitalise(&error.to_string())] },
        },
    };
    Ok(redirect_with(&c, "/organiser?done=lot#lot", &flash))
}

/// Records a newly agreed Chairmanship; the chairs derived from it (the Contact Groups'
/// incoming and outgoing Chairmanships, the Troika) follow on every meeting page and feed.
async fn record_chairmanship(
    State(state): State<AppState>,
    c: Chrome,
    OrganiserUser(user): OrganiserUser,
    Form(form): Form<ChairmanshipForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let mut errors = FormErrors::default();
    match form.year.trim().parse::<i32>() {
        Err(_) => errors
            .add("year", format!("“{}” is not a year; write it with four digits, such as 2027.", form.year.trim())),
        Ok(year) => {
            match service::reference::record_chairmanship(&state.db, &user.principal(), year, &form.state).await {
                Ok(()) => {
                    let context = Context::load(&state.db).await?;
                    let name =
                        context.state_name(&form.state.trim().to_uppercase(), scheduler::when_where::Language::English);
                    let flash = Flash::ok(format!(
                        "{name} is recorded as the Chairmanship of {year}. The meetings it chairs (and the Contact Groups of {} and {}) now name it.",
                        year - 1,
                        year + 1
                    ));
                    return Ok(redirect_with(&c, "/organiser?done=chairmanship#chairmanship", &flash));
                }
                Err(error) => errors.add_service(error, &["year", "state"])?,
            }
        }
    }
    let blank = CreateForm { time_zone: "Europe/Vienna".into(), ..CreateForm::default() };
    let extras = Extras { chair_form: Some(form), chair_errors: errors, flash_at: None };
    page_with(
        &state,
        &c,
        blank,
        FormErrors::default(),
        None,
        FormErrors::default(),
        extras,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}
