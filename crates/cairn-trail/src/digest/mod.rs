//! Digests: for every trail that validates, one signed digest per (trail, source region) per
//! period, chained by the previous digest's signature, listing the log files delivered in it.
//!
//! - A chain belongs to one logging range. It begins with a *starting* digest (no previous)
//!   and, when logging stops, ends with a *final* digest once every file of the range is written.
//! - Every period gets a digest, empty or not.
//! - A file's period is the time it was planned (the time in its key). A file written after its
//!   period's digest (a write that had to be retried) goes into the *backfill* chain.
//! - Like log files, a digest is decided (content fixed, signed, chain moved on) in one
//!   transaction and then written, so a crash or a failed write retries the same object.
//!
//! The home region always has a chain while the trail logs; other regions of a multi-region
//! trail get one from their first log file.

pub mod file;
pub mod planned;

use std::collections::BTreeSet;
use std::sync::Arc;

use cairn_model::Clock;
use cairn_model::timefmt::event_time;
use cairn_store::StoreError;
use cairn_store::journal::Journal;
use cairn_store::organizations::OrganizationsStore;
use cairn_store::trails::digests::{
    BACKFILL, DecidedDigest, DigestChain, DigestFile, DigestPlan, PreviousDigest,
};
use cairn_store::trails::{DeliveryPlan, Trail, TrailStore};

use crate::keys::{KeyError, KeyRing};
use crate::logfile;
use crate::organization;
use crate::sink::{LogSink, TrailObject};
use file::{DigestContent, DigestKey, ListedFile, Previous};
use planned::PlannedUpTo;

#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
}

pub struct Digester {
    pub trails: Arc<dyn TrailStore>,
    /// An organization trail's digests go under its organization's folder.
    pub organizations: Arc<dyn OrganizationsStore>,
    pub keys: Arc<KeyRing>,
    pub sink: Arc<dyn LogSink>,
    pub clock: Arc<dyn Clock>,
    /// The journal delivery plans from: how far it has planned decides which periods are over.
    pub journal: Arc<dyn Journal>,
    /// Shared with this process's delivery ([`crate::delivery::Delivery::planned`]).
    pub planned: Arc<PlannedUpTo>,
    /// The digest period (AWS: one hour).
    pub interval_ms: i64,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DigestReport {
    pub decided: usize,
    pub written: usize,
    pub failed: usize,
}

/// Where a trail's digests go: its bucket and prefix, under its organization's folder for an
/// organization trail.
#[derive(Clone, Copy)]
struct Destination<'a> {
    trail: &'a Trail,
    org: Option<&'a str>,
}

fn whole_second(ms: i64) -> i64 {
    ms - ms.rem_euclid(1000)
}

impl Digester {
    /// Decides the digests that are due, then writes every pending one. Safe to call again after
    /// any failure.
    pub fn run_once(&self) -> Result<DigestReport, DigestError> {
        let now = self.clock.now_millis();
        let head = self.journal.head();
        let mut report = DigestReport::default();
        let cursor = self.trails.delivery_cursor()?;
        let planned_up_to = self.planned.up_to(now, head, cursor);
        let pending = self.trails.pending_plans()?;
        for trail in self.trails.all()? {
            if !trail.log_file_validation {
                if !self.trails.digest_chains(&trail.arn)?.is_empty()
                    || !self.trails.digest_files(&trail.arn)?.is_empty()
                {
                    self.trails.drop_digest_state(&trail.arn)?;
                }
                continue;
            }
            report.decided += self.decide(&trail, now, planned_up_to, cursor, &pending)?;
        }
        self.write(now, &mut report)?;
        Ok(report)
    }

