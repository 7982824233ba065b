//! [`FileLocks`] for a cluster's nodes: a PostgreSQL advisory lock per event data store, held
//! on a session of its own for as long as the store's files are written. A node that dies
//! mid-append releases it with its connection; the next writer then finds the files the
//! append cut short past the committed position and deletes them.

use std::sync::{Arc, Mutex};

use super::locks::{FileLocks, Held};
use crate::error::StoreError;
use crate::pg::{PgConn, advisory_key, backend, blocking, client};

/// How long a writer waits for another node's: an import's append may run for minutes, and a
/// channel's call waits behind it rather than fail.
const WAIT_FOR_WRITER: &str = "5min";

pub struct PgFileLocks {
    url: String,
    schema: String,
    /// Sessions not holding a lock now, kept for the next writer.
    idle: Arc<Mutex<Vec<PgConn>>>,
}

impl PgFileLocks {
    /// Locks of the stores whose metadata is in `schema` of the database at `url`.
    pub fn open(url: &str, schema: &str) -> Result<PgFileLocks, StoreError> {
        let locks = PgFileLocks {
            url: url.to_owned(),
            schema: schema.to_owned(),
            idle: Arc::default(),
        };
        // Fails now rather than at the first append when the database cannot be used.
        let first = locks.session()?;
        locks.idle_sessions().push(first);
        Ok(locks)
    }

    fn idle_sessions(&self) -> std::sync::MutexGuard<'_, Vec<PgConn>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn session(&self) -> Result<PgConn, StoreError> {
        let mut c = client(&self.url, &self.schema, &[])?;
        c.batch_execute(&format!("SET lock_timeout = '{WAIT_FOR_WRITER}'"))
            .map_err(backend)?;
        Ok(PgConn::new(c, &self.url, &self.schema))
    }
}

/// A held store: the session holding its lock, given back to the idle ones once unlocked.
struct PgHeld {
    session: Option<PgConn>,
    key: i64,
    idle: Arc<Mutex<Vec<PgConn>>>,
}

impl Drop for PgHeld {
    fn drop(&mut self) {
        let Some(mut session) = self.session.take() else {
            return;
        };
        let key = self.key;
        let unlocked = blocking(|| {
            session
                .execute("SELECT pg_advisory_unlock($1)", &[&key])
                .map(|_| session)
        });
        match unlocked {
            Ok(session) => self
                .idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(session),
            // The session was dropped with the error: ending it released the lock.
            Err(e) => {
                tracing::warn!(error = %e, "could not unlock a lake store; its session closed")
            }
        }
    }
}

impl FileLocks for PgFileLocks {
    fn hold(&self, store: &str) -> Result<Held, StoreError> {
        let key = advisory_key("lake files", &self.schema, store);
        let reused = self.idle_sessions().pop();
        let session = blocking(|| -> Result<PgConn, StoreError> {
            let mut session = match reused {
                Some(s) if !s.is_closed() => s,
                _ => self.session()?,
            };
            session
                .execute("SELECT pg_advisory_lock($1)", &[&key])
                .map_err(backend)?;
            Ok(session)
        })?;
        Ok(Held::new(Box::new(PgHeld {
            session: Some(session),
            key,
            idle: Arc::clone(&self.idle),
        })))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::suite::pg::TestPostgres;

    #[test]
    fn two_nodes_never_write_one_store_at_once_and_a_dead_holder_lets_go() {
        let server = TestPostgres::start();
        let a = PgFileLocks::open(&server.url(), "lake").unwrap();
        let b = PgFileLocks::open(&server.url(), "lake").unwrap();
        super::super::locks::tests::one_holder_at_a_time(&a, &b);
        // A holder whose session ends (its node died) frees the store.
        let held = a.hold("eds-9").unwrap();
        let mut admin = postgres::Client::connect(&server.url(), postgres::NoTls).unwrap();
        admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted",
                &[],
            )
            .unwrap();
        let _again = b.hold("eds-9").unwrap();
        drop(held);
        // The dead session is not reused: the next holder makes a new one.
        drop(_again);
        let _after = a.hold("eds-9").unwrap();
    }
}
