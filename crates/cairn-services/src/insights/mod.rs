//! CloudTrail Insights: a journal consumer that counts each account's and region's write
//! management calls (ApiCallRateInsight) and failed management calls by error code
//! (ApiErrorRateInsight) per API and minute, judges each whole minute against its rolling
//! baseline with cairn's method (`cairn_rules::insights`), and journals the
//! `AwsCloudTrailInsight` Start and End records that follow. From the journal, event history
//! indexes them (`LookupEvents --event-category insight`), EventBridge routes them ("AWS
//! Insight via CloudTrail") and trail delivery writes them to the `CloudTrail-Insight` folder
//! of every logging trail whose Insights selectors have their type.
//!
//! What is counted: an (account, region, type) is watched while some logging trail of the
//! account covers the region and has that type for management events; its baseline starts
//! when the earliest such trail turned the type on (kept with the selectors), minutes without
//! calls counting as zero. Imported records and Insights records are not calls: not counted.
//!
//! State lives in memory and is rebuilt from the journal when the process starts: the counts
//! of the last seven days, and the Insights records this engine journaled (an insight whose
//! Start is in the journal and whose End is not is reopened, so it is never started twice and
//! keeps its End). Judging resumes after the newest minute the journal shows. A journal
//! shortened by retention below seven days shortens the rebuilt baseline accordingly.
//! If journaling the records fails, the state is dropped and rebuilt the next round, so
//! nothing is lost or repeated.

pub mod record;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use cairn_model::EventCategory;
use cairn_model::summary::category_of;
use cairn_model::timefmt::parse_event_time;
use cairn_rules::insights::{Call, Params, Series, State as Phase};
use cairn_store::StoreError;
use cairn_store::journal::{Consumer, Entry, EntryKind, Round};
use cairn_store::trails::Trail;
use cairn_trail::insights::InsightSelectors;
use serde_json::Value;

use crate::app::App;

const MINUTE_MS: i64 = 60_000;
/// Journal bytes read per batch.
const READ_BYTES: usize = 8 << 20;
/// A minute is judged once this long has passed after its end: a call answered just before
/// the minute ended may be journaled just after.
const GRACE_MS: i64 = 5_000;

pub const CALL_RATE: &str = "ApiCallRateInsight";
pub const ERROR_RATE: &str = "ApiErrorRateInsight";

/// One series: whose, which API, which type (and error code).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub account: String,
    pub region: String,
    pub insight_type: &'static str,
    pub event_source: String,
    pub event_name: String,
    pub error_code: Option<String>,
}

#[derive(Default)]
struct Memory {
    /// The journal offset read up to; `None` until the state is rebuilt.
    cursor: Option<u64>,
    series: HashMap<Key, Series>,
    /// Insights whose Start is journaled and End is not: their first minute.
    open: HashMap<Key, i64>,
    /// The newest minute the journal shows (a call's, or an End's quiet minutes).
    newest: i64,
}

/// A trail watching a type: its home region, whether it covers every region, and the first
/// minute the type was on.
type Covering = (String, bool, i64);

/// Which (account, region, type) are watched, and since which minute: per account and type,
/// each logging trail's home region, whether it covers every region, and when it turned the
/// type on.
struct Watch {
    trails: HashMap<(String, &'static str), Vec<Covering>>,
    accounts: std::collections::HashSet<String>,
}

impl Watch {
    fn of(trails: &[Trail]) -> Watch {
        let mut watched: HashMap<(String, &'static str), Vec<Covering>> = HashMap::new();
        let mut accounts = std::collections::HashSet::new();
        for t in trails.iter().filter(|t| t.logging) {
            let s = InsightSelectors::of(t);
            for ty in [CALL_RATE, ERROR_RATE] {
                let Some(ms) = s.enabled_ms(ty) else { continue };
                // The first whole minute with the type on.
                let minute = ms.div_euclid(MINUTE_MS) + i64::from(ms.rem_euclid(MINUTE_MS) > 0);
                accounts.insert(t.account.clone());
                watched.entry((t.account.clone(), ty)).or_default().push((
                    t.home_region.clone(),
                    t.multi_region,
                    minute,
                ));
            }
        }
        Watch {
            trails: watched,
            accounts,
        }
    }

    /// The minute the baseline of a watched series starts.
    fn enabled(&self, account: &str, region: &str, ty: &'static str) -> Option<i64> {
        self.trails
            .get(&(account.to_owned(), ty))?
            .iter()
            .filter(|(home, multi, _)| *multi || home == region)
            .map(|(_, _, since)| *since)
            .min()
    }
}

pub struct Insights {
    app: Arc<App>,
    params: Params,
    memory: Mutex<Memory>,
}

impl Insights {
    pub fn new(app: Arc<App>) -> Insights {
        Insights::with_params(app, Params::aws_like())
    }

