//! The outbox worker: claims due messages with a lease, sends them over SMTP connections of its
//! own ([`super::smtp`]), and records the outcome.
//!
//! - Sending is a continuous stream: up to `--mail-concurrency` messages are on their way at
//!   once, each in its own task, and the next starts as soon as one ends. The worker claims
//!   ahead while they send and records finished outcomes in bulk, so the server never waits for
//!   a batch's slowest message, a claim or a commit. It holds at most twice the concurrency
//!   (claimed, not yet recorded): that bounds what a crash can send twice.
//! - Every send is wrapped in [`tokio::time::timeout`]; a timeout is a temporary failure.
//! - Temporary failures (4xx answers, connection refused, timeouts) are retried with
//!   exponential backoff; permanent ones (5xx) are recorded as `failed` with the server's words.
//! - A worker that crashes loses nothing: its rows' leases run out and any worker takes them
//!   over. At most the messages it held can be delivered twice.
//! - One message never stops the others (issue 12): a message that cannot be built is `failed`
//!   with the reason, and handling each message runs under a panic guard, so a panic is recorded
//!   against its message as `failed` too. A message claimed more than `max_attempts` times
//!   without an outcome (its worker died each time, say by aborting) is given up as well.
//! - The loop itself runs under [`supervisor`]: if it ever panics or ends, it is restarted.
//!   A database that does not answer pauses it (longer each time, up to
//!   [`MAX_DATABASE_PAUSE`]; logged once per outage) until it answers again. Outcomes that
//!   could not be recorded are kept and recorded first when it answers, before anything new is
//!   claimed: the rows are still leased to this worker, so a message sent just before the
//!   database went away is not sent again (unless the outage outlasts the lease).
//! - On shutdown the worker lets the sends under way finish and records them, starts and claims
//!   nothing new, and gives back the claims it has not started.
//! - Each turn of the loop beats a [`Heartbeat`], which `/readyz` reads; the heartbeat also
//!   tells how many messages the worker holds, for the shutdown's report.
//! - Without an SMTP URL there is no worker and mail stays queued.

