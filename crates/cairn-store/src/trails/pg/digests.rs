//! Digest bookkeeping on PostgreSQL: log files waiting for a digest, digest chains, and digests
//! decided but not yet written, each step one transaction (or one savepoint of a call's group).
//!
//! A chain's row holds the previous digest's hash and signature, which the next digest signs
//! over. Only the consumer-lease holder decides digests, but a lease can change hands while the
//! old holder is mid-round: a decision made from a chain that has moved on since it was read
//! is refused (see [`PgTrails::decide_digest`]) so that two nodes never both extend one chain.

use postgres::{Client, Row};

use super::PgTrails;
use crate::error::StoreError;
use crate::pg::backend;
use crate::trails::Notice;
use crate::trails::digests::{
    BACKFILL, DecidedDigest, DigestChain, DigestFile, DigestPlan, PreviousDigest,
};

fn row_to_file(r: &Row) -> DigestFile {
    DigestFile {
        id: r.get(0),
        trail_arn: r.get(1),
        region: r.get(2),
        range_from: r.get(3),
        bucket: r.get(4),
        key: r.get(5),
        sha256: r.get(6),
        oldest_event: r.get(7),
        newest_event: r.get(8),
        planned_ms: r.get(9),
    }
}

fn row_to_chain(r: &Row) -> DigestChain {
    let prev = match (r.get::<_, Option<String>>(4), r.get::<_, Option<String>>(5)) {
        (Some(bucket), Some(key)) => Some(PreviousDigest {
            bucket,
            key,
            hash: r.get::<_, Option<String>>(6).unwrap_or_default(),
            signature: r.get::<_, Option<String>>(7).unwrap_or_default(),
        }),
        _ => None,
    };
    DigestChain {
        trail_arn: r.get(0),
        region: r.get(1),
        range_from: r.get(2),
        period_start_ms: r.get(3),
        prev,
    }
}

fn row_to_digest(r: &Row) -> DigestPlan {
    DigestPlan {
        id: r.get(0),
        trail_arn: r.get(1),
        bucket: r.get(2),
        key: r.get(3),
        body: r.get(4),
        signature: r.get(5),
        backfill_generated: r.get(6),
    }
}

/// Stores a chain's state: replacing the stored one (`replace`), or only if none is stored.
/// Answers whether it was stored.
fn put_chain(c: &mut Client, ch: &DigestChain, replace: bool) -> Result<bool, postgres::Error> {
    let on_conflict = if replace {
        "DO UPDATE SET period_start_ms = EXCLUDED.period_start_ms,
           prev_bucket = EXCLUDED.prev_bucket, prev_key = EXCLUDED.prev_key,
           prev_hash = EXCLUDED.prev_hash, prev_signature = EXCLUDED.prev_signature"
    } else {
        "DO NOTHING"
    };
    let p = ch.prev.as_ref();
    Ok(c.execute(
        &format!(
            "INSERT INTO digest_chains (trail_arn, region, range_from, period_start_ms, prev_bucket, prev_key, prev_hash, prev_signature)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (trail_arn, region, range_from) {on_conflict}"
        ),
        &[
            &ch.trail_arn,
            &ch.region,
            &ch.range_from,
            &ch.period_start_ms,
            &p.map(|p| &p.bucket),
            &p.map(|p| &p.key),
            &p.map(|p| &p.hash),
            &p.map(|p| &p.signature),
        ],
    )? > 0)
}

/// How a decision found its chain.
#[derive(PartialEq)]
enum Taken {
    /// The stored chain was the one decided from, and is removed.
    Stored,
    /// No chain is stored and the decision starts one (a backfill chain's first digest is
    /// decided from a chain that was never stored).
    New,
    /// The stored chain is not the one decided from any more (another decision moved it on,
    /// or it was dropped or restarted), or a decision from a chain with a previous digest
    /// finds none stored.
    Stale,
}

