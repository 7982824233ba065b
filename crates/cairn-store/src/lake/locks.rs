//! One writer at a time for an event data store's files, across every process that shares
//! them. Appends read the store's committed positions, write files, then record the new
//! positions; compaction merges files and deletes the merged ones; opening a store deletes
//! what an append cut short left. Two processes doing these at once to one store (nodes of a
//! cluster sharing a bucket) would lose one's committed position or delete the other's files
//! mid-append: each of them holds the store's [`FileLocks`] while it runs.
//!
//! One process alone needs nothing more than its own serialization ([`OneProcess`]); a
//! cluster's nodes take a PostgreSQL advisory lock (`PgFileLocks`, in `pg.rs`), which a node
//! that dies releases with its connection.

use std::collections::HashSet;
use std::sync::{Arc, Condvar, Mutex};

use crate::error::StoreError;

/// Takes the lock on one store's files.
pub trait FileLocks: Send + Sync {
    /// Waits until no other process writes store `store`'s files, and keeps them from doing so
    /// until the returned guard is dropped.
    fn hold(&self, store: &str) -> Result<Held, StoreError>;
}

/// A store's files held; dropping it lets other processes write them.
pub struct Held(#[allow(dead_code)] Option<Box<dyn Send>>);

impl Held {
    /// A guard that releases what `inner` holds when it is dropped.
    pub fn new(inner: Box<dyn Send>) -> Held {
        Held(Some(inner))
    }

    /// Nothing to release.
    pub fn nothing() -> Held {
        Held(None)
    }
}

/// A single process writing its stores' files (the embedded mode): its own per-store
/// serialization is all there is to it.
pub struct OneProcess;

impl FileLocks for OneProcess {
    fn hold(&self, _store: &str) -> Result<Held, StoreError> {
        Ok(Held::nothing())
    }
}

/// Locks that several engines in one process share, as several processes share a database's:
/// for tests of what two nodes writing one store's files do.
#[derive(Clone, Default)]
pub struct Shared {
    held: Arc<(Mutex<HashSet<String>>, Condvar)>,
}

struct SharedHeld {
    store: String,
    held: Arc<(Mutex<HashSet<String>>, Condvar)>,
}

impl Drop for SharedHeld {
    fn drop(&mut self) {
        let (set, freed) = &*self.held;
        set.lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.store);
        freed.notify_all();
    }
}

impl FileLocks for Shared {
    fn hold(&self, store: &str) -> Result<Held, StoreError> {
        let (set, freed) = &*self.held;
        let mut held = set.lock().unwrap_or_else(|p| p.into_inner());
        while held.contains(store) {
            held = freed.wait(held).unwrap_or_else(|p| p.into_inner());
        }
        held.insert(store.to_owned());
        Ok(Held::new(Box::new(SharedHeld {
            store: store.to_owned(),
            held: Arc::clone(&self.held),
        })))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Holders of one store never overlap; other stores are not held up.
    pub(crate) fn one_holder_at_a_time(a: &dyn FileLocks, b: &dyn FileLocks) {
        let inside = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for locks in [a, b, a, b] {
                let (inside, most) = (&inside, &most);
                s.spawn(move || {
                    for _ in 0..20 {
                        let _held = locks.hold("eds-1").unwrap();
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(1));
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 1);
        let _one = a.hold("eds-1").unwrap();
        let _other = b.hold("eds-2").unwrap();
    }

    #[test]
    fn shared_locks_keep_one_holder_per_store() {
        let a = Shared::default();
        one_holder_at_a_time(&a, &a.clone());
    }
}
