//! The words of each message: subject, plain text and HTML, rendered purely from a
//! [`MeetingMail`] (in English and French) or a [`PasswordLinkMail`] (in English). Nothing here
//! does IO.

use std::fmt::Write as _;

use crate::db::enums::Language;

/// Which message about a meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The first invitation (METHOD:REQUEST).
    Invitation,
    /// The meeting moved, was renamed or re-roomed (METHOD:REQUEST, higher SEQUENCE).
    Update,
    /// The meeting is cancelled (METHOD:CANCEL).
    Cancellation,
}

impl Kind {
    /// The outbox `kind`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::Update => "update",
            Self::Cancellation => "cancellation",
        }
    }
}

/// Everything a message about a meeting says, already formatted for the recipient.
#[derive(Debug, Clone)]
pub struct MeetingMail {
    pub recipient_name: String,
    /// The delegation (or organisation) the recipient is invited for.
    pub invited_as: String,
    pub title: String,
    pub body_name: String,
    /// Local start and end with the zone, e.g. "Thursday 15 June 2027, 10:00–13:00 (Europe/Vienna)".
    pub when: String,
    pub location: String,
    pub meeting_url: String,
    pub registration_url: String,
    pub accept_url: String,
    pub decline_url: String,
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Renders `kind` in `language` (`fr`, otherwise English).
#[must_use]
pub fn render(kind: Kind, language: Language, mail: &MeetingMail) -> Rendered {
    let fr = language == Language::Fr;
    let (subject_prefix, intro) = match (kind, fr) {
        (Kind::Invitation, false) => {
            ("Invitation", format!("The delegation of {} is invited to the following meeting.", mail.invited_as))
        }
        (Kind::Invitation, true) => {
            ("Invitation", format!("La délégation de {} est invitée à la réunion suivante.", mail.invited_as))
        }
        (Kind::Update, false) => ("Updated", "The following meeting has changed; your calendar is updated.".into()),
        (Kind::Update, true) => {
            ("Modification", "La réunion suivante a été modifiée ; votre calendrier est mis à jour.".into())
        }
        (Kind::Cancellation, false) => ("Cancelled", "The following meeting is cancelled.".into()),
        (Kind::Cancellation, true) => ("Annulation", "La réunion suivante est annulée.".into()),
    };
    let subject = format!("{subject_prefix}: {} — {}", mail.title, mail.when);
    let labels = if fr {
        ["Réunion", "Organe", "Date", "Lieu", "Page de la réunion", "Inscription", "J’accepte", "Je décline"]
    } else {
        ["Meeting", "Body", "When", "Where", "Meeting page", "Registration", "Accept", "Decline"]
    };
    let greeting =
        if fr { format!("Bonjour {},", mail.recipient_name) } else { format!("Dear {},", mail.recipient_name) };
    let answer = kind != Kind::Cancellation;

    let mut text = format!("{greeting}\n\n{intro}\n\n");
    let rows =
        [(labels[0], &mail.title), (labels[1], &mail.body_name), (labels[2], &mail.when), (labels[3], &mail.location)];
    for (label, value) in rows {
        let _ = writeln!(text, "{label}: {value}");
    }
    let _ = write!(text, "\n{}: {}\n", labels[4], mail.meeting_url);
    if answer {
        let _ = writeln!(text, "{}: {}", labels[5], mail.registration_url);
        let _ = write!(text, "\n{}: {}\n{}: {}\n", labels[6], mail.accept_url, labels[7], mail.decline_url);
    }
    text.push_str("\n— Plenary, OSCE\n");

    let mut html = format!(
        "<!doctype html><html lang=\"{lang}\"><body style=\"font-family:sans-serif\"><p>{}</p><p>{}</p><table>",
        escape(&greeting),
        escape(&intro),
        lang = if fr { "fr" } else { "en" }
    );
    for (label, value) in rows {
        let _ = write!(html, "<tr><th align=\"left\">{}</th><td>{}</td></tr>", escape(label), escape(value));
    }
    let _ = write!(html, "</table><p><a href=\"{}\">{}</a>", escape(&mail.meeting_url), escape(labels[4]));
    if answer {
        let _ = write!(
            html,
            " · <a href=\"{}\">{}</a></p><p><a href=\"{}\">{}</a> · <a href=\"{}\">{}</a>",
            escape(&mail.registration_url),
            escape(labels[5]),
            escape(&mail.accept_url),
            escape(labels[6]),
            escape(&mail.decline_url),
            escape(labels[7])
        );
    }
    html.push_str("</p><p>— Plenary, OSCE</p></body></html>");
    Rendered { subject, text, html }
}

/// A user's one-time link to set their password.
#[derive(Debug, Clone)]
pub struct PasswordLinkMail {
    pub display_name: String,
    pub username: String,
    pub url: String,
    /// How many days the link works.
    pub valid_days: i64,
    /// For a new account; otherwise an organiser made a new link for an existing one.
    pub new_account: bool,
}

/// Renders the set-password mail, in English: accounts are made by the Secretariat, whose
/// working language it is, before Plenary knows the user's language.
#[must_use]
pub fn render_password_link(mail: &PasswordLinkMail) -> Rendered {
    let intro = if mail.new_account {
        "An account has been created for you on Plenary, the OSCE meeting calendar."
    } else {
        "An organiser has made a new link to set the password of your Plenary account; earlier links no longer work."
    };
    let greeting = format!("Dear {},", mail.display_name);
    let when = format!("The link works once, for {} days.", mail.valid_days);
    let ignore = "If you did not expect this message, you can ignore it.";
    let text = format!(
        "{greeting}\n\n{intro}\n\nUsername: {username}\n\nSet your password here:\n{url}\n\n{when} {ignore}\n\n— Plenary, OSCE\n",
        username = mail.username,
        url = mail.url,
    );
    let html = format!(
        "<!doctype html><html lang=\"en\"><body style=\"font-family:sans-serif\"><p>{}</p><p>{}</p>\
         <p>Username: <strong>{}</strong></p><p><a href=\"{url}\">Set your password</a></p><p>{url}</p>\
         <p>{} {}</p><p>— Plenary, OSCE</p></body></html>",
        escape(&greeting),
        escape(intro),
        escape(&mail.username),
        escape(&when),
        escape(ignore),
        url = escape(&mail.url),
    );
    Rendered { subject: "Your Plenary account".into(), text, html }
}

/// Escapes text for HTML element content and attribute values.
#[must_use]
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail() -> MeetingMail {
        MeetingMail {
            recipient_name: "Anna <Müller>".into(),
            invited_as: "Austria".into(),
            title: "Contact Group".into(),
            body_name: "Contact Group with the Mediterranean Partners".into(),
            when: "2027-06-15 10:00–13:00 (Europe/Vienna)".into(),
            location: "Neuer Saal, Hofburg, Vienna".into(),
            meeting_url: "https://p.example/meetings/3".into(),
            registration_url: "https://p.example/meetings/3/registration".into(),
            accept_url: "https://p.example/rsvp/a".into(),
            decline_url: "https://p.example/rsvp/d".into(),
        }
    }

