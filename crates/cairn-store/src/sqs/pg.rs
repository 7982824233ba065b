//! SQS on PostgreSQL (schema in `sql/pg/sqs_*.sql`). Every write joins the call's group
//! transaction (`crate::pg`), so a refused call leaves nothing behind; sends mark a change so
//! that this node's long polls wake at commit.
//!
//! Several nodes receive from one queue at once: a receive takes its messages with
//! `FOR UPDATE SKIP LOCKED`, so a message another node is handing out right now is passed
//! over rather than handed out twice.

use std::collections::BTreeMap;

use postgres::Row;

use crate::error::StoreError;
use crate::pg::{Migration, PgDb, backend};
use crate::sqs::{
    Counts, Message, NewMessage, Queue, QueueKey, Receive, SqsStore, VisibilityChange,
};
use crate::string_map::{map_of, map_text};

const MIGRATIONS: &[Migration] = &[Migration {
    store: "sqs",
    version: 1,
    sql: include_str!("../../sql/pg/sqs_0001.sql"),
}];

pub struct PgSqs {
    db: PgDb,
}

const QUEUE_COLUMNS: &str =
    "account, region, name, created_ms, modified_ms, attributes, tags, purged_ms";

fn row_to_queue(r: &Row) -> Queue {
    let attributes: String = r.get(5);
    let tags: String = r.get(6);
    Queue {
        key: QueueKey {
            account: r.get(0),
            region: r.get(1),
            name: r.get(2),
        },
        created_ms: r.get(3),
        modified_ms: r.get(4),
        attributes: map_of(&attributes),
        tags: map_of(&tags),
        purged_ms: r.get(7),
    }
}

const MESSAGE_COLUMNS: &str = "seq, id, body, attributes, md5_body, sender_id, sent_ms, visible_ms, receive_count, first_receive_ms, receipt, source_arn";

