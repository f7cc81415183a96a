//! Invitation settings per meeting, RSVP answers, and the server secrets links are signed with.

use base64::Engine as _;
use chrono::Utc;
use rand::RngCore as _;
use scheduler::eligibility::{Adjustments, Invitee, OfficialGuest, invitees_adjusted};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    sea_query::OnConflict,
};
use serde::{Deserialize, Serialize};

use crate::{
    db::entities::{invitation_settings, meetings, rsvps, server_secrets},
    store::meetings::{Context, body_of, local_date},
};

#[derive(Default, Serialize, Deserialize)]
struct Guests {
    #[serde(default)]
    guest_delegations: Vec<String>,
    #[serde(default)]
    officials: Vec<OfficialGuest>,
}

/// The organisers' changes to meeting `meeting_id`'s list (none when never set).
///
/// # Errors
/// When the database does not answer.
pub async fn adjustments(db: &impl ConnectionTrait, meeting_id: i32) -> Result<Adjustments, DbErr> {
    let Some(row) = invitation_settings::Entity::find_by_id(meeting_id).one(db).await? else {
        return Ok(Adjustments::default());
    };
    let guests: Guests = serde_json::from_str(&row.guests).unwrap_or_default();
    Ok(Adjustments { closed: row.closed, guest_delegations: guests.guest_delegations, officials: guests.officials })
}

/// The meeting's invited delegations (body's rules, membership on its date, organisers'
/// adjustments), with the adjustments themselves (the official guests, a closed session).
///
/// # Errors
/// When the database does not answer.
pub async fn invitees(
    db: &impl ConnectionTrait,
    context: &Context,
    meeting: &meetings::Model,
) -> Result<(Vec<Invitee>, Adjustments), DbErr> {
    let adjustments = adjustments(db, meeting.id).await?;
    let Some(body) = body_of(meeting) else {
        return Ok((Vec::new(), adjustments));
    };
    let delegations = context.states.on(local_date(meeting));
    Ok((invitees_adjusted(body, &delegations, &adjustments), adjustments))
}

/// Stores the organisers' changes to a meeting's list, replacing earlier ones.
///
/// # Errors
/// When the database refuses the row.
pub async fn save_adjustments(
    db: &impl ConnectionTrait,
    meeting_id: i32,
    adjustments: &Adjustments,
) -> Result<(), DbErr> {
    let guests =
        Guests { guest_delegations: adjustments.guest_delegations.clone(), officials: adjustments.officials.clone() };
    invitation_settings::Entity::insert(invitation_settings::ActiveModel {
        meeting_id: Set(meeting_id),
        closed: Set(adjustments.closed),
        guests: Set(serde_json::to_string(&guests).unwrap_or_else(|_| "{}".into())),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(invitation_settings::Column::MeetingId)
            .update_columns([
                invitation_settings::Column::Closed,
                invitation_settings::Column::Guests,
                invitation_settings::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// Records (or replaces) a recipient's answer to a meeting's invitation.
///
/// # Errors
/// When the database refuses the row.
pub async fn record_rsvp(
    db: &impl ConnectionTrait,
    meeting_id: i32,
    iso2: Option<&str>,
    email: &str,
    answer: &str,
) -> Result<(), DbErr> {
    rsvps::Entity::insert(rsvps::ActiveModel {
        meeting_id: Set(meeting_id),
        iso2: Set(iso2.map(str::to_owned)),
        recipient_email: Set(email.to_lowercase()),
        answer: Set(answer.to_owned()),
        answered_at: Set(Utc::now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([rsvps::Column::MeetingId, rsvps::Column::RecipientEmail])
            .update_columns([rsvps::Column::Answer, rsvps::Column::AnsweredAt, rsvps::Column::Iso2])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The answers recorded for a meeting.
///
/// # Errors
/// When the database does not answer.
pub async fn rsvps(db: &impl ConnectionTrait, meeting_id: i32) -> Result<Vec<rsvps::Model>, DbErr> {
    rsvps::Entity::find().filter(rsvps::Column::MeetingId.eq(meeting_id)).order_by_asc(rsvps::Column::Id).all(db).await
}

/// The secret called `name`, made (256 random bits) and stored on first use; every replica
/// reads the same one.
///
/// # Errors
/// When the database does not answer.
pub async fn secret(db: &impl ConnectionTrait, name: &str) -> Result<Vec<u8>, DbErr> {
    if let Some(row) = server_secrets::Entity::find_by_id(name.to_owned()).one(db).await? {
        return Ok(decode(&row.value));
    }
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    server_secrets::Entity::insert(server_secrets::ActiveModel {
        name: Set(name.to_owned()),
        value: Set(base64::engine::general_purpose::STANDARD.encode(bytes)),
        created_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([server_secrets::Column::Name])
    .exec_without_returning(db)
    .await?;
    // Another replica may have won the race: read back whichever was stored.
    let row = server_secrets::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("server secret {name}")))?;
    Ok(decode(&row.value))
}

fn decode(value: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(value).unwrap_or_else(|_| value.as_bytes().to_vec())
}
