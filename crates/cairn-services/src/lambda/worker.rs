//! The asynchronous invocation worker: a consumer of Lambda's invocation queue (not of the
//! journal), run on the server's cadence and by the test clock. Each round takes the
//! invocations that are due and runs each; an invocation leaves the queue only once it ran
//! and its destination (if any) was sent, so a crash at any point runs it again (AWS's
//! at-least-once). A function error is retried as AWS retries it: twice by default (the
//! event invoke config's `MaximumRetryAttempts`), one minute before the first retry and two
//! before the second; an event older than `MaximumEventAgeInSeconds` (six hours by default)
//! is dropped. Throttled invocations wait and try again without spending an attempt, as AWS
//! keeps throttled events for their whole age. Then the on-success or on-failure destination
//! gets AWS's invocation record. Invocations run on threads of their own, so that a slow
//! function does not hold up the others.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use bytes::Bytes;
use cairn_store::StoreError;
use cairn_store::journal::{Consumer, Round};
use cairn_store::lambda::{Function, QueuedInvocation};
use serde_json::Value;

use super::credentials::{self, outside_call};
use super::destinations::{self, Result as Ended};
use super::execute;
use super::handlers::settings_of;
use super::wire::stored_config;
use crate::app::App;

/// Invocations taken per round.
const BATCH: usize = 64;
/// How long a round waits for the invocations it started: quick ones finish within their
/// round (the test clock sees them done); slow ones go on in the background, and the next
/// rounds start others meanwhile.
const ROUND_WAIT: Duration = Duration::from_secs(2);

/// AWS's defaults and delays.
const DEFAULT_RETRIES: i64 = 2;
const DEFAULT_MAX_AGE_S: i64 = 21_600;
const RETRY_DELAYS_MS: [i64; 2] = [60_000, 120_000];
/// How long a throttled invocation waits before it tries again.
const THROTTLE_WAIT_MS: i64 = 1_000;

/// Runs Lambda's queued asynchronous invocations.
pub struct Invoker {
    inner: Arc<Inner>,
}

struct Inner {
    app: Arc<App>,
    /// Invocations running now: a round does not start them twice.
    in_flight: Mutex<HashSet<i64>>,
    /// When unused function code was last swept from the executor's work directory.
    swept: Mutex<Option<std::time::Instant>>,
}

/// How often unused code is swept (code replaced or deleted meanwhile stays on disk until then).
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

fn locked(m: &Mutex<HashSet<i64>>) -> std::sync::MutexGuard<'_, HashSet<i64>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// An invocation marked running until this is dropped (even by a panic).
struct Flying {
    inner: Arc<Inner>,
    id: i64,
}

impl Drop for Flying {
    fn drop(&mut self) {
        locked(&self.inner.in_flight).remove(&self.id);
    }
}

impl Invoker {
    pub fn new(app: Arc<App>) -> Invoker {
        Invoker {
            inner: Arc::new(Inner {
                app,
                in_flight: Mutex::new(HashSet::new()),
                swept: Mutex::new(None),
            }),
        }
    }

    /// Starts the invocations due now, each on a thread of its own (as many at once as the
    /// executor runs), and waits a little for them; how many of those ran to their end
    /// (successfully or for the last time).
    /// Removes code no function has any more, at most once a minute.
    fn sweep(&self) -> Result<(), StoreError> {
        {
            let mut swept = self.inner.swept.lock().unwrap_or_else(|p| p.into_inner());
            if swept.is_some_and(|t| t.elapsed() < SWEEP_EVERY) {
                return Ok(());
            }
            *swept = Some(std::time::Instant::now());
        }
        let in_use = self.inner.app.lambda.code_in_use()?;
        let removed = self.inner.app.functions.sweep_code(&in_use);
        if removed > 0 {
            tracing::debug!(removed, "unused function code removed");
        }
        Ok(())
    }

    pub fn run_once(&self) -> Result<u64, StoreError> {
        self.sweep()?;
        let app = &self.inner.app;
        let now = app.clock.now_millis();
        let most = app.functions.config().max_concurrency.max(1);
        let due = app.lambda.due(now, BATCH)?;
        let (tx, rx) = mpsc::channel();
        let mut started = 0;
        for inv in due {
            {
                let mut flying = locked(&self.inner.in_flight);
                if flying.len() >= most || !flying.insert(inv.id) {
                    continue;
                }
            }
            let flying = Flying {
                inner: Arc::clone(&self.inner),
                id: inv.id,
            };
            let tx = tx.clone();
            let runtime = tokio::runtime::Handle::try_current().ok();
            let spawned = std::thread::Builder::new()
                .name("lambda-event".into())
                .spawn(move || {
                    let _entered = runtime.as_ref().map(tokio::runtime::Handle::enter);
                    let result = flying.inner.attempt(&inv);
                    drop(flying);
                    // The round may have stopped waiting: nobody to tell.
                    let _ = tx.send(result);
                });
            match spawned {
                Ok(_) => started += 1,
                Err(e) => tracing::error!(error = %e, "could not start an asynchronous invocation"),
            }
        }
        drop(tx);
        let deadline = Instant::now() + ROUND_WAIT;
        let mut done = 0;
        for _ in 0..started {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(result) => done += u64::from(result?),
                Err(_) => break,
            }
        }
        Ok(done)
    }
}

