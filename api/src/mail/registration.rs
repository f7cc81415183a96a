//! The mail around registration: to a registered attendee when they are registered (with a
//! seat, or on the waiting list), moved up from the waiting list, or withdrawn; and the reminder
//! to register that an invited delegation's contacts get before the deadline.
//!
//! Each is queued in the outbox in the transaction of the change it tells of, so none goes
//! untold and none tells of a change that was rolled back: the attendee's by
//! `service::registrations` (the promotion by `store::attendance::promote`), the reminder by
//! `service::reminders` with its record. Dedupe keys name the registration (each of these events
//! happens to one registration once at most) or the meeting, delegation and contact.

use chrono::{DateTime, Utc};
use scheduler::when_where::{self, Language};

use super::templates::{AttendeeKind, AttendeeMail, ReminderMail, Rendered, render_attendee, render_reminder};
use crate::{
    db::entities::{contacts, meetings, registrations},
    store::{self, meetings::Context, outbox::NewMessage},
};

/// A meeting as the mail about registering for it describes it.
#[derive(Clone, Copy)]
pub struct MeetingForMail<'a> {
    pub meeting: &'a meetings::Model,
    /// For the place and the delegations' names in the reader's language.
    pub context: &'a Context,
    /// The base of links (`Config::public_base`).
    pub base: &'a str,
}

impl MeetingForMail<'_> {
    fn when(&self, language: Language) -> String {
        store::meetings::time_of(self.meeting).period_with_zone(language)
    }

    fn location(&self, language: Language) -> String {
        self.context.place(self.meeting, language).line()
    }

    /// The delegation's registration page for the meeting.
    fn registration_url(&self) -> String {
        format!("{}/meetings/{}/registration", self.base, self.meeting.id)
    }
}

/// The message of `kind` to `row`'s attendee, in their language; `position` is their place in
/// the waiting list.
#[must_use]
pub fn attendee_message(
    kind: AttendeeKind,
    row: &registrations::Model,
    meeting: &MeetingForMail<'_>,
    position: Option<u32>,
) -> NewMessage {
    let language = Language::from(row.language);
    let Rendered { subject, text, html } = render_attendee(
        kind,
        language,
        &AttendeeMail {
            name: row.name.clone(),
            delegation: meeting.context.state_name(&row.iso2, language),
            title: meeting.meeting.title.clone(),
            when: meeting.when(language),
            location: meeting.location(language),
            registration_url: meeting.registration_url(),
            position,
        },
    );
    NewMessage {
        kind: kind.as_str().into(),
        meeting_id: Some(meeting.meeting.id),
        recipient_email: row.email.clone(),
        recipient_name: row.name.clone(),
        language: row.language,
        subject,
        text_body: text,
        html_body: Some(html),
        calendar: None,
        message_id: format!("{}-{}@plenary", kind.as_str().replace('_', "-"), row.id),
        dedupe_key: format!("{}:{}", kind.as_str(), row.id),
    }
}

/// The outbox `kind` of the reminder to register.
pub const REMINDER: &str = "registration_reminder";

/// The reminder to `contact` that their delegation has registered nobody for the meeting,
/// whose registration closes at `deadline`; in the contact's language.
#[must_use]
pub fn reminder_message(
    meeting: &MeetingForMail<'_>,
    deadline: DateTime<Utc>,
    contact: &contacts::Model,
) -> NewMessage {
    let language = Language::from(contact.language);
    let local_deadline = deadline.with_timezone(&meeting.meeting.zone());
    let Rendered { subject, text, html } = render_reminder(
        language,
        &ReminderMail {
            recipient_name: contact.name.clone(),
            delegation: meeting.context.state_name(&contact.iso2, language),
            title: meeting.meeting.title.clone(),
            when: meeting.when(language),
            location: meeting.location(language),
            deadline: format!("{} ({})", when_where::moment(&local_deadline, language), meeting.meeting.time_zone),
            registration_url: meeting.registration_url(),
        },
    );
    let email = contact.email.to_lowercase();
    NewMessage {
        kind: REMINDER.into(),
        meeting_id: Some(meeting.meeting.id),
        recipient_email: email.clone(),
        recipient_name: contact.name.clone(),
        language: contact.language,
        subject,
        text_body: text,
        html_body: Some(html),
        calendar: None,
        message_id: format!("registration-reminder-m{}-c{}@plenary", meeting.meeting.id, contact.id),
        dedupe_key: format!("{REMINDER}:{}:{}:{email}", meeting.meeting.id, contact.iso2),
    }
}
