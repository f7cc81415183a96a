//! `/organiser`: plan a year, create a one-off meeting or a conference abroad (the zone offered
//! from the host country), and the meetings coming up, each a link to where it can be moved,
//! renamed or cancelled.

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
}

#[derive(Deserialize)]
struct PlanForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    year: String,
}

async fn console(State(state): State<AppState>, c: Chrome, _user: OrganiserUser) -> WebResult {
    let form = CreateForm { time_zone: "Europe/Vienna".into(), ..CreateForm::default() };
    page(&state, &c, form, FormErrors::default(), None, FormErrors::default(), StatusCode::OK).await
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
    let context = Context::load(&state.db).await?;
    let now = Utc::now();
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
                "The lot of {} for {} is drawn again: seating starts with {}.",
                lot.body, lot.year, lot.drawn_name
            )),
            Err(service::Error::Internal(cause)) => return Err(cause.into()),
            Err(error) => Flash { kind: "error".into(), lines: vec![super::forms::capitalise(&error.to_string())] },
        },
    };
    Ok(redirect_with(&c, "/organiser#lot-title", &flash))
}
