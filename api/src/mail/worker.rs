//! The outbox worker: claims due messages with a lease, sends them through a pooled async SMTP
//! transport, and records the outcome.
//!
//! - Every send is wrapped in [`tokio::time::timeout`]; a timeout is a temporary failure.
//! - Temporary failures (4xx answers, connection refused, timeouts) are retried with
//!   exponential backoff; permanent ones (5xx) are recorded as `failed` with the server's words.
//! - A worker that crashes mid-batch loses nothing: its rows' leases run out and any worker
//!   takes them over. At most the messages that were in flight can be delivered twice.
//! - Without an SMTP URL there is no worker and mail stays queued.

use std::{future::Future, sync::Arc, time::Duration};

use anyhow::Context as _;
use chrono::Utc;
use futures::StreamExt as _;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor, message::Mailbox, transport::smtp::PoolConfig};
use sea_orm::{DatabaseConnection, TransactionTrait as _};
use tokio::{sync::watch, task::JoinHandle};

use super::{MailConfig, message};
use crate::{
    config::Config,
    db::entities::outbox,
    store::outbox::{self as store, Outcome},
};

/// What one batch did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchReport {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

/// Delivers outbox rows through one SMTP server.
#[derive(Clone)]
pub struct Worker {
    db: DatabaseConnection,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    settings: MailConfig,
    /// Written into the rows this worker holds, so it only ever finishes its own claims.
    id: Arc<str>,
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
        Ok(Some(Self { db, transport, from, settings, id: id.into() }))
    }

    /// Claims one batch (as many messages as are sent at once), sends it and records the
    /// outcome of each message.
    ///
    /// # Errors
    /// When the database does not answer.
    pub async fn run_once(&self) -> anyhow::Result<BatchReport> {
        let now = Utc::now().timestamp_millis();
        let lease_until = now + i64::try_from(self.settings.lease_ms).unwrap_or(i64::MAX / 2);
        let concurrency = self.settings.concurrency.max(1) as usize;
        let rows = store::claim(&self.db, &self.id, concurrency as u64 * 2, now, lease_until)
            .await
            .context("claiming outbox rows failed")?;
        let mut report = BatchReport { claimed: rows.len(), ..BatchReport::default() };
        let outcomes: Vec<(i64, Outcome)> = futures::stream::iter(rows)
            .map(|row| async move {
                let outcome = self.deliver(&row).await;
                (row.id, outcome)
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        // One transaction for the whole batch's outcomes: one commit instead of one per message.
        let txn = self.db.begin().await.context("recording deliveries failed")?;
        for (id, outcome) in outcomes {
            match &outcome {
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
            if !store::finish(&txn, id, &self.id, outcome).await.context("recording a delivery failed")? {
                tracing::warn!(id, "lost the lease on a message while sending it");
            }
        }
        txn.commit().await.context("recording deliveries failed")?;
        Ok(report)
    }

    async fn deliver(&self, row: &outbox::Model) -> Outcome {
        let message = match message::build(row, &self.from) {
            Ok(message) => message,
            Err(error) => return Outcome::Failed { error: format!("{error:#}") },
        };
        let limit = Duration::from_millis(self.settings.send_timeout_ms);
        let error = match tokio::time::timeout(limit, self.transport.send(message)).await {
            Ok(Ok(_)) => return Outcome::Sent,
            Ok(Err(error)) if error.is_permanent() => return Outcome::Failed { error: smtp_reason(&error) },
            Ok(Err(error)) => smtp_reason(&error),
            Err(_) => format!("the SMTP server did not answer within {} ms", limit.as_millis()),
        };
        if row.attempts >= self.settings.max_attempts {
            return Outcome::Failed { error: format!("gave up after {} attempts; last error: {error}", row.attempts) };
        }
        Outcome::Retry { error, retry_at_ms: Utc::now().timestamp_millis() + backoff_ms(&self.settings, row.attempts) }
    }

    /// Delivers until `shutdown` completes; a batch in progress is finished first.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        tokio::pin!(shutdown);
        tracing::info!(worker = %self.id, "mail worker started");
        loop {
            let idle = match self.run_once().await {
                Ok(report) => report.claimed == 0,
                Err(error) => {
                    tracing::error!(error = format!("{error:#}"), "mail worker");
                    true
                }
            };
            if idle {
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(Duration::from_millis(self.settings.poll_ms)) => {}
                }
            } else if futures::FutureExt::now_or_never(&mut shutdown).is_some() {
                break;
            }
        }
        if let Err(error) = store::release(&self.db, &self.id).await {
            tracing::warn!(%error, "could not release the mail worker's claims");
        }
        tracing::info!(worker = %self.id, "mail worker stopped");
    }

    /// Starts [`Worker::run`] on a task; stop it with [`WorkerHandle::stop`].
    #[must_use]
    pub fn spawn(self) -> WorkerHandle {
        let (stop, mut stopped) = watch::channel(false);
        let join = tokio::spawn(self.run(async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }));
        WorkerHandle { stop, join }
    }
}

/// A running worker.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    join: JoinHandle<()>,
}

impl WorkerHandle {
    /// Asks the worker to stop after its current batch and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.join.await;
    }
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
}
