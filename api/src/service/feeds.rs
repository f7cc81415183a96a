//! Calendar subscriptions: creating, listing and revoking feeds, for the JSON API and the
//! pages alike. Serving them (`/feeds/{token}.ics`) is the edge's, with [`crate::feeds`].
//!
//! A delegation manages only its own feeds: a feed of its own meetings, or a body's or
//! everyone's, which it then owns. Organisers manage all. A feed's token is returned once, when
//! it is created; only its hash is stored. What a subscription may ask for is
//! [`scheduler::feed::requested`]'s to say; every creation and revocation is audited.

use chrono::Utc;
use scheduler::feed::{RequestProblem, Requested};
use sea_orm::ConnectionTrait;
use serde_json::json;

use super::{Error, Rule, ServiceResult, require_acting_for};
use crate::{
    auth::Principal,
    db::entities::feeds,
    store::{self, audit::AuditEntry, feeds::NewFeed},
};

/// A subscription as asked for: `scope` is `delegation`, `body` or `all`; a delegation feed
/// names its State, a body feed its body (blank counts as absent).
#[derive(Debug, Clone, Default)]
pub struct NewSubscription {
    pub scope: String,
    pub state: Option<String>,
    pub body: Option<String>,
}

/// A feed just created, with its secret URLs: returned this once.
#[derive(Debug, Clone)]
pub struct Created {
    pub feed: feeds::Model,
    /// `https://…/feeds/plf_….ics`, for calendar clients.
    pub url: String,
    /// The same as `webcal://…`, which opens the subscription dialog of most clients.
    pub webcal_url: String,
}

/// Creates a feed for `principal` (owned by its delegation, or by the organisers) and audits
/// it; `public_base` is where its URL starts.
///
/// # Errors
/// [`Error::Invalid`] for a scope, State or body that does not fit (naming the field);
/// [`Error::Forbidden`] for another delegation's feed.
pub async fn create(
    db: &impl ConnectionTrait,
    public_base: &str,
    principal: &Principal,
    input: &NewSubscription,
) -> ServiceResult<Created> {
    let requested = read(db, input).await?;
    let (iso2, body) = match &requested {
        Requested::Delegation(iso2) => (Some(iso2.as_str()), None),
        Requested::Body(body) => (None, Some(body.code.as_str())),
        Requested::All => (None, None),
    };
    if let Some(iso2) = iso2 {
        require_acting_for(principal, iso2)?;
    }
    let owner = if principal.is_organiser() { None } else { principal.state.as_deref() };
    let (feed, token) = store::feeds::create(
        db,
        NewFeed { scope: requested.scope(), iso2, body_code: body, owner_iso2: owner, created_by: &principal.actor },
    )
    .await?;
    audit(db, principal, "feed.create", &feed).await?;
    let url = format!("{public_base}/feeds/{token}.ics");
    let webcal_url = format!("webcal://{}", url.split_once("://").map_or(url.as_str(), |(_, rest)| rest));
    Ok(Created { feed, url, webcal_url })
}

/// Reads a request against the reference data.
async fn read(db: &impl ConnectionTrait, input: &NewSubscription) -> ServiceResult<Requested> {
    // Looked up before the rules run, so they can ask about it in their own order.
    let state = input.state.as_deref().map(|code| code.trim().to_uppercase()).filter(|code| !code.is_empty());
    let known = match state {
        Some(code) if input.scope == crate::feeds::SCOPE_DELEGATION => {
            store::reference::state(db, &code).await?.map(|row| row.iso2)
        }
        _ => None,
    };
    let exists = |code: &str| known.as_deref() == Some(code);
    scheduler::feed::requested(&input.scope, input.state.as_deref(), input.body.as_deref(), exists).map_err(|problem| {
        let rule = match problem {
            RequestProblem::StateMissing | RequestProblem::BodyMissing => Rule::Missing,
            RequestProblem::UnknownScope(_) | RequestProblem::UnknownState(_) | RequestProblem::UnknownBody(_) => {
                Rule::Unknown
            }
            RequestProblem::StateNotAllowed(_) | RequestProblem::BodyNotAllowed(_) => Rule::Mismatch,
        };
        Error::invalid(problem.field(), rule, problem.to_string())
    })
}

/// Feeds newest first, without their tokens: those owned by the delegation `of` (which the
/// caller must act for), or with `None` the caller's own (organisers: every feed).
///
/// # Errors
/// [`Error::Forbidden`] for another delegation's feeds, or a delegation token without a State.
pub async fn list(
    db: &impl ConnectionTrait,
    principal: &Principal,
    of: Option<&str>,
) -> ServiceResult<Vec<feeds::Model>> {
    let owner = match of {
        Some(iso2) => {
            require_acting_for(principal, iso2)?;
            Some(iso2)
        }
        None if principal.is_organiser() => None,
        None => {
            Some(principal.state.as_deref().ok_or_else(|| Error::Forbidden("this token acts for no State".into()))?)
        }
    };
    Ok(store::feeds::list(db, owner).await?)
}

/// Whether `principal` may see and revoke `feed`: organisers any, a delegation its own.
fn may_manage(principal: &Principal, feed: &feeds::Model) -> bool {
    principal.is_organiser() || (feed.owner_iso2.is_some() && feed.owner_iso2 == principal.state)
}

/// Revokes feed `id` if `principal` may (a delegation its own feeds, organisers any) and audits
/// it; returns the feed as it was. Revoking a revoked feed changes nothing.
///
/// # Errors
/// [`Error::NotFound`] for an unknown feed, and the same (same message) for a feed this caller
/// may not revoke, so a delegation learns nothing about other delegations' feeds, not even that
/// one exists or whose it is.
pub async fn revoke(db: &impl ConnectionTrait, principal: &Principal, id: i32) -> ServiceResult<feeds::Model> {
    let feed = store::feeds::find(db, id)
        .await?
        .filter(|feed| may_manage(principal, feed))
        .ok_or_else(|| Error::NotFound(format!("there is no feed {id}")))?;
    if feed.revoked_at.is_none() {
        store::feeds::revoke(db, id, Utc::now()).await?;
        audit(db, principal, "feed.revoke", &feed).await?;
    }
    Ok(feed)
}

async fn audit(
    db: &impl ConnectionTrait,
    principal: &Principal,
    action: &str,
    feed: &feeds::Model,
) -> ServiceResult<()> {
    let snapshot = json!({ "scope": feed.scope, "state": feed.iso2, "body": feed.body_code, "owner": feed.owner_iso2 });
    let (before, after) = if action == "feed.revoke" { (Some(&snapshot), None) } else { (None, Some(&snapshot)) };
    store::audit::record(
        db,
        AuditEntry {
            actor: &principal.actor,
            action,
            subject_type: "feed",
            subject_id: feed.id.to_string(),
            before,
            after,
        },
    )
    .await?;
    Ok(())
}
