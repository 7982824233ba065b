//! Running Lake's queries: queued queries, oldest first, one at a time, through the columnar
//! engine; their rows kept for GetQueryResults. CancelQuery marks a query CANCELLED in the
//! store; a watcher sees the mark and stops the engine. A query given a `DeliveryS3Uri` has
//! its results saved there (`lake_results`) before it is marked finished. A query found RUNNING when a round
//! starts was cut short by a crash: it is queued again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cairn_store::StoreError;
use cairn_store::journal::{Consumer, Round};
use cairn_store::lake::{Query, SqlError};
use serde_json::{Value, json};

use crate::app::App;

/// Queries run per round at most (the rest wait for the next round).
const PER_ROUND: usize = 8;
/// How often a running query's cancellation is looked for.
const WATCH_EVERY: Duration = Duration::from_millis(100);

/// How long a query waits for the stores it reads to take in what was recorded before it
/// runs (another node may be ingesting them), before it runs over what they hold.
const CATCH_UP: Duration = Duration::from_secs(10);

/// The consumer.
pub struct LakeQueries {
    app: Arc<App>,
    /// Queries waiting for ingestion, since when (in this process).
    waiting: Mutex<HashMap<String, Instant>>,
}

impl LakeQueries {
    pub fn new(app: Arc<App>) -> LakeQueries {
        LakeQueries {
            app,
            waiting: Mutex::new(HashMap::new()),
        }
    }

    /// Whether the query may run now: every store it reads has taken in the journal up to
    /// `head` (so it sees every call recorded before it, StartQuery's own among them), or it
    /// has waited [`CATCH_UP`] for them.
    fn ready(&self, q: &Query, head: u64) -> Result<bool, StoreError> {
        let mut behind = false;
        for arn in &q.stores {
            if let Some(store) = self.app.lake.store(arn)?
                && super::lake_ingest::behind(&self.app, &store, head)?
            {
                behind = true;
            }
        }
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        if !behind {
            waiting.remove(&q.id);
            return Ok(true);
        }
        let since = *waiting.entry(q.id.clone()).or_insert_with(Instant::now);
        if since.elapsed() < CATCH_UP {
            return Ok(false);
        }
        waiting.remove(&q.id);
        tracing::warn!(query = %q.id, "running a query over event data stores still ingesting");
        Ok(true)
    }

    fn requeue_interrupted(&self) -> Result<(), StoreError> {
        for mut q in self.app.lake.queries_in("RUNNING")? {
            q.status = "QUEUED".into();
            self.app.lake.put_query(&q)?;
        }
        Ok(())
    }

    /// The data keys of the encrypted stores the query reads, from KMS if need be.
    fn open_keys(&self, q: &Query) -> Result<(), cairn_wire::AwsError> {
        for arn in &q.stores {
            if let Ok(Some(store)) = self.app.lake.store(arn) {
                super::lake_keys::open(&self.app, &store)?;
            }
        }
        Ok(())
    }

    fn run_one(&self, mut q: Query) -> Result<(), StoreError> {
        q.status = "RUNNING".into();
        self.app.lake.put_query(&q)?;
        let cancel = Arc::new(AtomicBool::new(false));
        let finished = Arc::new(AtomicBool::new(false));
        let watcher = {
            let (app, cancel, finished, id) = (
                Arc::clone(&self.app),
                Arc::clone(&cancel),
                Arc::clone(&finished),
                q.id.clone(),
            );
            std::thread::spawn(move || {
                while !finished.load(Ordering::Relaxed) {
                    if let Ok(Some(now)) = app.lake.query(&id)
                        && now.status == "CANCELLED"
                    {
                        cancel.store(true, Ordering::Relaxed);
                        return;
                    }
                    std::thread::sleep(WATCH_EVERY);
                }
            })
        };
        let started = Instant::now();
        let outcome = match self.open_keys(&q) {
            Ok(()) => self.app.columnar.run(&q.statement, &cancel),
            Err(e) => Err(SqlError::Failed(e.message.to_string())),
        };
        finished.store(true, Ordering::Relaxed);
        let _ = watcher.join();
        // CancelQuery may have answered while the engine finished: its word stands.
        if self
            .app
            .lake
            .query(&q.id)?
            .is_some_and(|now| now.status == "CANCELLED")
        {
            return Ok(());
        }
        let elapsed = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        q.ended_ms = Some(self.app.clock.now_millis());
        match outcome {
            Ok(answer) => {
                let rows: Vec<String> = answer
                    .rows
                    .iter()
                    .map(|r| {
                        Value::Array(
                            r.iter()
                                .map(|v| v.as_ref().map_or(Value::Null, |s| json!(s)))
                                .collect(),
                        )
                        .to_string()
                    })
                    .collect();
                // Results go to S3 before the query is marked finished: a crash in between runs
                // it again and writes the same files over.
                if q.delivery.is_some() {
                    q.delivery_status = Some(super::lake_results::deliver(
                        &self.app,
                        &q,
                        &answer.columns,
                        &answer.rows,
                    ));
                }
                q.status = "FINISHED".into();
                q.columns = Some(answer.columns);
                q.stats = json!({
                    "EventsMatched": rows.len(),
                    "EventsScanned": answer.events_scanned,
                    "BytesScanned": answer.bytes_scanned,
                    "ExecutionTimeInMillis": elapsed,
                })
                .to_string();
                self.app.lake.finish_query(&q, &rows)
            }
            Err(e) => {
                q.status = match e {
                    SqlError::Cancelled => "CANCELLED",
                    SqlError::TimedOut => "TIMED_OUT",
                    SqlError::Invalid(_) | SqlError::Failed(_) => "FAILED",
                }
                .into();
                q.error = Some(e.to_string());
                q.stats = json!({ "ExecutionTimeInMillis": elapsed }).to_string();
                if q.delivery.is_some() {
                    q.delivery_status = Some(
                        if q.status == "CANCELLED" {
                            "CANCELLED"
                        } else {
                            "FAILED"
                        }
                        .into(),
                    );
                }
                self.app.lake.finish_query(&q, &[])
            }
        }
    }
}

impl Consumer for LakeQueries {
    fn name(&self) -> &'static str {
        "lake-queries"
    }

    fn needs_from(&self) -> Result<u64, StoreError> {
        Ok(u64::MAX)
    }

    fn run_due(&self) -> Result<Round, String> {
        self.requeue_interrupted().map_err(|e| e.to_string())?;
        let queued = self
            .app
            .lake
            .queries_in("QUEUED")
            .map_err(|e| e.to_string())?;
        let head = self.app.journal.head();
        let mut done = 0;
        for q in queued.into_iter().take(PER_ROUND) {
            if !self.ready(&q, head).map_err(|e| e.to_string())? {
                continue;
            }
            self.run_one(q).map_err(|e| e.to_string())?;
            done += 1;
        }
        Ok(Round { done })
    }
}
