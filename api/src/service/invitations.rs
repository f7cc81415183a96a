//! Invitations: who a meeting invites (with the reason) and organisers' changes to that list,
//! the invited delegations no invitation would reach, the invitation's words organisers chose
//! per language, sending (a preview, a send, a new round to everyone) and what became of every
//! message about the meeting, with the answers given through the links.
//!
//! Who is invited is [`scheduler::eligibility`]'s rule; the messages are
//! [`crate::mail::invitations`]'s; this module checks organisers' changes, decides whether a
//! meeting may be sent, audits both and reads the outbox back.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use scheduler::eligibility::{Adjustments, Invitee, OfficialGuest, Reason, unknown_guests};
use sea_orm::DatabaseConnection;
use serde_json::json;

use super::{Error, Rule, ServiceResult};
use crate::{
    auth::Principal,
    config::Config,
    db::entities::{invitation_texts, meetings},
    db::enums::OutboxStatus,
    mail::{
        invitations::{self, Recipient},
        templates::Kind,
    },
    store::{self, audit::AuditEntry, meetings::Context, outbox},
    validate::{self, TextKind},
};

/// Who a meeting invites.
#[derive(Debug, Clone)]
pub struct InviteeList {
    pub meeting_id: i32,
    pub body_code: String,
    /// The meeting's local date, on which membership is judged.
    pub date: NaiveDate,
    /// A closed session: the Partners are left out.
    pub closed: bool,
    /// The invited delegations, each with its reason in words.
    pub delegations: Vec<(Invitee, String)>,
    /// The official guests.
    pub officials: Vec<OfficialGuest>,
    /// Why an official guest is invited, in words.
    pub guest_reason: String,
}

/// Who meeting `id` invites, by the body's rules, membership on the meeting's date and the
/// organisers' adjustments, each with the reason.
///
/// # Errors
/// [`Error::NotFound`] for an unknown meeting.
pub async fn invitees(db: &DatabaseConnection, id: i32) -> ServiceResult<InviteeList> {
    invitee_list(db, &super::meetings::load(db, id).await?).await
}

async fn invitee_list(db: &DatabaseConnection, meeting: &meetings::Model) -> ServiceResult<InviteeList> {
    let context = Context::load(db).await?;
    let (invited, adjustments) = store::invitations::invitees(db, &context, meeting).await?;
    let date = store::meetings::local_date(meeting);
    let body = store::meetings::body_of(meeting);
    let describe = |reason: Reason| body.map(|body| reason.describe(body, date)).unwrap_or_default();
    Ok(InviteeList {
        meeting_id: meeting.id,
        body_code: meeting.body_code.clone(),
        date,
        closed: adjustments.closed,
        delegations: invited
            .into_iter()
            .map(|invitee| {
                let reason = describe(invitee.reason);
                (invitee, reason)
            })
            .collect(),
        officials: adjustments.officials,
        guest_reason: describe(Reason::Guest),
    })
}

/// An official guest as an organiser typed them.
#[derive(Debug, Clone)]
pub struct NewOfficial {
    pub name: String,
    pub organisation: Option<String>,
    pub email: String,
    /// English when absent.
    pub language: Option<String>,
}

/// Organisers' changes to a meeting's list, as sent.
#[derive(Debug, Clone, Default)]
pub struct NewAdjustments {
    pub closed: bool,
    pub guest_delegations: Vec<String>,
    pub officials: Vec<NewOfficial>,
}

/// Organisers' changes to meeting `id`'s list (none when never set).
///
/// # Errors
/// [`Error::NotFound`] for an unknown meeting.
pub async fn adjustments(db: &DatabaseConnection, id: i32) -> ServiceResult<Adjustments> {
    super::meetings::load(db, id).await?;
    Ok(store::invitations::adjustments(db, id).await?)
}

