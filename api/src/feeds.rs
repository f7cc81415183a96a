//! Calendar feeds: loading what a feed shows from the database, rendering it through the pure
//! `scheduler::feed` and `scheduler::ical`, and keeping the rendered bytes.
//!
//! Calendar clients poll the same URL every few minutes to every hour and almost always get the
//! same answer, so a rendered feed is kept per (scope, window) together with the
//! [`DataVersion`] it was rendered from, and rendered again only when that fingerprint moved.
//! The identity and the gzip bytes, the ETag and the Last-Modified of each entry are computed
//! once.
//!
//! The token lookup and the fingerprint are themselves remembered for [`FRESH_FOR`] (one
//! second), so a busy feed costs no database query at all. Every successful change made
//! through this service (any POST, PUT, PATCH or DELETE: a moved meeting, a revoked feed)
//! forgets them at once ([`note_changes`]); a change made elsewhere (another replica, the CLI)
//! shows within that second.

use std::{
    collections::HashMap,
    hash::Hash,
    io::Write as _,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context as _;
use axum::{
    body::Bytes,
    extract::{Request, State},
    http::{HeaderValue, Method},
    middleware::Next,
    response::Response,
};
use chrono::{DateTime, Months, NaiveDate, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;
use scheduler::{
    bodies::body,
    feed::{FeedMeeting, FeedScope, build_feed, calendar_event, chair_in_words, last_modified},
    ical::{Feed, render_feed},
    states::Delegation,
    when_where::Language,
};
use sea_orm::{ConnectionTrait, DbErr};
use sha2::{Digest as _, Sha256};

use crate::{
    auth::hash_secret,
    db::entities::{feeds, meetings},
    db::enums::MeetingStatus,
    store::{
        self,
        feeds::DataVersion,
        meetings::{Context, local_date},
    },
};

/// `scope` of a feed that shows what one delegation is invited to.
pub const SCOPE_DELEGATION: &str = "delegation";
/// `scope` of a feed that shows one body's meetings.
pub const SCOPE_BODY: &str = "body";
/// `scope` of a feed that shows every meeting.
pub const SCOPE_ALL: &str = "all";

/// Days before today a feed starts by default.
pub const DEFAULT_DAYS_BACK: i64 = 90;
/// Months after today a feed ends by default.
pub const DEFAULT_MONTHS_AHEAD: u32 = 18;
/// The longest window a feed may be asked for, in days (about ten years).
pub const LONGEST_WINDOW_DAYS: i64 = 3700;

/// Local dates a feed covers, both inclusive: a meeting is in when it starts on one of them
/// where it happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Window {
    /// 90 days back to 18 months ahead of `today`.
    #[must_use]
    pub fn default_for(today: NaiveDate) -> Self {
        Self {
            from: today - TimeDelta::days(DEFAULT_DAYS_BACK),
            to: today.checked_add_months(Months::new(DEFAULT_MONTHS_AHEAD)).unwrap_or(NaiveDate::MAX),
        }
    }

    /// UTC bounds that hold every meeting starting on a local date of the window: local dates
    /// differ from UTC dates by at most 14 hours, so a day either side is enough.
    #[must_use]
    pub fn utc_range(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let day = TimeDelta::days(1);
        (self.from.and_time(NaiveTime::MIN).and_utc() - day, self.to.and_time(NaiveTime::MIN).and_utc() + day + day)
    }

    fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }
}

/// A feed rendered once and served many times.
#[derive(Debug)]
pub struct RenderedFeed {
    /// What it was rendered from; a different version means render again.
    version: Arc<DataVersion>,
    pub body: Bytes,
    pub gzip: Bytes,
    /// Strong validators, one per representation (RFC 9110 §8.8.3): the identity bytes and the
    /// gzip bytes are different representations of the same version.
    pub etag: HeaderValue,
    pub etag_gzip: HeaderValue,
    /// The opaque part both ETags share, to recognise either in `If-None-Match`.
    pub tag: String,
    /// The latest change among the feed's events.
    pub last_modified: Option<DateTime<Utc>>,
    /// The same as an HTTP date, formatted once rather than on every request.
    pub last_modified_header: Option<HeaderValue>,
    pub events: usize,
}

/// What a feed shows apart from the window; feeds that show the same share one rendering.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ScopeKey {
    scope: String,
    iso2: Option<String>,
    body_code: Option<String>,
}

