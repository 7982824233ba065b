//! Digest bookkeeping in SQLite: log files waiting for a digest, digest chains, and digests decided but
//! not yet written. What a digest contains and how it is signed is `cairn-trail`'s business;
//! this module only keeps the state so that every step survives a crash.

use rusqlite::params;

use super::SqliteTrails;
use crate::error::StoreError;
use crate::trails::Notice;
use crate::trails::digests::{
    BACKFILL, DecidedDigest, DigestChain, DigestFile, DigestPlan, PreviousDigest,
};

fn row_to_file(r: &rusqlite::Row<'_>) -> rusqlite::Result<DigestFile> {
    Ok(DigestFile {
        id: r.get(0)?,
        trail_arn: r.get(1)?,
        region: r.get(2)?,
        range_from: r.get(3)?,
        bucket: r.get(4)?,
        key: r.get(5)?,
        sha256: r.get(6)?,
        oldest_event: r.get(7)?,
        newest_event: r.get(8)?,
        planned_ms: r.get(9)?,
    })
}

fn put_chain(tx: &rusqlite::Connection, c: &DigestChain) -> rusqlite::Result<()> {
    let p = c.prev.as_ref();
    tx.execute(
        "INSERT OR REPLACE INTO digest_chains (trail_arn, region, range_from, period_start_ms, prev_bucket, prev_key, prev_hash, prev_signature)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            c.trail_arn,
            c.region,
            c.range_from,
            c.period_start_ms,
            p.map(|p| &p.bucket),
            p.map(|p| &p.key),
            p.map(|p| &p.hash),
            p.map(|p| &p.signature)
        ],
    )?;
    Ok(())
}

