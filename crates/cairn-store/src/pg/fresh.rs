//! What a node keeps in memory of a store many nodes write, and the reads that tell it whether
//! that is still current, without a round trip per call.
//!
//! A store whose every change moves a generation row in the change's own transaction (the
//! identity store's `identity_generation`, the trails store's `trails_generation`) lets a
//! node keep what it read under the generation it read it after ([`Kept`]): when a later
//! reading of the generation finds the same value, nothing was committed in between, on any
//! node, and what is kept is what the rows hold. A call that must see every change committed
//! before it began (a key deleted on one node is refused by every node on its next call)
//! needs a reading of the generation that began after it did ([`Fresh`]): it waits for one,
//! and every call waiting with it takes the same answer, so one round trip serves all the calls
//! that arrived while the previous one was out, however many there are.
//!
//! Why that is as fresh as reading the rows: an entry kept under generation g was read after
//! g was (its rows are at least as new as g); a call that reads g again, after it began,
//! knows that nothing changed between the entry's reading of g and its own, so every change
//! committed before the call began is in what is kept, or the generation would differ.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::thread::Thread;

use crate::error::StoreError;

/// Most entries of each kind kept; past it a map starts again empty.
const MOST_ENTRIES: usize = 10_000;

/// Shared reads of a value that must be read after the caller began (a generation).
///
/// One read is out at a time. A caller that finds none out makes one; a caller that finds one
/// out waits for the next, which the first of those waiting makes as soon as the one out
/// comes back (the others wait on). Waiting callers are woken one by one, each told whether
/// its read is done or whether it is to make it, so that no crowd of woken threads fights
/// over a lock each time a read comes back.
#[derive(Default)]
pub(crate) struct Fresh {
    state: Mutex<Reads>,
    /// The value of the last read that succeeded, and whether the last read did.
    value: AtomicU64,
    ok: AtomicBool,
}

#[derive(Default)]
struct Reads {
    /// Reads begun, and finished (one is out when they differ).
    started: u64,
    finished: u64,
    /// What the last failed read said.
    error: String,
    waiting: Vec<Waiter>,
}

/// A caller waiting for read number `wanted`.
struct Waiter {
    wanted: u64,
    thread: Thread,
    told: Arc<AtomicU8>,
}

/// What a waiting caller is told.
const WAIT: u8 = 0;
const MAKE_IT: u8 = 1;
const DONE: u8 = 2;

/// Publishes a read's outcome when dropped (a failure if the reader unwound), wakes the
/// callers it served, and hands the next read to the first caller waiting for it.
struct Finishing<'a> {
    fresh: &'a Fresh,
    number: u64,
    outcome: Option<Result<u64, String>>,
}

impl Drop for Finishing<'_> {
    fn drop(&mut self) {
        let fresh = self.fresh;
        let mut st = fresh.lock();
        match self
            .outcome
            .take()
            .unwrap_or_else(|| Err("the read did not finish".into()))
        {
            Ok(v) => {
                fresh.value.store(v, Ordering::Release);
                fresh.ok.store(true, Ordering::Release);
            }
            Err(e) => {
                st.error = e;
                fresh.ok.store(false, Ordering::Release);
            }
        }
        st.finished = self.number;
        let number = self.number;
        let (served, later): (Vec<Waiter>, Vec<Waiter>) =
            st.waiting.drain(..).partition(|w| w.wanted <= number);
        st.waiting = later;
        for w in served {
            w.told.store(DONE, Ordering::Release);
            w.thread.unpark();
        }
        // Those still waiting arrived while this read was out: the next one is theirs.
        if !st.waiting.is_empty() {
            st.started = number + 1;
            let first = st.waiting.remove(0);
            first.told.store(MAKE_IT, Ordering::Release);
            first.thread.unpark();
        }
    }
}

impl Fresh {
    fn lock(&self) -> MutexGuard<'_, Reads> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The value as `read` returns it, from a read that began after this call did: this
    /// caller's own, or one it waited for with others (or a later one).
    pub(crate) fn get(
        &self,
        read: impl FnOnce() -> Result<u64, StoreError>,
    ) -> Result<u64, StoreError> {
        let mut st = self.lock();
        // A read out now may have begun before this call: only the next one will do.
        let wanted = st.started + 1;
        if st.started == st.finished {
            st.started = wanted;
            drop(st);
            return self.make(wanted, read);
        }
        let told = Arc::new(AtomicU8::new(WAIT));
        st.waiting.push(Waiter {
            wanted,
            thread: std::thread::current(),
            told: Arc::clone(&told),
        });
        drop(st);
        loop {
            match told.load(Ordering::Acquire) {
                DONE => return self.outcome(),
                MAKE_IT => return self.make(wanted, read),
                _ => std::thread::park(),
            }
        }
    }

    /// Makes read `number`.
    fn make(
        &self,
        number: u64,
        read: impl FnOnce() -> Result<u64, StoreError>,
    ) -> Result<u64, StoreError> {
        let mut finishing = Finishing {
            fresh: self,
            number,
            outcome: None,
        };
        let out = read();
        finishing.outcome = Some(match &out {
            Ok(v) => Ok(*v),
            Err(e) => Err(e.to_string()),
        });
        drop(finishing);
        out
    }

