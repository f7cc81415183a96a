//! Seating: a meeting's plan, the lot per body and year, and each body's seating rules.
//!
//! The plan is computed on every request from what the database holds (the meeting, its room,
//! who is invited on its local date, the derived chair, the body's rules, the lot and the
//! registrations) by the pure engine in `scheduler::seating`. The lot is the only thing seating
//! stores: it is drawn the first time a plan of that body and year is asked for, from a random
//! `u64` the operating system gives, and kept, so every plan of the year starts the ring with the
//! same State; organisers redraw it only explicitly, and both draws are audited.

use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use scheduler::{
    bodies::{Body, body},
    reference::Room,
    seating::{
        Lot, OFFICIALS, Occupants, PlateNames, RoomLayout, RulesError, SeatingPlan, SeatingRequest, SeatingRules,
        TableShape, draw_lot, head_of_table, layout_for, lot_pool, plan_seating, ring_start, to_csv,
    },
    seating_svg::render_svg,
    states::StateKind,
};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Error, Rule, ServiceResult};
use crate::{
    app::AppState,
    auth::Principal,
    db::entities::{meetings, seating_lots},
    store::{
        self,
        audit::AuditEntry,
        meetings::{Context, body_codes, local_date},
        seating::NewLot,
    },
};

/// Who the automatic first draw of a lot is recorded as.
pub const AUTOMATIC_DRAWER: &str = "Plenary";

/// The lot a body's plans of one year start from.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LotOut {
    pub body: String,
    pub year: i32,
    /// The participating State drawn.
    pub drawn: String,
    pub drawn_name: String,
    /// The random number drawn (a `u64`, as text): the draw is reproducible from it.
    pub seed: String,
    pub drawn_at: DateTime<Utc>,
    /// `Plenary` for the automatic first draw, otherwise who asked for the redraw.
    pub drawn_by: String,
}

/// A meeting's seating plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeatingOut {
    pub meeting_id: i32,
    pub body: String,
    /// The meeting's local date: who is invited and who chairs are taken on it.
    pub date: NaiveDate,
    pub lot: LotOut,
    /// The participating State the ring starts with: the drawn one, or the next one in protocol
    /// order when the drawn State does not take part on the meeting's date.
    pub starts_with: String,
    /// The rules the plan follows: the body's, with `seats_behind` from the meeting's own quota
    /// when organisers set one, raised to the most advisers a delegation has confirmed.
    #[schema(value_type = Object)]
    pub rules: SeatingRules,
    /// The plan: `head` (chairs, then officials), then `seats` (the main table, any Partners'
    /// row, the adviser seats), each with its position, label and registered occupant (null
    /// for anonymous callers).
    #[schema(value_type = Object)]
    pub plan: SeatingPlan,
}

/// A body's seating rules.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeatingRulesOut {
    pub body: String,
    #[schema(value_type = Object)]
    pub rules: SeatingRules,
    /// True while organisers have not set rules for this body.
    pub is_default: bool,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<String>,
    /// The officials a rule may name.
    pub known_officials: Vec<&'static str>,
}

