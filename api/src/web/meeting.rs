//! `/meetings/{id}`: one meeting — time and place, chair, who is invited and why — with its
//! "add to calendar" file `/meetings/{id}.ics` and, for organisers, every setting of the
//! meeting on the page (through the same use cases as the JSON API): move, rename and re-room
//! it; guests and a closed session; its quota, deadline and capacity; cancel it with a reason
//! or undo the cancellation; and the history of its changes from the audit log.
//!
//! After a form, the organiser lands back at that form (`?done=<form>#<form>`), with the
//! message there rather than at the top of the page; a form sent back with errors keeps what
//! was typed and shows each error next to its field.

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono_tz::Tz;
use scheduler::{
    attendance::{Seat, Status},
    eligibility::{Adjustments, OfficialGuest, Reason},
    seating::Occupants,
    when_where::{Language, zone_city},
};
use serde::Deserialize;

use super::{
    Chrome, Flash, OrganiserUser, WebError, WebResult,
    forms::{FormErrors, capitalise},
    params::{PagePath, PageQuery},
    redirect_with, render_status,
    views::{self, HOME_ZONE, MeetingItem, local, state_name},
};
use crate::{
    app::AppState,
    db::entities::{meetings, registrations},
    db::enums::MeetingStatus,
    service::{
        self,
        invitations::{NewAdjustments, NewOfficial},
        meetings::MeetingChanges,
        registrations::NewSettings,
    },
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
        .route("/meetings/{id}/reinstate", post(reinstate_meeting))
        .route("/meetings/{id}/guests", post(set_guests))
        .route("/meetings/{id}/attendance-settings", post(set_attendance_settings))
}

/// The organiser forms of the page, each a section with this id (its anchor).
const FORMS: [&str; 4] = ["change", "guests", "attendance-settings", "cancellation"];

/// Back to the form `anchor` of meeting `id`, with `flash` shown there.
fn back_to(c: &Chrome, id: i32, anchor: &str, flash: &Flash) -> Response {
    redirect_with(c, &format!("/meetings/{id}?done={anchor}#{anchor}"), flash)
}

/// One group of invited delegations, all invited for the same reason.
struct InviteeGroup {
    heading: &'static str,
    reason: String,
    names: Vec<String>,
}

/// The edit form's values (what the meeting is now, or what the organiser just sent).
#[derive(Debug, Default, Clone, Deserialize)]
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
    /// The meeting's documents (agenda, logistics note), for everyone who sees the meeting.
    documents: Vec<super::invitations::DocumentLink>,
    /// Offer the registration page: to organisers, and to a delegation that is invited.
    registration_link: bool,
    /// The message of the form just sent, and which form it is about (one of [`FORMS`]).
    flash_at: Option<(String, Flash)>,
    /// What only organisers see.
    organiser: Option<OrganiserForms>,
}

impl MeetingPage<'_> {
    /// The message to show in form `anchor`, if it was the one just sent.
    fn flash_for(&self, anchor: &str) -> Option<&Flash> {
        self.flash_at.as_ref().filter(|(at, _)| at == anchor).map(|(_, flash)| flash)
    }
}

/// The organisers' forms besides the edit form, with their values and errors.
struct OrganiserForms {
    guests: GuestsView,
    guest_errors: FormErrors,
    settings: SettingsForm,
    settings_errors: FormErrors,
    /// The limits in force, in words, beside the settings' fields.
    limits: LimitsView,
    cancel: CancelForm,
    cancel_errors: FormErrors,
    history: Vec<HistoryEntry>,
}

/// The guests form: the closed session, the delegations that may be added as guests, the
/// officials invited, and one more official to add.
#[derive(Debug, Default)]
struct GuestsView {
    closed: bool,
    /// ISO code, name, and whether it is a guest now.
    delegations: Vec<(String, String, bool)>,
    /// Name (with organisation) and e-mail of each official guest, in order.
    officials: Vec<(String, String)>,
    new_official: NewOfficialForm,
}

