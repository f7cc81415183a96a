//! The words of each message: subject, plain text and HTML, rendered from the askama templates
//! under `frontend/templates/mail/`, one folder per kind of message (named as its outbox `kind`),
//! and in each folder `subject.<lang>.txt`, `body.<lang>.txt` and `body.<lang>.html`. The HTML
//! parts share `mail/layout.html`; the messages about a meeting share its facts
//! (`mail/meeting.<lang>.*`). Askama escapes every value in the HTML parts and none in the text.
//!
//! Each message is rendered from its own data ([`MeetingMail`], [`PromotionMail`],
//! [`PasswordLinkMail`]), already formatted for the recipient (times by
//! [`scheduler::when_where`]). Nothing here does IO.

use askama::Template;
use scheduler::when_where::Language;

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
    /// Local start and end with the zone, e.g. "Tuesday 15 June 2027, 10:00–13:00 (Europe/Vienna)".
    pub when: String,
    /// The place in one line, e.g. "Neuer Saal, Hofburg, Vienna".
    pub location: String,
    pub meeting_url: String,
    pub registration_url: String,
    pub accept_url: String,
    pub decline_url: String,
    /// Why the meeting is cancelled, as the organiser wrote it (cancellations only).
    pub cancellation_reason: Option<String>,
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Rendered {
    /// Renders the three parts of one message.
    fn from_parts(subject: &impl Template, text: &impl Template, html: &impl Template) -> Self {
        // A template file's last line break is dropped by askama; a text body ends with one.
        let mut text = part(text);
        text.push('\n');
        Self { subject: part(subject), text, html: part(html) }
    }
}

/// Renders one part. Only strings and numbers go into the mail templates, and writing them
/// into a `String` cannot fail; the snapshot tests render every template.
fn part(template: &impl Template) -> String {
    template.render().expect("a mail template renders strings and numbers only")
}