/// Plans the seating of meeting `id`, drawing its body's lot for the year if none is drawn yet,
/// naming the people seated only when `occupants` says so. Shared by the API, the pages and the
/// command line.
///
/// # Errors
/// [`Error::NotFound`] for an unknown meeting; [`Error::Invalid`] when the room's main table is too small (the message names
/// the room, its seats and the seats needed) or the registrations do not fit their seats; 500
/// when the database fails.
pub async fn plan(db: &DatabaseConnection, id: i32, occupants: Occupants) -> ServiceResult<SeatingOut> {
    let meeting = super::meetings::load(db, id).await?;
    let body = body(&meeting.body_code)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("meeting {id} has an unknown body {}", meeting.body_code)))?;
    let context = Context::load(db).await?;
    let date = local_date(&meeting);
    let (invitees, _adjustments) = store::invitations::invitees(db, &context, &meeting).await?;
    let invited: Vec<_> = invitees.into_iter().map(|invitee| invitee.delegation).collect();
    let lot = lot_for(db, &context, body, date.year()).await?;
    let drawn_key = context
        .states
        .states
        .iter()
        .find(|state| state.iso2 == lot.first_iso2)
        .map_or_else(|| lot.first_iso2.clone(), |state| state.protocol_sort_key.clone());
    let starts_with = ring_start(&drawn_key, &invited).ok_or_else(|| {
        Error::invalid_request(Rule::Mismatch, format!("no participating State is invited to meeting {id}"))
    })?;
    let (rules, _) = rules_for(db, body).await?;
    let head = head_of_table(&context.chair(&meeting));
    let attendees = store::seating::attendees(db, id).await?;
    let meeting_quota =
        store::attendance::settings_of(store::attendance::settings(db, id).await?.as_ref()).seats_behind_quota;
    let rules = rules.for_meeting(meeting_quota, &attendees);
    let layout = layout_of(&meeting, &context, &invited, &rules, head.len());
    let request = SeatingRequest {
        meeting: format!("{}, {date}", meeting.title),
        head,
        invited,
        lot: Lot { iso2: starts_with.clone(), drawn_on: lot.drawn_at.date_naive(), drawn_by: lot.drawn_by.clone() },
        attendees,
        rules: rules.clone(),
        plate_names: PlateNames::English,
        occupants,
    };
    let mut plan =
        plan_seating(&request, &layout).map_err(|error| Error::invalid_request(Rule::Mismatch, error.to_string()))?;
    let lot = lot_out(lot, &context);
    if starts_with != lot.drawn {
        plan.lot_note.push_str(&format!(" ({} was drawn; it is not a participating State on {date})", lot.drawn_name));
    }
    Ok(SeatingOut { meeting_id: id, body: body.code.as_str().to_owned(), date, lot, starts_with, rules, plan })
}

/// The forms a plan can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatingFormat {
    /// A printable A3 picture.
    Svg,
    /// The plan as the API gives it.
    Json,
    /// One seat a row, for spreadsheets.
    Csv,
}

/// Meeting `id`'s seating plan written as `format`, with the registered names: the command line
/// is an organisers' tool.
///
/// # Errors
/// As [`plan`].
pub async fn render(db: &DatabaseConnection, id: i32, format: SeatingFormat) -> ServiceResult<String> {
    let seating = plan(db, id, Occupants::Named).await?;
    Ok(match format {
        SeatingFormat::Svg => render_svg(&seating.plan),
        SeatingFormat::Json => {
            let mut json = serde_json::to_string_pretty(&seating).map_err(anyhow::Error::from)?;
            json.push('\n');
            json
        }
        SeatingFormat::Csv => to_csv(&seating.plan),
    })
}

/// The meeting room's main table; a meeting without a room (a conference abroad) gets the
/// generic table with exactly the seats it needs.
fn layout_of(
    meeting: &meetings::Model,
    context: &Context,
    invited: &[scheduler::states::Delegation],
    rules: &SeatingRules,
    chairs: usize,
) -> RoomLayout {
    if let Some((room, venue)) = meeting.room_code.as_deref().and_then(|code| context.room(code)) {
        return RoomLayout::for_room(&Room {
            code: room.code.clone(),
            name: room.name.clone(),
            venue: venue.name.clone(),
            city: venue.city.clone(),
            country: venue.country.clone(),
            time_zone: venue.time_zone.clone(),
            capacity: u32::try_from(room.capacity).unwrap_or(0),
            main_table_seats: u32::try_from(room.main_table_seats).unwrap_or(0),
        });
    }
    let at_table = invited
        .iter()
        .filter(|delegation| rules.partners_at_main_table || delegation.kind == StateKind::Participating)
        .count();
    let needed = u32::try_from(chairs + rules.officials.len() + at_table).unwrap_or(u32::MAX);
    let place = match (meeting.venue.as_deref(), meeting.city.as_deref()) {
        (Some(venue), Some(city)) => format!("{venue}, {city}"),
        (Some(place), None) | (None, Some(place)) => place.to_owned(),
        (None, None) => "the conference venue".to_owned(),
    };
    layout_for(&place, needed, TableShape::Generic)
}

