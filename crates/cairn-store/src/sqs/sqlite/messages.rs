//! SQS messages in SQLite: sending, receiving (with dead-letter moves and retention),
//! deleting and hiding by receipt handle, purging and counting.
//!
//! A receive first looks for ready messages on the reader and writes only when it found
//! some: a long poll that finds nothing must not join a group transaction, or the sends it
//! waits for could not commit until it gave up.

use rusqlite::{OptionalExtension, params};

use super::SqliteSqs;
use crate::error::StoreError;
use crate::sqs::{Counts, Message, NewMessage, QueueKey, Receive, VisibilityChange};

const MESSAGE_COLUMNS: &str = "seq, id, body, attributes, md5_body, sender_id, sent_ms, visible_ms, receive_count, first_receive_ms, receipt, source_arn";

fn row_to_message(r: &rusqlite::Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        seq: r.get(0)?,
        id: r.get(1)?,
        body: r.get(2)?,
        attributes: r.get(3)?,
        md5_body: r.get(4)?,
        sender_id: r.get(5)?,
        sent_ms: r.get(6)?,
        visible_ms: r.get(7)?,
        receive_count: r.get(8)?,
        first_receive_ms: r.get(9)?,
        receipt: r.get(10)?,
        source_arn: r.get(11)?,
    })
}

impl SqliteSqs {
    pub fn send(&self, key: &QueueKey, messages: &[NewMessage]) -> Result<(), StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        {
            let mut ins = tx.prepare_cached(
                "INSERT INTO messages (account, region, queue, id, body, attributes, md5_body, sender_id, sent_ms, visible_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            for m in messages {
                ins.execute(params![
                    key.account,
                    key.region,
                    key.name,
                    m.id,
                    m.body,
                    m.attributes,
                    m.md5_body,
                    m.sender_id,
                    m.sent_ms,
                    m.visible_ms
                ])?;
            }
        }
        tx.commit()?;
        drop(c);
        self.db.changed();
        Ok(())
    }

    /// The ready messages of a queue, oldest first, at most `limit`.
    fn ready(
        &self,
        key: &QueueKey,
        now_ms: i64,
        oldest_ms: i64,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE account = ?1 AND region = ?2 AND queue = ?3 AND visible_ms <= ?4 AND sent_ms >= ?5 ORDER BY seq LIMIT ?6"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = st.query_map(
            params![key.account, key.region, key.name, now_ms, oldest_ms, limit],
            row_to_message,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn receive(&self, key: &QueueKey, r: &Receive<'_>) -> Result<Vec<Message>, StoreError> {
        let mut got = Vec::new();
        // Dead letters moved out make room for more: look again until the batch is full or
        // nothing is ready.
        loop {
            let ready = self.ready(key, r.now_ms, r.oldest_ms, r.max - got.len())?;
            if ready.is_empty() {
                break;
            }
            let mut moved = false;
            let mut c = self.db.write()?;
            let tx = c.savepoint()?;
            // Messages past retention go while we are writing anyway.
            tx.execute(
                "DELETE FROM messages WHERE account = ?1 AND region = ?2 AND queue = ?3 AND sent_ms < ?4",
                params![key.account, key.region, key.name, r.oldest_ms],
            )?;
            for mut m in ready {
                if let Some(dl) = &r.dead_letter
                    && m.receive_count >= dl.max_receives
                {
                    tx.execute(
                        "UPDATE messages SET account = ?2, region = ?3, queue = ?4, receive_count = 0, first_receive_ms = NULL, receipt = NULL, visible_ms = ?5, source_arn = ?6 WHERE seq = ?1",
                        params![m.seq, dl.queue.account, dl.queue.region, dl.queue.name, r.now_ms, dl.source_arn],
                    )?;
                    moved = true;
                    continue;
                }
                m.receive_count += 1;
                m.first_receive_ms = Some(m.first_receive_ms.unwrap_or(r.now_ms));
                m.visible_ms = r.visible_until_ms;
                let receipt = (r.receipt)(&m);
                tx.execute(
                    "UPDATE messages SET receive_count = ?2, first_receive_ms = ?3, visible_ms = ?4, receipt = ?5 WHERE seq = ?1",
                    params![m.seq, m.receive_count, m.first_receive_ms, m.visible_ms, receipt],
                )?;
                m.receipt = Some(receipt);
                got.push(m);
            }
            tx.commit()?;
            drop(c);
            if moved {
                self.db.changed();
            }
            if !moved || got.len() >= r.max {
                break;
            }
        }
        Ok(got)
    }

    pub fn delete_message(&self, key: &QueueKey, receipt: &str) -> Result<bool, StoreError> {
        Ok(self.db.write()?.execute(
            "DELETE FROM messages WHERE account = ?1 AND region = ?2 AND queue = ?3 AND receipt = ?4",
            params![key.account, key.region, key.name, receipt],
        )? > 0)
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
            .query_row(
                "SELECT visible_ms FROM messages WHERE account = ?1 AND region = ?2 AND queue = ?3 AND receipt = ?4",
                params![key.account, key.region, key.name, receipt],
                |r| r.get(0),
            )
            .optional()?;
        match current {
            None => Ok(VisibilityChange::NoSuchReceipt),
            Some(v) if v <= now_ms => Ok(VisibilityChange::NotInFlight),
            Some(_) => {
                self.db.write()?.execute(
                    "UPDATE messages SET visible_ms = ?5 WHERE account = ?1 AND region = ?2 AND queue = ?3 AND receipt = ?4",
                    params![key.account, key.region, key.name, receipt, visible_ms],
                )?;
                // A message made visible now may be what a long poll waits for.
                self.db.changed();
                Ok(VisibilityChange::Changed)
            }
        }
    }

    pub fn purge(&self, key: &QueueKey, now_ms: i64) -> Result<u64, StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        let n = tx.execute(
            "DELETE FROM messages WHERE account = ?1 AND region = ?2 AND queue = ?3",
            params![key.account, key.region, key.name],
        )?;
        tx.execute(
            "UPDATE queues SET purged_ms = ?4 WHERE account = ?1 AND region = ?2 AND name = ?3",
            params![key.account, key.region, key.name, now_ms],
        )?;
        tx.commit()?;
        Ok(n as u64)
    }

    pub fn counts(
        &self,
        key: &QueueKey,
        now_ms: i64,
        oldest_ms: i64,
    ) -> Result<Counts, StoreError> {
        let c = self.db.read();
        let (visible, in_flight, delayed): (i64, i64, i64) = c.query_row(
            "SELECT
               COALESCE(SUM(visible_ms <= ?4), 0),
               COALESCE(SUM(visible_ms > ?4 AND receive_count > 0), 0),
               COALESCE(SUM(visible_ms > ?4 AND receive_count = 0), 0)
             FROM messages WHERE account = ?1 AND region = ?2 AND queue = ?3 AND sent_ms >= ?5",
            params![key.account, key.region, key.name, now_ms, oldest_ms],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(Counts {
            visible: n(visible),
            in_flight: n(in_flight),
            delayed: n(delayed),
        })
    }
}
