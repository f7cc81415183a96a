//! `GET /healthz` and `GET /readyz`.
//!
//! - `/healthz` (liveness, a stable interface): 200 when the database answers, 503 when not.
//! - `/readyz` (readiness for a load balancer): 503 "shutting down" as soon as a drain has begun
//!   ([`crate::shutdown`]); otherwise 200 only when the database answers, every
//!   migration this build knows is applied, and this process's mail worker beats (when an SMTP
//!   URL is configured; without one there is no worker, reported as "not configured"); 503
//!   with the reasons otherwise. It also reports the outbox: how many messages wait and for how
//!   long the oldest has, "delayed" past `--mail-stale-after-secs`.
//!
//! Each check that asks the database waits at most `--database-timeout-ms`, so a database that
//! hangs (rather than refusing) still gets a prompt "not ready".
//!
//! ```json
//! {"status": "not ready", "reasons": ["..."],
//!  "checks": {"database": {"status": "ok"}, "migrations": {"status": "pending", "pending": ["..."]},
//!             "mail_worker": {"status": "ok", "last_beat_ms_ago": 12},
//!             "outbox": {"status": "delayed", "queued": 3, "oldest_queued_secs": 1200, "stale_after_secs": 900}}}
//! ```

use axum::{Json, Router, extract::State, http::StatusCode, routing::get};
use chrono::Utc;
use migration::{Migrator, MigratorTrait as _};
use serde_json::{Value, json};

use crate::{
    app::AppState,
    mail::worker::{self, Liveness},
    store::outbox,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(check_health)).route("/readyz", get(check_readiness))
}

/// `check` within the database timeout; `None` when it took longer.
async fn bounded<T>(state: &AppState, check: impl Future<Output = T>) -> Option<T> {
    tokio::time::timeout(state.config.database_timeout(), check).await.ok()
}

/// Whether the database answers a ping within the database timeout.
async fn database_answers(state: &AppState) -> bool {
    match bounded(state, state.db.ping()).await {
        Some(Ok(())) => true,
        Some(Err(error)) => {
            crate::db::log_unavailable(&error.into());
            false
        }
        None => {
            crate::db::log_unavailable(&anyhow::anyhow!("a ping got no answer in time"));
            false
        }
    }
}

async fn check_health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    if database_answers(&state).await {
        (StatusCode::OK, Json(json!({ "status": "ok" })))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "database unavailable" })))
    }
}

/// What `/readyz` found, for its answer and for `/metrics`.
pub(super) struct Readiness {
    pub ready: bool,
    /// `/readyz`'s JSON body.
    pub body: Value,
    /// The outbox's waiting messages and the age of the oldest in seconds (0 when none waits),
    /// when it could be read.
    pub backlog: Option<(u64, u64)>,
}

async fn check_readiness(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let readiness = readiness(&state).await;
    (if readiness.ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(readiness.body))
}

pub(super) async fn readiness(state: &AppState) -> Readiness {
    let mut reasons: Vec<String> = Vec::new();
    if state.drain.is_draining() {
        // Checked first and alone: a stopping replica is out, whatever else holds.
        let body = json!({ "status": "shutting down", "reasons": ["the service is shutting down"], "checks": {} });
        return Readiness { ready: false, body, backlog: None };
    }
    let database_up = database_answers(state).await;
    if !database_up {
        reasons.push("the database does not answer".into());
    }
    let database = json!({ "status": if database_up { "ok" } else { "unavailable" } });
    // A delayed outbox is reported but does not make the replica unready: taking web replicas
    // out of the load balancer delivers no mail (the cause is the SMTP server, or a worker that
    // the `mail_worker` check already counts), and would turn a mail delay into an outage.
    let ((migrations, pending), (outbox, backlog)) = if database_up {
        tokio::join!(check_migrations(state), report_outbox(state))
    } else {
        ((unknown(), None), (unknown(), None))
    };
    reasons.extend(pending);
    let mail_worker = check_worker(state, &mut reasons);
    let ready = reasons.is_empty();
    let body = json!({
        "status": if ready { "ready" } else { "not ready" },
        "reasons": reasons,
        "checks": { "database": database, "migrations": migrations, "mail_worker": mail_worker, "outbox": outbox },
    });
    Readiness { ready, body, backlog }
}

fn unknown() -> Value {
    json!({ "status": "unknown" })
}

/// The migrations' check, and the reason it gives for not being ready.
async fn check_migrations(state: &AppState) -> (Value, Option<String>) {
    let pending = bounded(state, Migrator::get_pending_migrations_read_only(&state.db))
        .await
        .unwrap_or_else(|| Err(sea_orm::DbErr::Custom("no answer in time".into())));
    match pending {
        Ok(pending) if pending.is_empty() => (json!({ "status": "ok" }), None),
        Ok(pending) => {
            let names: Vec<&str> = pending.iter().map(|migration| migration.name()).collect();
            let reason = format!("{} migrations are not applied: {}", names.len(), names.join(", "));
            (json!({ "status": "pending", "pending": names }), Some(reason))
        }
        Err(error) => {
            tracing::warn!(%error, "readiness: cannot read the applied migrations");
            (unknown(), Some("the applied migrations cannot be read".into()))
        }
    }
}

fn check_worker(state: &AppState, reasons: &mut Vec<String>) -> Value {
    if state.config.smtp_url.is_none() {
        return json!({ "status": "not configured" });
    }
    let limit_ms = worker::stall_limit_ms(&state.config.mail);
    match state.mail_worker.liveness(Utc::now().timestamp_millis(), limit_ms) {
        Liveness::Alive { since_ms } => json!({ "status": "ok", "last_beat_ms_ago": since_ms }),
        Liveness::Stalled { since_ms } => {
            reasons.push(format!("the mail worker has not run for {} s", since_ms / 1_000));
            json!({ "status": "stalled", "last_beat_ms_ago": since_ms })
        }
        Liveness::NotStarted | Liveness::Stopped => {
            reasons.push("the mail worker is not running".into());
            json!({ "status": "not running" })
        }
    }
}

/// The outbox's check, and its figures for `/metrics` when it could be read.
async fn report_outbox(state: &AppState) -> (Value, Option<(u64, u64)>) {
    let stale_after_secs = state.config.mail.stale_after_secs;
    let backlog = bounded(state, outbox::backlog(&state.db))
        .await
        .unwrap_or_else(|| Err(sea_orm::DbErr::Custom("no answer in time".into())));
    match backlog {
        Ok(backlog) => {
            let oldest_secs =
                backlog.oldest_queued_at.map(|queued| (Utc::now() - queued).num_seconds().max(0).unsigned_abs());
            let delayed = oldest_secs.is_some_and(|age| age > stale_after_secs);
            let body = json!({
                "status": if delayed { "delayed" } else { "ok" },
                "queued": backlog.waiting,
                "oldest_queued_secs": oldest_secs,
                "stale_after_secs": stale_after_secs,
            });
            (body, Some((backlog.waiting, oldest_secs.unwrap_or(0))))
        }
        Err(error) => {
            tracing::warn!(%error, "readiness: cannot read the outbox");
            (unknown(), None)
        }
    }
}
