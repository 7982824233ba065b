//! Log events on PostgreSQL, a PutLogEvents batch per row (packed by `crate::logs::batch`):
//! appending a batch (and moving its stream's times on), reading a window of a group's events
//! in (timestamp, id) order from a position, and expiry.
//!
//! Event ids are taken from the single `log_event_ids` row by updating it; its lock is held
//! until the call's group commits, so every node's batches become visible in id order
//! (subscription delivery follows them with a cursor and must never find a lower id appear
//! behind it). That serialises PutLogEvents across nodes, one group commit at a time.
//!
//! A read walks the group's batches that overlap its window in the order it reads (by their
//! earliest or latest timestamp), as the SQLite store does, and stops once no further batch
//! can hold an event before the last one it keeps.

use postgres::Row;

use super::{PgLogs, STREAM_COLUMNS, row_to_stream};
use crate::error::StoreError;
use crate::logs::batch;
use crate::logs::{EventQuery, GroupKey, LogEvent, LogStream, NewEvent, Position, Streams};
use crate::pg::backend;

/// A batch's row without its events.
struct Meta {
    id: i64,
    stream: String,
    first_id: i64,
    min_ts: i64,
    max_ts: i64,
    ingestion_ms: i64,
}

fn row_to_meta(r: &Row) -> Meta {
    Meta {
        id: r.get(0),
        stream: r.get(1),
        first_id: r.get(2),
        min_ts: r.get(3),
        max_ts: r.get(4),
        ingestion_ms: r.get(5),
    }
}

/// A batch partly past the expiry time, and what is left of it.
struct Trimmed {
    id: i64,
    first_id: i64,
    count: i64,
    min_ts: i64,
    events: Vec<u8>,
    gone: i64,
}

/// Drops the events before `before_ms` from a batch's row (they are in timestamp order, so
/// they are a head); the rest keep their ids.
fn trim(r: &Row, before_ms: i64) -> Result<Trimmed, StoreError> {
    let events = batch::unpack(r.get::<_, &[u8]>(3))?;
    let gone = events.iter().take_while(|(ts, _)| *ts < before_ms).count();
    let left: Vec<NewEvent> = events[gone..]
        .iter()
        .map(|(ts, m)| NewEvent {
            timestamp: *ts,
            message: (*m).to_owned(),
        })
        .collect();
    let gone = gone as i64;
    Ok(Trimmed {
        id: r.get(0),
        first_id: r.get::<_, i64>(1) + gone,
        count: r.get::<_, i64>(2) - gone,
        min_ts: left.first().map_or(before_ms, |e| e.timestamp),
        events: batch::pack(&left),
        gone,
    })
}

impl PgLogs {
    pub fn put_events(
        &self,
        key: &GroupKey,
        stream: &str,
        events: &[NewEvent],
        ingestion_ms: i64,
    ) -> Result<LogStream, StoreError> {
        let first = events.iter().map(|e| e.timestamp).min();
        let last = events.iter().map(|e| e.timestamp).max();
        let count = events.len() as i64;
        let packed = batch::pack(events);
        let updated = self.db.write_with(|c| {
            // A batch with nothing accepted still counts as an upload (its token moves on),
            // but leaves the stream's event times alone (LEAST and GREATEST skip NULLs).
            let Some(row) = c.query_opt(
                &format!(
                    "UPDATE log_streams SET
                       first_event_ms = LEAST(first_event_ms, $5),
                       last_event_ms = GREATEST(last_event_ms, $6),
                       last_ingestion_ms = CASE WHEN $6::bigint IS NULL THEN last_ingestion_ms ELSE $7 END,
                       uploads = uploads + 1
                     WHERE account = $1 AND region = $2 AND grp = $3 AND name = $4
                     RETURNING {STREAM_COLUMNS}"
                ),
                &[&key.account, &key.region, &key.name, &stream, &first, &last, &ingestion_ms],
            )?
            else {
                return Ok(None);
            };
            if let (Some(min_ts), Some(max_ts)) = (first, last) {
                let first_id: i64 = c
                    .query_one(
                        "UPDATE log_event_ids SET next = next + $1 WHERE id = 1 RETURNING next - $1",
                        &[&count],
                    )?
                    .get(0);
                c.execute(
                    "INSERT INTO log_batches (account, region, grp, stream, first_id, count, min_ts, max_ts, ingestion_ms, events)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    &[&key.account, &key.region, &key.name, &stream, &first_id, &count, &min_ts, &max_ts, &ingestion_ms, &packed],
                )?;
            }
            Ok(Some(row_to_stream(&row)))
        })?;
        updated.ok_or_else(|| StoreError::Invalid(format!("no log stream {stream}")))
    }

