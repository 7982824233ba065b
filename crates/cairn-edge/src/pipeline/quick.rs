//! Quick workers: a few threads of the pipeline's own for calls that are answered from memory
//! or from a few rows read by key (an operation marked [`Operation::quick`]).
//!
//! Every call leaves the async reactor for the part that touches the stores, so that a slow
//! disk or a held lock never stalls the connections the reactor drives. Tokio's blocking pool
//! wakes a sleeping thread for each such call (it keeps many idle), and under load those
//! wake-ups and the switches they cause cost more than the calls themselves. Here a worker
//! that finishes a call takes the next queued one without sleeping, and a sleeping worker is
//! woken only when no worker is awake or the queue grows long, as the journal's group commit
//! gathers calls into one fsync.
//!
//! The queue is bounded: past [`MOST_QUEUED`] calls waiting, a call takes a blocking thread of
//! its own as every other call does, so a burst (or a worker held up by a slow read) never
//! makes calls wait behind each other for long. The workers are ordinary threads, scheduled
//! by the kernel beside the reactor's, not work done on the reactor itself.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

/// Most calls waiting for a quick worker; past it a call takes a blocking thread.
const MOST_QUEUED: usize = 64;

/// Calls queued per awake worker before another sleeping one is woken to help.
const BACKLOG_PER_WORKER: usize = 4;

/// Most quick workers, whatever the number of cores.
const MOST_WORKERS: usize = 4;

/// Quick workers of a node whose stores are in a database shared with other nodes, whatever
/// the number of cores: there a worker spends most of a call waiting for the database (a
/// round trip on the network, or a reading of a generation shared with other calls:
/// `cairn_store::pg::fresh`), not on a core, and the more calls wait together, the more share
/// each reading.
const NETWORKED_WORKERS: usize = 8;

type Job = Box<dyn FnOnce() + Send>;

/// The quick workers of one application; they stop when it is dropped.
pub struct QuickWorkers {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    /// Wakes a sleeping worker (a call arrived, or the workers are closing).
    work: Condvar,
}

struct State {
    queue: VecDeque<Job>,
    workers: usize,
    /// Workers waiting on `work`.
    sleeping: usize,
    /// Sleeping workers already woken and not yet running: counted as awake.
    woken: usize,
    closed: bool,
}

impl State {
    fn awake(&self) -> usize {
        self.workers - (self.sleeping - self.woken.min(self.sleeping))
    }
}

impl QuickWorkers {
    /// Starts one worker per core, at most [`MOST_WORKERS`]; [`NETWORKED_WORKERS`] when the
    /// stores are `networked` (a cluster's, in PostgreSQL).
    pub fn start(networked: bool) -> std::io::Result<QuickWorkers> {
        let n = if networked {
            NETWORKED_WORKERS
        } else {
            std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(1)
                .clamp(1, MOST_WORKERS)
        };
        QuickWorkers::with_workers(n)
    }

    fn with_workers(n: usize) -> std::io::Result<QuickWorkers> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::with_capacity(MOST_QUEUED),
                workers: n,
                sleeping: 0,
                woken: 0,
                closed: false,
            }),
            work: Condvar::new(),
        });
        let mut threads = Vec::with_capacity(n);
        for i in 0..n {
            let s = Arc::clone(&shared);
            let t = std::thread::Builder::new()
                .name(format!("quick-{i}"))
                .spawn(move || s.work_loop());
            match t {
                Ok(t) => threads.push(t),
                Err(e) => {
                    // Let the ones already started go before giving up.
                    drop(QuickWorkers { shared, threads });
                    return Err(e);
                }
            }
        }
        Ok(QuickWorkers { shared, threads })
    }

    /// Runs `f` on a quick worker (or, when too many calls wait for one, on a blocking thread
    /// of its own) and returns what it returned; `None` if it panicked.
    pub async fn run<T, F>(&self, f: F) -> Option<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        match self.shared.push(job) {
            Ok(()) => rx.await.ok(),
            Err(job) => {
                tokio::task::spawn_blocking(job).await.ok()?;
                rx.await.ok()
            }
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a job, waking a worker only if none is awake to take it soon. Gives the job back
    /// when the queue is full or the workers are gone.
    fn push(&self, job: Job) -> Result<(), Job> {
        let mut st = self.lock();
        if st.closed || st.queue.len() >= MOST_QUEUED {
            return Err(job);
        }
        st.queue.push_back(job);
        let awake = st.awake();
        let asleep = st.workers - awake;
        if asleep > 0 && (awake == 0 || st.queue.len() > awake * BACKLOG_PER_WORKER) {
            st.woken += 1;
            self.work.notify_one();
        }
        Ok(())
    }

    fn work_loop(&self) {
        let mut st = self.lock();
        loop {
            if let Some(job) = st.queue.pop_front() {
                drop(st);
                // A panicking call drops its answer's sender (its caller sees `None`); the
                // worker carries on.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                st = self.lock();
                continue;
            }
            if st.closed {
                return;
            }
            st.sleeping += 1;
            st = self.work.wait(st).unwrap_or_else(|p| p.into_inner());
            st.sleeping -= 1;
            st.woken = st.woken.saturating_sub(1);
        }
    }
}

impl Drop for QuickWorkers {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.work.notify_all();
        let me = std::thread::current().id();
        for t in self.threads.drain(..) {
            // The application may go with the last call a worker ran: that worker ends on
            // its own once it returns.
            if t.thread().id() != me {
                let _ = t.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn runs_every_call_and_answers_each_its_own() {
        let q = Arc::new(QuickWorkers::with_workers(2).unwrap());
        let mut calls = Vec::new();
        for i in 0..500usize {
            let q = Arc::clone(&q);
            calls.push(tokio::spawn(async move { q.run(move || i * 2).await }));
        }
        for (i, c) in calls.into_iter().enumerate() {
            assert_eq!(c.await.unwrap(), Some(i * 2));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_sends_calls_to_blocking_threads() {
        let q = Arc::new(QuickWorkers::with_workers(1).unwrap());
        let (hold_tx, hold_rx) = std::sync::mpsc::channel::<()>();
        let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
        // Holds the one worker until released.
        let q2 = Arc::clone(&q);
        let held = tokio::spawn(async move {
            q2.run(move || {
                started_tx.send(()).unwrap();
                let _ = hold_rx.recv();
            })
            .await
        });
        tokio::task::spawn_blocking(move || started_rx.recv().unwrap())
            .await
            .unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        let mut queued = Vec::new();
        for _ in 0..MOST_QUEUED {
            let (q, ran) = (Arc::clone(&q), Arc::clone(&ran));
            queued.push(tokio::spawn(async move {
                q.run(move || ran.fetch_add(1, Ordering::SeqCst)).await
            }));
        }
        while q.shared.lock().queue.len() < MOST_QUEUED {
            tokio::task::yield_now().await;
        }
        // The queue is full and its worker held: this one still gets answered.
        let r = Arc::clone(&ran);
        assert!(
            q.run(move || r.fetch_add(1, Ordering::SeqCst))
                .await
                .is_some()
        );
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        hold_tx.send(()).unwrap();
        held.await.unwrap().unwrap();
        for c in queued {
            assert!(c.await.unwrap().is_some());
        }
        assert_eq!(ran.load(Ordering::SeqCst), MOST_QUEUED + 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_call_answers_none_and_the_worker_carries_on() {
        let q = QuickWorkers::with_workers(1).unwrap();
        let r: Option<()> = q.run(|| panic!("on purpose")).await;
        assert!(r.is_none());
        assert_eq!(q.run(|| 7).await, Some(7));
    }
}
