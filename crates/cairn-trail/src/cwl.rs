//! Delivering trails to CloudWatch Logs: a journal consumer, beside the S3 delivery, that
//! writes each record a trail selects as one log event of the trail's log group.
//!
//! Each trail with a log group has its own cursor ([`CwlState`]), so a trail whose role or group
//! is broken falls behind alone and catches up once fixed. A round takes, per trail, the records
//! its selectors take (the same selection as its log files, [`TrailFilter`]) from its cursor
//! on, in batches within PutLogEvents' limits, each sorted by timestamp; the sink writes a batch
//! in one PutLogEvents, which stores all of it or none of it. An organization trail takes
//! every account of its organization, each account's records to a stream of its own: a batch
//! is written one account (stream) at a time.
//!
//! **Exactly once across crashes.** Before a batch is written the state says it is in flight;
//! after the write the cursor moves past it and the flag clears, in one store write. A crash in
//! between leaves the flag set: the next attempt asks the sink which of the batch's records the
//! group already holds (by `eventID`) and writes only the others. A failed write also leaves
//! the flag, so it costs one check to be safe.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use cairn_model::{Clock, timefmt};
use cairn_store::StoreError;
use cairn_store::journal::{Entry, EntryKind, Journal};
use cairn_store::organizations::OrganizationsStore;
use cairn_store::trails::{CwlState, Trail, TrailStore};
use serde_json::Value;

use crate::backoff::Backoff;
use crate::organization;
use crate::selectors::TrailFilter;

/// PutLogEvents' limits: events per call, bytes per call (each event counts its UTF-8 message
/// plus 26), and the span of one call's timestamps.
pub const MAX_EVENTS: usize = 10_000;
pub const MAX_BATCH_BYTES: usize = 1_048_576;
pub const EVENT_OVERHEAD: usize = 26;
pub const MAX_SPAN_MS: i64 = 24 * 60 * 60 * 1000 - 1;
/// Records over 256 KB are never sent to CloudWatch Logs (AWS's User Guide).
pub const MAX_EVENT_BYTES: usize = 256 * 1024;
/// How much of the journal one read takes.
const READ_CHUNK: usize = 8 << 20;

/// A record as a log event: message = the record exactly as in the log file, timestamp = its
/// `eventTime`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CwlEvent {
    pub timestamp: i64,
    pub message: String,
    pub event_id: String,
    /// The account whose record it is: its stream's.
    pub account: String,
}

/// Writes to a trail's log group; an error is the text GetTrailStatus shows.
pub trait CwlSink: Send + Sync {
    /// The `eventID`s of records the trail's stream for `account` already holds with
    /// timestamps in `[from_ms, to_ms]`.
    fn already_there(
        &self,
        trail: &Trail,
        account: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<HashSet<String>, String>;

    /// Writes one batch of `account`'s records (in timestamp order, within PutLogEvents'
    /// limits) to the trail's group, in that account's stream.
    fn put(&self, trail: &Trail, account: &str, events: &[CwlEvent]) -> Result<(), String>;
}

pub struct CwlDelivery {
    pub journal: Arc<dyn Journal>,
    pub trails: Arc<dyn TrailStore>,
    /// Whose records an organization trail takes.
    pub organizations: Arc<dyn OrganizationsStore>,
    pub sink: Arc<dyn CwlSink>,
    pub clock: Arc<dyn Clock>,
    pub backoff: Backoff,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CwlReport {
    pub batches: usize,
    pub events: usize,
    pub failed: usize,
}

/// Whether a trail delivers to CloudWatch Logs.
pub fn delivers_to_logs(t: &Trail) -> bool {
    t.cw_log_group_arn.is_some() && t.cw_role_arn.is_some()
}

impl CwlDelivery {
    /// One round for every trail with a log group. Safe to call again after any failure.
    pub fn run_once(&self) -> Result<CwlReport, StoreError> {
        let now = self.clock.now_millis();
        let head = self.journal.head();
        let mut report = CwlReport::default();
        for t in self.trails.all()?.iter().filter(|t| delivers_to_logs(t)) {
            let mut st = match self.trails.cwl_state(&t.arn)? {
                Some(s) => s,
                None => {
                    // Settings made before the state existed: deliver from now on.
                    let s = CwlState {
                        cursor: head,
                        ..CwlState::default()
                    };
                    self.trails.set_cwl_state(&t.arn, &s)?;
                    s
                }
            };
            if st.cursor >= head || !self.backoff.due(&t.arn, now) {
                continue;
            }
            self.deliver(t, &mut st, head, now, &mut report)?;
        }
        Ok(report)
    }

