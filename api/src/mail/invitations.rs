//! Invitations for a meeting: who gets one, composing each message (text, HTML, iCalendar
//! REQUEST or CANCEL) and queueing it in the outbox; updates and cancellations follow changes.
//!
//! Idempotence: each message's dedupe key names the meeting, the recipient and the SEQUENCE, and
//! sending skips recipients who already had an invitation or update for the meeting, so sending
//! twice sends nothing new, a contact added later gets theirs on the next send, and an explicit
//! resend starts a new round.

use std::collections::BTreeMap;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use lettre::message::Mailbox;
use scheduler::{
    ical::{CalendarEvent, EventStatus, Invitation, Method, Person, render_invitation},
    when_where::Language,
};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use sha2::{Digest as _, Sha256};

use super::{
    rsvp::{self, Answer, Rsvp},
    templates::{self, Kind, MeetingMail, Rendered},
};
use crate::{
    config::Config,
    db::{
        entities::{invitation_texts, meetings, outbox},
        enums::{self, MeetingStatus},
    },
    store::{
        self,
        meetings::Context,
        outbox::{CalendarPart, NewMessage},
    },
};

/// One person a message goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The delegation they are invited for; `None` for an official guest.
    pub iso2: Option<String>,
    /// The delegation's name (in the recipient's language) or the official's organisation.
    pub invited_as: String,
    pub name: String,
    /// Lower case.
    pub email: String,
    pub language: enums::Language,
    /// The contact's role, or `guest`.
    pub role: String,
}

/// Everyone the meeting's invitation goes to: the contacts with an inviting role of every
/// invited delegation, then the official guests; each address once.
///
/// # Errors
/// When the database does not answer.
pub async fn recipients(
    db: &impl ConnectionTrait,
    config: &Config,
    context: &Context,
    meeting: &meetings::Model,
) -> anyhow::Result<Vec<Recipient>> {
    let (invited, adjustments) = store::invitations::invitees(db, context, meeting).await?;
    let officials = adjustments.officials;
    let codes: Vec<String> = invited.iter().map(|invitee| invitee.delegation.iso2.clone()).collect();
    let mut contacts: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for contact in store::contacts::with_roles(db, &codes, &config.mail.invite_roles).await? {
        contacts.entry(contact.iso2.clone()).or_default().push(contact);
    }
    let mut out: Vec<Recipient> = Vec::new();
    for invitee in &invited {
        for contact in contacts.get(&invitee.delegation.iso2).into_iter().flatten() {
            let name = if contact.language == enums::Language::Fr {
                &invitee.delegation.name_fr
            } else {
                &invitee.delegation.name_en
            };
            out.push(Recipient {
                iso2: Some(contact.iso2.clone()),
                invited_as: name.clone(),
                name: contact.name.clone(),
                email: contact.email.to_lowercase(),
                language: contact.language,
                role: contact.role.clone(),
            });
        }
    }
    for official in officials {
        out.push(Recipient {
            iso2: None,
            invited_as: official.organisation.clone().unwrap_or_else(|| official.name.clone()),
            name: official.name,
            email: official.email.to_lowercase(),
            // Checked against the known languages when the organisers stored the guest.
            language: enums::Language::parse(&official.language).unwrap_or(enums::Language::En),
            role: "guest".into(),
        });
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|recipient| seen.insert(recipient.email.clone()));
    Ok(out)
}

/// Why invitations cannot go out for a meeting.
#[derive(Debug, thiserror::Error)]
pub enum NotSendable {
    #[error("meeting {0} is cancelled; its invitations cannot be sent")]
    Cancelled(i32),
    #[error("meeting {0} is over; its invitations cannot be sent")]
    Past(i32),
}

/// Checks that invitations may go out for `meeting` at `now`.
///
/// # Errors
/// When the meeting is cancelled or over.
pub fn check_sendable(meeting: &meetings::Model, now: DateTime<Utc>) -> Result<(), NotSendable> {
    if meeting.status == MeetingStatus::Cancelled {
        return Err(NotSendable::Cancelled(meeting.id));
    }
    if meeting.ends_at <= now.timestamp() {
        return Err(NotSendable::Past(meeting.id));
    }
    Ok(())
}

/// What a send did.
#[derive(Debug, Default)]
pub struct SendReport {
    /// Recipients whose message was queued now.
    pub queued: Vec<Recipient>,
    /// Recipients who had already been invited (not queued again).
    pub already_invited: Vec<Recipient>,
}

