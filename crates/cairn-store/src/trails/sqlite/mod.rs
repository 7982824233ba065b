//! Trails in SQLite (`trails.db`, schema in `sql/trails.sql`): settings, selectors, tags,
//! logging state, delivery status and plans, signing keys; digest state in [`digests`], SNS
//! notifications in [`notices`].

use crate::db::Db;
use std::path::Path;

use rusqlite::{OptionalExtension, params};

use crate::error::StoreError;
use crate::trails::digests::{DecidedDigest, DigestChain, DigestFile, DigestPlan};
use crate::trails::{
    CwlState, DeliveryPlan, Notice, NotifyStatus, StoredKey, Trail, TrailStatus, TrailStore,
};

mod cwl;
mod digests;
mod listed;
mod notices;

const SCHEMA: &str = include_str!("../../../sql/trails.sql");

pub struct SqliteTrails {
    db: Db,
    /// Each account's trails as last listed; a committed put or delete moves the database's
    /// generation on, and with it every entry out of date.
    listed: listed::ListCache,
}

const COLUMNS: &str = "arn, account, home_region, name, s3_bucket, s3_key_prefix, sns_topic_name, include_global_events, multi_region, log_file_validation, cw_log_group_arn, cw_role_arn, kms_key_id, organization, event_selectors, advanced_event_selectors, insight_selectors, logging, start_logging_ms, stop_logging_ms, created_ms, logging_ranges";

fn row_to_trail(r: &rusqlite::Row<'_>) -> rusqlite::Result<Trail> {
    Ok(Trail {
        arn: r.get(0)?,
        account: r.get(1)?,
        home_region: r.get(2)?,
        name: r.get(3)?,
        s3_bucket: r.get(4)?,
        s3_key_prefix: r.get(5)?,
        sns_topic_name: r.get(6)?,
        include_global_events: r.get::<_, i64>(7)? != 0,
        multi_region: r.get::<_, i64>(8)? != 0,
        log_file_validation: r.get::<_, i64>(9)? != 0,
        cw_log_group_arn: r.get(10)?,
        cw_role_arn: r.get(11)?,
        kms_key_id: r.get(12)?,
        organization: r.get::<_, i64>(13)? != 0,
        event_selectors: r.get(14)?,
        advanced_event_selectors: r.get(15)?,
        insight_selectors: r.get(16)?,
        logging: r.get::<_, i64>(17)? != 0,
        start_logging_ms: r.get(18)?,
        stop_logging_ms: r.get(19)?,
        created_ms: r.get(20)?,
        logging_ranges: serde_json::from_str(&r.get::<_, String>(21)?).unwrap_or_default(),
    })
}

impl SqliteTrails {
    pub fn open(path: &Path) -> Result<SqliteTrails, StoreError> {
        Ok(SqliteTrails {
            db: Db::open(path, SCHEMA)?,
            listed: listed::ListCache::default(),
        })
    }

    /// Inserts a new trail, or replaces the settings of an existing one (same ARN).
    pub fn put(&self, t: &Trail) -> Result<(), StoreError> {
        self.db.write()?.execute(
            &format!("INSERT OR REPLACE INTO trails ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)"),
            params![
                t.arn, t.account, t.home_region, t.name, t.s3_bucket, t.s3_key_prefix, t.sns_topic_name,
                t.include_global_events as i64, t.multi_region as i64, t.log_file_validation as i64,
                t.cw_log_group_arn, t.cw_role_arn, t.kms_key_id, t.organization as i64,
                t.event_selectors, t.advanced_event_selectors, t.insight_selectors,
                t.logging as i64, t.start_logging_ms, t.stop_logging_ms, t.created_ms,
                serde_json::to_string(&t.logging_ranges).unwrap_or_else(|_| "[]".into())
            ],
        )?;
        self.db.changed();
        Ok(())
    }

    pub fn get(&self, arn: &str) -> Result<Option<Trail>, StoreError> {
        Ok(self
            .db
            .read()
            .query_row(
                &format!("SELECT {COLUMNS} FROM trails WHERE arn = ?1"),
                [arn],
                row_to_trail,
            )
            .optional()?)
    }

    /// Every trail of an account, in every home region, by name.
    pub fn list(&self, account: &str) -> Result<Vec<Trail>, StoreError> {
        // Inside a call that has changed trails, what it reads is its own (see `listed`).
        let generation = (!self.db.uncommitted_here()).then(|| self.db.generation());
        self.listed.get_or_load(account, generation, || {
            let c = self.db.read();
            let mut st = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM trails WHERE account = ?1 ORDER BY name, home_region"
            ))?;
            let rows = st.query_map([account], row_to_trail)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Every trail of every account (for delivery).
    pub fn all(&self) -> Result<Vec<Trail>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!("SELECT {COLUMNS} FROM trails ORDER BY arn"))?;
        let rows = st.query_map([], row_to_trail)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn delete(&self, arn: &str) -> Result<bool, StoreError> {
        let c = self.db.write()?;
        c.execute("DELETE FROM trail_tags WHERE arn = ?1", [arn])?;
        c.execute("DELETE FROM trail_status WHERE arn = ?1", [arn])?;
        c.execute("DELETE FROM cwl_delivery WHERE arn = ?1", [arn])?;
        c.execute("DELETE FROM trail_notices WHERE trail_arn = ?1", [arn])?;
        c.execute("DELETE FROM trail_notify_status WHERE arn = ?1", [arn])?;
        // A deleted trail's digest chains end with it.
        c.execute("DELETE FROM digest_chains WHERE trail_arn = ?1", [arn])?;
        c.execute("DELETE FROM digest_files WHERE trail_arn = ?1", [arn])?;
        c.execute("DELETE FROM digest_plans WHERE trail_arn = ?1", [arn])?;
        c.execute("DELETE FROM digests_delivered WHERE trail_arn = ?1", [arn])?;
        let deleted = c.execute("DELETE FROM trails WHERE arn = ?1", [arn])? > 0;
        drop(c);
        self.db.changed();
        Ok(deleted)
    }

