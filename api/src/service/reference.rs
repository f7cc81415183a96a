//! The reference data as the edges show it: States and Partners on a date, the Chairmanships
//! of the years worth listing with their Troika, and recording a newly agreed Chairmanship
//! (organisers), which [`scheduler::chairmanship`] decides who may hold.

use chrono::{Datelike as _, NaiveDate, Utc};
use scheduler::{
    chairmanship::{RECORDABLE_YEARS, Troika, may_chair},
    states::{Delegation, StateKind},
};
use sea_orm::{ConnectionTrait, DatabaseConnection};

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
/// follow. Replaces an earlier entry for that year (the API's `PUT`).
///
/// # Errors
/// [`Error::Forbidden`] for a delegation; [`Error::Invalid`] for a year outside
/// [`RECORDABLE_YEARS`] or a State that may not chair then ([`may_chair`]).
pub async fn set_chairmanship(
    db: &DatabaseConnection,
    principal: &Principal,
    year: i32,
    iso2: &str,
) -> ServiceResult<()> {
    let txn = crate::db::begin_write(db).await?;
    store_chairmanship(&txn, principal, year, iso2, "iso2", Replace::Allowed).await?;
    txn.commit().await?;
    Ok(())
}

/// Records a newly agreed Chairmanship (the organiser console, `POST /chairmanships`): a year
/// has one, so a year already decided is refused rather than silently changed.
///
/// # Errors
/// As [`set_chairmanship`], with the State's field named `state`; a conflict naming the
/// State already recorded for `year`.
pub async fn record_chairmanship(
    db: &DatabaseConnection,
    principal: &Principal,
    year: i32,
    iso2: &str,
) -> ServiceResult<()> {
    let txn = crate::db::begin_write(db).await?;
    store_chairmanship(&txn, principal, year, iso2, "state", Replace::Refused).await?;
    txn.commit().await?;
    Ok(())
}

/// Whether recording a Chairmanship may replace the one already recorded for the year.
#[derive(PartialEq, Eq)]
enum Replace {
    Allowed,
    Refused,
}

async fn store_chairmanship(
    db: &impl ConnectionTrait,
    principal: &Principal,
    year: i32,
    iso2: &str,
    field: &str,
    replace: Replace,
) -> ServiceResult<()> {
    if !principal.is_organiser() {
        return Err(Error::Forbidden(format!(
            "only organisers may do this; this token's role is {}",
            principal.role.as_str()
        )));
    }
    if !RECORDABLE_YEARS.contains(&year) {
        let (first, last) = (RECORDABLE_YEARS.start(), RECORDABLE_YEARS.end());
        return Err(Error::invalid("year", Rule::Range, format!("must be between {first} and {last}, got {year}")));
    }
    let iso2 = iso2.trim().to_uppercase();
    let all = store::reference::states_and_memberships(db).await?;
    let Some(named) = all.states.iter().find(|state| state.iso2 == iso2) else {
        let message = if iso2.is_empty() { "choose a State".to_owned() } else { format!("there is no State {iso2:?}") };
        return Err(Error::invalid(field, Rule::Unknown, message));
    };
    let on = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
    if !may_chair(&iso2, &all.on(on)) {
        let message = format!("{} is not a participating State on 1 January {year}", named.name_en);
        return Err(Error::invalid(field, Rule::Mismatch, message));
    }
    let before = store::reference::chairmanships(db).await?.of(year).map(str::to_owned);
    let recorded = match replace {
        Replace::Allowed => {
            store::reference::set_chairmanship(db, year, &iso2).await?;
            true
        }
        // Inserted only if still free: two organisers recording the same year at once do not
        // silently replace each other.
        Replace::Refused => store::reference::add_chairmanship(db, year, &iso2).await?,
    };
    if !recorded {
        let holder = store::reference::chairmanships(db).await?.of(year).map(str::to_owned).unwrap_or_default();
        let holder = all.states.iter().find(|state| state.iso2 == holder).map_or(holder.as_str(), |s| &s.name_en);
        return Err(Error::Conflict {
            kind: super::ConflictKind::Duplicate { field: "year" },
            message: format!("the Chairmanship of {year} is already recorded: {holder}"),
        });
    }
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
