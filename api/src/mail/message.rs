//! The MIME message for one outbox row (RFC 6047 iMIP when it carries a calendar):
//!
//! ```text
//! multipart/mixed
//! ├── multipart/alternative
//! │   ├── text/plain; charset=utf-8
//! │   ├── text/html; charset=utf-8            (when the row has HTML)
//! │   └── text/calendar; method=REQUEST; charset=utf-8
//! ├── application/ics; name="invite.ics"     (the same calendar, as an attachment)
//! └── application/pdf; name="Agenda.pdf" …   (the meeting's documents, when it carries them)
//! ```
//! Without a calendar or documents the message is `multipart/alternative` (text and HTML) or
//! plain text. Which messages carry the meeting's documents is [`carries_documents`]'s answer;
//! they are read when the message leaves, so an invitation queued before an agenda was attached
//! still takes it along.
//!
//! A row's header fields are checked before lettre sees them: lettre panics while formatting a
//! display name with a line break in it (its `Display` fails inside `to_string`), and a line
//! break in any header would be a header injection. A row that does not pass is an error, which
//! the worker records as the message's failure.

use anyhow::{Context as _, bail};
use lettre::{
    Message,
    message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType},
};

use crate::db::entities::{meeting_documents, outbox};

/// Whether a message of outbox `kind` takes its meeting's documents along: the invitation and
/// its updates do; a cancellation has no use for an agenda.
#[must_use]
pub fn carries_documents(kind: &str) -> bool {
    matches!(kind, "invitation" | "update")
}

/// Builds the message for `row`, sent from `from`, with `documents` attached.
///
/// # Errors
/// When an address cannot be parsed or a header is malformed.
pub fn build(row: &outbox::Model, from: &Mailbox, documents: &[meeting_documents::Model]) -> anyhow::Result<Message> {
    check_header("the recipient's name", &row.recipient_name)?;
    check_header("the subject", &row.subject)?;
    if row.message_id.is_empty()
        || !row.message_id.bytes().all(|byte| byte.is_ascii_graphic() && !matches!(byte, b'<' | b'>'))
    {
        bail!("the Message-ID {:?} is not a printable ASCII word", row.message_id);
    }
    if let Some(method) = &row.calendar_method
        && (method.is_empty() || !method.bytes().all(|byte| byte.is_ascii_alphabetic()))
    {
        bail!("the calendar method {method:?} is not a word");
    }
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
    let mut attachments = Vec::new();
    let body = if row.html_body.is_none() && calendar.is_none() {
        Body::Text(text)
    } else {
        let mut alternative = MultiPart::alternative().singlepart(text);
        if let Some(html) = &row.html_body {
            alternative = alternative.singlepart(SinglePart::html(html.clone()));
        }
        if let Some((method, ics)) = calendar {
            let inline = ContentType::parse(&format!("text/calendar; method={method}; charset=utf-8"))
                .context("calendar content type")?;
            let attached = ContentType::parse(&format!("application/ics; name=\"invite.ics\"; method={method}"))
                .context("attachment content type")?;
            alternative = alternative.singlepart(SinglePart::builder().header(inline).body(ics.clone()));
            attachments.push(Attachment::new("invite.ics".into()).body(ics, attached));
        }
        Body::Alternative(alternative)
    };
    for document in documents {
        let content_type = ContentType::parse(&document.content_type)
            .with_context(|| format!("the content type of {:?}", document.filename))?;
        attachments.push(Attachment::new(document.filename.clone()).body(document.content.clone(), content_type));
    }
    let message = match (body, attachments.is_empty()) {
        (Body::Text(text), true) => builder.singlepart(text),
        (Body::Alternative(alternative), true) => builder.multipart(alternative),
        (body, false) => {
            let mixed = match body {
                Body::Text(text) => MultiPart::mixed().singlepart(text),
                Body::Alternative(alternative) => MultiPart::mixed().multipart(alternative),
            };
            builder.multipart(attachments.into_iter().fold(mixed, MultiPart::singlepart))
        }
    }
    .context("building the message")?;
    Ok(message)
}

/// What a message says, before any attachment.
enum Body {
    Text(SinglePart),
    Alternative(MultiPart),
}

