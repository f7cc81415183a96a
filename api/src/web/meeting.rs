//! `/meetings/{id}`: one meeting — time and place, chair, who is invited and why — with its
//! "add to calendar" file `/meetings/{id}.ics` and, for organisers, forms to move, rename,
//! re-room and cancel it (through the same functions as the JSON API).

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use scheduler::{
    attendance::{Seat, Status},
    eligibility::Reason,
    ical::{CalendarEvent, EventStatus, Feed, render_feed},
    seating::Occupants,
    when_where::{Language, zone_city},
};
use serde::Deserialize;

use super::{
    Chrome, Flash, OrganiserUser, WebError, WebResult,
    forms::{FormErrors, capitalise},
    params::PagePath,
    redirect_with, render_status,
    views::{MeetingItem, local, state_name},
};
use crate::{
    app::AppState,
    db::entities::{meetings, registrations},
    db::enums::MeetingStatus,
    service::{self, meetings::MeetingChanges},
    store::{
        self,
        meetings::{Context, Presiding, body_of, local_date},
    },
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/meetings/{id}", get(meeting_page))
        .route("/meetings/{id}/edit", post(edit_meeting))
        .route("/meetings/{id}/cancel", post(cancel_meeting))
}

/// One group of invited delegations, all invited for the same reason.
struct InviteeGroup {
    heading: &'static str,
    reason: String,
    names: Vec<String>,
}

/// The edit form's values (what the meeting is now, or what the organiser just sent).
#[derive(Debug, Default, Deserialize)]
struct EditForm {
    #[serde(default)]
    csrf: String,
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
    force: Option<String>,
}

/// How many attendees are registered and waiting, for one kind of seat.
struct SeatCount {
    label: &'static str,
    registered: usize,
    waiting: usize,
}

/// The seating plan as the page shows it: the picture (from the public API) with the lot's
/// note, or the reason there is no plan (a room too small for the delegations, for example).
enum Seating {
    Plan { svg_url: String, lot_note: String },
    Failed(String),
}

#[derive(Template)]
#[template(path = "meeting.html")]
struct MeetingPage<'a> {
    c: &'a Chrome,
    m: meetings::Model,
    item: MeetingItem,
    /// Where, in one line; empty when not known yet.
    place: String,
    host_name: Option<String>,
    chairs: Vec<Presiding>,
    body_name: String,
    groups: Vec<InviteeGroup>,
    invited_count: usize,
    cancelled: bool,
    form: EditForm,
    errors: FormErrors,
    rooms: Vec<(String, String)>,
    registrations: Vec<SeatCount>,
    seating: Option<Seating>,
    /// A closed session: the Partners the body would invite are left out.
    closed: bool,
}

fn role_label(role: &str) -> &'static str {
    match role {
        "incoming" => "Incoming Chairmanship (co-chair)",
        "outgoing" => "Outgoing Chairmanship (co-chair)",
        _ => "Chair",
    }
}

fn local_input(unix: i64, zone: Tz) -> String {
    local(unix, zone).format("%Y-%m-%dT%H:%M").to_string()
}

fn form_of(meeting: &meetings::Model) -> EditForm {
    let zone = meeting.zone();
    EditForm {
        csrf: String::new(),
        title: meeting.title.clone(),
        start: local_input(meeting.starts_at, zone),
        end: local_input(meeting.ends_at, zone),
        time_zone: meeting.time_zone.clone(),
        room: meeting.room_code.clone().unwrap_or_default(),
        city: meeting.city.clone().unwrap_or_default(),
        country: meeting.country.clone().unwrap_or_default(),
        force: None,
    }
}

async fn load(state: &AppState, id: &str) -> WebResult<meetings::Model> {
    let id: i32 = id.parse().map_err(|_| WebError::NotFound(format!("There is no meeting “{id}”.")))?;
    store::meetings::find(&state.db, id).await?.ok_or_else(|| WebError::NotFound(format!("There is no meeting {id}.")))
}

