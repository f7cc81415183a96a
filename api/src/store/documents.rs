//! Meetings' documents (stored in the database, so every replica serves and mails the same
//! files) and the invitation's words organisers chose per meeting and language.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DbErr, DerivePartialModel,
    EntityTrait as _, QueryFilter as _, QueryOrder as _, sea_query::OnConflict,
};

use crate::db::{
    entities::{invitation_texts, meeting_documents},
    enums::Language,
};

/// A document as lists show it, without its content.
#[derive(Debug, Clone, PartialEq, Eq, DerivePartialModel)]
#[sea_orm(entity = "meeting_documents::Entity")]
pub struct DocumentInfo {
    pub id: i32,
    pub meeting_id: i32,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub created_at: DateTime<Utc>,
}

/// Meeting `meeting_id`'s documents, without their content, in the order they were attached.
///
/// # Errors
/// When the database does not answer.
pub async fn list(db: &impl ConnectionTrait, meeting_id: i32) -> Result<Vec<DocumentInfo>, DbErr> {
    meeting_documents::Entity::find()
        .filter(meeting_documents::Column::MeetingId.eq(meeting_id))
        .order_by_asc(meeting_documents::Column::Id)
        .into_partial_model()
        .all(db)
        .await
}

/// Meeting `meeting_id`'s documents with their content, in the order they were attached.
///
/// # Errors
/// When the database does not answer.
pub async fn with_content(db: &impl ConnectionTrait, meeting_id: i32) -> Result<Vec<meeting_documents::Model>, DbErr> {
    meeting_documents::Entity::find()
        .filter(meeting_documents::Column::MeetingId.eq(meeting_id))
        .order_by_asc(meeting_documents::Column::Id)
        .all(db)
        .await
}

/// Document `id` of meeting `meeting_id`, with its content.
///
/// # Errors
/// When the database does not answer.
pub async fn find(
    db: &impl ConnectionTrait,
    meeting_id: i32,
    id: i32,
) -> Result<Option<meeting_documents::Model>, DbErr> {
    meeting_documents::Entity::find_by_id(id).filter(meeting_documents::Column::MeetingId.eq(meeting_id)).one(db).await
}

/// Stores a document (the caller checked it).
///
/// # Errors
/// When the database does not answer.
pub async fn create(
    db: &impl ConnectionTrait,
    meeting_id: i32,
    filename: &str,
    content_type: &str,
    content: Vec<u8>,
) -> Result<DocumentInfo, DbErr> {
    let stored = meeting_documents::ActiveModel {
        meeting_id: Set(meeting_id),
        filename: Set(filename.to_owned()),
        content_type: Set(content_type.to_owned()),
        size_bytes: Set(i64::try_from(content.len()).unwrap_or(i64::MAX)),
        content: Set(content),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(DocumentInfo {
        id: stored.id,
        meeting_id: stored.meeting_id,
        filename: stored.filename,
        content_type: stored.content_type,
        size_bytes: stored.size_bytes,
        created_at: stored.created_at,
    })
}

/// Removes document `id` of meeting `meeting_id`; `None` when there is no such document.
///
/// # Errors
/// When the database does not answer.
pub async fn delete(db: &impl ConnectionTrait, meeting_id: i32, id: i32) -> Result<Option<DocumentInfo>, DbErr> {
    let Some(document) = meeting_documents::Entity::find_by_id(id)
        .filter(meeting_documents::Column::MeetingId.eq(meeting_id))
        .into_partial_model::<DocumentInfo>()
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    meeting_documents::Entity::delete_by_id(id).exec(db).await?;
    Ok(Some(document))
}

/// The invitation's words organisers chose for meeting `meeting_id`, one row per language.
///
/// # Errors
/// When the database does not answer.
pub async fn invitation_texts(
    db: &impl ConnectionTrait,
    meeting_id: i32,
) -> Result<Vec<invitation_texts::Model>, DbErr> {
    invitation_texts::Entity::find().filter(invitation_texts::Column::MeetingId.eq(meeting_id)).all(db).await
}

/// Sets (or, with both `None`, clears back to the generated words) meeting `meeting_id`'s
/// invitation subject and opening in `language`.
///
/// # Errors
/// When the database does not answer.
pub async fn save_invitation_text(
    db: &impl ConnectionTrait,
    meeting_id: i32,
    language: Language,
    subject: Option<String>,
    opening: Option<String>,
) -> Result<(), DbErr> {
    if subject.is_none() && opening.is_none() {
        invitation_texts::Entity::delete_many()
            .filter(invitation_texts::Column::MeetingId.eq(meeting_id))
            .filter(invitation_texts::Column::Language.eq(language))
            .exec(db)
            .await?;
        return Ok(());
    }
    invitation_texts::Entity::insert(invitation_texts::ActiveModel {
        meeting_id: Set(meeting_id),
        language: Set(language),
        subject: Set(subject),
        opening: Set(opening),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([invitation_texts::Column::MeetingId, invitation_texts::Column::Language])
            .update_columns([
                invitation_texts::Column::Subject,
                invitation_texts::Column::Opening,
                invitation_texts::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}
