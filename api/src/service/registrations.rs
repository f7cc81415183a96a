//! Attendance: delegations (or organisers for them) register named attendees for a meeting,
//! change their function or seat until the deadline, and withdraw them; organisers set a
//! meeting's quota, deadline and capacity, and read the attendance list (also as CSV).
//!
//! The rules are [`scheduler::attendance`]'s; [`store::attendance`] applies them under the
//! meeting's lock, so concurrent requests on any number of replicas never exceed a capacity or
//! a quota and the waiting list keeps the order of arrival. Every change is audited; the
//! attendee is told by mail ([`crate::mail::registration`]) in the same transaction.

use std::{
    collections::{HashMap, hash_map::Entry},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use scheduler::{
    attendance::{self, Caller, Current, MeetingRules, Seat, SeatTally, Settings},
    bodies::Body,
    eligibility::Adjustments,
    localtime::resolve_local,
    states::Delegation,
    text::Csv,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use tokio::sync::oneshot;

use super::{Error, Rule, ServiceResult};
use crate::{
    app::AppState,
    auth::Principal,
    db::enums::MeetingStatus,
    db::{
        entities::{meetings, registrations},
        enums::{Language, RegistrationStatus},
    },
    mail::{
        registration::{MeetingForMail, attendee_message},
        templates::AttendeeKind,
    },
    store::{
        self,
        attendance::{AttendanceError, Created, NewRow, retrying},
        meetings::Context,
    },
    validate::{self, TextKind},
};

/// A named attendee to register, as the caller typed it.
#[derive(Debug, Clone)]
pub struct NewRegistration {
    /// ISO code of the delegation; a delegation may only name its own.
    pub state: String,
    pub name: String,
    /// May be blank.
    pub function: String,
    pub email: String,
    pub seat: Seat,
    /// The language of mail to the attendee; English when absent.
    pub language: Option<String>,
    /// Organisers only: exceed the quota and the deadline on purpose; recorded.
    pub override_limits: bool,
}

/// A change of function or seat; absent fields stay as they are.
#[derive(Debug, Clone)]
pub struct RegistrationChange {
    pub function: Option<String>,
    pub seat: Option<Seat>,
    /// Organisers only: change after the deadline or past the quota; recorded.
    pub override_limits: bool,
}

/// A registration and, while it waits, its 1-based place in the waiting list.
#[derive(Debug, Clone)]
pub struct Registration {
    pub row: registrations::Model,
    pub position: Option<u32>,
}

/// A withdrawal, and who moved up from the waiting list because of it.
#[derive(Debug, Clone)]
pub struct Withdrawal {
    pub registration: registrations::Model,
    pub promoted: Vec<registrations::Model>,
}

/// The limits in force for a meeting.
#[derive(Debug, Clone)]
pub struct Limits {
    pub seats_behind_quota: u32,
    /// On the clock of the meeting's place.
    pub deadline: DateTime<Tz>,
    /// `None`: unlimited.
    pub capacity: Option<u32>,
    pub room_capacity: Option<u32>,
}

/// A meeting's attendance settings as an organiser sent them; `None` keeps the default.
#[derive(Debug, Clone)]
pub struct NewSettings {
    pub seats_behind_quota: Option<u32>,
    /// A local date-time in the meeting's zone (`2027-06-13T18:00:00`).
    pub deadline: Option<String>,
    pub capacity: Option<u32>,
}

/// The settings now set, the limits they give, and who moved up because of them.
#[derive(Debug, Clone)]
pub struct SettingsChange {
    pub meeting_id: i32,
    pub seats_behind_quota: Option<u32>,
    pub deadline: Option<DateTime<Tz>>,
    pub capacity: Option<u32>,
    pub effective: Limits,
    pub promoted: Vec<registrations::Model>,
}

/// A meeting's attendance list as the caller may see it.
#[derive(Debug, Clone)]
pub struct Attendance {
    pub meeting_id: i32,
    pub limits: Limits,
    pub deadline_passed: bool,
    /// Every confirmed and waiting registration of the meeting.
    pub seats: SeatTally,
    /// Per delegation with registrations (for a delegation, its own only), by ISO code.
    pub delegations: Vec<DelegationAttendance>,
    /// Confirmed and waiting registrations, in order of arrival.
    pub registrations: Vec<Registration>,
}

/// One delegation's line of the attendance list.
#[derive(Debug, Clone)]
pub struct DelegationAttendance {
    pub iso2: String,
    pub name_en: String,
    pub seats: SeatTally,
    /// Seats behind still free within the quota.
    pub quota_left: u32,
}

/// What a delegation's pages show of one meeting: its registrations and what is left.
#[derive(Debug, Clone)]
pub struct DelegationRegistrations {
    /// Confirmed and waiting, in order of arrival.
    pub registrations: Vec<Registration>,
    pub limits: Limits,
    /// Seats behind still free within the quota.
    pub quota_left: u32,
    pub deadline_passed: bool,
    /// Every delegation's confirmed and waiting registrations, to show against the capacity.
    pub seats: SeatTally,
    /// Why the delegation may register nobody at all (the meeting is cancelled, or does not
    /// invite it), in the rules' words.
    pub closed: Option<attendance::Refusal>,
}

// ---------------------------------------------------------------------------------------------
// The meeting as the rules see it

/// What the rules need of a meeting besides its settings row.
pub(super) struct Facts {
    pub(super) meeting: meetings::Model,
    body: &'static Body,
    zone: Tz,
    in_vienna: bool,
    room_capacity: Option<u32>,
    adjustments: Adjustments,
}

impl Facts {
    pub(super) async fn load(db: &impl ConnectionTrait, meeting: meetings::Model) -> ServiceResult<Self> {
        let body = store::meetings::body_of(&meeting)
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("meeting {} has an unknown body", meeting.id)))?;
        let zone = meeting.zone();
        let room = match meeting.room_code.as_deref() {
            Some(code) => store::reference::room(db, code).await?,
            None => None,
        };
        let in_vienna = attendance::held_in_vienna(&meeting.time_zone, room.is_some(), meeting.city.as_deref());
        let adjustments = store::invitations::adjustments(db, meeting.id).await?;
        Ok(Self {
            room_capacity: room.and_then(|room| u32::try_from(room.capacity).ok()),
            meeting,
            body,
            zone,
            in_vienna,
            adjustments,
        })
    }

    pub(super) fn rules(&self, settings: Settings) -> MeetingRules<'_> {
        MeetingRules {
            body: self.body,
            start: DateTime::from_timestamp(self.meeting.starts_at, 0).unwrap_or_default(),
            zone: self.zone,
            in_vienna: self.in_vienna,
            room_capacity: self.room_capacity,
            cancelled: self.meeting.status == MeetingStatus::Cancelled,
            settings,
            adjustments: &self.adjustments,
        }
    }

    /// The meeting as the mail to attendees describes it, with links under `base`.
    pub(super) fn for_mail<'a>(&'a self, context: &'a Context, base: &'a str) -> MeetingForMail<'a> {
        MeetingForMail { meeting: &self.meeting, context, base }
    }

    fn limits(&self, settings: Settings) -> Limits {
        let rules = self.rules(settings);
        Limits {
            seats_behind_quota: rules.quota(),
            deadline: rules.local_deadline(),
            capacity: rules.capacity(),
            room_capacity: self.room_capacity,
        }
    }
}