/// Removes the chain as `ch` describes it. A concurrent decision of the same stored chain waits
/// here for the first one's outcome and then finds its row gone.
fn take_chain(c: &mut Client, ch: &DigestChain) -> Result<Taken, postgres::Error> {
    let p = ch.prev.as_ref();
    let removed = c.execute(
        "DELETE FROM digest_chains WHERE trail_arn = $1 AND region = $2 AND range_from = $3
           AND period_start_ms = $4
           AND prev_key IS NOT DISTINCT FROM $5 AND prev_signature IS NOT DISTINCT FROM $6",
        &[
            &ch.trail_arn,
            &ch.region,
            &ch.range_from,
            &ch.period_start_ms,
            &p.map(|p| &p.key),
            &p.map(|p| &p.signature),
        ],
    )?;
    if removed > 0 {
        return Ok(Taken::Stored);
    }
    let stored = c
        .query_opt(
            "SELECT 1 FROM digest_chains WHERE trail_arn = $1 AND region = $2 AND range_from = $3",
            &[&ch.trail_arn, &ch.region, &ch.range_from],
        )?
        .is_some();
    Ok(if stored || p.is_some() {
        Taken::Stale
    } else {
        Taken::New
    })
}

/// Stores the chain's next state. After a new chain's first digest, a row there already means
/// another node decided that first digest at the same time (the insert waits for its outcome):
/// `false`, and this decision is refused.
fn put_next(c: &mut Client, next: &DigestChain, taken: &Taken) -> Result<bool, postgres::Error> {
    put_chain(c, next, *taken == Taken::Stored)
}

/// The rest of a decision, once its chain was taken and its next state stored: the listed
/// files out of the queue, the last end, the record of it, and the digest to write.
fn record_decision(c: &mut Client, d: &DecidedDigest<'_>) -> Result<(), postgres::Error> {
    c.execute("DELETE FROM digest_files WHERE id = ANY($1)", &[&d.covered])?;
    let backfill = d.chain.range_from == BACKFILL;
    c.execute(
        "INSERT INTO digest_last_end (trail_arn, region, backfill, end_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (trail_arn, region, backfill) DO UPDATE SET end_ms = EXCLUDED.end_ms",
        &[&d.chain.trail_arn, &d.chain.region, &backfill, &d.end_ms],
    )?;
    let p = d.plan;
    c.execute(
        "INSERT INTO digests_delivered (trail_arn, region, backfill, bucket, key, end_ms) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (trail_arn, region, backfill, end_ms) DO UPDATE SET bucket = EXCLUDED.bucket, key = EXCLUDED.key",
        &[&d.chain.trail_arn, &d.chain.region, &backfill, &p.bucket, &p.key, &d.end_ms],
    )?;
    c.execute(
        "INSERT INTO digest_plans (trail_arn, bucket, key, body, signature, backfill_generated) VALUES ($1, $2, $3, $4, $5, $6)",
        &[&p.trail_arn, &p.bucket, &p.key, &p.body, &p.signature, &p.backfill_generated],
    )?;
    Ok(())
}

