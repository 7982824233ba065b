//! The journal on PostgreSQL (schema in `sql/pg/journal_*.sql`), for cairn nodes sharing one
//! database.
//!
//! Entries are rows numbered without gaps: an append locks the single `journal_head` row,
//! takes the next positions, inserts its entries and moves the head, and commits; the lock is
//! held until the commit, so appends from every node are serialised and a reader never sees
//! an entry before all those numbered below it. On each node one writer thread group-commits
//! whatever calls queued meanwhile in one transaction, acknowledges them once it committed,
//! and then shows the entries to the commit hook, as the embedded journal does.
//!
//! A commit the database refuses fails the journal closed on that node: it refuses writes
//! from then on, as a full disk does to the embedded one. A lost connection refuses writes
//! only until the database is back (the writer tries again every quarter second): a batch cut
//! off before its commit was asked for was rolled back by the database and is refused; one
//! cut off during its commit waits until the database can say whether its entries are there
//! (up to 30 s; refused past that, the one case where a refused call may have been kept).
//!
//! Retention drops whole partitions (ranges of `partition_entries` positions, made as the
//! journal reaches them) once every consumer has read past them and they are old enough.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, Statement};

use super::{CommitHook, Entries, Journal, PendingAppend};
use crate::error::StoreError;
use crate::pg::{Migration, backend, client};

const MIGRATIONS: &[Migration] = &[Migration {
    store: "journal",
    version: 1,
    sql: include_str!("../../sql/pg/journal_0001.sql"),
}];

/// Entries per partition unless the deployment chose otherwise before its first entry.
pub const PARTITION_ENTRIES: u64 = 1 << 20;

/// Rows fetched per read, at most (a read also stops past its byte budget).
const READ_ROWS: i64 = 1024;

struct Request {
    payloads: Vec<Vec<u8>>,
    done: tokio::sync::oneshot::Sender<Result<Vec<u64>, StoreError>>,
}

/// A handle on the journal in one schema of a PostgreSQL database. Cloning it is cheap; the
/// writer thread stops when the last clone is dropped.
#[derive(Clone)]
pub struct PgJournal {
    inner: Arc<Inner>,
}

struct Inner {
    /// For reads; made again on the next read after it was lost.
    reader: Mutex<Option<Client>>,
    url: String,
    schema: String,
    /// The head this node last saw (a floor: other nodes move it too).
    head: Arc<AtomicU64>,
    failed: Arc<Mutex<Option<String>>>,
    /// Set while the database is unreachable (writes are refused until it is back).
    unreachable: Arc<Mutex<Option<String>>>,
    fail_next: Arc<AtomicBool>,
    partition_entries: u64,
    tx: Mutex<Option<Sender<Request>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        crate::pg::close(
            self.reader
                .get_mut()
                .unwrap_or_else(|p| p.into_inner())
                .take(),
        );
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = t.join();
        }
    }
}

/// How long a lost listening connection waits before it is made again.
const LISTEN_AGAIN_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// Calls `wake` after every batch any node commits to the journal in `schema` (PostgreSQL's
/// LISTEN/NOTIFY), on a thread of its own, for as long as the process runs: consumers that
/// react to calls (EventBridge's router, the lake's ingestion) wake when a call is recorded on
/// another node rather than on their next tick. Each time the connection is made (again), it
/// also calls `wake`: notices sent while it was lost are not kept.
pub fn listen(url: &str, schema: &str, wake: Box<dyn Fn() + Send>) -> Result<(), StoreError> {
    let (url, schema) = (url.to_owned(), schema.to_owned());
    std::thread::Builder::new()
        .name("cairn-journal-listen".into())
        .spawn(move || {
            loop {
                match client(&url, &schema, &[]) {
                    Ok(mut c) => {
                        if let Err(e) = c.batch_execute(&format!("LISTEN {schema}")) {
                            tracing::warn!(error = %e, "could not listen for other nodes' commits");
                        } else {
                            wake();
                            let mut notices = c.notifications();
                            let mut each = notices.blocking_iter();
                            loop {
                                match each.next() {
                                    Ok(Some(_)) => wake(),
                                    Ok(None) => break,
                                    Err(e) => {
                                        tracing::warn!(error = %e, "lost the connection listening for other nodes' commits");
                                        break;
                                    }
                                }
                            }
                        }
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "cannot listen for other nodes' commits yet")
                    }
                }
                std::thread::sleep(LISTEN_AGAIN_AFTER);
            }
        })
        .map_err(|e| StoreError::Invalid(format!("could not start the journal listener: {e}")))?;
    Ok(())
}