/// Meeting `id` and what the rules need of it.
async fn facts_of(db: &DatabaseConnection, id: i32) -> ServiceResult<Facts> {
    Facts::load(db, super::meetings::load(db, id).await?).await
}

fn caller(principal: &Principal, override_limits: bool) -> ServiceResult<Caller> {
    if principal.is_organiser() {
        Ok(Caller::Organiser { override_limits })
    } else if override_limits {
        Err(Error::Forbidden("only organisers may exceed the quota or the deadline (\"override\")".into()))
    } else {
        Ok(Caller::Delegation)
    }
}

/// An attendee's function; it may be left blank.
fn clean_function(text: &str) -> ServiceResult<String> {
    Ok(validate::optional("function", TextKind::Function, Some(text))?.unwrap_or_default())
}

fn visible_to(principal: &Principal, row: &registrations::Model) -> bool {
    principal.is_organiser() || principal.state.as_deref() == Some(row.iso2.as_str())
}

/// The rules' view of `rows`, withdrawn ones left out.
fn currents(rows: &[registrations::Model]) -> Vec<Current> {
    rows.iter().filter(|row| row.status != RegistrationStatus::Withdrawn).map(store::attendance::current).collect()
}

/// `rows` with their places in the waiting list.
fn with_positions(rows: Vec<registrations::Model>) -> Vec<Registration> {
    let positions = attendance::waiting_positions(&currents(&rows));
    rows.into_iter()
        .map(|row| {
            let position = positions.iter().find(|(id, _)| *id == row.id).map(|(_, position)| *position);
            Registration { row, position }
        })
        .collect()
}

/// A registration the caller may act on, or [`Error::NotFound`] (also for another delegation's,
/// so ids do not reveal who registered).
async fn load_registration(
    db: &DatabaseConnection,
    principal: &Principal,
    id: i64,
) -> ServiceResult<registrations::Model> {
    store::attendance::find(db, id)
        .await?
        .filter(|row| visible_to(principal, row))
        .ok_or_else(|| Error::NotFound(format!("there is no registration {id}")))
}

// ---------------------------------------------------------------------------------------------
// Registering

/// Registers an attendee for meeting `id` under the rules; past the capacity it goes onto the
/// waiting list (with its position). The attendee is told by mail which of the two.
///
/// The request is checked and authorised here, then queued with the others waiting for the
/// same meeting in this process: [`RegistrationQueue`] decides them together, in the order
/// they came, in one transaction under the meeting's lock, and each gets its own answer.
///
/// # Errors
/// [`Error::Forbidden`] for another delegation (or a delegation overriding), [`Error::Invalid`]
/// naming the field, [`Error::NotFound`] for an unknown meeting, [`Error::Refused`] with the
/// rule's reason, [`Error::Conflict`] when the attendee is already registered,
/// [`Error::TryAgain`] when too many registrations for the meeting wait already (see
/// [`RegistrationQueue`]).
pub async fn register(
    state: &AppState,
    principal: &Principal,
    id: i32,
    input: NewRegistration,
) -> ServiceResult<Registration> {
    let iso2 = input.state.trim().to_uppercase();
    super::require_acting_for(principal, &iso2)?;
    let caller = caller(principal, input.override_limits)?;
    let name = validate::required("name", TextKind::PersonName, &input.name)?;
    let function = clean_function(&input.function)?;
    let email = validate::email("email", &input.email)?;
    let language = validate::language("language", input.language.as_deref().unwrap_or("en"))?;
    let new = Attendee { iso2, name, function, email, seat: input.seat, language };
    state.registrations.submit(state, id, principal.actor.clone(), caller, new).await
}

/// A new attendee, checked.
struct Attendee {
    iso2: String,
    name: String,
    function: String,
    email: String,
    seat: Seat,
    language: Language,
}

/// A registration waiting to be decided, and where its answer goes.
struct Pending {
    actor: String,
    caller: Caller,
    new: Attendee,
    answer: oneshot::Sender<ServiceResult<Registration>>,
}

/// At most this many registrations are decided in one transaction, so one batch's statements
/// stay well within both databases' limits on parameters.
const MOST_AT_ONCE: usize = 100;

/// At most this many registrations wait for one meeting in this process; the next is answered
/// at once with [`Error::TryAgain`]. Ten batches' worth: the largest burst we expect, every
/// delegation (68 States and partners) sending a team of ten the moment registration opens,
/// still queues whole, while a flood beyond it (a misbehaving client, a database too slow to
/// keep up) is told to come back instead of growing the line, and the memory it holds, without
/// end; the last in line waits about ten transactions.
const MOST_WAITING: usize = 10 * MOST_AT_ONCE;