async fn meeting_page(State(state): State<AppState>, c: Chrome, PagePath(id): PagePath<String>) -> WebResult {
    if let Some(id) = id.strip_suffix(".ics") {
        let meeting = load(&state, id).await?;
        return ics(&state, &meeting).await;
    }
    let meeting = load(&state, &id).await?;
    let form = form_of(&meeting);
    page(&state, &c, meeting, form, FormErrors::default(), StatusCode::OK).await
}

async fn page(
    state: &AppState,
    c: &Chrome,
    meeting: meetings::Model,
    form: EditForm,
    errors: FormErrors,
    status: StatusCode,
) -> WebResult {
    let context = Context::load(&state.db).await?;
    let date = local_date(&meeting);
    let mut groups: Vec<InviteeGroup> = Vec::new();
    let mut invited_count = 0;
    let mut closed = false;
    if let Some(body) = body_of(&meeting) {
        let (invited, adjustments) = store::invitations::invitees(&state.db, &context, &meeting).await?;
        closed = adjustments.closed;
        for invitee in invited {
            invited_count += 1;
            let heading = match invitee.reason {
                Reason::ParticipatingState => "Participating States",
                Reason::MediterraneanPartner => "Mediterranean Partners for Co-operation",
                Reason::AsianPartner => "Asian Partners for Co-operation",
                Reason::Guest => "Guests of this meeting",
            };
            match groups.iter_mut().find(|group| group.heading == heading) {
                Some(group) => group.names.push(invitee.delegation.name_en),
                None => groups.push(InviteeGroup {
                    heading,
                    reason: invitee.reason.describe(body, date),
                    names: vec![invitee.delegation.name_en],
                }),
            }
        }
        if !adjustments.officials.is_empty() {
            groups.push(InviteeGroup {
                heading: "Officials and organisations invited as guests",
                reason: Reason::Guest.describe(body, date),
                names: adjustments
                    .officials
                    .into_iter()
                    .map(|official| match official.organisation {
                        Some(organisation) => format!("{} ({organisation})", official.name),
                        None => official.name,
                    })
                    .collect(),
            });
        }
    }
    let registrations = seat_counts(&store::attendance::active(&state.db, meeting.id).await?);
    let seating = if meeting.status == MeetingStatus::Cancelled {
        None
    } else {
        // The picture comes from the API with this visitor's session cookie, which names the
        // people seated for the same visitors as this does.
        let occupants = if c.user.is_some() { Occupants::Named } else { Occupants::Hidden };
        Some(match service::seating::plan(&state.db, meeting.id, occupants).await {
            Ok(seating) => Seating::Plan {
                svg_url: format!("/api/v1/meetings/{}/seating.svg", meeting.id),
                lot_note: seating.plan.lot_note,
            },
            Err(service::Error::Internal(error)) => return Err(WebError::Internal(error)),
            Err(error) => Seating::Failed(capitalise(&error.to_string())),
        })
    };
    let item = MeetingItem::new(&meeting, &context);
    let page = MeetingPage {
        c,
        place: context.place(&meeting, Language::English).line(),
        host_name: meeting.host.as_deref().map(|iso2| state_name(&context, iso2)),
        chairs: context.presiding(&meeting),
        body_name: body_of(&meeting).map_or_else(|| meeting.body_code.clone(), |body| body.name_en.to_owned()),
        groups,
        invited_count,
        cancelled: meeting.status == MeetingStatus::Cancelled,
        rooms: context
            .rooms
            .iter()
            .map(|(room, venue)| (room.code.clone(), format!("{}, {}", room.name, venue.name)))
            .collect(),
        m: meeting,
        item,
        form,
        errors,
        registrations,
        seating,
        closed,
    };
    render_status(c, status, &page)
}

/// Registered and waiting attendees per kind of seat (withdrawn ones are not counted).
fn seat_counts(rows: &[registrations::Model]) -> Vec<SeatCount> {
    [Seat::Main, Seat::Behind]
        .into_iter()
        .map(|seat| {
            let label = super::roles::seat(seat);
            let of_seat = || rows.iter().filter(move |row| row.seat == seat);
            SeatCount {
                label,
                registered: of_seat().filter(|row| row.status == Status::Confirmed).count(),
                waiting: of_seat().filter(|row| row.status == Status::Waiting).count(),
            }
        })
        .collect()
}