    pub fn with_params(app: Arc<App>, params: Params) -> Insights {
        Insights {
            app,
            params,
            memory: Mutex::new(Memory::default()),
        }
    }

    fn round(&self) -> Result<u64, StoreError> {
        let now = self.app.clock.now_millis();
        let trails = self.app.trails.all()?;
        let watch = Watch::of(&trails);
        let mut memory = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        let rebuilding = memory.cursor.is_none();
        if watch.accounts.is_empty() {
            // Nothing watched: nothing to count; the journal read later starts from here.
            *memory = Memory {
                cursor: Some(self.app.journal.head()),
                ..Memory::default()
            };
            return Ok(0);
        }
        let keep_from = now.div_euclid(MINUTE_MS) - self.params.baseline_minutes - 1;
        self.read(&mut memory, &watch, keep_from)?;
        let through = (now - GRACE_MS).div_euclid(MINUTE_MS) - 1;
        if rebuilding {
            // Minutes up to the newest one the journal shows were judged before the restart
            // (the newest itself is judged again: its Start, if any, is known and kept once).
            let resume = (memory.newest - 1).max(keep_from).min(through);
            let Memory { series, open, .. } = &mut *memory;
            for s in series.values_mut() {
                s.set_judged_through(resume);
            }
            for (key, start) in open.iter() {
                let enabled = watch
                    .enabled(&key.account, &key.region, key.insight_type)
                    .unwrap_or(0);
                series
                    .entry(key.clone())
                    .or_insert_with(|| Series::new(resume))
                    .resume(*start, enabled, &self.params);
            }
        }
        let mut records = Vec::new();
        let mut unwatched = Vec::new();
        let mut keys: Vec<Key> = memory.series.keys().cloned().collect();
        keys.sort();
        for key in keys {
            let Some(enabled) = watch.enabled(&key.account, &key.region, key.insight_type) else {
                unwatched.push(key);
                continue;
            };
            let Some(series) = memory.series.get_mut(&key) else {
                continue;
            };
            for insight in series.judge(through, enabled, &self.params) {
                // An insight this engine journaled before (read back while rebuilding) is
                // never started twice.
                if insight.state == Phase::Start
                    && memory
                        .open
                        .get(&key)
                        .is_some_and(|s| *s >= insight.start_minute)
                {
                    continue;
                }
                match insight.state {
                    Phase::Start => memory.open.insert(key.clone(), insight.start_minute),
                    Phase::End => memory.open.remove(&key),
                };
                records.push(record::entry(&key, &insight));
            }
        }
        for key in unwatched {
            memory.series.remove(&key);
            memory.open.remove(&key);
        }
        if records.is_empty() {
            return Ok(0);
        }
        let n = records.len() as u64;
        if let Err(e) = self.app.journal.append(records).wait_blocking() {
            // Judged but not journaled: rebuild from the journal and judge again.
            *memory = Memory::default();
            return Err(e);
        }
        tracing::info!(records = n, "Insights events journaled");
        Ok(n)
    }