/// A live feed as remembered from the database, with its [`ScopeKey`] built once.
#[derive(Debug)]
pub struct LiveFeed {
    pub model: feeds::Model,
    key: ScopeKey,
    /// When a fetch was last recorded (Unix seconds), kept here so that checking costs no query.
    used_at: AtomicI64,
}

impl From<feeds::Model> for LiveFeed {
    fn from(model: feeds::Model) -> Self {
        let key = ScopeKey { scope: model.scope.clone(), iso2: model.iso2.clone(), body_code: model.body_code.clone() };
        let used_at = AtomicI64::new(model.last_used_at.map_or(i64::MIN, |at| at.timestamp()));
        Self { model, key, used_at }
    }
}

impl LiveFeed {
    /// Records that a feed was fetched, at most once a minute: on the hot path this is one atomic
    /// load, and of the requests that find the minute over only one writes.
    ///
    /// # Errors
    /// When the database refuses the change.
    pub async fn touch(&self, db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<(), DbErr> {
        let now_secs = now.timestamp();
        let last = self.used_at.load(Ordering::Relaxed);
        if now_secs.saturating_sub(last) < TOUCH_EVERY_SECS
            || self.used_at.compare_exchange(last, now_secs, Ordering::Relaxed, Ordering::Relaxed).is_err()
        {
            return Ok(());
        }
        store::feeds::touch(db, self.model.id, now).await.inspect_err(|_| {
            // Let the next request try again.
            self.used_at.store(last, Ordering::Relaxed);
        })
    }
}

/// `last_used_at` is written at most this often per feed (and per replica).
const TOUCH_EVERY_SECS: i64 = 60;

/// How long a token lookup or a data fingerprint is trusted without asking the database, when
/// no change went through this service meanwhile.
pub const FRESH_FOR: Duration = Duration::from_secs(1);

/// Rendered feeds of one running service, keyed by what they show, and the lookups that decide
/// whether they can be served again.
///
/// Values are behind `Arc`s and rendered feeds are found by window, then by a borrowed
/// [`ScopeKey`]: serving a feed from the cache copies no string and allocates nothing.
#[derive(Debug, Default)]
pub struct FeedCache {
    entries: Mutex<HashMap<Window, HashMap<ScopeKey, Arc<RenderedFeed>>>>,
    /// Live feeds by token hash.
    tokens: Mutex<HashMap<String, Remembered<Arc<LiveFeed>>>>,
    versions: Mutex<HashMap<Window, Remembered<Arc<DataVersion>>>>,
    /// Raised by every successful change through this service; a remembered lookup from an
    /// earlier generation is asked again.
    generation: AtomicU64,
}

#[derive(Debug)]
struct Remembered<T> {
    value: T,
    at: Instant,
    generation: u64,
}

/// More entries than this in one map (only reachable with many custom windows or feeds) empties
/// it.
const CACHE_CAPACITY: usize = 4096;

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn insert_bounded<K: Hash + Eq, V>(map: &mut HashMap<K, V>, key: K, value: V) {
    if map.len() >= CACHE_CAPACITY && !map.contains_key(&key) {
        map.clear();
    }
    map.insert(key, value);
}

impl FeedCache {
    /// A new, empty cache to share between the handlers of one service.
    #[must_use]
    pub fn shared() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Forgets every remembered lookup: something may have changed.
    pub fn note_change(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn recall<K: Hash + Eq, T: Clone>(&self, map: &Mutex<HashMap<K, Remembered<T>>>, key: &K) -> Option<T> {
        let generation = self.generation();
        lock(map)
            .get(key)
            .filter(|entry| entry.generation == generation && entry.at.elapsed() < FRESH_FOR)
            .map(|entry| entry.value.clone())
    }

    fn remember<K: Hash + Eq, T>(map: &Mutex<HashMap<K, Remembered<T>>>, key: K, value: T, generation: u64) {
        insert_bounded(&mut lock(map), key, Remembered { value, at: Instant::now(), generation });
    }

    fn get(&self, window: Window, key: &ScopeKey) -> Option<Arc<RenderedFeed>> {
        lock(&self.entries).get(&window).and_then(|by_scope| by_scope.get(key)).cloned()
    }

    fn put(&self, window: Window, key: ScopeKey, rendered: Arc<RenderedFeed>) {
        let mut entries = lock(&self.entries);
        if entries.len() >= CACHE_CAPACITY && !entries.contains_key(&window) {
            entries.clear();
        }
        insert_bounded(entries.entry(window).or_default(), key, rendered);
    }

    /// The live feed a token opens, if any.
    ///
    /// # Errors
    /// When the database does not answer.
    pub async fn feed_by_token(&self, db: &impl ConnectionTrait, token: &str) -> Result<Option<Arc<LiveFeed>>, DbErr> {
        let hash = hash_secret(token);
        if let Some(feed) = self.recall(&self.tokens, &hash) {
            return Ok(Some(feed));
        }
        // Read before asking, so a change during the query leaves the answer already stale.
        let generation = self.generation();
        let feed = store::feeds::by_token_hash(db, &hash).await?.map(|model| Arc::new(LiveFeed::from(model)));
        if let Some(feed) = &feed {
            Self::remember(&self.tokens, hash, Arc::clone(feed), generation);
        }
        Ok(feed)
    }

    async fn version(&self, db: &impl ConnectionTrait, window: Window) -> Result<Arc<DataVersion>, DbErr> {
        if let Some(version) = self.recall(&self.versions, &window) {
            return Ok(version);
        }
        let generation = self.generation();
        let (from, to) = window.utc_range();
        let version = Arc::new(store::feeds::data_version(db, from, to).await?);
        Self::remember(&self.versions, window, Arc::clone(&version), generation);
        Ok(version)
    }
}

/// Middleware: every successful change through the service (any method but GET, HEAD and
/// OPTIONS) makes the [`FeedCache`] ask the database again.
pub async fn note_changes(State(cache): State<Arc<FeedCache>>, request: Request, next: Next) -> Response {
    let changes = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let response = next.run(request).await;
    if changes && (response.status().is_success() || response.status().is_redirection()) {
        cache.note_change();
    }
    response
}

/// The feed `feed` shows over `window`, from the cache when nothing it depends on changed.
/// `public_base` (for the meetings' links) is asked for only when the feed is rendered.
///
/// # Errors
/// When the database does not answer, or holds a scope, body or State this version does not know.
pub async fn rendered(
    db: &impl ConnectionTrait,
    cache: &FeedCache,
    live: &LiveFeed,
    window: Window,
    public_base: impl FnOnce() -> String,
) -> anyhow::Result<Arc<RenderedFeed>> {
    let version = cache.version(db, window).await?;
    if let Some(hit) =
        cache.get(window, &live.key).filter(|hit| Arc::ptr_eq(&hit.version, &version) || hit.version == version)
    {
        crate::metrics::feed_cache(true);
        return Ok(hit);
    }
    crate::metrics::feed_cache(false);
    let feed = &live.model;
    let (from, to) = window.utc_range();
    let context = Context::load(db).await?;
    let body_filter = if feed.scope == SCOPE_BODY { feed.body_code.as_deref() } else { None };
    let rows = store::meetings::list(db, Some(from), Some(to), body_filter).await?;
    let (text, last_modified, events) = render(feed, window, &rows, &context, &public_base())?;
    let rendered = Arc::new(finish(version, text, (last_modified, events))?);
    cache.put(window, live.key.clone(), Arc::clone(&rendered));
    Ok(rendered)
}

/// What a feed row shows, as the pure feed code knows it.
///
/// # Errors
/// When the row names a scope, State or body this version does not know.
pub fn feed_scope<'a>(
    scope: &str,
    iso2: Option<&'a str>,
    body_code: Option<&str>,
    context: &'a Context,
) -> anyhow::Result<FeedScope<'a>> {
    Ok(match scope {
        SCOPE_DELEGATION => {
            let iso2 = iso2.context("a delegation feed without a State")?;
            let state = context.states.states.iter().find(|state| state.iso2 == iso2);
            FeedScope::Delegation {
                iso2,
                name_en: state.map(|state| state.name_en.as_str()).with_context(|| format!("unknown State {iso2}"))?,
            }
        }
        SCOPE_BODY => {
            let code = body_code.context("a body feed without a body")?;
            FeedScope::Body(body(code).with_context(|| format!("unknown body {code}"))?)
        }
        SCOPE_ALL => FeedScope::All,
        other => anyhow::bail!("unknown feed scope {other:?}"),
    })
}