/// The registrations that wait, per meeting, for this process to decide them.
///
/// Decisions on one meeting wait for each other anyway (its lock, held until the commit); here
/// the requests that queued up meanwhile are decided in the next transaction together: one
/// lock, one read, one insert each of registrations, audit entries and mail, one commit for all
/// of them, instead of all of that for each. Every request is still decided on its own under
/// the rules, in the order it came, seeing the ones decided before it in the same transaction;
/// a refusal refuses only its own request.
///
/// A meeting has an entry while someone decides for it; the first request to find none starts
/// [`decide_queued`], which takes what waits until nothing does. Other replicas queue their
/// own and meet this one at the meeting's lock.
///
/// What a request may be answered besides its decision:
/// - [`Error::TryAgain`] at once when [`MOST_WAITING`] requests already wait for the meeting;
/// - [`Error::TryAgain`] when the task deciding it ends without answering: a panic while
///   deciding (that meeting's requests in the batch and queued behind it; other meetings have
///   their own tasks and go on), or the runtime dropping the task (its requesters then go with
///   it). A graceful drain never drops a request in flight: its handler awaits the answer, so
///   the drain ([`crate::shutdown`]) waits for it while the task deciding it runs on.
///
/// A request whose client leaves (a closed connection, the request timeout) before its batch
/// starts is dropped from the queue when the next batch is taken, and never decided: nothing is
/// stored, as if it had never been sent. One that leaves during its batch is decided all the
/// same; only the answer is lost.
#[derive(Clone, Default)]
pub struct RegistrationQueue(Arc<Mutex<HashMap<i32, Vec<Pending>>>>);

/// Where a request pushed onto a meeting's queue stands.
#[derive(Debug, PartialEq, Eq)]
enum Queued {
    /// Nobody decides for the meeting yet: the caller must start [`decide_queued`].
    First,
    /// Behind others; the task deciding for the meeting will take it.
    Behind,
    /// Not queued: [`MOST_WAITING`] requests wait already.
    Full,
}

impl RegistrationQueue {
    fn waiting(&self) -> MutexGuard<'_, HashMap<i32, Vec<Pending>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a checked request for meeting `id` and waits for its answer, starting the task
    /// that decides with `decider` if none runs for the meeting.
    async fn submit<D: Decide>(
        &self,
        decider: &D,
        id: i32,
        actor: String,
        caller: Caller,
        new: Attendee,
    ) -> ServiceResult<Registration> {
        let (answer, answered) = oneshot::channel();
        match self.push(id, Pending { actor, caller, new, answer }) {
            Queued::First => {
                tokio::spawn(decide_queued(self.clone(), decider.clone(), id));
            }
            Queued::Behind => {}
            Queued::Full => {
                return Err(Error::TryAgain(
                    "too many registrations for this meeting are waiting; try again in a moment".into(),
                ));
            }
        }
        answer_of(answered).await
    }

    /// Queues `pending` for meeting `id`, unless [`MOST_WAITING`] requests whose requester is
    /// still there wait already.
    fn push(&self, id: i32, pending: Pending) -> Queued {
        match self.waiting().entry(id) {
            Entry::Occupied(mut queued) => {
                let queued = queued.get_mut();
                if queued.len() >= MOST_WAITING {
                    queued.retain(|pending| !pending.answer.is_closed());
                }
                if queued.len() >= MOST_WAITING {
                    return Queued::Full;
                }
                queued.push(pending);
                Queued::Behind
            }
            Entry::Vacant(vacant) => {
                vacant.insert(vec![pending]);
                Queued::First
            }
        }
    }

    /// The next registrations to decide for meeting `id`, oldest first, leaving out those
    /// whose requester has gone; none (and the meeting's entry removed, so the next request
    /// starts a new [`decide_queued`]) when nothing waits.
    fn take(&self, id: i32) -> Vec<Pending> {
        let mut waiting = self.waiting();
        let Some(queued) = waiting.get_mut(&id) else { return Vec::new() };
        queued.retain(|pending| !pending.answer.is_closed());
        if queued.is_empty() {
            waiting.remove(&id);
            return Vec::new();
        }
        queued.drain(..queued.len().min(MOST_AT_ONCE)).collect()
    }
}

/// The answer sent through `answered`; [`Error::TryAgain`] when the task deciding the request
/// ended without sending one (its sender dropped): whether the request was stored is then
/// unknown, and trying again is safe, since a stored one is found "already registered".
async fn answer_of(answered: oneshot::Receiver<ServiceResult<Registration>>) -> ServiceResult<Registration> {
    answered.await.unwrap_or_else(|_| {
        Err(Error::TryAgain(
            "the registration could not be decided (the service failed or is stopping); try again in a moment".into(),
        ))
    })
}

/// Decides a batch of one meeting's registrations: [`decide_batch`] on the database, or a
/// stand-in in the unit tests of the queue.
trait Decide: Clone + Send + Sync + 'static {
    /// The answer to each of `batch`'s requests, in order.
    fn decide(&self, id: i32, batch: &[Pending]) -> impl Future<Output = Vec<ServiceResult<Registration>>> + Send;
}

impl Decide for AppState {
    fn decide(&self, id: i32, batch: &[Pending]) -> impl Future<Output = Vec<ServiceResult<Registration>>> + Send {
        decide_batch(self, id, batch)
    }
}

/// Removes a meeting's entry if [`decide_queued`] ends without emptying it (a panic, or the
/// runtime dropping the task): the requests still queued are answered [`Error::TryAgain`]
/// instead of waiting forever, and the next request starts a new [`decide_queued`].
struct Deciding {
    queue: RegistrationQueue,
    id: i32,
    done: bool,
}

impl Drop for Deciding {
    fn drop(&mut self) {
        if !self.done {
            let dropped = self.queue.waiting().remove(&self.id).map_or(0, |queued| queued.len());
            if std::thread::panicking() {
                tracing::error!(
                    meeting = self.id,
                    queued = dropped,
                    "deciding registrations panicked; the requests of its batch and those queued behind it are answered 503"
                );
            }
        }
    }
}