/// The messages a send would queue, rendered, without queueing anything.
///
/// # Errors
/// When the database does not answer.
pub async fn preview(
    db: &impl ConnectionTrait,
    config: &Config,
    meeting: &meetings::Model,
) -> anyhow::Result<Vec<(Recipient, NewMessage)>> {
    let context = Context::load(db).await?;
    let secret = store::invitations::secret(db, rsvp::SECRET_NAME).await?;
    let recipients = recipients(db, config, &context, meeting).await?;
    let words = store::documents::invitation_texts(db, meeting.id).await?;
    let now = Utc::now();
    Ok(recipients
        .into_iter()
        .map(|recipient| {
            let invitation = Kind::Invitation;
            let message = compose(config, &secret, &context, meeting, &recipient, invitation, &words, None, now);
            (recipient, message)
        })
        .collect())
}

/// Queues the invitation for every recipient not yet invited (or, with `resend`, for every
/// recipient, as a new round). The caller checked [`check_sendable`].
///
/// # Errors
/// When the database does not answer.
pub async fn send(
    db: &DatabaseConnection,
    config: &Config,
    meeting: &meetings::Model,
    resend: bool,
) -> anyhow::Result<SendReport> {
    let context = Context::load(db).await?;
    let secret = store::invitations::secret(db, rsvp::SECRET_NAME).await?;
    let recipients = recipients(db, config, &context, meeting).await?;
    let invited = already_invited(db, meeting.id).await?;
    let words = store::documents::invitation_texts(db, meeting.id).await?;
    let now = Utc::now();
    let round = resend.then(|| now.timestamp_millis());
    let mut report = SendReport::default();
    let txn = crate::db::begin_write(db).await?;
    for recipient in recipients {
        if !resend && invited.contains_key(&recipient.email) {
            report.already_invited.push(recipient);
            continue;
        }
        let message = compose(config, &secret, &context, meeting, &recipient, Kind::Invitation, &words, round, now);
        if store::outbox::enqueue(&txn, message).await? {
            report.queued.push(recipient);
        } else {
            report.already_invited.push(recipient);
        }
    }
    txn.commit().await.context("queueing the invitations failed")?;
    Ok(report)
}

/// After a meeting changed from `before` to `after`: queues an update (METHOD:REQUEST with the
/// new SEQUENCE) or, when it was cancelled, a cancellation (METHOD:CANCEL) to everyone already
/// invited. Returns how many messages were queued.
///
/// Call it with the transaction that saves the change, so the change and its mail are stored
/// together or not at all.
///
/// # Errors
/// When the database does not answer.
pub async fn meeting_changed(
    db: &impl ConnectionTrait,
    config: &Config,
    before: &meetings::Model,
    after: &meetings::Model,
) -> anyhow::Result<usize> {
    if after.sequence <= before.sequence {
        return Ok(0);
    }
    let invited = already_invited(db, after.id).await?;
    if invited.is_empty() {
        return Ok(0);
    }
    let kind = if after.status == MeetingStatus::Cancelled { Kind::Cancellation } else { Kind::Update };
    let context = Context::load(db).await?;
    let secret = store::invitations::secret(db, rsvp::SECRET_NAME).await?;
    let current: BTreeMap<String, Recipient> = recipients(db, config, &context, after)
        .await?
        .into_iter()
        .map(|recipient| (recipient.email.clone(), recipient))
        .collect();
    let now = Utc::now();
    let mut queued = 0;
    for (email, row) in invited {
        let recipient = current.get(&email).cloned().unwrap_or_else(|| Recipient {
            iso2: None,
            invited_as: row.recipient_name.clone(),
            name: row.recipient_name.clone(),
            email: email.clone(),
            language: row.language,
            role: "former".into(),
        });
        let message = compose(config, &secret, &context, after, &recipient, kind, &[], None, now);
        if store::outbox::enqueue(db, message).await.context("queueing the updates failed")? {
            queued += 1;
        }
    }
    Ok(queued)
}

/// Everyone who was sent an invitation or update for the meeting, by address, with the latest
/// such message.
async fn already_invited(
    db: &impl ConnectionTrait,
    meeting_id: i32,
) -> anyhow::Result<BTreeMap<String, outbox::Model>> {
    let mut invited = BTreeMap::new();
    for row in store::outbox::for_meeting(db, meeting_id).await? {
        if row.kind == Kind::Invitation.as_str() || row.kind == Kind::Update.as_str() {
            invited.insert(row.recipient_email.to_lowercase(), row);
        }
    }
    Ok(invited)
}

