//! Invitations: who a meeting invites (with the reason), organisers' per-meeting adjustments,
//! delegations' contacts, sending (preview, send, resend) and delivery status (with the answers
//! given through the links of `crate::web::rsvp`).

use axum::{Json, extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use scheduler::{
    eligibility::{Adjustments, OfficialGuest, Reason, unknown_guests},
    states::StateKind,
};
use sea_orm::{Iterable as _, SqlErr};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    AppState,
    error::{ApiError, ApiResult, ErrorBody},
    extract::{ApiJson, ApiPath, Organiser},
    meetings::load_meeting,
};
use crate::{
    auth::Principal,
    db::{
        entities::contacts,
        enums::{Language, OutboxStatus},
    },
    mail::{self, invitations},
    store::{self, audit::AuditEntry, meetings::Context, outbox},
    validate::{self, TextKind},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_invitees))
        .routes(routes!(get_invitation_settings, put_invitation_settings))
        .routes(routes!(send_invitations, list_invitations))
        .routes(routes!(create_contact, list_contacts))
        .routes(routes!(delete_contact))
}

// ---------------------------------------------------------------------------------------------
// Who is invited

/// One invited delegation or official.
#[derive(Debug, Serialize, ToSchema)]
pub struct InviteeOut {
    /// `participating`, `partner` or `official`.
    pub kind: &'static str,
    /// ISO code; null for an official.
    pub iso2: Option<String>,
    pub name_en: String,
    pub name_fr: String,
    /// `participating_state`, `mediterranean_partner`, `asian_partner` or `guest`.
    #[schema(value_type = String)]
    pub reason: Reason,
    /// The reason in words.
    pub reason_text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InviteesOut {
    pub meeting: i32,
    pub body: String,
    /// The meeting's local date, on which membership is judged.
    pub date: String,
    /// A closed session: the Partners are left out.
    pub closed: bool,
    pub invitees: Vec<InviteeOut>,
}

/// Who a meeting invites, by the body's rules, membership on the meeting's date and the
/// organisers' adjustments, each with the reason (public).
#[utoipa::path(get, path = "/meetings/{id}/invitees", tag = "invitations", params(("id" = i32, Path)),
    responses((status = 200, body = InviteesOut), (status = 404, body = ErrorBody)))]
async fn list_invitees(State(state): State<AppState>, ApiPath(id): ApiPath<i32>) -> ApiResult<Json<InviteesOut>> {
    let meeting = load_meeting(&state, id).await?;
    Ok(Json(invitees_out(&state, &meeting).await?))
}

async fn invitees_out(state: &AppState, meeting: &crate::db::entities::meetings::Model) -> ApiResult<InviteesOut> {
    let context = Context::load(&state.db).await?;
    let (invited, adjustments) = store::invitations::invitees(&state.db, &context, meeting).await?;
    let date = store::meetings::local_date(meeting);
    let body = store::meetings::body_of(meeting);
    let mut out: Vec<InviteeOut> = invited
        .into_iter()
        .map(|invitee| InviteeOut {
            kind: match invitee.delegation.kind {
                StateKind::Participating => "participating",
                StateKind::Partner => "partner",
            },
            reason_text: body.map(|body| invitee.reason.describe(body, date)).unwrap_or_default(),
            reason: invitee.reason,
            iso2: Some(invitee.delegation.iso2),
            name_en: invitee.delegation.name_en,
            name_fr: invitee.delegation.name_fr,
        })
        .collect();
    out.extend(adjustments.officials.iter().map(|official| {
        let name = match &official.organisation {
            Some(organisation) => format!("{} ({organisation})", official.name),
            None => official.name.clone(),
        };
        InviteeOut {
            kind: "official",
            iso2: None,
            name_en: name.clone(),
            name_fr: name,
            reason: Reason::Guest,
            reason_text: body.map(|body| Reason::Guest.describe(body, date)).unwrap_or_default(),
        }
    }));
    Ok(InviteesOut {
        meeting: meeting.id,
        body: meeting.body_code.clone(),
        date: date.to_string(),
        closed: adjustments.closed,
        invitees: out,
    })
}

