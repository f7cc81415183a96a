//! Invitations: who a meeting invites (with the reason), organisers' per-meeting adjustments,
//! delegations' contacts, sending (preview, send, resend) and delivery status (with the answers
//! given through the RSVP links in each mail, answered on the `/rsvp` pages).
//!
//! The JSON edge only: request and response types, and handlers that map them to the use cases
//! of [`crate::service::invitations`] and [`crate::service::contacts`].

use axum::{Json, extract::State, http::StatusCode};
use chrono::{DateTime, Utc};
use scheduler::{eligibility::Reason, states::StateKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    error::{ApiResult, ErrorBody},
    extract::{ApiJson, ApiPath, Organiser},
};
use crate::{
    app::AppState,
    auth::Principal,
    db::entities::contacts::Model as Contact,
    db::enums::{Language, OutboxStatus},
    service::{contacts, invitations},
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
    Ok(Json(invitations::invitees(&state.db, id).await?.into()))
}

impl From<invitations::InviteeList> for InviteesOut {
    fn from(list: invitations::InviteeList) -> Self {
        let mut invitees: Vec<InviteeOut> = list
            .delegations
            .into_iter()
            .map(|(invitee, reason_text)| InviteeOut {
                kind: match invitee.delegation.kind {
                    StateKind::Participating => "participating",
                    StateKind::Partner => "partner",
                },
                reason_text,
                reason: invitee.reason,
                iso2: Some(invitee.delegation.iso2),
                name_en: invitee.delegation.name_en,
                name_fr: invitee.delegation.name_fr,
            })
            .collect();
        invitees.extend(list.officials.into_iter().map(|official| {
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
                reason_text: list.guest_reason.clone(),
            }
        }));
        Self {
            meeting: list.meeting_id,
            body: list.body_code,
            date: list.date.to_string(),
            closed: list.closed,
            invitees,
        }
    }
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
    let adjustments = invitations::adjustments(&state.db, id).await?;
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
    let input = invitations::NewAdjustments {
        closed: input.closed,
        guest_delegations: input.guest_delegations,
        officials: input
            .officials
            .into_iter()
            .map(|official| invitations::NewOfficial {
                name: official.name,
                organisation: official.organisation,
                email: official.email,
                language: official.language,
            })
            .collect(),
    };
    Ok(Json(invitations::set_adjustments(&state.db, &principal, id, input).await?.into()))
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

impl From<Contact> for ContactOut {
    fn from(row: Contact) -> Self {
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
    let input =
        contacts::NewContact { name: input.name, email: input.email, role: input.role, language: input.language };
    Ok((StatusCode::CREATED, Json(contacts::add(&state.db, &principal, &iso2, &input).await?.into())))
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
    let contacts = contacts::list(&state.db, &principal, &iso2).await?;
    Ok(Json(contacts.into_iter().map(ContactOut::from).collect()))
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
    contacts::remove(&state.db, &principal, &iso2, id).await?;
    Ok(StatusCode::NO_CONTENT)
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

impl From<invitations::SentTo> for RecipientOut {
    fn from(sent: invitations::SentTo) -> Self {
        let recipient = sent.recipient;
        Self {
            state: recipient.iso2,
            invited_as: recipient.invited_as,
            name: recipient.name,
            email: recipient.email,
            language: recipient.language,
            role: recipient.role,
            status: sent.outcome.as_str(),
            subject: sent.subject,
            text: sent.text,
        }
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
    let sending = invitations::Sending { preview: input.preview, resend: input.resend };
    let report = invitations::send(&state.db, &state.config, &principal, id, sending).await?;
    Ok(Json(SendOut {
        meeting: report.meeting,
        preview: report.preview,
        queued: report.queued,
        already_invited: report.already_invited,
        smtp_configured: report.smtp_configured,
        recipients: report.recipients.into_iter().map(RecipientOut::from).collect(),
    }))
}

/// One message about a meeting and what became of it.
#[derive(Debug, Serialize, ToSchema)]
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
    let deliveries = invitations::deliveries(&state.db, &state.config, id).await?;
    let out = |messages: Vec<invitations::Delivery>| messages.into_iter().map(DeliveryOut::from).collect();
    Ok(Json(DeliveriesOut {
        meeting: deliveries.meeting,
        smtp_configured: deliveries.smtp_configured,
        recipients: out(deliveries.recipients),
        messages: out(deliveries.messages),
    }))
}

impl From<invitations::Delivery> for DeliveryOut {
    fn from(delivery: invitations::Delivery) -> Self {
        Self {
            email: delivery.email,
            name: delivery.name,
            kind: delivery.kind,
            status: delivery.status,
            attempts: delivery.attempts,
            reason: delivery.reason,
            sent_at: delivery.sent_at,
            message_id: delivery.message_id,
            answer: delivery.answer,
        }
    }
}