#[derive(Debug, Default, Clone)]
struct NewOfficialForm {
    name: String,
    organisation: String,
    email: String,
    language: String,
}

/// The attendance settings form; blank means the default.
#[derive(Debug, Default, Deserialize)]
struct SettingsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    seats_behind_quota: String,
    #[serde(default)]
    deadline: String,
    #[serde(default)]
    capacity: String,
}

/// The limits in force, in words.
struct LimitsView {
    quota: String,
    deadline: String,
    capacity: String,
}

#[derive(Debug, Default, Deserialize)]
struct CancelForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    force: Option<String>,
}

/// One change in the meeting's history.
struct HistoryEntry {
    at_iso: String,
    at: String,
    who: String,
    what: String,
}

/// Which form came back with errors, with what was typed.
enum Returned {
    Nothing,
    Edit(EditForm, FormErrors),
    Guests(GuestsView, FormErrors),
    Settings(SettingsForm, FormErrors),
    Cancel(CancelForm, FormErrors),
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

async fn meeting_page(
    State(state): State<AppState>,
    c: Chrome,
    PagePath(id): PagePath<String>,
    PageQuery(done): PageQuery<super::forms::DoneQuery>,
) -> WebResult {
    if let Some(id) = id.strip_suffix(".ics") {
        let meeting = load(&state, id).await?;
        return ics(&state, &meeting).await;
    }
    let meeting = load(&state, &id).await?;
    let mut c = c;
    let flash_at = done.take_flash(&mut c, &FORMS);
    page(&state, &c, meeting, Returned::Nothing, flash_at, StatusCode::OK).await
}

async fn page(
    state: &AppState,
    c: &Chrome,
    meeting: meetings::Model,
    returned: Returned,
    flash_at: Option<(String, Flash)>,
    status: StatusCode,
) -> WebResult {
    let context = Context::load(&state.db).await?;
    let date = local_date(&meeting);
    let mut groups: Vec<InviteeGroup> = Vec::new();
    let mut invited_count = 0;
    let mut closed = false;
    let own_state = c.user.as_ref().and_then(|user| user.iso2.as_deref()).filter(|_| c.is_delegation());
    let mut registration_link = c.is_organiser();
    let mut invited_by_rule = Vec::new();
    let mut current_adjustments = Adjustments::default();
    if let Some(body) = body_of(&meeting) {
        let (invited, adjustments) = store::invitations::invitees(&state.db, &context, &meeting).await?;
        closed = adjustments.closed;
        current_adjustments = adjustments.clone();
        for invitee in invited {
            if invitee.reason != Reason::Guest {
                invited_by_rule.push(invitee.delegation.iso2.clone());
            }
            invited_count += 1;
            registration_link |= own_state == Some(invitee.delegation.iso2.as_str());
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
            Err(error @ (service::Error::Internal(_) | service::Error::Unavailable(_))) => return Err(error.into()),
            Err(error) => Seating::Failed(capitalise(&error.to_string())),
        })
    };
    let documents = super::invitations::document_links(state, meeting.id).await?;
    let item = MeetingItem::new(&meeting, &context);
    let (form, errors) = match &returned {
        Returned::Edit(form, errors) => (form.clone(), errors.clone()),
        _ => (form_of(&meeting), FormErrors::default()),
    };
    let organiser = if c.is_organiser() {
        Some(organiser_forms(state, &context, &meeting, &invited_by_rule, &current_adjustments, returned).await?)
    } else {
        None
    };
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
        documents,
        registration_link,
        flash_at,
        organiser,
    };
    render_status(c, status, &page)
}

