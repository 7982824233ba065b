//! Which node runs each journal consumer. On one machine that is always this one ([`Solo`]);
//! nodes sharing a database take a lease per consumer ([`pg::PgLeases`]): the holder renews it
//! on each round, another node takes it only once it has expired (its holder died or lost the
//! database), and every new holder gets a higher epoch, the fencing token its writes carry so
//! that a holder that lost the lease can be told apart from the one that has it.
//!
//! [`Leased`] puts a consumer under a lease: a round runs only on the node holding it, so
//! digest chains keep a single writer and deliveries are made once.

pub mod pg;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc::RecvTimeoutError;

use cairn_model::clock::Clock;

use super::{Consumer, Round};
use crate::error::StoreError;

pub use pg::PgLeases;

/// A lease held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    /// Grows with each new holder (never with a renewal).
    pub epoch: u64,
    /// Until when it is held unless renewed (milliseconds since the Unix epoch).
    pub expires_ms: i64,
}

/// Where leases are kept.
pub trait Leases: Send + Sync + 'static {
    /// Takes or renews the lease on `name` for `holder` until `now_ms + ttl_ms`: granted when
    /// nobody holds it, `holder` already does, or the holder's lease expired before `now_ms`.
    /// `None`: another node holds it.
    fn hold(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<Option<Lease>, StoreError>;

    /// Gives the lease up at once (a node stopping cleanly), if `holder` has it.
    fn release(&self, name: &str, holder: &str) -> Result<(), StoreError>;

    /// Takes the lease on `name` for `holder` whoever holds it (a new epoch unless `holder`
    /// already does): for work a test clock makes due on this node at once.
    fn take(&self, name: &str, holder: &str, now_ms: i64, ttl_ms: i64)
    -> Result<Lease, StoreError>;

    /// Runs `round` while no other node runs a round of `name`: rounds of one consumer never
    /// overlap anywhere, even when a lease changes hands mid-round (a holder frozen past its
    /// lease and then resumed, a round a test clock forces on another node). Refuses (an
    /// error, nothing run) when that cannot be made sure of.
    fn exclusively(
        &self,
        name: &str,
        round: &mut dyn FnMut() -> Result<Round, String>,
    ) -> Result<Round, String>;

    /// Whether other nodes may hold these leases (a lease changing hands is worth a log line).
    fn shared(&self) -> bool {
        true
    }
}

/// One node: every lease is this node's, for good.
#[derive(Clone, Copy, Debug, Default)]
pub struct Solo;

impl Leases for Solo {
    fn hold(
        &self,
        _: &str,
        _: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<Option<Lease>, StoreError> {
        Ok(Some(Lease {
            epoch: 1,
            expires_ms: now_ms.saturating_add(ttl_ms),
        }))
    }
    fn release(&self, _: &str, _: &str) -> Result<(), StoreError> {
        Ok(())
    }
    fn take(&self, _: &str, _: &str, now_ms: i64, ttl_ms: i64) -> Result<Lease, StoreError> {
        Ok(Lease {
            epoch: 1,
            expires_ms: now_ms.saturating_add(ttl_ms),
        })
    }
    fn exclusively(
        &self,
        _: &str,
        round: &mut dyn FnMut() -> Result<Round, String>,
    ) -> Result<Round, String> {
        round()
    }
    fn shared(&self) -> bool {
        false
    }
}

/// How long a lease lasts unless renewed: a consumer moves to another node within this long
/// after its node dies.
pub const LEASE_TTL_MS: i64 = 5_000;

/// How long a node that found another holding a lease waits before asking again. Consumers
/// woken by every journal commit run round after round under load; asking the database on
/// each of them, on every node that does not hold the lease, cost a round trip per round and
/// consumer for nothing. Not asking only delays taking over (by at most this much after the
/// lease expired or was handed over); it never lets two nodes run the consumer.
pub const ASK_AGAIN_AFTER_MS: i64 = 250;

/// A consumer that runs its rounds only on the node holding its lease.
pub struct Leased<C> {
    inner: C,
    leases: Arc<dyn Leases>,
    node: String,
    clock: Arc<dyn Clock>,
    ttl_ms: i64,
    /// The epoch of the lease this node last held (0: never held).
    epoch: AtomicU64,
    /// Until when (by `clock`) not to ask for the lease again: another node held it.
    quiet_until_ms: AtomicI64,
}

impl<C: Consumer> Leased<C> {
    pub fn new(
        inner: C,
        leases: Arc<dyn Leases>,
        node: impl Into<String>,
        clock: Arc<dyn Clock>,
        ttl_ms: i64,
    ) -> Leased<C> {
        Leased {
            inner,
            leases,
            node: node.into(),
            clock,
            ttl_ms,
            epoch: AtomicU64::new(0),
            quiet_until_ms: AtomicI64::new(i64::MIN),
        }
    }