/// Loads nothing: filters `rows` to the feed's scope and window and renders them. Returns the
/// text and the latest change among its events.
fn render(
    feed: &feeds::Model,
    window: Window,
    rows: &[meetings::Model],
    context: &Context,
    public_base: &str,
) -> anyhow::Result<(String, Option<DateTime<Utc>>, usize)> {
    let name_of = |iso2: &str| context.state_name(iso2, Language::English);
    let scope = feed_scope(&feed.scope, feed.iso2.as_deref(), feed.body_code.as_deref(), context)?;
    let mut on_date: HashMap<NaiveDate, Vec<Delegation>> = HashMap::new();
    let mut meetings = Vec::with_capacity(rows.len());
    for row in rows {
        let date = local_date(row);
        let Some(meeting_body) = body(&row.body_code) else { continue };
        if !window.contains(date)
            || !scope.includes(meeting_body, || on_date.entry(date).or_insert_with(|| context.states.on(date)))
        {
            continue;
        }
        meetings.push(feed_meeting(row, meeting_body, context, public_base, &name_of)?);
    }
    let text = render_feed(&build_feed(&scope, &meetings));
    Ok((text, last_modified(&meetings), meetings.len()))
}

/// The calendar file of one meeting (the meeting page's "Add to calendar"): the same event as
/// in every feed, so both say the same and a client that has both merges them by UID.
///
/// # Errors
/// When the meeting's body, times or zone are not ones Plenary knows.
pub fn single_meeting(row: &meetings::Model, context: &Context, public_base: &str) -> anyhow::Result<String> {
    let meeting_body = body(&row.body_code).with_context(|| format!("unknown body {}", row.body_code))?;
    let name_of = |iso2: &str| context.state_name(iso2, Language::English);
    let meeting = feed_meeting(row, meeting_body, context, public_base, &name_of)?;
    Ok(render_feed(&Feed { name: row.title.clone(), stamp: row.updated_at, events: vec![calendar_event(&meeting)] }))
}

