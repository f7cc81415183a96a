//! `/rsvp/{token}`: the signed accept and decline links of invitation mails.
//!
//! Opening a link records nothing: it shows the meeting, the delegation and the answer, in the
//! recipient's language, with a button that posts the answer. Mail scanners that open every
//! link in a message therefore answer nothing for anyone.
//!
//! The signed token is the credential, so there is no login and no CSRF cookie (the recipient
//! may never have visited Plenary): the form carries the token in its body, and a forged form
//! could only carry a token its author already has.

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    http::StatusCode,
    response::Response,
    routing::{get, post},
};
use chrono::Utc;
use scheduler::when_where::Language;
use serde::Deserialize;
use serde_json::json;

use super::{Chrome, WebError, WebResult, params::PagePath, render_status};
use crate::{
    app::AppState,
    db::entities::meetings,
    mail::{
        invitations::{NotSendable, check_sendable},
        rsvp::{self, Answer, Rsvp},
    },
    store::{self, audit::AuditEntry, meetings::time_of},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/rsvp/{token}", get(confirm_answer)).route("/rsvp", post(record_answer))
}

#[derive(Template)]
#[template(path = "rsvp.html")]
struct RsvpPage<'a> {
    c: &'a Chrome,
    /// `en` or `fr`: the language of the mail the link came in (the site's own frame stays English).
    lang: &'static str,
    heading: &'static str,
    lead: &'static str,
    /// Label and value: the meeting, its time, who answers and what.
    facts: Vec<(&'static str, String)>,
    /// On the confirmation page: the token the button posts, and the button's words.
    confirm: Option<(String, &'static str)>,
}

/// The words of the pages, in English or French.
struct Words {
    lang: &'static str,
    meeting: &'static str,
    when: &'static str,
    delegation: &'static str,
    guest: &'static str,
    answer: &'static str,
    accepts: &'static str,
    declines: &'static str,
    confirm_heading: &'static str,
    confirm_lead: &'static str,
    accept_button: &'static str,
    decline_button: &'static str,
    done_heading: &'static str,
    done_lead: &'static str,
    cancelled_heading: &'static str,
    past_heading: &'static str,
    closed_lead: &'static str,
}

const ENGLISH: Words = Words {
    lang: "en",
    meeting: "Meeting",
    when: "When",
    delegation: "Delegation",
    guest: "Guest",
    answer: "Answer",
    accepts: "accepts the invitation",
    declines: "declines the invitation",
    confirm_heading: "Your answer to the invitation",
    confirm_lead: "Nothing is recorded until you press the button.",
    accept_button: "Accept the invitation",
    decline_button: "Decline the invitation",
    done_heading: "Thank you, your answer is recorded",
    done_lead: "To change it, use the other link in the message.",
    cancelled_heading: "This meeting is cancelled",
    past_heading: "This meeting is over",
    closed_lead: "The invitation can no longer be answered.",
};

const FRENCH: Words = Words {
    lang: "fr",
    meeting: "Réunion",
    when: "Date",
    delegation: "Délégation",
    guest: "Invité",
    answer: "Réponse",
    accepts: "accepte l’invitation",
    declines: "décline l’invitation",
    confirm_heading: "Votre réponse à l’invitation",
    confirm_lead: "Rien n’est enregistré avant que vous appuyiez sur le bouton.",
    accept_button: "Accepter l’invitation",
    decline_button: "Décliner l’invitation",
    done_heading: "Merci, votre réponse est enregistrée",
    done_lead: "Pour la changer, utilisez l’autre lien du message.",
    cancelled_heading: "Cette réunion est annulée",
    past_heading: "Cette réunion a déjà eu lieu",
    closed_lead: "Il n’est plus possible de répondre à l’invitation.",
};

/// A link whose signature holds, for a meeting that still exists.
struct Link {
    rsvp: Rsvp,
    meeting: meetings::Model,
    words: &'static Words,
    facts: Vec<(&'static str, String)>,
}

/// Reads `token`. A link that was altered, cut short or names a deleted meeting is a 404 page;
/// one for a meeting that is cancelled or over is a 410 page in the recipient's language.
async fn open_link(state: &AppState, c: &Chrome, token: &str) -> WebResult<Result<Link, Response>> {
    let not_valid = || {
        WebError::NotFound(
            "This answer link is not valid: it may have been altered or cut short. Open it again from the \
             invitation message, copying the whole link."
                .into(),
        )
    };
    let secret = store::invitations::secret(&state.db, rsvp::SECRET_NAME).await?;
    let rsvp = rsvp::verify(&secret, token).ok_or_else(not_valid)?;
    let meeting = store::meetings::find(&state.db, rsvp.meeting_id).await?.ok_or_else(not_valid)?;
    let language = store::outbox::language_of(&state.db, meeting.id, &rsvp.email).await?;
    let words = if language == Some(crate::db::enums::Language::Fr) { &FRENCH } else { &ENGLISH };
    let who = match &rsvp.iso2 {
        Some(iso2) => {
            let name = store::reference::state(&state.db, iso2)
                .await?
                .map_or_else(|| iso2.clone(), |found| if words.lang == "fr" { found.name_fr } else { found.name_en });
            (words.delegation, name)
        }
        None => (words.guest, rsvp.email.clone()),
    };
    let answer = match rsvp.answer {
        Answer::Accepted => words.accepts,
        Answer::Declined => words.declines,
    };
    let facts = vec![
        (words.meeting, meeting.title.clone()),
        (words.when, time_of(&meeting).period_with_zone(Language::from_code(words.lang))),
        who,
        (words.answer, answer.to_owned()),
    ];
    // The rule for sending an invitation is the rule for answering one.
    if let Err(closed) = check_sendable(&meeting, Utc::now()) {
        let heading = match closed {
            NotSendable::Cancelled(_) => words.cancelled_heading,
            NotSendable::Past(_) => words.past_heading,
        };
        // The meeting and its time only: there is no answer to give any more.
        let facts = facts.into_iter().take(2).collect();
        let page = RsvpPage { c, lang: words.lang, heading, lead: words.closed_lead, facts, confirm: None };
        return Ok(Err(render_status(c, StatusCode::GONE, &page)?));
    }
    Ok(Ok(Link { rsvp, meeting, words, facts }))
}

/// What a link would record, with the button that records it.
async fn confirm_answer(State(state): State<AppState>, c: Chrome, PagePath(token): PagePath<String>) -> WebResult {
    let link = match open_link(&state, &c, &token).await? {
        Ok(link) => link,
        Err(closed) => return Ok(closed),
    };
    let words = link.words;
    let button = match link.rsvp.answer {
        Answer::Accepted => words.accept_button,
        Answer::Declined => words.decline_button,
    };
    let page = RsvpPage {
        c: &c,
        lang: words.lang,
        heading: words.confirm_heading,
        lead: words.confirm_lead,
        facts: link.facts,
        confirm: Some((token, button)),
    };
    render_status(&c, StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct AnswerForm {
    #[serde(default)]
    token: String,
}

/// Records the answer the posted token carries, with the audit entry, in one transaction.
async fn record_answer(State(state): State<AppState>, c: Chrome, Form(form): Form<AnswerForm>) -> WebResult {
    let link = match open_link(&state, &c, &form.token).await? {
        Ok(link) => link,
        Err(closed) => return Ok(closed),
    };
    let Link { rsvp, meeting, words, facts } = link;
    let txn = crate::db::begin_write(&state.db).await?;
    store::invitations::record_rsvp(&txn, meeting.id, rsvp.iso2.as_deref(), &rsvp.email, rsvp.answer.as_str()).await?;
    store::audit::record(
        &txn,
        AuditEntry::<(), _> {
            actor: &format!("rsvp:{}", rsvp.email),
            action: "invitation.answer",
            subject_type: "meeting",
            subject_id: meeting.id.to_string(),
            before: None,
            after: Some(&json!({"state": rsvp.iso2, "email": rsvp.email, "answer": rsvp.answer.as_str()})),
        },
    )
    .await?;
    txn.commit().await?;
    let page =
        RsvpPage { c: &c, lang: words.lang, heading: words.done_heading, lead: words.done_lead, facts, confirm: None };
    render_status(&c, StatusCode::OK, &page)
}
