//! SNS on PostgreSQL (schema in `sql/pg/sns_*.sql`). Every write joins the call's group
//! transaction (`crate::pg`), so a refused call leaves nothing behind and an answered Publish
//! has its outbox rows committed; the delivery worker's writes (outside any call) commit at
//! once.

use postgres::Row;

use super::{Delivery, NewDelivery, SigningCert, SnsStore, Subscription, Topic};
use crate::error::StoreError;
use crate::pg::{Migration, PgDb, backend};
use crate::string_map::{map_of, map_text};

const MIGRATIONS: &[Migration] = &[Migration {
    store: "sns",
    version: 1,
    sql: include_str!("../../sql/pg/sns_0001.sql"),
}];

pub struct PgSns {
    db: PgDb,
}

const TOPIC_COLUMNS: &str =
    "arn, account, region, name, created_ms, attributes, tags, subscriptions_deleted";

fn row_to_topic(r: &Row) -> Topic {
    let attributes: String = r.get(5);
    let tags: String = r.get(6);
    Topic {
        arn: r.get(0),
        account: r.get(1),
        region: r.get(2),
        name: r.get(3),
        created_ms: r.get(4),
        attributes: map_of(&attributes),
        tags: map_of(&tags),
        subscriptions_deleted: r.get(7),
    }
}

const SUB_COLUMNS: &str =
    "arn, topic_arn, owner, protocol, endpoint, confirmed, token, attributes, created_ms";

fn row_to_sub(r: &Row) -> Subscription {
    let attributes: String = r.get(7);
    Subscription {
        arn: r.get(0),
        topic_arn: r.get(1),
        owner: r.get(2),
        protocol: r.get(3),
        endpoint: r.get(4),
        confirmed: r.get(5),
        token: r.get(6),
        attributes: map_of(&attributes),
        created_ms: r.get(8),
    }
}

const DELIVERY_COLUMNS: &str =
    "id, subscription_arn, topic_arn, payload, attempts, next_ms, created_ms";

fn row_to_delivery(r: &Row) -> Delivery {
    Delivery {
        id: r.get(0),
        subscription_arn: r.get(1),
        topic_arn: r.get(2),
        payload: r.get(3),
        attempts: r.get(4),
        next_ms: r.get(5),
        created_ms: r.get(6),
    }
}

impl PgSns {
    /// The store in `schema` of the database at `url`.
    pub fn open(url: &str, schema: &str) -> Result<PgSns, StoreError> {
        Ok(PgSns {
            db: PgDb::connect(url, schema, MIGRATIONS)?,
        })
    }

