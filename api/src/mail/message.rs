//! The MIME message for one outbox row (RFC 6047 iMIP when it carries a calendar):
//!
//! ```text
//! multipart/mixed
//! ├── multipart/alternative
//! │   ├── text/plain; charset=utf-8
//! │   ├── text/html; charset=utf-8            (when the row has HTML)
//! │   └── text/calendar; method=REQUEST; charset=utf-8
//! └── application/ics; name="invite.ics"     (the same calendar, as an attachment)
//! ```
//! Without a calendar the message is `multipart/alternative` (text and HTML) or plain text.

use anyhow::Context as _;
use lettre::{
    Message,
    message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType},
};

use crate::db::entities::outbox;

/// Builds the message for `row`, sent from `from`.
///
/// # Errors
/// When an address cannot be parsed or a header is malformed.
pub fn build(row: &outbox::Model, from: &Mailbox) -> anyhow::Result<Message> {
    let to = Mailbox::new(
        Some(row.recipient_name.clone()).filter(|name| !name.is_empty()),
        row.recipient_email.parse().with_context(|| format!("bad recipient address {:?}", row.recipient_email))?,
    );
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&row.subject)
        .message_id(Some(format!("<{}>", row.message_id)));
    let text = SinglePart::builder().header(ContentType::TEXT_PLAIN).body(row.text_body.clone());
    let calendar = match (&row.calendar_method, &row.calendar_ics) {
        (Some(method), Some(ics)) => Some((method.to_uppercase(), ics.clone())),
        _ => None,
    };
    let message = match (&row.html_body, calendar) {
        (None, None) => builder.singlepart(text),
        (html, calendar) => {
            let mut alternative = MultiPart::alternative().singlepart(text);
            if let Some(html) = html {
                alternative = alternative.singlepart(SinglePart::html(html.clone()));
            }
            match calendar {
                None => builder.multipart(alternative),
                Some((method, ics)) => {
                    let inline = ContentType::parse(&format!("text/calendar; method={method}; charset=utf-8"))
                        .context("calendar content type")?;
                    let attached =
                        ContentType::parse(&format!("application/ics; name=\"invite.ics\"; method={method}"))
                            .context("attachment content type")?;
                    alternative = alternative.singlepart(SinglePart::builder().header(inline).body(ics.clone()));
                    builder.multipart(
                        MultiPart::mixed()
                            .multipart(alternative)
                            .singlepart(Attachment::new("invite.ics".into()).body(ics, attached)),
                    )
                }
            }
        }
    }
    .context("building the message")?;
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> outbox::Model {
        let now = chrono::Utc::now();
        outbox::Model {
            id: 1,
            kind: "invitation".into(),
            meeting_id: Some(3),
            recipient_email: "anna@example.org".into(),
            recipient_name: "Anna Müller".into(),
            language: "en".into(),
            subject: "Invitation".into(),
            text_body: "Hello".into(),
            html_body: Some("<p>Hello</p>".into()),
            calendar_method: Some("CANCEL".into()),
            calendar_ics: Some("BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nEND:VCALENDAR\r\n".into()),
            message_id: "m3.s1.abc@plenary".into(),
            dedupe_key: "k".into(),
            status: "queued".into(),
            attempts: 0,
            available_at: 0,
            lease_expires_at: None,
            leased_by: None,
            last_error: None,
            sent_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn an_invitation_is_alternative_text_html_calendar_plus_the_attachment() {
        let message = build(&row(), &"Plenary <plenary@example.org>".parse().unwrap()).unwrap();
        let text = String::from_utf8(message.formatted()).unwrap();
        assert!(text.contains("Message-ID: <m3.s1.abc@plenary>"), "{text}");
        assert!(text.contains("multipart/mixed"));
        assert!(text.contains("multipart/alternative"));
        assert!(text.contains("text/calendar; method=CANCEL; charset=utf-8"), "{text}");
        assert!(text.contains("filename=\"invite.ics\""), "{text}");
        let plain = text.find("text/plain").unwrap();
        let html = text.find("text/html").unwrap();
        let calendar = text.find("text/calendar").unwrap();
        assert!(plain < html && html < calendar, "parts in order of increasing richness");
    }
}
