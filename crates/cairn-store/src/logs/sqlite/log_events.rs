//! Log events in SQLite, a PutLogEvents batch per row (`batch.rs` packs it): appending a batch
//! (and moving its stream's times on), reading a window of a group's events in (timestamp, id)
//! order from a position, expiry, and converting the first layout (a row per event).
//!
//! A read walks the group's batches that overlap its window in the order it reads (by their
//! earliest or latest timestamp) and stops once no further batch can hold an event before the
//! last one it keeps: the latest 100 events of a large group read a few batches, not all.

use rusqlite::{OptionalExtension, params};

use super::SqliteLogs;
use crate::error::StoreError;
use crate::logs::batch;
use crate::logs::{EventQuery, GroupKey, LogEvent, LogStream, NewEvent, Position, Streams};

/// A batch's row without its events.
struct Meta {
    id: i64,
    stream: String,
    first_id: i64,
    min_ts: i64,
    max_ts: i64,
    ingestion_ms: i64,
}

fn stream_matches(streams: &Streams, name: &str) -> bool {
    match streams {
        Streams::All => true,
        Streams::Named(names) => names.iter().any(|n| n == name),
        Streams::Prefix(p) => name.starts_with(p.as_str()),
    }
}

impl SqliteLogs {
    pub fn put_events(
        &self,
        key: &GroupKey,
        stream: &str,
        events: &[NewEvent],
        ingestion_ms: i64,
    ) -> Result<LogStream, StoreError> {
        {
            let mut c = self.db.write()?;
            let tx = c.savepoint()?;
            let first = events.iter().map(|e| e.timestamp).min();
            let last = events.iter().map(|e| e.timestamp).max();
            if let (Some(min_ts), Some(max_ts)) = (first, last) {
                let first_id: i64 =
                    tx.query_row("SELECT next FROM log_event_ids WHERE id = 1", [], |r| {
                        r.get(0)
                    })?;
                let count = events.len() as i64;
                tx.execute(
                    "UPDATE log_event_ids SET next = ?1 WHERE id = 1",
                    [first_id + count],
                )?;
                tx.prepare_cached(
                    "INSERT INTO log_batches (account, region, grp, stream, first_id, count, min_ts, max_ts, ingestion_ms, events)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )?
                .execute(params![
                    key.account,
                    key.region,
                    key.name,
                    stream,
                    first_id,
                    count,
                    min_ts,
                    max_ts,
                    ingestion_ms,
                    batch::pack(events)
                ])?;
            }
            // A batch with nothing accepted still counts as an upload (its token moves on),
            // but leaves the stream's event times alone.
            tx.execute(
                "UPDATE log_streams SET
                   first_event_ms = CASE WHEN ?5 IS NULL THEN first_event_ms ELSE MIN(COALESCE(first_event_ms, ?5), ?5) END,
                   last_event_ms = CASE WHEN ?6 IS NULL THEN last_event_ms ELSE MAX(COALESCE(last_event_ms, ?6), ?6) END,
                   last_ingestion_ms = CASE WHEN ?6 IS NULL THEN last_ingestion_ms ELSE ?7 END,
                   uploads = uploads + 1
                 WHERE account = ?1 AND region = ?2 AND grp = ?3 AND name = ?4",
                params![key.account, key.region, key.name, stream, first, last, ingestion_ms],
            )?;
            tx.commit()?;
        }
        self.stream(key, stream)?
            .ok_or_else(|| StoreError::Invalid(format!("no log stream {stream}")))
    }

    pub fn events(&self, key: &GroupKey, q: &EventQuery) -> Result<Vec<LogEvent>, StoreError> {
        let mut start = q.start.unwrap_or(i64::MIN);
        let mut end = q.end.unwrap_or(i64::MAX);
        // Batches wholly on the far side of the position hold nothing to read: narrow the
        // window to it (events at the position's own timestamp are sorted out by id below).
        let (lo, hi) = match q.from {
            Some(f) if q.descending => (start, end.min(f.timestamp.saturating_add(1))),
            Some(f) => (start.max(f.timestamp), end),
            None => (start, end),
        };
        let (window_start, window_end) = (start, end);
        start = lo;
        end = hi;
        let c = self.db.read();
        let order = if q.descending {
            "max_ts DESC, id DESC"
        } else {
            "min_ts, id"
        };
        let mut st = c.prepare_cached(&format!(
            "SELECT id, stream, first_id, min_ts, max_ts, ingestion_ms FROM log_batches
             WHERE account = ?1 AND region = ?2 AND grp = ?3 AND max_ts >= ?4 AND min_ts < ?5
             ORDER BY {order}"
        ))?;
        let metas: Vec<Meta> = st
            .query_map(
                params![key.account, key.region, key.name, start, end],
                |r| {
                    Ok(Meta {
                        id: r.get(0)?,
                        stream: r.get(1)?,
                        first_id: r.get(2)?,
                        min_ts: r.get(3)?,
                        max_ts: r.get(4)?,
                        ingestion_ms: r.get(5)?,
                    })
                },
            )?
            .collect::<Result<_, _>>()?;
        let mut blob_of = c.prepare_cached("SELECT events FROM log_batches WHERE id = ?1")?;
        let mut kept: Vec<LogEvent> = Vec::new();
        let after = |p: Position| match q.from {
            None => true,
            Some(f) if q.descending => p < f,
            Some(f) => p > f,
        };
        for m in metas {
            if !stream_matches(&q.streams, &m.stream) {
                continue;
            }
            // Enough kept, and this batch (and every later one) lies wholly past the last
            // event kept: nothing further can come before it.
            if kept.len() >= q.limit
                && let Some(edge) = kept.get(q.limit.saturating_sub(1))
                && (if q.descending {
                    m.max_ts < edge.timestamp
                } else {
                    m.min_ts > edge.timestamp
                })
            {
                break;
            }
            let blob: Vec<u8> = blob_of.query_row([m.id], |r| r.get(0))?;
            for (i, (ts, message)) in batch::unpack(&blob)?.into_iter().enumerate() {
                let id = m.first_id + i as i64;
                let at = Position { timestamp: ts, id };
                if ts < window_start || ts >= window_end || !after(at) {
                    continue;
                }
                kept.push(LogEvent {
                    id,
                    stream: m.stream.clone(),
                    timestamp: ts,
                    message: message.to_owned(),
                    ingestion_ms: m.ingestion_ms,
                });
            }
            if q.descending {
                kept.sort_unstable_by_key(|e| std::cmp::Reverse(e.position()));
            } else {
                kept.sort_unstable_by_key(LogEvent::position);
            }
            kept.truncate(q.limit.max(1) * 2 + 1024);
        }
        kept.truncate(q.limit);
        Ok(kept)
    }

    pub fn expire_events(&self, key: &GroupKey, before_ms: i64) -> Result<u64, StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        let mut removed = 0u64;
        let straddling: Vec<(i64, i64, i64)> = {
            let mut st = tx.prepare_cached(
                "SELECT id, first_id, count FROM log_batches
                 WHERE account = ?1 AND region = ?2 AND grp = ?3 AND min_ts < ?4 AND max_ts >= ?4",
            )?;
            st.query_map(params![key.account, key.region, key.name, before_ms], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<Result<_, _>>()?
        };
        // A batch only partly expired keeps its newer events under their ids (they are in
        // timestamp order, so the expired ones are a head).
        for (id, first_id, count) in straddling {
            let blob: Vec<u8> =
                tx.query_row("SELECT events FROM log_batches WHERE id = ?1", [id], |r| {
                    r.get(0)
                })?;
            let events = batch::unpack(&blob)?;
            let gone = events.iter().take_while(|(ts, _)| *ts < before_ms).count();
            let left: Vec<NewEvent> = events[gone..]
                .iter()
                .map(|(ts, m)| NewEvent {
                    timestamp: *ts,
                    message: (*m).to_owned(),
                })
                .collect();
            let min_ts = left.first().map_or(before_ms, |e| e.timestamp);
            tx.execute(
                "UPDATE log_batches SET first_id = ?2, count = ?3, min_ts = ?4, events = ?5 WHERE id = ?1",
                params![id, first_id + gone as i64, count - gone as i64, min_ts, batch::pack(&left)],
            )?;
            removed += gone as u64;
        }
        let whole: i64 = tx
            .query_row(
                "SELECT COALESCE(SUM(count), 0) FROM log_batches
                 WHERE account = ?1 AND region = ?2 AND grp = ?3 AND max_ts < ?4",
                params![key.account, key.region, key.name, before_ms],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0);
        tx.execute(
            "DELETE FROM log_batches WHERE account = ?1 AND region = ?2 AND grp = ?3 AND max_ts < ?4",
            params![key.account, key.region, key.name, before_ms],
        )?;
        tx.commit()?;
        Ok(removed + whole as u64)
    }

    /// Converts a database of the first layout (a row per event in `log_events`) to batches,
    /// each stream's events in (timestamp, id) order, 10,000 to a batch, renumbered in that
    /// order. Answers how many events moved.
    pub(super) fn convert_event_rows(&self) -> Result<u64, StoreError> {
        let mut c = self.db.write()?;
        let exists: i64 = c.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'log_events'",
            [],
            |r| r.get(0),
        )?;
        if exists == 0 {
            return Ok(0);
        }
        let tx = c.transaction()?;
        let streams: Vec<(String, String, String, String)> = {
            let mut st = tx.prepare(
                "SELECT DISTINCT account, region, grp, stream FROM log_events ORDER BY 1, 2, 3, 4",
            )?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<Result<_, _>>()?
        };
        let mut moved = 0u64;
        let mut next: i64 =
            tx.query_row("SELECT next FROM log_event_ids WHERE id = 1", [], |r| {
                r.get(0)
            })?;
        for (account, region, grp, stream) in streams {
            let rows: Vec<(i64, String, i64)> = {
                let mut st = tx.prepare(
                    "SELECT ts, message, ingestion_ms FROM log_events
                     WHERE account = ?1 AND region = ?2 AND grp = ?3 AND stream = ?4 ORDER BY ts, id",
                )?;
                st.query_map(params![account, region, grp, stream], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?
                .collect::<Result<_, _>>()?
            };
            for chunk in rows.chunks(10_000) {
                let events: Vec<NewEvent> = chunk
                    .iter()
                    .map(|(ts, m, _)| NewEvent {
                        timestamp: *ts,
                        message: m.clone(),
                    })
                    .collect();
                let ingestion = chunk.iter().map(|r| r.2).max().unwrap_or(0);
                tx.execute(
                    "INSERT INTO log_batches (account, region, grp, stream, first_id, count, min_ts, max_ts, ingestion_ms, events)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![
                        account,
                        region,
                        grp,
                        stream,
                        next,
                        chunk.len() as i64,
                        chunk.first().map_or(0, |r| r.0),
                        chunk.last().map_or(0, |r| r.0),
                        ingestion,
                        batch::pack(&events)
                    ],
                )?;
                next += chunk.len() as i64;
                moved += chunk.len() as u64;
            }
        }
        tx.execute("UPDATE log_event_ids SET next = ?1 WHERE id = 1", [next])?;
        tx.execute_batch("DROP TABLE log_events;")?;
        tx.commit()?;
        Ok(moved)
    }
}