/// Organisers' changes to one meeting's list.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationSettings {
    /// A closed session: leave the Partners out.
    #[serde(default)]
    pub closed: bool,
    /// ISO codes of States or Partners to add as guests.
    #[serde(default)]
    pub guest_delegations: Vec<String>,
    /// Officials or organisations to add as guests.
    #[serde(default)]
    pub officials: Vec<OfficialIn>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficialIn {
    pub name: String,
    pub organisation: Option<String>,
    pub email: String,
    /// `en` (default) or `fr`.
    pub language: Option<String>,
}

/// A meeting's invitation settings (organisers).
#[utoipa::path(get, path = "/meetings/{id}/invitation-settings", tag = "invitations", security(("bearer" = [])),
    params(("id" = i32, Path)), responses((status = 200, body = InvitationSettings), (status = 404, body = ErrorBody)))]
async fn get_invitation_settings(
    State(state): State<AppState>,
    Organiser(_organiser): Organiser,
    ApiPath(id): ApiPath<i32>,
) -> ApiResult<Json<InvitationSettings>> {
    load_meeting(&state, id).await?;
    let adjustments = store::invitations::adjustments(&state.db, id).await?;
    Ok(Json(InvitationSettings {
        closed: adjustments.closed,
        guest_delegations: adjustments.guest_delegations,
        officials: adjustments
            .officials
            .into_iter()
            .map(|o| OfficialIn {
                name: o.name,
                organisation: o.organisation,
                email: o.email,
                language: Some(o.language),
            })
            .collect(),
    }))
}