impl Inner {
    /// One attempt at one invocation: `true` when it left the queue.
    fn attempt(&self, inv: &QueuedInvocation) -> Result<bool, StoreError> {
        let app = &self.app;
        let Some(f) = app.lambda.function(&inv.function_arn)? else {
            // Deleted meanwhile: AWS drops its queued events.
            app.lambda.finish(inv.id)?;
            return Ok(true);
        };
        let settings = settings_of(&f);
        let retries = settings
            .as_ref()
            .and_then(|s| s.get("MaximumRetryAttempts"))
            .and_then(Value::as_i64)
            .unwrap_or(DEFAULT_RETRIES);
        let max_age_ms = settings
            .as_ref()
            .and_then(|s| s.get("MaximumEventAgeInSeconds"))
            .and_then(Value::as_i64)
            .unwrap_or(DEFAULT_MAX_AGE_S)
            * 1000;
        let now = app.clock.now_millis();
        if now - inv.created_ms > max_age_ms {
            tracing::warn!(function = %f.arn, request_id = %inv.request_id, "asynchronous invocation too old; dropped");
            self.conclude(
                &f,
                inv,
                &Ended {
                    condition: "EventAgeExceeded",
                    attempts: inv.attempts,
                    response: None,
                    function_error: None,
                },
            );
            app.lambda.finish(inv.id)?;
            return Ok(true);
        }
        let attempts = inv.attempts + 1;
        let ran = execute::run(
            app,
            &f,
            &inv.request_id,
            Bytes::from(inv.payload.clone()),
            None,
        );
        let (payload, function_error) = match ran {
            Ok(o) => (o.payload.to_vec(), o.function_error),
            Err(e) if e.code == "TooManyRequestsException" => {
                app.lambda
                    .retry_later(inv.id, inv.attempts, now + THROTTLE_WAIT_MS)?;
                return Ok(false);
            }
            Err(e) => (
                serde_json::json!({"errorMessage": e.message, "errorType": e.code})
                    .to_string()
                    .into_bytes(),
                Some("Unhandled".to_owned()),
            ),
        };
        if function_error.is_none() {
            self.conclude(
                &f,
                inv,
                &Ended {
                    condition: "Success",
                    attempts,
                    response: Some(&payload),
                    function_error: None,
                },
            );
            app.lambda.finish(inv.id)?;
            return Ok(true);
        }
        let retry = usize::try_from(attempts - 1)
            .ok()
            .and_then(|i| RETRY_DELAYS_MS.get(i));
        match retry {
            Some(delay) if attempts <= retries => {
                tracing::info!(function = %f.arn, request_id = %inv.request_id, attempts, "asynchronous invocation failed; will retry");
                app.lambda.retry_later(inv.id, attempts, now + delay)?;
                Ok(false)
            }
            _ => {
                tracing::warn!(function = %f.arn, request_id = %inv.request_id, attempts, "asynchronous invocation failed; retries exhausted");
                self.conclude(
                    &f,
                    inv,
                    &Ended {
                        condition: "RetriesExhausted",
                        attempts,
                        response: Some(&payload),
                        function_error: function_error.as_deref(),
                    },
                );
                app.lambda.finish(inv.id)?;
                Ok(true)
            }
        }
    }

    /// Sends the invocation's record to the destination its ending asks for, if one is set.
    fn conclude(&self, f: &Function, inv: &QueuedInvocation, ended: &Ended<'_>) {
        let side = if ended.condition == "Success" {
            "OnSuccess"
        } else {
            "OnFailure"
        };
        let destination = settings_of(f)
            .and_then(|s| {
                s.get("DestinationConfig")?
                    .get(side)?
                    .get("Destination")?
                    .as_str()
                    .map(str::to_owned)
            })
            .or_else(|| {
                // A dead-letter queue takes failed events' payloads when no destination does.
                (side == "OnFailure").then(|| {
                    stored_config(f)
                        .get("DeadLetterConfig")?
                        .get("TargetArn")?
                        .as_str()
                        .map(str::to_owned)
                })?
            });
        let Some(destination) = destination else {
            return;
        };
        let app = &self.app;
        let role = stored_config(f)
            .get("Role")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let record = destinations::record(f, inv, ended, app.clock.now_millis());
        let sent = credentials::for_function(app, f, &role).and_then(|creds| {
            outside_call(|| destinations::send(app, f, &creds, &destination, &record))?
        });
        if let Err(e) = sent {
            tracing::warn!(function = %f.arn, destination, error = %e.message, "could not send an invocation record to its destination");
        }
    }
}

impl Consumer for Invoker {
    fn name(&self) -> &'static str {
        "lambda-async-invocations"
    }

    /// It reads the invocation queue, not the journal.
    fn needs_from(&self) -> Result<u64, StoreError> {
        Ok(u64::MAX)
    }

    fn run_due(&self) -> Result<Round, String> {
        self.run_once()
            .map(|done| Round { done })
            .map_err(|e| e.to_string())
    }
}