use std::{
    collections::{HashMap, VecDeque},
    future::Future,
    panic::AssertUnwindSafe,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use super::{
    MailConfig, message,
    smtp::Smtp,
    supervisor::{self, Supervised},
};
use crate::{
    config::Config,
    db::entities::{meeting_documents, outbox},
    store::outbox::{self as store, Outcome},
};
use anyhow::Context as _;
use chrono::Utc;
use futures::FutureExt as _;
use lettre::message::Mailbox;
use sea_orm::DatabaseConnection;
use tokio::task::JoinSet;

/// A meeting's documents, or why they could not be read.
type Documents = Result<Vec<meeting_documents::Model>, String>;

/// What was recorded: messages sent, to be retried, failed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchReport {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

impl BatchReport {
    fn add(&mut self, other: &Self) {
        self.claimed += other.claimed;
        self.sent += other.sent;
        self.retried += other.retried;
        self.failed += other.failed;
    }
}

/// The longest pause of a worker whose database does not answer, before it tries again.
pub const MAX_DATABASE_PAUSE: Duration = Duration::from_secs(30);

/// The wait before the supervisor restarts a worker loop that ended or panicked (doubling on
/// each further restart).
const RESTART_BACKOFF: Duration = Duration::from_secs(1);

/// A fault injected by the test build into the handling of each message; see
/// [`Worker::inject_fault`].
type Fault = Arc<dyn Fn(&outbox::Model) + Send + Sync>;

/// Delivers outbox rows through one SMTP server.
#[derive(Clone)]
pub struct Worker {
    db: DatabaseConnection,
    smtp: Arc<Smtp>,
    from: Mailbox,
    settings: MailConfig,
    /// Written into the rows this worker holds, so it only ever finishes its own claims.
    id: Arc<str>,
    heartbeat: Heartbeat,
    fault: Option<Fault>,
}

/// The messages a worker holds: claimed and not yet recorded.
#[derive(Default)]
struct Held {
    /// Claimed, not started yet, each with its meeting's documents when it carries them.
    waiting: VecDeque<(outbox::Model, Option<Arc<Documents>>)>,
    /// On their way, each in its own task.
    sending: JoinSet<(i64, Outcome)>,
    /// Sent (or given up), the outcome not recorded yet.
    finished: Vec<(i64, Outcome)>,
}

impl Held {
    fn count(&self) -> usize {
        self.waiting.len() + self.sending.len() + self.finished.len()
    }

    /// Waits until at least one send has ended, then collects every one that has.
    async fn collect_finished(&mut self) {
        let Some(first) = self.sending.join_next().await else { return };
        let mut ended = Some(first);
        while let Some(result) = ended {
            match result {
                Ok(outcome) => self.finished.push(outcome),
                // Only a cancelled task ends without an outcome (each catches its own panic):
                // the runtime is shutting down, and the message's lease brings it back.
                Err(error) => tracing::warn!(%error, "a mail send ended without an outcome"),
            }
            ended = self.sending.try_join_next();
        }
    }
}

impl Worker {
    /// A worker for `config`'s SMTP server, or `None` when no SMTP URL is configured.
    ///
    /// # Errors
    /// When the SMTP URL or the sender address is malformed.
    pub fn new(db: DatabaseConnection, config: &Config) -> anyhow::Result<Option<Self>> {
        let Some(url) = &config.smtp_url else {
            return Ok(None);
        };
        let settings = config.mail.clone();
        let smtp =
            Smtp::from_url(url, Duration::from_millis(settings.send_timeout_ms), settings.concurrency.max(1) as usize)
                .with_context(|| format!("cannot use the SMTP URL {}", crate::db::redact(url)))?;
        let from: Mailbox =
            config.mail_from.parse().with_context(|| format!("the sender {:?} is not an address", config.mail_from))?;
        let id = format!("{}-{}", std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..8]);
        Ok(Some(Self {
            db,
            smtp: Arc::new(smtp),
            from,
            settings,
            id: id.into(),
            heartbeat: Heartbeat::default(),
            fault: None,
        }))
    }

    /// The worker beats `heartbeat` on each turn of its loop (the service shares it with
    /// `/readyz` through `AppState`).
    #[must_use]
    pub fn with_heartbeat(mut self, heartbeat: Heartbeat) -> Self {
        self.heartbeat = heartbeat;
        self
    }

    /// For the test suites only: runs `fault` at the start of handling each message, so a test
    /// can make the handling of chosen messages panic. Nothing in the service calls it, so no
    /// data can trigger it.
    #[doc(hidden)]
    #[must_use]
    pub fn inject_fault(mut self, fault: impl Fn(&outbox::Model) + Send + Sync + 'static) -> Self {
        self.fault = Some(Arc::new(fault));
        self
    }

    fn concurrency(&self) -> usize {
        self.settings.concurrency.max(1) as usize
    }

    /// Delivers what is due now, as [`Worker::run`] does, until nothing due is left; `progress`
    /// is told what has been recorded so far. For `plenary invite`.
    ///
    /// # Errors
    /// When the database does not answer (the messages held go back when their lease ends).
    pub async fn deliver_due(&self, mut progress: impl FnMut(&BatchReport)) -> anyhow::Result<BatchReport> {
        let mut held = Held::default();
        let mut total = BatchReport::default();
        loop {
            let report = self.advance(&mut held, true).await?;
            total.add(&report);
            progress(&total);
            if held.count() == 0 {
                return Ok(total);
            }
            held.collect_finished().await;
        }
    }

    /// One step of the stream: records the finished outcomes, claims more when there is room
    /// (and `more` allows it), and starts sends up to the concurrency. Returns what it recorded
    /// and claimed.
    ///
    /// # Errors
    /// When the database does not answer; the outcomes not recorded stay in `held`.
    async fn advance(&self, held: &mut Held, more: bool) -> anyhow::Result<BatchReport> {
        let mut report = BatchReport::default();
        if !held.finished.is_empty() {
            report = self.record(&held.finished).await?;
            held.finished.clear();
        }
        let concurrency = self.concurrency();
        // Claims come in chunks of at least the concurrency, so the next messages are at hand
        // while the current ones send, and at most twice the concurrency is ever held.
        if more && held.count() <= concurrency {
            let now = Utc::now().timestamp_millis();
            let lease_until = now + i64::try_from(self.settings.lease_ms).unwrap_or(i64::MAX / 2);
            let limit = 2 * concurrency - held.count();
            let rows = store::claim(&self.db, &self.id, limit as u64, now, lease_until)
                .await
                .context("claiming outbox rows failed")?;
            report.claimed = rows.len();
            let documents = self.documents_for(&rows).await;
            held.waiting.extend(rows.into_iter().map(|row| {
                let attached = row
                    .meeting_id
                    .filter(|_| message::carries_documents(&row.kind))
                    .and_then(|meeting| documents.get(&meeting).map(Arc::clone));
                (row, attached)
            }));
        }
        while more && held.sending.len() < concurrency {
            let Some((row, documents)) = held.waiting.pop_front() else { break };
            // A claim that waited out a database outage may have run out: the row is anyone's
            // again, this worker's next claim included, so sending it from here could send it
            // twice. The new claim sends it.
            if row.lease_expires_at.is_none_or(|until| until <= Utc::now().timestamp_millis()) {
                continue;
            }
            let worker = self.clone();
            held.sending.spawn(async move {
                let id = row.id;
                // The panic guard: whatever goes wrong with one message stays with it. Nothing
                // shared is left half-changed by an unwinding `deliver` (it only reads the
                // worker and the row, and a connection it was using is dropped, not pooled).
                let outcome = match AssertUnwindSafe(worker.deliver(&row, documents.as_deref())).catch_unwind().await {
                    Ok(outcome) => outcome,
                    Err(panic) => {
                        let reason = supervisor::panic_message(&*panic);
                        tracing::error!(id, panic = %reason, "handling a message panicked");
                        Outcome::Failed { error: format!("handling the message panicked: {reason}") }
                    }
                };
                (id, outcome)
            });
        }
        self.heartbeat.hold(held.count());
        Ok(report)
    }

    /// Records `outcomes`, in one transaction (one commit for all of them). Nothing is recorded
    /// when it fails.
    async fn record(&self, outcomes: &[(i64, Outcome)]) -> anyhow::Result<BatchReport> {
        let mut report = BatchReport::default();
        for (id, outcome) in outcomes {
            match outcome {
                Outcome::Sent => report.sent += 1,
                Outcome::Retry { error, .. } => {
                    tracing::warn!(id, %error, "mail delivery failed temporarily; will retry");
                    report.retried += 1;
                }
                Outcome::Failed { error } => {
                    tracing::warn!(id, %error, "mail delivery failed permanently");
                    report.failed += 1;
                }
            }
        }
        let txn = crate::db::begin_write(&self.db).await.context("recording deliveries failed")?;
        let recorded = store::finish(&txn, outcomes, &self.id).await.context("recording deliveries failed")?;
        txn.commit().await.context("recording deliveries failed")?;
        if recorded < outcomes.len() as u64 {
            tracing::warn!(lost = outcomes.len() as u64 - recorded, "lost the lease on messages while sending them");
        }
        crate::metrics::mail_batch(&report);
        Ok(report)
    }

    /// Sends `row` with `documents`, its meeting's documents when it carries them (`None`: it
    /// carries none).
    async fn deliver(&self, row: &outbox::Model, documents: Option<&Documents>) -> Outcome {
        // Each claim counts as an attempt and a temporary failure gives up at `max_attempts`,
        // so a row claimed more often than that never got an outcome recorded: its worker died
        // while handling it (an abort or a kill no panic guard catches). Do not try it again.
        if row.attempts > self.settings.max_attempts {
            return Outcome::Failed {
                error: format!(
                    "gave up after {} claims without an outcome (the worker handling it stopped each time)",
                    row.attempts - 1
                ),
            };
        }
        if let Some(fault) = &self.fault {
            fault(row);
        }
        let documents = match documents {
            Some(Ok(documents)) => Ok(documents.as_slice()),
            Some(Err(error)) => Err(error),
            None => Ok(&[][..]),
        };
        let error = match documents {
            // Like a server that does not answer: the database may be back on the next try.
            Err(error) => format!("reading the meeting's documents failed: {error}"),
            Ok(documents) => {
                let message = match message::build(row, &self.from, documents) {
                    Ok(message) => message,
                    Err(error) => return Outcome::Failed { error: format!("{error:#}") },
                };
                let limit = Duration::from_millis(self.settings.send_timeout_ms);
                let bytes = message.formatted();
                match tokio::time::timeout(limit, self.smtp.send(message.envelope(), &bytes)).await {
                    Ok(Ok(())) => return Outcome::Sent,
                    Ok(Err(error)) if error.is_permanent() => return Outcome::Failed { error: error.to_string() },
                    Ok(Err(error)) => error.to_string(),
                    Err(_) => format!("the SMTP server did not answer within {} ms", limit.as_millis()),
                }
            }
        };
        if row.attempts >= self.settings.max_attempts {
            return Outcome::Failed { error: format!("gave up after {} attempts; last error: {error}", row.attempts) };
        }
        Outcome::Retry { error, retry_at_ms: Utc::now().timestamp_millis() + backoff_ms(&self.settings, row.attempts) }
    }

    /// The documents of the meetings whose messages in `rows` take them along
    /// ([`message::carries_documents`]), as they are now: read once per meeting and claim, not
    /// once per message.
    async fn documents_for(&self, rows: &[outbox::Model]) -> HashMap<i32, Arc<Documents>> {
        let mut documents = HashMap::new();
        for row in rows.iter().filter(|row| message::carries_documents(&row.kind)) {
            if let Some(meeting_id) = row.meeting_id
                && !documents.contains_key(&meeting_id)
            {
                let read = crate::store::documents::with_content(&self.db, meeting_id).await;
                documents.insert(meeting_id, Arc::new(read.map_err(|error| error.to_string())));
            }
        }
        documents
    }

    /// Delivers until `shutdown` completes; the sends under way are finished and recorded
    /// first. A database that does not answer pauses the loop; nothing else ends it.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        tokio::pin!(shutdown);
        tracing::info!(worker = %self.id, "mail worker started");
        let poll = Duration::from_millis(self.settings.poll_ms);
        let mut outage = supervisor::Outage::new("mail worker", poll, MAX_DATABASE_PAUSE);
        let mut held = Held::default();
        let mut stopping = false;
        loop {
            self.heartbeat.beat();
            let pause = match self.advance(&mut held, !stopping).await {
                Ok(_) => {
                    outage.recovered();
                    (held.count() == 0).then_some(poll)
                }
                Err(error) => Some(outage.failed(&error)),
            };
            // (`shutdown` is not polled again once it has completed.)
            stopping = stopping || futures::FutureExt::now_or_never(&mut shutdown).is_some();
            // Outcomes not recorded yet are retried while stopping too (within the shutdown's
            // grace period): given up, their messages would be sent again.
            if stopping && held.sending.is_empty() && held.finished.is_empty() {
                break;
            }
            match pause {
                Some(pause) if stopping => tokio::time::sleep(pause).await,
                Some(pause) => tokio::select! {
                    () = &mut shutdown => stopping = true,
                    () = tokio::time::sleep(pause) => {}
                },
                None if held.sending.is_empty() => {}
                None if stopping => held.collect_finished().await,
                None => tokio::select! {
                    () = &mut shutdown => stopping = true,
                    () = held.collect_finished() => {}
                },
            }
        }
        // What was claimed and never started goes back to the queue.
        if let Err(error) = store::release(&self.db, &self.id).await {
            tracing::warn!(%error, "could not release the mail worker's claims");
        }
        self.heartbeat.hold(0);
        self.heartbeat.stopped();
        tracing::info!(worker = %self.id, "mail worker stopped");
    }

    /// Starts [`Worker::run`] under a supervisor that restarts it if it ever ends or panics;
    /// stop it with [`WorkerHandle::stop`].
    #[must_use]
    pub fn spawn(self) -> WorkerHandle {
        WorkerHandle(supervisor::spawn("mail worker", RESTART_BACKOFF, move |shutdown| {
            self.clone().run(shutdown.wait())
        }))
    }
}