/// Decides meeting `id`'s queued registrations with `decider`, batch after batch, until none
/// wait.
async fn decide_queued<D: Decide>(queue: RegistrationQueue, decider: D, id: i32) {
    let mut deciding = Deciding { queue: queue.clone(), id, done: false };
    loop {
        let batch = queue.take(id);
        if batch.is_empty() {
            deciding.done = true;
            return;
        }
        let answers = decider.decide(id, &batch).await;
        for (pending, answer) in batch.into_iter().zip(answers) {
            // A requester that has gone meanwhile is told nothing; what was decided stands.
            let _ = pending.answer.send(answer);
        }
    }
}

/// The answer to each of `batch`'s requests, in order.
async fn decide_batch(state: &AppState, id: i32, batch: &[Pending]) -> Vec<ServiceResult<Registration>> {
    let db = &state.db;
    let loaded = async {
        let facts = facts_of(db, id).await?;
        let context = Context::load(db).await.map_err(Error::from)?;
        ServiceResult::Ok((facts, context))
    };
    let (facts, context) = match loaded.await {
        Ok(loaded) => loaded,
        Err(error) => return batch.iter().map(|_| Err(for_each(&error))).collect(),
    };
    let delegations = context.states.on(facts.rules(Settings::default()).local_date());
    let base = state.config.public_base();
    let meeting = facts.for_mail(&context, &base);
    match retrying(|| register_once(db, &facts, &meeting, &delegations, batch)).await {
        Ok(answers) => answers.into_iter().map(answer).collect(),
        // The database refused one of the batch's rows (a rule the database enforces too):
        // deciding each request on its own tells only that request. Not when the database is
        // out of reach: each request would wait its own timeout in turn, and all fail alike.
        Err(AttendanceError::Db(error)) if batch.len() > 1 && !crate::db::is_unavailable(&error) => {
            tracing::warn!(%error, meeting = id, "a batch of registrations failed; deciding them one by one");
            let mut answers = Vec::with_capacity(batch.len());
            for one in batch.chunks(1) {
                answers.push(match retrying(|| register_once(db, &facts, &meeting, &delegations, one)).await {
                    Ok(mut decided) => {
                        decided.pop().map_or_else(|| Err(Error::Internal(anyhow::anyhow!("no answer"))), answer)
                    }
                    Err(error) => Err(error.into()),
                });
            }
            answers
        }
        Err(error) if batch.len() == 1 => vec![Err(error.into())],
        Err(error) => {
            let error = Error::from(error);
            batch.iter().map(|_| Err(for_each(&error))).collect()
        }
    }
}

/// `error`, which stopped a whole batch, as the answer to each request in it.
fn for_each(error: &Error) -> Error {
    match error {
        Error::NotFound(message) => Error::NotFound(message.clone()),
        Error::Conflict { kind, message } => Error::Conflict { kind: kind.clone(), message: message.clone() },
        Error::Unavailable(cause) => Error::Unavailable(anyhow::anyhow!("{cause:#}")),
        other => Error::Internal(anyhow::anyhow!("deciding registrations failed: {other}")),
    }
}

fn answer(decided: Result<(registrations::Model, Option<u32>), attendance::Refusal>) -> ServiceResult<Registration> {
    crate::metrics::registration_decided(&decided);
    decided.map(|(row, position)| Registration { row, position }).map_err(Error::Refused)
}

/// Decides `batch` in order in one transaction under the meeting's lock: each request sees the
/// registrations stored before and those of the batch accepted before it. Stores the accepted
/// ones with their audit entries and mail; refusals change nothing.
async fn register_once(
    db: &DatabaseConnection,
    facts: &Facts,
    meeting: &MeetingForMail<'_>,
    delegations: &[Delegation],
    batch: &[Pending],
) -> Result<Vec<Result<(registrations::Model, Option<u32>), attendance::Refusal>>, AttendanceError> {
    let txn = crate::db::begin_write(db).await?;
    let arrivals = i64::try_from(batch.len()).unwrap_or(i64::MAX);
    let settings_row = store::attendance::reserve(&txn, facts.meeting.id, arrivals).await?;
    let rules = facts.rules(store::attendance::settings_of(Some(&settings_row)));
    let mut current = currents(&store::attendance::active(&txn, facts.meeting.id).await?);
    let now = Utc::now();
    let mut decisions = Vec::with_capacity(batch.len());
    for (pending, arrival) in batch.iter().zip(settings_row.last_arrival - arrivals + 1..) {
        let new = &pending.new;
        let request = attendance::Request { iso2: &new.iso2, email: &new.email, seat: new.seat };
        let decision = attendance::decide(&rules, pending.caller, now, delegations, &current, request);
        if let Ok(accepted) = &decision {
            // Not stored yet: it stands in under `-arrival` until the insert gives it an id.
            current.push(Current {
                id: -arrival,
                iso2: new.iso2.clone(),
                name: new.name.clone(),
                email: new.email.clone(),
                seat: new.seat,
                status: accepted.status,
                arrival,
            });
        }
        decisions.push(decision.map(|accepted| (arrival, accepted)));
    }
    let new_rows: Vec<NewRow<'_>> = batch
        .iter()
        .zip(&decisions)
        .filter_map(|(pending, decision)| {
            let (arrival, accepted) = decision.as_ref().ok()?;
            let new = &pending.new;
            Some(NewRow {
                meeting_id: facts.meeting.id,
                iso2: &new.iso2,
                name: &new.name,
                function: &new.function,
                email: &new.email,
                seat: new.seat,
                language: new.language,
                status: accepted.status,
                arrival: *arrival,
                overridden: !accepted.overridden.is_empty(),
                created_by: &pending.actor,
                now,
            })
        })
        .collect();
    if new_rows.is_empty() {
        txn.rollback().await?;
        // Every request was refused.
        return Ok(decisions.into_iter().filter_map(Result::err).map(Err).collect());
    }
    let stored = store::attendance::insert_all(&txn, &new_rows).await?;
    let stored_at = |arrival: i64| stored.iter().find(|row| row.arrival == arrival);
    let mut created = Vec::with_capacity(stored.len());
    let mut messages = Vec::with_capacity(stored.len());
    let mut answers = Vec::with_capacity(batch.len());
    for (pending, decision) in batch.iter().zip(decisions) {
        match decision {
            Ok((arrival, accepted)) => {
                let row = stored_at(arrival)
                    .ok_or_else(|| DbErr::RecordNotFound(format!("the registration with arrival {arrival}")))?;
                let kind = if accepted.position.is_some() { AttendeeKind::Waiting } else { AttendeeKind::Registered };
                messages.push(attendee_message(kind, row, meeting, accepted.position));
                created.push(Created { actor: &pending.actor, row, overrides: accepted.overridden });
                answers.push(Ok((row.clone(), accepted.position)));
            }
            // A duplicate of one accepted earlier in the batch names that one's new id.
            Err(attendance::Refusal::AlreadyRegistered { id, name, email }) if id < 0 => {
                let id = stored_at(-id).map_or(id, |row| row.id);
                answers.push(Err(attendance::Refusal::AlreadyRegistered { id, name, email }));
            }
            Err(refusal) => answers.push(Err(refusal)),
        }
    }
    store::attendance::record_created(&txn, created).await?;
    store::outbox::enqueue_all(&txn, messages).await?;
    txn.commit().await?;
    Ok(answers)
}