    pub fn events(&self, key: &GroupKey, q: &EventQuery) -> Result<Vec<LogEvent>, StoreError> {
        let (window_start, window_end) = (q.start.unwrap_or(i64::MIN), q.end.unwrap_or(i64::MAX));
        // Batches wholly on the far side of the position hold nothing to read: narrow the
        // window to it (events at the position's own timestamp are sorted out by id below).
        let (start, end) = match q.from {
            Some(f) if q.descending => {
                (window_start, window_end.min(f.timestamp.saturating_add(1)))
            }
            Some(f) => (window_start.max(f.timestamp), window_end),
            None => (window_start, window_end),
        };
        let order = if q.descending {
            "max_ts DESC, id DESC"
        } else {
            "min_ts, id"
        };
        let (named, prefix): (Option<&[String]>, Option<&str>) = match &q.streams {
            Streams::All => (None, None),
            Streams::Named(names) => (Some(names), None),
            Streams::Prefix(p) => (None, Some(p)),
        };
        let mut c = self.db.read();
        let metas: Vec<Meta> = c
            .query(
                &format!(
                    "SELECT id, stream, first_id, min_ts, max_ts, ingestion_ms FROM log_batches
                     WHERE account = $1 AND region = $2 AND grp = $3 AND max_ts >= $4 AND min_ts < $5
                       AND ($6::text[] IS NULL OR stream = ANY($6)) AND ($7::text IS NULL OR starts_with(stream, $7))
                     ORDER BY {order}"
                ),
                &[&key.account, &key.region, &key.name, &start, &end, &named, &prefix],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_meta)
            .collect();
        // Prepared once per connection (`PgConn::query_opt`).
        let blob_of = "SELECT events FROM log_batches WHERE id = $1";
        let after = |p: Position| match q.from {
            None => true,
            Some(f) if q.descending => p < f,
            Some(f) => p > f,
        };
        let mut kept: Vec<LogEvent> = Vec::new();
        for m in metas {
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
            // A batch deleted since the list was read (another node's expiry) holds nothing.
            let Some(row) = c.query_opt(blob_of, &[&m.id]).map_err(backend)? else {
                continue;
            };
            for (i, (ts, message)) in batch::unpack(row.get::<_, &[u8]>(0))?
                .into_iter()
                .enumerate()
            {
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
        let removed = self.db.write_with(|c| {
            let straddling = c.query(
                "SELECT id, first_id, count, events FROM log_batches
                 WHERE account = $1 AND region = $2 AND grp = $3 AND min_ts < $4 AND max_ts >= $4
                 FOR UPDATE",
                &[&key.account, &key.region, &key.name, &before_ms],
            )?;
            // Every damaged batch is found before anything is written.
            let trimmed = match straddling
                .iter()
                .map(|r| trim(r, before_ms))
                .collect::<Result<Vec<_>, _>>()
            {
                Ok(t) => t,
                Err(e) => return Ok(Err(e)),
            };
            let mut removed = 0i64;
            for t in trimmed {
                c.execute(
                    "UPDATE log_batches SET first_id = $2, count = $3, min_ts = $4, events = $5 WHERE id = $1",
                    &[&t.id, &t.first_id, &t.count, &t.min_ts, &t.events],
                )?;
                removed += t.gone;
            }
            let whole: i64 = c
                .query_one(
                    "WITH gone AS (
                       DELETE FROM log_batches WHERE account = $1 AND region = $2 AND grp = $3 AND max_ts < $4
                       RETURNING count)
                     SELECT COALESCE(SUM(count), 0)::bigint FROM gone",
                    &[&key.account, &key.region, &key.name, &before_ms],
                )?
                .get(0);
            Ok(Ok(removed + whole))
        })??;
        Ok(removed as u64)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use crate::logs::{GroupKey, LogStream, NewEvent, PgLogs};
    use crate::suite::pg::TestPostgres;

    /// Two nodes storing batches at once, each in calls whose groups commit a while after
    /// their ids were given: a follower reading behind a cursor, as subscription delivery
    /// does, finds every batch at the id it expects, never one past a gap that fills later.
    #[test]
    fn nodes_storing_at_once_make_ids_visible_in_order() {
        let server = TestPostgres::start();
        let url = server.url();
        let nodes: Vec<Arc<PgLogs>> = (0..2)
            .map(|_| Arc::new(PgLogs::open(&url, "shared_logs").unwrap()))
            .collect();
        let key = GroupKey::new("111122223333", "us-east-1", "g");
        nodes[0]
            .create_group(&crate::logs::LogGroup {
                key: key.clone(),
                created_ms: 1,
                retention_days: None,
                tags: Default::default(),
            })
            .unwrap();
        let (start, _) = nodes[0].subscription_cursor().unwrap();
        let writers: Vec<_> = nodes
            .iter()
            .enumerate()
            .map(|(n, node)| {
                let (node, key) = (Arc::clone(node), key.clone());
                std::thread::spawn(move || {
                    let stream = format!("s{n}");
                    let s = LogStream {
                        name: stream.clone(),
                        created_ms: 1,
                        first_event_ms: None,
                        last_event_ms: None,
                        last_ingestion_ms: None,
                        uploads: 0,
                    };
                    node.create_stream(&key, &s).unwrap();
                    for i in 0..20 {
                        let call = crate::db::enter();
                        let events: Vec<NewEvent> = (0..1 + i % 3)
                            .map(|j| NewEvent {
                                timestamp: i,
                                message: format!("{n}-{i}-{j}"),
                            })
                            .collect();
                        node.put_events(&key, &stream, &events, i).unwrap();
                        // The record takes a while to become durable.
                        std::thread::sleep(Duration::from_millis(3));
                        call.leave().finish(true).unwrap();
                    }
                })
            })
            .collect();
        let done = Arc::new(AtomicBool::new(false));
        let follower = {
            let (node, done) = (Arc::clone(&nodes[1]), Arc::clone(&done));
            std::thread::spawn(move || {
                let mut cursor = start;
                let mut seen = 0;
                loop {
                    let finished = done.load(Ordering::SeqCst);
                    for b in node.batches_from(cursor, 100).unwrap() {
                        assert_eq!(b.first_id, cursor, "no batch is skipped");
                        cursor += b.events.len() as i64;
                        seen += b.events.len();
                    }
                    if finished {
                        return (cursor, seen);
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
        };
        for w in writers {
            w.join().unwrap();
        }
        done.store(true, Ordering::SeqCst);
        let (cursor, seen) = follower.join().unwrap();
        let (_, end) = nodes[0].subscription_cursor().unwrap();
        assert_eq!(cursor, end);
        // Per node: seven batches of one event, seven of two, six of three.
        assert_eq!(seen, 2 * (7 + 7 * 2 + 6 * 3));
    }
}
