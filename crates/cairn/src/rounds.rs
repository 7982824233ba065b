//! Running journal consumers in the background: on a cadence ([`spawn_rounds`]) or whenever
//! something they wait for happens ([`spawn_nudged`]), off the reactor threads, one round after
//! another. A consumer that keeps failing (a full disk, no file descriptors left) is logged at
//! most once per consumer every few seconds, with how many failures were kept quiet: a round
//! runs up to ten times a second, and a failure per round must not flood the log.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cairn_store::journal::{Consumer, Consumers};

/// How often a consumer's failures are logged at most.
const QUIET: Duration = Duration::from_secs(10);

/// Failures by consumer: when one was last logged, and how many since.
#[derive(Default)]
struct Failures {
    by_name: Mutex<HashMap<&'static str, (Instant, u64)>>,
}

impl Failures {
    fn failed(&self, name: &'static str, error: &str) {
        let now = Instant::now();
        let mut all = self.by_name.lock().unwrap_or_else(|p| p.into_inner());
        match all.get_mut(name) {
            Some((last, suppressed)) if now.duration_since(*last) < QUIET => *suppressed += 1,
            Some((last, suppressed)) => {
                tracing::error!(
                    consumer = name,
                    error,
                    suppressed = *suppressed,
                    "consumer round failed"
                );
                *last = now;
                *suppressed = 0;
            }
            None => {
                tracing::error!(consumer = name, error, "consumer round failed");
                all.insert(name, (now, 0));
            }
        }
    }
}

/// Runs consumers every `every`, one round after another.
pub(crate) fn spawn_rounds(consumers: Consumers, every: Duration) {
    let failures = Arc::new(Failures::default());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let c = consumers.clone();
            match tokio::task::spawn_blocking(move || c.run_all()).await {
                Ok(rounds) => {
                    for (name, r) in rounds {
                        if let Err(e) = r {
                            failures.failed(name, &e);
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, "consumer round task failed"),
            }
        }
    });
}

/// The least time between two rounds of a nudged consumer: under load a node commits hundreds
/// of batches a second, and each would otherwise run a round of every consumer woken by
/// commits; the work of the commits in between is done by the next round all the same.
const LEAST_GAP: Duration = Duration::from_millis(10);

/// Runs a consumer after every nudge (a journal commit, events put on a bus, an invocation
/// queued), and at least every `every`, with at least [`LEAST_GAP`] between rounds.
pub(crate) fn spawn_nudged(
    consumer: Arc<dyn Consumer>,
    nudges: Vec<Arc<tokio::sync::Notify>>,
    every: Duration,
) {
    // Every nudge wakes one notifier, which keeps a permit: a nudge during a round is not lost.
    let wake = Arc::new(tokio::sync::Notify::new());
    for n in nudges {
        let wake = Arc::clone(&wake);
        tokio::spawn(async move {
            loop {
                n.notified().await;
                wake.notify_one();
            }
        });
    }
    let failures = Failures::default();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(every) => {}
            }
            let c = Arc::clone(&consumer);
            match tokio::task::spawn_blocking(move || c.run_due()).await {
                Ok(Err(e)) => failures.failed(consumer.name(), &e),
                Ok(Ok(_)) => {}
                Err(e) => tracing::error!(error = %e, "consumer round task failed"),
            }
            tokio::time::sleep(LEAST_GAP).await;
        }
    });
}