#[cfg(test)]
mod tests {
    use crate::logs::{EventQuery, GroupKey, LogsStore, SqliteLogs, Streams};

    /// A `logs.db` of the first layout (a row per event) opens with its events in batches,
    /// in the same order, under new ids.
    #[test]
    fn the_first_layout_is_converted_to_batches() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs.db");
        {
            let c = rusqlite::Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE log_events (id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL,
                   region TEXT NOT NULL, grp TEXT NOT NULL, stream TEXT NOT NULL, ts INTEGER NOT NULL,
                   message TEXT NOT NULL, ingestion_ms INTEGER NOT NULL);
                 INSERT INTO log_events (account, region, grp, stream, ts, message, ingestion_ms) VALUES
                   ('a', 'r', 'g', 's1', 20, 'second', 5), ('a', 'r', 'g', 's1', 10, 'first', 5),
                   ('a', 'r', 'g', 's2', 15, 'other', 6);",
            )
            .unwrap();
        }
        let logs = SqliteLogs::open(&path).unwrap();
        let key = GroupKey::new("a", "r", "g");
        let q = EventQuery {
            limit: 10,
            ..EventQuery::default()
        };
        let got: Vec<_> = LogsStore::events(&logs, &key, &q)
            .unwrap()
            .into_iter()
            .map(|e| (e.stream, e.timestamp, e.message))
            .collect();
        assert_eq!(
            got,
            vec![
                ("s1".to_owned(), 10, "first".to_owned()),
                ("s2".to_owned(), 15, "other".to_owned()),
                ("s1".to_owned(), 20, "second".to_owned()),
            ]
        );
        let only = EventQuery {
            streams: Streams::Named(vec!["s2".into()]),
            limit: 10,
            ..EventQuery::default()
        };
        assert_eq!(LogsStore::events(&logs, &key, &only).unwrap().len(), 1);
        // Reopening finds nothing left to convert.
        drop(logs);
        let again = SqliteLogs::open(&path).unwrap();
        assert_eq!(LogsStore::events(&again, &key, &q).unwrap().len(), 3);
    }
}
