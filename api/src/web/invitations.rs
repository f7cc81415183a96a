//! `/organiser/meetings/{id}/invitations`: an organiser previews who gets a meeting's invitation
//! and what it says, sends it (or sends it again to everyone), and watches the delivery: the
//! status table is a fragment of its own (`…/invitations/status`) that the page's script fetches
//! again every few seconds while messages are still on their way. Sending goes through the
//! same function as the JSON API, so the outbox, the audit log and "never twice" hold alike.
//!
//! The page also lists the invited delegations no invitation would reach, each with links to
//! fix it (an account for its contact point, a contact); lets organisers write the subject and
//! opening paragraph per language (`…/invitations/words`); and attaches the meeting's
//! documents (`/organiser/meetings/{id}/documents`, a multipart upload), which everyone who may
//! see the meeting downloads at `/meetings/{id}/documents/{document}/{filename}`.

use std::collections::{BTreeMap, HashSet};

use askama::Template;
use axum::{
    Form, Router,
    extract::{DefaultBodyLimit, Multipart, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse as _, Response},
    routing::{get, post},
};
use serde::Deserialize;

use super::{
    Chrome, Flash, OrganiserUser, WebError, WebResult,
    forms::{FormErrors, capitalise},
    params::PagePath,
    redirect_with, render, render_status,
    views::{self, MeetingItem},
};
use crate::{
    app::AppState,
    db::enums::{Language, OutboxStatus},
    service::{
        self,
        documents::{self, MAX_BYTES},
        invitations::{self, Deliveries, Delivery, NewWords, Sending, SentTo, Unreached},
    },
    store::{documents::DocumentInfo, meetings::Context},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/organiser/meetings/{id}/invitations", get(invitations_page).post(send))
        .route("/organiser/meetings/{id}/invitations/status", get(status_fragment))
        .route("/organiser/meetings/{id}/invitations/words", post(save_words))
        .route(
            "/organiser/meetings/{id}/documents",
            // Room for the largest document and the form around it; a larger upload is told
            // so on the page.
            post(attach_document).layer(DefaultBodyLimit::max(MAX_BYTES + 64 * 1024)),
        )
        .route("/organiser/meetings/{id}/documents/{document}/remove", post(remove_document))
        .route("/meetings/{id}/documents/{document}/{filename}", get(download_document))
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
    /// The invited delegations no invitation would reach.
    unreached: Vec<Unreached>,
    /// The words form of each language, as stored or as just sent.
    words: Vec<WordsForm>,
    documents: Vec<DocumentLink>,
    document_errors: FormErrors,
}

/// A meeting's document as lists show it and link to it.
pub(super) struct DocumentLink {
    pub id: i32,
    pub filename: String,
    /// "12 kB", "2.4 MB".
    pub size: String,
    /// The stable download address.
    pub url: String,
}

/// Meeting `id`'s documents, for its pages.
pub(super) async fn document_links(state: &AppState, id: i32) -> WebResult<Vec<DocumentLink>> {
    Ok(documents::list(&state.db, id)
        .await?
        .into_iter()
        .map(|document: DocumentInfo| DocumentLink {
            url: format!("/meetings/{id}/documents/{}/{}", document.id, percent_encode(&document.filename)),
            size: size(document.size_bytes),
            id: document.id,
            filename: document.filename,
        })
        .collect())
}

/// `text` with every byte but ASCII letters, digits and `.-_` percent-encoded: safe in a path
/// segment and in a `filename*` parameter.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_') {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// One language's subject and opening, as the form shows them.
#[derive(Debug, Default, Deserialize)]
struct WordsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    opening: String,
    /// The errors of this form just sent.
    #[serde(skip)]
    errors: FormErrors,
}

impl WordsForm {
    fn language_name(&self) -> &'static str {
        Language::parse(&self.language).map_or("English", language_name)
    }
}

/// What the page shows of a form just sent back with errors.
enum Sent {
    Nothing,
    /// A words form with its errors.
    Words(Box<WordsForm>, FormErrors),
    /// The upload form's errors.
    Document(FormErrors),
}

impl InvitationsPage<'_> {
    /// "1 recipient", "3 recipients".
    fn recipients_count(&self) -> String {
        views::plural(self.recipients.len(), "recipient", "recipients")
    }

    fn not_yet_invited(&self) -> usize {
        self.recipients.iter().filter(|sent| !self.already.contains(&sent.recipient.email)).count()
    }
}