impl PgJournal {
    /// Opens the journal in `schema` of the database at `url` (made and migrated if needed)
    /// and starts this node's writer thread with `hook`. `partition_entries` applies only to a
    /// journal that has no entry yet; otherwise the deployment's own is kept.
    pub fn open(
        url: &str,
        schema: &str,
        partition_entries: u64,
        hook: Box<dyn CommitHook>,
    ) -> Result<PgJournal, StoreError> {
        let mut writer = client(url, schema, MIGRATIONS)?;
        let mut reader = client(url, schema, &[])?;
        let wanted = i64::try_from(partition_entries.max(1)).unwrap_or(i64::MAX);
        writer
            .execute(
                "UPDATE journal_head SET partition_entries = $1 WHERE next_pos = 0",
                &[&wanted],
            )
            .map_err(backend)?;
        let row = reader
            .query_one("SELECT next_pos, partition_entries FROM journal_head", &[])
            .map_err(backend)?;
        let head = Arc::new(AtomicU64::new(row.get::<_, i64>(0) as u64));
        let partition_entries = row.get::<_, i64>(1) as u64;
        let failed = Arc::new(Mutex::new(None));
        let unreachable = Arc::new(Mutex::new(None));
        let fail_next = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let state = Writer {
            client: Some(writer),
            prepared: None,
            url: url.to_owned(),
            schema: schema.to_owned(),
            head: Arc::clone(&head),
            failed: Arc::clone(&failed),
            unreachable: Arc::clone(&unreachable),
            fail_next: Arc::clone(&fail_next),
            partition_entries,
            partitions_made: None,
            used: std::time::Instant::now(),
            hook,
        };
        let thread = std::thread::Builder::new()
            .name("cairn-journal-pg".into())
            .spawn(move || state.run(rx))
            .map_err(|e| StoreError::Invalid(format!("could not start the journal writer: {e}")))?;
        Ok(PgJournal {
            inner: Arc::new(Inner {
                reader: Mutex::new(Some(reader)),
                url: url.to_owned(),
                schema: schema.to_owned(),
                head,
                failed,
                unreachable,
                fail_next,
                partition_entries,
                tx: Mutex::new(Some(tx)),
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// Runs `f` on the reading connection, connecting first if it was lost; a read that
    /// found the connection dead (the database restarted since) is tried once more on a new
    /// one.
    fn read<T>(&self, f: impl Fn(&mut Client) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut slot = self.inner.reader.lock().unwrap_or_else(|p| p.into_inner());
        for attempt in 0..2 {
            if slot.is_none() {
                *slot = Some(client(&self.inner.url, &self.inner.schema, &[])?);
            }
            let Some(c) = slot.as_mut() else {
                return Err(StoreError::JournalClosed);
            };
            let out = f(c);
            if out.is_ok() || !c.is_closed() || attempt == 1 {
                if out.is_err() && c.is_closed() {
                    *slot = None;
                }
                return out;
            }
            *slot = None;
        }
        Err(StoreError::JournalClosed)
    }
}

impl Journal for PgJournal {
    fn append(&self, payloads: Vec<Vec<u8>>) -> PendingAppend {
        if let Some(why) = self.failure() {
            return PendingAppend::failed(StoreError::JournalFailed(why));
        }
        let (done, pending) = PendingAppend::channel();
        let tx = self.inner.tx.lock().unwrap_or_else(|p| p.into_inner());
        match tx.as_ref() {
            Some(tx) => {
                if let Err(mpsc::SendError(r)) = tx.send(Request { payloads, done }) {
                    let _ = r.done.send(Err(StoreError::JournalClosed));
                }
            }
            None => {
                let _ = done.send(Err(StoreError::JournalClosed));
            }
        }
        pending
    }

    fn failure(&self) -> Option<String> {
        let failed = self
            .inner
            .failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        failed.or_else(|| {
            self.inner
                .unreachable
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
        })
    }

    fn fail_next_write(&self) {
        self.inner.fail_next.store(true, Ordering::SeqCst);
    }

    fn head(&self) -> u64 {
        crate::pg::blocking(|| {
            let seen = self.inner.head.load(Ordering::SeqCst);
            match self.read(|c| {
                c.query_one("SELECT next_pos FROM journal_head", &[])
                    .map_err(backend)
            }) {
                Ok(row) => {
                    let head = row.get::<_, i64>(0) as u64;
                    self.inner.head.fetch_max(head, Ordering::SeqCst);
                    head.max(seen)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the journal's head; using the last seen");
                    seen
                }
            }
        })
    }

    fn read_at(&self, offset: u64) -> Result<Vec<u8>, StoreError> {
        crate::pg::blocking(|| {
            let pos = position(offset)?;
            let row = self.read(|c| {
                c.query_opt("SELECT payload FROM journal WHERE pos = $1", &[&pos])
                    .map_err(backend)
            })?;
            row.map(|r| r.get(0)).ok_or_else(|| StoreError::Corrupt {
                offset,
                reason: "no entry at this position (not written yet, or removed by retention)"
                    .into(),
            })
        })
    }

    fn read_from(&self, offset: u64, max_bytes: usize) -> Result<(Entries, u64), StoreError> {
        crate::pg::blocking(|| {
            let pos = position(offset)?;
            let rows = self.read(|c| {
                c.query(
                    "SELECT pos, payload FROM journal WHERE pos >= $1 ORDER BY pos LIMIT $2",
                    &[&pos, &READ_ROWS],
                )
                .map_err(backend)
            })?;
            let mut out = Vec::new();
            let mut bytes = 0usize;
            let mut next = offset;
            for r in rows {
                let at = r.get::<_, i64>(0) as u64;
                let payload: Vec<u8> = r.get(1);
                if !out.is_empty() && bytes + payload.len() > max_bytes {
                    break;
                }
                bytes += payload.len();
                next = at + 1;
                out.push((at, payload));
            }
            Ok((out, next))
        })
    }

    fn purge(&self, min_cursor: u64, older_than: SystemTime) -> Result<usize, StoreError> {
        crate::pg::blocking(|| {
            let cutoff = older_than
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0);
            let per = self.inner.partition_entries;
            self.read(|c| {
                let mut removed = 0;
                for (index, name) in partitions(c)? {
                    // Wholly below every consumer's cursor, and nothing in it written since the
                    // cutoff.
                    if (index + 1).saturating_mul(per) > min_cursor {
                        continue;
                    }
                    let newest: Option<i64> = c
                        .query_one(&format!("SELECT max(written_ms) FROM {name}"), &[])
                        .map_err(backend)?
                        .get(0);
                    if newest.is_some_and(|t| t >= cutoff) {
                        continue;
                    }
                    c.batch_execute(&format!("DROP TABLE IF EXISTS {name}"))
                        .map_err(backend)?;
                    removed += 1;
                }
                Ok(removed)
            })
        })
    }
}

/// An offset as the position column holds it.
fn position(offset: u64) -> Result<i64, StoreError> {
    i64::try_from(offset)
        .map_err(|_| StoreError::Invalid(format!("journal offset {offset} is out of range")))
}

fn partition_name(index: u64) -> String {
    format!("journal_p{index}")
}

/// The journal's partitions by index, in order.
fn partitions(c: &mut Client) -> Result<Vec<(u64, String)>, StoreError> {
    let rows = c
        .query(
            "SELECT child.relname FROM pg_inherits
               JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
               JOIN pg_class child ON child.oid = pg_inherits.inhrelid
               JOIN pg_namespace ns ON ns.oid = parent.relnamespace
              WHERE parent.relname = 'journal' AND ns.nspname = current_schema()",
            &[],
        )
        .map_err(backend)?;
    let mut out: Vec<(u64, String)> = rows
        .iter()
        .filter_map(|r| {
            let name: String = r.get(0);
            let index = name.strip_prefix("journal_p")?.parse().ok()?;
            Some((index, name))
        })
        .collect();
    out.sort();
    Ok(out)
}

/// This node's writer: owns the writing connection.
struct Writer {
    /// `None` while the database is unreachable.
    client: Option<Client>,
    /// The batch's statements, prepared once on `client` (made again with it).
    prepared: Option<Prepared>,
    url: String,
    schema: String,
    head: Arc<AtomicU64>,
    failed: Arc<Mutex<Option<String>>>,
    unreachable: Arc<Mutex<Option<String>>>,
    fail_next: Arc<AtomicBool>,
    partition_entries: u64,
    /// When the last batch began (a connection idle long enough is checked before the next).
    used: std::time::Instant,
    /// Partitions known to exist up to this index (every node makes them as it reaches them).
    partitions_made: Option<u64>,
    hook: Box<dyn CommitHook>,
}

/// What every batch runs, prepared once per connection: the head lock is held from the first
/// to the commit, so each round trip saved there is one every other node waits less.
struct Prepared {
    /// Takes the head's row lock and moves it on by `$1` entries; returns the first position.
    advance: Statement,
    insert: Statement,
}

impl Prepared {
    fn on(c: &mut Client) -> Result<Prepared, postgres::Error> {
        Ok(Prepared {
            advance: c.prepare(
                "UPDATE journal_head SET next_pos = next_pos + $1 RETURNING next_pos - $1",
            )?,
            insert: c.prepare(
                "INSERT INTO journal (pos, payload, written_ms)
                 SELECT p, b, $3 FROM unnest($1::bigint[], $2::bytea[]) AS t(p, b)",
            )?,
        })
    }
}

/// Why a batch did not commit.
enum Failure {
    /// The database refused it (or a test said to fail): the journal fails closed.
    Refused(String),
    /// A lock (the head, held by another node's append) was not granted within the
    /// connection's lock timeout: this batch is refused and rolled back, the next one tries
    /// again (the database did not refuse the journal).
    Busy(String),
    /// The connection was lost before the commit was asked for: nothing of the batch was
    /// kept (PostgreSQL rolls back a transaction whose connection ends).
    Lost(String),
    /// The connection was lost while committing: the batch (positions from `first`) may or
    /// may not have been kept.
    LostInCommit { why: String, first: u64 },
}

/// How often the writer tries the database again while it is unreachable.
const RETRY_EVERY: Duration = Duration::from_millis(250);

/// How long a batch whose commit's outcome is unknown waits for the database to come back
/// and tell (its callers wait with it; past this they are told it failed).
const RESOLVE_WITHIN: Duration = Duration::from_secs(30);

impl Writer {
    fn run(mut self, rx: Receiver<Request>) {
        loop {
            let first = match rx.recv_timeout(RETRY_EVERY) {
                Ok(r) => r,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if self.client.is_none() {
                        self.reconnect();
                    }
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            };
            let mut batch = vec![first];
            while let Ok(more) = rx.try_recv() {
                batch.push(more);
            }
            let refusal = self
                .failed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            if let Some(why) = refusal {
                refuse(batch, &why);
                continue;
            }
            // A connection the server closed while the writer was idle (it restarted) is made
            // again before this batch, rather than failing it.
            let idle = self.used.elapsed();
            self.used = std::time::Instant::now();
            if self
                .client
                .as_mut()
                .is_some_and(|c| !crate::pg::alive(c, idle))
            {
                self.lost("the server closed the connection");
            }
            if self.client.is_none() && !self.reconnect() {
                let why = self.unreachable_reason();
                refuse(batch, &why);
                continue;
            }
            let payloads: Vec<&[u8]> = batch
                .iter()
                .flat_map(|r| r.payloads.iter().map(Vec::as_slice))
                .collect();
            let outcome = match self.commit(&payloads) {
                Ok(first) => Ok(first),
                Err(Failure::Refused(why)) => {
                    tracing::error!(error = %why, "the journal could not commit; refusing writes from now on");
                    *self.failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(why.clone());
                    Err(why)
                }
                Err(Failure::Busy(why)) => {
                    tracing::warn!(error = %why, "the journal waited too long for its head; refusing this batch");
                    Err(why)
                }
                Err(Failure::Lost(why)) => {
                    self.lost(&why);
                    Err(why)
                }
                Err(Failure::LostInCommit { why, first }) => {
                    self.lost(&why);
                    match self.resolve(first, &payloads) {
                        Some(true) => Ok(first),
                        Some(false) => Err(why),
                        None => Err(format!(
                            "{why}; whether the last entries were kept is not known yet"
                        )),
                    }
                }
            };
            match outcome {
                Ok(first) => {
                    drop(payloads);
                    self.acknowledge(batch, first);
                }
                Err(why) => refuse(batch, &why),
            }
        }
    }

    fn acknowledge(&mut self, batch: Vec<Request>, first: u64) {
        let mut at = first;
        let mut entries = Vec::new();
        for r in batch {
            let offsets: Vec<u64> = (at..at + r.payloads.len() as u64).collect();
            at += r.payloads.len() as u64;
            entries.extend(offsets.iter().copied().zip(r.payloads));
            let _ = r.done.send(Ok(offsets));
        }
        self.head.fetch_max(at, Ordering::SeqCst);
        self.hook.committed(entries, at);
    }

    fn unreachable_reason(&self) -> String {
        self.unreachable
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_else(|| "the database is unreachable".into())
    }

    /// The connection is gone: writes are refused until it is back.
    fn lost(&mut self, why: &str) {
        tracing::error!(error = %why, "the journal lost its database; refusing writes until it is back");
        self.client = None;
        self.prepared = None;
        *self.unreachable.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(format!("the journal's database is unreachable: {why}"));
    }

    /// Connects again; writes are accepted again once it did.
    fn reconnect(&mut self) -> bool {
        match client(&self.url, &self.schema, &[]) {
            Ok(c) => {
                self.client = Some(c);
                self.prepared = None;
                // Partitions may have been made or dropped meanwhile by other nodes.
                self.partitions_made = None;
                if self
                    .unreachable
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take()
                    .is_some()
                {
                    tracing::info!("the journal's database is back; accepting writes");
                }
                true
            }
            Err(e) => {
                tracing::debug!(error = %e, "the journal's database is still unreachable");
                false
            }
        }
    }

    /// Whether a batch whose commit was cut off was kept: its entries, at their positions.
    /// `None` if the database did not come back in time to tell.
    fn resolve(&mut self, first: u64, payloads: &[&[u8]]) -> Option<bool> {
        let deadline = std::time::Instant::now() + RESOLVE_WITHIN;
        while std::time::Instant::now() < deadline {
            if self.client.is_some() || self.reconnect() {
                let c = self.client.as_mut()?;
                let end = first + payloads.len() as u64;
                match c.query(
                    "SELECT payload FROM journal WHERE pos >= $1 AND pos < $2 ORDER BY pos",
                    &[&(first as i64), &(end as i64)],
                ) {
                    Ok(rows) => {
                        let kept = rows.len() == payloads.len()
                            && rows
                                .iter()
                                .zip(payloads)
                                .all(|(r, p)| r.get::<_, &[u8]>(0) == *p);
                        return Some(kept);
                    }
                    Err(e) => self.lost(&e.to_string()),
                }
            }
            std::thread::sleep(RETRY_EVERY);
        }
        None
    }

    /// One transaction for the whole batch; the first position it got.
    fn commit(&mut self, payloads: &[&[u8]]) -> Result<u64, Failure> {
        let fail = self.fail_next.swap(false, Ordering::SeqCst);
        let written_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let per = self.partition_entries;
        let mut made = self.partitions_made;
        let Some(c) = self.client.as_mut() else {
            return Err(Failure::Lost("not connected".into()));
        };
        // A statement that failed on a live connection is the database refusing; on a dead
        // one, the connection was lost (and the transaction with it).
        let failed = |c: &Client, e: postgres::Error| {
            if c.is_closed() {
                Failure::Lost(e.to_string())
            } else if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) {
                Failure::Busy(e.to_string())
            } else {
                Failure::Refused(e.to_string())
            }
        };
        if self.prepared.is_none() {
            match Prepared::on(c) {
                Ok(p) => self.prepared = Some(p),
                Err(e) => return Err(failed(c, e)),
            }
        }
        let Some(prepared) = self.prepared.as_ref() else {
            return Err(Failure::Lost("not prepared".into()));
        };
        if let Err(e) = c.batch_execute("BEGIN") {
            return Err(failed(c, e));
        }
        let staged = (|| {
            // The head's row lock, held until the commit, orders appends from every node.
            let count = payloads.len() as i64;
            let first: i64 = c.query_one(&prepared.advance, &[&count])?.get(0);
            let first = first as u64;
            let end = first + payloads.len() as u64;
            // Partitions for every position of the batch (the head lock serialises their
            // making).
            let last_index = end.saturating_sub(1) / per;
            let from_index = match made {
                Some(m) if m >= last_index => None,
                Some(m) => Some((m + 1).max(first / per)),
                None => Some(first / per),
            };
            if let Some(from) = from_index {
                for index in from..=last_index {
                    c.batch_execute(&format!(
                        "CREATE TABLE IF NOT EXISTS {} PARTITION OF journal FOR VALUES FROM ({}) TO ({})",
                        partition_name(index),
                        index * per,
                        (index + 1) * per
                    ))?;
                }
                made = Some(last_index);
            }
            let positions: Vec<i64> = (first..end).map(|p| p as i64).collect();
            c.execute(&prepared.insert, &[&positions, &payloads, &written_ms])?;
            Ok::<u64, postgres::Error>(first)
        })();
        let first = match staged {
            Ok(first) => first,
            Err(e) => {
                let failure = failed(c, e);
                if !c.is_closed() {
                    let _ = c.batch_execute("ROLLBACK");
                }
                return Err(failure);
            }
        };
        if fail {
            // As a failing database would: nothing of this batch is kept.
            let _ = c.batch_execute("ROLLBACK");
            return Err(Failure::Refused("injected journal write failure".into()));
        }
        // Other nodes' consumers that react to calls wake on the notice (`listen`); it is
        // sent with the commit, in the same round trip, and only if the batch is kept.
        if let Err(e) = c.batch_execute(&format!("NOTIFY {}; COMMIT", self.schema)) {
            return Err(if c.is_closed() {
                Failure::LostInCommit {
                    why: e.to_string(),
                    first,
                }
            } else {
                // A refused NOTIFY leaves the transaction open and failed.
                let _ = c.batch_execute("ROLLBACK");
                Failure::Refused(e.to_string())
            });
        }
        self.partitions_made = made;
        Ok(first)
    }
}

fn refuse(batch: Vec<Request>, why: &str) {
    for r in batch {
        let _ = r.done.send(Err(StoreError::JournalFailed(why.to_owned())));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeSet;
    use std::time::Duration;

    use super::*;
    use crate::journal::NoHook;
    use crate::suite::pg::TestPostgres;

    /// Two nodes appending at once to one database: every entry gets a position of its own,
    /// without gaps, and each node reads the other's entries in the same order.
    #[test]
    fn nodes_sharing_a_database_append_into_one_gapless_order() {
        let server = TestPostgres::start();
        let url = server.url();
        let nodes: Vec<PgJournal> = (0..2)
            .map(|_| PgJournal::open(&url, "shared_journal", 8, Box::new(NoHook)).unwrap())
            .collect();
        let threads: Vec<_> = nodes
            .iter()
            .enumerate()
            .flat_map(|(n, j)| {
                (0..2).map(move |t| {
                    let j = j.clone();
                    std::thread::spawn(move || {
                        (0..50)
                            .flat_map(|i| {
                                j.append(vec![format!("{n}-{t}-{i}").into_bytes(); 2])
                                    .wait_blocking()
                                    .unwrap()
                            })
                            .collect::<Vec<u64>>()
                    })
                })
            })
            .collect();
        let mut offsets = BTreeSet::new();
        for t in threads {
            offsets.extend(t.join().unwrap());
        }
        assert_eq!(offsets, (0..400).collect::<BTreeSet<u64>>());
        let read = |j: &PgJournal| {
            let mut all = Vec::new();
            let mut cur = 0;
            loop {
                let (batch, next) = j.read_from(cur, 1 << 20).unwrap();
                if batch.is_empty() {
                    return all;
                }
                all.extend(batch);
                cur = next;
            }
        };
        let (a, b) = (read(&nodes[0]), read(&nodes[1]));
        assert_eq!(a.len(), 400);
        assert_eq!(a, b);
        assert_eq!(nodes[0].head(), 400);
        assert_eq!(nodes[1].head(), 400);
        // Retention drops whole partitions below the slowest cursor, and only those.
        let future = SystemTime::now() + Duration::from_secs(60);
        assert_eq!(nodes[0].purge(100, future).unwrap(), 12);
        let (kept, _) = nodes[1].read_from(0, 1 << 20).unwrap();
        assert_eq!(kept.first().map(|(o, _)| *o), Some(96));
    }

    /// The database stops (as a crash would) and starts again: meanwhile appends are refused
    /// and the journal says why; afterwards it accepts writes again by itself, and holds every
    /// acknowledged entry once, in a gapless order.
    #[test]
    fn a_commit_on_one_node_wakes_listeners_on_every_node_and_only_once_kept() {
        let server = TestPostgres::start();
        let url = server.url();
        let here = PgJournal::open(&url, "listened", 8, Box::new(NoHook)).unwrap();
        let there = PgJournal::open(&url, "listened", 8, Box::new(NoHook)).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        listen(
            &url,
            "listened",
            Box::new(move || {
                let _ = tx.send(());
            }),
        )
        .unwrap();
        // The first wakeup says it listens (notices from before are not kept).
        rx.recv_timeout(std::time::Duration::from_secs(30)).unwrap();
        there
            .append(vec![b"from the other node".to_vec()])
            .wait_blocking()
            .unwrap();
        rx.recv_timeout(std::time::Duration::from_secs(30)).unwrap();
        // A batch refused (nothing kept) wakes no one.
        there.fail_next_write();
        assert!(
            there
                .append(vec![b"refused".to_vec()])
                .wait_blocking()
                .is_err()
        );
        here.append(vec![b"here".to_vec()]).wait_blocking().unwrap();
        rx.recv_timeout(std::time::Duration::from_secs(30)).unwrap();
        assert!(rx.try_recv().is_err(), "one wakeup per kept batch");
    }

    #[test]
    fn the_journal_refuses_writes_while_its_database_is_down_and_resumes_after() {
        let server = TestPostgres::start();
        let j = PgJournal::open(&server.url(), "restarts", 8, Box::new(NoHook)).unwrap();
        let mut acknowledged = Vec::new();
        for i in 0..10 {
            let p = format!("before-{i}").into_bytes();
            acknowledged.push((j.append(vec![p.clone()]).wait_blocking().unwrap()[0], p));
        }
        server.stop();
        assert!(j.append(vec![b"during".to_vec()]).wait_blocking().is_err());
        assert!(j.failure().is_some(), "the journal says it refuses writes");
        assert!(j.append(vec![b"during".to_vec()]).wait_blocking().is_err());
        server.start_again();
        let back = std::time::Instant::now();
        while j.failure().is_some() {
            assert!(
                back.elapsed() < Duration::from_secs(20),
                "the journal came back"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        for i in 0..10 {
            let p = format!("after-{i}").into_bytes();
            acknowledged.push((j.append(vec![p.clone()]).wait_blocking().unwrap()[0], p));
        }
        // A restart while the journal sat idle: the next append is accepted at once (the
        // writer checks a connection idle that long before using it).
        server.stop();
        server.start_again();
        std::thread::sleep(crate::pg::CHECK_AFTER_IDLE);
        let p = b"after-idle-restart".to_vec();
        acknowledged.push((j.append(vec![p.clone()]).wait_blocking().unwrap()[0], p));
        let (all, _) = j.read_from(0, 1 << 20).unwrap();
        assert_eq!(all, acknowledged);
        assert_eq!(
            all.iter().map(|(o, _)| *o).collect::<Vec<_>>(),
            (0..21).collect::<Vec<u64>>()
        );
    }
}