/// A running, supervised worker.
pub struct WorkerHandle(Supervised);

impl WorkerHandle {
    /// Asks the worker to stop after its current batch and waits for it.
    pub async fn stop(self) {
        self.0.stop().await;
    }
}

/// Shows whether the mail worker is alive: it beats on every turn of its loop. Cloning shares it.
#[derive(Clone, Debug, Default)]
pub struct Heartbeat(Arc<Beats>);

#[derive(Debug, Default)]
struct Beats {
    /// Unix milliseconds of the last beat; 0 before the first.
    last_ms: AtomicI64,
    /// How many messages the worker holds: claimed, and not yet recorded.
    in_hand: AtomicUsize,
    /// Between the first beat and a graceful stop.
    running: AtomicBool,
}

/// What a [`Heartbeat`] says about its worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// It never beat: no worker was started (or not yet).
    NotStarted,
    /// It beat `since_ms` milliseconds ago, within the limit.
    Alive { since_ms: i64 },
    /// Its last beat is older than the limit: the loop hangs, or nothing restarts it.
    Stalled { since_ms: i64 },
    /// It was stopped.
    Stopped,
}

impl Heartbeat {
    fn beat(&self) {
        self.0.last_ms.store(Utc::now().timestamp_millis(), Ordering::Relaxed);
        self.0.running.store(true, Ordering::Relaxed);
    }

