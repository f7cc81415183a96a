//! Keeps a background task (the mail worker, the retention purge) running until shutdown.
//!
//! The task runs on its own tokio task, so a panic in it ends only that incarnation. Whenever it
//! ends without a shutdown having been asked for (it returned, or it panicked), the supervisor
//! logs why and starts it again after a backoff that doubles up to [`MAX_BACKOFF`] and starts
//! over once an incarnation has run for a while. [`Supervised::stop`] asks the task to stop
//! through the shutdown future it was given and waits for it.
//!
//! [`Outage`] is how such a task waits out a database that does not answer: it retries with a
//! growing pause and logs the outage once when it starts and once when it ends.

use std::{any::Any, future::Future, time::Duration};

use tokio::{sync::watch, task::JoinHandle, time::Instant};

/// The longest wait before a restart.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// An incarnation that ran this long was healthy: the next restart waits the initial backoff
/// again.
const HEALTHY_RUN: Duration = Duration::from_secs(60);

/// A supervised task.
pub struct Supervised {
    stop: watch::Sender<bool>,
    join: JoinHandle<()>,
}

impl Supervised {
    /// Asks the task to stop and waits until it and its supervisor have ended.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.join.await;
    }
}

/// Runs `task` until [`Supervised::stop`], restarting it whenever it ends on its own or panics.
///
/// `task` gets a future that completes when a shutdown is asked for; it should then finish what
/// it is doing and return. `backoff` is the wait before the first restart.
pub fn spawn<F, Fut>(name: &'static str, backoff: Duration, task: F) -> Supervised
where
    F: Fn(ShutdownSignal) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (stop, stopped) = watch::channel(false);
    let join = tokio::spawn(async move {
        let mut delay = backoff;
        loop {
            let started = Instant::now();
            let outcome = tokio::spawn(task(ShutdownSignal(stopped.clone()))).await;
            if *stopped.borrow() {
                break;
            }
            match outcome {
                Ok(()) => tracing::error!(task = name, "a background task ended on its own; restarting it"),
                Err(error) if error.is_panic() => tracing::error!(
                    task = name,
                    panic = panic_message(&*error.into_panic()),
                    "a background task panicked; restarting it"
                ),
                Err(error) => tracing::error!(task = name, %error, "a background task was cancelled; restarting it"),
            }
            if started.elapsed() >= HEALTHY_RUN {
                delay = backoff;
            }
            let mut stopping = stopped.clone();
            tokio::select! {
                _ = stopping.wait_for(|stop| *stop) => break,
                () = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(MAX_BACKOFF);
        }
    });
    Supervised { stop, join }
}

/// Completes when the supervised task is asked to stop (or its supervisor is gone).
pub struct ShutdownSignal(watch::Receiver<bool>);

impl ShutdownSignal {
    /// Waits for the shutdown.
    pub async fn wait(mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

/// A background task's run of failed attempts (usually: the database does not answer). The first
/// failure and the recovery are logged; the retries between them only at debug level, so an
/// outage is two log lines however long it lasts. Each retry waits twice as long as the one
/// before, from `first_pause` up to `max_pause`.
#[derive(Debug)]
pub struct Outage {
    task: &'static str,
    first_pause: Duration,
    max_pause: Duration,
    failures: u32,
    since: Option<Instant>,
}

impl Outage {
    #[must_use]
    pub fn new(task: &'static str, first_pause: Duration, max_pause: Duration) -> Self {
        Self { task, first_pause, max_pause, failures: 0, since: None }
    }

    /// Notes a failed attempt; returns how long to wait before the next.
    pub fn failed(&mut self, error: &anyhow::Error) -> Duration {
        let pause = self.first_pause.saturating_mul(1_u32 << self.failures.min(16)).min(self.max_pause);
        let error = format!("{error:#}");
        if self.failures == 0 {
            self.since = Some(Instant::now());
            tracing::warn!(task = self.task, error, "pausing: retrying, less and less often, until it works again");
        } else {
            tracing::debug!(task = self.task, error, pause_ms = pause.as_millis(), "still failing");
        }
        self.failures = self.failures.saturating_add(1);
        pause
    }

    /// Notes a successful attempt, logging the end of an outage if there was one.
    pub fn recovered(&mut self) {
        if let Some(since) = self.since.take() {
            tracing::info!(
                task = self.task,
                failed_attempts = self.failures,
                outage_secs = since.elapsed().as_secs(),
                "working again"
            );
        }
        self.failures = 0;
    }

    /// Whether the last attempt failed.
    #[must_use]
    pub fn is_ongoing(&self) -> bool {
        self.failures > 0
    }
}

/// The text of a panic's payload (`panic!` with a literal or a formatted message), for logs
/// and the outbox's `last_error`.
#[must_use]
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    use super::*;

    #[tokio::test]
    async fn a_task_that_panics_or_returns_is_restarted_until_stopped() {
        let runs = Arc::new(AtomicUsize::new(0));
        let (settled, mut settled_rx) = watch::channel(false);
        let counter = Arc::clone(&runs);
        let supervised = spawn("test", Duration::from_millis(1), move |shutdown| {
            let run = counter.fetch_add(1, Ordering::SeqCst);
            let settled = settled.clone();
            async move {
                match run {
                    0 => panic!("first incarnation panics"),
                    1 => {} // the second returns at once
                    _ => {
                        let _ = settled.send(true);
                        shutdown.wait().await;
                    }
                }
            }
        });
        settled_rx.wait_for(|settled| *settled).await.unwrap();
        supervised.stop().await;
        assert_eq!(runs.load(Ordering::SeqCst), 3, "restarted after the panic and after the return, then stopped");
    }

    #[test]
    fn an_outage_pauses_longer_each_time_up_to_the_limit_and_starts_over_after_recovery() {
        let mut outage = Outage::new("test", Duration::from_millis(100), Duration::from_millis(500));
        let error = anyhow::anyhow!("the database does not answer");
        let pauses: Vec<u128> = (0..5).map(|_| outage.failed(&error).as_millis()).collect();
        assert_eq!(pauses, [100, 200, 400, 500, 500]);
        assert!(outage.is_ongoing());
        outage.recovered();
        assert!(!outage.is_ongoing());
        assert_eq!(outage.failed(&error), Duration::from_millis(100));
    }

    #[test]
    fn a_panic_message_is_read_from_either_payload() {
        assert_eq!(panic_message(&"literal"), "literal");
        assert_eq!(panic_message(&format!("formatted {}", 1)), "formatted 1");
        assert_eq!(panic_message(&1_u8), "a panic without a message");
    }
}