    pub fn create_topic(&self, t: &Topic) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            c.execute(
                &format!("INSERT INTO topics ({TOPIC_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING"),
                &[&t.arn, &t.account, &t.region, &t.name, &t.created_ms, &map_text(&t.attributes), &map_text(&t.tags), &t.subscriptions_deleted],
            )
        })? > 0)
    }

    pub fn topic(&self, arn: &str) -> Result<Option<Topic>, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt(
                &format!("SELECT {TOPIC_COLUMNS} FROM topics WHERE arn = $1"),
                &[&arn],
            )
            .map_err(backend)?
            .as_ref()
            .map(row_to_topic))
    }

    pub fn topics(&self, account: &str, region: &str) -> Result<Vec<Topic>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                &format!("SELECT {TOPIC_COLUMNS} FROM topics WHERE account = $1 AND region = $2 ORDER BY arn"),
                &[&account, &region],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_topic)
            .collect())
    }

    pub fn update_topic(&self, t: &Topic) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            c.execute(
                "UPDATE topics SET attributes = $2, tags = $3, subscriptions_deleted = $4 WHERE arn = $1",
                &[&t.arn, &map_text(&t.attributes), &map_text(&t.tags), &t.subscriptions_deleted],
            )
        })? > 0)
    }

    pub fn delete_topic(&self, arn: &str) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            c.execute("DELETE FROM outbox WHERE topic_arn = $1", &[&arn])?;
            c.execute("DELETE FROM subscriptions WHERE topic_arn = $1", &[&arn])?;
            c.execute("DELETE FROM topics WHERE arn = $1", &[&arn])
        })? > 0)
    }

    pub fn put_subscription(&self, s: &Subscription) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            c.execute(
                &format!("INSERT INTO subscriptions ({SUB_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (arn) DO UPDATE SET topic_arn = EXCLUDED.topic_arn, owner = EXCLUDED.owner,
                   protocol = EXCLUDED.protocol, endpoint = EXCLUDED.endpoint, confirmed = EXCLUDED.confirmed,
                   token = EXCLUDED.token, attributes = EXCLUDED.attributes, created_ms = EXCLUDED.created_ms"),
                &[&s.arn, &s.topic_arn, &s.owner, &s.protocol, &s.endpoint, &s.confirmed, &s.token, &map_text(&s.attributes), &s.created_ms],
            )
        })?;
        Ok(())
    }

    pub fn subscription(&self, arn: &str) -> Result<Option<Subscription>, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt(
                &format!("SELECT {SUB_COLUMNS} FROM subscriptions WHERE arn = $1"),
                &[&arn],
            )
            .map_err(backend)?
            .as_ref()
            .map(row_to_sub))
    }

    pub fn subscriptions_of(&self, topic_arn: &str) -> Result<Vec<Subscription>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                &format!("SELECT {SUB_COLUMNS} FROM subscriptions WHERE topic_arn = $1 ORDER BY created_ms, arn"),
                &[&topic_arn],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_sub)
            .collect())
    }

    pub fn subscriptions_in(
        &self,
        account: &str,
        region: &str,
    ) -> Result<Vec<Subscription>, StoreError> {
        let columns = SUB_COLUMNS
            .split(", ")
            .map(|c| format!("s.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        Ok(self
            .db
            .read()
            .query(
                &format!("SELECT {columns} FROM subscriptions s JOIN topics t ON t.arn = s.topic_arn WHERE t.account = $1 AND t.region = $2 ORDER BY s.created_ms, s.arn"),
                &[&account, &region],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_sub)
            .collect())
    }

    pub fn delete_subscription(&self, arn: &str) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            c.execute("DELETE FROM outbox WHERE subscription_arn = $1", &[&arn])?;
            let topic: Option<String> = c
                .query_opt("SELECT topic_arn FROM subscriptions WHERE arn = $1", &[&arn])?
                .map(|r| r.get(0));
            let n = c.execute("DELETE FROM subscriptions WHERE arn = $1", &[&arn])?;
            if let Some(topic) = topic {
                c.execute(
                    "UPDATE topics SET subscriptions_deleted = subscriptions_deleted + 1 WHERE arn = $1",
                    &[&topic],
                )?;
            }
            Ok(n)
        })? > 0)
    }

    pub fn enqueue(&self, deliveries: &[NewDelivery], now_ms: i64) -> Result<(), StoreError> {
        if deliveries.is_empty() {
            return Ok(());
        }
        self.db.write_with(|c| {
            let st = c.prepare(
                "INSERT INTO outbox (subscription_arn, topic_arn, payload, attempts, next_ms, created_ms) VALUES ($1, $2, $3, 0, $4, $5)",
            )?;
            for d in deliveries {
                c.execute(
                    &st,
                    &[&d.subscription_arn, &d.topic_arn, &d.payload, &d.due_ms, &now_ms],
                )?;
            }
            Ok(())
        })
    }

    pub fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(self
            .db
            .read()
            .query(
                &format!("SELECT {DELIVERY_COLUMNS} FROM outbox WHERE next_ms <= $1 ORDER BY next_ms, id LIMIT $2"),
                &[&now_ms, &limit],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_delivery)
            .collect())
    }

    pub fn pending(&self) -> Result<Vec<Delivery>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                &format!("SELECT {DELIVERY_COLUMNS} FROM outbox ORDER BY id"),
                &[],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_delivery)
            .collect())
    }

    pub fn retry_later(&self, id: i64, attempts: i64, next_ms: i64) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            c.execute(
                "UPDATE outbox SET attempts = $2, next_ms = $3 WHERE id = $1",
                &[&id, &attempts, &next_ms],
            )
        })?;
        Ok(())
    }

    pub fn finish(&self, id: i64) -> Result<(), StoreError> {
        self.db
            .write_with(|c| c.execute("DELETE FROM outbox WHERE id = $1", &[&id]))?;
        Ok(())
    }

    pub fn signing_cert(&self) -> Result<Option<SigningCert>, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt("SELECT key_pem, cert_pem FROM signing WHERE id = 1", &[])
            .map_err(backend)?
            .map(|r| SigningCert {
                key_pem: r.get(0),
                cert_pem: r.get(1),
            }))
    }

    /// Keeps `c` unless a certificate is kept already (another node's, made at the same
    /// time): every node signs with the one that won.
    pub fn keep_signing_cert(&self, c: &SigningCert) -> Result<SigningCert, StoreError> {
        let kept = self.db.write_with(|w| {
            w.execute(
                "INSERT INTO signing (id, key_pem, cert_pem) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING",
                &[&c.key_pem, &c.cert_pem],
            )?;
            // Inside a call the writer sees its own row; outside, it has committed.
            w.query_opt("SELECT key_pem, cert_pem FROM signing WHERE id = 1", &[])
        })?;
        Ok(kept
            .map(|r| SigningCert {
                key_pem: r.get(0),
                cert_pem: r.get(1),
            })
            .unwrap_or_else(|| c.clone()))
    }
}

impl SnsStore for PgSns {
    forward! {
        blocking:
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
