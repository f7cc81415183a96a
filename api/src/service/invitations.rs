//! Sending a meeting's invitations (a preview, a send, a new round to everyone) and what became
//! of every message about the meeting, with the answers given through the links.
//!
//! The messages themselves are [`crate::mail::invitations`]'s; this module decides whether a
//! meeting may be sent, audits a send and reads the outbox back.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde_json::json;

use super::{Error, ServiceResult};
use crate::{
    auth::Principal,
    config::Config,
    mail::invitations::{self, Recipient},
    store::{self, audit::AuditEntry, outbox},
};

/// What an organiser asks of a send.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sending {
    /// Show who would get what, without queueing anything.
    pub preview: bool,
    /// Send again to everyone, as a new round (otherwise those already invited are skipped).
    pub resend: bool,
}

/// What became of one recipient in a send or preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Queued,
    AlreadyInvited,
    Preview,
}

impl Outcome {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::AlreadyInvited => "already_invited",
            Self::Preview => "preview",
        }
    }
}

/// One recipient of a send or preview; in a preview, the subject and text they would get.
#[derive(Debug, Clone)]
pub struct SentTo {
    pub recipient: Recipient,
    pub outcome: Outcome,
    pub subject: Option<String>,
    pub text: Option<String>,
}

/// A send or preview of a meeting's invitations.
#[derive(Debug, Clone)]
pub struct SendReport {
    pub meeting: i32,
    pub preview: bool,
    pub queued: usize,
    pub already_invited: usize,
    /// False when no SMTP server is configured: the mail stays queued.
    pub smtp_configured: bool,
    pub recipients: Vec<SentTo>,
}

/// Previews or queues meeting `id`'s invitations (organisers; the caller checks the role) and
/// audits a send. Sending twice queues nothing new; `resend` starts a new round.
///
/// # Errors
/// [`Error::NotFound`] for an unknown meeting, [`Error::Conflict`] for a cancelled or past one.
pub async fn send(
    db: &DatabaseConnection,
    config: &Config,
    principal: &Principal,
    id: i32,
    sending: Sending,
) -> ServiceResult<SendReport> {
    let meeting = super::meetings::load(db, id).await?;
    invitations::check_sendable(&meeting, Utc::now()).map_err(|error| Error::conflict(error.to_string()))?;
    let smtp_configured = config.smtp_url.is_some();
    if sending.preview {
        let recipients = invitations::preview(db, config, &meeting)
            .await?
            .into_iter()
            .map(|(recipient, message)| SentTo {
                recipient,
                outcome: Outcome::Preview,
                subject: Some(message.subject),
                text: Some(message.text_body),
            })
            .collect();
        return Ok(SendReport {
            meeting: id,
            preview: true,
            queued: 0,
            already_invited: 0,
            smtp_configured,
            recipients,
        });
    }
    let report = invitations::send(db, config, &meeting, sending.resend).await?;
    store::audit::record(
        db,
        AuditEntry::<(), _> {
            actor: &principal.actor,
            action: if sending.resend { "invitations.resend" } else { "invitations.send" },
            subject_type: "meeting",
            subject_id: id.to_string(),
            before: None,
            after: Some(&json!({"queued": report.queued.len(), "already_invited": report.already_invited.len()})),
        },
    )
    .await?;
    let (queued, already_invited) = (report.queued.len(), report.already_invited.len());
    let sent_to = |outcome| move |recipient| SentTo { recipient, outcome, subject: None, text: None };
    let recipients = report
        .queued
        .into_iter()
        .map(sent_to(Outcome::Queued))
        .chain(report.already_invited.into_iter().map(sent_to(Outcome::AlreadyInvited)))
        .collect();
    Ok(SendReport { meeting: id, preview: false, queued, already_invited, smtp_configured, recipients })
}

/// One message about a meeting and what became of it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub email: String,
    pub name: String,
    /// `invitation`, `update` or `cancellation`.
    pub kind: String,
    /// `queued`, `sending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i32,
    /// Why the last attempt failed (the SMTP server's answer).
    pub reason: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub message_id: String,
    /// The recipient's answer through the RSVP links.
    pub answer: Option<String>,
}

/// Every message about a meeting, and the latest to each recipient.
#[derive(Debug, Clone)]
pub struct Deliveries {
    pub meeting: i32,
    pub smtp_configured: bool,
    /// The latest message to each recipient.
    pub recipients: Vec<Delivery>,
    /// Every message about the meeting, oldest first.
    pub messages: Vec<Delivery>,
}

/// What became of every message about meeting `id`, with the recipients' answers (organisers;
/// the caller checks the role).
///
/// # Errors
/// [`Error::NotFound`] for an unknown meeting.
pub async fn deliveries(db: &DatabaseConnection, config: &Config, id: i32) -> ServiceResult<Deliveries> {
    super::meetings::load(db, id).await?;
    let answers: HashMap<String, String> =
        store::invitations::rsvps(db, id).await?.into_iter().map(|row| (row.recipient_email, row.answer)).collect();
    let messages: Vec<Delivery> = outbox::for_meeting(db, id)
        .await?
        .into_iter()
        .map(|row| Delivery {
            answer: answers.get(&row.recipient_email.to_lowercase()).cloned(),
            email: row.recipient_email,
            name: row.recipient_name,
            kind: row.kind,
            status: row.status,
            attempts: row.attempts,
            reason: row.last_error,
            sent_at: row.sent_at,
            message_id: row.message_id,
        })
        .collect();
    let mut latest: Vec<Delivery> = Vec::new();
    for message in &messages {
        match latest.iter_mut().find(|seen| seen.email == message.email) {
            Some(seen) => *seen = message.clone(),
            None => latest.push(message.clone()),
        }
    }
    Ok(Deliveries { meeting: id, smtp_configured: config.smtp_url.is_some(), recipients: latest, messages })
}
