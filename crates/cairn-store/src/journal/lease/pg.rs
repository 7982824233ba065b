//! Consumer leases in PostgreSQL (schema in `sql/pg/leases_*.sql`): one row per consumer,
//! taken, renewed and handed over by a single conditional upsert, so two nodes asking at once
//! cannot both get it.
//!
//! A node's name is stable across its restarts (kept in its directory), so a node restarted
//! after a crash takes its consumers back at once instead of waiting for its old leases to
//! expire. That is safe only while one process at a time runs under a name: each node holds a
//! session advisory lock on its name for its life ([`PgLeases::claim_node`]), which PostgreSQL
//! frees when the process dies.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use postgres::Client;

use super::{Lease, Leases};
use crate::error::StoreError;
use crate::journal::Round;
use crate::pg::{Migration, PgConn, Session, advisory_key, backend, client};

const MIGRATIONS: &[Migration] = &[Migration {
    store: "leases",
    version: 1,
    sql: include_str!("../../../sql/pg/leases_0001.sql"),
}];

/// Leases in one schema of a PostgreSQL database. A lost connection is made again on the next
/// call (until then, no lease is granted: the consumer waits rather than risk running twice).
pub struct PgLeases {
    url: String,
    schema: String,
    conn: Session,
    /// A session per consumer, holding its advisory lock for the length of a round (see
    /// [`Leases::exclusively`]): PostgreSQL lets one session hold it at a time, and frees it
    /// when the session ends, so a node that dies mid-round holds nothing.
    round_locks: Mutex<HashMap<String, Arc<Mutex<Option<PgConn>>>>>,
    /// The session holding this node's claim on its name, for the node's life.
    node_claim: Mutex<Option<Client>>,
}

/// How often a node whose name is still claimed asks again, and for how long: a process
/// killed a moment ago may hold the claim until PostgreSQL sees its connection close.
const CLAIM_EVERY: Duration = Duration::from_millis(250);
const CLAIM_FOR: Duration = Duration::from_secs(10);

/// The advisory lock key of consumer `name` in `schema`: the first 8 bytes of a digest, so that
/// deployments sharing a database do not exclude each other.
fn round_key(schema: &str, name: &str) -> i64 {
    advisory_key("round", schema, name)
}

impl PgLeases {
    pub fn open(url: &str, schema: &str) -> Result<PgLeases, StoreError> {
        let c = client(url, schema, MIGRATIONS)?;
        Ok(PgLeases {
            url: url.to_owned(),
            schema: schema.to_owned(),
            conn: Session::new(url, schema, "leases", Some(c)),
            round_locks: Mutex::new(HashMap::new()),
            node_claim: Mutex::new(None),
        })
    }

    /// Claims `node`, this process's name among lease holders, for as long as this value
    /// lives, and moves the leases the name still holds (from before a crash) to a new epoch:
    /// they are this process's now, and a consumer writing under the old epoch is not it.
    /// Refused, after waiting a while, when another running process holds the name (a copy
    /// of a node's directory started as a second node).
    pub fn claim_node(&self, node: &str) -> Result<(), StoreError> {
        self.claim_node_within(node, CLAIM_FOR)
    }

    fn claim_node_within(&self, node: &str, wait: Duration) -> Result<(), StoreError> {
        let key = advisory_key("node", &self.schema, node);
        let mut c = client(&self.url, &self.schema, &[])?;
        let deadline = Instant::now() + wait;
        loop {
            let got: bool = c
                .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                .map_err(backend)?
                .get(0);
            if got {
                break;
            }
            if Instant::now() >= deadline {
                crate::pg::close(Some(c));
                return Err(StoreError::Invalid(format!(
                    "another running node is named {node}: each node needs a directory of its own (a copied directory keeps the original's node.id; remove it from the copy)"
                )));
            }
            std::thread::sleep(CLAIM_EVERY);
        }
        c.execute(
            "UPDATE consumer_leases SET epoch = epoch + 1 WHERE holder = $1",
            &[&node],
        )
        .map_err(backend)?;
        let old = self
            .node_claim
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(c);
        crate::pg::close(old);
        Ok(())
    }

    fn round_session(&self, name: &str) -> Arc<Mutex<Option<PgConn>>> {
        let mut all = self.round_locks.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(all.entry(name.to_owned()).or_default())
    }
}

impl Drop for PgLeases {
    fn drop(&mut self) {
        let sessions = self
            .round_locks
            .get_mut()
            .unwrap_or_else(|p| p.into_inner());
        for (_, s) in sessions.drain() {
            drop(s.lock().unwrap_or_else(|p| p.into_inner()).take());
        }
        crate::pg::close(
            self.node_claim
                .get_mut()
                .unwrap_or_else(|p| p.into_inner())
                .take(),
        );
    }
}