async fn edit_meeting(
    State(state): State<AppState>,
    c: Chrome,
    OrganiserUser(user): OrganiserUser,
    PagePath(id): PagePath<String>,
    Form(form): Form<EditForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let meeting = load(&state, &id).await?;
    let changes = MeetingChanges {
        title: Some(form.title.clone()),
        start: Some(form.start.clone()),
        end: Some(form.end.clone()),
        time_zone: Some(form.time_zone.clone()),
        room: Some(form.room.clone()),
        city: Some(form.city.clone()),
        country: Some(form.country.clone()),
        force: form.force.is_some(),
        ..MeetingChanges::default()
    };
    match service::meetings::update(&state, &user.principal(), meeting.id, changes).await {
        Ok(change) => {
            let flash = if change.warnings.is_empty() {
                Flash::ok("The meeting is saved.")
            } else {
                Flash {
                    kind: "warn".into(),
                    lines: std::iter::once("The meeting is saved, with warnings:".to_owned())
                        .chain(change.warnings.into_iter().map(|warning| warning.message))
                        .collect(),
                }
            };
            Ok(redirect_with(&c, &format!("/meetings/{}", meeting.id), &flash))
        }
        Err(error) => {
            let errors =
                FormErrors::from_service(error, &["title", "start", "end", "time_zone", "room", "city", "country"])?;
            page(&state, &c, meeting, form, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn cancel_meeting(
    State(state): State<AppState>,
    c: Chrome,
    OrganiserUser(user): OrganiserUser,
    PagePath(id): PagePath<String>,
    Form(form): Form<CsrfForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let meeting = load(&state, &id).await?;
    match service::meetings::cancel(&state, &user.principal(), meeting.id).await {
        Ok(_) => Ok(redirect_with(
            &c,
            &format!("/meetings/{}", meeting.id),
            &Flash::ok("The meeting is cancelled. It stays in the calendar, struck through."),
        )),
        Err(error) => {
            let errors = FormErrors::from_service(error, &[])?;
            let form = form_of(&meeting);
            page(&state, &c, meeting, form, errors, StatusCode::CONFLICT).await
        }
    }
}

/// The meeting as a one-event calendar file (METHOD:PUBLISH), for "add to calendar".
async fn ics(state: &AppState, meeting: &meetings::Model) -> WebResult<Response> {
    let context = Context::load(&state.db).await?;
    let base = state.config.public_base();
    let presiding = context.presiding(meeting);
    let chairs = presiding.iter().map(|chair| chair.name_en.as_str()).collect::<Vec<_>>().join(" and ");
    let event = CalendarEvent {
        uid: meeting.uid.clone(),
        sequence: u32::try_from(meeting.sequence).unwrap_or(0),
        summary: meeting.title.clone(),
        location: context.place(meeting, Language::English).line(),
        description: format!(
            "{} ({}). Chair: {chairs}. Times are in {} time.",
            body_of(meeting).map_or("", |body| body.name_en),
            meeting.body_code,
            zone_city(&meeting.time_zone)
        ),
        url: Some(format!("{base}/meetings/{}", meeting.id)),
        start: DateTime::<Utc>::from_timestamp(meeting.starts_at, 0).unwrap_or_default(),
        end: DateTime::<Utc>::from_timestamp(meeting.ends_at, 0).unwrap_or_default(),
        time_zone: meeting.zone(),
        status: if meeting.status == MeetingStatus::Cancelled {
            EventStatus::Cancelled
        } else {
            EventStatus::Confirmed
        },
        last_modified: meeting.updated_at,
        categories: vec![meeting.body_code.clone()],
    };
    let text = render_feed(&Feed { name: meeting.title.clone(), stamp: Utc::now(), events: vec![event] });
    let disposition = format!("attachment; filename=\"plenary-meeting-{}.ics\"", meeting.id);
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/calendar; charset=utf-8")),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        text,
    )
        .into_response())
}
