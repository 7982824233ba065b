//! Journal consumers: everything that reads the journal behind the writers — event history
//! indexing, trail delivery, digests, and later services' deliveries and rules — under one
//! name and one shape. Each keeps its own durable cursor; the journal may drop only what every
//! consumer has read ([`Consumers::needs_from`]); and each does what is due when asked, on the
//! cadence its host sets or when a test clock jumps ahead.

use std::sync::Arc;

use crate::error::StoreError;

/// What one round of a consumer did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Round {
    /// How many things it wrote (entries indexed, log files, digests), for logs and tests.
    pub done: u64,
}

/// A reader of the journal with its own durable cursor.
pub trait Consumer: Send + Sync + 'static {
    /// A short stable name (`history`, `trail-delivery`, `digests`), for logs and answers.
    fn name(&self) -> &'static str;
    /// The first journal offset it still needs: everything before it may be purged.
    /// A consumer that reads no journal entries answers `u64::MAX`.
    fn needs_from(&self) -> Result<u64, StoreError>;
    /// Does what is due now (blocking).
    fn run_due(&self) -> Result<Round, String>;
    /// Does what is due now on this node, whichever node usually runs it: what a test clock
    /// asks for when it jumps ahead, so that its answer follows the work.
    fn run_here(&self) -> Result<Round, String> {
        self.run_due()
    }
}

/// A consumer whose rounds never overlap, however many hosts (a periodic loop, a test clock)
/// ask for them: a second caller waits for the running round, then runs its own.
pub struct Serial<C> {
    inner: C,
    running: std::sync::Mutex<()>,
}

impl<C: Consumer> Serial<C> {
    pub fn new(inner: C) -> Arc<Serial<C>> {
        Arc::new(Serial {
            inner,
            running: std::sync::Mutex::new(()),
        })
    }
}

impl<C: Consumer> Consumer for Serial<C> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn needs_from(&self) -> Result<u64, StoreError> {
        self.inner.needs_from()
    }
    fn run_due(&self) -> Result<Round, String> {
        let _one_at_a_time = self.running.lock().unwrap_or_else(|p| p.into_inner());
        self.inner.run_due()
    }
    fn run_here(&self) -> Result<Round, String> {
        let _one_at_a_time = self.running.lock().unwrap_or_else(|p| p.into_inner());
        self.inner.run_here()
    }
}

impl<C: Consumer> Consumer for Arc<C> {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn needs_from(&self) -> Result<u64, StoreError> {
        (**self).needs_from()
    }
    fn run_due(&self) -> Result<Round, String> {
        (**self).run_due()
    }
    fn run_here(&self) -> Result<Round, String> {
        (**self).run_here()
    }
}

/// The consumers of one journal, in the order a round runs them (a digest lists the files
/// delivery wrote just before it).
#[derive(Clone, Default)]
pub struct Consumers {
    all: Vec<Arc<dyn Consumer>>,
}

impl Consumers {
    pub fn new() -> Consumers {
        Consumers::default()
    }

    pub fn register(&mut self, c: Arc<dyn Consumer>) -> &mut Consumers {
        self.all.push(c);
        self
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Consumer>> {
        self.all.iter()
    }

    /// The offset before which no consumer needs anything: the slowest cursor.
    pub fn needs_from(&self) -> Result<u64, StoreError> {
        let mut min = u64::MAX;
        for c in &self.all {
            min = min.min(c.needs_from()?);
        }
        Ok(min)
    }

    /// Runs every consumer once, in order; what each did (or why it failed), by name.
    pub fn run_all(&self) -> Vec<(&'static str, Result<Round, String>)> {
        self.all.iter().map(|c| (c.name(), c.run_due())).collect()
    }

    /// Runs every consumer once on this node, in order ([`Consumer::run_here`]).
    pub fn run_all_here(&self) -> Vec<(&'static str, Result<Round, String>)> {
        self.all.iter().map(|c| (c.name(), c.run_here())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    struct Fake {
        name: &'static str,
        cursor: AtomicU64,
        runs: AtomicU64,
    }

    impl Consumer for Fake {
        fn name(&self) -> &'static str {
            self.name
        }
        fn needs_from(&self) -> Result<u64, StoreError> {
            Ok(self.cursor.load(Ordering::SeqCst))
        }
        fn run_due(&self) -> Result<Round, String> {
            let n = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(Round { done: n })
        }
    }

    fn fake(name: &'static str, cursor: u64) -> Arc<Fake> {
        Arc::new(Fake {
            name,
            cursor: AtomicU64::new(cursor),
            runs: AtomicU64::new(0),
        })
    }

    #[test]
    fn purging_stops_at_the_slowest_cursor_and_rounds_run_in_order() {
        let (a, b, c) = (fake("a", 900), fake("b", 120), fake("c", u64::MAX));
        let mut all = Consumers::new();
        all.register(a.clone())
            .register(b.clone())
            .register(c.clone());
        assert_eq!(all.needs_from().ok(), Some(120));
        b.cursor.store(1_000, Ordering::SeqCst);
        assert_eq!(all.needs_from().ok(), Some(900));
        let names: Vec<_> = all
            .run_all()
            .into_iter()
            .map(|(n, r)| (n, r.ok()))
            .collect();
        assert_eq!(
            names,
            [
                ("a", Some(Round { done: 1 })),
                ("b", Some(Round { done: 1 })),
                ("c", Some(Round { done: 1 }))
            ]
        );
        assert_eq!(Consumers::new().needs_from().ok(), Some(u64::MAX));
    }
}