// ---------------------------------------------------------------------------------------------
// Reading

/// The registrations of meeting `id` the caller may see (a delegation its own, organisers all),
/// withdrawn ones too, in order of arrival, with waiting-list positions.
///
/// # Errors
/// [`Error::NotFound`] for an unknown meeting; [`Error::Internal`] when the database fails.
pub async fn registrations_of(
    db: &DatabaseConnection,
    principal: &Principal,
    id: i32,
) -> ServiceResult<Vec<Registration>> {
    super::meetings::load(db, id).await?;
    let rows = store::attendance::all(db, id).await?;
    Ok(with_positions(rows).into_iter().filter(|registration| visible_to(principal, &registration.row)).collect())
}

/// Delegation `iso2`'s confirmed and waiting registrations for meeting `id`, the limits in
/// force, the seats behind it has left and whether it may register anyone at all (what a
/// delegation's pages show of a meeting).
///
/// # Errors
/// [`Error::Forbidden`] when a delegation asks about another; [`Error::NotFound`] for an
/// unknown meeting; [`Error::Internal`] when the database fails.
pub async fn of_delegation(
    db: &DatabaseConnection,
    principal: &Principal,
    id: i32,
    iso2: &str,
) -> ServiceResult<DelegationRegistrations> {
    super::require_acting_for(principal, iso2)?;
    let facts = facts_of(db, id).await?;
    let settings = store::attendance::settings_of(store::attendance::settings(db, id).await?.as_ref());
    let rows = store::attendance::active(db, id).await?;
    let rules = facts.rules(settings);
    let delegations = store::reference::states_and_memberships(db).await?.on(rules.local_date());
    let closed = attendance::open_to(&rules, &delegations, iso2).err();
    let deadline_passed = Utc::now() >= rules.deadline();
    let limits = facts.limits(settings);
    let currents = currents(&rows);
    let quota_left = SeatTally::of_delegation(&currents, iso2).quota_left(limits.seats_behind_quota);
    let registrations = with_positions(rows)
        .into_iter()
        .filter(|registration| registration.row.iso2 == iso2 && visible_to(principal, &registration.row))
        .collect();
    Ok(DelegationRegistrations {
        registrations,
        limits,
        quota_left,
        deadline_passed,
        seats: SeatTally::of(&currents),
        closed,
    })
}

/// Meeting `id`'s attendance list: the limits in force, counts per seat kind and delegation,
/// and the confirmed and waiting registrations (organisers see every delegation; a delegation
/// its own, with its quota left and places in line).
///
/// # Errors
/// [`Error::NotFound`] for an unknown meeting; [`Error::Internal`] when the database fails.
pub async fn attendance_list(db: &DatabaseConnection, principal: &Principal, id: i32) -> ServiceResult<Attendance> {
    let facts = facts_of(db, id).await?;
    let settings = store::attendance::settings_of(store::attendance::settings(db, id).await?.as_ref());
    let rows = store::attendance::active(db, id).await?;
    let names = store::reference::states_and_memberships(db).await?;
    let limits = facts.limits(settings);
    let currents = currents(&rows);
    let mut delegations: Vec<DelegationAttendance> = Vec::new();
    for row in rows.iter().filter(|row| visible_to(principal, row)) {
        if delegations.iter().any(|delegation| delegation.iso2 == row.iso2) {
            continue;
        }
        let seats = SeatTally::of_delegation(&currents, &row.iso2);
        delegations.push(DelegationAttendance {
            iso2: row.iso2.clone(),
            name_en: names
                .states
                .iter()
                .find(|state| state.iso2 == row.iso2)
                .map_or_else(|| row.iso2.clone(), |state| state.name_en.clone()),
            quota_left: seats.quota_left(limits.seats_behind_quota),
            seats,
        });
    }
    delegations.sort_by(|a, b| a.iso2.cmp(&b.iso2));
    Ok(Attendance {
        meeting_id: id,
        deadline_passed: Utc::now() >= facts.rules(settings).deadline(),
        limits,
        seats: SeatTally::of(&currents),
        delegations,
        registrations: with_positions(rows)
            .into_iter()
            .filter(|registration| visible_to(principal, &registration.row))
            .collect(),
    })
}

/// Meeting `id`'s attendance list as CSV: one line per confirmed or waiting registration the
/// caller may see, in order of arrival, every cell defused by [`Csv`].
///
/// # Errors
/// As [`attendance_list`].
pub async fn attendance_csv(db: &DatabaseConnection, principal: &Principal, id: i32) -> ServiceResult<String> {
    let list = attendance_list(db, principal, id).await?;
    let mut csv = Csv::with_header(&[
        "id",
        "state",
        "name",
        "function",
        "email",
        "seat",
        "language",
        "status",
        "position",
        "arrival",
        "overridden",
    ]);
    for Registration { row, position } in list.registrations {
        csv.row([
            row.id.to_string(),
            row.iso2,
            row.name,
            row.function,
            row.email,
            row.seat.to_string(),
            row.language.to_string(),
            row.status.to_string(),
            position.map(|position| position.to_string()).unwrap_or_default(),
            row.arrival.to_string(),
            row.overridden.to_string(),
        ]);
    }
    Ok(csv.finish())
}

