//! The outbox's retention: the bodies of messages sent or given up more than
//! `--mail-retention-days` ago are cleared, keeping the delivery record (who, what kind, the
//! subject, the outcome, when). The bodies hold set-password and RSVP links, which should not
//! stay readable in the database (or its backups) long after their use.
//!
//! The purge runs at start and then every [`PURGE_EVERY`] on every replica, supervised like the
//! worker; it is one idempotent statement, so replicas running it at once do no harm. While the
//! database does not answer it retries with a growing pause ([`supervisor::Outage`]); a
//! shutdown abandons a purge in progress (nothing is half done: it is one statement).

use std::{future::Future, time::Duration};

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};

use super::{
    MailConfig,
    supervisor::{self, Supervised},
};
use crate::store::outbox;

/// How often the purge runs.
pub const PURGE_EVERY: Duration = Duration::from_secs(3_600);

/// Purges the messages finished more than the retention before `now`; returns how many.
///
/// # Errors
/// When the database does not answer.
pub async fn purge_once(db: &DatabaseConnection, settings: &MailConfig, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let retention = chrono::Duration::days(i64::from(settings.retention_days));
    outbox::purge(db, (now - retention).timestamp_millis()).await
}

/// Purges now and every [`PURGE_EVERY`] until `shutdown` completes.
pub async fn run(db: DatabaseConnection, settings: MailConfig, shutdown: impl Future<Output = ()> + Send) {
    tokio::pin!(shutdown);
    let mut outage = supervisor::Outage::new("outbox purge", Duration::from_secs(1), supervisor::MAX_BACKOFF);
    loop {
        let pause = tokio::select! {
            () = &mut shutdown => break,
            purged = purge_once(&db, &settings, Utc::now()) => match purged {
                Ok(purged) => {
                    outage.recovered();
                    if purged > 0 {
                        tracing::info!(purged, "cleared the bodies of old sent and failed messages");
                    }
                    PURGE_EVERY
                }
                Err(error) => outage.failed(&error.into()),
            },
        };
        tokio::select! {
            () = &mut shutdown => break,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// Starts [`run`] under a supervisor; stop it with [`Supervised::stop`].
#[must_use]
pub fn spawn(db: DatabaseConnection, settings: MailConfig) -> Supervised {
    supervisor::spawn("outbox purge", Duration::from_secs(1), move |shutdown| {
        run(db.clone(), settings.clone(), shutdown.wait())
    })
}
