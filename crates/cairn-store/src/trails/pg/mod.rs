//! Trails on PostgreSQL (schema in `sql/pg/trails_*.sql`): settings, selectors, tags, logging
//! state, delivery status and plans, signing keys; digest state in [`digests`], SNS
//! notifications in [`notices`], CloudWatch Logs delivery in [`cwl`]. Every write joins the
//! call's group transaction (`crate::pg`); delivery's writes (outside any call) commit at once,
//! each multi-step change in one transaction.
//!
//! Account trail lists are kept on each node as in the embedded store, here under a
//! generation row in the database that every change to a trail moves (see [`PgTrails::list`]).

use postgres::Row;

use crate::error::StoreError;
use crate::pg::fresh::{Fresh, Kept};
use crate::pg::{Migration, PgDb, backend};
use crate::trails::digests::{DecidedDigest, DigestChain, DigestFile, DigestPlan};
use crate::trails::{
    CwlState, DeliveryPlan, Notice, NotifyStatus, StoredKey, Trail, TrailStatus, TrailStore,
};

mod cwl;
mod digests;
mod notices;

const MIGRATIONS: &[Migration] = &[
    Migration {
        store: "trails",
        version: 1,
        sql: include_str!("../../../sql/pg/trails_0001.sql"),
    },
    Migration {
        store: "trails",
        version: 2,
        sql: include_str!("../../../sql/pg/trails_0002.sql"),
    },
];

const COLUMNS: &str = "arn, account, home_region, name, s3_bucket, s3_key_prefix, sns_topic_name, include_global_events, multi_region, log_file_validation, cw_log_group_arn, cw_role_arn, kms_key_id, organization, event_selectors, advanced_event_selectors, insight_selectors, logging, start_logging_ms, stop_logging_ms, created_ms, logging_ranges";

pub struct PgTrails {
    db: PgDb,
    /// Reads of `trails_generation`, shared by the calls that wait for one together.
    fresh: Fresh,
    /// Account trail lists, each under the generation it was read after.
    listed: Kept<Vec<Trail>>,
}

/// Moves the trails' generation on, first thing in a change to the `trails` table: its row
/// lock, held until the change commits, is then the first such a change waits for, so changes
/// on two nodes queue rather than deadlock.
fn bump(c: &mut postgres::Client) -> Result<(), postgres::Error> {
    c.execute(
        "UPDATE trails_generation SET value = value + 1 WHERE id = 1",
        &[],
    )?;
    Ok(())
}

fn row_to_trail(r: &Row) -> Trail {
    let ranges: String = r.get(21);
    Trail {
        arn: r.get(0),
        account: r.get(1),
        home_region: r.get(2),
        name: r.get(3),
        s3_bucket: r.get(4),
        s3_key_prefix: r.get(5),
        sns_topic_name: r.get(6),
        include_global_events: r.get(7),
        multi_region: r.get(8),
        log_file_validation: r.get(9),
        cw_log_group_arn: r.get(10),
        cw_role_arn: r.get(11),
        kms_key_id: r.get(12),
        organization: r.get(13),
        event_selectors: r.get(14),
        advanced_event_selectors: r.get(15),
        insight_selectors: r.get(16),
        logging: r.get(17),
        start_logging_ms: r.get(18),
        stop_logging_ms: r.get(19),
        created_ms: r.get(20),
        // Only the store writes the column, always from a list of ranges.
        logging_ranges: serde_json::from_str(&ranges).unwrap_or_default(),
    }
}

/// Journal offsets as the plans' column keeps them (u64 little-endian each, as in SQLite).
fn offsets_blob(offsets: &[u64]) -> Vec<u8> {
    offsets.iter().flat_map(|o| o.to_le_bytes()).collect()
}

