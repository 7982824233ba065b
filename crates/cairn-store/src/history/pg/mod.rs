//! The event-history index on PostgreSQL (schema in `sql/pg/history_*.sql`), for cairn nodes
//! sharing one database.
//!
//! Like the SQLite index it is a journal consumer, not a store that calls write to: it keeps
//! plain connections of its own and indexes each batch in a transaction of its own (as the
//! journal does), outside calls' group transactions. Indexing inside a LookupEvents call's
//! group would leave the rows unseen by everyone else until that call's record is durable,
//! while the index already counts them as indexed.
//!
//! The cursor moves in the same transaction as the rows, under a lock on its row held until
//! the commit: nodes indexing the same journal at once take turns, and each finds the entries
//! the other has indexed behind the cursor and skips them, so every entry is indexed once.
//! Nothing is cached on the assumption that this node is the only writer: the cursor, counts
//! and lookups are read fresh; the only memory is scope ids seen committed, which never
//! change (scope rows are never updated or deleted).

mod batch;
mod lookup;

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use postgres::Client;

use crate::error::StoreError;
use crate::history::{HistoryIndex, LookupPage, LookupQuery};
use crate::journal::Journal;
use crate::pg::{Migration, backend, client};

use batch::{Batch, ScopeKey, text};

const MIGRATIONS: &[Migration] = &[Migration {
    store: "history",
    version: 1,
    sql: include_str!("../../../sql/pg/history_0001.sql"),
}];

/// Reading connections per node (LookupEvents calls read at once), made as they are needed.
const READERS: usize = 4;

/// Journal bytes read per round of a catch-up.
const CATCH_UP_BYTES: usize = 4 << 20;

pub struct PgHistory {
    url: String,
    schema: String,
    writer: Mutex<Option<Client>>,
    readers: Vec<Mutex<Option<Client>>>,
    next_reader: AtomicUsize,
    /// Scope ids this node has seen committed (see the module documentation).
    scopes: Mutex<HashMap<ScopeKey, i64>>,
}

/// A journal offset as the index's columns hold it.
fn offset_value(offset: u64) -> Result<i64, StoreError> {
    i64::try_from(offset)
        .map_err(|_| StoreError::Invalid(format!("journal offset {offset} is out of range")))
}

impl PgHistory {
    /// The index in `schema` of the database at `url` (made and migrated if needed).
    pub fn open(url: &str, schema: &str) -> Result<PgHistory, StoreError> {
        let writer = client(url, schema, MIGRATIONS)?;
        Ok(PgHistory {
            url: url.to_owned(),
            schema: schema.to_owned(),
            writer: Mutex::new(Some(writer)),
            readers: (0..READERS).map(|_| Mutex::new(None)).collect(),
            next_reader: AtomicUsize::new(0),
            scopes: Mutex::new(HashMap::new()),
        })
    }

    /// Runs `f` on the connection `held`, connecting first if there is none. A connection
    /// found dead (the database restarted) is dropped, so the next use makes a new one; the
    /// flag says whether it was.
    fn run_on<T>(
        &self,
        held: &mut Option<Client>,
        f: impl FnOnce(&mut Client) -> Result<T, StoreError>,
    ) -> (Result<T, StoreError>, bool) {
        let c = match held.as_mut() {
            Some(c) => c,
            None => match client(&self.url, &self.schema, &[]) {
                Ok(c) => held.insert(c),
                Err(e) => return (Err(e), false),
            },
        };
        let out = f(c);
        // A connection the server ended (a restart: "terminating connection due to
        // administrator command") is not always known closed yet: ask it.
        let lost = out.is_err()
            && (c.is_closed() || c.is_valid(std::time::Duration::from_secs(2)).is_err());
        if lost {
            *held = None;
        }
        (out, lost)
    }

