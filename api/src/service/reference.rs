//! The reference data as the edges show it: States and Partners on a date, the Chairmanships
//! of the years worth listing with their Troika, and recording a newly agreed Chairmanship
//! (organisers), which [`scheduler::chairmanship`] decides who may hold.

use chrono::{Datelike as _, NaiveDate, Utc};
use scheduler::{
    chairmanship::{RECORDABLE_YEARS, Troika, may_chair},
    states::{Delegation, StateKind},
};
use sea_orm::ConnectionTrait;

use super::{Error, Rule, ServiceResult};
use crate::{
    auth::Principal,
    store::{self, audit::AuditEntry},
};

/// The States and Partners taking part on `on` (today when `None`): the participating States
/// in protocol order, then the Partners in protocol order.
///
/// # Errors
/// When the database fails.
pub async fn delegations_on(db: &impl ConnectionTrait, on: Option<NaiveDate>) -> ServiceResult<Vec<Delegation>> {
    let date = on.unwrap_or_else(|| Utc::now().date_naive());
    let all = store::reference::states_and_memberships(db).await?;
    let mut delegations = all.on(date);
    delegations.sort_by_key(|delegation| delegation.kind != StateKind::Participating);
    Ok(delegations)
}

/// The Chairmanship of one year.
#[derive(Debug, Clone)]
pub struct ChairmanshipYear {
    pub year: i32,
    /// The English name of the chairing State, when decided.
    pub name_en: Option<String>,
    pub troika: Troika,
}

/// Every year from the first known Chairmanship to next year (or the last known), with its
/// Troika.
///
/// # Errors
/// When the database fails.
pub async fn chairmanships(db: &impl ConnectionTrait) -> ServiceResult<Vec<ChairmanshipYear>> {
    let chairmanships = store::reference::chairmanships(db).await?;
    let all = store::reference::states_and_memberships(db).await?;
    let name_of = |iso2: &str| all.states.iter().find(|s| s.iso2 == iso2).map(|s| s.name_en.clone());
    Ok(chairmanships
        .listed_years(Utc::now().year())
        .map(|year| {
            let troika = chairmanships.troika(year);
            ChairmanshipYear { year, name_en: troika.current.as_deref().and_then(name_of), troika }
        })
        .collect())
}

/// Records `iso2` (any case) as the Chairmanship of `year`, audited; the chairs derived from it
/// follow.
///
/// # Errors
/// [`Error::Forbidden`] for a delegation; [`Error::Invalid`] for a year outside
/// [`RECORDABLE_YEARS`] or a State that may not chair then ([`may_chair`]).
pub async fn set_chairmanship(
    db: &impl ConnectionTrait,
    principal: &Principal,
    year: i32,
    iso2: &str,
) -> ServiceResult<()> {
    if !principal.is_organiser() {
        return Err(Error::Forbidden(format!(
            "only organisers may do this; this token's role is {}",
            principal.role.as_str()
        )));
    }
    if !RECORDABLE_YEARS.contains(&year) {
        let (first, last) = (RECORDABLE_YEARS.start(), RECORDABLE_YEARS.end());
        return Err(Error::invalid_request(
            Rule::Range,
            format!("year must be between {first} and {last}, got {year}"),
        ));
    }
    let iso2 = iso2.to_uppercase();
    let on = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
    let all = store::reference::states_and_memberships(db).await?;
    if !may_chair(&iso2, &all.on(on)) {
        let message = format!("{iso2:?} is not a participating State on 1 January {year}");
        return Err(Error::invalid("iso2", Rule::Mismatch, message));
    }
    let before = store::reference::chairmanships(db).await?.of(year).map(str::to_owned);
    store::reference::set_chairmanship(db, year, &iso2).await?;
    store::audit::record(
        db,
        AuditEntry {
            actor: &principal.actor,
            action: "chairmanship.set",
            subject_type: "chairmanship",
            subject_id: year.to_string(),
            before: before.as_ref(),
            after: Some(&iso2),
        },
    )
    .await?;
    Ok(())
}