    fn decide(
        &self,
        trail: &Trail,
        now: i64,
        planned_up_to: Option<i64>,
        cursor: u64,
        pending: &[DeliveryPlan],
    ) -> Result<usize, DigestError> {
        let now_s = whole_second(now);
        let scope = organization::scope_of(self.organizations.as_ref(), trail)?;
        let at = Destination {
            trail,
            org: scope.as_ref().map(|s| s.id.as_str()),
        };
        // Periods end only as far as delivery has planned (see [`planned`]).
        let over_s = planned_up_to.map(whole_second);
        let mut decided = 0;
        let mut files = self.trails.digest_files(&trail.arn)?;

        // New chains for the open logging range: the home region, and every region with files.
        if let Some((from, None)) = trail.logging_ranges.last() {
            let from = i64::try_from(*from).unwrap_or(i64::MAX);
            let chains = self.trails.digest_chains(&trail.arn)?;
            let mut regions: BTreeSet<&str> = BTreeSet::from([trail.home_region.as_str()]);
            regions.extend(
                files
                    .iter()
                    .filter(|f| f.range_from == from)
                    .map(|f| f.region.as_str()),
            );
            for region in regions {
                if chains
                    .iter()
                    .any(|c| c.region == region && c.range_from == from)
                {
                    continue;
                }
                let first_file = files
                    .iter()
                    .filter(|f| f.region == region && f.range_from == from)
                    .map(|f| f.planned_ms)
                    .min();
                let start = whole_second(first_file.unwrap_or(now).min(now));
                self.trails.start_digest_chain(&DigestChain {
                    trail_arn: trail.arn.clone(),
                    region: region.to_owned(),
                    range_from: from,
                    period_start_ms: start,
                    prev: None,
                })?;
            }
        }

        // Regular chains, oldest range first per region: a newer chain waits for the older
        // one's final digest, so that keys stay in chain order.
        let chains = self.trails.digest_chains(&trail.arn)?;
        let mut blocked: BTreeSet<String> = BTreeSet::new();
        for chain in chains.iter().filter(|c| c.range_from != BACKFILL) {
            if blocked.contains(&chain.region) {
                continue;
            }
            let range = trail
                .logging_ranges
                .iter()
                .find(|(f, _)| i64::try_from(*f).ok() == Some(chain.range_from));
            let closed_at = match range {
                Some((_, to)) => *to,
                // The range is gone (cannot happen today): end the chain.
                None => Some(0),
            };
            let last_end = self
                .trails
                .digest_last_end(&trail.arn, &chain.region, false)?
                .unwrap_or(i64::MIN);
            if let Some(to) = closed_at {
                // Final digest, once every file of the range is planned and written.
                let from = u64::try_from(chain.range_from).unwrap_or(0);
                let unwritten = pending.iter().any(|p| {
                    p.trail_arn == trail.arn
                        && p.region == chain.region
                        && p.offsets.first().is_some_and(|o| *o >= from && *o < to)
                });
                if cursor < to || unwritten {
                    blocked.insert(chain.region.clone());
                    continue;
                }
                let end = now_s
                    .max(chain.period_start_ms + 1000)
                    .max(last_end.saturating_add(1000));
                let (covered, rest): (Vec<DigestFile>, Vec<DigestFile>) = files
                    .into_iter()
                    .partition(|f| f.region == chain.region && f.range_from == chain.range_from);
                files = rest;
                self.decide_one(&at, chain, end, &covered, false, now)?;
                decided += 1;
                continue;
            }
            let Some(over_s) = over_s else { continue };
            if over_s < chain.period_start_ms + self.interval_ms {
                continue;
            }
            // One digest per period while running; after downtime, one digest spans the gap.
            let periods = (over_s - chain.period_start_ms) / self.interval_ms;
            let end = (chain.period_start_ms + periods * self.interval_ms)
                .max(last_end.saturating_add(1000));
            let (covered, rest): (Vec<DigestFile>, Vec<DigestFile>) =
                files.into_iter().partition(|f| {
                    f.region == chain.region
                        && f.range_from == chain.range_from
                        && f.planned_ms < end
                });
            files = rest;
            self.decide_one(&at, chain, end, &covered, false, now)?;
            decided += 1;
        }

        // Backfill: files no regular chain will list (planned in a period already digested).
        let chains = self.trails.digest_chains(&trail.arn)?;
        let late: Vec<DigestFile> = files
            .into_iter()
            .filter(|f| {
                !chains.iter().any(|c| {
                    c.range_from != BACKFILL
                        && c.region == f.region
                        && c.range_from == f.range_from
                        && f.planned_ms >= c.period_start_ms
                })
            })
            .collect();
        let regions: BTreeSet<String> = late.iter().map(|f| f.region.clone()).collect();
        for region in regions {
            let covered: Vec<DigestFile> = late
                .iter()
                .filter(|f| f.region == region)
                .cloned()
                .collect();
            let earliest = covered.iter().map(|f| f.planned_ms).min().unwrap_or(now);
            let chain = chains
                .iter()
                .find(|c| c.range_from == BACKFILL && c.region == region)
                .cloned()
                .unwrap_or(DigestChain {
                    trail_arn: trail.arn.clone(),
                    region: region.clone(),
                    range_from: BACKFILL,
                    period_start_ms: whole_second(earliest),
                    prev: None,
                });
            let last_end = self
                .trails
                .digest_last_end(&trail.arn, &region, true)?
                .unwrap_or(i64::MIN);
            let end = now_s
                .max(chain.period_start_ms + 1000)
                .max(last_end.saturating_add(1000));
            self.decide_one(&at, &chain, end, &covered, true, now)?;
            decided += 1;
        }
        Ok(decided)
    }