/// The subject of each message about a meeting, by kind and language.
#[derive(Template)]
enum MeetingSubject<'a> {
    #[template(path = "mail/invitation/subject.en.txt")]
    InvitationEn { mail: &'a MeetingMail },
    #[template(path = "mail/invitation/subject.fr.txt")]
    InvitationFr { mail: &'a MeetingMail },
    #[template(path = "mail/update/subject.en.txt")]
    UpdateEn { mail: &'a MeetingMail },
    #[template(path = "mail/update/subject.fr.txt")]
    UpdateFr { mail: &'a MeetingMail },
    #[template(path = "mail/cancellation/subject.en.txt")]
    CancellationEn { mail: &'a MeetingMail },
    #[template(path = "mail/cancellation/subject.fr.txt")]
    CancellationFr { mail: &'a MeetingMail },
}

/// The plain text of each message about a meeting.
#[derive(Template)]
enum MeetingText<'a> {
    #[template(path = "mail/invitation/body.en.txt")]
    InvitationEn { mail: &'a MeetingMail },
    #[template(path = "mail/invitation/body.fr.txt")]
    InvitationFr { mail: &'a MeetingMail },
    #[template(path = "mail/update/body.en.txt")]
    UpdateEn { mail: &'a MeetingMail },
    #[template(path = "mail/update/body.fr.txt")]
    UpdateFr { mail: &'a MeetingMail },
    #[template(path = "mail/cancellation/body.en.txt")]
    CancellationEn { mail: &'a MeetingMail },
    #[template(path = "mail/cancellation/body.fr.txt")]
    CancellationFr { mail: &'a MeetingMail },
}

/// The HTML of each message about a meeting.
#[derive(Template)]
enum MeetingHtml<'a> {
    #[template(path = "mail/invitation/body.en.html")]
    InvitationEn { mail: &'a MeetingMail },
    #[template(path = "mail/invitation/body.fr.html")]
    InvitationFr { mail: &'a MeetingMail },
    #[template(path = "mail/update/body.en.html")]
    UpdateEn { mail: &'a MeetingMail },
    #[template(path = "mail/update/body.fr.html")]
    UpdateFr { mail: &'a MeetingMail },
    #[template(path = "mail/cancellation/body.en.html")]
    CancellationEn { mail: &'a MeetingMail },
    #[template(path = "mail/cancellation/body.fr.html")]
    CancellationFr { mail: &'a MeetingMail },
}

/// Renders `kind` in `language`.
#[must_use]
pub fn render(kind: Kind, language: Language, mail: &MeetingMail) -> Rendered {
    use Language::{English, French};
    match (kind, language) {
        (Kind::Invitation, English) => Rendered::from_parts(
            &MeetingSubject::InvitationEn { mail },
            &MeetingText::InvitationEn { mail },
            &MeetingHtml::InvitationEn { mail },
        ),
        (Kind::Invitation, French) => Rendered::from_parts(
            &MeetingSubject::InvitationFr { mail },
            &MeetingText::InvitationFr { mail },
            &MeetingHtml::InvitationFr { mail },
        ),
        (Kind::Update, English) => Rendered::from_parts(
            &MeetingSubject::UpdateEn { mail },
            &MeetingText::UpdateEn { mail },
            &MeetingHtml::UpdateEn { mail },
        ),
        (Kind::Update, French) => Rendered::from_parts(
            &MeetingSubject::UpdateFr { mail },
            &MeetingText::UpdateFr { mail },
            &MeetingHtml::UpdateFr { mail },
        ),
        (Kind::Cancellation, English) => Rendered::from_parts(
            &MeetingSubject::CancellationEn { mail },
            &MeetingText::CancellationEn { mail },
            &MeetingHtml::CancellationEn { mail },
        ),
        (Kind::Cancellation, French) => Rendered::from_parts(
            &MeetingSubject::CancellationFr { mail },
            &MeetingText::CancellationFr { mail },
            &MeetingHtml::CancellationFr { mail },
        ),
    }
}

/// What the mail to an attendee moved up from the waiting list says.
#[derive(Debug, Clone)]
pub struct PromotionMail {
    /// The attendee's name.
    pub name: String,
    pub title: String,
    /// Local start and end with the zone, as in [`MeetingMail::when`].
    pub when: String,
}

#[derive(Template)]
enum PromotionSubject<'a> {
    #[template(path = "mail/waitlist_promotion/subject.en.txt")]
    En { mail: &'a PromotionMail },
    #[template(path = "mail/waitlist_promotion/subject.fr.txt")]
    Fr { mail: &'a PromotionMail },
}

#[derive(Template)]
enum PromotionText<'a> {
    #[template(path = "mail/waitlist_promotion/body.en.txt")]
    En { mail: &'a PromotionMail },
    #[template(path = "mail/waitlist_promotion/body.fr.txt")]
    Fr { mail: &'a PromotionMail },
}

#[derive(Template)]
enum PromotionHtml<'a> {
    #[template(path = "mail/waitlist_promotion/body.en.html")]
    En { mail: &'a PromotionMail },
    #[template(path = "mail/waitlist_promotion/body.fr.html")]
    Fr { mail: &'a PromotionMail },
}

/// Renders the waiting-list promotion mail in `language`.
#[must_use]
pub fn render_promotion(language: Language, mail: &PromotionMail) -> Rendered {
    match language {
        Language::English => Rendered::from_parts(
            &PromotionSubject::En { mail },
            &PromotionText::En { mail },
            &PromotionHtml::En { mail },
        ),
        Language::French => Rendered::from_parts(
            &PromotionSubject::Fr { mail },
            &PromotionText::Fr { mail },
            &PromotionHtml::Fr { mail },
        ),
    }
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

#[derive(Template)]
#[template(path = "mail/password_link/subject.en.txt")]
struct PasswordLinkSubject;

#[derive(Template)]
#[template(path = "mail/password_link/body.en.txt")]
struct PasswordLinkText<'a> {
    mail: &'a PasswordLinkMail,
}

#[derive(Template)]
#[template(path = "mail/password_link/body.en.html")]
struct PasswordLinkHtml<'a> {
    mail: &'a PasswordLinkMail,
}

/// Renders the set-password mail, in English: accounts are made by the Secretariat, whose
/// working language it is, before Plenary knows the user's language.
#[must_use]
pub fn render_password_link(mail: &PasswordLinkMail) -> Rendered {
    Rendered::from_parts(&PasswordLinkSubject, &PasswordLinkText { mail }, &PasswordLinkHtml { mail })
}

#[cfg(test)]
mod tests {
    //! Every kind of message in every language it is written in, from fixed inputs, as
    //! snapshots under `snapshots/`. The names carry markup and an ampersand: the HTML must
    //! escape them and the text must keep them as they are. A missing or changed snapshot fails
    //! the test (insta leaves a `.snap.new` beside it to review with `cargo insta review`).

    use super::*;

    const HOSTILE_NAME: &str = "Anna <script>alert(1)</script> Müller & \"Söhne\"";

    fn meeting_mail(language: Language) -> MeetingMail {
        let (invited_as, when, body_name) = match language {
            Language::English => (
                "Austria",
                "Tuesday 15 June 2027, 10:00–13:00 (Europe/Vienna)",
                "Contact Group with the Mediterranean Partners for Co-operation",
            ),
            Language::French => (
                "Autriche",
                "mardi 15 juin 2027, 10:00–13:00 (Europe/Vienna)",
                "Groupe de contact avec les partenaires méditerranéens pour la coopération",
            ),
        };
        MeetingMail {
            recipient_name: HOSTILE_NAME.into(),
            invited_as: invited_as.into(),
            title: "Contact Group <b>& friends</b>".into(),
            body_name: body_name.into(),
            when: when.into(),
            location: "Neuer Saal, Hofburg, Vienna".into(),
            meeting_url: "https://plenary.example/meetings/3".into(),
            registration_url: "https://plenary.example/delegation".into(),
            accept_url: "https://plenary.example/rsvp/MzphOkFU.c2ln".into(),
            decline_url: "https://plenary.example/rsvp/MzpkOkFU.c2ln".into(),
            cancellation_reason: Some("The Hofburg is closed <for repairs> & cleaning.".into()),
        }
    }

    /// The three parts of a message, one after the other, as a snapshot shows them.
    fn shown(rendered: &Rendered) -> String {
        format!("Subject: {}\n\n--- text ---\n{}\n--- html ---\n{}\n", rendered.subject, rendered.text, rendered.html)
    }

    #[test]
    fn every_message_about_a_meeting_in_english_and_french() {
        for kind in [Kind::Invitation, Kind::Update, Kind::Cancellation] {
            for language in [Language::English, Language::French] {
                let rendered = render(kind, language, &meeting_mail(language));
                insta::assert_snapshot!(format!("{}_{}", kind.as_str(), language.code()), shown(&rendered));
            }
        }
    }

    #[test]
    fn the_promotion_mail_in_english_and_french() {
        for (language, when) in [
            (Language::English, "Tuesday 15 June 2027, 10:00–13:00 (Europe/Vienna)"),
            (Language::French, "mardi 15 juin 2027, 10:00–13:00 (Europe/Vienna)"),
        ] {
            let mail = PromotionMail {
                name: HOSTILE_NAME.into(),
                title: "Contact Group <b>& friends</b>".into(),
                when: when.into(),
            };
            insta::assert_snapshot!(
                format!("waitlist_promotion_{}", language.code()),
                shown(&render_promotion(language, &mail))
            );
        }
    }

    #[test]
    fn the_password_mail_for_a_new_account_and_a_new_link() {
        for (new_account, name) in [(true, "password_link_new_account"), (false, "password_link_new_link")] {
            let mail = PasswordLinkMail {
                display_name: HOSTILE_NAME.into(),
                username: "anna@at.example".into(),
                url: "https://plenary.example/set-password/plp_x&y".into(),
                valid_days: 7,
                new_account,
            };
            insta::assert_snapshot!(name, shown(&render_password_link(&mail)));
        }
    }

    #[test]
    fn the_html_escapes_what_the_text_keeps() {
        let rendered = render(Kind::Invitation, Language::English, &meeting_mail(Language::English));
        assert!(rendered.text.contains(HOSTILE_NAME));
        assert!(rendered.subject.contains("Contact Group <b>& friends</b>"));
        assert!(!rendered.html.contains("<script>") && !rendered.html.contains("<b>"));
        assert!(rendered.html.contains("&#60;script&#62;") && rendered.html.contains("Müller &#38; &#34;Söhne&#34;"));
    }

    #[test]
    fn a_cancellation_has_no_answer_links() {
        for language in [Language::English, Language::French] {
            let rendered = render(Kind::Cancellation, language, &meeting_mail(language));
            assert!(!rendered.text.contains("rsvp") && !rendered.html.contains("rsvp"));
        }
    }
}