    pub fn tags(&self, arn: &str) -> Result<Vec<(String, String)>, StoreError> {
        let c = self.db.read();
        let mut st =
            c.prepare_cached("SELECT key, value FROM trail_tags WHERE arn = ?1 ORDER BY key")?;
        let rows = st.query_map([arn], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn add_tags(&self, arn: &str, tags: &[(String, String)]) -> Result<(), StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        for (k, v) in tags {
            tx.execute(
                "INSERT OR REPLACE INTO trail_tags (arn, key, value) VALUES (?1, ?2, ?3)",
                params![arn, k, v],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn remove_tags(&self, arn: &str, keys: &[String]) -> Result<(), StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        for k in keys {
            tx.execute(
                "DELETE FROM trail_tags WHERE arn = ?1 AND key = ?2",
                params![arn, k],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn status(&self, arn: &str) -> Result<TrailStatus, StoreError> {
        Ok(self
            .db.read()
            .query_row(
                "SELECT latest_delivery_ms, latest_delivery_attempt_ms, latest_delivery_error, latest_digest_ms, latest_digest_error FROM trail_status WHERE arn = ?1",
                [arn],
                |r| {
                    Ok(TrailStatus {
                        latest_delivery_ms: r.get(0)?,
                        latest_delivery_attempt_ms: r.get(1)?,
                        latest_delivery_error: r.get(2)?,
                        latest_digest_ms: r.get(3)?,
                        latest_digest_error: r.get(4)?,
                    })
                },
            )
            .optional()?
            .unwrap_or_default())
    }

    pub fn set_status(&self, arn: &str, s: &TrailStatus) -> Result<(), StoreError> {
        self.db.write()?.execute(
            "INSERT OR REPLACE INTO trail_status (arn, latest_delivery_ms, latest_delivery_attempt_ms, latest_delivery_error, latest_digest_ms, latest_digest_error) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![arn, s.latest_delivery_ms, s.latest_delivery_attempt_ms, s.latest_delivery_error, s.latest_digest_ms, s.latest_digest_error],
        )?;
        Ok(())
    }
}

impl SqliteTrails {
    pub fn delivery_cursor(&self) -> Result<u64, StoreError> {
        Ok(self
            .db
            .read()
            .query_row("SELECT offset FROM delivery_cursor WHERE id = 1", [], |r| {
                r.get::<_, i64>(0)
            })? as u64)
    }

    /// Records new plans and moves the delivery cursor, atomically.
    pub fn plan(&self, plans: &[DeliveryPlan], cursor: u64) -> Result<(), StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        for p in plans {
            let blob: Vec<u8> = p.offsets.iter().flat_map(|o| o.to_le_bytes()).collect();
            tx.execute(
                "INSERT INTO delivery_plans (trail_arn, region, key, offsets, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![p.trail_arn, p.region, p.key, blob, p.created_ms],
            )?;
        }
        tx.execute(
            "UPDATE delivery_cursor SET offset = ?1 WHERE id = 1",
            [cursor as i64],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Plans not yet written, oldest first.
    pub fn pending_plans(&self) -> Result<Vec<DeliveryPlan>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached("SELECT id, trail_arn, region, key, offsets, created_ms FROM delivery_plans ORDER BY id")?;
        let rows = st.query_map([], |r| {
            let blob: Vec<u8> = r.get(4)?;
            Ok(DeliveryPlan {
                id: r.get(0)?,
                trail_arn: r.get(1)?,
                region: r.get(2)?,
                key: r.get(3)?,
                offsets: blob
                    .chunks_exact(8)
                    .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
                    .collect(),
                created_ms: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn plan_done(&self, id: i64) -> Result<(), StoreError> {
        self.db
            .write()?
            .execute("DELETE FROM delivery_plans WHERE id = ?1", [id])?;
        Ok(())
    }
}

impl SqliteTrails {
    pub fn add_signing_key(&self, k: &StoredKey) -> Result<(), StoreError> {
        self.db.write()?.execute(
            "INSERT INTO signing_keys (region, fingerprint, public_der, private_sealed, valid_from_ms, valid_to_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![k.region, k.fingerprint, k.public_der, k.private_sealed, k.valid_from_ms, k.valid_to_ms],
        )?;
        Ok(())
    }

    /// A region's keys whose validity overlaps `[from, to]`, oldest first.
    pub fn signing_keys(
        &self,
        region: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<StoredKey>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT region, fingerprint, public_der, private_sealed, valid_from_ms, valid_to_ms FROM signing_keys
             WHERE region = ?1 AND valid_from_ms <= ?3 AND valid_to_ms >= ?2 ORDER BY valid_from_ms",
        )?;
        let rows = st.query_map(params![region, from_ms, to_ms], |r| {
            Ok(StoredKey {
                region: r.get(0)?,
                fingerprint: r.get(1)?,
                public_der: r.get(2)?,
                private_sealed: r.get(3)?,
                valid_from_ms: r.get(4)?,
                valid_to_ms: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl TrailStore for SqliteTrails {
    forward! {
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