fn offsets_of(blob: &[u8]) -> Vec<u64> {
    blob.chunks_exact(8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
        .collect()
}

fn row_to_plan(r: &Row) -> DeliveryPlan {
    let blob: Vec<u8> = r.get(4);
    DeliveryPlan {
        id: r.get(0),
        trail_arn: r.get(1),
        region: r.get(2),
        key: r.get(3),
        offsets: offsets_of(&blob),
        created_ms: r.get(5),
    }
}

fn row_to_key(r: &Row) -> StoredKey {
    StoredKey {
        region: r.get(0),
        fingerprint: r.get(1),
        public_der: r.get(2),
        private_sealed: r.get(3),
        valid_from_ms: r.get(4),
        valid_to_ms: r.get(5),
    }
}

/// A journal offset as a BIGINT (offsets never come near `i64::MAX`).
fn offset_param(o: u64) -> i64 {
    i64::try_from(o).unwrap_or(i64::MAX)
}

impl PgTrails {
    /// The store in `schema` of the database at `url`.
    pub fn open(url: &str, schema: &str) -> Result<PgTrails, StoreError> {
        Ok(PgTrails {
            db: PgDb::connect(url, schema, MIGRATIONS)?,
            fresh: Fresh::default(),
            listed: Kept::default(),
        })
    }

    /// Inserts a new trail, or replaces the settings of an existing one (same ARN).
    pub fn put(&self, t: &Trail) -> Result<(), StoreError> {
        let ranges = serde_json::to_string(&t.logging_ranges).unwrap_or_else(|_| "[]".into());
        self.db.write_with(|c| {
            bump(c)?;
            // SQLite's INSERT OR REPLACE also replaces a row holding the same (account,
            // region, name) under another ARN; ON CONFLICT names one constraint only.
            c.execute(
                "DELETE FROM trails WHERE arn = $1 OR (account = $2 AND home_region = $3 AND name = $4)",
                &[&t.arn, &t.account, &t.home_region, &t.name],
            )?;
            c.execute(
                &format!("INSERT INTO trails ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"),
                &[
                    &t.arn, &t.account, &t.home_region, &t.name, &t.s3_bucket, &t.s3_key_prefix, &t.sns_topic_name,
                    &t.include_global_events, &t.multi_region, &t.log_file_validation,
                    &t.cw_log_group_arn, &t.cw_role_arn, &t.kms_key_id, &t.organization,
                    &t.event_selectors, &t.advanced_event_selectors, &t.insight_selectors,
                    &t.logging, &t.start_logging_ms, &t.stop_logging_ms, &t.created_ms, &ranges,
                ],
            )
        })?;
        Ok(())
    }

    pub fn get(&self, arn: &str) -> Result<Option<Trail>, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt(
                &format!("SELECT {COLUMNS} FROM trails WHERE arn = $1"),
                &[&arn],
            )
            .map_err(backend)?
            .as_ref()
            .map(row_to_trail))
    }

    /// Every trail of an account, in every home region, by name.
    ///
    /// Kept under the trails' generation, as the embedded store keeps lists under its
    /// database's (every call to DescribeTrails, ListTrails and GetTrail reads one). Here other
    /// nodes put and delete trails too, so the generation is a row they move in the same
    /// transaction, read once after this call began (shared with the calls waiting for the
    /// same read: `crate::pg::fresh`) before a kept list is answered. Inside a call that has
    /// written trails and not committed, read through its own transaction and not kept.
    pub fn list(&self, account: &str) -> Result<Vec<Trail>, StoreError> {
        let generation = if self.db.uncommitted_here() {
            None
        } else {
            Some(self.fresh.get(|| {
                let row = self
                    .db
                    .read_committed()
                    .query_one("SELECT value FROM trails_generation WHERE id = 1", &[])
                    .map_err(backend)?;
                Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
            })?)
        };
        if let Some(g) = generation
            && let Some(kept) = self.listed.get(account, g)
        {
            return Ok(kept);
        }
        let trails: Vec<Trail> = self
            .db
            .read()
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM trails WHERE account = $1 ORDER BY name, home_region"
                ),
                &[&account],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_trail)
            .collect();
        if let Some(g) = generation {
            self.listed.keep(account, g, trails.clone());
        }
        Ok(trails)
    }

    /// Every trail of every account (for delivery).
    pub fn all(&self) -> Result<Vec<Trail>, StoreError> {
        Ok(self
            .db
            .read()
            .query(&format!("SELECT {COLUMNS} FROM trails ORDER BY arn"), &[])
            .map_err(backend)?
            .iter()
            .map(row_to_trail)
            .collect())
    }

    /// Removes a trail with everything kept about it but its pending delivery plans (as the
    /// embedded store does: those files were owed while it existed).
    pub fn delete(&self, arn: &str) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            bump(c)?;
            for statement in [
                "DELETE FROM trail_tags WHERE arn = $1",
                "DELETE FROM trail_status WHERE arn = $1",
                "DELETE FROM cwl_delivery WHERE arn = $1",
                "DELETE FROM trail_notices WHERE trail_arn = $1",
                "DELETE FROM trail_notify_status WHERE arn = $1",
                // A deleted trail's digest chains end with it.
                "DELETE FROM digest_chains WHERE trail_arn = $1",
                "DELETE FROM digest_files WHERE trail_arn = $1",
                "DELETE FROM digest_plans WHERE trail_arn = $1",
                "DELETE FROM digests_delivered WHERE trail_arn = $1",
            ] {
                c.execute(statement, &[&arn])?;
            }
            c.execute("DELETE FROM trails WHERE arn = $1", &[&arn])
        })? > 0)
    }

    pub fn tags(&self, arn: &str) -> Result<Vec<(String, String)>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                "SELECT key, value FROM trail_tags WHERE arn = $1 ORDER BY key",
                &[&arn],
            )
            .map_err(backend)?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    pub fn add_tags(&self, arn: &str, tags: &[(String, String)]) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            let st = c.prepare(
                "INSERT INTO trail_tags (arn, key, value) VALUES ($1, $2, $3)
                 ON CONFLICT (arn, key) DO UPDATE SET value = EXCLUDED.value",
            )?;
            for (k, v) in tags {
                c.execute(&st, &[&arn, k, v])?;
            }
            Ok(())
        })
    }

    pub fn remove_tags(&self, arn: &str, keys: &[String]) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            c.execute(
                "DELETE FROM trail_tags WHERE arn = $1 AND key = ANY($2)",
                &[&arn, &keys],
            )
        })?;
        Ok(())
    }

    pub fn status(&self, arn: &str) -> Result<TrailStatus, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt(
                "SELECT latest_delivery_ms, latest_delivery_attempt_ms, latest_delivery_error, latest_digest_ms, latest_digest_error FROM trail_status WHERE arn = $1",
                &[&arn],
            )
            .map_err(backend)?
            .map(|r| TrailStatus {
                latest_delivery_ms: r.get(0),
                latest_delivery_attempt_ms: r.get(1),
                latest_delivery_error: r.get(2),
                latest_digest_ms: r.get(3),
                latest_digest_error: r.get(4),
            })
            .unwrap_or_default())
    }

    pub fn set_status(&self, arn: &str, s: &TrailStatus) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            c.execute(
                "INSERT INTO trail_status (arn, latest_delivery_ms, latest_delivery_attempt_ms, latest_delivery_error, latest_digest_ms, latest_digest_error)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (arn) DO UPDATE SET latest_delivery_ms = EXCLUDED.latest_delivery_ms,
                   latest_delivery_attempt_ms = EXCLUDED.latest_delivery_attempt_ms,
                   latest_delivery_error = EXCLUDED.latest_delivery_error,
                   latest_digest_ms = EXCLUDED.latest_digest_ms,
                   latest_digest_error = EXCLUDED.latest_digest_error",
                &[&arn, &s.latest_delivery_ms, &s.latest_delivery_attempt_ms, &s.latest_delivery_error, &s.latest_digest_ms, &s.latest_digest_error],
            )
        })?;
        Ok(())
    }
}

