//! SNS in SQLite (`sns.db`, schema in `sql/sns.sql`). Every write joins the call's group
//! transaction ([`Db::write`]), so a refused call leaves nothing behind and an answered
//! Publish has its outbox rows committed; the delivery worker's writes (outside any call)
//! commit at once.

use std::path::Path;

use rusqlite::{OptionalExtension, params};

use super::{Delivery, NewDelivery, SigningCert, SnsStore, Subscription, Topic};
use crate::db::Db;
use crate::error::StoreError;
use crate::string_map::{map_of, map_text};

const SCHEMA: &str = include_str!("../../sql/sns.sql");

pub struct SqliteSns {
    db: Db,
}

const TOPIC_COLUMNS: &str =
    "arn, account, region, name, created_ms, attributes, tags, subscriptions_deleted";

fn row_to_topic(r: &rusqlite::Row<'_>) -> rusqlite::Result<Topic> {
    let attributes: String = r.get(5)?;
    let tags: String = r.get(6)?;
    Ok(Topic {
        arn: r.get(0)?,
        account: r.get(1)?,
        region: r.get(2)?,
        name: r.get(3)?,
        created_ms: r.get(4)?,
        attributes: map_of(&attributes),
        tags: map_of(&tags),
        subscriptions_deleted: r.get(7)?,
    })
}

const SUB_COLUMNS: &str =
    "arn, topic_arn, owner, protocol, endpoint, confirmed, token, attributes, created_ms";

fn row_to_sub(r: &rusqlite::Row<'_>) -> rusqlite::Result<Subscription> {
    let attributes: String = r.get(7)?;
    Ok(Subscription {
        arn: r.get(0)?,
        topic_arn: r.get(1)?,
        owner: r.get(2)?,
        protocol: r.get(3)?,
        endpoint: r.get(4)?,
        confirmed: r.get(5)?,
        token: r.get(6)?,
        attributes: map_of(&attributes),
        created_ms: r.get(8)?,
    })
}

const DELIVERY_COLUMNS: &str =
    "id, subscription_arn, topic_arn, payload, attempts, next_ms, created_ms";

fn row_to_delivery(r: &rusqlite::Row<'_>) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        id: r.get(0)?,
        subscription_arn: r.get(1)?,
        topic_arn: r.get(2)?,
        payload: r.get(3)?,
        attempts: r.get(4)?,
        next_ms: r.get(5)?,
        created_ms: r.get(6)?,
    })
}

impl SqliteSns {
    pub fn open(path: &Path) -> Result<SqliteSns, StoreError> {
        Ok(SqliteSns {
            db: Db::open(path, SCHEMA)?,
        })
    }

    pub fn create_topic(&self, t: &Topic) -> Result<bool, StoreError> {
        Ok(self.db.write()?.execute(
            "INSERT OR IGNORE INTO topics (arn, account, region, name, created_ms, attributes, tags, subscriptions_deleted) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![t.arn, t.account, t.region, t.name, t.created_ms, map_text(&t.attributes), map_text(&t.tags), t.subscriptions_deleted],
        )? > 0)
    }

    pub fn topic(&self, arn: &str) -> Result<Option<Topic>, StoreError> {
        Ok(self
            .db
            .read()
            .query_row(
                &format!("SELECT {TOPIC_COLUMNS} FROM topics WHERE arn = ?1"),
                [arn],
                row_to_topic,
            )
            .optional()?)
    }

