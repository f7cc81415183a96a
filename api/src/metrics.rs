//! What Plenary reports at `GET /metrics` (Prometheus text), named in one place.
//!
//! Every metric is named here, with the one-line functions the code calls where the thing
//! happens: [`track_request`] (every HTTP request, by route template), [`mail_batch`] (the mail
//! worker), [`registration_decided`] (the registration use case) and [`feed_cache`] (the feed
//! cache). Figures that are read rather than counted (the database pool, the outbox, readiness)
//! are read for each scrape and written after the recorder's text by [`render`]: they belong to
//! that scrape alone, so a figure that cannot be read is left out rather than shown stale.
//!
//! The recorder is process-wide (the `metrics` crate has one global recorder): [`install`] puts
//! it in place once, and every router of the process shares it. Counters therefore only grow,
//! and each replica reports its own; add them up across replicas in Prometheus.
//!
//! No label carries a value a client chose: routes are axum's route templates (never the path
//! itself, which holds feed tokens and the secrets of RSVP and set-password links), methods
//! outside the standard ones are `other`, and the rest are fixed words.

use std::{fmt::Write as _, sync::OnceLock, time::Instant};

use axum::{
    extract::{MatchedPath, Request},
    http::Method,
    middleware::Next,
    response::Response,
};
use metrics::{Unit, counter, describe_counter, describe_histogram, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use scheduler::attendance::Refusal;
use sea_orm::{DatabaseConnection, DbBackend};

/// Requests answered, by `route` (template), `method` and `status`.
pub const HTTP_REQUESTS: &str = "plenary_http_requests_total";
/// Time from a request's arrival to its response's head, by `route`.
pub const HTTP_DURATION: &str = "plenary_http_request_duration_seconds";
/// Database connections lent out, idle in the pool, and the most the pool opens.
pub const DB_CONNECTIONS_IN_USE: &str = "plenary_db_connections_in_use";
pub const DB_CONNECTIONS_IDLE: &str = "plenary_db_connections_idle";
pub const DB_CONNECTIONS_MAX: &str = "plenary_db_connections_max";
/// Messages queued or being sent, and how long the oldest of them has waited.
pub const OUTBOX_WAITING: &str = "plenary_outbox_waiting_messages";
pub const OUTBOX_OLDEST_AGE: &str = "plenary_outbox_oldest_waiting_seconds";
/// Messages the SMTP server accepted, refused for good, or failed temporarily (tried again).
pub const MAIL_SENT: &str = "plenary_mail_sent_total";
pub const MAIL_FAILED: &str = "plenary_mail_failed_total";
pub const MAIL_RETRIED: &str = "plenary_mail_retried_total";
/// Registrations decided, by `outcome` (`confirmed`, `waiting_list`, `refused`) and, for a
/// refusal, its `reason` (the words of the API's `details.reason`).
pub const REGISTRATION_DECISIONS: &str = "plenary_registration_decisions_total";
/// Feed requests answered from a rendering kept in memory, and those that rendered anew.
pub const FEED_CACHE_HITS: &str = "plenary_feed_cache_hits_total";
pub const FEED_CACHE_MISSES: &str = "plenary_feed_cache_misses_total";
/// 1 when this replica is ready (what `/readyz` answers with 200), 0 otherwise.
pub const READY: &str = "plenary_ready";

/// The `route` of a request that matched no route (a 404 from the fallback).
pub const UNMATCHED: &str = "unmatched";

/// Latency buckets in seconds: feeds answer in a millisecond, a contended registration may take
/// a second or more, and the request timeout is 30 seconds.
const LATENCY_BUCKETS: [f64; 13] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 30.0];

/// How often histograms are drained into their buckets when nobody scrapes (they would grow).
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Puts the process-wide recorder in place (the first call; later ones return the same handle)
/// and describes every metric.
pub fn install() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), &LATENCY_BUCKETS)
            .expect("the latency buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if let Err(error) = metrics::set_global_recorder(recorder) {
            // Only when something else in the process installed a recorder first.
            tracing::warn!(%error, "cannot install the metrics recorder; /metrics stays empty");
        }
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            }
        });
        if let Err(error) = spawned {
            tracing::warn!(%error, "cannot start the metrics upkeep thread; scrapes still drain histograms");
        }
        describe();
        handle
    })
}

fn describe() {
    describe_counter!(HTTP_REQUESTS, Unit::Count, "HTTP requests answered, by route template, method and status.");
    describe_histogram!(HTTP_DURATION, Unit::Seconds, "Time to answer an HTTP request, by route template.");
    describe_counter!(MAIL_SENT, Unit::Count, "Messages the SMTP server accepted.");
    describe_counter!(
        MAIL_FAILED,
        Unit::Count,
        "Messages that failed for good (refused, unbuildable, out of attempts)."
    );
    describe_counter!(MAIL_RETRIED, Unit::Count, "Deliveries that failed temporarily and will be tried again.");
    describe_counter!(REGISTRATION_DECISIONS, Unit::Count, "Registrations decided, by outcome and refusal reason.");
    describe_counter!(FEED_CACHE_HITS, Unit::Count, "Feed requests answered from a rendering kept in memory.");
    describe_counter!(FEED_CACHE_MISSES, Unit::Count, "Feed requests that rendered the feed anew.");
    // Shown from the start at 0, so that a rate over them exists before the first event.
    for name in [MAIL_SENT, MAIL_FAILED, MAIL_RETRIED, FEED_CACHE_HITS, FEED_CACHE_MISSES] {
        counter!(name).increment(0);
    }
}

