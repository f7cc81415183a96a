//! The mail telling an attendee on a meeting's waiting list that a seat has become theirs.
//! `store::attendance::promote` queues it in the transaction that moves them up.

use scheduler::when_where::{Language, MeetingTime};

use super::templates::{PromotionMail, Rendered, render_promotion};
use crate::{db::entities::registrations, store::outbox::NewMessage};

/// The outbox `kind` of the promotion mail.
pub const PROMOTION: &str = "waitlist_promotion";

/// What the promotion mail says about the meeting.
#[derive(Debug, Clone, Copy)]
pub struct MeetingForMail<'a> {
    pub id: i32,
    pub title: &'a str,
    pub time: MeetingTime,
}

/// The mail telling `row`'s attendee that a seat is theirs, in their language (en or fr).
#[must_use]
pub fn promotion_message(row: &registrations::Model, meeting: &MeetingForMail<'_>) -> NewMessage {
    let language = Language::from(row.language);
    let Rendered { subject, text, html } = render_promotion(
        language,
        &PromotionMail {
            name: row.name.clone(),
            title: meeting.title.to_owned(),
            when: meeting.time.period_with_zone(language),
        },
    );
    NewMessage {
        kind: PROMOTION.into(),
        meeting_id: Some(meeting.id),
        recipient_email: row.email.clone(),
        recipient_name: row.name.clone(),
        language: row.language,
        subject,
        text_body: text,
        html_body: Some(html),
        calendar: None,
        message_id: format!("waitlist-promotion-{}@plenary", row.id),
        // A registration moves up once at most: it never goes back to the waiting list.
        dedupe_key: format!("{PROMOTION}:{}", row.id),
    }
}
