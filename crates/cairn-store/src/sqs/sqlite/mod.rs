//! SQS in SQLite (`sqs.db`, schema in `sql/sqs.sql`): queues here, messages in `messages.rs`.
//! Every write joins the call's group transaction ([`Db::write`]), so a refused call leaves
//! nothing behind; sends mark a change ([`Db::changed`]) so that long polls wake at commit.

mod messages;

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{OptionalExtension, params};

use crate::db::Db;
use crate::error::StoreError;
use crate::sqs::{
    Counts, Message, NewMessage, Queue, QueueKey, Receive, SqsStore, VisibilityChange,
};
use crate::string_map::{map_of, map_text};

const SCHEMA: &str = include_str!("../../../sql/sqs.sql");

pub struct SqliteSqs {
    db: Db,
}

const QUEUE_COLUMNS: &str =
    "account, region, name, created_ms, modified_ms, attributes, tags, purged_ms";

fn row_to_queue(r: &rusqlite::Row<'_>) -> rusqlite::Result<Queue> {
    let attributes: String = r.get(5)?;
    let tags: String = r.get(6)?;
    Ok(Queue {
        key: QueueKey {
            account: r.get(0)?,
            region: r.get(1)?,
            name: r.get(2)?,
        },
        created_ms: r.get(3)?,
        modified_ms: r.get(4)?,
        attributes: map_of(&attributes),
        tags: map_of(&tags),
        purged_ms: r.get(7)?,
    })
}

impl SqliteSqs {
    pub fn open(path: &Path) -> Result<SqliteSqs, StoreError> {
        Ok(SqliteSqs {
            db: Db::open(path, SCHEMA)?,
        })
    }

    pub fn create_queue(&self, q: &Queue) -> Result<bool, StoreError> {
        let k = &q.key;
        Ok(self.db.write()?.execute(
            "INSERT OR IGNORE INTO queues (account, region, name, created_ms, modified_ms, attributes, tags, purged_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![k.account, k.region, k.name, q.created_ms, q.modified_ms, map_text(&q.attributes), map_text(&q.tags), q.purged_ms],
        )? > 0)
    }

    pub fn queue(&self, key: &QueueKey) -> Result<Option<Queue>, StoreError> {
        Ok(self
            .db
            .read()
            .query_row(
                &format!("SELECT {QUEUE_COLUMNS} FROM queues WHERE account = ?1 AND region = ?2 AND name = ?3"),
                [&key.account, &key.region, &key.name],
                row_to_queue,
            )
            .optional()?)
    }

    pub fn queues(&self, account: &str, region: &str) -> Result<Vec<Queue>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {QUEUE_COLUMNS} FROM queues WHERE account = ?1 AND region = ?2 ORDER BY name"
        ))?;
        let rows = st.query_map([account, region], row_to_queue)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn delete_queue(&self, key: &QueueKey) -> Result<bool, StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        let args = [&key.account, &key.region, &key.name];
        tx.execute(
            "DELETE FROM messages WHERE account = ?1 AND region = ?2 AND queue = ?3",
            args,
        )?;
        let n = tx.execute(
            "DELETE FROM queues WHERE account = ?1 AND region = ?2 AND name = ?3",
            args,
        )?;
        tx.commit()?;
        Ok(n > 0)
    }

    pub fn set_attributes(
        &self,
        key: &QueueKey,
        attributes: &BTreeMap<String, String>,
        modified_ms: i64,
    ) -> Result<bool, StoreError> {
        Ok(self.db.write()?.execute(
            "UPDATE queues SET attributes = ?4, modified_ms = ?5 WHERE account = ?1 AND region = ?2 AND name = ?3",
            params![key.account, key.region, key.name, map_text(attributes), modified_ms],
        )? > 0)
    }

    pub fn set_tags(
        &self,
        key: &QueueKey,
        tags: &BTreeMap<String, String>,
    ) -> Result<bool, StoreError> {
        Ok(self.db.write()?.execute(
            "UPDATE queues SET tags = ?4 WHERE account = ?1 AND region = ?2 AND name = ?3",
            params![key.account, key.region, key.name, map_text(tags)],
        )? > 0)
    }

    pub fn generation(&self) -> u64 {
        self.db.generation()
    }
}

impl SqsStore for SqliteSqs {
    forward! {
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