/// Refuses a header value with a line break or another control character (TAB aside, which
/// headers allow), including Unicode's line and paragraph separators.
fn check_header(what: &str, value: &str) -> anyhow::Result<()> {
    if let Some(bad) = value.chars().find(|&c| (c.is_control() && c != '\t') || matches!(c, '\u{2028}' | '\u{2029}')) {
        bail!(
            "{what} {value:?} contains the control character U+{:04X}, which a mail header cannot carry",
            u32::from(bad)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::enums::{Language, OutboxStatus};

    fn row() -> outbox::Model {
        let now = chrono::Utc::now();
        outbox::Model {
            id: 1,
            kind: "invitation".into(),
            meeting_id: Some(3),
            recipient_email: "anna@example.org".into(),
            recipient_name: "Anna Müller".into(),
            language: Language::En,
            subject: "Invitation".into(),
            text_body: "Hello".into(),
            html_body: Some("<p>Hello</p>".into()),
            calendar_method: Some("CANCEL".into()),
            calendar_ics: Some("BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nEND:VCALENDAR\r\n".into()),
            message_id: "m3.s1.abc@plenary".into(),
            dedupe_key: "k".into(),
            status: OutboxStatus::Queued,
            attempts: 0,
            available_at: 0,
            lease_expires_at: None,
            leased_by: None,
            last_error: None,
            sent_at: None,
            created_at: now,
            updated_at: now,
            finished_at: None,
            purged_at: None,
        }
    }

    #[test]
    fn an_invitation_is_alternative_text_html_calendar_plus_the_attachment() {
        let message = build(&row(), &"Plenary <plenary@example.org>".parse().unwrap(), &[]).unwrap();
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

    #[test]
    fn documents_follow_the_calendar_as_named_attachments() {
        let agenda = meeting_documents::Model {
            id: 1,
            meeting_id: 3,
            filename: "Ordre du jour Amman.pdf".into(),
            content_type: "application/pdf".into(),
            size_bytes: 9,
            content: b"%PDF-1.4\n".to_vec(),
            created_at: chrono::Utc::now(),
        };
        let from: Mailbox = "Plenary <plenary@example.org>".parse().unwrap();
        let text = String::from_utf8(build(&row(), &from, std::slice::from_ref(&agenda)).unwrap().formatted()).unwrap();
        let ics = text.find("filename=\"invite.ics\"").expect("the calendar attachment");
        let pdf = text.find("Content-Type: application/pdf").expect("the document");
        assert!(ics < pdf, "the calendar first, then the documents: {text}");
        assert!(text.contains("Ordre du jour Amman.pdf"), "{text}");

        // A message with neither HTML nor a calendar still carries them.
        let plain = outbox::Model { html_body: None, calendar_method: None, calendar_ics: None, ..row() };
        let text = String::from_utf8(build(&plain, &from, &[agenda]).unwrap().formatted()).unwrap();
        assert!(text.contains("multipart/mixed") && text.contains("Content-Type: application/pdf"), "{text}");
        assert!(!text.contains("multipart/alternative"), "{text}");
    }

    /// Issue 12, item 1: lettre panicked formatting `To:` for a name with a line break.
    #[test]
    fn hostile_header_fields_are_errors_not_panics() {
        let from: Mailbox = "Plenary <plenary@example.org>".parse().unwrap();
        type Spoil = fn(&mut outbox::Model);
        let cases: [(&str, Spoil); 9] = [
            ("name", |row| row.recipient_name = "Eve\nX".into()),
            ("name", |row| row.recipient_name = "Eve\r\nBcc: x@evil.example".into()),
            ("name", |row| row.recipient_name = "Eve\u{0}".into()),
            ("name", |row| row.recipient_name = "Eve\u{85}".into()),
            ("subject", |row| row.subject = "Hi\r\nBcc: x@evil.example".into()),
            ("subject", |row| row.subject = "Hi\u{2028}there".into()),
            ("Message-ID", |row| row.message_id = "a b@plenary".into()),
            ("method", |row| row.calendar_method = Some("REQUEST\r\nX: y".into())),
            ("address", |row| row.recipient_email = "eve\n@de.example".into()),
        ];
        for (field, spoil) in cases {
            let mut row = row();
            spoil(&mut row);
            let built = std::panic::catch_unwind(|| build(&row, &from, &[]).map(|message| message.formatted()));
            let error = built.unwrap_or_else(|_| panic!("building panicked for a hostile {field}"));
            assert!(error.is_err(), "a hostile {field} was accepted: {row:?}");
        }
        let mut tabbed = row();
        tabbed.recipient_name = "Eve\tMüller".into();
        build(&tabbed, &from, &[]).unwrap().formatted();
    }
}