impl PgTrails {
    /// Marks a log file plan written and queues its digest entry and notification, atomically:
    /// a crash cannot list a file twice or lose it, nor lose its notification.
    pub fn plan_written(
        &self,
        plan_id: i64,
        file: Option<&DigestFile>,
        notice: Option<&Notice>,
    ) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            c.execute("DELETE FROM delivery_plans WHERE id = $1", &[&plan_id])?;
            if let Some(n) = notice {
                c.execute(
                    "INSERT INTO trail_notices (trail_arn, bucket, key, created_ms) VALUES ($1, $2, $3, $4)",
                    &[&n.trail_arn, &n.bucket, &n.key, &n.created_ms],
                )?;
            }
            if let Some(f) = file {
                c.execute(
                    "INSERT INTO digest_files (trail_arn, region, range_from, bucket, key, sha256, oldest_event, newest_event, planned_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    &[&f.trail_arn, &f.region, &f.range_from, &f.bucket, &f.key, &f.sha256, &f.oldest_event, &f.newest_event, &f.planned_ms],
                )?;
            }
            Ok(())
        })
    }

    /// Log files of a trail that no digest lists yet, oldest plan first.
    pub fn digest_files(&self, trail_arn: &str) -> Result<Vec<DigestFile>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                "SELECT id, trail_arn, region, range_from, bucket, key, sha256, oldest_event, newest_event, planned_ms
                 FROM digest_files WHERE trail_arn = $1 ORDER BY planned_ms, id",
                &[&trail_arn],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_file)
            .collect())
    }

    /// A trail's chains, by region then range.
    pub fn digest_chains(&self, trail_arn: &str) -> Result<Vec<DigestChain>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                "SELECT trail_arn, region, range_from, period_start_ms, prev_bucket, prev_key, prev_hash, prev_signature
                 FROM digest_chains WHERE trail_arn = $1 ORDER BY region, range_from",
                &[&trail_arn],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_chain)
            .collect())
    }

    /// Starts (or restarts) a digest chain.
    pub fn start_digest_chain(&self, chain: &DigestChain) -> Result<(), StoreError> {
        self.db.write_with(|c| put_chain(c, chain, true))?;
        Ok(())
    }

    /// The newest digest end time of a (trail, region) chain kind; digests must end later.
    pub fn digest_last_end(
        &self,
        trail_arn: &str,
        region: &str,
        backfill: bool,
    ) -> Result<Option<i64>, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt(
                "SELECT end_ms FROM digest_last_end WHERE trail_arn = $1 AND region = $2 AND backfill = $3",
                &[&trail_arn, &region, &backfill],
            )
            .map_err(backend)?
            .map(|r| r.get(0)))
    }

    /// Commits a decided digest: the chain moves on (or ends), its files leave the queue, and
    /// the digest waits to be written. Refused, leaving everything as it was, if the chain is
    /// no longer the one the digest was decided from: its successor would otherwise sign over
    /// a digest that another node has already followed with a different one.
    pub fn decide_digest(&self, d: &DecidedDigest<'_>) -> Result<(), StoreError> {
        let decided = self.db.write_with(|c| {
            let taken = take_chain(c, d.chain)?;
            if taken == Taken::Stale {
                return Ok(false);
            }
            if let Some(next) = d.next
                && !put_next(c, next, &taken)?
            {
                return Ok(false);
            }
            record_decision(c, d)?;
            Ok(true)
        })?;
        if decided {
            Ok(())
        } else {
            Err(StoreError::Invalid(format!(
                "the digest chain of {} in {} (range {}) moved on since it was read",
                d.chain.trail_arn, d.chain.region, d.chain.range_from
            )))
        }
    }

    /// Digests not yet written, oldest first.
    pub fn pending_digests(&self) -> Result<Vec<DigestPlan>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                "SELECT id, trail_arn, bucket, key, body, signature, backfill_generated FROM digest_plans ORDER BY id",
                &[],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_digest)
            .collect())
    }

    pub fn digest_written(&self, id: i64) -> Result<(), StoreError> {
        self.db
            .write_with(|c| c.execute("DELETE FROM digest_plans WHERE id = $1", &[&id]))?;
        Ok(())
    }

    /// Every digest decided for a (trail, source region), oldest first: `(backfill, bucket, key,
    /// end_ms)`.
    pub fn digests_delivered(
        &self,
        trail_arn: &str,
        region: &str,
    ) -> Result<Vec<(bool, String, String, i64)>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                "SELECT backfill, bucket, key, end_ms FROM digests_delivered WHERE trail_arn = $1 AND region = $2 ORDER BY end_ms",
                &[&trail_arn, &region],
            )
            .map_err(backend)?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect())
    }

    /// Forgets a trail's digest state (validation turned off, or the trail deleted): files
    /// delivered meanwhile are never listed, and the next digest starts a new chain.
    pub fn drop_digest_state(&self, trail_arn: &str) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            c.execute(
                "DELETE FROM digest_chains WHERE trail_arn = $1",
                &[&trail_arn],
            )?;
            c.execute(
                "DELETE FROM digest_files WHERE trail_arn = $1",
                &[&trail_arn],
            )?;
            Ok(())
        })
    }
}
