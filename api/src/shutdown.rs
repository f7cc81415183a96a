//! Stopping `plenary serve` without dropping work (SIGTERM from systemd or an orchestrator, or
//! Ctrl-C).
//!
//! On the first signal the service drains, within `--shutdown-grace-secs`:
//! 1. it stops accepting connections at once (the listening socket is closed: new connections
//!    are refused) and `/readyz` answers 503 "shutting down" ([`Drain::is_draining`]);
//! 2. requests in flight run to the end; each keep-alive connection is closed after its current
//!    response, an idle one at once (hyper's graceful shutdown, through axum's);
//! 3. the mail worker sends and records the messages it has claimed and claims nothing new; the
//!    reminders and the outbox purge stop (a pass in progress is abandoned: each of its writes
//!    is its own transaction, and the next pass on any replica does the rest);
//! 4. it logs that it drained and exits 0.
//!
//! When the grace period runs out first, or a second signal comes, it logs what it abandons
//! (requests still open, messages claimed but not recorded: those go back to the outbox when
//! their lease runs out, and may then be sent a second time) and exits 1.

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};

/// Whether the service is draining, and how many requests are in flight. Shared by every
/// request through [`crate::app::AppState`].
#[derive(Debug, Default)]
pub struct Drain {
    draining: AtomicBool,
    in_flight: AtomicUsize,
}

impl Drain {
    /// From now on `/readyz` answers 503 "shutting down".
    pub fn start(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    #[must_use]
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Requests whose handler has not answered yet.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }
}

/// Middleware counting the requests in flight (what a drain that runs out of time abandons).
pub async fn count_requests(State(drain): State<Arc<Drain>>, request: Request, next: Next) -> Response {
    let _in_flight = InFlight::enter(drain);
    next.run(request).await
}

/// One request in flight; counted off when dropped, also when the request is cancelled.
struct InFlight(Arc<Drain>);

impl InFlight {
    fn enter(drain: Arc<Drain>) -> Self {
        drain.in_flight.fetch_add(1, Ordering::Relaxed);
        Self(drain)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The signals that stop the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Ctrl-C (SIGINT).
    Interrupt,
    /// SIGTERM (systemd, Kubernetes, `kill`).
    Terminate,
}

/// Listens for SIGTERM and Ctrl-C for the rest of the process's life. Once listened for, they
/// no longer end the process by themselves: the first starts the drain, the second forces the
/// exit.
pub struct Signals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    /// Starts listening.
    ///
    /// # Errors
    /// When the signal handlers cannot be installed.
    pub fn listen() -> std::io::Result<Self> {
        Ok(Self {
            #[cfg(unix)]
            terminate: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?,
        })
    }

    /// Completes at the next signal.
    pub async fn next(&mut self) -> Signal {
        #[cfg(unix)]
        let terminate = self.terminate.recv();
        #[cfg(not(unix))]
        let terminate = std::future::pending::<Option<()>>();
        tokio::select! {
            interrupted = tokio::signal::ctrl_c() => {
                if let Err(error) = interrupted {
                    tracing::error!(%error, "cannot listen for Ctrl-C");
                    std::future::pending::<()>().await;
                }
                Signal::Interrupt
            }
            _ = terminate => Signal::Terminate,
        }
    }
}
