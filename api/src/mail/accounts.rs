//! The account mail: a user's one-time link to set their password, queued in the outbox like
//! every other message and delivered by the same worker.

use lettre::{Address, message::Mailbox};
use sha2::{Digest as _, Sha256};

use super::templates::{PasswordLinkMail, Rendered, render_password_link};
use crate::{
    config::Config,
    db::{entities::users, enums::Language},
    store::{accounts::PASSWORD_LINK_LIFETIME, outbox::NewMessage},
};

/// The outbox `kind` of the set-password mail.
pub const PASSWORD_LINK: &str = "password_link";

/// Whether set-password links can be mailed to `user`: their username is an e-mail address.
#[must_use]
pub fn mailable(user: &users::Model) -> bool {
    user.username.parse::<Address>().is_ok()
}

/// The message that takes the set-password link `url` to `user`, whose username is their
/// address; `None` when the username is not an e-mail address (such as the first
/// administrator's `admin`).
#[must_use]
pub fn password_link_message(config: &Config, user: &users::Model, url: &str, new_account: bool) -> Option<NewMessage> {
    let address: Address = user.username.parse().ok()?;
    let Rendered { subject, text, html } = render_password_link(&PasswordLinkMail {
        display_name: user.display_name.clone(),
        username: user.username.clone(),
        url: url.to_owned(),
        valid_days: PASSWORD_LINK_LIFETIME.num_days(),
        new_account,
    });
    // Each link is a new message; the key names it by a digest, never by the secret itself.
    let digest = Sha256::digest(url.as_bytes());
    let short: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    let domain = config
        .mail_from
        .parse::<Mailbox>()
        .map_or_else(|_| "localhost".to_owned(), |from| from.email.domain().to_owned());
    Some(NewMessage {
        kind: PASSWORD_LINK.into(),
        meeting_id: None,
        recipient_email: address.to_string(),
        recipient_name: user.display_name.clone(),
        language: Language::En,
        subject,
        text_body: text,
        html_body: Some(html),
        calendar: None,
        message_id: format!("{PASSWORD_LINK}.u{}.{short}@{domain}", user.id),
        dedupe_key: format!("{PASSWORD_LINK}:{}:{short}", user.id),
    })
}
