//! The outbox worker: claims due messages with a lease, sends them through a pooled async SMTP
//! transport, and records the outcome.
//!
//! - Every send is wrapped in [`tokio::time::timeout`]; a timeout is a temporary failure.
//! - Temporary failures (4xx answers, connection refused, timeouts) are retried with
//!   exponential backoff; permanent ones (5xx) are recorded as `failed` with the server's words.
//! - A worker that crashes mid-batch loses nothing: its rows' leases run out and any worker
//!   takes them over. At most the messages that were in flight can be delivered twice.
//! - One message never stops the others (issue 12): a message that cannot be built is `failed`
//!   with the reason, and handling each message runs under a panic guard, so a panic is recorded
//!   against its message as `failed` too. A message claimed more than `max_attempts` times
//!   without an outcome (its worker died each time, say by aborting) is given up as well.
//! - The loop itself runs under [`supervisor`]: if it ever panics or ends, it is restarted.
//!   A database that does not answer pauses it (longer each time, up to
//!   [`MAX_DATABASE_PAUSE`]; logged once per outage) until it answers again. Outcomes of a
//!   batch that could not be recorded are kept and recorded first when it answers, before
//!   anything new is claimed: the rows are still leased to this worker, so a message sent just
//!   before the database went away is not sent again (unless the outage outlasts the lease).
//! - On shutdown the worker finishes the batch it holds (sends, records), claims nothing new
//!   and gives back any claim it still holds.
//! - Each turn of the loop beats a [`Heartbeat`], which `/readyz` reads; the heartbeat also
//!   tells how many messages the worker holds, for the shutdown's report.
//! - Without an SMTP URL there is no worker and mail stays queued.

use std::{
    collections::HashMap,
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
    supervisor::{self, Supervised},
};
use crate::{
    config::Config,
    db::entities::{meeting_documents, outbox},
    store::outbox::{self as store, Outcome},
};
use anyhow::Context as _;
use chrono::Utc;
use futures::{FutureExt as _, StreamExt as _};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor, message::Mailbox, transport::smtp::PoolConfig};
use sea_orm::DatabaseConnection;

/// A meeting's documents, or why they could not be read.
type Documents = Result<Vec<meeting_documents::Model>, String>;

