//! The asynchronous invocation worker: a consumer of Lambda's invocation queue (not of the
//! journal), run on the server's cadence and by the test clock. Each round takes the
//! invocations that are due and runs each; an invocation leaves the queue only once it ran
//! and its destination (if any) was sent, so a crash at any point runs it again (AWS's
//! at-least-once). A function error is retried as AWS retries it: twice by default (the
//! event invoke config's `MaximumRetryAttempts`), one minute before the first retry and two
//! before the second; an event older than `MaximumEventAgeInSeconds` (six hours by default)
//! is dropped. Throttled invocations wait and try again without spending an attempt, as AWS
//! keeps throttled events for their whole age. Then the on-success or on-failure destination
//! gets AWS's invocation record.

use std::sync::Arc;

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

/// Invocations taken per round, and run at once.
const BATCH: usize = 64;
const AT_ONCE: usize = 8;

/// AWS's defaults and delays.
const DEFAULT_RETRIES: i64 = 2;
const DEFAULT_MAX_AGE_S: i64 = 21_600;
const RETRY_DELAYS_MS: [i64; 2] = [60_000, 120_000];
/// How long a throttled invocation waits before it tries again.
const THROTTLE_WAIT_MS: i64 = 1_000;

/// Runs Lambda's queued asynchronous invocations.
pub struct Invoker {
    app: Arc<App>,
}

impl Invoker {
    pub fn new(app: Arc<App>) -> Invoker {
        Invoker { app }
    }

    /// Runs the invocations due now; how many ran (successfully or for the last time).
    pub fn run_once(&self) -> Result<u64, StoreError> {
        let now = self.app.clock.now_millis();
        let due = self.app.lambda.due(now, BATCH)?;
        let mut done = 0;
        for chunk in due.chunks(AT_ONCE) {
            let results: Vec<Result<bool, StoreError>> = std::thread::scope(|s| {
                let handles: Vec<_> = chunk
                    .iter()
                    .map(|inv| {
                        let runtime = tokio::runtime::Handle::try_current().ok();
                        s.spawn(move || {
                            let _entered = runtime.as_ref().map(tokio::runtime::Handle::enter);
                            self.attempt(inv)
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(StoreError::Invalid("an invocation panicked".into()))
                        })
                    })
                    .collect()
            });
            for r in results {
                done += u64::from(r?);
            }
        }
        Ok(done)
    }

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
