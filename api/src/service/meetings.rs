//! Meetings: finding one, planning a year, creating, changing and cancelling.

use sea_orm::ConnectionTrait;

use super::{Error, ServiceResult};
use crate::{db::entities::meetings, store};

/// The meeting `id`.
///
/// # Errors
/// [`Error::NotFound`] when there is no such meeting.
pub async fn load(db: &impl ConnectionTrait, id: i32) -> ServiceResult<meetings::Model> {
    store::meetings::find(db, id).await?.ok_or_else(|| Error::NotFound(format!("there is no meeting {id}")))
}