/// The exposition text: the recorder's counters and histograms, then this scrape's figures (the
/// database pool, readiness, and the outbox as `(waiting, oldest age in seconds)` when it could
/// be read; left out when not, so an alert never sees an earlier scrape's figure as current).
#[must_use]
pub fn render(db: &DatabaseConnection, ready: bool, outbox: Option<(u64, u64)>) -> String {
    let mut text = install().render();
    let mut gauge = |name: &str, help: &str, value: u64| {
        // Writing to a String cannot fail.
        let _ = write!(text, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n");
    };
    gauge(READY, "1 when this replica is ready (GET /readyz answers 200), else 0.", u64::from(ready));
    if let Some((in_use, idle, max)) = pool_figures(db) {
        gauge(DB_CONNECTIONS_IN_USE, "Database connections in use.", in_use);
        gauge(DB_CONNECTIONS_IDLE, "Database connections open and idle in the pool.", idle);
        gauge(DB_CONNECTIONS_MAX, "The most database connections the pool opens.", max);
    }
    if let Some((waiting, oldest_secs)) = outbox {
        gauge(OUTBOX_WAITING, "Messages queued or being sent.", waiting);
        gauge(OUTBOX_OLDEST_AGE, "How long the oldest waiting message has waited in seconds (0: none).", oldest_secs);
    }
    text
}

/// Connections in use, idle, and the most the pool opens.
fn pool_figures(db: &DatabaseConnection) -> Option<(u64, u64, u64)> {
    let (open, idle, max) = match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle(), pool.options().get_max_connections())
        }
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle(), pool.options().get_max_connections())
        }
        _ => return None,
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(open);
    Some((u64::from(open - idle), u64::from(idle), u64::from(max)))
}

/// Middleware: counts every request and times it, by its route template. A request whose
/// client went away before the answer (the future dropped) is counted with the status
/// `client_closed`, so slow requests given up on still show in the figures.
pub async fn track_request(request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or(UNMATCHED, MatchedPath::as_str).to_owned();
    let mut in_flight =
        InFlight { route, method: method_label(request.method()), started: Instant::now(), answered: false };
    let response = next.run(request).await;
    in_flight.record(&response.status().as_u16().to_string());
    in_flight.answered = true;
    response
}

/// A request being answered; dropped unanswered, it is recorded as `client_closed`.
struct InFlight {
    route: String,
    method: &'static str,
    started: Instant,
    answered: bool,
}

impl InFlight {
    fn record(&self, status: &str) {
        histogram!(HTTP_DURATION, "route" => self.route.clone()).record(self.started.elapsed().as_secs_f64());
        counter!(HTTP_REQUESTS, "route" => self.route.clone(), "method" => self.method, "status" => status.to_owned())
            .increment(1);
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if !self.answered {
            self.record("client_closed");
        }
    }
}

/// The standard methods by name; anything else (a client may send any token) is `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts one batch of the mail worker, once its outcomes are recorded.
pub fn mail_batch(report: &crate::mail::worker::BatchReport) {
    counter!(MAIL_SENT).increment(report.sent as u64);
    counter!(MAIL_FAILED).increment(report.failed as u64);
    counter!(MAIL_RETRIED).increment(report.retried as u64);
}

/// Counts a registration decision: accepted (with its waiting-list position, if any) or refused
/// by a rule. A batch the database failed decided nothing and is not counted.
pub fn registration_decided<T>(decision: &Result<(T, Option<u32>), Refusal>) {
    match decision {
        Ok((_, None)) => counter!(REGISTRATION_DECISIONS, "outcome" => "confirmed").increment(1),
        Ok((_, Some(_))) => counter!(REGISTRATION_DECISIONS, "outcome" => "waiting_list").increment(1),
        Err(refusal) => {
            counter!(REGISTRATION_DECISIONS, "outcome" => "refused", "reason" => refusal_reason(refusal)).increment(1);
        }
    }
}

/// The same words as the API's `details.reason` of a refused registration.
fn refusal_reason(refusal: &Refusal) -> &'static str {
    match refusal {
        Refusal::Cancelled => "cancelled",
        Refusal::NotInvited { .. } => "not_invited",
        Refusal::AlreadyRegistered { .. } => "already_registered",
        Refusal::PastDeadline { .. } => "past_deadline",
        Refusal::MainSeatTaken { .. } => "main_seat_taken",
        Refusal::OverQuota { .. } => "over_quota",
    }
}

/// Counts a feed request answered from memory (`hit`) or rendered anew.
pub fn feed_cache(hit: bool) {
    counter!(if hit { FEED_CACHE_HITS } else { FEED_CACHE_MISSES }).increment(1);
}
