//! Delivering trails: a journal consumer that plans log files and writes them to S3.
//!
//! Each round has two steps. **Plan**: read the journal from the delivery cursor to its head,
//! give each record to every trail that takes it, group by (trail, region), fix each group's
//! object key, and commit the plans together with the new cursor. **Write**: for every pending
//! plan, build the file from the planned records and put it in the trail's bucket, then mark
//! the plan done. A crash between the steps, or a failed write, leaves plans that a later
//! round writes again under the same key with the same content: each event lands in exactly
//! one log file per trail. A trail whose writes fail is retried with backoff ([`Backoff`]).
//! A written file of a trail with an SNS topic owes a notification: it is queued with the
//! file's written mark, and [`crate::notify`] sends it.

use std::collections::BTreeMap;
use std::sync::Arc;

use cairn_model::Clock;
use cairn_store::StoreError;
use cairn_store::journal::{Entry, EntryKind, Journal};
use cairn_store::organizations::OrganizationsStore;
use cairn_store::trails::digests::DigestFile;
use cairn_store::trails::{DeliveryPlan, Notice, Trail, TrailStore};
use serde_json::Value;

pub use crate::backoff::Backoff;
use crate::logfile;
use crate::organization::{self, Scope};
use crate::selectors::{TrailFilter, logging_range};
use crate::sink::TrailObject;

/// Most records in one log file; a busier interval gets several files.
const MAX_RECORDS_PER_FILE: usize = 20_000;
/// How much of the journal one planning pass reads at a time.
const READ_CHUNK: usize = 8 << 20;

pub use crate::sink::{BucketGate, LogSink};

pub struct Delivery {
    pub journal: Arc<dyn Journal>,
    pub trails: Arc<dyn TrailStore>,
    /// Whose records an organization trail takes, and its organization's folder.
    pub organizations: Arc<dyn OrganizationsStore>,
    pub sink: Arc<dyn LogSink>,
    pub clock: Arc<dyn Clock>,
    pub backoff: Backoff,
    /// Told when each round has planned (digests of this process wait for it).
    pub planned: Arc<crate::digest::planned::PlannedUpTo>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RoundReport {
    pub planned_files: usize,
    pub written_files: usize,
    pub written_records: usize,
    pub failed_files: usize,
    /// Pending files of failing trails left for a later round (backoff).
    pub deferred_files: usize,
}

impl Delivery {
    /// Plans then writes. Safe to call again after any failure.
    pub fn run_once(&self) -> Result<RoundReport, StoreError> {
        // The head before the clock: a file stamped `now` holds only entries appended before
        // `now`, which is what digests rely on (crate::digest::planned).
        let head = self.journal.head();
        let now = self.clock.now_millis();
        let mut report = RoundReport {
            planned_files: self.plan(head, now)?,
            ..RoundReport::default()
        };
        self.planned.round_planned(now);
        self.write(now, &mut report)?;
        Ok(report)
    }

    fn plan(&self, head: u64, now: i64) -> Result<usize, StoreError> {
        let mut cursor = self.trails.delivery_cursor()?;
        if cursor >= head {
            return Ok(0);
        }
        let trails = self.trails.all()?;
        let mut filters: Vec<(TrailFilter, &Trail, Option<Scope>)> = Vec::new();
        for t in trails.iter().filter(|t| !t.logging_ranges.is_empty()) {
            let scope = organization::scope_of(self.organizations.as_ref(), t)?;
            let filter = match &scope {
                Some(s) => TrailFilter::of(t).with_members(s.accounts.iter().cloned()),
                None => TrailFilter::of(t),
            };
            filters.push((filter, t, scope));
        }
        // A file holds events of one trail, source (account and region) and logging range:
        // each has its own digest chain. Insights events have files of their own, in the
        // trail's `CloudTrail-Insight` folder.
        let mut groups: BTreeMap<(String, String, u64, bool), Vec<u64>> = BTreeMap::new();
        while cursor < head {
            let (batch, next) = self.journal.read_from(cursor, READ_CHUNK)?;
            if batch.is_empty() && next == cursor {
                break;
            }
            cursor = next;
            if filters.is_empty() {
                continue;
            }
            for (offset, payload) in batch {
                let Ok(entry) = Entry::decode(offset, &payload) else {
                    continue;
                };
                // Imported records are history, not activity: no trail delivers them.
                if entry.kind == EntryKind::Imported {
                    continue;
                }
                let Ok(record) = serde_json::from_slice::<Value>(&entry.record) else {
                    continue;
                };
                let region = record
                    .get("awsRegion")
                    .and_then(Value::as_str)
                    .unwrap_or("us-east-1")
                    .to_owned();
                for (f, t, _) in &filters {
                    let insight = f.takes_insight(&entry.account, offset, &record);
                    if insight || f.takes(&entry.account, offset, &record) {
                        let range = logging_range(&t.logging_ranges, offset).unwrap_or(0);
                        let source = organization::source(t, &entry.account, &region);
                        groups
                            .entry((t.arn.clone(), source, range, insight))
                            .or_default()
                            .push(offset);
                    }
                }
            }
        }
        let mut plans = Vec::new();
        for ((arn, source, _, insight), offsets) in groups {
            let Some((_, t, scope)) = filters.iter().find(|(_, t, _)| t.arn == arn) else {
                continue;
            };
            let (account, region) = organization::split(t, &source);
            for chunk in offsets.chunks(MAX_RECORDS_PER_FILE) {
                let unique = logfile::unique16(&arn, &source, chunk[0]);
                plans.push(DeliveryPlan {
                    id: 0,
                    trail_arn: arn.clone(),
                    region: source.clone(),
                    key: logfile::key_in(
                        if insight {
                            logfile::INSIGHT_FOLDER
                        } else {
                            logfile::LOG_FOLDER
                        },
                        t.s3_key_prefix.as_deref(),
                        scope.as_ref().map(|s| s.id.as_str()),
                        account,
                        region,
                        now,
                        &unique,
                    ),
                    offsets: chunk.to_vec(),
                    created_ms: now,
                });
            }
        }
        self.trails.plan(&plans, cursor)?;
        Ok(plans.len())
    }