impl PgTrails {
    pub fn delivery_cursor(&self) -> Result<u64, StoreError> {
        let offset: i64 = self
            .db
            .read()
            .query_one(
                "SELECT journal_offset FROM delivery_cursor WHERE id = 1",
                &[],
            )
            .map_err(backend)?
            .get(0);
        Ok(offset.max(0) as u64)
    }

    /// Records new plans and moves the delivery cursor, atomically.
    pub fn plan(&self, plans: &[DeliveryPlan], cursor: u64) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            let st = c.prepare(
                "INSERT INTO delivery_plans (trail_arn, region, key, offsets, created_ms) VALUES ($1, $2, $3, $4, $5)",
            )?;
            for p in plans {
                c.execute(
                    &st,
                    &[&p.trail_arn, &p.region, &p.key, &offsets_blob(&p.offsets), &p.created_ms],
                )?;
            }
            c.execute(
                "UPDATE delivery_cursor SET journal_offset = $1 WHERE id = 1",
                &[&offset_param(cursor)],
            )
        })?;
        Ok(())
    }

    /// Plans not yet written, oldest first.
    pub fn pending_plans(&self) -> Result<Vec<DeliveryPlan>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                "SELECT id, trail_arn, region, key, offsets, created_ms FROM delivery_plans ORDER BY id",
                &[],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_plan)
            .collect())
    }

    pub fn plan_done(&self, id: i64) -> Result<(), StoreError> {
        self.db
            .write_with(|c| c.execute("DELETE FROM delivery_plans WHERE id = $1", &[&id]))?;
        Ok(())
    }

    pub fn add_signing_key(&self, k: &StoredKey) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            c.execute(
                "INSERT INTO signing_keys (region, fingerprint, public_der, private_sealed, valid_from_ms, valid_to_ms) VALUES ($1, $2, $3, $4, $5, $6)",
                &[&k.region, &k.fingerprint, &k.public_der, &k.private_sealed, &k.valid_from_ms, &k.valid_to_ms],
            )
        })?;
        Ok(())
    }

    /// A region's keys whose validity overlaps `[from, to]`, oldest first.
    pub fn signing_keys(
        &self,
        region: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<StoredKey>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                "SELECT region, fingerprint, public_der, private_sealed, valid_from_ms, valid_to_ms FROM signing_keys
                 WHERE region = $1 AND valid_from_ms <= $3 AND valid_to_ms >= $2 ORDER BY valid_from_ms",
                &[&region, &from_ms, &to_ms],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_key)
            .collect())
    }
}