    fn hold(&self, messages: usize) {
        self.0.in_hand.store(messages, Ordering::Relaxed);
    }

    /// How many messages the worker has claimed and not yet recorded the outcome of.
    #[must_use]
    pub fn in_hand(&self) -> usize {
        self.0.in_hand.load(Ordering::Relaxed)
    }

    fn stopped(&self) {
        self.0.running.store(false, Ordering::Relaxed);
    }

    /// The worker's state at `now_ms`, counting it stalled when it has not beaten for more
    /// than `limit_ms`.
    #[must_use]
    pub fn liveness(&self, now_ms: i64, limit_ms: i64) -> Liveness {
        let last = self.0.last_ms.load(Ordering::Relaxed);
        if last == 0 {
            return Liveness::NotStarted;
        }
        if !self.0.running.load(Ordering::Relaxed) {
            return Liveness::Stopped;
        }
        let since_ms = now_ms.saturating_sub(last).max(0);
        if since_ms > limit_ms { Liveness::Stalled { since_ms } } else { Liveness::Alive { since_ms } }
    }
}

/// How long a worker may go without beating before it counts as stalled: one turn of the loop
/// is a batch, which must end within its lease (or its claims are lost anyway), plus the idle
/// poll or the longest database pause.
#[must_use]
pub fn stall_limit_ms(settings: &MailConfig) -> i64 {
    let pause = settings.poll_ms.max(u64::try_from(MAX_DATABASE_PAUSE.as_millis()).unwrap_or(u64::MAX));
    i64::try_from(settings.lease_ms.saturating_add(pause)).unwrap_or(i64::MAX)
}

