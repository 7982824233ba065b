//! The event-history index in SQLite (`history.db`, schema in `sql/history.sql`).
//!
//! It reads the journal (through the commit hook as entries are committed, and from its cursor
//! on start-up) and keeps one row per management or Insights event with the eight lookup
//! attributes, in SQLite. The record itself stays in the journal; a row points at it by offset.
//! The cursor is written in the same transaction as the rows, so each entry is indexed exactly
//! once, across crashes.

mod lookup;
mod schema;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use cairn_model::EventCategory;
use cairn_model::summary::{EventSummary, effective_event_id};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::error::StoreError;
use crate::history::{HistoryIndex, LookupPage, LookupQuery};
use crate::journal::{Entry, Journal};

const READERS: usize = 4;

pub struct SqliteHistory {
    writer: Mutex<Writer>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    /// The log is checkpointed off the writer's path while this is kept.
    _checkpointed: crate::db::checkpoint::Checkpointed,
}

struct Writer {
    conn: Connection,
    scopes: HashMap<(String, String, &'static str), i64>,
}

/// The category an event is indexed under; `None` for those event history never shows
/// (shared with the PostgreSQL index, so that both keep the same events).
pub(crate) fn category_name(c: EventCategory) -> Option<&'static str> {
    match c {
        EventCategory::Management => Some("Management"),
        EventCategory::Insight => Some("Insight"),
        EventCategory::Data | EventCategory::NetworkActivity => None,
    }
}

impl SqliteHistory {
    pub fn open(path: &Path) -> Result<SqliteHistory, StoreError> {
        let conn = Connection::open(path)?;
        schema::prepare(&conn)?;
        // The indexes are written in random key order (event ids, names): a larger page cache
        // keeps their upper levels in memory instead of re-reading them for every insert.
        conn.execute_batch("PRAGMA cache_size = -131072; PRAGMA temp_store = MEMORY;")?;
        let checkpointed = crate::db::checkpoint::register(path, &conn)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let r = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            r.execute_batch("PRAGMA cache_size = -16384;")?;
            readers.push(Mutex::new(r));
        }
        Ok(SqliteHistory {
            writer: Mutex::new(Writer {
                conn,
                scopes: HashMap::new(),
            }),
            readers,
            next_reader: AtomicUsize::new(0),
            _checkpointed: checkpointed,
        })
    }

    fn with_reader<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        let conn = self.readers[i].lock().unwrap_or_else(|p| p.into_inner());
        f(&conn)
    }
}

impl HistoryIndex for SqliteHistory {
    fn cursor(&self) -> Result<u64, StoreError> {
        let w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        read_cursor(&w.conn)
    }