/// "1 kB", "2.4 MB": a document's size as the lists show it.
fn size(bytes: i64) -> String {
    #[expect(clippy::cast_precision_loss, reason = "a size shown to one decimal")]
    let bytes = bytes as f64;
    if bytes < 1_000_000.0 {
        format!("{} kB", (bytes / 1000.0).ceil())
    } else {
        format!("{:.1} MB", bytes / 1_000_000.0)
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
    page(&state, &c, &user, id, Sent::Nothing).await
}

/// The page, with a form just sent back with its errors (`sent`).
async fn page(state: &AppState, c: &Chrome, user: &super::CurrentUser, id: i32, sent: Sent) -> WebResult {
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
    let stored = invitations::words(&state.db, id).await?;
    let (sent_words, document_errors) = match sent {
        Sent::Nothing => (None, FormErrors::default()),
        Sent::Words(form, errors) => (Some(WordsForm { errors, ..*form }), FormErrors::default()),
        Sent::Document(errors) => (None, errors),
    };
    let unprocessable = sent_words.is_some() || !document_errors.is_empty();
    let mut words = Vec::new();
    let mut sent_words = sent_words;
    for language in [Language::En, Language::Fr] {
        let form = match sent_words.take_if(|form| Language::parse(&form.language) == Some(language)) {
            Some(form) => form,
            None => {
                let own = stored.iter().find(|words| words.language == language);
                WordsForm {
                    language: language.to_string(),
                    subject: own.and_then(|words| words.subject.clone()).unwrap_or_default(),
                    opening: own.and_then(|words| words.opening.clone()).unwrap_or_default(),
                    ..WordsForm::default()
                }
            }
        };
        words.push(form);
    }
    let status = if unprocessable { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = InvitationsPage {
        c,
        item: MeetingItem::new(&meeting, &context),
        not_sendable,
        recipients,
        already,
        samples: samples.into_values().collect(),
        status: Status::new(deliveries),
        unreached: invitations::unreached(&state.db, &state.config, id).await?,
        words,
        documents: document_links(state, id).await?,
        document_errors,
    };
    render_status(c, status, &page)
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
                (0, 0) => "Nobody to send to: no invited delegation has a contact who receives invitations. \
                           The delegations that would receive nothing are listed below, each with how to fix it."
                    .to_owned(),
                (0, 1) => "Nothing new to send: the one recipient already has the invitation.".to_owned(),
                (0, already) => format!("Nothing new to send: all {already} recipients already have the invitation."),
                (queued, already) => {
                    let on_the_way = if queued == 1 {
                        "1 invitation is on its way".to_owned()
                    } else {
                        format!("{queued} invitations are on their way")
                    };
                    match already {
                        0 => format!("{on_the_way}."),
                        1 => format!("{on_the_way}; 1 recipient already had it and was skipped."),
                        _ => format!("{on_the_way}; {already} recipients already had it and were skipped."),
                    }
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

async fn save_words(
    State(state): State<AppState>,
    c: Chrome,
    OrganiserUser(user): OrganiserUser,
    PagePath(id): PagePath<i32>,
    Form(form): Form<WordsForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let input =
        NewWords { language: form.language.clone(), subject: form.subject.clone(), opening: form.opening.clone() };
    match invitations::set_words(&state.db, &user.principal(), id, &input).await {
        Ok(words) => {
            let name = language_name(words.language);
            let flash = Flash::ok(format!("The {name} invitation’s words are saved; the preview below shows them."));
            Ok(redirect_with(&c, &format!("/organiser/meetings/{id}/invitations#words-{}", words.language), &flash))
        }
        Err(error) => {
            let errors = FormErrors::from_service(error, &["language", "subject", "opening"])?;
            page(&state, &c, &user, id, Sent::Words(Box::new(form), errors)).await
        }
    }
}

/// Reads the upload form: its CSRF token and the file (as the browser named it).
async fn read_upload(mut multipart: Multipart) -> Result<(String, Option<(String, Vec<u8>)>), String> {
    let mut csrf = String::new();
    let mut file = None;
    let unreadable = |error: axum::extract::multipart::MultipartError| {
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            format!("The file is larger than {} MB.", MAX_BYTES / (1024 * 1024))
        } else {
            format!("The upload could not be read ({}); please try again.", error.body_text())
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("csrf") => csrf = field.text().await.map_err(unreadable)?,
            Some("file") => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(unreadable)?;
                file = Some((name, bytes.to_vec())).filter(|(name, bytes)| !name.is_empty() || !bytes.is_empty());
            }
            _ => {}
        }
    }
    Ok((csrf, file))
}

async fn attach_document(
    State(state): State<AppState>,
    c: Chrome,
    OrganiserUser(user): OrganiserUser,
    PagePath(id): PagePath<i32>,
    multipart: Multipart,
) -> WebResult {
    let mut errors = FormErrors::default();
    let (csrf, file) = match read_upload(multipart).await {
        Ok(read) => read,
        Err(message) => {
            errors.add("file", message);
            return page(&state, &c, &user, id, Sent::Document(errors)).await;
        }
    };
    c.check_csrf(&csrf)?;
    let Some((filename, bytes)) = file else {
        errors.add("file", "Choose a file to attach.");
        return page(&state, &c, &user, id, Sent::Document(errors)).await;
    };
    match documents::attach(&state.db, &user.principal(), id, &filename, bytes).await {
        Ok(document) => {
            let flash = Flash::ok(format!(
                "{} is attached: it is listed on the meeting’s page and goes with the invitation and its updates.",
                document.filename
            ));
            Ok(redirect_with(&c, &format!("/organiser/meetings/{id}/invitations#documents-title"), &flash))
        }
        Err(error) => {
            errors.add_service(error, &["file"])?;
            page(&state, &c, &user, id, Sent::Document(errors)).await
        }
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn remove_document(
    State(state): State<AppState>,
    c: Chrome,
    OrganiserUser(user): OrganiserUser,
    PagePath((id, document)): PagePath<(i32, i32)>,
    Form(form): Form<CsrfForm>,
) -> WebResult {
    c.check_csrf(&form.csrf)?;
    let removed = documents::remove(&state.db, &user.principal(), id, document).await?;
    let flash = Flash::ok(format!("{} is removed from the meeting.", removed.filename));
    Ok(redirect_with(&c, &format!("/organiser/meetings/{id}/invitations#documents-title"), &flash))
}

/// A document, for everyone who may see the meeting. The file name in the path is only for
/// the reader and the browser's "save as"; the document is found by its number.
async fn download_document(
    State(state): State<AppState>,
    PagePath((id, document, _filename)): PagePath<(i32, i32, String)>,
) -> Result<Response, WebError> {
    let document = documents::download(&state.db, id, document).await?;
    let content_type = HeaderValue::from_str(&document.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    // Sanitised names have no quote or control character; the `filename*` form carries the
    // letters outside ASCII.
    let encoded = percent_encode(&document.filename);
    let ascii: String = document.filename.chars().map(|c| if c.is_ascii() && c != '"' { c } else { '_' }).collect();
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        document.content,
    )
        .into_response())
}