// ---------------------------------------------------------------------------------------------
// Changing and withdrawing

/// Changes registration `id`'s function or seat, until the deadline (organisers later when they
/// override).
///
/// # Errors
/// [`Error::Forbidden`] for a delegation overriding, [`Error::Invalid`] for the function,
/// [`Error::NotFound`] for a registration the caller may not see, [`Error::Conflict`] for a
/// withdrawn one, [`Error::Refused`] with the rule's reason.
pub async fn change(
    db: &DatabaseConnection,
    principal: &Principal,
    id: i64,
    input: RegistrationChange,
) -> ServiceResult<Registration> {
    let caller = caller(principal, input.override_limits)?;
    let function = input.function.as_deref().map(clean_function).transpose()?;
    let existing = load_registration(db, principal, id).await?;
    let facts = facts_of(db, existing.meeting_id).await?;
    let change = Change { id, function, seat: input.seat };
    let row = retrying(|| change_once(db, &facts, principal, caller, &change)).await?;
    let rows = store::attendance::active(db, row.meeting_id).await?;
    let position = attendance::waiting_positions(&currents(&rows))
        .into_iter()
        .find(|(other, _)| *other == row.id)
        .map(|(_, position)| position);
    Ok(Registration { row, position })
}

struct Change {
    id: i64,
    function: Option<String>,
    seat: Option<Seat>,
}

async fn change_once(
    db: &DatabaseConnection,
    facts: &Facts,
    principal: &Principal,
    caller: Caller,
    change: &Change,
) -> Result<registrations::Model, AttendanceError> {
    let txn = crate::db::begin_write(db).await?;
    let settings_row = store::attendance::lock(&txn, facts.meeting.id).await?;
    let before = store::attendance::find(&txn, change.id)
        .await?
        .ok_or_else(|| AttendanceError::NotFound(format!("there is no registration {}", change.id)))?;
    if before.status == RegistrationStatus::Withdrawn {
        return Err(AttendanceError::Conflict(format!("registration {} has been withdrawn", change.id)));
    }
    let rules = facts.rules(store::attendance::settings_of(Some(&settings_row)));
    let rows = store::attendance::active(&txn, facts.meeting.id).await?;
    let seat = change.seat.unwrap_or_else(|| store::attendance::current(&before).seat);
    let overridden = attendance::decide_change(&rules, caller, Utc::now(), &currents(&rows), change.id, seat)?;
    let after = registrations::Model {
        function: change.function.clone().unwrap_or_else(|| before.function.clone()),
        seat: seat.into(),
        overridden: before.overridden || !overridden.is_empty(),
        updated_at: Utc::now(),
        ..before.clone()
    };
    if after.function == before.function && after.seat == before.seat {
        return Ok(before);
    }
    store::attendance::update(&txn, &after).await?;
    store::attendance::record(&txn, &principal.actor, "registration.update", Some(&before), &after, overridden).await?;
    txn.commit().await?;
    Ok(after)
}

/// Withdraws registration `id`; the first in the waiting list moves up into a freed seat. The
/// attendee withdrawn and those moved up are told by mail.
///
/// # Errors
/// [`Error::NotFound`] for a registration the caller may not see; [`Error::Conflict`] for one
/// already withdrawn; [`Error::Internal`] when the database fails.
pub async fn withdraw(state: &AppState, principal: &Principal, id: i64) -> ServiceResult<Withdrawal> {
    let db = &state.db;
    let existing = load_registration(db, principal, id).await?;
    let facts = facts_of(db, existing.meeting_id).await?;
    let context = Context::load(db).await?;
    let base = state.config.public_base();
    let meeting = facts.for_mail(&context, &base);
    let (registration, promoted) = retrying(|| withdraw_once(db, &facts, &meeting, principal, id)).await?;
    Ok(Withdrawal { registration, promoted })
}

async fn withdraw_once(
    db: &DatabaseConnection,
    facts: &Facts,
    meeting: &MeetingForMail<'_>,
    principal: &Principal,
    id: i64,
) -> Result<(registrations::Model, Vec<registrations::Model>), AttendanceError> {
    let txn = crate::db::begin_write(db).await?;
    let settings_row = store::attendance::lock(&txn, facts.meeting.id).await?;
    let before = store::attendance::find(&txn, id)
        .await?
        .ok_or_else(|| AttendanceError::NotFound(format!("there is no registration {id}")))?;
    if before.status == RegistrationStatus::Withdrawn {
        return Err(AttendanceError::Conflict(format!("registration {id} is already withdrawn")));
    }
    let now = Utc::now();
    store::attendance::withdraw(&txn, id, now).await?;
    let after = registrations::Model { status: RegistrationStatus::Withdrawn, updated_at: now, ..before.clone() };
    store::attendance::record(&txn, &principal.actor, "registration.withdraw", Some(&before), &after, Vec::new())
        .await?;
    store::outbox::enqueue(&txn, attendee_message(AttendeeKind::Withdrawn, &after, meeting, None)).await?;
    let rules = facts.rules(store::attendance::settings_of(Some(&settings_row)));
    let rows = store::attendance::active(&txn, facts.meeting.id).await?;
    let promoted = store::attendance::promote(&txn, &principal.actor, rules.capacity(), &rows, now, |row| {
        attendee_message(AttendeeKind::Promoted, row, meeting, None)
    })
    .await?;
    txn.commit().await?;
    Ok((after, promoted))
}

// ---------------------------------------------------------------------------------------------
// Settings

