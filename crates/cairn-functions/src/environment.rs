//! One execution environment: a function's process, its Runtime API and its log pipe, and
//! running one invocation on it from the hand-over to the outcome (result, function error,
//! timeout, or the process dying), with the log lines framed as Lambda frames them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::process::Child;

use crate::logpipe::LogPipe;
use crate::process::{self, Launch};
use crate::report::{self, Report, now_ms};
use crate::runtime_api::{ApiEvent, Job, RuntimeApi};
use crate::{FunctionSpec, Invocation, Outcome};

/// How long a new process may take to ask for its first invocation when the function's own
/// timeout is shorter (Lambda's init phase gets 10 seconds).
const INIT_LIMIT: Duration = Duration::from_secs(10);

/// What to start: the process and the places it knows.
pub(crate) struct Start<'a> {
    pub spec: &'a FunctionSpec,
    pub invocation: &'a Invocation,
    pub program: PathBuf,
    pub args: Vec<std::ffi::OsString>,
    pub code_dir: &'a Path,
    pub runtime_dir: &'a Path,
    pub lang_bin: Option<&'a Path>,
    pub python: bool,
    pub python_path: &'a [PathBuf],
    pub endpoint_url: Option<&'a str>,
    pub run_as: Option<(u32, u32)>,
    pub generation: u64,
}

pub(crate) struct Environment {
    pub arn: String,
    pub revision_id: String,
    pub credentials_expire_ms: i64,
    /// The function's retire count when this started; a later retire makes it stale.
    pub generation: u64,
    pub last_used: Instant,
    log_stream: String,
    child: Child,
    pid: u32,
    api: RuntimeApi,
    logs: LogPipe,
    spawned_at: Instant,
    initialized: bool,
    max_memory_mb: u64,
    /// Keeps the code it runs from being swept while it lives.
    pub lease: Option<crate::code::CodeLease>,
}

impl Drop for Environment {
    fn drop(&mut self) {
        // Killed before tokio reaps the leader, so the group id is still ours.
        process::kill_group(self.pid);
    }
}

/// The result of one invocation, and whether the environment can take another.
pub(crate) struct Ran {
    pub outcome: Outcome,
    pub reusable: bool,
}

enum End {
    Response(Bytes),
    Error(Bytes),
    Platform(Bytes),
    TimedOut(String),
    Exited(Option<std::process::ExitStatus>),
}

impl Environment {
    pub(crate) async fn start(at: Start<'_>) -> std::io::Result<Environment> {
        let spawned_at = Instant::now();
        let (logs, output) = LogPipe::new()?;
        let api = RuntimeApi::start(Box::new(logs.marker()), at.run_as.map(|(uid, _)| uid)).await?;
        let log_stream = report::log_stream_name(&at.spec.version);
        let runtime_api = api.addr.to_string();
        let env = crate::function_env::build(
            at.spec,
            &at.invocation.credentials,
            &crate::function_env::Places {
                code_dir: at.code_dir,
                runtime_dir: at.runtime_dir,
                lang_bin: at.lang_bin,
                runtime_api: &runtime_api,
                log_stream: &log_stream,
                python: at.python,
                python_path: at.python_path,
                endpoint_url: at.endpoint_url,
            },
        );
        let launch = Launch {
            program: at.program,
            args: at.args,
            cwd: at.code_dir.to_path_buf(),
            env,
            run_as: at.run_as,
        };
        let child = process::spawn(&launch, output)?;
        let pid = child.id().unwrap_or(0);
        tracing::debug!(function = %at.spec.arn, pid, stream = %log_stream, "function process started");
        Ok(Environment {
            arn: at.spec.arn.clone(),
            revision_id: at.spec.revision_id.clone(),
            credentials_expire_ms: at.invocation.credentials.expires_at_ms,
            generation: at.generation,
            last_used: Instant::now(),
            log_stream,
            child,
            pid,
            api,
            logs,
            spawned_at,
            initialized: false,
            max_memory_mb: 0,
            lease: None,
        })
    }

