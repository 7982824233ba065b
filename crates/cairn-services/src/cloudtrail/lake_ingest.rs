//! Event data stores ingesting the journal: each store takes the records its account made
//! (an organization's store: every account of its organization) in its region unless
//! multi-region, that its advanced event selectors select, over the journal ranges in which it
//! was ingesting, into its columnar files.
//!
//! Exactly once across crashes: a store's position is the columnar engine's committed position
//! of its `journal` stream, which moves in the same durable step as the files it wrote. A
//! store deleted more than seven days ago is purged here with its events, a store's days past
//! its retention period go, and queries older than seven days are forgotten.

use std::borrow::Cow;
use std::sync::Arc;

use cairn_store::StoreError;
use cairn_store::journal::{Consumer, Entry, EntryKind, Round};
use cairn_store::lake::{EventDataStore, KeyState};
use cairn_trail::selectors::AdvancedSelectors;
use serde_json::Value;

use super::handlers::event_data_stores::{PENDING_DELETION, PENDING_DELETION_MS};
use super::handlers::queries::KEPT_MS;
use super::lake_keys;
use crate::app::App;

const STREAM: &str = "journal";
/// Journal bytes read per batch, and batches per round.
const READ_BYTES: usize = 8 << 20;
const BATCHES: usize = 16;

/// How often (on the instance's clock) retention and deletions are looked at.
const EXPIRE_EVERY_MS: i64 = 60_000;

/// The consumer.
pub struct LakeIngest {
    app: Arc<App>,
    /// When retention and deletions were last looked at.
    expired_at: std::sync::Mutex<Option<i64>>,
}

impl LakeIngest {
    pub fn new(app: Arc<App>) -> LakeIngest {
        LakeIngest {
            app,
            expired_at: std::sync::Mutex::new(None),
        }
    }
}

/// A store being fed, and what it takes.
struct Feed {
    store: EventDataStore,
    selectors: AdvancedSelectors,
    multi_region: bool,
    /// An organization store's other accounts, as its organization has them now.
    members: Vec<String>,
    /// The journal position it has ingested up to (exclusive).
    position: u64,
}

impl Feed {
    fn of(app: &App, store: EventDataStore) -> Result<Option<Feed>, StoreError> {
        let Some(first) = store.ingest_ranges.first().map(|r| r.0) else {
            return Ok(None);
        };
        let position = app
            .columnar
            .committed(&store.id, STREAM)?
            .unwrap_or(first)
            .max(first);
        // Done once every range is closed and read.
        let open_or_behind = store
            .ingest_ranges
            .iter()
            .any(|(_, to)| to.is_none_or(|t| position < t));
        if !open_or_behind {
            return Ok(None);
        }
        let settings: Value = serde_json::from_str(&store.settings).unwrap_or(Value::Null);
        let organization = settings
            .get("OrganizationEnabled")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let members = match organization {
            false => Vec::new(),
            true => app
                .organizations
                .organization_of(&store.account)?
                .filter(|o| o.management_account == store.account)
                .map(|o| o.account_ids())
                .unwrap_or_default(),
        };
        Ok(Some(Feed {
            members,
            selectors: AdvancedSelectors::parse(
                settings
                    .get("AdvancedEventSelectors")
                    .unwrap_or(&Value::Null),
            ),
            multi_region: settings
                .get("MultiRegionEnabled")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            store,
            position,
        }))
    }

    fn ingesting_at(&self, offset: u64) -> bool {
        self.store
            .ingest_ranges
            .iter()
            .any(|(from, to)| offset >= *from && to.is_none_or(|t| offset < t))
    }

    fn takes(&self, entry: &Entry, record: &Value) -> bool {
        if entry.account != self.store.account && !self.members.contains(&entry.account) {
            return false;
        }
        if !self.multi_region
            && record.get("awsRegion").and_then(Value::as_str) != Some(self.store.region.as_str())
        {
            return false;
        }
        self.selectors.takes(record)
    }
}

/// Whether `store` has yet to take in journal entries before `head` that it ingests: a query
/// started at `head` waits for them. A store whose KMS key cannot be used now takes nothing
/// and is not waited for.
pub(super) fn behind(app: &App, store: &EventDataStore, head: u64) -> Result<bool, StoreError> {
    if store.status == PENDING_DELETION {
        return Ok(false);
    }
    let Some(feed) = Feed::of(app, store.clone())? else {
        return Ok(false);
    };
    if lake_keys::sealing(store).is_some()
        && !matches!(app.columnar.key_state(&store.id), KeyState::Unlocked { .. })
    {
        return Ok(false);
    }
    // Some range it ingests overlaps the entries from its position to `head`.
    Ok(feed
        .store
        .ingest_ranges
        .iter()
        .any(|&(from, to)| from < head && to.is_none_or(|t| t > feed.position))
        && feed.position < head)
}