/// A random `u64` from the operating system.
fn os_seed() -> anyhow::Result<u64> {
    use rand::TryRngCore as _;
    rand::rngs::OsRng
        .try_next_u64()
        .map_err(|error| anyhow::anyhow!("the operating system gave no randomness: {error}"))
}

/// Draws a State for `body` and `year` from a new seed.
fn draw(context: &Context, year: i32) -> ServiceResult<(u64, String)> {
    let seed = os_seed()?;
    let pool = lot_pool(&context.states.states, &context.states.memberships, year);
    let first = draw_lot(seed, &pool)
        .ok_or_else(|| Error::invalid_request(Rule::Range, format!("there are no participating States in {year}")))?;
    Ok((seed, first))
}

/// The lot of `body` for `year`, drawn and stored (and audited) now if there is none yet.
async fn lot_for(
    db: &DatabaseConnection,
    context: &Context,
    body: &Body,
    year: i32,
) -> ServiceResult<seating_lots::Model> {
    let code = body.code.as_str();
    if let Some(lot) = store::seating::lot(db, code, year).await? {
        return Ok(lot);
    }
    let (seed, first) = draw(context, year)?;
    let txn = crate::db::begin_write(db).await?;
    let new =
        NewLot { body_code: code, year, seed, first_iso2: &first, drawn_at: Utc::now(), drawn_by: AUTOMATIC_DRAWER };
    let (lot, inserted) = store::seating::insert_lot_if_absent(&txn, &new).await?;
    if inserted {
        store::audit::record(
            &txn,
            AuditEntry::<(), _> {
                actor: AUTOMATIC_DRAWER,
                action: "seating_lot.draw",
                subject_type: "seating_lot",
                subject_id: format!("{code}/{year}"),
                before: None,
                after: Some(&lot_out(lot.clone(), context)),
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(lot)
}

fn lot_out(lot: seating_lots::Model, context: &Context) -> LotOut {
    let drawn_name = context
        .states
        .states
        .iter()
        .find(|state| state.iso2 == lot.first_iso2)
        .map_or_else(|| lot.first_iso2.clone(), |state| state.name_en.clone());
    LotOut {
        body: lot.body_code,
        year: lot.year,
        drawn: lot.first_iso2,
        drawn_name,
        seed: lot.seed,
        drawn_at: lot.drawn_at,
        drawn_by: lot.drawn_by,
    }
}

fn known_body(code: &str) -> ServiceResult<&'static Body> {
    body(&code.to_uppercase())
        .ok_or_else(|| Error::NotFound(format!("there is no body {code:?}; known bodies are {}", body_codes())))
}

/// Draws the lot of body `code` for `year` again, audited (the API and the organisers' pages).
///
/// # Errors
/// [`Error::NotFound`] for an unknown body; [`Error::Invalid`] for a year out of range.
pub async fn redraw(state: &AppState, principal: &Principal, code: &str, year: i32) -> ServiceResult<LotOut> {
    let body = known_body(code)?;
    if !(1975..=2100).contains(&year) {
        return Err(Error::invalid("year", Rule::Range, format!("must be between 1975 and 2100, got {year}")));
    }
    let context = Context::load(&state.db).await?;
    let (seed, first) = draw(&context, year)?;
    let code = body.code.as_str();
    let txn = crate::db::begin_write(&state.db).await?;
    let before = store::seating::lot(&txn, code, year).await?.map(|lot| lot_out(lot, &context));
    let new =
        NewLot { body_code: code, year, seed, first_iso2: &first, drawn_at: Utc::now(), drawn_by: &principal.actor };
    let after = lot_out(store::seating::replace_lot(&txn, &new).await?, &context);
    store::audit::record(
        &txn,
        AuditEntry {
            actor: &principal.actor,
            action: "seating_lot.redraw",
            subject_type: "seating_lot",
            subject_id: format!("{code}/{year}"),
            before: before.as_ref(),
            after: Some(&after),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// `body`'s seating rules, with the stored row when organisers set them.
async fn rules_for(
    db: &impl ConnectionTrait,
    body: &Body,
) -> ServiceResult<(SeatingRules, Option<crate::db::entities::seating_rules::Model>)> {
    match store::seating::rules(db, body.code.as_str()).await? {
        Some(row) => {
            let rules = serde_json::from_str(&row.rules).map_err(|error| {
                Error::Internal(anyhow::anyhow!(
                    "the stored seating rules of {} are unreadable: {error}",
                    row.body_code
                ))
            })?;
            Ok((rules, Some(row)))
        }
        None => Ok((SeatingRules::defaults_for(body), None)),
    }
}

fn rules_out(
    body: &Body,
    rules: SeatingRules,
    row: Option<crate::db::entities::seating_rules::Model>,
) -> SeatingRulesOut {
    SeatingRulesOut {
        body: body.code.as_str().to_owned(),
        rules,
        is_default: row.is_none(),
        updated_at: row.as_ref().map(|row| row.updated_at),
        updated_by: row.map(|row| row.updated_by),
        known_officials: OFFICIALS.to_vec(),
    }
}

/// `code`'s seating rules: the organisers' if set, otherwise Plenary's defaults.
///
/// # Errors
/// [`Error::NotFound`] for an unknown body.
pub async fn rules_of(db: &impl ConnectionTrait, code: &str) -> ServiceResult<SeatingRulesOut> {
    let body = known_body(code)?;
    let (rules, row) = rules_for(db, body).await?;
    Ok(rules_out(body, rules, row))
}

/// Seating rules as an organiser sends them.
#[derive(Debug, Clone)]
pub struct NewRules {
    pub partners_at_main_table: bool,
    pub officials: Vec<String>,
    pub seats_behind: u32,
}

/// Replaces body `code`'s seating rules; audited with the rules before and after.
///
/// # Errors
/// [`Error::NotFound`] for an unknown body; [`Error::Invalid`] naming the first value that is
/// not acceptable.
pub async fn save_rules(
    db: &DatabaseConnection,
    principal: &Principal,
    code: &str,
    input: NewRules,
) -> ServiceResult<SeatingRulesOut> {
    let body = known_body(code)?;
    let rules =
        SeatingRules::checked(input.partners_at_main_table, &input.officials, input.seats_behind).map_err(|error| {
            let rule = match error {
                RulesError::UnknownOfficial { .. } => Rule::Unknown,
                RulesError::OfficialTwice { .. } => Rule::Mismatch,
                RulesError::TooManyBehind { .. } => Rule::Range,
            };
            Error::invalid(error.field(), rule, error.to_string())
        })?;
    let txn = crate::db::begin_write(db).await?;
    let (before, _) = rules_for(&txn, body).await?;
    let json = serde_json::to_string(&rules).map_err(anyhow::Error::from)?;
    store::seating::save_rules(&txn, body.code.as_str(), json, Utc::now(), &principal.actor).await?;
    store::audit::record(
        &txn,
        AuditEntry {
            actor: &principal.actor,
            action: "seating_rules.update",
            subject_type: "body",
            subject_id: body.code.as_str().to_owned(),
            before: Some(&before),
            after: Some(&rules),
        },
    )
    .await?;
    txn.commit().await?;
    let (rules, row) = rules_for(db, body).await?;
    Ok(rules_out(body, rules, row))
}
