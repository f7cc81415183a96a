//! The words of each message: subject, plain text and HTML, rendered from the askama templates
//! under `frontend/templates/mail/`, one folder per kind of message (named as its outbox `kind`),
//! and in each folder `subject.<lang>.txt`, `body.<lang>.txt` and `body.<lang>.html`. The HTML
//! parts share `mail/layout.html`; the messages about a meeting share its facts
//! (`mail/meeting.<lang>.*`). Askama escapes every value in the HTML parts and none in the text.
//!
//! Each message is rendered from its own data ([`MeetingMail`], [`AttendeeMail`],
//! [`ReminderMail`], [`PasswordLinkMail`]), already formatted for the recipient (times by
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
    /// Every message about a meeting to its invited delegations.
    pub const ALL: [Self; 3] = [Self::Invitation, Self::Update, Self::Cancellation];

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
    /// The delegation's registration page for the meeting.
    pub registration_url: String,
    pub accept_url: String,
    pub decline_url: String,
    /// The invitation's subject as organisers wrote it for this language; `None` keeps the
    /// generated one. Updates and cancellations ignore it.
    pub subject: Option<String>,
    /// The invitation's opening paragraph as organisers wrote it for this language; `None`
    /// keeps the generated one.
    pub opening: Option<String>,
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

/// Which message to a registered attendee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttendeeKind {
    /// Registered with a seat.
    Registered,
    /// Registered on the waiting list of a full meeting.
    Waiting,
    /// Moved up from the waiting list: the seat is theirs.
    Promoted,
    /// Their registration was withdrawn.
    Withdrawn,
}

impl AttendeeKind {
    /// Every kind, for tests.
    pub const ALL: [Self; 4] = [Self::Registered, Self::Waiting, Self::Promoted, Self::Withdrawn];

    /// The outbox `kind`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registration_confirmed",
            Self::Waiting => "registration_waiting",
            Self::Promoted => "waitlist_promotion",
            Self::Withdrawn => "registration_withdrawn",
        }
    }
}

/// What a message to a registered attendee says, already formatted for them.
#[derive(Debug, Clone)]
pub struct AttendeeMail {
    /// The attendee's name.
    pub name: String,
    /// The delegation they are registered with, in their language.
    pub delegation: String,
    pub title: String,
    /// Local start and end with the zone, as in [`MeetingMail::when`].
    pub when: String,
    /// The place in one line; empty while it is not known.
    pub location: String,
    /// The delegation's registration page for the meeting.
    pub registration_url: String,
    /// The place in the waiting list, for [`AttendeeKind::Waiting`].
    pub position: Option<u32>,
}