    #[test]
    fn an_invitation_in_french_has_the_links_and_escapes_html() {
        let rendered = render(Kind::Invitation, Language::Fr, &mail());
        assert!(rendered.subject.starts_with("Invitation: Contact Group"));
        assert!(rendered.text.contains("La délégation de Austria est invitée"));
        assert!(rendered.text.contains("J’accepte: https://p.example/rsvp/a"));
        assert!(rendered.html.contains("Anna &lt;Müller&gt;"));
    }

    #[test]
    fn the_password_mail_has_the_link_in_both_parts_and_escapes_html() {
        let rendered = render_password_link(&PasswordLinkMail {
            display_name: "Anna <Müller>".into(),
            username: "anna@at.example".into(),
            url: "https://p.example/set-password/plp_x&y".into(),
            valid_days: 7,
            new_account: true,
        });
        assert_eq!(rendered.subject, "Your Plenary account");
        assert!(rendered.text.contains("\nhttps://p.example/set-password/plp_x&y\n"));
        assert!(rendered.text.contains("for 7 days"));
        assert!(rendered.html.contains("href=\"https://p.example/set-password/plp_x&amp;y\""));
        assert!(rendered.html.contains("Anna &lt;Müller&gt;"));
    }

    #[test]
    fn a_cancellation_has_no_answer_links() {
        let rendered = render(Kind::Cancellation, Language::En, &mail());
        assert!(rendered.subject.starts_with("Cancelled: "));
        assert!(!rendered.text.contains("rsvp"));
    }
}