    /// Reads on one of the reading connections; a read cut off by a lost connection is tried
    /// once more on a new one.
    fn read<T>(
        &self,
        mut f: impl FnMut(&mut Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        let mut held = self.readers[i].lock().unwrap_or_else(|p| p.into_inner());
        match self.run_on(&mut held, &mut f) {
            (Err(_), true) => self.run_on(&mut held, f).0,
            (out, _) => out,
        }
    }

    /// Writes in one transaction on the writing connection. Not tried again: the consumer
    /// catches the index up from its cursor, which says what was kept.
    fn write<T>(
        &self,
        f: impl FnOnce(&mut postgres::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut held = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        self.run_on(&mut held, |c| {
            let mut tx = c.transaction().map_err(backend)?;
            let out = f(&mut tx)?;
            tx.commit().map_err(backend)?;
            Ok(out)
        })
        .0
    }

    /// Moves the cursor forward to `to` (past entries retention removed from the journal);
    /// never back, since another node may have indexed further meanwhile.
    fn move_cursor(&self, to: u64) -> Result<(), StoreError> {
        crate::pg::blocking(|| {
            let to = offset_value(to)?;
            self.write(|tx| {
                tx.execute(
                    "UPDATE history_cursor SET next_offset = GREATEST(next_offset, $1)",
                    &[&to],
                )
                .map_err(backend)
            })?;
            Ok(())
        })
    }
}

impl Drop for PgHistory {
    fn drop(&mut self) {
        let writer = self.writer.get_mut().unwrap_or_else(|p| p.into_inner());
        crate::pg::close(writer.take());
        for r in &mut self.readers {
            crate::pg::close(r.get_mut().unwrap_or_else(|p| p.into_inner()).take());
        }
    }
}

impl HistoryIndex for PgHistory {
    fn cursor(&self) -> Result<u64, StoreError> {
        crate::pg::blocking(|| {
            self.read(|c| {
                let v: i64 = c
                    .query_one("SELECT next_offset FROM history_cursor", &[])
                    .map_err(backend)?
                    .get(0);
                Ok(v as u64)
            })
        })
    }

    fn apply(&self, entries: &[(u64, Vec<u8>)], end: u64) -> Result<(), StoreError> {
        crate::pg::blocking(|| {
            let end = offset_value(end)?;
            let known = self
                .scopes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            let made = self.write(|tx| {
                let cursor: i64 = tx
                    .query_one("SELECT next_offset FROM history_cursor FOR UPDATE", &[])
                    .map_err(backend)?
                    .get(0);
                let cursor = cursor as u64;
                let fresh: Vec<&(u64, Vec<u8>)> =
                    entries.iter().filter(|(o, _)| *o >= cursor).collect();
                let Some(first) = fresh.first() else {
                    return Ok(Vec::new());
                };
                if first.0 > cursor {
                    return Err(StoreError::Invalid(format!(
                        "history index is at journal offset {cursor} but was handed entries from {}",
                        first.0
                    )));
                }
                let batch = Batch::of(&fresh)?;
                let made = batch.write(tx, &known)?;
                tx.execute("UPDATE history_cursor SET next_offset = $1", &[&end])
                    .map_err(backend)?;
                Ok(made)
            })?;
            // Only ids whose rows committed: a rolled-back scope row's id is never used.
            self.scopes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(made);
            Ok(())
        })
    }

    fn catch_up(
        &self,
        journal: &dyn Journal,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<u64, StoreError> {
        let mut n = 0;
        loop {
            let cursor = self.cursor()?;
            let (batch, next) = journal.read_from(cursor, CATCH_UP_BYTES)?;
            let Some((first, _)) = batch.first() else {
                if next != cursor {
                    // Skipped past entries retention removed: move the cursor along.
                    self.move_cursor(next)?;
                    continue;
                }
                return Ok(n);
            };
            n += batch.len() as u64;
            if *first != cursor {
                self.move_cursor(*first)?;
            }
            self.apply(&batch, next)?;
            progress(next, journal.head());
        }
    }

    fn has_event_id(&self, account: &str, event_id: &str) -> Result<bool, StoreError> {
        crate::pg::blocking(|| {
            let (account, event_id) = (text(account), text(event_id));
            self.read(|c| {
                Ok(c.query_opt(
                    "SELECT 1 FROM history_event_ids WHERE account = $1 AND event_id = $2 LIMIT 1",
                    &[&account, &event_id],
                )
                .map_err(backend)?
                .is_some())
            })
        })
    }

    fn lookup(&self, q: &LookupQuery) -> Result<LookupPage, StoreError> {
        crate::pg::blocking(|| self.read(|c| lookup::run(c, q)))
    }

    fn purge_before(&self, cutoff_ms: i64) -> Result<usize, StoreError> {
        crate::pg::blocking(|| {
            self.write(|tx| {
                tx.execute("DELETE FROM history_resources WHERE t < $1", &[&cutoff_ms])
                    .map_err(backend)?;
                let n = tx
                    .execute("DELETE FROM history_events WHERE t < $1", &[&cutoff_ms])
                    .map_err(backend)?;
                Ok(n as usize)
            })
        })
    }

    fn count(&self) -> Result<u64, StoreError> {
        crate::pg::blocking(|| {
            self.read(|c| {
                let n: i64 = c
                    .query_one("SELECT count(*) FROM history_events", &[])
                    .map_err(backend)?
                    .get(0);
                Ok(n as u64)
            })
        })
    }
}

#[cfg(test)]
mod tests;