/// What one batch did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchReport {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
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
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    settings: MailConfig,
    /// Written into the rows this worker holds, so it only ever finishes its own claims.
    id: Arc<str>,
    heartbeat: Heartbeat,
    fault: Option<Fault>,
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
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .with_context(|| format!("cannot use the SMTP URL {}", crate::db::redact(url)))?
            .timeout(Some(Duration::from_millis(settings.send_timeout_ms)))
            .pool_config(PoolConfig::new().max_size(settings.concurrency.max(1)).idle_timeout(Duration::from_secs(60)))
            .build();
        let from: Mailbox =
            config.mail_from.parse().with_context(|| format!("the sender {:?} is not an address", config.mail_from))?;
        let id = format!("{}-{}", std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..8]);
        Ok(Some(Self { db, transport, from, settings, id: id.into(), heartbeat: Heartbeat::default(), fault: None }))
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

    /// Claims one batch (as many messages as are sent at once), sends it and records the
    /// outcome of each message.
    ///
    /// # Errors
    /// When the database does not answer.
    pub async fn run_once(&self) -> anyhow::Result<BatchReport> {
        let outcomes = self.send_batch().await?;
        self.record(&outcomes).await
    }

    /// Claims one batch and sends it; the outcome of each message, to be recorded.
    async fn send_batch(&self) -> anyhow::Result<Vec<(i64, Outcome)>> {
        let now = Utc::now().timestamp_millis();
        let lease_until = now + i64::try_from(self.settings.lease_ms).unwrap_or(i64::MAX / 2);
        let concurrency = self.settings.concurrency.max(1) as usize;
        let rows = store::claim(&self.db, &self.id, concurrency as u64 * 2, now, lease_until)
            .await
            .context("claiming outbox rows failed")?;
        self.heartbeat.hold(rows.len());
        let documents = &self.documents_for(&rows).await;
        let outcomes: Vec<(i64, Outcome)> = futures::stream::iter(rows)
            .map(|row| async move {
                // The panic guard: whatever goes wrong with one message stays with it. Nothing
                // shared is left half-changed by an unwinding `deliver` (it only reads `self`
                // and the row, and the pooled transport drops a connection it was using).
                let attached = row
                    .meeting_id
                    .filter(|_| message::carries_documents(&row.kind))
                    .and_then(|meeting| documents.get(&meeting));
                let outcome = match AssertUnwindSafe(self.deliver(&row, attached)).catch_unwind().await {
                    Ok(outcome) => outcome,
                    Err(panic) => {
                        let reason = supervisor::panic_message(&*panic);
                        tracing::error!(id = row.id, panic = %reason, "handling a message panicked");
                        Outcome::Failed { error: format!("handling the message panicked: {reason}") }
                    }
                };
                (row.id, outcome)
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        Ok(outcomes)
    }

    /// Records the outcomes of a batch, in one transaction (one commit instead of one per
    /// message). Nothing is recorded when it fails.
    async fn record(&self, outcomes: &[(i64, Outcome)]) -> anyhow::Result<BatchReport> {
        let mut report = BatchReport { claimed: outcomes.len(), ..BatchReport::default() };
        let txn = crate::db::begin_write(&self.db).await.context("recording deliveries failed")?;
        for (id, outcome) in outcomes {
            let id = *id;
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
            if !store::finish(&txn, id, &self.id, outcome.clone()).await.context("recording a delivery failed")? {
                tracing::warn!(id, "lost the lease on a message while sending it");
            }
        }
        txn.commit().await.context("recording deliveries failed")?;
        crate::metrics::mail_batch(&report);
        self.heartbeat.hold(0);
        Ok(report)
    }

    /// One turn of the loop: records what an earlier turn could not, or sends a new batch and
    /// records it. Outcomes that cannot be recorded stay in `unrecorded` for the next turn.
    async fn turn(&self, unrecorded: &mut Vec<(i64, Outcome)>) -> anyhow::Result<BatchReport> {
        if unrecorded.is_empty() {
            *unrecorded = self.send_batch().await?;
        }
        let report = self.record(unrecorded).await?;
        unrecorded.clear();
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
                match tokio::time::timeout(limit, self.transport.send(message)).await {
                    Ok(Ok(_)) => return Outcome::Sent,
                    Ok(Err(error)) if error.is_permanent() => return Outcome::Failed { error: smtp_reason(&error) },
                    Ok(Err(error)) => smtp_reason(&error),
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
    /// ([`message::carries_documents`]), as they are now: read once per meeting and batch, not
    /// once per message.
    async fn documents_for(&self, rows: &[outbox::Model]) -> HashMap<i32, Documents> {
        let mut documents = HashMap::new();
        for row in rows.iter().filter(|row| message::carries_documents(&row.kind)) {
            if let Some(meeting_id) = row.meeting_id
                && !documents.contains_key(&meeting_id)
            {
                let read = crate::store::documents::with_content(&self.db, meeting_id).await;
                documents.insert(meeting_id, read.map_err(|error| error.to_string()));
            }
        }
        documents
    }

    /// Delivers until `shutdown` completes; a batch in progress is finished first. A database
    /// that does not answer pauses the loop; nothing else ends it.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        tokio::pin!(shutdown);
        tracing::info!(worker = %self.id, "mail worker started");
        let poll = Duration::from_millis(self.settings.poll_ms);
        let mut outage = supervisor::Outage::new("mail worker", poll, MAX_DATABASE_PAUSE);
        let mut unrecorded = Vec::new();
        let mut stopping = false;
        loop {
            self.heartbeat.beat();
            let pause = match self.turn(&mut unrecorded).await {
                Ok(report) => {
                    outage.recovered();
                    (report.claimed == 0).then_some(poll)
                }
                Err(error) => Some(outage.failed(&error)),
            };
            // (`shutdown` is not polled again once it has completed.)
            stopping = stopping || futures::FutureExt::now_or_never(&mut shutdown).is_some();
            // Outcomes not recorded yet are retried while stopping too (within the shutdown's
            // grace period): given up, their messages would be sent again.
            if stopping && unrecorded.is_empty() {
                break;
            }
            let Some(pause) = pause else { continue };
            if stopping {
                tokio::time::sleep(pause).await;
            } else {
                tokio::select! {
                    () = &mut shutdown => {
                        if unrecorded.is_empty() {
                            break;
                        }
                        stopping = true;
                    }
                    () = tokio::time::sleep(pause) => {}
                }
            }
        }
        if let Err(error) = store::release(&self.db, &self.id).await {
            tracing::warn!(%error, "could not release the mail worker's claims");
        }
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

fn smtp_reason(error: &lettre::transport::smtp::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
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