fn feed_meeting(
    row: &meetings::Model,
    meeting_body: &'static scheduler::bodies::Body,
    context: &Context,
    public_base: &str,
    name_of: &impl Fn(&str) -> String,
) -> anyhow::Result<FeedMeeting> {
    let instant = |unix: i64| DateTime::from_timestamp(unix, 0).with_context(|| format!("meeting {} time", row.id));
    Ok(FeedMeeting {
        uid: row.uid.clone(),
        sequence: u32::try_from(row.sequence).unwrap_or(0),
        body: meeting_body,
        title: row.title.clone(),
        start: instant(row.starts_at)?,
        end: instant(row.ends_at)?,
        time_zone: row.time_zone.parse::<Tz>().map_err(|error| anyhow::anyhow!("meeting {}: {error}", row.id))?,
        cancelled: row.status == MeetingStatus::Cancelled,
        cancellation_reason: row.cancellation_reason.clone(),
        place: context.place(row, Language::English),
        chair: chair_in_words(&context.chair(row), name_of),
        url: format!("{public_base}/meetings/{}", row.id),
        registration_url: (row.status != MeetingStatus::Cancelled)
            .then(|| format!("{public_base}/meetings/{}/registration", row.id)),
        updated_at: row.updated_at,
    })
}

fn finish(
    version: Arc<DataVersion>,
    text: String,
    meta: (Option<DateTime<Utc>>, usize),
) -> anyhow::Result<RenderedFeed> {
    let (last_modified, events) = meta;
    let digest = Sha256::digest(text.as_bytes());
    let tag: String = digest.iter().take(16).map(|byte| format!("{byte:02x}")).collect();
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(text.len() / 4), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).context("gzip")?;
    let gzip = encoder.finish().context("gzip")?;
    Ok(RenderedFeed {
        version,
        body: Bytes::from(text),
        gzip: Bytes::from(gzip),
        etag: HeaderValue::from_str(&format!("\"{tag}\"")).context("etag")?,
        etag_gzip: HeaderValue::from_str(&format!("\"{tag}-gzip\"")).context("etag")?,
        tag,
        last_modified,
        last_modified_header: last_modified
            .map(|last| HeaderValue::from_str(&last.format("%a, %d %b %Y %H:%M:%S GMT").to_string()))
            .transpose()
            .context("last-modified")?,
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_window_is_ninety_days_back_to_eighteen_months_ahead() {
        let window = Window::default_for("2026-11-27".parse().unwrap());
        assert_eq!(window.from, "2026-08-29".parse::<NaiveDate>().unwrap());
        assert_eq!(window.to, "2028-05-27".parse::<NaiveDate>().unwrap());
        let (from, to) = window.utc_range();
        assert_eq!(from.to_rfc3339(), "2026-08-28T00:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2028-05-29T00:00:00+00:00");
    }
}