impl Leases for PgLeases {
    fn hold(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<Option<Lease>, StoreError> {
        let until = now_ms.saturating_add(ttl_ms);
        let row = self.conn.with(|c| {
            c.query_opt(
                "INSERT INTO consumer_leases AS l (name, holder, epoch, expires_ms)
                 VALUES ($1, $2, 1, $4)
                 ON CONFLICT (name) DO UPDATE SET
                     epoch = CASE WHEN l.holder = EXCLUDED.holder THEN l.epoch ELSE l.epoch + 1 END,
                     holder = EXCLUDED.holder,
                     expires_ms = EXCLUDED.expires_ms
                 WHERE l.holder = EXCLUDED.holder OR l.expires_ms < $3
                 RETURNING epoch, expires_ms",
                &[&name, &holder, &now_ms, &until],
            )
        })?;
        Ok(row.map(|r| Lease {
            epoch: r.get::<_, i64>(0) as u64,
            expires_ms: r.get(1),
        }))
    }

    fn take(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<Lease, StoreError> {
        let until = now_ms.saturating_add(ttl_ms);
        let row = self.conn.with(|c| {
            c.query_one(
                "INSERT INTO consumer_leases AS l (name, holder, epoch, expires_ms)
                 VALUES ($1, $2, 1, $3)
                 ON CONFLICT (name) DO UPDATE SET
                     epoch = CASE WHEN l.holder = EXCLUDED.holder THEN l.epoch ELSE l.epoch + 1 END,
                     holder = EXCLUDED.holder,
                     expires_ms = GREATEST(l.expires_ms, EXCLUDED.expires_ms)
                 RETURNING epoch, expires_ms",
                &[&name, &holder, &until],
            )
        })?;
        Ok(Lease {
            epoch: row.get::<_, i64>(0) as u64,
            expires_ms: row.get(1),
        })
    }

    fn exclusively(
        &self,
        name: &str,
        round: &mut dyn FnMut() -> Result<Round, String>,
    ) -> Result<Round, String> {
        let key = round_key(&self.schema, name);
        let session = self.round_session(name);
        let mut guard = session.lock().unwrap_or_else(|p| p.into_inner());
        let slot: &mut Option<PgConn> = &mut guard;
        let locked = crate::pg::blocking(|| -> Result<(), StoreError> {
            if slot.as_ref().is_none_or(|c| c.is_closed()) {
                let c = client(&self.url, &self.schema, &[])?;
                *slot = Some(PgConn::new(c, &self.url, &self.schema));
            }
            let Some(c) = slot.as_mut() else {
                return Err(StoreError::Invalid(
                    "no session for the round's lock".into(),
                ));
            };
            // Waits for a round of this consumer running on another node (its lock_timeout
            // ends a wait on a node that stays frozen: this round is then skipped).
            c.execute("SELECT pg_advisory_lock($1)", &[&key])
                .map(|_| ())
                .map_err(backend)
        });
        if let Err(e) = locked {
            *slot = None;
            return Err(format!(
                "could not make sure the {name} round runs alone: {e}"
            ));
        }
        let out = round();
        let unlocked = crate::pg::blocking(|| match slot.as_mut() {
            Some(c) => c
                .execute("SELECT pg_advisory_unlock($1)", &[&key])
                .map(|_| ()),
            None => Ok(()),
        });
        if let Err(e) = unlocked {
            // Ending the session frees the lock.
            tracing::warn!(consumer = name, error = %e, "could not unlock a round; closing its session");
            drop(slot.take());
        }
        out
    }

    fn release(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        // The row stays, so the next holder's epoch is still higher.
        self.conn.with(|c| {
            c.execute(
                "UPDATE consumer_leases SET expires_ms = $3 WHERE name = $1 AND holder = $2",
                &[&name, &holder, &i64::MIN],
            )
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use cairn_model::clock::ManualClock;

    use super::*;
    use crate::journal::Consumer;
    use crate::journal::lease::{Counting, LEASE_TTL_MS, Leased};
    use crate::suite::pg::TestPostgres;

    #[test]
    fn a_restarted_node_takes_its_leases_back_at_once_and_a_copy_of_it_is_refused() {
        let server = TestPostgres::start();
        let before = PgLeases::open(&server.url(), "leases").unwrap();
        before.claim_node("host-n1").unwrap();
        let t = 1_000_000;
        let held = before
            .hold("delivery", "host-n1", t, 5_000)
            .unwrap()
            .unwrap();
        // A second process under the same name is refused while the first runs.
        let copy = PgLeases::open(&server.url(), "leases").unwrap();
        let refused = copy
            .claim_node_within("host-n1", Duration::from_millis(300))
            .unwrap_err();
        assert!(refused.to_string().contains("node.id"), "{refused}");
        // The first dies (its sessions end) with its lease unexpired: the restarted node takes
        // it back at once, under a new epoch.
        drop(before);
        let after = PgLeases::open(&server.url(), "leases").unwrap();
        after.claim_node("host-n1").unwrap();
        let back = after
            .hold("delivery", "host-n1", t + 1, 5_000)
            .unwrap()
            .unwrap();
        assert_eq!(back.epoch, held.epoch + 1);
        // Other nodes still wait for it.
        assert_eq!(
            copy.hold("delivery", "host-n2", t + 2, 5_000).unwrap(),
            None
        );
    }

    #[test]
    fn one_node_holds_a_lease_until_it_stops_renewing_and_the_next_holder_has_a_higher_epoch() {
        let server = TestPostgres::start();
        let (a, b) = (
            PgLeases::open(&server.url(), "leases").unwrap(),
            PgLeases::open(&server.url(), "leases").unwrap(),
        );
        let t = 1_000_000;
        let first = a.hold("digests", "node-a", t, 5_000).unwrap().unwrap();
        assert_eq!(first.epoch, 1);
        assert_eq!(b.hold("digests", "node-b", t + 1, 5_000).unwrap(), None);
        // Renewing keeps the epoch; another consumer's lease is separate.
        let renewed = a
            .hold("digests", "node-a", t + 4_000, 5_000)
            .unwrap()
            .unwrap();
        assert_eq!((renewed.epoch, renewed.expires_ms), (1, t + 9_000));
        assert!(b.hold("history", "node-b", t, 5_000).unwrap().is_some());
        assert_eq!(b.hold("digests", "node-b", t + 8_999, 5_000).unwrap(), None);
        // Node a stops renewing (it died): once its lease expired, b takes over, fenced.
        let taken = b
            .hold("digests", "node-b", t + 9_001, 5_000)
            .unwrap()
            .unwrap();
        assert_eq!(taken.epoch, 2);
        assert_eq!(a.hold("digests", "node-a", t + 9_002, 5_000).unwrap(), None);
        // A clean stop hands the lease over at once, and the epoch still grows.
        b.release("digests", "node-b").unwrap();
        assert_eq!(
            a.hold("digests", "node-a", t + 9_003, 5_000)
                .unwrap()
                .unwrap()
                .epoch,
            3
        );
    }

    /// The database stops and starts again: meanwhile no lease is granted (the asking fails,
    /// each time trying to connect once); afterwards the holder renews at once, even if its
    /// connection sat idle through the restart.
    #[test]
    fn leases_are_refused_while_the_database_is_down_and_granted_after() {
        let server = TestPostgres::start();
        let a = PgLeases::open(&server.url(), "leases").unwrap();
        let t = 1_000_000;
        assert_eq!(
            a.hold("digests", "node-a", t, 5_000)
                .unwrap()
                .unwrap()
                .epoch,
            1
        );
        server.stop();
        for i in 1..3 {
            let e = a.hold("digests", "node-a", t + i, 5_000).unwrap_err();
            assert!(matches!(e, StoreError::Backend { .. }), "{e}");
        }
        assert!(a.release("digests", "node-a").is_err());
        server.start_again();
        let renewed = a.hold("digests", "node-a", t + 10, 5_000).unwrap().unwrap();
        assert_eq!((renewed.epoch, renewed.expires_ms), (1, t + 5_010));

        server.stop();
        server.start_again();
        let renewed = a.hold("digests", "node-a", t + 20, 5_000).unwrap().unwrap();
        assert_eq!((renewed.epoch, renewed.expires_ms), (1, t + 5_020));
    }

    /// Two nodes run the same consumer's rounds: only the lease holder's do anything, and when
    /// it dies the other takes the consumer over within the lease's time.
    #[test]
    fn a_consumer_runs_on_one_node_and_moves_when_that_node_dies() {
        let server = TestPostgres::start();
        let clock = ManualClock::new(5_000_000);
        let node = |name: &str| {
            Leased::new(
                Counting(AtomicU64::new(0)),
                Arc::new(PgLeases::open(&server.url(), "cluster").unwrap()),
                name,
                Arc::new(clock.clone()),
                LEASE_TTL_MS,
            )
        };
        let (a, b) = (node("node-a"), node("node-b"));
        for _ in 0..10 {
            a.run_due().unwrap();
            b.run_due().unwrap();
            clock.advance_millis(1_000);
        }
        assert_eq!(a.inner.0.load(Ordering::SeqCst), 10);
        assert_eq!(b.inner.0.load(Ordering::SeqCst), 0);
        // Node a dies: b keeps asking and takes over once a's lease has run out.
        let mut waited = 0;
        while b.run_due().unwrap().done == 0 {
            clock.advance_millis(500);
            waited += 500;
        }
        assert!(waited <= LEASE_TTL_MS, "moved after {waited} ms");
        assert_eq!(b.epoch(), a.epoch() + 1);
    }

    /// A consumer whose round sleeps, then counts.
    struct Slow(std::time::Duration);

    impl Consumer for Slow {
        fn name(&self) -> &'static str {
            "slow"
        }
        fn needs_from(&self) -> Result<u64, StoreError> {
            Ok(0)
        }
        fn run_due(&self) -> Result<Round, String> {
            std::thread::sleep(self.0);
            Ok(Round { done: 1 })
        }
    }

    /// A round that lasts several times the lease's life keeps the lease (renewed while it
    /// runs): another node does not take the consumer meanwhile.
    #[test]
    fn a_long_round_keeps_its_lease() {
        use std::time::Duration;
        let server = TestPostgres::start();
        let ttl = 300;
        let clock: Arc<dyn cairn_model::Clock> = Arc::new(cairn_model::SystemClock);
        let a = Leased::new(
            Slow(Duration::from_millis(4 * ttl as u64)),
            Arc::new(PgLeases::open(&server.url(), "long").unwrap()),
            "node-a",
            Arc::clone(&clock),
            ttl,
        );
        let b = PgLeases::open(&server.url(), "long").unwrap();
        let round = std::thread::spawn(move || a.run_due().unwrap());
        let mut refused = 0;
        for _ in 0..6 {
            std::thread::sleep(Duration::from_millis(ttl as u64 / 2));
            if b.hold("slow", "node-b", clock.now_millis(), ttl)
                .unwrap()
                .is_none()
            {
                refused += 1;
            }
        }
        assert_eq!(round.join().unwrap(), Round { done: 1 });
        assert_eq!(refused, 6, "node-b took the lease during the round");
    }

    /// When each round began and ended, and of which consumer.
    type Spans = Arc<Mutex<Vec<(std::time::Instant, std::time::Instant, &'static str)>>>;

    #[test]
    fn rounds_of_one_consumer_never_overlap_across_nodes_and_a_forced_round_takes_the_lease() {
        use std::time::{Duration, Instant};
        let server = TestPostgres::start();
        let url = server.url();
        let a = Arc::new(PgLeases::open(&url, "rounds").unwrap());
        let b = Arc::new(PgLeases::open(&url, "rounds").unwrap());
        let spans = Arc::new(Mutex::new(Vec::new()));
        let run = |leases: Arc<PgLeases>, name: &'static str, spans: Spans| {
            std::thread::spawn(move || {
                leases
                    .exclusively(name, &mut || {
                        let start = Instant::now();
                        std::thread::sleep(Duration::from_millis(300));
                        spans.lock().unwrap().push((start, Instant::now(), name));
                        Ok(Round { done: 1 })
                    })
                    .unwrap()
            })
        };
        let t1 = run(Arc::clone(&a), "delivery", Arc::clone(&spans));
        std::thread::sleep(Duration::from_millis(50));
        let t2 = run(Arc::clone(&b), "delivery", Arc::clone(&spans));
        // Another consumer is not held up by this one's rounds.
        let t3 = run(Arc::clone(&b), "digests", Arc::clone(&spans));
        for t in [t1, t2, t3] {
            assert_eq!(t.join().unwrap(), Round { done: 1 });
        }
        let spans = spans.lock().unwrap().clone();
        let delivery: Vec<_> = spans.iter().filter(|s| s.2 == "delivery").collect();
        assert_eq!(delivery.len(), 2);
        let (first, second) = if delivery[0].0 < delivery[1].0 {
            (delivery[0], delivery[1])
        } else {
            (delivery[1], delivery[0])
        };
        assert!(
            second.0 >= first.1,
            "the second round began after the first ended"
        );
        let digests = spans.iter().find(|s| s.2 == "digests").unwrap();
        assert!(digests.0 < first.1, "another consumer ran meanwhile");

        // A forced round's node takes the lease from its holder, with a higher epoch.
        let held = a.hold("delivery", "node-a", 1_000, 5_000).unwrap().unwrap();
        assert!(
            b.hold("delivery", "node-b", 2_000, 5_000)
                .unwrap()
                .is_none()
        );
        let taken = b.take("delivery", "node-b", 2_000, 5_000).unwrap();
        assert!(taken.epoch > held.epoch);
        assert!(
            a.hold("delivery", "node-a", 3_000, 5_000)
                .unwrap()
                .is_none()
        );
        assert_eq!(
            b.hold("delivery", "node-b", 3_000, 5_000)
                .unwrap()
                .unwrap()
                .epoch,
            taken.epoch
        );
    }
}
