//! Mail: rendering invitations, the SMTP transport and the outbox worker.
//!
//! Everything that sends mail queues it in the outbox (`crate::store::outbox::enqueue`) inside
//! the change that causes it; [`worker`] delivers it. The parts:
//! - [`templates`]: subject, text and HTML of each kind of message, from the askama templates
//!   under `frontend/templates/mail/` (pure);
//! - [`message`]: the MIME message (RFC 6047 iMIP) built from an outbox row;
//! - [`smtp`]: the pooled SMTP connections messages are sent over;
//! - [`worker`]: claims rows with a lease, sends them as a continuous stream, retries, records;
//! - [`supervisor`]: restarts a background task (the worker, the purge) that exits or panics;
//! - [`retention`]: clears the bodies of old sent and failed messages;
//! - [`invitations`]: who gets what for a meeting — sending, updates, cancellations;
//! - [`rsvp`]: signed accept/decline links (their pages are in `crate::web`);
//! - [`accounts`]: the set-password link a new user gets;
//! - [`registration`]: the mail to a registered attendee (registered, on the waiting list, moved
//!   up, withdrawn) and the reminder to register to an invited delegation.

pub mod accounts;
pub mod cli;
pub mod invitations;
pub mod message;
pub mod registration;
pub mod retention;
pub mod rsvp;
pub mod smtp;
pub mod supervisor;
pub mod templates;
pub mod worker;

use clap::Args;

/// The mail settings of [`crate::config::Config`].
#[derive(Clone, Debug, Args)]
pub struct MailConfig {
    /// Which contact roles receive invitations (comma-separated: `head_of_delegation`,
    /// `contact_point`, `adviser`).
    #[arg(long, env = "PLENARY_INVITE_ROLES", default_value = "contact_point", value_delimiter = ',', global = true)]
    pub invite_roles: Vec<String>,

    /// Delay before the first retry after a temporary SMTP failure, in milliseconds; each
    /// further retry waits twice as long (up to an hour).
    #[arg(long = "mail-retry-ms", env = "PLENARY_MAIL_RETRY_MS", default_value_t = 5_000, global = true)]
    pub retry_base_ms: u64,

    /// Attempts before a message that keeps failing temporarily is given up as failed.
    #[arg(long = "mail-max-attempts", env = "PLENARY_MAIL_MAX_ATTEMPTS", default_value_t = 12, global = true)]
    pub max_attempts: i32,

    /// How many messages are sent at once (the size of the SMTP connection pool).
    #[arg(long = "mail-concurrency", env = "PLENARY_MAIL_CONCURRENCY", default_value_t = 8, global = true)]
    pub concurrency: u32,

    /// How often an idle worker looks for new mail, in milliseconds.
    #[arg(long = "mail-poll-ms", env = "PLENARY_MAIL_POLL_MS", default_value_t = 500, global = true)]
    pub poll_ms: u64,

    /// The longest one SMTP send may take before it counts as a temporary failure, in
    /// milliseconds (lettre's own timeouts do not cover every hang).
    #[arg(
        long = "mail-send-timeout-ms",
        env = "PLENARY_MAIL_SEND_TIMEOUT_MS",
        default_value_t = 30_000,
        global = true
    )]
    pub send_timeout_ms: u64,

    /// How long a worker's claim on a message lasts, in milliseconds; a worker that dies
    /// leaves its messages to others after this. Keep it well above the send timeout.
    #[arg(long = "mail-lease-ms", env = "PLENARY_MAIL_LEASE_MS", default_value_t = 120_000, global = true)]
    pub lease_ms: u64,

    /// After how many seconds a message still waiting for delivery makes `/readyz` report the
    /// outbox as delayed.
    #[arg(long = "mail-stale-after-secs", env = "PLENARY_MAIL_STALE_AFTER_SECS", default_value_t = 900, global = true)]
    pub stale_after_secs: u64,

    /// How many days the bodies of sent and failed messages are kept (they hold set-password
    /// and RSVP links); after that only the delivery record stays.
    #[arg(long = "mail-retention-days", env = "PLENARY_MAIL_RETENTION_DAYS", default_value_t = 30, global = true)]
    pub retention_days: u32,

    /// How many days before a meeting's registration deadline its invited delegations that
    /// have registered nobody are reminded (0: no reminders).
    #[arg(long, env = "PLENARY_REMINDER_DAYS", default_value_t = 7, global = true)]
    pub reminder_days: u32,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            invite_roles: vec!["contact_point".into()],
            retry_base_ms: 5_000,
            max_attempts: 12,
            concurrency: 8,
            poll_ms: 500,
            send_timeout_ms: 30_000,
            lease_ms: 120_000,
            stale_after_secs: 900,
            retention_days: 30,
            reminder_days: 7,
        }
    }
}

/// The contact roles Plenary knows.
pub const ROLES: [&str; 3] = ["head_of_delegation", "contact_point", "adviser"];
