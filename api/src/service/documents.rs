//! Meetings' documents (agenda, logistics note): organisers attach and remove them; everyone
//! who may see the meeting lists and downloads them; the invitation and its updates carry them
//! ([`crate::mail::message`]). Which files are accepted and what they are called is
//! [`scheduler::documents`]'s rule; the content type is decided from the file, never taken
//! from the upload. Attaching and removing are audited.

use scheduler::documents::{self, Refusal};
use sea_orm::DatabaseConnection;
use serde_json::json;

use super::{Error, Rule, ServiceResult};
use crate::{
    auth::Principal,
    db::entities::meeting_documents,
    store::{self, audit::AuditEntry, documents::DocumentInfo},
};

pub use scheduler::documents::MAX_BYTES;

/// Attaches the file `filename` (as the browser named it) with content `bytes` to meeting `id`.
///
/// # Errors
/// [`Error::Forbidden`] for anyone but an organiser, [`Error::NotFound`] for an unknown
/// meeting, [`Error::Invalid`] on `file` saying why the file is refused.
pub async fn attach(
    db: &DatabaseConnection,
    principal: &Principal,
    id: i32,
    filename: &str,
    bytes: Vec<u8>,
) -> ServiceResult<DocumentInfo> {
    super::require_organiser(principal, "attach and remove a meeting's documents")?;
    let meeting = super::meetings::load(db, id).await?;
    let txn = crate::db::begin_write(db).await?;
    let attached: i64 =
        store::documents::list(&txn, meeting.id).await?.iter().map(|document| document.size_bytes).sum();
    let accepted =
        documents::check(filename, &bytes, usize::try_from(attached).unwrap_or(usize::MAX)).map_err(|refusal| {
            let rule = match refusal {
                Refusal::TooLarge | Refusal::NoRoomLeft { .. } => Rule::Range,
                Refusal::NoName | Refusal::Empty => Rule::Missing,
                Refusal::UnknownType(_) => Rule::Unknown,
                Refusal::ContentMismatch(_) => Rule::Mismatch,
            };
            Error::invalid("file", rule, format!("{refusal}."))
        })?;
    let stored =
        store::documents::create(&txn, meeting.id, &accepted.filename, accepted.kind.content_type(), bytes).await?;
    store::audit::record(
        &txn,
        AuditEntry::<(), _> {
            actor: &principal.actor,
            action: "meeting.document_attach",
            subject_type: "meeting",
            subject_id: id.to_string(),
            before: None,
            after: Some(&json!({"document": stored.id, "filename": stored.filename, "size": stored.size_bytes})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(stored)
}

/// Removes document `document` from meeting `id`; returns it as it was.
///
/// # Errors
/// [`Error::Forbidden`] for anyone but an organiser, [`Error::NotFound`] for an unknown
/// meeting or document.
pub async fn remove(
    db: &DatabaseConnection,
    principal: &Principal,
    id: i32,
    document: i32,
) -> ServiceResult<DocumentInfo> {
    super::require_organiser(principal, "attach and remove a meeting's documents")?;
    let txn = crate::db::begin_write(db).await?;
    let removed = store::documents::delete(&txn, id, document)
        .await?
        .ok_or_else(|| Error::NotFound("That document is no longer attached to this meeting.".into()))?;
    store::audit::record(
        &txn,
        AuditEntry::<_, ()> {
            actor: &principal.actor,
            action: "meeting.document_remove",
            subject_type: "meeting",
            subject_id: id.to_string(),
            before: Some(&json!({"document": removed.id, "filename": removed.filename})),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(removed)
}

/// Meeting `id`'s documents, without their content.
///
/// # Errors
/// When the database does not answer.
pub async fn list(db: &DatabaseConnection, id: i32) -> ServiceResult<Vec<DocumentInfo>> {
    Ok(store::documents::list(db, id).await?)
}

/// Document `document` of meeting `id`, with its content.
///
/// # Errors
/// [`Error::NotFound`] when the meeting has no such document.
pub async fn download(db: &DatabaseConnection, id: i32, document: i32) -> ServiceResult<meeting_documents::Model> {
    store::documents::find(db, id, document)
        .await?
        .ok_or_else(|| Error::NotFound("This meeting has no such document; it may have been removed.".into()))
}