/// Milliseconds to wait after the `attempts`-th failed attempt: the base, doubled each time,
/// at most an hour.
#[must_use]
pub fn backoff_ms(settings: &MailConfig, attempts: i32) -> i64 {
    let exponent = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(20);
    let delay = settings.retry_base_ms.saturating_mul(1_u64 << exponent).min(3_600_000);
    i64::try_from(delay).unwrap_or(3_600_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let settings = MailConfig { retry_base_ms: 1_000, ..MailConfig::default() };
        assert_eq!(backoff_ms(&settings, 1), 1_000);
        assert_eq!(backoff_ms(&settings, 2), 2_000);
        assert_eq!(backoff_ms(&settings, 4), 8_000);
        assert_eq!(backoff_ms(&settings, 40), 3_600_000);
    }

    #[test]
    fn a_heartbeat_tells_not_started_alive_stalled_and_stopped_apart() {
        let heartbeat = Heartbeat::default();
        assert_eq!(heartbeat.liveness(1_000, 100), Liveness::NotStarted);
        heartbeat.beat();
        let beat = heartbeat.0.last_ms.load(Ordering::Relaxed);
        assert_eq!(heartbeat.clone().liveness(beat + 100, 100), Liveness::Alive { since_ms: 100 });
        assert_eq!(heartbeat.liveness(beat + 101, 100), Liveness::Stalled { since_ms: 101 });
        heartbeat.stopped();
        assert_eq!(heartbeat.liveness(beat, 100), Liveness::Stopped);
    }

    #[test]
    fn the_stall_limit_covers_a_batch_and_the_longest_pause() {
        let settings = MailConfig { lease_ms: 120_000, poll_ms: 500, ..MailConfig::default() };
        assert_eq!(stall_limit_ms(&settings), 150_000);
    }
}