/// Renders one message for one recipient. `words` are the organisers' subject and opening per
/// language (an invitation uses the recipient's); `round` is set for an explicit resend.
#[expect(clippy::too_many_arguments, reason = "all of it goes into one message; a struct would only rename them")]
fn compose(
    config: &Config,
    secret: &[u8],
    context: &Context,
    meeting: &meetings::Model,
    recipient: &Recipient,
    kind: Kind,
    words: &[invitation_texts::Model],
    round: Option<i64>,
    now: DateTime<Utc>,
) -> NewMessage {
    let base = config.public_base();
    let zone = meeting.zone();
    let language = Language::from(recipient.language);
    let body = store::meetings::body_of(meeting);
    let body_name = body.map_or_else(
        || meeting.body_code.clone(),
        |b| match language {
            Language::English => b.name_en.into(),
            Language::French => b.name_fr.into(),
        },
    );
    let location = context.place(meeting, language).line();
    let link = |answer| {
        let token = rsvp::sign(
            secret,
            &Rsvp { meeting_id: meeting.id, answer, iso2: recipient.iso2.clone(), email: recipient.email.clone() },
        );
        format!("{base}/rsvp/{token}")
    };
    let own_words = words.iter().find(|words| kind == Kind::Invitation && words.language == recipient.language);
    let mail = MeetingMail {
        recipient_name: recipient.name.clone(),
        invited_as: recipient.invited_as.clone(),
        title: meeting.title.clone(),
        body_name: body_name.clone(),
        when: store::meetings::time_of(meeting).period_with_zone(language),
        location: location.clone(),
        meeting_url: format!("{base}/meetings/{}", meeting.id),
        // The delegation's registration page for this meeting, whatever its date.
        registration_url: format!("{base}/meetings/{}/registration", meeting.id),
        accept_url: link(Answer::Accepted),
        decline_url: link(Answer::Declined),
        subject: own_words.and_then(|words| words.subject.clone()),
        opening: own_words.and_then(|words| words.opening.clone()),
        cancellation_reason: meeting.cancellation_reason.clone(),
    };
    let Rendered { subject, text, html } = templates::render(kind, language, &mail);
    let organizer: Mailbox = config.mail_from.parse().unwrap_or_else(|_| "plenary@localhost".parse().expect("address"));
    let method = if kind == Kind::Cancellation { Method::Cancel } else { Method::Request };
    let ics = render_invitation(&Invitation {
        method,
        event: CalendarEvent {
            uid: meeting.uid.clone(),
            sequence: u32::try_from(meeting.sequence).unwrap_or(0),
            summary: meeting.title.clone(),
            location,
            description: format!("{body_name}\n{}", mail.meeting_url),
            url: Some(mail.meeting_url.clone()),
            start: DateTime::from_timestamp(meeting.starts_at, 0).unwrap_or_default(),
            end: DateTime::from_timestamp(meeting.ends_at, 0).unwrap_or_default(),
            time_zone: zone,
            status: if meeting.status == MeetingStatus::Cancelled {
                EventStatus::Cancelled
            } else {
                EventStatus::Confirmed
            },
            last_modified: meeting.updated_at,
            categories: vec![meeting.body_code.clone()],
        },
        stamp: now,
        organizer: Person {
            name: organizer.name.clone().unwrap_or_else(|| "Plenary".into()),
            email: organizer.email.to_string(),
        },
        attendee: Person { name: recipient.name.clone(), email: recipient.email.clone() },
    });
    let digest = Sha256::digest(recipient.email.as_bytes());
    let short: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    let suffix = round.map(|round| format!(".r{round}")).unwrap_or_default();
    let domain = organizer.email.domain().to_owned();
    NewMessage {
        kind: kind.as_str().into(),
        meeting_id: Some(meeting.id),
        recipient_email: recipient.email.clone(),
        recipient_name: recipient.name.clone(),
        language: recipient.language,
        subject,
        text_body: text,
        html_body: Some(html),
        calendar: Some(CalendarPart {
            method: if method == Method::Cancel { "CANCEL" } else { "REQUEST" }.into(),
            ics,
        }),
        message_id: format!("{}.m{}.s{}.{short}{suffix}@{domain}", kind.as_str(), meeting.id, meeting.sequence),
        dedupe_key: format!("{}:{}:{}:{}{suffix}", kind.as_str(), meeting.id, meeting.sequence, recipient.email),
    }
}
