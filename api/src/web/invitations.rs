//! `/organiser/meetings/{id}/invitations`: an organiser previews who gets a meeting's invitation
//! and what it says, sends it (or sends it again to everyone), and watches the delivery: the
//! status table is a fragment of its own (`…/invitations/status`) that the page's script fetches
//! again every few seconds while messages are still on their way. Sending goes through the
//! same function as the JSON API, so the outbox, the audit log and "never twice" hold alike.

use std::collections::{BTreeMap, HashSet};

use askama::Template;
use axum::{Form, Router, extract::State, routing::get};
use serde::Deserialize;

use super::{
    Chrome, Flash, OrganiserUser, WebError, WebResult, forms::capitalise, params::PagePath, redirect_with, render,
    views::MeetingItem,
};
use crate::{
    app::AppState,
    db::enums::{Language, OutboxStatus},
    service::{
        self,
        invitations::{self, Deliveries, Delivery, Sending, SentTo},
    },
    store::meetings::Context,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/organiser/meetings/{id}/invitations", get(invitations_page).post(send))
        .route("/organiser/meetings/{id}/invitations/status", get(status_fragment))
}

/// The delivery status as the page shows it, and as the fragment the script fetches.
struct Status {
    meeting_id: i32,
    smtp_configured: bool,
    /// The latest message to each recipient.
    rows: Vec<Delivery>,
    /// How many of those are in each state, in the order the page lists them.
    counts: Vec<(&'static str, usize)>,
    accepted: usize,
    declined: usize,
    /// Whether any message is still queued or being sent (the script keeps fetching).
    busy: bool,
}

impl Status {
    fn new(deliveries: Deliveries) -> Self {
        let rows = deliveries.recipients;
        let count = |status: OutboxStatus| rows.iter().filter(|row| row.status == status).count();
        let counts = vec![
            ("queued", count(OutboxStatus::Queued)),
            ("sending", count(OutboxStatus::Sending)),
            ("sent", count(OutboxStatus::Sent)),
            ("failed", count(OutboxStatus::Failed)),
        ];
        let answered = |answer: &str| rows.iter().filter(|row| row.answer.as_deref() == Some(answer)).count();
        Self {
            meeting_id: deliveries.meeting,
            smtp_configured: deliveries.smtp_configured,
            busy: rows.iter().any(|row| matches!(row.status, OutboxStatus::Queued | OutboxStatus::Sending)),
            accepted: answered("accepted"),
            declined: answered("declined"),
            counts,
            rows,
        }
    }
}

/// What one language's recipients receive.
struct Sample {
    language: &'static str,
    subject: String,
    text: String,
}

/// The status table alone.
#[derive(Template)]
#[template(path = "invitation_status.html")]
struct StatusFragment {
    status: Status,
}

#[derive(Template)]
#[template(path = "invitations.html")]
struct InvitationsPage<'a> {
    c: &'a Chrome,
    item: MeetingItem,
    /// Why nothing can be sent (a cancelled or past meeting).
    not_sendable: Option<String>,
    recipients: Vec<SentTo>,
    /// Of those, the addresses that already have this meeting's invitation.
    already: HashSet<String>,
    samples: Vec<Sample>,
    status: Status,
}

impl InvitationsPage<'_> {
    fn not_yet_invited(&self) -> usize {
        self.recipients.iter().filter(|sent| !self.already.contains(&sent.recipient.email)).count()
    }
}

fn language_name(language: Language) -> &'static str {
    match language {
        Language::Fr => "French",
        Language::En => "English",
    }
}

async fn invitations_page(
    State(state): State<AppState>,
    c: Chrome,
    OrganiserUser(user): OrganiserUser,
    PagePath(id): PagePath<i32>,
) -> WebResult {
    let meeting = crate::service::meetings::load(&state.db, id).await?;
    let context = Context::load(&state.db).await?;
    let deliveries = invitations::deliveries(&state.db, &state.config, id).await?;
    let already: HashSet<String> = deliveries
        .messages
        .iter()
        .filter(|message| message.kind == "invitation")
        .map(|message| message.email.to_lowercase())
        .collect();
    let preview = Sending { preview: true, resend: false };
    let (recipients, not_sendable) =
        match invitations::send(&state.db, &state.config, &user.principal(), id, preview).await {
            Ok(out) => (out.recipients, None),
            Err(service::Error::Conflict { message, .. }) => (Vec::new(), Some(capitalise(&message))),
            Err(error) => return Err(error.into()),
        };
    // One sample per language: every recipient of a language gets the same text but for
    // their name and their answer links.
    let mut samples: BTreeMap<&'static str, Sample> = BTreeMap::new();
    for sent in &recipients {
        let language = language_name(sent.recipient.language);
        if let (false, Some(subject), Some(text)) =
            (samples.contains_key(language), sent.subject.clone(), sent.text.clone())
        {
            samples.insert(language, Sample { language, subject, text });
        }
    }
    let page = InvitationsPage {
        c: &c,
        item: MeetingItem::new(&meeting, &context),
        not_sendable,
        recipients,
        already,
        samples: samples.into_values().collect(),
        status: Status::new(deliveries),
    };
    render(&c, &page)
}

#[derive(Deserialize)]
struct SendForm {
    #[serde(default)]
    csrf: String,
    /// `send` (those not yet invited) or `resend` (everyone, as a new round).
    #[serde(default)]
    action: String,
}

async fn send(
    State(state): State<AppState>,
    c: Chrome,
    OrganiserUser(user): OrganiserUser,
    PagePath(id): PagePath<i32>,
    Form(form): Form<SendForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let resend = match form.action.as_str() {
        "send" => false,
        "resend" => true,
        other => return Err(WebError::BadRequest(format!("“{other}” is not something this form does."))),
    };
    let back = format!("/organiser/meetings/{id}/invitations");
    match invitations::send(&state.db, &state.config, &user.principal(), id, Sending { preview: false, resend }).await {
        Ok(out) => {
            let mut lines = vec![match (out.queued, out.already_invited) {
                (0, 0) => "Nobody to send to: no invited delegation has a contact who receives invitations.".to_owned(),
                (0, already) => format!("Nothing new to send: all {already} recipients already have the invitation."),
                (queued, 0) => format!("{queued} invitations are on their way."),
                (queued, already) => {
                    format!(
                        "{queued} invitations are on their way; {already} recipients already had it and were skipped."
                    )
                }
            }];
            if !out.smtp_configured {
                lines.push(
                    "No mail server is configured (PLENARY_SMTP_URL), so the messages wait in the outbox until one is."
                        .into(),
                );
            }
            let kind = if out.smtp_configured { "ok" } else { "warn" };
            Ok(redirect_with(&c, &back, &Flash { kind: kind.into(), lines }))
        }
        Err(service::Error::Conflict { message, .. }) => {
            let flash = Flash { kind: "error".into(), lines: vec![capitalise(&message)] };
            Ok(redirect_with(&c, &back, &flash))
        }
        Err(error) => Err(error.into()),
    }
}

/// The status table alone, for the page's script (pages are `no-store`: each fetch reads the
/// outbox as it is now).
async fn status_fragment(
    State(state): State<AppState>,
    c: Chrome,
    _user: OrganiserUser,
    PagePath(id): PagePath<i32>,
) -> WebResult {
    let deliveries = invitations::deliveries(&state.db, &state.config, id).await?;
    render(&c, &StatusFragment { status: Status::new(deliveries) })
}