    pub fn topics(&self, account: &str, region: &str) -> Result<Vec<Topic>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {TOPIC_COLUMNS} FROM topics WHERE account = ?1 AND region = ?2 ORDER BY arn"
        ))?;
        let rows = st.query_map([account, region], row_to_topic)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn update_topic(&self, t: &Topic) -> Result<bool, StoreError> {
        Ok(self.db.write()?.execute(
            "UPDATE topics SET attributes = ?2, tags = ?3, subscriptions_deleted = ?4 WHERE arn = ?1",
            params![t.arn, map_text(&t.attributes), map_text(&t.tags), t.subscriptions_deleted],
        )? > 0)
    }

    pub fn delete_topic(&self, arn: &str) -> Result<bool, StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        tx.execute("DELETE FROM outbox WHERE topic_arn = ?1", [arn])?;
        tx.execute("DELETE FROM subscriptions WHERE topic_arn = ?1", [arn])?;
        let n = tx.execute("DELETE FROM topics WHERE arn = ?1", [arn])?;
        tx.commit()?;
        Ok(n > 0)
    }

    pub fn put_subscription(&self, s: &Subscription) -> Result<(), StoreError> {
        self.db.write()?.execute(
            "INSERT OR REPLACE INTO subscriptions (arn, topic_arn, owner, protocol, endpoint, confirmed, token, attributes, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![s.arn, s.topic_arn, s.owner, s.protocol, s.endpoint, s.confirmed, s.token, map_text(&s.attributes), s.created_ms],
        )?;
        Ok(())
    }

    pub fn subscription(&self, arn: &str) -> Result<Option<Subscription>, StoreError> {
        Ok(self
            .db
            .read()
            .query_row(
                &format!("SELECT {SUB_COLUMNS} FROM subscriptions WHERE arn = ?1"),
                [arn],
                row_to_sub,
            )
            .optional()?)
    }

    pub fn subscriptions_of(&self, topic_arn: &str) -> Result<Vec<Subscription>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {SUB_COLUMNS} FROM subscriptions WHERE topic_arn = ?1 ORDER BY created_ms, arn"
        ))?;
        let rows = st.query_map([topic_arn], row_to_sub)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn subscriptions_in(
        &self,
        account: &str,
        region: &str,
    ) -> Result<Vec<Subscription>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {} FROM subscriptions s JOIN topics t ON t.arn = s.topic_arn WHERE t.account = ?1 AND t.region = ?2 ORDER BY s.created_ms, s.arn",
            SUB_COLUMNS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ")
        ))?;
        let rows = st.query_map([account, region], row_to_sub)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn delete_subscription(&self, arn: &str) -> Result<bool, StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        tx.execute("DELETE FROM outbox WHERE subscription_arn = ?1", [arn])?;
        let topic: Option<String> = tx
            .query_row(
                "SELECT topic_arn FROM subscriptions WHERE arn = ?1",
                [arn],
                |r| r.get(0),
            )
            .optional()?;
        let n = tx.execute("DELETE FROM subscriptions WHERE arn = ?1", [arn])?;
        if let Some(topic) = topic {
            tx.execute(
                "UPDATE topics SET subscriptions_deleted = subscriptions_deleted + 1 WHERE arn = ?1",
                [topic],
            )?;
        }
        tx.commit()?;
        Ok(n > 0)
    }

    pub fn enqueue(&self, deliveries: &[NewDelivery], now_ms: i64) -> Result<(), StoreError> {
        if deliveries.is_empty() {
            return Ok(());
        }
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO outbox (subscription_arn, topic_arn, payload, attempts, next_ms, created_ms) VALUES (?1, ?2, ?3, 0, ?4, ?5)",
            )?;
            for d in deliveries {
                st.execute(params![
                    d.subscription_arn,
                    d.topic_arn,
                    d.payload,
                    d.due_ms,
                    now_ms
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM outbox WHERE next_ms <= ?1 ORDER BY next_ms, id LIMIT ?2"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = st.query_map(params![now_ms, limit], row_to_delivery)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn pending(&self) -> Result<Vec<Delivery>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM outbox ORDER BY id"
        ))?;
        let rows = st.query_map([], row_to_delivery)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn retry_later(&self, id: i64, attempts: i64, next_ms: i64) -> Result<(), StoreError> {
        self.db.write()?.execute(
            "UPDATE outbox SET attempts = ?2, next_ms = ?3 WHERE id = ?1",
            params![id, attempts, next_ms],
        )?;
        Ok(())
    }

    pub fn finish(&self, id: i64) -> Result<(), StoreError> {
        self.db
            .write()?
            .execute("DELETE FROM outbox WHERE id = ?1", [id])?;
        Ok(())
    }

    pub fn signing_cert(&self) -> Result<Option<SigningCert>, StoreError> {
        Ok(self
            .db
            .read()
            .query_row(
                "SELECT key_pem, cert_pem FROM signing WHERE id = 1",
                [],
                |r| {
                    Ok(SigningCert {
                        key_pem: r.get(0)?,
                        cert_pem: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    pub fn keep_signing_cert(&self, c: &SigningCert) -> Result<SigningCert, StoreError> {
        {
            let w = self.db.write()?;
            w.execute(
                "INSERT OR IGNORE INTO signing (id, key_pem, cert_pem) VALUES (1, ?1, ?2)",
                params![c.key_pem, c.cert_pem],
            )?;
        }
        // Outside a call the write has committed; inside one, the writer sees its own row.
        Ok(self.signing_cert()?.unwrap_or_else(|| c.clone()))
    }
}

impl SnsStore for SqliteSns {
    forward! {
        fn create_topic(&self, t: &Topic) -> Result<bool, StoreError>;
        fn topic(&self, arn: &str) -> Result<Option<Topic>, StoreError>;
        fn topics(&self, account: &str, region: &str) -> Result<Vec<Topic>, StoreError>;
        fn update_topic(&self, t: &Topic) -> Result<bool, StoreError>;
        fn delete_topic(&self, arn: &str) -> Result<bool, StoreError>;
        fn put_subscription(&self, s: &Subscription) -> Result<(), StoreError>;
        fn subscription(&self, arn: &str) -> Result<Option<Subscription>, StoreError>;
        fn subscriptions_of(&self, topic_arn: &str) -> Result<Vec<Subscription>, StoreError>;
        fn subscriptions_in(&self, account: &str, region: &str) -> Result<Vec<Subscription>, StoreError>;
        fn delete_subscription(&self, arn: &str) -> Result<bool, StoreError>;
        fn enqueue(&self, deliveries: &[NewDelivery], now_ms: i64) -> Result<(), StoreError>;
        fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<Delivery>, StoreError>;
        fn pending(&self) -> Result<Vec<Delivery>, StoreError>;
        fn retry_later(&self, id: i64, attempts: i64, next_ms: i64) -> Result<(), StoreError>;
        fn finish(&self, id: i64) -> Result<(), StoreError>;
        fn signing_cert(&self) -> Result<Option<SigningCert>, StoreError>;
        fn keep_signing_cert(&self, c: &SigningCert) -> Result<SigningCert, StoreError>;
    }
}