/// Changes who meeting `id` invites (organisers; the caller checks the role): a closed session
/// without the Partners, guest delegations, officials. Audited; returns the new list.
///
/// # Errors
/// [`Error::NotFound`] for an unknown meeting; [`Error::Invalid`] naming the official's field
/// at fault, or the guest delegations that take no part on the meeting's date.
pub async fn set_adjustments(
    db: &DatabaseConnection,
    principal: &Principal,
    id: i32,
    input: NewAdjustments,
) -> ServiceResult<InviteeList> {
    super::require_organiser(principal, "choose a meeting's guests")?;
    let meeting = super::meetings::load(db, id).await?;
    let mut officials = Vec::new();
    for (index, official) in input.officials.into_iter().enumerate() {
        let field = |name: &str| format!("officials[{index}].{name}");
        let name = validate::required(&field("name"), TextKind::PersonName, &official.name)?;
        let organisation =
            validate::optional(&field("organisation"), TextKind::Organisation, official.organisation.as_deref())?;
        let email = validate::email(&field("email"), &official.email)?;
        let language =
            validate::language(&field("language"), official.language.as_deref().unwrap_or("en"))?.to_string();
        officials.push(OfficialGuest { name, organisation, email, language });
    }
    let adjustments = Adjustments {
        closed: input.closed,
        guest_delegations: input.guest_delegations.iter().map(|code| code.trim().to_uppercase()).collect(),
        officials,
    };
    let context = Context::load(db).await?;
    let date = store::meetings::local_date(&meeting);
    let unknown = unknown_guests(&context.states.on(date), &adjustments);
    if !unknown.is_empty() {
        return Err(Error::invalid(
            "guest_delegations",
            Rule::Unknown,
            format!(
                "{} not a participating State or Partner on {date}",
                unknown.join(", ") + if unknown.len() == 1 { " is" } else { " are" }
            ),
        ));
    }
    store::invitations::save_adjustments(db, id, &adjustments).await?;
    store::audit::record(
        db,
        AuditEntry::<(), _> {
            actor: &principal.actor,
            action: "meeting.invitation_settings",
            subject_type: "meeting",
            subject_id: id.to_string(),
            before: None,
            after: Some(&adjustments),
        },
    )
    .await?;
    invitee_list(db, &meeting).await
}

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
    pub status: OutboxStatus,
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
    // Only the invitations and what followed them: mail to attendees about their registration
    // and reminders to register are not deliveries of the invitation.
    let messages: Vec<Delivery> = outbox::for_meeting(db, id)
        .await?
        .into_iter()
        .filter(|row| Kind::ALL.iter().any(|kind| kind.as_str() == row.kind))
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

/// An invited delegation that no invitation would reach: it has no contact with a role that
/// receives invitations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreached {
    pub iso2: String,
    /// In English, as the organisers' pages show it.
    pub name: String,
}

/// The delegations meeting `id` invites that no invitation would reach, in the order of the
/// list of invitees (organisers; the caller checks the role).
///
/// # Errors
/// [`Error::NotFound`] for an unknown meeting.
pub async fn unreached(db: &DatabaseConnection, config: &Config, id: i32) -> ServiceResult<Vec<Unreached>> {
    let meeting = super::meetings::load(db, id).await?;
    let context = Context::load(db).await?;
    let (invited, _) = store::invitations::invitees(db, &context, &meeting).await?;
    let codes: Vec<String> = invited.iter().map(|invitee| invitee.delegation.iso2.clone()).collect();
    let reached: std::collections::HashSet<String> = store::contacts::with_roles(db, &codes, &config.mail.invite_roles)
        .await?
        .into_iter()
        .map(|contact| contact.iso2)
        .collect();
    Ok(invited
        .into_iter()
        .filter(|invitee| !reached.contains(&invitee.delegation.iso2))
        .map(|invitee| Unreached { iso2: invitee.delegation.iso2.clone(), name: invitee.delegation.name_en.clone() })
        .collect())
}

/// The invitation's words organisers chose for meeting `id`, one entry per language that has
/// any.
///
/// # Errors
/// [`Error::NotFound`] for an unknown meeting.
pub async fn words(db: &DatabaseConnection, id: i32) -> ServiceResult<Vec<invitation_texts::Model>> {
    super::meetings::load(db, id).await?;
    Ok(store::documents::invitation_texts(db, id).await?)
}

/// The invitation's words in one language, as an organiser typed them; blank keeps the
/// generated subject or opening.
#[derive(Debug, Clone, Default)]
pub struct NewWords {
    /// `en` or `fr`.
    pub language: String,
    pub subject: String,
    pub opening: String,
}

/// Sets meeting `id`'s invitation subject and opening paragraph in one language (organisers;
/// the caller checks the role), checked by the input policy, and audits it. The meeting's
/// facts, the calendar part and the links stay generated.
///
/// # Errors
/// [`Error::NotFound`] for an unknown meeting; [`Error::Several`] with an [`Error::Invalid`]
/// for each field at fault (`language`, `subject`, `opening`).
pub async fn set_words(
    db: &DatabaseConnection,
    principal: &Principal,
    id: i32,
    input: &NewWords,
) -> ServiceResult<invitation_texts::Model> {
    super::require_organiser(principal, "write an invitation's words")?;
    super::meetings::load(db, id).await?;
    let mut problems = Vec::new();
    let language = validate::language("language", &input.language).map_err(|error| problems.push(error)).ok();
    let subject = validate::optional("subject", TextKind::Title, Some(&input.subject))
        .map_err(|error| problems.push(error))
        .unwrap_or_default();
    let opening = validate::optional("opening", TextKind::FreeText, Some(&input.opening))
        .map_err(|error| problems.push(error))
        .unwrap_or_default();
    let Some(language) = language.filter(|_| problems.is_empty()) else {
        return Err(Error::Several(problems));
    };
    let txn = crate::db::begin_write(db).await?;
    store::documents::save_invitation_text(&txn, id, language, subject.clone(), opening.clone()).await?;
    store::audit::record(
        &txn,
        AuditEntry::<(), _> {
            actor: &principal.actor,
            action: "meeting.invitation_words",
            subject_type: "meeting",
            subject_id: id.to_string(),
            before: None,
            after: Some(&json!({"language": language, "subject": subject, "opening": opening})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(invitation_texts::Model { meeting_id: id, language, subject, opening, updated_at: Utc::now() })
}
