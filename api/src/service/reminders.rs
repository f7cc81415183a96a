//! Reminding invited delegations that have registered nobody, a configurable number of days
//! (`--reminder-days`) before a meeting's registration deadline, by mail to their contacts who
//! receive invitations.
//!
//! [`send_due`] is one pass: it asks [`scheduler::reminders`] whether each upcoming meeting's
//! reminders are due and to whom, then, per delegation, records the reminder and queues its
//! mail in one transaction. The record's primary key (meeting, State) makes the pass safe to run
//! on every replica at once and again and again: only the first insert queues mail. [`spawn`]
//! runs a pass at start and every [`REMIND_EVERY`], supervised like the mail worker; while the
//! database does not answer it retries with a growing pause ([`supervisor::Outage`]). A
//! shutdown abandons a pass in progress: each delegation's reminder is its own transaction, so
//! nothing is half recorded, and the next pass (on any replica) finishes the work.

use std::{future::Future, sync::Arc, time::Duration};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use scheduler::reminders::{self, Window};
use sea_orm::DatabaseConnection;

use super::registrations::Facts;
use crate::{
    config::Config,
    db::enums::MeetingStatus,
    mail::{
        registration::reminder_message,
        supervisor::{self, Supervised},
    },
    store::{self, meetings::Context},
};

/// How often the reminders are looked for: reminders are counted in days, so an hour late is
/// on time.
pub const REMIND_EVERY: Duration = Duration::from_secs(3_600);

/// One delegation reminded of one meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminded {
    pub meeting_id: i32,
    pub iso2: String,
    /// How many contacts the reminder was queued for.
    pub recipients: usize,
}

/// Queues the reminders due at `now` that no pass has queued before; returns them.
///
/// A delegation due a reminder with no contact who receives invitations is not recorded, so a
/// contact added before the deadline is still reminded by a later pass.
///
/// # Errors
/// When the database does not answer.
pub async fn send_due(db: &DatabaseConnection, config: &Config, now: DateTime<Utc>) -> anyhow::Result<Vec<Reminded>> {
    let context = Context::load(db).await?;
    let sent = store::reminders::invitations_sent(db).await?;
    let base = config.public_base();
    let mut out = Vec::new();
    for meeting in store::reminders::upcoming(db, now).await? {
        let id = meeting.id;
        let facts = Facts::load(db, meeting).await?;
        let settings = store::attendance::settings_of(store::attendance::settings(db, id).await?.as_ref());
        let window = Window {
            deadline: facts.rules(settings).deadline(),
            invitations_sent: sent.contains(&id),
            cancelled: facts.meeting.status == MeetingStatus::Cancelled,
        };
        if !reminders::is_open(&window, now, config.mail.reminder_days) {
            continue;
        }
        let (invitees, _) = store::invitations::invitees(db, &context, &facts.meeting).await?;
        let invited: Vec<String> = invitees.into_iter().map(|invitee| invitee.delegation.iso2).collect();
        let registered: Vec<String> =
            store::attendance::active(db, id).await?.into_iter().map(|row| row.iso2).collect();
        let declined: Vec<String> = store::invitations::rsvps(db, id)
            .await?
            .into_iter()
            .filter(|answer| answer.answer == "declined")
            .filter_map(|answer| answer.iso2)
            .collect();
        let reminded = store::reminders::reminded(db, id).await?;
        let mail = facts.for_mail(&context, &base);
        for iso2 in reminders::due(&invited, &registered, &declined, &reminded) {
            let contacts = store::contacts::with_roles(db, &[iso2.to_owned()], &config.mail.invite_roles).await?;
            if contacts.is_empty() {
                continue;
            }
            let txn = crate::db::begin_write(db).await?;
            // Another replica's pass recorded it first: its mail is queued; dropping the
            // transaction queues nothing here.
            if !store::reminders::record(&txn, id, iso2, now).await? {
                continue;
            }
            for contact in &contacts {
                store::outbox::enqueue(&txn, reminder_message(&mail, window.deadline, contact)).await?;
            }
            txn.commit().await.context("queueing a reminder failed")?;
            out.push(Reminded { meeting_id: id, iso2: iso2.to_owned(), recipients: contacts.len() });
        }
    }
    Ok(out)
}

/// Runs [`send_due`] now and every [`REMIND_EVERY`] until `shutdown` completes.
pub async fn run(db: DatabaseConnection, config: Arc<Config>, shutdown: impl Future<Output = ()> + Send) {
    tokio::pin!(shutdown);
    let mut outage = supervisor::Outage::new("reminders to register", Duration::from_secs(1), supervisor::MAX_BACKOFF);
    loop {
        let pause = tokio::select! {
            () = &mut shutdown => break,
            reminded = send_due(&db, &config, Utc::now()) => match reminded {
                Ok(reminded) => {
                    outage.recovered();
                    if !reminded.is_empty() {
                        tracing::info!(reminded = reminded.len(), "queued reminders to register");
                    }
                    REMIND_EVERY
                }
                // What this pass recorded is queued already; the retry does the rest.
                Err(error) => outage.failed(&error),
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
pub fn spawn(db: DatabaseConnection, config: Arc<Config>) -> Supervised {
    supervisor::spawn("reminders to register", Duration::from_secs(1), move |shutdown| {
        run(db.clone(), Arc::clone(&config), shutdown.wait())
    })
}