    /// Builds, signs and commits one digest; the chain moves on to start at `end` (the final
    /// digest of a closed range ends it).
    fn decide_one(
        &self,
        at: &Destination<'_>,
        chain: &DigestChain,
        end: i64,
        covered: &[DigestFile],
        backfill: bool,
        now: i64,
    ) -> Result<(), DigestError> {
        let Destination { trail, org } = *at;
        let (account, region) = organization::split(trail, &chain.region);
        let key = DigestKey {
            prefix: trail.s3_key_prefix.as_deref(),
            organization: org,
            account,
            source_region: region,
            trail_name: &trail.name,
            home_region: &trail.home_region,
            end_ms: end,
            backfill,
        }
        .render();
        let signing = self.keys.current(region)?;
        let listed: Vec<ListedFile<'_>> = covered
            .iter()
            .map(|f| ListedFile {
                bucket: &f.bucket,
                key: &f.key,
                sha256: &f.sha256,
                oldest_event: f.oldest_event.as_deref(),
                newest_event: f.newest_event.as_deref(),
            })
            .collect();
        let raw = DigestContent {
            account,
            start_ms: chain.period_start_ms,
            end_ms: end,
            bucket: &trail.s3_bucket,
            key: &key,
            fingerprint: &signing.fingerprint,
            previous: chain.prev.as_ref().map(|p| Previous {
                bucket: &p.bucket,
                key: &p.key,
                hash: &p.hash,
                signature: &p.signature,
            }),
            files: &listed,
        }
        .to_json();
        let to_sign = file::string_to_sign(
            &event_time(end),
            &trail.s3_bucket,
            &key,
            &raw,
            chain.prev.as_ref().map(|p| p.signature.as_str()),
        );
        let signature = file::sign(&signing.private, &to_sign);
        let ends_chain = !backfill && {
            let range = trail
                .logging_ranges
                .iter()
                .find(|(f, _)| i64::try_from(*f).ok() == Some(chain.range_from));
            range.is_none_or(|(_, to)| to.is_some())
        };
        let next = (!ends_chain).then(|| DigestChain {
            period_start_ms: end,
            prev: Some(PreviousDigest {
                bucket: trail.s3_bucket.clone(),
                key: key.clone(),
                hash: file::sha256_hex(&raw),
                signature: signature.clone(),
            }),
            ..chain.clone()
        });
        let plan = DigestPlan {
            id: 0,
            trail_arn: trail.arn.clone(),
            bucket: trail.s3_bucket.clone(),
            key,
            body: raw,
            signature,
            backfill_generated: backfill.then(|| event_time(now)),
        };
        let ids: Vec<i64> = covered.iter().map(|f| f.id).collect();
        self.trails.decide_digest(&DecidedDigest {
            chain,
            next: next.as_ref(),
            covered: &ids,
            plan: &plan,
            end_ms: end,
        })?;
        Ok(())
    }

    fn write(&self, now: i64, report: &mut DigestReport) -> Result<(), DigestError> {
        let mut outcome: std::collections::BTreeMap<String, Option<String>> = Default::default();
        for p in self.trails.pending_digests()? {
            let Some(trail) = self.trails.get(&p.trail_arn)? else {
                self.trails.digest_written(p.id)?;
                continue;
            };
            let mut metadata = vec![
                ("signature", p.signature.as_str()),
                ("signature-algorithm", file::SIGNATURE_ALGORITHM),
            ];
            if let Some(ts) = &p.backfill_generated {
                metadata.push(("backfill-generation-timestamp", ts.as_str()));
            }
            let put = self.sink.put(
                &trail,
                &TrailObject {
                    bucket: &p.bucket,
                    key: &p.key,
                    body: &logfile::gzip(&p.body),
                    metadata: &metadata,
                    trail_key: false,
                },
            );
            match put {
                Ok(()) => {
                    self.trails.digest_written(p.id)?;
                    report.written += 1;
                    outcome.entry(trail.arn.clone()).or_insert(None);
                }
                Err(reason) => {
                    tracing::warn!(trail = %trail.arn, key = %p.key, %reason, "digest delivery failed; will retry");
                    report.failed += 1;
                    outcome.insert(trail.arn.clone(), Some(reason));
                }
            }
        }
        for (arn, err) in outcome {
            let mut s = self.trails.status(&arn)?;
            match err {
                None => {
                    s.latest_digest_ms = Some(now);
                    s.latest_digest_error = None;
                }
                Some(e) => s.latest_digest_error = Some(e),
            }
            self.trails.set_status(&arn, &s)?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

/// Digests follow the log files delivery wrote, not the journal: they hold no journal cursor.
impl cairn_store::journal::Consumer for Digester {
    fn name(&self) -> &'static str {
        "digests"
    }

    fn needs_from(&self) -> Result<u64, StoreError> {
        Ok(u64::MAX)
    }

    fn run_due(&self) -> Result<cairn_store::journal::Round, String> {
        let r = self.run_once().map_err(|e| e.to_string())?;
        if r.written > 0 {
            tracing::info!(digests = r.written, "trail digests");
        }
        Ok(cairn_store::journal::Round {
            done: r.written as u64,
        })
    }
}