impl LakeIngest {
    fn feeds(&self) -> Result<Vec<Feed>, StoreError> {
        let mut out = Vec::new();
        for s in self.app.lake.all_stores()? {
            if s.status == PENDING_DELETION {
                continue;
            }
            if let Some(f) = Feed::of(&self.app, s)? {
                out.push(f);
            }
        }
        Ok(out)
    }

    /// Asks KMS for the data keys of encrypted stores the engine does not hold (or has held
    /// long enough): channels' events and queries need them as much as ingestion.
    fn open_keys(&self) -> Result<(), StoreError> {
        for s in self.app.lake.all_stores()? {
            if s.status != PENDING_DELETION {
                // A key KMS refuses is logged there; the store's events wait in the journal.
                let _ = lake_keys::open(&self.app, &s);
            }
        }
        Ok(())
    }

    fn ingest(&self) -> Result<u64, StoreError> {
        self.open_keys()?;
        let mut feeds = self.feeds()?;
        // An encrypted store whose key cannot be used takes nothing now: its position stays,
        // and it takes its events once KMS gives its key again.
        feeds.retain(|f| {
            lake_keys::sealing(&f.store).is_none()
                || matches!(
                    self.app.columnar.key_state(&f.store.id),
                    KeyState::Unlocked { .. }
                )
        });
        let mut done = 0;
        for _ in 0..BATCHES {
            let Some(from) = feeds.iter().map(|f| f.position).min() else {
                break;
            };
            if from >= self.app.journal.head() {
                break;
            }
            let (entries, next) = self.app.journal.read_from(from, READ_BYTES)?;
            if entries.is_empty() && next == from {
                break;
            }
            let decoded: Vec<(u64, Entry, Value)> = entries
                .iter()
                .filter_map(|(offset, payload)| {
                    let entry = Entry::decode(*offset, payload)
                        .map_err(|e| tracing::error!(offset, error = %e, "a journal entry the lake cannot read"))
                        .ok()?;
                    // Imported records are history from elsewhere; a store takes what happens
                    // once it ingests (imports go through StartImport).
                    if entry.kind != EntryKind::Recorded {
                        return None;
                    }
                    let value = serde_json::from_slice(&entry.record).ok()?;
                    Some((*offset, entry, value))
                })
                .collect();
            for f in feeds.iter_mut().filter(|f| f.position < next) {
                let mut records = decoded
                    .iter()
                    .filter(|(offset, entry, value)| {
                        *offset >= f.position && f.ingesting_at(*offset) && f.takes(entry, value)
                    })
                    .map(|(_, entry, _)| String::from_utf8_lossy(&entry.record));
                let appended = self.app.columnar.append(
                    &f.store.id,
                    STREAM,
                    f.position + 1,
                    next,
                    &mut records as &mut dyn Iterator<Item = Cow<'_, str>>,
                )?;
                done += appended.rows;
                f.position = next;
            }
        }
        Ok(done)
    }

    /// Stores deleted more than seven days ago go with their events; events past a store's
    /// retention period go (whole days); old queries with their results.
    fn expire(&self) -> Result<(), StoreError> {
        let now = self.app.clock.now_millis();
        for s in self.app.lake.all_stores()? {
            let days = serde_json::from_str::<Value>(&s.settings)
                .ok()
                .and_then(|v| v.get("RetentionPeriod").and_then(Value::as_i64));
            if let Some(days) = days
                && s.status != PENDING_DELETION
            {
                self.app.columnar.expire(&s.id, now - days * 86_400_000)?;
            }
            if s.status == PENDING_DELETION
                && s.deleted_ms.is_some_and(|d| now - d >= PENDING_DELETION_MS)
            {
                self.app.columnar.remove(&s.id)?;
                self.app.lake.remove_store(&s.arn)?;
                tracing::info!(store = %s.arn, "event data store purged after its seven days");
            }
        }
        self.app.lake.forget_queries(now - KEPT_MS)?;
        Ok(())
    }
}

impl Consumer for LakeIngest {
    fn name(&self) -> &'static str {
        "lake-ingest"
    }

    fn needs_from(&self) -> Result<u64, StoreError> {
        Ok(self
            .feeds()?
            .iter()
            .map(|f| f.position)
            .min()
            .unwrap_or(u64::MAX))
    }

    fn run_due(&self) -> Result<Round, String> {
        let now = self.app.clock.now_millis();
        let due = {
            let mut at = self.expired_at.lock().unwrap_or_else(|p| p.into_inner());
            let due = at.is_none_or(|t| now - t >= EXPIRE_EVERY_MS || now < t);
            if due {
                *at = Some(now);
            }
            due
        };
        if due {
            self.expire().map_err(|e| e.to_string())?;
        }
        let done = self.ingest().map_err(|e| e.to_string())?;
        Ok(Round { done })
    }
}