impl SqliteTrails {
    /// Marks a log file plan written and, for a validating trail, queues the file for its digest,
    /// atomically: a crash cannot list a file twice or lose it.
    pub fn plan_written(
        &self,
        plan_id: i64,
        file: Option<&DigestFile>,
        notice: Option<&Notice>,
    ) -> Result<(), StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        tx.execute("DELETE FROM delivery_plans WHERE id = ?1", [plan_id])?;
        if let Some(n) = notice {
            tx.execute(
                "INSERT INTO trail_notices (trail_arn, bucket, key, created_ms) VALUES (?1, ?2, ?3, ?4)",
                params![n.trail_arn, n.bucket, n.key, n.created_ms],
            )?;
        }
        if let Some(f) = file {
            tx.execute(
                "INSERT INTO digest_files (trail_arn, region, range_from, bucket, key, sha256, oldest_event, newest_event, planned_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![f.trail_arn, f.region, f.range_from, f.bucket, f.key, f.sha256, f.oldest_event, f.newest_event, f.planned_ms],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Log files of a trail that no digest lists yet, oldest plan first.
    pub fn digest_files(&self, trail_arn: &str) -> Result<Vec<DigestFile>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT id, trail_arn, region, range_from, bucket, key, sha256, oldest_event, newest_event, planned_ms
             FROM digest_files WHERE trail_arn = ?1 ORDER BY planned_ms, id",
        )?;
        let rows = st.query_map([trail_arn], row_to_file)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A trail's chains, by region then range.
    pub fn digest_chains(&self, trail_arn: &str) -> Result<Vec<DigestChain>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT trail_arn, region, range_from, period_start_ms, prev_bucket, prev_key, prev_hash, prev_signature
             FROM digest_chains WHERE trail_arn = ?1 ORDER BY region, range_from",
        )?;
        let rows = st.query_map([trail_arn], |r| {
            let prev = match (
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
            ) {
                (Some(bucket), Some(key)) => Some(PreviousDigest {
                    bucket,
                    key,
                    hash: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
                    signature: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
                }),
                _ => None,
            };
            Ok(DigestChain {
                trail_arn: r.get(0)?,
                region: r.get(1)?,
                range_from: r.get(2)?,
                period_start_ms: r.get(3)?,
                prev,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn start_digest_chain(&self, chain: &DigestChain) -> Result<(), StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        put_chain(&tx, chain)?;
        tx.commit()?;
        Ok(())
    }

    /// The newest digest end time of a (trail, region) chain kind; digests must end later.
    pub fn digest_last_end(
        &self,
        trail_arn: &str,
        region: &str,
        backfill: bool,
    ) -> Result<Option<i64>, StoreError> {
        use rusqlite::OptionalExtension;
        Ok(self
            .db.read()
            .query_row(
                "SELECT end_ms FROM digest_last_end WHERE trail_arn = ?1 AND region = ?2 AND backfill = ?3",
                params![trail_arn, region, backfill as i64],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Commits a decided digest: the chain moves on (or ends), its files leave the queue, and
    /// the digest waits to be written.
    pub fn decide_digest(&self, d: &DecidedDigest<'_>) -> Result<(), StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        tx.execute(
            "DELETE FROM digest_chains WHERE trail_arn = ?1 AND region = ?2 AND range_from = ?3",
            params![d.chain.trail_arn, d.chain.region, d.chain.range_from],
        )?;
        if let Some(next) = d.next {
            put_chain(&tx, next)?;
        }
        for id in d.covered {
            tx.execute("DELETE FROM digest_files WHERE id = ?1", [id])?;
        }
        tx.execute(
            "INSERT OR REPLACE INTO digest_last_end (trail_arn, region, backfill, end_ms) VALUES (?1, ?2, ?3, ?4)",
            params![
                d.chain.trail_arn,
                d.chain.region,
                (d.chain.range_from == BACKFILL) as i64,
                d.end_ms
            ],
        )?;
        let p = d.plan;
        tx.execute(
            "INSERT OR REPLACE INTO digests_delivered (trail_arn, region, backfill, bucket, key, end_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                d.chain.trail_arn,
                d.chain.region,
                (d.chain.range_from == BACKFILL) as i64,
                p.bucket,
                p.key,
                d.end_ms
            ],
        )?;
        tx.execute(
            "INSERT INTO digest_plans (trail_arn, bucket, key, body, signature, backfill_generated) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![p.trail_arn, p.bucket, p.key, p.body, p.signature, p.backfill_generated],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Digests not yet written, oldest first.
    pub fn pending_digests(&self) -> Result<Vec<DigestPlan>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT id, trail_arn, bucket, key, body, signature, backfill_generated FROM digest_plans ORDER BY id",
        )?;
        let rows = st.query_map([], |r| {
            Ok(DigestPlan {
                id: r.get(0)?,
                trail_arn: r.get(1)?,
                bucket: r.get(2)?,
                key: r.get(3)?,
                body: r.get(4)?,
                signature: r.get(5)?,
                backfill_generated: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn digest_written(&self, id: i64) -> Result<(), StoreError> {
        self.db
            .write()?
            .execute("DELETE FROM digest_plans WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Every digest decided for a (trail, source region), oldest first: `(backfill, bucket, key,
    /// end_ms)`.
    pub fn digests_delivered(
        &self,
        trail_arn: &str,
        region: &str,
    ) -> Result<Vec<(bool, String, String, i64)>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT backfill, bucket, key, end_ms FROM digests_delivered WHERE trail_arn = ?1 AND region = ?2 ORDER BY end_ms",
        )?;
        let rows = st.query_map([trail_arn, region], |r| {
            Ok((r.get::<_, i64>(0)? != 0, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Forgets a trail's digest state (validation turned off, or the trail deleted): files
    /// delivered meanwhile are never listed, and the next digest starts a new chain.
    pub fn drop_digest_state(&self, trail_arn: &str) -> Result<(), StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        tx.execute(
            "DELETE FROM digest_chains WHERE trail_arn = ?1",
            [trail_arn],
        )?;
        tx.execute("DELETE FROM digest_files WHERE trail_arn = ?1", [trail_arn])?;
        tx.commit()?;
        Ok(())
    }
}