fn row_to_message(r: &Row) -> Message {
    Message {
        seq: r.get(0),
        id: r.get(1),
        body: r.get(2),
        attributes: r.get(3),
        md5_body: r.get(4),
        sender_id: r.get(5),
        sent_ms: r.get(6),
        visible_ms: r.get(7),
        receive_count: r.get(8),
        first_receive_ms: r.get(9),
        receipt: r.get(10),
        source_arn: r.get(11),
    }
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl PgSqs {
    /// The store in `schema` of the database at `url`.
    pub fn open(url: &str, schema: &str) -> Result<PgSqs, StoreError> {
        Ok(PgSqs {
            db: PgDb::connect(url, schema, MIGRATIONS)?,
        })
    }

    pub fn create_queue(&self, q: &Queue) -> Result<bool, StoreError> {
        let k = &q.key;
        Ok(self.db.write_with(|c| {
            c.execute(
                &format!("INSERT INTO queues ({QUEUE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING"),
                &[&k.account, &k.region, &k.name, &q.created_ms, &q.modified_ms, &map_text(&q.attributes), &map_text(&q.tags), &q.purged_ms],
            )
        })? > 0)
    }

    pub fn queue(&self, key: &QueueKey) -> Result<Option<Queue>, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt(
                &format!("SELECT {QUEUE_COLUMNS} FROM queues WHERE account = $1 AND region = $2 AND name = $3"),
                &[&key.account, &key.region, &key.name],
            )
            .map_err(backend)?
            .as_ref()
            .map(row_to_queue))
    }

    pub fn queues(&self, account: &str, region: &str) -> Result<Vec<Queue>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                &format!("SELECT {QUEUE_COLUMNS} FROM queues WHERE account = $1 AND region = $2 ORDER BY name"),
                &[&account, &region],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_queue)
            .collect())
    }

    pub fn delete_queue(&self, key: &QueueKey) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            c.execute(
                "DELETE FROM messages WHERE account = $1 AND region = $2 AND queue = $3",
                &[&key.account, &key.region, &key.name],
            )?;
            c.execute(
                "DELETE FROM queues WHERE account = $1 AND region = $2 AND name = $3",
                &[&key.account, &key.region, &key.name],
            )
        })? > 0)
    }

    pub fn set_attributes(
        &self,
        key: &QueueKey,
        attributes: &BTreeMap<String, String>,
        modified_ms: i64,
    ) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            c.execute(
                "UPDATE queues SET attributes = $4, modified_ms = $5 WHERE account = $1 AND region = $2 AND name = $3",
                &[&key.account, &key.region, &key.name, &map_text(attributes), &modified_ms],
            )
        })? > 0)
    }

    pub fn set_tags(
        &self,
        key: &QueueKey,
        tags: &BTreeMap<String, String>,
    ) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            c.execute(
                "UPDATE queues SET tags = $4 WHERE account = $1 AND region = $2 AND name = $3",
                &[&key.account, &key.region, &key.name, &map_text(tags)],
            )
        })? > 0)
    }

    pub fn send(&self, key: &QueueKey, messages: &[NewMessage]) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            let st = c.prepare(
                "INSERT INTO messages (account, region, queue, id, body, attributes, md5_body, sender_id, sent_ms, visible_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )?;
            for m in messages {
                c.execute(
                    &st,
                    &[&key.account, &key.region, &key.name, &m.id, &m.body, &m.attributes, &m.md5_body, &m.sender_id, &m.sent_ms, &m.visible_ms],
                )?;
            }
            Ok(())
        })?;
        self.db.changed();
        Ok(())
    }

    /// Whether any message is ready, on the reader: a long poll that finds nothing must not
    /// join a group transaction, or the sends it waits for could not commit until it gave up.
    fn any_ready(&self, key: &QueueKey, now_ms: i64, oldest_ms: i64) -> Result<bool, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt(
                "SELECT 1 FROM messages WHERE account = $1 AND region = $2 AND queue = $3 AND visible_ms <= $4 AND sent_ms >= $5 LIMIT 1",
                &[&key.account, &key.region, &key.name, &now_ms, &oldest_ms],
            )
            .map_err(backend)?
            .is_some())
    }

    pub fn receive(&self, key: &QueueKey, r: &Receive<'_>) -> Result<Vec<Message>, StoreError> {
        let mut got = Vec::new();
        // Dead letters moved out make room for more: look again until the batch is full or
        // nothing is ready.
        loop {
            if !self.any_ready(key, r.now_ms, r.oldest_ms)? {
                break;
            }
            let want = to_i64(r.max - got.len());
            let (taken, moved) = self.db.write_with(|c| {
                // Messages past retention go while we are writing anyway.
                c.execute(
                    "DELETE FROM messages WHERE account = $1 AND region = $2 AND queue = $3 AND sent_ms < $4",
                    &[&key.account, &key.region, &key.name, &r.oldest_ms],
                )?;
                let ready: Vec<Message> = c
                    .query(
                        &format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE account = $1 AND region = $2 AND queue = $3 AND visible_ms <= $4 AND sent_ms >= $5 ORDER BY seq LIMIT $6 FOR UPDATE SKIP LOCKED"),
                        &[&key.account, &key.region, &key.name, &r.now_ms, &r.oldest_ms, &want],
                    )?
                    .iter()
                    .map(row_to_message)
                    .collect();
                let mut taken = Vec::new();
                let mut moved = false;
                for mut m in ready {
                    if let Some(dl) = &r.dead_letter
                        && m.receive_count >= dl.max_receives
                    {
                        c.execute(
                            "UPDATE messages SET account = $2, region = $3, queue = $4, receive_count = 0, first_receive_ms = NULL, receipt = NULL, visible_ms = $5, source_arn = $6 WHERE seq = $1",
                            &[&m.seq, &dl.queue.account, &dl.queue.region, &dl.queue.name, &r.now_ms, &dl.source_arn],
                        )?;
                        moved = true;
                        continue;
                    }
                    m.receive_count += 1;
                    m.first_receive_ms = Some(m.first_receive_ms.unwrap_or(r.now_ms));
                    m.visible_ms = r.visible_until_ms;
                    let receipt = (r.receipt)(&m);
                    c.execute(
                        "UPDATE messages SET receive_count = $2, first_receive_ms = $3, visible_ms = $4, receipt = $5 WHERE seq = $1",
                        &[&m.seq, &m.receive_count, &m.first_receive_ms, &m.visible_ms, &receipt],
                    )?;
                    m.receipt = Some(receipt);
                    taken.push(m);
                }
                Ok((taken, moved))
            })?;
            got.extend(taken);
            if moved {
                self.db.changed();
            }
            // Without dead letters moved out there is nothing more to look for (if nothing was
            // taken though some were ready, other receivers hold them right now).
            if !moved || got.len() >= r.max {
                break;
            }
        }
        Ok(got)
    }

    pub fn delete_message(&self, key: &QueueKey, receipt: &str) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            c.execute(
                "DELETE FROM messages WHERE account = $1 AND region = $2 AND queue = $3 AND receipt = $4",
                &[&key.account, &key.region, &key.name, &receipt],
            )
        })? > 0)
    }

    pub fn change_visibility(
        &self,
        key: &QueueKey,
        receipt: &str,
        now_ms: i64,
        visible_ms: i64,
    ) -> Result<VisibilityChange, StoreError> {
        let current: Option<i64> = self
            .db
            .read()
            .query_opt(
                "SELECT visible_ms FROM messages WHERE account = $1 AND region = $2 AND queue = $3 AND receipt = $4",
                &[&key.account, &key.region, &key.name, &receipt],
            )
            .map_err(backend)?
            .map(|r| r.get(0));
        match current {
            None => Ok(VisibilityChange::NoSuchReceipt),
            Some(v) if v <= now_ms => Ok(VisibilityChange::NotInFlight),
            Some(_) => {
                self.db.write_with(|c| {
                    c.execute(
                        "UPDATE messages SET visible_ms = $5 WHERE account = $1 AND region = $2 AND queue = $3 AND receipt = $4",
                        &[&key.account, &key.region, &key.name, &receipt, &visible_ms],
                    )
                })?;
                // A message made visible now may be what a long poll waits for.
                self.db.changed();
                Ok(VisibilityChange::Changed)
            }
        }
    }

    pub fn purge(&self, key: &QueueKey, now_ms: i64) -> Result<u64, StoreError> {
        self.db.write_with(|c| {
            let n = c.execute(
                "DELETE FROM messages WHERE account = $1 AND region = $2 AND queue = $3",
                &[&key.account, &key.region, &key.name],
            )?;
            c.execute(
                "UPDATE queues SET purged_ms = $4 WHERE account = $1 AND region = $2 AND name = $3",
                &[&key.account, &key.region, &key.name, &now_ms],
            )?;
            Ok(n)
        })
    }

    pub fn counts(
        &self,
        key: &QueueKey,
        now_ms: i64,
        oldest_ms: i64,
    ) -> Result<Counts, StoreError> {
        let row = self
            .db
            .read()
            .query_one(
                "SELECT
                   COUNT(*) FILTER (WHERE visible_ms <= $4),
                   COUNT(*) FILTER (WHERE visible_ms > $4 AND receive_count > 0),
                   COUNT(*) FILTER (WHERE visible_ms > $4 AND receive_count = 0)
                 FROM messages WHERE account = $1 AND region = $2 AND queue = $3 AND sent_ms >= $5",
                &[&key.account, &key.region, &key.name, &now_ms, &oldest_ms],
            )
            .map_err(backend)?;
        let n = |i: usize| u64::try_from(row.get::<_, i64>(i)).unwrap_or(0);
        Ok(Counts {
            visible: n(0),
            in_flight: n(1),
            delayed: n(2),
        })
    }

    pub fn generation(&self) -> u64 {
        self.db.generation()
    }
}