    /// Reads the journal from the cursor to its head into the counts.
    fn read(&self, memory: &mut Memory, watch: &Watch, keep_from: i64) -> Result<(), StoreError> {
        let mut cursor = memory.cursor.unwrap_or(0);
        loop {
            let (entries, next) = self.app.journal.read_from(cursor, READ_BYTES)?;
            if entries.is_empty() && next == cursor {
                break;
            }
            for (offset, payload) in &entries {
                let Ok(entry) = Entry::decode(*offset, payload) else {
                    continue;
                };
                if entry.kind != EntryKind::Recorded || !watch.accounts.contains(&entry.account) {
                    continue;
                }
                let Ok(record) = serde_json::from_slice::<Value>(&entry.record) else {
                    continue;
                };
                self.take(memory, watch, &entry.account, &record, keep_from);
            }
            cursor = next;
        }
        memory.cursor = Some(cursor);
        Ok(())
    }

    fn take(&self, memory: &mut Memory, watch: &Watch, account: &str, r: &Value, keep_from: i64) {
        let text = |k: &str| r.get(k).and_then(Value::as_str);
        let Some(ms) = r.get("eventTime").and_then(parse_event_time) else {
            return;
        };
        let minute = ms.div_euclid(MINUTE_MS);
        let region = text("awsRegion").unwrap_or("us-east-1");
        match category_of(r) {
            Some(EventCategory::Insight) => {
                let Some(key) = record::key_of(account, r) else {
                    return;
                };
                let start = record::start_minute(r).unwrap_or(minute);
                match r.pointer("/insightDetails/state").and_then(Value::as_str) {
                    Some("Start") => {
                        memory.open.insert(key, start);
                    }
                    Some("End") => {
                        if memory.open.get(&key) == Some(&start) {
                            memory.open.remove(&key);
                        }
                        memory.newest = memory.newest.max(minute + self.params.quiet_minutes - 1);
                    }
                    _ => {}
                }
            }
            Some(EventCategory::Management) if text("eventType") == Some("AwsApiCall") => {
                if minute < keep_from {
                    return;
                }
                memory.newest = memory.newest.max(minute);
                let (Some(source), Some(name)) = (text("eventSource"), text("eventName")) else {
                    return;
                };
                let call = Call {
                    user_identity_arn: r.pointer("/userIdentity/arn").and_then(Value::as_str),
                    user_agent: text("userAgent"),
                    error_code: text("errorCode"),
                };
                let read_only = r.get("readOnly").and_then(Value::as_bool).unwrap_or(false);
                let judged = memory.cursor.map(|_| minute - 1);
                let mut count = |ty: &'static str, error_code: Option<&str>| {
                    if watch.enabled(account, region, ty).is_none() {
                        return;
                    }
                    let key = Key {
                        account: account.to_owned(),
                        region: region.to_owned(),
                        insight_type: ty,
                        event_source: source.to_owned(),
                        event_name: name.to_owned(),
                        error_code: error_code.map(str::to_owned),
                    };
                    memory
                        .series
                        .entry(key)
                        .or_insert_with(|| Series::new(judged.unwrap_or(i64::MIN / 2)))
                        .observe(minute, call);
                };
                if !read_only {
                    count(CALL_RATE, None);
                }
                if let Some(code) = call.error_code {
                    count(ERROR_RATE, Some(code));
                }
            }
            _ => {}
        }
    }

    /// Calls per minute of a series in `[from, to]` (minutes since the epoch), minutes with
    /// calls only: what ListInsightsMetricData answers from.
    pub fn counts(&self, key: &Key, from: i64, to: i64) -> BTreeMap<i64, u64> {
        let memory = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        memory
            .series
            .get(key)
            .map(|s| s.counts(from, to).collect())
            .unwrap_or_default()
    }
}

impl Consumer for Insights {
    fn name(&self) -> &'static str {
        "insights"
    }

    fn needs_from(&self) -> Result<u64, StoreError> {
        let memory = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        Ok(memory.cursor.unwrap_or(0))
    }

    fn run_due(&self) -> Result<Round, String> {
        self.round()
            .map(|done| Round { done })
            .map_err(|e| e.to_string())
    }
}
