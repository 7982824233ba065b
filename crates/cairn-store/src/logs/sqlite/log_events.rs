//! Log events in SQLite: appending a batch (and moving its stream's times on), reading a
//! window of a group's events in (timestamp, id) order from a position, and expiry.

use rusqlite::ToSql;
use rusqlite::params;

use super::SqliteLogs;
use crate::error::StoreError;
use crate::logs::{EventQuery, GroupKey, LogEvent, LogStream, NewEvent, Streams};

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
            {
                let mut ins = tx.prepare_cached(
                    "INSERT INTO log_events (account, region, grp, stream, ts, message, ingestion_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                for e in events {
                    ins.execute(params![
                        key.account,
                        key.region,
                        key.name,
                        stream,
                        e.timestamp,
                        e.message,
                        ingestion_ms
                    ])?;
                }
            }
            let first = events.iter().map(|e| e.timestamp).min();
            let last = events.iter().map(|e| e.timestamp).max();
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
        let mut sql = String::from(
            "SELECT id, stream, ts, message, ingestion_ms FROM log_events WHERE account = ? AND region = ? AND grp = ?",
        );
        let mut args: Vec<Box<dyn ToSql>> = vec![
            Box::new(key.account.clone()),
            Box::new(key.region.clone()),
            Box::new(key.name.clone()),
        ];
        match &q.streams {
            Streams::All => {}
            Streams::Named(names) => {
                sql.push_str(" AND stream IN (");
                for (i, n) in names.iter().enumerate() {
                    sql.push_str(if i == 0 { "?" } else { ", ?" });
                    args.push(Box::new(n.clone()));
                }
                if names.is_empty() {
                    sql.push_str("NULL");
                }
                sql.push(')');
            }
            Streams::Prefix(p) => {
                // substr, not LIKE: names may hold % and _.
                sql.push_str(" AND substr(stream, 1, ?) = ?");
                args.push(Box::new(p.chars().count() as i64));
                args.push(Box::new(p.clone()));
            }
        }
        if let Some(s) = q.start {
            sql.push_str(" AND ts >= ?");
            args.push(Box::new(s));
        }
        if let Some(e) = q.end {
            sql.push_str(" AND ts < ?");
            args.push(Box::new(e));
        }
        if let Some(p) = q.from {
            sql.push_str(if q.descending {
                " AND (ts, id) < (?, ?)"
            } else {
                " AND (ts, id) > (?, ?)"
            });
            args.push(Box::new(p.timestamp));
            args.push(Box::new(p.id));
        }
        sql.push_str(if q.descending {
            " ORDER BY ts DESC, id DESC LIMIT ?"
        } else {
            " ORDER BY ts, id LIMIT ?"
        });
        args.push(Box::new(i64::try_from(q.limit).unwrap_or(i64::MAX)));
        let c = self.db.read();
        let mut st = c.prepare_cached(&sql)?;
        let refs: Vec<&dyn ToSql> = args.iter().map(|b| b.as_ref()).collect();
        let rows = st.query_map(refs.as_slice(), |r| {
            Ok(LogEvent {
                id: r.get(0)?,
                stream: r.get(1)?,
                timestamp: r.get(2)?,
                message: r.get(3)?,
                ingestion_ms: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn expire_events(&self, key: &GroupKey, before_ms: i64) -> Result<u64, StoreError> {
        let n = self.db.write()?.execute(
            "DELETE FROM log_events WHERE account = ?1 AND region = ?2 AND grp = ?3 AND ts < ?4",
            params![key.account, key.region, key.name, before_ms],
        )?;
        Ok(n as u64)
    }
}