/// The organisers' forms with the meeting's current settings, or with what was just sent
/// back with errors.
async fn organiser_forms(
    state: &AppState,
    context: &Context,
    meeting: &meetings::Model,
    invited_by_rule: &[String],
    adjustments: &Adjustments,
    returned: Returned,
) -> WebResult<OrganiserForms> {
    let zone = meeting.zone();
    let current = service::registrations::settings(&state.db, meeting.id).await?;
    let limits = LimitsView {
        quota: format!(
            "{} behind each head of delegation",
            views::plural(current.effective.seats_behind_quota as usize, "seat", "seats")
        ),
        deadline: format!(
            "{} ({} time)",
            current.effective.deadline.format("%A %-d %B %Y, %H:%M"),
            zone_city(zone.name())
        ),
        capacity: match (current.effective.capacity, current.effective.room_capacity) {
            (Some(capacity), _) => {
                format!("{} for the whole meeting", views::plural(capacity as usize, "seat", "seats"))
            }
            (None, _) => "no limit".to_owned(),
        },
    };
    let settings_now = SettingsForm {
        csrf: String::new(),
        seats_behind_quota: current.seats_behind_quota.map(|quota| quota.to_string()).unwrap_or_default(),
        deadline: current.deadline.map(|deadline| deadline.format("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default(),
        capacity: current.capacity.map(|capacity| capacity.to_string()).unwrap_or_default(),
    };
    let date = local_date(meeting);
    let guests_now = GuestsView {
        closed: adjustments.closed,
        delegations: context
            .states
            .on(date)
            .into_iter()
            .filter(|delegation| !invited_by_rule.contains(&delegation.iso2))
            .map(|delegation| {
                let guest = adjustments.guest_delegations.contains(&delegation.iso2);
                (delegation.iso2, delegation.name_en, guest)
            })
            .collect(),
        officials: adjustments.officials.iter().map(official_line).collect(),
        new_official: NewOfficialForm::default(),
    };
    let mut forms = OrganiserForms {
        guests: guests_now,
        guest_errors: FormErrors::default(),
        settings: settings_now,
        settings_errors: FormErrors::default(),
        limits,
        cancel: CancelForm::default(),
        cancel_errors: FormErrors::default(),
        history: history(state, meeting, context).await?,
    };
    match returned {
        Returned::Nothing | Returned::Edit(..) => {}
        Returned::Guests(sent, errors) => {
            // Offer what was offered, ticked as sent.
            let ticked: Vec<String> =
                sent.delegations.iter().filter(|(_, _, guest)| *guest).map(|(iso2, _, _)| iso2.clone()).collect();
            for (iso2, _, guest) in &mut forms.guests.delegations {
                *guest = ticked.contains(iso2);
            }
            forms.guests.closed = sent.closed;
            forms.guests.new_official = sent.new_official;
            forms.guest_errors = errors;
        }
        Returned::Settings(sent, errors) => {
            forms.settings = sent;
            forms.settings_errors = errors;
        }
        Returned::Cancel(sent, errors) => {
            forms.cancel = sent;
            forms.cancel_errors = errors;
        }
    }
    Ok(forms)
}

fn official_line(official: &OfficialGuest) -> (String, String) {
    let name = match &official.organisation {
        Some(organisation) => format!("{} ({organisation})", official.name),
        None => official.name.clone(),
    };
    (name, official.email.clone())
}

/// The meeting's changes from the audit log, newest first, in words.
async fn history(state: &AppState, meeting: &meetings::Model, context: &Context) -> WebResult<Vec<HistoryEntry>> {
    let zone = meeting.zone();
    let rows = store::audit::of_subject(&state.db, "meeting", &meeting.id.to_string()).await?;
    let mut entries: Vec<HistoryEntry> = rows
        .into_iter()
        .filter_map(|row| {
            let parse = |text: &Option<String>| {
                text.as_deref().and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
            };
            let what =
                describe_change(&row.action, parse(&row.before).as_ref(), parse(&row.after).as_ref(), zone, context)?;
            let at = row.at.with_timezone(&HOME_ZONE);
            Some(HistoryEntry {
                at_iso: row.at.to_rfc3339(),
                at: at.format("%-d %B %Y, %H:%M").to_string(),
                who: actor_in_words(&row.actor),
                what,
            })
        })
        .collect();
    entries.reverse();
    Ok(entries)
}

/// Who acted, as people know them: an account's username, or what kind of caller it was.
fn actor_in_words(actor: &str) -> String {
    if let Some(username) = actor.strip_prefix("user:") {
        username.to_owned()
    } else if actor.starts_with("token:") {
        "an API token".to_owned()
    } else if let Some(email) = actor.strip_prefix("rsvp:") {
        email.to_owned()
    } else if actor == "cli" {
        "the command line".to_owned()
    } else {
        actor.to_owned()
    }
}

/// One audit entry about a meeting in words; `None` for entries the history does not show.
fn describe_change(
    action: &str,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
    zone: Tz,
    context: &Context,
) -> Option<String> {
    let text = |value: Option<&serde_json::Value>, key: &str| {
        value.and_then(|value| value.get(key)).and_then(serde_json::Value::as_str).map(str::to_owned)
    };
    let number = |value: Option<&serde_json::Value>, key: &str| {
        value.and_then(|value| value.get(key)).and_then(serde_json::Value::as_i64)
    };
    // Each snapshot in its own zone: a meeting moved abroad was at its old place's time before.
    let when = |value: Option<&serde_json::Value>| {
        let zone = text(value, "time_zone").and_then(|name| name.parse::<Tz>().ok()).unwrap_or(zone);
        number(value, "starts_at").map(|start| local(start, zone).format("%-d %B %Y, %H:%M").to_string())
    };
    let room = |value: Option<&serde_json::Value>| {
        text(value, "room").map(|code| context.room(&code).map_or(code, |(room, _)| room.name.clone()))
    };
    Some(match action {
        "meeting.create" => "Created".to_owned(),
        "meeting.update" => {
            let mut changes = Vec::new();
            if text(before, "title") != text(after, "title") {
                changes.push(format!("renamed to “{}”", text(after, "title").unwrap_or_default()));
            }
            if number(before, "starts_at") != number(after, "starts_at")
                || number(before, "ends_at") != number(after, "ends_at")
            {
                changes.push(format!(
                    "moved from {} to {}",
                    when(before).unwrap_or_default(),
                    when(after).unwrap_or_default()
                ));
            }
            if room(before) != room(after) {
                changes.push(match room(after) {
                    Some(name) => format!("room changed to {name}"),
                    None => "room given up".to_owned(),
                });
            }
            if text(before, "city") != text(after, "city") || text(before, "country") != text(after, "country") {
                changes.push("place changed".to_owned());
            }
            if changes.is_empty() { "Changed".to_owned() } else { capitalise(&changes.join("; ")) }
        }
        "meeting.cancel" => match text(after, "cancellation_reason") {
            Some(reason) => format!("Cancelled: {reason}"),
            None => "Cancelled".to_owned(),
        },
        "meeting.reinstate" => "Cancellation undone: scheduled again".to_owned(),
        "meeting.invitation_settings" => "Guests or closed session changed".to_owned(),
        "attendance.settings" => "Quota, registration deadline or capacity changed".to_owned(),
        "invitations.send" => "Invitations sent".to_owned(),
        "invitations.resend" => "Invitations sent again".to_owned(),
        _ => return None,
    })
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
            let saved = format!("“{}” is saved.", change.meeting.title);
            let flash = if change.warnings.is_empty() {
                Flash::ok(saved)
            } else {
                Flash {
                    kind: "warn".into(),
                    lines: std::iter::once(format!("{saved} Worth a look:"))
                        .chain(change.warnings.into_iter().map(|warning| capitalise(&warning.message)))
                        .collect(),
                }
            };
            Ok(back_to(&c, meeting.id, "change", &flash))
        }
        Err(error) => {
            let errors =
                FormErrors::from_service(error, &["title", "start", "end", "time_zone", "room", "city", "country"])?;
            page(&state, &c, meeting, Returned::Edit(form, errors), None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn cancel_meeting(
    State(state): State<AppState>,
    c: Chrome,
    OrganiserUser(user): OrganiserUser,
    PagePath(id): PagePath<String>,
    Form(form): Form<CancelForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let meeting = load(&state, &id).await?;
    match service::meetings::cancel(&state, &user.principal(), meeting.id, Some(&form.reason)).await {
        Ok(cancelled) => Ok(back_to(
            &c,
            meeting.id,
            "cancellation",
            &Flash::ok(format!(
                "“{}” is cancelled. It stays in the calendar, struck through; those invited are told.",
                cancelled.title
            )),
        )),
        Err(error) => {
            let errors = FormErrors::from_service(error, &["reason"])?;
            page(&state, &c, meeting, Returned::Cancel(form, errors), None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn reinstate_meeting(
    State(state): State<AppState>,
    c: Chrome,
    OrganiserUser(user): OrganiserUser,
    PagePath(id): PagePath<String>,
    Form(form): Form<CancelForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let meeting = load(&state, &id).await?;
    match service::meetings::reinstate(&state, &user.principal(), meeting.id, form.force.is_some()).await {
        Ok(change) => {
            let mut lines =
                vec![format!("“{}” is scheduled again; those invited are sent the update.", change.meeting.title)];
            let kind = if change.warnings.is_empty() { "ok" } else { "warn" };
            lines.extend(change.warnings.into_iter().map(|warning| capitalise(&warning.message)));
            Ok(back_to(&c, meeting.id, "cancellation", &Flash { kind: kind.into(), lines }))
        }
        Err(error) => {
            // A room taken meanwhile is shown on the reinstate button, with "book anyway".
            let errors = FormErrors::from_service(error, &["room"])?;
            page(&state, &c, meeting, Returned::Cancel(form, errors), None, StatusCode::CONFLICT).await
        }
    }
}

/// The guests form as sent: repeated `guest` boxes, so read as pairs.
fn guests_sent(pairs: &[(String, String)]) -> (String, GuestsView, Vec<String>) {
    let value = |key: &str| pairs.iter().find(|(name, _)| name == key).map(|(_, value)| value.trim().to_owned());
    let view = GuestsView {
        closed: value("closed").is_some(),
        delegations: pairs
            .iter()
            .filter(|(name, _)| name == "guest")
            .map(|(_, iso2)| (iso2.trim().to_uppercase(), String::new(), true))
            .collect(),
        officials: Vec::new(),
        new_official: NewOfficialForm {
            name: value("official_name").unwrap_or_default(),
            organisation: value("official_organisation").unwrap_or_default(),
            email: value("official_email").unwrap_or_default(),
            language: value("official_language").unwrap_or_default(),
        },
    };
    // Officials are removed by address, not by their place in a list that may have changed
    // since the page was drawn.
    let removed = pairs
        .iter()
        .filter(|(name, _)| name == "remove_official")
        .map(|(_, email)| email.trim().to_lowercase())
        .collect();
    (value("csrf").unwrap_or_default(), view, removed)
}

async fn set_guests(
    State(state): State<AppState>,
    c: Chrome,
    OrganiserUser(user): OrganiserUser,
    PagePath(id): PagePath<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult {
    let (csrf, sent, removed) = guests_sent(&pairs);
    c.check_csrf(&csrf)?;
    let meeting = load(&state, &id).await?;
    let current = service::invitations::adjustments(&state.db, meeting.id).await?;
    let mut officials: Vec<NewOfficial> = current
        .officials
        .into_iter()
        .filter(|official| !removed.contains(&official.email.to_lowercase()))
        .map(|official| NewOfficial {
            name: official.name,
            organisation: official.organisation,
            email: official.email,
            language: Some(official.language),
        })
        .collect();
    let new = &sent.new_official;
    let adding = !(new.name.is_empty() && new.organisation.is_empty() && new.email.is_empty());
    let new_index = officials.len();
    if adding {
        officials.push(NewOfficial {
            name: new.name.clone(),
            organisation: Some(new.organisation.clone()),
            email: new.email.clone(),
            language: Some(new.language.clone()).filter(|language| !language.is_empty()),
        });
    }
    let input = NewAdjustments {
        closed: sent.closed,
        guest_delegations: sent.delegations.iter().map(|(iso2, _, _)| iso2.clone()).collect(),
        officials,
    };
    match service::invitations::set_adjustments(&state.db, &user.principal(), meeting.id, input).await {
        Ok(list) => {
            let count = list.delegations.len() + list.officials.len();
            let flash = Flash::ok(format!(
                "Who is invited to “{}” is saved: {}{}.",
                meeting.title,
                views::plural(count, "invitation", "invitations"),
                if list.closed { ", in a closed session" } else { "" }
            ));
            Ok(back_to(&c, meeting.id, "guests", &flash))
        }
        Err(error) => {
            // The official just typed is the one at `new_index`: its errors go to its fields.
            let error = match error {
                service::Error::Invalid { field: Some(field), rule, message } => {
                    let prefix = format!("officials[{new_index}].");
                    let field = field.strip_prefix(&prefix).map_or(field.clone(), |name| format!("official_{name}"));
                    service::Error::Invalid { field: Some(field), rule, message }
                }
                other => other,
            };
            let errors = FormErrors::from_service(
                error,
                &["guest_delegations", "official_name", "official_organisation", "official_email", "official_language"],
            )?;
            page(&state, &c, meeting, Returned::Guests(sent, errors), None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// A number typed in a settings field: blank is the default (`None`).
fn whole_number(errors: &mut FormErrors, field: &str, text: &str) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    text.parse().map_or_else(
        |_| {
            errors.add(
                field,
                format!("“{text}” is not a whole number; write one such as 2, or leave it empty for the default."),
            );
            None
        },
        Some,
    )
}

async fn set_attendance_settings(
    State(state): State<AppState>,
    c: Chrome,
    OrganiserUser(user): OrganiserUser,
    PagePath(id): PagePath<String>,
    Form(form): Form<SettingsForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let meeting = load(&state, &id).await?;
    let mut errors = FormErrors::default();
    let quota = whole_number(&mut errors, "seats_behind_quota", &form.seats_behind_quota);
    let capacity = whole_number(&mut errors, "capacity", &form.capacity);
    if errors.is_empty() {
        let input = NewSettings {
            seats_behind_quota: quota,
            deadline: Some(form.deadline.trim().to_owned()).filter(|text| !text.is_empty()),
            capacity,
        };
        match service::registrations::set_settings(&state, &user.principal(), meeting.id, input).await {
            Ok(change) => {
                let mut lines = vec![format!(
                    "The registration settings of “{}” are saved: {} behind each head of delegation, registration until {} ({} time).",
                    meeting.title,
                    views::plural(change.effective.seats_behind_quota as usize, "seat", "seats"),
                    change.effective.deadline.format("%A %-d %B %Y, %H:%M"),
                    zone_city(&meeting.time_zone)
                )];
                if !change.promoted.is_empty() {
                    lines.push(format!(
                        "{} moved up from the waiting list.",
                        views::plural(change.promoted.len(), "person", "people")
                    ));
                }
                return Ok(back_to(&c, meeting.id, "attendance-settings", &Flash { kind: "ok".into(), lines }));
            }
            Err(error) => errors.add_service(error, &["seats_behind_quota", "deadline", "capacity"])?,
        }
    }
    page(&state, &c, meeting, Returned::Settings(form, errors), None, StatusCode::UNPROCESSABLE_ENTITY).await
}

/// The meeting as a one-event calendar file (METHOD:PUBLISH), for "add to calendar".
async fn ics(state: &AppState, meeting: &meetings::Model) -> WebResult<Response> {
    let context = Context::load(&state.db).await?;
    let text = crate::feeds::single_meeting(meeting, &context, &state.config.public_base())?;
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