    /// The outcome of the last read (the one this caller waited for, or a later one, which
    /// began after it too).
    fn outcome(&self) -> Result<u64, StoreError> {
        if self.ok.load(Ordering::Acquire) {
            return Ok(self.value.load(Ordering::Acquire));
        }
        Err(StoreError::Backend {
            engine: "postgres",
            message: self.lock().error.clone(),
        })
    }

    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.lock().waiting.len()
    }
}

/// Values by id, each with the generation it was read under.
pub(crate) struct Kept<V> {
    entries: RwLock<HashMap<String, (u64, V)>>,
}

impl<V> Default for Kept<V> {
    fn default() -> Self {
        Kept {
            entries: RwLock::new(HashMap::new()),
        }
    }
}

impl<V: Clone> Kept<V> {
    /// The value kept for `id` under `generation`, if any.
    pub(crate) fn get(&self, id: &str, generation: u64) -> Option<V> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        match entries.get(id) {
            Some((g, v)) if *g == generation => Some(v.clone()),
            _ => None,
        }
    }

    /// Keeps `value` for `id`, read after `generation` was.
    pub(crate) fn keep(&self, id: &str, generation: u64, value: V) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MOST_ENTRIES && !entries.contains_key(id) {
            entries.clear();
        }
        entries.insert(id.to_owned(), (generation, value));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_read_under_way_when_a_call_begins_is_not_the_one_it_takes() {
        let fresh = Arc::new(Fresh::default());
        let value = Arc::new(AtomicU64::new(1));
        let (entered, in_read) = mpsc::channel();
        let (release, go_on) = mpsc::channel::<()>();
        // A first read begins and is held in the middle.
        let first = {
            let (fresh, value) = (Arc::clone(&fresh), Arc::clone(&value));
            std::thread::spawn(move || {
                fresh.get(|| {
                    let v = value.load(Ordering::SeqCst);
                    entered.send(()).unwrap();
                    go_on.recv().unwrap();
                    Ok(v)
                })
            })
        };
        in_read.recv().unwrap();
        // A change commits, then a call begins: it must see the change.
        value.store(2, Ordering::SeqCst);
        let second = {
            let (fresh, value) = (Arc::clone(&fresh), Arc::clone(&value));
            std::thread::spawn(move || fresh.get(|| Ok(value.load(Ordering::SeqCst))))
        };
        while fresh.waiting() < 1 {
            std::thread::sleep(Duration::from_millis(1));
        }
        release.send(()).unwrap();
        assert_eq!(first.join().unwrap().unwrap(), 1);
        assert_eq!(second.join().unwrap().unwrap(), 2);
    }

    #[test]
    fn calls_waiting_together_share_one_read() {
        let fresh = Arc::new(Fresh::default());
        let reads = Arc::new(AtomicU64::new(0));
        let (entered, in_read) = mpsc::channel();
        let (release, go_on) = mpsc::channel::<()>();
        let holder = {
            let (fresh, reads) = (Arc::clone(&fresh), Arc::clone(&reads));
            std::thread::spawn(move || {
                fresh.get(|| {
                    reads.fetch_add(1, Ordering::SeqCst);
                    entered.send(()).unwrap();
                    go_on.recv().unwrap();
                    Ok(7)
                })
            })
        };
        in_read.recv().unwrap();
        let waiters: Vec<_> = (0..8)
            .map(|_| {
                let (fresh, reads) = (Arc::clone(&fresh), Arc::clone(&reads));
                std::thread::spawn(move || {
                    fresh.get(|| {
                        reads.fetch_add(1, Ordering::SeqCst);
                        Ok(8)
                    })
                })
            })
            .collect();
        while fresh.waiting() < 8 {
            std::thread::sleep(Duration::from_millis(1));
        }
        release.send(()).unwrap();
        assert_eq!(holder.join().unwrap().unwrap(), 7);
        for w in waiters {
            assert_eq!(w.join().unwrap().unwrap(), 8);
        }
        // The held read, and one more for all eight that waited for it.
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_failed_read_fails_the_calls_that_took_it_and_the_next_one_reads_again() {
        let fresh = Fresh::default();
        assert!(
            fresh
                .get(|| Err(StoreError::Invalid("down".into())))
                .is_err()
        );
        assert_eq!(fresh.get(|| Ok(3)).unwrap(), 3);
    }

    #[test]
    fn a_read_that_panics_leaves_the_next_callers_able_to_read() {
        let fresh = Arc::new(Fresh::default());
        let f = Arc::clone(&fresh);
        assert!(
            std::thread::spawn(move || f.get(|| panic!("read failed")))
                .join()
                .is_err()
        );
        assert_eq!(fresh.get(|| Ok(4)).unwrap(), 4);
    }

    #[test]
    fn kept_values_answer_only_under_their_generation() {
        let kept: Kept<String> = Kept::default();
        kept.keep("a", 3, "x".into());
        assert_eq!(kept.get("a", 3).as_deref(), Some("x"));
        assert_eq!(kept.get("a", 4), None);
        assert_eq!(kept.get("b", 3), None);
    }
}