    /// The epoch this node last held the lease under (0: never).
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }
}

impl<C: Consumer> Consumer for Leased<C> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn needs_from(&self) -> Result<u64, StoreError> {
        self.inner.needs_from()
    }
    fn run_due(&self) -> Result<Round, String> {
        let now = self.clock.now_millis();
        if now < self.quiet_until_ms.load(Ordering::SeqCst) {
            // Another node held it a moment ago.
            return Ok(Round::default());
        }
        let held = self
            .leases
            .hold(self.inner.name(), &self.node, now, self.ttl_ms)
            .map_err(|e| format!("could not take the {} lease: {e}", self.inner.name()))?;
        let Some(lease) = held else {
            // Another node runs this consumer.
            self.quiet_until_ms
                .store(now.saturating_add(ASK_AGAIN_AFTER_MS), Ordering::SeqCst);
            return Ok(Round::default());
        };
        let before = self.epoch.swap(lease.epoch, Ordering::SeqCst);
        if before != lease.epoch && self.leases.shared() {
            tracing::info!(
                consumer = self.inner.name(),
                node = %self.node,
                epoch = lease.epoch,
                "this node now runs the consumer"
            );
        }
        let (round, expires_ms) = self.renewing(lease, &mut || {
            self.leases
                .exclusively(self.inner.name(), &mut || self.inner.run_due())
        });
        if self.clock.now_millis() > expires_ms {
            tracing::warn!(
                consumer = self.inner.name(),
                "a round outlasted its lease; another node may have started the consumer meanwhile"
            );
        }
        round
    }
    fn run_here(&self) -> Result<Round, String> {
        let now = self.clock.now_millis();
        let lease = self
            .leases
            .take(self.inner.name(), &self.node, now, self.ttl_ms)
            .map_err(|e| format!("could not take the {} lease: {e}", self.inner.name()))?;
        self.epoch.store(lease.epoch, Ordering::SeqCst);
        self.quiet_until_ms.store(i64::MIN, Ordering::SeqCst);
        self.renewing(lease, &mut || {
            self.leases
                .exclusively(self.inner.name(), &mut || self.inner.run_here())
        })
        .0
    }
}

impl<C: Consumer> Leased<C> {
    /// Runs `round` while renewing `lease` every third of its time to live, so that a long
    /// round (a large import, a slow object store) keeps its lease instead of letting another
    /// node take it only to wait for the round's lock; returns the round's result and when the
    /// lease, last renewed, expires.
    fn renewing(
        &self,
        lease: Lease,
        round: &mut dyn FnMut() -> Result<Round, String>,
    ) -> (Result<Round, String>, i64) {
        if !self.leases.shared() {
            return (round(), lease.expires_ms);
        }
        let expires = AtomicI64::new(lease.expires_ms);
        let every = std::time::Duration::from_millis((self.ttl_ms / 3).max(50) as u64);
        let (done, finished) = std::sync::mpsc::channel::<()>();
        let result = std::thread::scope(|s| {
            let expires = &expires;
            s.spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = finished.recv_timeout(every) {
                    let now = self.clock.now_millis();
                    match self
                        .leases
                        .hold(self.inner.name(), &self.node, now, self.ttl_ms)
                    {
                        Ok(Some(l)) if l.epoch == lease.epoch => {
                            expires.store(l.expires_ms, Ordering::SeqCst)
                        }
                        // Lost (or unreachable): the round's lock still keeps it alone.
                        Ok(_) => break,
                        Err(e) => tracing::debug!(
                            consumer = self.inner.name(),
                            error = %e,
                            "could not renew a lease during a round"
                        ),
                    }
                }
            });
            let r = round();
            drop(done);
            r
        });
        (result, expires.load(Ordering::SeqCst))
    }
}