impl SqsStore for PgSqs {
    forward! {
        blocking:
        fn create_queue(&self, q: &Queue) -> Result<bool, StoreError>;
        fn queue(&self, key: &QueueKey) -> Result<Option<Queue>, StoreError>;
        fn queues(&self, account: &str, region: &str) -> Result<Vec<Queue>, StoreError>;
        fn delete_queue(&self, key: &QueueKey) -> Result<bool, StoreError>;
        fn set_attributes(&self, key: &QueueKey, attributes: &BTreeMap<String, String>, modified_ms: i64) -> Result<bool, StoreError>;
        fn set_tags(&self, key: &QueueKey, tags: &BTreeMap<String, String>) -> Result<bool, StoreError>;
        fn send(&self, key: &QueueKey, messages: &[NewMessage]) -> Result<(), StoreError>;
        fn receive(&self, key: &QueueKey, r: &Receive<'_>) -> Result<Vec<Message>, StoreError>;
        fn delete_message(&self, key: &QueueKey, receipt: &str) -> Result<bool, StoreError>;
        fn change_visibility(&self, key: &QueueKey, receipt: &str, now_ms: i64, visible_ms: i64) -> Result<VisibilityChange, StoreError>;
        fn purge(&self, key: &QueueKey, now_ms: i64) -> Result<u64, StoreError>;
        fn counts(&self, key: &QueueKey, now_ms: i64, oldest_ms: i64) -> Result<Counts, StoreError>;
        fn generation(&self) -> u64;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeSet;

    use super::*;
    use crate::suite::pg::TestPostgres;

    /// Two nodes receiving from one queue at once hand every message out once.
    #[test]
    fn nodes_receiving_from_one_queue_hand_each_message_out_once() {
        let server = TestPostgres::start();
        let key = QueueKey::new("111122223333", "us-east-1", "work");
        let first = PgSqs::open(&server.url(), "sqs_nodes").unwrap();
        first
            .create_queue(&Queue {
                key: key.clone(),
                created_ms: 0,
                modified_ms: 0,
                attributes: BTreeMap::new(),
                tags: BTreeMap::new(),
                purged_ms: None,
            })
            .unwrap();
        let messages: Vec<NewMessage> = (0..300)
            .map(|i| NewMessage {
                id: format!("m{i:03}"),
                body: format!("body {i}"),
                attributes: "{}".into(),
                md5_body: "0".repeat(32),
                sender_id: "111122223333".into(),
                sent_ms: 0,
                visible_ms: 0,
            })
            .collect();
        first.send(&key, &messages).unwrap();
        drop(first);
        let receivers: Vec<_> = (0..4)
            .map(|_| {
                let node = PgSqs::open(&server.url(), "sqs_nodes").unwrap();
                let key = key.clone();
                std::thread::spawn(move || {
                    let handle = |m: &Message| format!("{}-{}", m.id, m.receive_count);
                    let mut got = Vec::new();
                    loop {
                        let batch = node
                            .receive(
                                &key,
                                &Receive {
                                    now_ms: 1,
                                    oldest_ms: 0,
                                    max: 10,
                                    visible_until_ms: 1_000_000,
                                    receipt: &handle,
                                    dead_letter: None,
                                },
                            )
                            .unwrap();
                        if batch.is_empty() {
                            return got;
                        }
                        got.extend(batch.into_iter().map(|m| m.id));
                    }
                })
            })
            .collect();
        let mut all = Vec::new();
        for r in receivers {
            all.extend(r.join().unwrap());
        }
        assert_eq!(all.len(), 300, "no message handed out twice");
        assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), 300);
    }
}