    fn write(&self, now: i64, report: &mut RoundReport) -> Result<(), StoreError> {
        let mut outcome: BTreeMap<String, Option<String>> = BTreeMap::new();
        for p in self.trails.pending_plans()? {
            let Some(trail) = self.trails.get(&p.trail_arn)? else {
                // The trail is gone: its undelivered files go with it.
                self.trails.plan_done(p.id)?;
                continue;
            };
            let failed_this_round = matches!(outcome.get(&trail.arn), Some(Some(_)));
            if failed_this_round || !self.backoff.due(&trail.arn, now) {
                report.deferred_files += 1;
                continue;
            }
            match self.write_plan(&trail, &p) {
                Ok(listed) => {
                    let notice = trail.sns_topic_name.is_some().then(|| Notice {
                        id: 0,
                        trail_arn: trail.arn.clone(),
                        bucket: trail.s3_bucket.clone(),
                        key: p.key.clone(),
                        created_ms: now,
                    });
                    self.trails
                        .plan_written(p.id, listed.as_ref(), notice.as_ref())?;
                    self.backoff.succeeded(&trail.arn);
                    report.written_files += 1;
                    report.written_records += p.offsets.len();
                    outcome.entry(trail.arn.clone()).or_insert(None);
                }
                Err(reason) => {
                    let next = self.backoff.failed(&trail.arn, now);
                    tracing::warn!(trail = %trail.arn, key = %p.key, %reason, retry_in_ms = next - now, "log file delivery failed; will retry");
                    report.failed_files += 1;
                    outcome.insert(trail.arn.clone(), Some(reason));
                }
            }
        }
        for (arn, err) in outcome {
            let mut s = self.trails.status(&arn)?;
            s.latest_delivery_attempt_ms = Some(now);
            match err {
                None => {
                    s.latest_delivery_ms = Some(now);
                    s.latest_delivery_error = None;
                }
                Some(e) => s.latest_delivery_error = Some(e),
            }
            self.trails.set_status(&arn, &s)?;
        }
        Ok(())
    }

    /// Writes one planned file; the error is what GetTrailStatus reports. For a trail that
    /// validates, returns the file as its digest will list it.
    fn write_plan(&self, trail: &Trail, p: &DeliveryPlan) -> Result<Option<DigestFile>, String> {
        let mut records = Vec::with_capacity(p.offsets.len());
        for o in &p.offsets {
            let payload = self.journal.read_at(*o).map_err(|e| e.to_string())?;
            let entry = Entry::decode(*o, &payload).map_err(|e| e.to_string())?;
            records.push(entry.record);
        }
        let json = logfile::records_json(&records);
        self.sink.put(
            trail,
            &TrailObject {
                bucket: &trail.s3_bucket,
                key: &p.key,
                body: &logfile::gzip(&json),
                metadata: &[],
                trail_key: true,
            },
        )?;
        // Digests cover log files only: Insights files are outside their chain.
        if !trail.log_file_validation || logfile::is_insight_key(&p.key) {
            return Ok(None);
        }
        let (oldest, newest) = logfile::event_time_bounds(&records);
        let first = p.offsets.first().copied().unwrap_or(0);
        Ok(Some(DigestFile {
            id: 0,
            trail_arn: trail.arn.clone(),
            region: p.region.clone(),
            range_from: logging_range(&trail.logging_ranges, first)
                .and_then(|r| i64::try_from(r).ok())
                .unwrap_or(0),
            bucket: trail.s3_bucket.clone(),
            key: p.key.clone(),
            sha256: crate::digest::file::sha256_hex(&json),
            oldest_event: oldest,
            newest_event: newest,
            planned_ms: p.created_ms,
        }))
    }
}

#[cfg(test)]
#[path = "delivery_tests.rs"]
mod tests;

/// Trail delivery reads the journal from its cursor; records of log files it planned but has
/// not written yet are still needed too.
impl cairn_store::journal::Consumer for Delivery {
    fn name(&self) -> &'static str {
        "trail-delivery"
    }

    fn needs_from(&self) -> Result<u64, StoreError> {
        let cursor = self.trails.delivery_cursor()?;
        Ok(self
            .trails
            .pending_plans()?
            .iter()
            .filter_map(|p| p.offsets.first().copied())
            .fold(cursor, u64::min))
    }

    fn run_due(&self) -> Result<cairn_store::journal::Round, String> {
        let r = self.run_once().map_err(|e| e.to_string())?;
        if r.written_files > 0 {
            tracing::info!(
                files = r.written_files,
                records = r.written_records,
                "trail delivery"
            );
        }
        Ok(cairn_store::journal::Round {
            done: r.written_files as u64,
        })
    }
}