/// Sets meeting `id`'s quota of seats behind, deadline and capacity (organisers; the caller
/// checks the role); `None` restores the default. A larger capacity moves people up from the
/// waiting list at once.
///
/// # Errors
/// [`Error::NotFound`] for an unknown meeting; [`Error::Invalid`] for a deadline that is not a
/// local date-time in the meeting's zone, or a quota or capacity out of range.
pub async fn set_settings(
    state: &AppState,
    principal: &Principal,
    id: i32,
    input: NewSettings,
) -> ServiceResult<SettingsChange> {
    super::require_organiser(principal, "set a meeting's quota, deadline and capacity")?;
    let db = &state.db;
    let facts = facts_of(db, id).await?;
    let deadline = input.deadline.as_deref().map(|text| local_deadline(text, facts.zone)).transpose()?;
    let wanted = Settings { seats_behind_quota: input.seats_behind_quota, deadline, capacity: input.capacity };
    if wanted.seats_behind_quota.is_some_and(|quota| quota > 100) {
        return Err(Error::invalid("seats_behind_quota", Rule::Range, "must be at most 100"));
    }
    if wanted.capacity.is_some_and(|capacity| capacity > 100_000) {
        return Err(Error::invalid("capacity", Rule::Range, "must be at most 100000"));
    }
    let context = Context::load(db).await?;
    let base = state.config.public_base();
    let meeting = facts.for_mail(&context, &base);
    let promoted = retrying(|| settings_once(db, &facts, &meeting, principal, wanted)).await?;
    Ok(SettingsChange {
        meeting_id: id,
        seats_behind_quota: wanted.seats_behind_quota,
        deadline: wanted.deadline.map(|deadline| deadline.with_timezone(&facts.zone)),
        capacity: wanted.capacity,
        effective: facts.limits(wanted),
        promoted,
    })
}

/// A meeting's attendance settings as an organiser set them (`None`: the default) and the
/// limits in force, for the form that changes them.
#[derive(Debug, Clone)]
pub struct CurrentSettings {
    pub seats_behind_quota: Option<u32>,
    pub deadline: Option<DateTime<Tz>>,
    pub capacity: Option<u32>,
    pub effective: Limits,
}

/// Meeting `id`'s attendance settings and the limits they give.
///
/// # Errors
/// [`Error::NotFound`] for an unknown meeting.
pub async fn settings(db: &DatabaseConnection, id: i32) -> ServiceResult<CurrentSettings> {
    let facts = facts_of(db, id).await?;
    let set = store::attendance::settings_of(store::attendance::settings(db, id).await?.as_ref());
    Ok(CurrentSettings {
        seats_behind_quota: set.seats_behind_quota,
        deadline: set.deadline.map(|deadline| deadline.with_timezone(&facts.zone)),
        capacity: set.capacity,
        effective: facts.limits(set),
    })
}

/// A deadline typed as a local date-time (seconds optional) on the clock of `zone`.
fn local_deadline(text: &str, zone: Tz) -> ServiceResult<DateTime<Utc>> {
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
        .map_err(|_| {
            Error::invalid(
                "deadline",
                Rule::Format,
                format!("expected a local date-time without offset such as 2027-06-13T18:00:00, got {text:?}"),
            )
        })?;
    let at =
        resolve_local(local, zone).map_err(|error| Error::invalid("deadline", Rule::Mismatch, error.to_string()))?;
    Ok(at.with_timezone(&Utc))
}

async fn settings_once(
    db: &DatabaseConnection,
    facts: &Facts,
    meeting: &MeetingForMail<'_>,
    principal: &Principal,
    wanted: Settings,
) -> Result<Vec<registrations::Model>, AttendanceError> {
    let txn = crate::db::begin_write(db).await?;
    let before = store::attendance::lock(&txn, facts.meeting.id).await?;
    let now = Utc::now();
    store::attendance::save_settings(&txn, &principal.actor, &before, wanted, now).await?;
    let rows = store::attendance::active(&txn, facts.meeting.id).await?;
    let capacity = facts.rules(wanted).capacity();
    let promoted = store::attendance::promote(&txn, &principal.actor, capacity, &rows, now, |row| {
        attendee_message(AttendeeKind::Promoted, row, meeting, None)
    })
    .await?;
    txn.commit().await?;
    Ok(promoted)
}

#[cfg(test)]
mod tests {
    use futures::FutureExt as _;
    use tokio::sync::{Notify, mpsc};

    use super::*;
    use crate::service::ConflictKind;

    /// Stands in for the database in [`decide_queued`]: reports each batch's names, waits for
    /// `release` when one of them starts with "waits", panics when one says "panics", and
    /// answers each request with its name (as [`Error::NotFound`], to tell it apart).
    #[derive(Clone)]
    struct StandIn {
        batches: mpsc::UnboundedSender<(i32, Vec<String>)>,
        release: Arc<Notify>,
    }

    impl StandIn {
        fn new() -> (Self, mpsc::UnboundedReceiver<(i32, Vec<String>)>) {
            let (batches, reported) = mpsc::unbounded_channel();
            (Self { batches, release: Arc::new(Notify::new()) }, reported)
        }
    }

    impl Decide for StandIn {
        fn decide(&self, id: i32, batch: &[Pending]) -> impl Future<Output = Vec<ServiceResult<Registration>>> + Send {
            let names: Vec<String> = batch.iter().map(|pending| pending.new.name.clone()).collect();
            let (batches, release) = (self.batches.clone(), Arc::clone(&self.release));
            async move {
                let _ = batches.send((id, names.clone()));
                if names.iter().any(|name| name.starts_with("waits")) {
                    release.notified().await;
                }
                assert!(!names.iter().any(|name| name.contains("panics")), "a panic while deciding, on purpose");
                names.into_iter().map(|name| Err(Error::NotFound(name))).collect()
            }
        }
    }

    fn attendee(name: &str) -> Attendee {
        Attendee {
            iso2: "AT".into(),
            name: name.into(),
            function: String::new(),
            email: "someone@example.org".into(),
            seat: Seat::Behind,
            language: Language::En,
        }
    }

    fn pending(name: &str) -> (Pending, oneshot::Receiver<ServiceResult<Registration>>) {
        let (answer, answered) = oneshot::channel();
        (Pending { actor: "test".into(), caller: Caller::Delegation, new: attendee(name), answer }, answered)
    }

    /// The name of the request [`StandIn`] decided with `answer`.
    fn decided(answer: ServiceResult<Registration>) -> String {
        match answer {
            Err(Error::NotFound(name)) => name,
            other => panic!("not decided by the stand-in: {other:?}"),
        }
    }