#[derive(Template)]
enum AttendeeSubject<'a> {
    #[template(path = "mail/registration_confirmed/subject.en.txt")]
    RegisteredEn { mail: &'a AttendeeMail },
    #[template(path = "mail/registration_confirmed/subject.fr.txt")]
    RegisteredFr { mail: &'a AttendeeMail },
    #[template(path = "mail/registration_waiting/subject.en.txt")]
    WaitingEn { mail: &'a AttendeeMail },
    #[template(path = "mail/registration_waiting/subject.fr.txt")]
    WaitingFr { mail: &'a AttendeeMail },
    #[template(path = "mail/waitlist_promotion/subject.en.txt")]
    PromotedEn { mail: &'a AttendeeMail },
    #[template(path = "mail/waitlist_promotion/subject.fr.txt")]
    PromotedFr { mail: &'a AttendeeMail },
    #[template(path = "mail/registration_withdrawn/subject.en.txt")]
    WithdrawnEn { mail: &'a AttendeeMail },
    #[template(path = "mail/registration_withdrawn/subject.fr.txt")]
    WithdrawnFr { mail: &'a AttendeeMail },
}

#[derive(Template)]
enum AttendeeText<'a> {
    #[template(path = "mail/registration_confirmed/body.en.txt")]
    RegisteredEn { mail: &'a AttendeeMail },
    #[template(path = "mail/registration_confirmed/body.fr.txt")]
    RegisteredFr { mail: &'a AttendeeMail },
    #[template(path = "mail/registration_waiting/body.en.txt")]
    WaitingEn { mail: &'a AttendeeMail },
    #[template(path = "mail/registration_waiting/body.fr.txt")]
    WaitingFr { mail: &'a AttendeeMail },
    #[template(path = "mail/waitlist_promotion/body.en.txt")]
    PromotedEn { mail: &'a AttendeeMail },
    #[template(path = "mail/waitlist_promotion/body.fr.txt")]
    PromotedFr { mail: &'a AttendeeMail },
    #[template(path = "mail/registration_withdrawn/body.en.txt")]
    WithdrawnEn { mail: &'a AttendeeMail },
    #[template(path = "mail/registration_withdrawn/body.fr.txt")]
    WithdrawnFr { mail: &'a AttendeeMail },
}

#[derive(Template)]
enum AttendeeHtml<'a> {
    #[template(path = "mail/registration_confirmed/body.en.html")]
    RegisteredEn { mail: &'a AttendeeMail },
    #[template(path = "mail/registration_confirmed/body.fr.html")]
    RegisteredFr { mail: &'a AttendeeMail },
    #[template(path = "mail/registration_waiting/body.en.html")]
    WaitingEn { mail: &'a AttendeeMail },
    #[template(path = "mail/registration_waiting/body.fr.html")]
    WaitingFr { mail: &'a AttendeeMail },
    #[template(path = "mail/waitlist_promotion/body.en.html")]
    PromotedEn { mail: &'a AttendeeMail },
    #[template(path = "mail/waitlist_promotion/body.fr.html")]
    PromotedFr { mail: &'a AttendeeMail },
    #[template(path = "mail/registration_withdrawn/body.en.html")]
    WithdrawnEn { mail: &'a AttendeeMail },
    #[template(path = "mail/registration_withdrawn/body.fr.html")]
    WithdrawnFr { mail: &'a AttendeeMail },
}

/// Renders the message of `kind` to an attendee in `language`.
#[must_use]
pub fn render_attendee(kind: AttendeeKind, language: Language, mail: &AttendeeMail) -> Rendered {
    use AttendeeKind::{Promoted, Registered, Waiting, Withdrawn};
    use Language::{English, French};
    match (kind, language) {
        (Registered, English) => Rendered::from_parts(
            &AttendeeSubject::RegisteredEn { mail },
            &AttendeeText::RegisteredEn { mail },
            &AttendeeHtml::RegisteredEn { mail },
        ),
        (Registered, French) => Rendered::from_parts(
            &AttendeeSubject::RegisteredFr { mail },
            &AttendeeText::RegisteredFr { mail },
            &AttendeeHtml::RegisteredFr { mail },
        ),
        (Waiting, English) => Rendered::from_parts(
            &AttendeeSubject::WaitingEn { mail },
            &AttendeeText::WaitingEn { mail },
            &AttendeeHtml::WaitingEn { mail },
        ),
        (Waiting, French) => Rendered::from_parts(
            &AttendeeSubject::WaitingFr { mail },
            &AttendeeText::WaitingFr { mail },
            &AttendeeHtml::WaitingFr { mail },
        ),
        (Promoted, English) => Rendered::from_parts(
            &AttendeeSubject::PromotedEn { mail },
            &AttendeeText::PromotedEn { mail },
            &AttendeeHtml::PromotedEn { mail },
        ),
        (Promoted, French) => Rendered::from_parts(
            &AttendeeSubject::PromotedFr { mail },
            &AttendeeText::PromotedFr { mail },
            &AttendeeHtml::PromotedFr { mail },
        ),
        (Withdrawn, English) => Rendered::from_parts(
            &AttendeeSubject::WithdrawnEn { mail },
            &AttendeeText::WithdrawnEn { mail },
            &AttendeeHtml::WithdrawnEn { mail },
        ),
        (Withdrawn, French) => Rendered::from_parts(
            &AttendeeSubject::WithdrawnFr { mail },
            &AttendeeText::WithdrawnFr { mail },
            &AttendeeHtml::WithdrawnFr { mail },
        ),
    }
}

/// What the reminder to register says to a contact of an invited delegation.
#[derive(Debug, Clone)]
pub struct ReminderMail {
    pub recipient_name: String,
    /// The delegation, in the recipient's language.
    pub delegation: String,
    pub title: String,
    /// Local start and end with the zone, as in [`MeetingMail::when`].
    pub when: String,
    /// The place in one line; empty while it is not known.
    pub location: String,
    /// When registration closes, on the clock of the meeting's place, with the zone.
    pub deadline: String,
    /// The delegation's registration page for the meeting.
    pub registration_url: String,
}

#[derive(Template)]
enum ReminderSubject<'a> {
    #[template(path = "mail/registration_reminder/subject.en.txt")]
    En { mail: &'a ReminderMail },
    #[template(path = "mail/registration_reminder/subject.fr.txt")]
    Fr { mail: &'a ReminderMail },
}

#[derive(Template)]
enum ReminderText<'a> {
    #[template(path = "mail/registration_reminder/body.en.txt")]
    En { mail: &'a ReminderMail },
    #[template(path = "mail/registration_reminder/body.fr.txt")]
    Fr { mail: &'a ReminderMail },
}

#[derive(Template)]
enum ReminderHtml<'a> {
    #[template(path = "mail/registration_reminder/body.en.html")]
    En { mail: &'a ReminderMail },
    #[template(path = "mail/registration_reminder/body.fr.html")]
    Fr { mail: &'a ReminderMail },
}

/// Renders the reminder to register in `language`.
#[must_use]
pub fn render_reminder(language: Language, mail: &ReminderMail) -> Rendered {
    match language {
        Language::English => {
            Rendered::from_parts(&ReminderSubject::En { mail }, &ReminderText::En { mail }, &ReminderHtml::En { mail })
        }
        Language::French => {
            Rendered::from_parts(&ReminderSubject::Fr { mail }, &ReminderText::Fr { mail }, &ReminderHtml::Fr { mail })
        }
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
            registration_url: "https://plenary.example/meetings/3/registration".into(),
            accept_url: "https://plenary.example/rsvp/MzphOkFU.c2ln".into(),
            decline_url: "https://plenary.example/rsvp/MzpkOkFU.c2ln".into(),
            subject: None,
            opening: None,
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

    fn attendee_mail(language: Language, position: Option<u32>) -> AttendeeMail {
        let (delegation, when) = match language {
            Language::English => ("Austria", "Tuesday 15 June 2027, 10:00–13:00 (Europe/Vienna)"),
            Language::French => ("Autriche", "mardi 15 juin 2027, 10:00–13:00 (Europe/Vienna)"),
        };
        AttendeeMail {
            name: HOSTILE_NAME.into(),
            delegation: delegation.into(),
            title: "Contact Group <b>& friends</b>".into(),
            when: when.into(),
            location: "Neuer Saal, Hofburg, Vienna".into(),
            registration_url: "https://plenary.example/meetings/3/registration".into(),
            position,
        }
    }

    /// Organisers' own subject and opening replace the generated ones; the facts, the links
    /// and the calendar stay. The opening keeps its line breaks and is escaped in the HTML.
    #[test]
    fn an_invitation_with_the_organisers_words() {
        let mail = MeetingMail {
            subject: Some("Conférence méditerranéenne 2027 : invitation".into()),
            opening: Some("Madame, Monsieur,\n\nNous avons l’honneur de vous inviter <à Amman> & ailleurs.".into()),
            ..meeting_mail(Language::French)
        };
        insta::assert_snapshot!("invitation_custom_fr", shown(&render(Kind::Invitation, Language::French, &mail)));
    }

    #[test]
    fn every_message_to_an_attendee_in_english_and_french() {
        for kind in AttendeeKind::ALL {
            for language in [Language::English, Language::French] {
                let position = (kind == AttendeeKind::Waiting).then_some(2);
                let rendered = render_attendee(kind, language, &attendee_mail(language, position));
                insta::assert_snapshot!(format!("{}_{}", kind.as_str(), language.code()), shown(&rendered));
            }
        }
    }

    #[test]
    fn an_attendee_mail_leaves_out_a_place_not_known_yet() {
        let mail = AttendeeMail { location: String::new(), ..attendee_mail(Language::English, None) };
        let rendered = render_attendee(AttendeeKind::Registered, Language::English, &mail);
        assert!(!rendered.text.contains("Where") && !rendered.html.contains("Where"));
        assert!(rendered.text.contains("When: Tuesday 15 June 2027"));
    }

    #[test]
    fn the_reminder_in_english_and_french() {
        for (language, delegation, deadline) in [
            (Language::English, "Austria", "Sunday 13 June 2027, 18:00 (Europe/Vienna)"),
            (Language::French, "Autriche", "dimanche 13 juin 2027, 18:00 (Europe/Vienna)"),
        ] {
            let mail = ReminderMail {
                recipient_name: HOSTILE_NAME.into(),
                delegation: delegation.into(),
                title: "Contact Group <b>& friends</b>".into(),
                when: attendee_mail(language, None).when,
                location: "Neuer Saal, Hofburg, Vienna".into(),
                deadline: deadline.into(),
                registration_url: "https://plenary.example/meetings/3/registration".into(),
            };
            insta::assert_snapshot!(
                format!("registration_reminder_{}", language.code()),
                shown(&render_reminder(language, &mail))
            );
        }
    }

    #[test]
    fn the_mail_to_attendees_and_delegations_escapes_in_html_what_the_text_keeps() {
        for kind in AttendeeKind::ALL {
            let rendered = render_attendee(kind, Language::French, &attendee_mail(Language::French, Some(1)));
            assert!(rendered.text.contains(HOSTILE_NAME) && rendered.text.contains("<b>& friends</b>"));
            assert!(!rendered.html.contains("<script>") && !rendered.html.contains("<b>"), "{kind:?}");
            assert!(rendered.html.contains("Müller &#38; &#34;Söhne&#34;"), "{kind:?}");
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
