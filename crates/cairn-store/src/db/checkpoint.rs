//! Checkpoints SQLite's write-ahead logs on a thread of their own, off the writers' path.
//!
//! Left to itself, SQLite copies its log back into the database (a checkpoint: the log and the
//! database each fsynced) inside whichever commit makes the log cross a thousand pages, while
//! that connection holds its store's write lock. Every call writing to that store then waits
//! for two fsyncs: under a stream of small PUTs, a few times a second, for milliseconds each
//! (p99 doubled, a fifth of the throughput lost). Here one process-wide thread checkpoints
//! every registered database a few times a second from a connection of its own: a passive
//! checkpoint runs beside readers and writers, copying only what no reader still needs. The
//! writers keep SQLite's own checkpoint at a far larger limit ([`WRITER_BACKSTOP_PAGES`]),
//! only as a backstop should this thread fall behind.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// The log size (in pages) at which a writer checkpoints by itself: about 80 MiB of log,
/// reached only if the background thread falls far behind.
pub const WRITER_BACKSTOP_PAGES: i64 = 20_000;

/// How often each registered database is checkpointed.
const INTERVAL: Duration = Duration::from_millis(100);

/// A database the background thread checkpoints for as long as this is kept (its store's
/// lifetime). Dropping it closes the thread's connection to the database.
pub struct Checkpointed {
    _entry: Arc<Entry>,
}

struct Entry {
    path: PathBuf,
    conn: Mutex<Connection>,
}

fn registry() -> &'static Mutex<Vec<Weak<Entry>>> {
    static REGISTRY: OnceLock<Mutex<Vec<Weak<Entry>>>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let spawned = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(run);
        if let Err(e) = spawned {
            // Writers still checkpoint by themselves at their backstop.
            tracing::error!(error = %e, "could not start the SQLite checkpoint thread");
        }
        Mutex::new(Vec::new())
    })
}

/// Makes `writer` (a connection to a database in WAL mode) leave checkpoints to the background
/// thread, and registers its database there.
pub fn register(path: &Path, writer: &Connection) -> rusqlite::Result<Checkpointed> {
    writer.pragma_update(None, "wal_autocheckpoint", WRITER_BACKSTOP_PAGES)?;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // Never a checkpoint of its own when this connection closes: the store's connections
    // outlive it or close the database themselves.
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    let entry = Arc::new(Entry {
        path: path.to_owned(),
        conn: Mutex::new(conn),
    });
    let mut all = registry().lock().unwrap_or_else(|p| p.into_inner());
    all.retain(|e| e.strong_count() > 0);
    all.push(Arc::downgrade(&entry));
    Ok(Checkpointed { _entry: entry })
}

fn run() {
    loop {
        std::thread::sleep(INTERVAL);
        let live: Vec<Arc<Entry>> = {
            let mut all = registry().lock().unwrap_or_else(|p| p.into_inner());
            all.retain(|e| e.strong_count() > 0);
            all.iter().filter_map(Weak::upgrade).collect()
        };
        for entry in live {
            entry.checkpoint();
        }
    }
}

impl Entry {
    fn checkpoint(&self) {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        // (busy, frames in the log, frames copied): a passive checkpoint never waits for a
        // lock; what it cannot copy now, a later round does.
        let res = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0));
        if let Err(e) = res {
            tracing::warn!(path = %self.path.display(), error = %e, "could not checkpoint a database log");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_background_thread_copies_the_log_into_the_database() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("c.db");
        let writer = Connection::open(&path).expect("open");
        writer
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (v BLOB);")
            .expect("schema");
        let _registered = register(&path, &writer).expect("register");
        let backstop: i64 = writer
            .query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))
            .expect("pragma");
        assert_eq!(backstop, WRITER_BACKSTOP_PAGES);
        // More than SQLite's default limit of a thousand pages: the writer does not checkpoint.
        for _ in 0..1_500 {
            writer
                .execute("INSERT INTO t (v) VALUES (zeroblob(4000))", [])
                .expect("insert");
        }
        let db_len = || std::fs::metadata(&path).expect("meta").len();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while db_len() <= 1_500 * 4_000 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            db_len() > 1_500 * 4_000,
            "the rows reached the database file"
        );
    }
}