    fn apply(&self, entries: &[(u64, Vec<u8>)], end: u64) -> Result<(), StoreError> {
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let cursor = read_cursor(&w.conn)?;
        let fresh: Vec<&(u64, Vec<u8>)> = entries.iter().filter(|(o, _)| *o >= cursor).collect();
        let Some(first) = fresh.first() else {
            return Ok(());
        };
        if first.0 > cursor {
            return Err(StoreError::Invalid(format!(
                "history index is at journal offset {cursor} but was handed entries from {}",
                first.0
            )));
        }
        let Writer { conn, scopes } = &mut *w;
        let tx = conn.transaction()?;
        for (offset, payload) in fresh {
            index_entry(&tx, scopes, *offset, payload)?;
        }
        tx.execute(
            "UPDATE cursor SET offset = ?1 WHERE id = 1",
            params![end as i64],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn catch_up(
        &self,
        journal: &dyn Journal,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<u64, StoreError> {
        let mut n = 0;
        loop {
            let cursor = self.cursor()?;
            let (batch, next) = journal.read_from(cursor, 4 << 20)?;
            if batch.is_empty() {
                if next != cursor {
                    // Skipped past purged segments: move the cursor along.
                    let w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
                    w.conn.execute(
                        "UPDATE cursor SET offset = ?1 WHERE id = 1",
                        params![next as i64],
                    )?;
                    continue;
                }
                return Ok(n);
            }
            n += batch.len() as u64;
            if batch[0].0 != cursor {
                let w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
                w.conn.execute(
                    "UPDATE cursor SET offset = ?1 WHERE id = 1",
                    params![batch[0].0 as i64],
                )?;
            }
            self.apply(&batch, next)?;
            progress(next, journal.head());
        }
    }

    fn has_event_id(&self, account: &str, event_id: &str) -> Result<bool, StoreError> {
        self.with_reader(|c| {
            Ok(c.query_row(
                "SELECT 1 FROM event_ids WHERE account = ?1 AND event_id = ?2 LIMIT 1",
                params![account, event_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
        })
    }

    fn lookup(&self, q: &LookupQuery) -> Result<LookupPage, StoreError> {
        self.with_reader(|c| lookup::run(c, q))
    }

    fn purge_before(&self, cutoff_ms: i64) -> Result<usize, StoreError> {
        let w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        w.conn
            .execute("DELETE FROM resources WHERE t < ?1", params![cutoff_ms])?;
        Ok(w.conn
            .execute("DELETE FROM events WHERE t < ?1", params![cutoff_ms])?)
    }

    fn count(&self) -> Result<u64, StoreError> {
        self.with_reader(|c| {
            Ok(c.query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0))? as u64)
        })
    }
}

fn read_cursor(conn: &Connection) -> Result<u64, StoreError> {
    let v: i64 = conn.query_row("SELECT offset FROM cursor WHERE id = 1", [], |r| r.get(0))?;
    Ok(v as u64)
}

fn scope_id(
    tx: &rusqlite::Transaction<'_>,
    scopes: &mut HashMap<(String, String, &'static str), i64>,
    account: &str,
    region: &str,
    category: &'static str,
) -> Result<i64, StoreError> {
    let key = (account.to_owned(), region.to_owned(), category);
    if let Some(id) = scopes.get(&key) {
        return Ok(*id);
    }
    tx.execute(
        "INSERT OR IGNORE INTO scopes (account, region, category) VALUES (?1, ?2, ?3)",
        params![account, region, category],
    )?;
    let id: i64 = tx.query_row(
        "SELECT id FROM scopes WHERE account = ?1 AND region = ?2 AND category = ?3",
        params![account, region, category],
        |r| r.get(0),
    )?;
    scopes.insert(key, id);
    Ok(id)
}

/// Looks up the scope id for a query, if that scope has any events.
pub(crate) fn find_scope(
    c: &Connection,
    account: &str,
    region: &str,
    category: &str,
) -> Result<Option<i64>, StoreError> {
    Ok(c.query_row(
        "SELECT id FROM scopes WHERE account = ?1 AND region = ?2 AND category = ?3",
        params![account, region, category],
        |r| r.get(0),
    )
    .optional()?)
}

fn index_entry(
    tx: &rusqlite::Transaction<'_>,
    scopes: &mut HashMap<(String, String, &'static str), i64>,
    offset: u64,
    payload: &[u8],
) -> Result<(), StoreError> {
    let entry = match Entry::decode(offset, payload) {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(offset, error = %e, "unreadable journal entry left out of event history");
            return Ok(());
        }
    };
    let Some(s) = EventSummary::of_json(&entry.record) else {
        tracing::error!(
            offset,
            "journal entry is not JSON; left out of event history"
        );
        return Ok(());
    };
    let event_id = effective_event_id(s.event_id.as_deref(), &entry.record);
    tx.prepare_cached(
        "INSERT OR IGNORE INTO event_ids (account, event_id, seq) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![entry.account, event_id, offset as i64])?;
    let Some(category) = s.category.and_then(category_name) else {
        return Ok(());
    };
    let region = s.aws_region.as_deref().unwrap_or("us-east-1");
    let scope = scope_id(tx, scopes, &entry.account, region, category)?;
    // A record without a readable eventTime is placed at the epoch rather than dropped.
    let t = s.event_time_ms.unwrap_or(0);
    tx.prepare_cached(
        "INSERT OR REPLACE INTO events (seq, scope, t, event_id, event_name, event_source, username, access_key_id, read_only)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        offset as i64,
        scope,
        t,
        event_id,
        s.event_name,
        s.event_source,
        s.username,
        s.access_key_id,
        s.read_only
    ])?;
    let mut ins = tx.prepare_cached(
        "INSERT INTO resources (seq, scope, t, rtype, rname, shown) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for r in &s.resources {
        ins.execute(params![
            offset as i64,
            scope,
            t,
            r.resource_type,
            r.resource_name,
            1
        ])?;
        if let Some(arn) = &r.arn
            && arn != &r.resource_name
        {
            ins.execute(params![offset as i64, scope, t, r.resource_type, arn, 0])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