/// A consumer that counts its rounds (each round's `done` is how many ran so far), for the
/// leases' tests.
#[cfg(test)]
pub(crate) struct Counting(pub(crate) AtomicU64);

#[cfg(test)]
impl Consumer for Counting {
    fn name(&self) -> &'static str {
        "counting"
    }
    fn needs_from(&self) -> Result<u64, StoreError> {
        Ok(0)
    }
    fn run_due(&self) -> Result<Round, String> {
        Ok(Round {
            done: self.0.fetch_add(1, Ordering::SeqCst) + 1,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::AtomicU64;

    use cairn_model::clock::ManualClock;

    use super::*;

    /// Another node holds every lease: counts how often it is asked.
    struct Elsewhere {
        asks: AtomicU64,
    }

    impl Leases for Elsewhere {
        fn hold(&self, _: &str, _: &str, _: i64, _: i64) -> Result<Option<Lease>, StoreError> {
            self.asks.fetch_add(1, Ordering::SeqCst);
            Ok(None)
        }
        fn release(&self, _: &str, _: &str) -> Result<(), StoreError> {
            Ok(())
        }
        fn take(&self, _: &str, _: &str, now_ms: i64, ttl_ms: i64) -> Result<Lease, StoreError> {
            Ok(Lease {
                epoch: 2,
                expires_ms: now_ms + ttl_ms,
            })
        }
        fn exclusively(
            &self,
            _: &str,
            round: &mut dyn FnMut() -> Result<Round, String>,
        ) -> Result<Round, String> {
            round()
        }
    }

    #[test]
    fn a_node_that_found_the_lease_held_asks_again_only_after_a_while() {
        let clock = ManualClock::new(1_000);
        let leases = Arc::new(Elsewhere {
            asks: AtomicU64::new(0),
        });
        let c = Leased::new(
            Counting(AtomicU64::new(0)),
            Arc::clone(&leases) as Arc<dyn Leases>,
            "n2",
            Arc::new(clock.clone()),
            LEASE_TTL_MS,
        );
        for _ in 0..5 {
            assert_eq!(c.run_due().unwrap().done, 0);
        }
        assert_eq!(leases.asks.load(Ordering::SeqCst), 1);
        clock.advance_millis(ASK_AGAIN_AFTER_MS);
        assert_eq!(c.run_due().unwrap().done, 0);
        assert_eq!(leases.asks.load(Ordering::SeqCst), 2);
        // A round forced here takes the lease and runs; the next rounds ask at once.
        assert_eq!(c.run_here().unwrap().done, 1);
        c.run_due().unwrap();
        assert_eq!(leases.asks.load(Ordering::SeqCst), 3);
        assert_eq!(
            c.inner.0.load(Ordering::SeqCst),
            1,
            "no round ran without the lease"
        );
    }

    #[test]
    fn alone_a_node_runs_every_round() {
        let clock = ManualClock::new(1_000);
        let c = Leased::new(
            Counting(AtomicU64::new(0)),
            Arc::new(Solo),
            "n1",
            Arc::new(clock),
            LEASE_TTL_MS,
        );
        assert_eq!(c.run_due().unwrap().done, 1);
        assert_eq!(c.run_due().unwrap().done, 2);
        assert_eq!(c.epoch(), 1);
    }
}
