//! Wakeups after journal commits. Every consumer that reacts to calls (EventBridge's router,
//! the lake's ingestion, queries and imports) subscribes its own wakeup, so that one commit
//! wakes each of them (a single shared `Notify` would wake only one waiter per commit). On a
//! cluster, other nodes' commits wake them too (`cairn_store::journal::pg::listen`).

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// The wakeups of everyone waiting for commits.
#[derive(Default)]
pub struct Commits {
    subscribed: Mutex<Vec<Arc<Notify>>>,
}

impl Commits {
    pub fn new() -> Arc<Commits> {
        Arc::new(Commits::default())
    }

    /// A wakeup of one's own, notified after every commit. It keeps one permit: a commit while
    /// its subscriber is busy is not missed.
    pub fn subscribe(&self) -> Arc<Notify> {
        let n = Arc::new(Notify::new());
        self.subscribed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::clone(&n));
        n
    }

    /// Says that a commit happened (here or, on a cluster, on another node).
    pub fn committed(&self) {
        for n in self
            .subscribed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            n.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_commit_wakes_every_subscriber_even_a_busy_one() {
        let commits = Commits::new();
        let (a, b) = (commits.subscribe(), commits.subscribe());
        commits.committed();
        // Neither was waiting yet: each kept its permit.
        tokio::time::timeout(std::time::Duration::from_secs(5), async {
            a.notified().await;
            b.notified().await;
        })
        .await
        .expect("both woken");
    }
}