    fn deliver(
        &self,
        t: &Trail,
        st: &mut CwlState,
        head: u64,
        now: i64,
        report: &mut CwlReport,
    ) -> Result<(), StoreError> {
        let filter = match organization::scope_of(self.organizations.as_ref(), t)? {
            Some(scope) => TrailFilter::of(t).with_members(scope.accounts),
            None => TrailFilter::of(t),
        };
        while st.cursor < head {
            let (mut batch, next) = self.collect(t, &filter, st.cursor, head)?;
            if batch.is_empty() {
                if next == st.cursor {
                    break;
                }
                st.cursor = next;
                self.trails.set_cwl_state(&t.arn, st)?;
                continue;
            }
            // PutLogEvents wants chronological order; equal times keep journal order.
            batch.sort_by_key(|e| e.timestamp);
            let mut streams: BTreeMap<String, Vec<CwlEvent>> = BTreeMap::new();
            for e in batch {
                streams.entry(e.account.clone()).or_default().push(e);
            }
            let written = (|| {
                let was_in_flight = st.in_flight;
                st.in_flight = true;
                self.trails
                    .set_cwl_state(&t.arn, st)
                    .map_err(|e| e.to_string())?;
                let mut n = 0;
                for (account, events) in streams {
                    let todo = if was_in_flight {
                        self.missing(t, &account, events)?
                    } else {
                        events
                    };
                    if !todo.is_empty() {
                        self.sink.put(t, &account, &todo)?;
                        n += todo.len();
                    }
                }
                Ok::<usize, String>(n)
            })();
            match written {
                Ok(n) => {
                    st.cursor = next;
                    st.in_flight = false;
                    st.latest_ms = Some(now);
                    st.latest_error = None;
                    st.error_ms = None;
                    self.trails.set_cwl_state(&t.arn, st)?;
                    self.backoff.succeeded(&t.arn);
                    report.batches += 1;
                    report.events += n;
                }
                Err(reason) => {
                    let retry = self.backoff.failed(&t.arn, now);
                    tracing::warn!(trail = %t.arn, %reason, retry_in_ms = retry - now, "CloudWatch Logs delivery failed; will retry");
                    st.latest_error = Some(reason);
                    st.error_ms = Some(now);
                    self.trails.set_cwl_state(&t.arn, st)?;
                    report.failed += 1;
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// The batch's records that the group does not hold yet (after a crash mid-write).
    fn missing(
        &self,
        t: &Trail,
        account: &str,
        batch: Vec<CwlEvent>,
    ) -> Result<Vec<CwlEvent>, String> {
        let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
            return Ok(batch);
        };
        let there = self
            .sink
            .already_there(t, account, first.timestamp, last.timestamp)?;
        Ok(batch
            .into_iter()
            .filter(|e| !there.contains(&e.event_id))
            .collect())
    }

    /// The next batch of the trail's records from `cursor`, and the offset after it: the
    /// first record left out, or where the journal was read to.
    fn collect(
        &self,
        t: &Trail,
        filter: &TrailFilter,
        mut cursor: u64,
        head: u64,
    ) -> Result<(Vec<CwlEvent>, u64), StoreError> {
        let mut out: Vec<CwlEvent> = Vec::new();
        let (mut bytes, mut lo, mut hi) = (0usize, i64::MAX, i64::MIN);
        while cursor < head {
            let (entries, next) = self.journal.read_from(cursor, READ_CHUNK)?;
            if entries.is_empty() && next == cursor {
                break;
            }
            for (offset, payload) in entries {
                let Some(e) = event_of(t, filter, offset, &payload) else {
                    continue;
                };
                let size = e.message.len() + EVENT_OVERHEAD;
                let full = out.len() >= MAX_EVENTS
                    || bytes + size > MAX_BATCH_BYTES
                    || hi.max(e.timestamp) - lo.min(e.timestamp) > MAX_SPAN_MS;
                if full && !out.is_empty() {
                    return Ok((out, offset));
                }
                bytes += size;
                lo = lo.min(e.timestamp);
                hi = hi.max(e.timestamp);
                out.push(e);
            }
            cursor = next;
        }
        Ok((out, cursor))
    }
}

/// The log event a journal entry makes for a trail, if the trail takes it and it can be sent.
fn event_of(t: &Trail, filter: &TrailFilter, offset: u64, payload: &[u8]) -> Option<CwlEvent> {
    let entry = Entry::decode(offset, payload).ok()?;
    // Imported records are history, not activity: no trail delivers them.
    if entry.kind == EntryKind::Imported {
        return None;
    }
    let record: Value = serde_json::from_slice(&entry.record).ok()?;
    if !filter.takes(&entry.account, offset, &record) {
        return None;
    }
    if entry.record.len() + EVENT_OVERHEAD > MAX_EVENT_BYTES {
        tracing::debug!(trail = %t.arn, offset, "record over 256 KB: not sent to CloudWatch Logs");
        return None;
    }
    let timestamp = record
        .get("eventTime")
        .and_then(timefmt::parse_event_time)?;
    let event_id = record.get("eventID").and_then(Value::as_str)?.to_owned();
    let message = String::from_utf8(entry.record).ok()?;
    Some(CwlEvent {
        timestamp,
        message,
        event_id,
        account: entry.account,
    })
}

/// CloudWatch Logs delivery reads the journal from the slowest trail's cursor.
impl cairn_store::journal::Consumer for CwlDelivery {
    fn name(&self) -> &'static str {
        "cloudwatch-logs-delivery"
    }

    fn needs_from(&self) -> Result<u64, StoreError> {
        let mut from = self.journal.head();
        for t in self.trails.all()?.iter().filter(|t| delivers_to_logs(t)) {
            if let Some(s) = self.trails.cwl_state(&t.arn)? {
                from = from.min(s.cursor);
            }
        }
        Ok(from)
    }

    fn run_due(&self) -> Result<cairn_store::journal::Round, String> {
        let r = self.run_once().map_err(|e| e.to_string())?;
        if r.events > 0 {
            tracing::info!(
                batches = r.batches,
                events = r.events,
                "CloudWatch Logs delivery"
            );
        }
        Ok(cairn_store::journal::Round {
            done: r.events as u64,
        })
    }
}

#[cfg(test)]
#[path = "cwl_tests.rs"]
mod tests;