/// Changes who a meeting invites (organisers): a closed session without the Partners, guest
/// delegations, officials. Answers with the new list.
#[utoipa::path(put, path = "/meetings/{id}/invitation-settings", tag = "invitations", security(("bearer" = [])),
    params(("id" = i32, Path)), request_body = InvitationSettings,
    responses((status = 200, body = InviteesOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_invitation_settings(
    State(state): State<AppState>,
    Organiser(principal): Organiser,
    ApiPath(id): ApiPath<i32>,
    ApiJson(input): ApiJson<InvitationSettings>,
) -> ApiResult<Json<InviteesOut>> {
    let meeting = load_meeting(&state, id).await?;
    let mut officials = Vec::new();
    for (index, official) in input.officials.into_iter().enumerate() {
        let name = validate::required(&format!("officials[{index}].name"), TextKind::PersonName, &official.name)?;
        let organisation = validate::optional(
            &format!("officials[{index}].organisation"),
            TextKind::Organisation,
            official.organisation.as_deref(),
        )?;
        let email = validate::email(&format!("officials[{index}].email"), &official.email)?;
        let language =
            check_language(&format!("officials[{index}].language"), official.language.as_deref().unwrap_or("en"))?;
        officials.push(OfficialGuest { name, organisation, email, language: language.to_string() });
    }
    let adjustments = Adjustments {
        closed: input.closed,
        guest_delegations: input.guest_delegations.iter().map(|code| code.trim().to_uppercase()).collect(),
        officials,
    };
    let context = Context::load(&state.db).await?;
    let date = store::meetings::local_date(&meeting);
    let unknown = unknown_guests(&context.states.on(date), &adjustments);
    if !unknown.is_empty() {
        return Err(ApiError::Invalid(format!(
            "guest_delegations: {} not a participating State or Partner on {date}",
            unknown.join(", ") + if unknown.len() == 1 { " is" } else { " are" }
        )));
    }
    store::invitations::save_adjustments(&state.db, id, &adjustments).await?;
    store::audit::record(
        &state.db,
        AuditEntry::<(), _> {
            actor: &principal.actor,
            action: "meeting.invitation_settings",
            subject_type: "meeting",
            subject_id: id.to_string(),
            before: None,
            after: Some(&adjustments),
        },
    )
    .await?;
    Ok(Json(invitees_out(&state, &meeting).await?))
}

// ---------------------------------------------------------------------------------------------
// Contacts

/// A contact of a delegation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactIn {
    pub name: String,
    pub email: String,
    /// `head_of_delegation`, `contact_point` or `adviser`.
    pub role: String,
    /// `en` or `fr`.
    pub language: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactOut {
    pub id: i32,
    pub state: String,
    pub name: String,
    pub email: String,
    pub role: String,
    #[schema(value_type = String)]
    pub language: Language,
    pub created_at: DateTime<Utc>,
}

impl From<contacts::Model> for ContactOut {
    fn from(row: contacts::Model) -> Self {
        Self {
            id: row.id,
            state: row.iso2,
            name: row.name,
            email: row.email,
            role: row.role,
            language: row.language,
            created_at: row.created_at,
        }
    }
}

fn check_language(field: &str, text: &str) -> ApiResult<Language> {
    Language::parse(text).ok_or_else(|| {
        let known: Vec<String> = Language::iter().map(|language| language.to_string()).collect();
        ApiError::Invalid(format!("{field}: must be one of {}, got {text:?}", known.join(", ")))
    })
}

/// The delegation `iso2` names (upper-cased), after checking it exists and the caller may act
/// for it.
async fn delegation(state: &AppState, principal: &Principal, iso2: &str) -> ApiResult<String> {
    let iso2 = iso2.to_uppercase();
    if store::reference::state(&state.db, &iso2).await?.is_none() {
        return Err(ApiError::NotFound(format!("there is no State or Partner with the code {iso2:?}")));
    }
    principal.require_acting_for(&iso2)?;
    Ok(iso2)
}

/// Adds a contact to a delegation (that delegation, or organisers).
#[utoipa::path(post, path = "/delegations/{iso2}/contacts", tag = "contacts", security(("bearer" = [])),
    params(("iso2" = String, Path)), request_body = ContactIn,
    responses((status = 201, body = ContactOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the delegation already has a contact with that address"),
        (status = 422, body = ErrorBody)))]
async fn create_contact(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(iso2): ApiPath<String>,
    ApiJson(input): ApiJson<ContactIn>,
) -> ApiResult<(StatusCode, Json<ContactOut>)> {
    Ok((StatusCode::CREATED, Json(add_contact(&state, &principal, &iso2, &input).await?)))
}

/// Adds a contact to delegation `iso2` and audits it; the JSON API and the delegation page both
/// add contacts here.
///
/// # Errors
/// 404 for an unknown State, 403 for another delegation, 422 for a field at fault, 409 for an
/// address the delegation already has.
pub async fn add_contact(
    state: &AppState,
    principal: &Principal,
    iso2: &str,
    input: &ContactIn,
) -> ApiResult<ContactOut> {
    let iso2 = delegation(state, principal, iso2).await?;
    let name = validate::required("name", TextKind::PersonName, &input.name)?;
    let email = validate::email("email", &input.email)?;
    if !mail::ROLES.contains(&input.role.as_str()) {
        return Err(ApiError::Invalid(format!(
            "role: must be one of {}, got {:?}",
            mail::ROLES.join(", "),
            input.role
        )));
    }
    let language = check_language("language", &input.language)?;
    let contact = match store::contacts::create(&state.db, &iso2, &name, &email, &input.role, language).await {
        Ok(contact) => contact,
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Err(ApiError::conflict(format!("{iso2} already has a contact with the address {email}")));
        }
        Err(error) => return Err(error.into()),
    };
    store::audit::record(
        &state.db,
        AuditEntry::<(), _> {
            actor: &principal.actor,
            action: "contact.create",
            subject_type: "contact",
            subject_id: contact.id.to_string(),
            before: None,
            after: Some(&json!({"state": iso2, "name": contact.name, "email": contact.email, "role": contact.role})),
        },
    )
    .await?;
    Ok(contact.into())
}