impl TrailStore for PgTrails {
    forward! {
        blocking:
        fn put(&self, t: &Trail) -> Result<(), StoreError>;
        fn get(&self, arn: &str) -> Result<Option<Trail>, StoreError>;
        fn list(&self, account: &str) -> Result<Vec<Trail>, StoreError>;
        fn all(&self) -> Result<Vec<Trail>, StoreError>;
        fn delete(&self, arn: &str) -> Result<bool, StoreError>;
        fn tags(&self, arn: &str) -> Result<Vec<(String, String)>, StoreError>;
        fn add_tags(&self, arn: &str, tags: &[(String, String)]) -> Result<(), StoreError>;
        fn remove_tags(&self, arn: &str, keys: &[String]) -> Result<(), StoreError>;
        fn status(&self, arn: &str) -> Result<TrailStatus, StoreError>;
        fn set_status(&self, arn: &str, s: &TrailStatus) -> Result<(), StoreError>;
        fn delivery_cursor(&self) -> Result<u64, StoreError>;
        fn plan(&self, plans: &[DeliveryPlan], cursor: u64) -> Result<(), StoreError>;
        fn pending_plans(&self) -> Result<Vec<DeliveryPlan>, StoreError>;
        fn plan_done(&self, id: i64) -> Result<(), StoreError>;
        fn add_signing_key(&self, k: &StoredKey) -> Result<(), StoreError>;
        fn signing_keys(&self, region: &str, from_ms: i64, to_ms: i64) -> Result<Vec<StoredKey>, StoreError>;
        fn plan_written(&self, plan_id: i64, file: Option<&DigestFile>, notice: Option<&Notice>) -> Result<(), StoreError>;
        fn pending_notices(&self) -> Result<Vec<Notice>, StoreError>;
        fn notices_done(&self, ids: &[i64]) -> Result<(), StoreError>;
        fn notify_status(&self, arn: &str) -> Result<NotifyStatus, StoreError>;
        fn set_notify_status(&self, arn: &str, s: &NotifyStatus) -> Result<(), StoreError>;
        fn digest_files(&self, trail_arn: &str) -> Result<Vec<DigestFile>, StoreError>;
        fn digest_chains(&self, trail_arn: &str) -> Result<Vec<DigestChain>, StoreError>;
        fn start_digest_chain(&self, chain: &DigestChain) -> Result<(), StoreError>;
        fn digest_last_end(&self, trail_arn: &str, region: &str, backfill: bool) -> Result<Option<i64>, StoreError>;
        fn decide_digest(&self, d: &DecidedDigest<'_>) -> Result<(), StoreError>;
        fn pending_digests(&self) -> Result<Vec<DigestPlan>, StoreError>;
        fn digest_written(&self, id: i64) -> Result<(), StoreError>;
        fn digests_delivered(&self, trail_arn: &str, region: &str) -> Result<Vec<(bool, String, String, i64)>, StoreError>;
        fn drop_digest_state(&self, trail_arn: &str) -> Result<(), StoreError>;
        fn cwl_state(&self, arn: &str) -> Result<Option<CwlState>, StoreError>;
        fn set_cwl_state(&self, arn: &str, s: &CwlState) -> Result<(), StoreError>;
        fn drop_cwl_state(&self, arn: &str) -> Result<(), StoreError>;
    }
}

#[cfg(test)]
mod tests;