    /// Asserts that `answered` has its answer already, and that it is [`Error::TryAgain`].
    fn assert_try_again(answered: oneshot::Receiver<ServiceResult<Registration>>) {
        let answer = answer_of(answered).now_or_never();
        assert!(matches!(answer, Some(Err(Error::TryAgain(_)))), "{answer:?}");
    }

    #[tokio::test]
    async fn past_its_bound_a_meetings_queue_answers_try_again_at_once_and_a_request_gone_makes_room() {
        let queue = RegistrationQueue::default();
        let mut answers = Vec::new();
        for n in 0..MOST_WAITING {
            let (request, answered) = pending(&format!("person {n}"));
            assert_eq!(queue.push(1, request), if n == 0 { Queued::First } else { Queued::Behind });
            answers.push(answered);
        }
        // Nobody decides for meeting 1 here, so its queue stays full; the answer comes at once.
        let (stand_in, _batches) = StandIn::new();
        let refused =
            queue.submit(&stand_in, 1, "test".into(), Caller::Delegation, attendee("one too many")).now_or_never();
        assert!(
            matches!(&refused, Some(Err(Error::TryAgain(message))) if message.contains("too many registrations for this meeting are waiting")),
            "{refused:?}"
        );
        assert_eq!(queue.waiting()[&1].len(), MOST_WAITING);
        let (elsewhere, _elsewhere_answered) = pending("elsewhere");
        assert_eq!(queue.push(2, elsewhere), Queued::First, "each meeting has its own bound");
        drop(answers.pop());
        let (in_its_place, _in_its_place_answered) = pending("in its place");
        assert_eq!(queue.push(1, in_its_place), Queued::Behind, "a requester gone makes room");
        assert_eq!(queue.push(1, pending("one too many again").0), Queued::Full);
    }

    #[tokio::test]
    async fn a_panic_while_deciding_answers_try_again_to_that_meetings_requests_and_spares_other_meetings() {
        let queue = RegistrationQueue::default();
        let (stand_in, mut batches) = StandIn::new();
        let submit = |id: i32, name: &str| {
            let (queue, stand_in, new) = (queue.clone(), stand_in.clone(), attendee(name));
            tokio::spawn(async move { queue.submit(&stand_in, id, "test".into(), Caller::Delegation, new).await })
        };
        let panicking = submit(1, "waits, then panics");
        assert_eq!(batches.recv().await, Some((1, vec!["waits, then panics".to_owned()])));
        let (behind, behind_answered) = pending("behind it");
        assert_eq!(queue.push(1, behind), Queued::Behind);
        let elsewhere = submit(2, "elsewhere");
        assert_eq!(batches.recv().await, Some((2, vec!["elsewhere".to_owned()])));
        stand_in.release.notify_one();
        let answer = panicking.await.unwrap();
        assert!(matches!(answer, Err(Error::TryAgain(_))), "{answer:?}");
        // The runtime runs one task at a time: the one that panicked has ended.
        assert!(!queue.waiting().contains_key(&1), "the meeting's entry went with the task");
        assert_try_again(behind_answered);
        assert_eq!(decided(elsewhere.await.unwrap()), "elsewhere");
        assert_eq!(decided(submit(1, "after it").await.unwrap()), "after it", "a new task decides for the meeting");
    }

    #[test]
    fn the_runtime_ending_mid_batch_answers_try_again_and_frees_the_meeting() {
        let queue = RegistrationQueue::default();
        let (stand_in, mut batches) = StandIn::new();
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
        let (first, first_answered) = pending("waits forever");
        assert_eq!(queue.push(1, first), Queued::First);
        runtime.spawn(decide_queued(queue.clone(), stand_in, 1));
        assert_eq!(batches.blocking_recv(), Some((1, vec!["waits forever".to_owned()])));
        let (behind, behind_answered) = pending("behind it");
        assert_eq!(queue.push(1, behind), Queued::Behind);
        drop(runtime);
        assert_try_again(first_answered);
        assert_try_again(behind_answered);
        let (after, _after_answered) = pending("after it");
        assert_eq!(queue.push(1, after), Queued::First);
    }

    #[tokio::test]
    async fn a_request_whose_client_left_before_its_batch_is_never_decided_and_leaves_nothing_queued() {
        let queue = RegistrationQueue::default();
        let (stand_in, mut batches) = StandIn::new();
        let (first, first_answered) = pending("waits");
        assert_eq!(queue.push(1, first), Queued::First);
        let deciding = tokio::spawn(decide_queued(queue.clone(), stand_in.clone(), 1));
        assert_eq!(batches.recv().await, Some((1, vec!["waits".to_owned()])));
        let (gone, gone_answered) = pending("gone");
        let (stays, stays_answered) = pending("stays");
        assert_eq!(queue.push(1, gone), Queued::Behind);
        assert_eq!(queue.push(1, stays), Queued::Behind);
        drop(gone_answered);
        stand_in.release.notify_one();
        assert_eq!(decided(answer_of(first_answered).await), "waits");
        assert_eq!(batches.recv().await, Some((1, vec!["stays".to_owned()])), "the one gone is left out");
        assert_eq!(decided(answer_of(stays_answered).await), "stays");
        deciding.await.unwrap();
        assert!(batches.try_recv().is_err(), "no batch after the last");
        assert!(queue.waiting().is_empty(), "nothing is left queued");
    }

    #[test]
    fn a_batch_that_failed_as_a_whole_answers_each_request_with_the_same_kind_of_error() {
        let conflict = Error::Conflict { kind: ConflictKind::AlreadyRegistered, message: "already".into() };
        assert!(matches!(
            for_each(&conflict),
            Error::Conflict { kind: ConflictKind::AlreadyRegistered, message } if message == "already"
        ));
        assert!(
            matches!(for_each(&Error::NotFound("no meeting 9".into())), Error::NotFound(message) if message == "no meeting 9")
        );
        assert!(matches!(for_each(&Error::Unavailable(anyhow::anyhow!("down"))), Error::Unavailable(_)));
        assert!(matches!(for_each(&Error::Internal(anyhow::anyhow!("bug"))), Error::Internal(_)));
    }
}