/// A delegation's contacts (that delegation, or organisers).
#[utoipa::path(get, path = "/delegations/{iso2}/contacts", tag = "contacts", security(("bearer" = [])),
    params(("iso2" = String, Path)),
    responses((status = 200, body = [ContactOut]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_contacts(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(iso2): ApiPath<String>,
) -> ApiResult<Json<Vec<ContactOut>>> {
    Ok(Json(contacts_of(&state, &principal, &iso2).await?))
}

/// Delegation `iso2`'s contacts, if `principal` may see them.
///
/// # Errors
/// 404 for an unknown State, 403 for another delegation.
pub async fn contacts_of(state: &AppState, principal: &Principal, iso2: &str) -> ApiResult<Vec<ContactOut>> {
    let iso2 = delegation(state, principal, iso2).await?;
    Ok(store::contacts::list(&state.db, &iso2).await?.into_iter().map(ContactOut::from).collect())
}

/// Removes a contact (that delegation, or organisers).
#[utoipa::path(delete, path = "/delegations/{iso2}/contacts/{id}", tag = "contacts", security(("bearer" = [])),
    params(("iso2" = String, Path), ("id" = i32, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_contact(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((iso2, id)): ApiPath<(String, i32)>,
) -> ApiResult<StatusCode> {
    remove_contact(&state, &principal, &iso2, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes contact `id` of delegation `iso2` and audits it; returns it as it was.
///
/// # Errors
/// 404 for an unknown State or contact, 403 for another delegation.
pub async fn remove_contact(state: &AppState, principal: &Principal, iso2: &str, id: i32) -> ApiResult<ContactOut> {
    let iso2 = delegation(state, principal, iso2).await?;
    let removed = store::contacts::delete(&state.db, &iso2, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("{iso2} has no contact {id}")))?;
    store::audit::record(
        &state.db,
        AuditEntry::<_, ()> {
            actor: &principal.actor,
            action: "contact.delete",
            subject_type: "contact",
            subject_id: id.to_string(),
            before: Some(&json!({"state": iso2, "name": removed.name, "email": removed.email})),
            after: None,
        },
    )
    .await?;
    Ok(removed.into())
}

// ---------------------------------------------------------------------------------------------
// Sending

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendIn {
    /// Show who would get what, without queueing anything.
    #[serde(default)]
    pub preview: bool,
    /// Send again to everyone, as a new round (otherwise those already invited are skipped).
    #[serde(default)]
    pub resend: bool,
}

/// One recipient of a send or preview.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecipientOut {
    pub state: Option<String>,
    pub invited_as: String,
    pub name: String,
    pub email: String,
    #[schema(value_type = String)]
    pub language: Language,
    pub role: String,
    /// `queued`, `already_invited`, or `preview`.
    pub status: &'static str,
    /// In a preview: the subject and text the recipient would get.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SendOut {
    pub meeting: i32,
    pub preview: bool,
    pub queued: usize,
    pub already_invited: usize,
    /// False when no SMTP server is configured: the mail stays queued.
    pub smtp_configured: bool,
    pub recipients: Vec<RecipientOut>,
}

fn recipient_out(recipient: invitations::Recipient, status: &'static str) -> RecipientOut {
    RecipientOut {
        state: recipient.iso2,
        invited_as: recipient.invited_as,
        name: recipient.name,
        email: recipient.email,
        language: recipient.language,
        role: recipient.role,
        status,
        subject: None,
        text: None,
    }
}

/// Previews or queues a meeting's invitations (organisers). Sending twice queues nothing new;
/// `resend` starts a new round.
#[utoipa::path(post, path = "/meetings/{id}/invitations", tag = "invitations", security(("bearer" = [])),
    params(("id" = i32, Path)), request_body = SendIn,
    responses((status = 200, body = SendOut), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the meeting is cancelled or over")))]
async fn send_invitations(
    State(state): State<AppState>,
    Organiser(principal): Organiser,
    ApiPath(id): ApiPath<i32>,
    ApiJson(input): ApiJson<SendIn>,
) -> ApiResult<Json<SendOut>> {
    Ok(Json(send_and_store(&state, &principal, id, &input).await?))
}

/// Previews or queues meeting `id`'s invitations for an organiser, and audits a send; the JSON
/// API and the organiser's page send here.
///
/// # Errors
/// 404 for an unknown meeting, 409 for a cancelled or past one.
pub async fn send_and_store(state: &AppState, principal: &Principal, id: i32, input: &SendIn) -> ApiResult<SendOut> {
    let meeting = load_meeting(state, id).await?;
    invitations::check_sendable(&meeting, Utc::now()).map_err(|error| ApiError::conflict(error.to_string()))?;
    let smtp_configured = state.config.smtp_url.is_some();
    if input.preview {
        let recipients: Vec<RecipientOut> = invitations::preview(&state.db, &state.config, &meeting)
            .await?
            .into_iter()
            .map(|(recipient, message)| RecipientOut {
                subject: Some(message.subject),
                text: Some(message.text_body),
                ..recipient_out(recipient, "preview")
            })
            .collect();
        return Ok(SendOut { meeting: id, preview: true, queued: 0, already_invited: 0, smtp_configured, recipients });
    }
    let report = invitations::send(&state.db, &state.config, &meeting, input.resend).await?;
    store::audit::record(
        &state.db,
        AuditEntry::<(), _> {
            actor: &principal.actor,
            action: if input.resend { "invitations.resend" } else { "invitations.send" },
            subject_type: "meeting",
            subject_id: id.to_string(),
            before: None,
            after: Some(&json!({"queued": report.queued.len(), "already_invited": report.already_invited.len()})),
        },
    )
    .await?;
    let (queued, already_invited) = (report.queued.len(), report.already_invited.len());
    let recipients = report
        .queued
        .into_iter()
        .map(|r| recipient_out(r, "queued"))
        .chain(report.already_invited.into_iter().map(|r| recipient_out(r, "already_invited")))
        .collect();
    Ok(SendOut { meeting: id, preview: false, queued, already_invited, smtp_configured, recipients })
}

/// One message about a meeting and what became of it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryOut {
    pub email: String,
    pub name: String,
    /// `invitation`, `update` or `cancellation`.
    pub kind: String,
    /// `queued`, `sending`, `sent` or `failed`.
    #[schema(value_type = String)]
    pub status: OutboxStatus,
    pub attempts: i32,
    /// Why the last attempt failed (the SMTP server's answer).
    pub reason: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub message_id: String,
    /// The recipient's answer through the RSVP links: `accepted`, `declined` or null.
    pub answer: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveriesOut {
    pub meeting: i32,
    pub smtp_configured: bool,
    /// The latest message to each recipient.
    pub recipients: Vec<DeliveryOut>,
    /// Every message about the meeting, oldest first.
    pub messages: Vec<DeliveryOut>,
}

/// Delivery status of a meeting's invitations, per recipient (organisers).
#[utoipa::path(get, path = "/meetings/{id}/invitations", tag = "invitations", security(("bearer" = [])),
    params(("id" = i32, Path)), responses((status = 200, body = DeliveriesOut), (status = 404, body = ErrorBody)))]
async fn list_invitations(
    State(state): State<AppState>,
    Organiser(_organiser): Organiser,
    ApiPath(id): ApiPath<i32>,
) -> ApiResult<Json<DeliveriesOut>> {
    Ok(Json(deliveries(&state, id).await?))
}

/// What became of every message about meeting `id`, with the recipients' answers. Callers
/// check that the caller is an organiser.
///
/// # Errors
/// 404 for an unknown meeting.
pub async fn deliveries(state: &AppState, id: i32) -> ApiResult<DeliveriesOut> {
    load_meeting(state, id).await?;
    let answers: std::collections::HashMap<String, String> = store::invitations::rsvps(&state.db, id)
        .await?
        .into_iter()
        .map(|row| (row.recipient_email, row.answer))
        .collect();
    let messages: Vec<DeliveryOut> = outbox::for_meeting(&state.db, id)
        .await?
        .into_iter()
        .map(|row| DeliveryOut {
            answer: answers.get(&row.recipient_email.to_lowercase()).cloned(),
            email: row.recipient_email,
            name: row.recipient_name,
            kind: row.kind,
            status: row.status,
            attempts: row.attempts,
            reason: row.last_error,
            sent_at: row.sent_at,
            message_id: row.message_id,
        })
        .collect();
    let mut latest: Vec<DeliveryOut> = Vec::new();
    for message in &messages {
        match latest.iter_mut().find(|seen| seen.email == message.email) {
            Some(seen) => *seen = message.clone(),
            None => latest.push(message.clone()),
        }
    }
    Ok(DeliveriesOut { meeting: id, smtp_configured: state.config.smtp_url.is_some(), recipients: latest, messages })
}