    /// Whether the process is still running (a warm one may have exited while idle).
    pub(crate) fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub(crate) async fn run(&mut self, spec: &FunctionSpec, inv: Invocation) -> Ran {
        let cold = !self.initialized;
        let begun = Instant::now();
        let request_id = inv.request_id.clone();
        let job = Job {
            request_id: request_id.clone(),
            payload: inv.payload,
            function_arn: spec.arn.clone(),
            timeout_ms: spec.timeout_ms,
            client_context: inv.client_context,
        };
        let timeout = Duration::from_millis(spec.timeout_ms);
        let mut log: Vec<(i64, String)> = Vec::new();

        let handed = if self.api.jobs.send(job).await.is_err() {
            Err(End::Exited(self.child.try_wait().ok().flatten()))
        } else {
            let limit = if cold {
                timeout.max(INIT_LIMIT)
            } else {
                timeout
            };
            self.wait_started(begun + limit, &request_id, spec.timeout_ms)
                .await
        };
        // Everything written before the hand-over (a cold start's init, or output between
        // invocations) comes before START, as on AWS; when nothing was handed over, all of it.
        let (started_at, start_ms) = match &handed {
            Ok(at) => {
                log.extend(self.logs.take_before_mark());
                *at
            }
            Err(_) => {
                self.logs.drain();
                log.extend(self.logs.take(true));
                (Instant::now(), now_ms())
            }
        };
        if cold {
            self.initialized = true;
        }
        let init_duration_ms = cold.then(|| ms(started_at - self.spawned_at));
        log.push((start_ms, report::start_line(&request_id, &spec.version)));

        let end = match handed {
            Ok((at, _)) => {
                self.wait_end(at + timeout, &request_id, spec.timeout_ms)
                    .await
            }
            Err(end) => end,
        };
        let duration_ms = ms(started_at.elapsed());
        if let Some(mb) = process::max_memory_mb(self.pid) {
            self.max_memory_mb = mb;
        }
        let reusable = matches!(end, End::Response(_) | End::Error(_));
        if !reusable {
            process::kill_group(self.pid);
        }
        self.logs.drain();
        log.extend(self.logs.take(true));

        let (payload, function_error) = match end {
            End::Response(body) => (body, None),
            End::Error(body) | End::Platform(body) => (body, Some("Unhandled".to_string())),
            End::TimedOut(message) => {
                log.push((now_ms(), format!("{message}\n")));
                (
                    report::timeout_payload(&message),
                    Some("Unhandled".to_string()),
                )
            }
            End::Exited(status) => {
                let message = report::exited_message(&request_id, status);
                log.push((now_ms(), format!("{message}\nRuntime.ExitError\n")));
                (
                    report::platform_error("Runtime.ExitError", &message),
                    Some("Unhandled".to_string()),
                )
            }
        };
        // Custom runtimes are billed for their init too.
        let billed_from = if spec.runtime.starts_with("provided") {
            duration_ms + init_duration_ms.unwrap_or(0.0)
        } else {
            duration_ms
        };
        log.push((now_ms(), report::end_line(&request_id)));
        let report = Report {
            request_id: &request_id,
            duration_ms,
            billed_ms: report::billed_ms(billed_from),
            memory_mb: spec.memory_mb,
            max_memory_mb: self.max_memory_mb,
            init_duration_ms,
        };
        log.push((now_ms(), report.line()));
        self.last_used = Instant::now();
        Ran {
            outcome: Outcome {
                payload,
                function_error,
                log_stream: self.log_stream.clone(),
                log,
                duration_ms,
                init_duration_ms,
            },
            reusable,
        }
    }

    /// Waits for the process to take the invocation (`next`).
    async fn wait_started(
        &mut self,
        until: Instant,
        request_id: &str,
        timeout_ms: u64,
    ) -> Result<(Instant, i64), End> {
        let sleep = tokio::time::sleep_until(until.into());
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                biased;
                event = self.api.events.recv() => match event {
                    Some(ApiEvent::Started { at, at_ms }) => return Ok((at, at_ms)),
                    Some(ApiEvent::InitError { body }) => return Err(End::Platform(init_error_doc(body))),
                    Some(other) => tracing::debug!(?other, "runtime API event before the hand-over"),
                    None => return Err(End::Exited(None)),
                },
                status = self.child.wait() => return Err(End::Exited(status.ok())),
                () = &mut sleep => return Err(End::TimedOut(report::timed_out(request_id, timeout_ms))),
            }
        }
    }

    /// Waits for the invocation's response or error, the process's death, or the timeout.
    async fn wait_end(&mut self, until: Instant, request_id: &str, timeout_ms: u64) -> End {
        let sleep = tokio::time::sleep_until(until.into());
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                biased;
                event = self.api.events.recv() => match event {
                    Some(ApiEvent::Response { request_id: id, body }) if id == request_id => return End::Response(body),
                    Some(ApiEvent::Error { request_id: id, body }) if id == request_id => return End::Error(body),
                    Some(ApiEvent::TooLarge { request_id: id }) if id == request_id => {
                        return End::Platform(report::platform_error(
                            "Function.ResponseSizeTooLarge",
                            &format!(
                                "Response payload size exceeded maximum allowed payload size ({} bytes).",
                                crate::runtime_api::MAX_RESPONSE_BYTES
                            ),
                        ));
                    }
                    Some(other) => tracing::debug!(?other, "unexpected runtime API event"),
                    None => return End::Exited(None),
                },
                status = self.child.wait() => return End::Exited(status.ok()),
                () = &mut sleep => return End::TimedOut(report::timed_out(request_id, timeout_ms)),
            }
        }
    }
}

/// The document an init failure answers the invocation with: what the runtime posted, or a
/// platform error when it posted nothing usable.
fn init_error_doc(body: Bytes) -> Bytes {
    if serde_json::from_slice::<serde_json::Value>(&body).is_ok_and(|v| v.is_object()) {
        body
    } else {
        report::platform_error("Runtime.Unknown", &String::from_utf8_lossy(&body))
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
