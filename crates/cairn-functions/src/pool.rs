//! Warm execution environments and concurrency. An idle environment of the same function
//! ARN and revision, whose credentials outlive the next minute, takes the next invocation;
//! otherwise a new process starts (a cold start). At most `max_concurrency` invocations run
//! machine-wide and at most `reserved_concurrency` per function; beyond that the invocation
//! is refused (`TooManyRequestsException`). Idle environments are stopped after the idle
//! timeout and when their function is retired.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use crate::environment::{Environment, Start};
use crate::report::{self, now_ms};
use crate::{
    ExecError, ExecutorConfig, FunctionSpec, Invocation, Outcome, PythonClient, code, python,
};

/// A warm environment whose credentials expire sooner than this is not reused.
const CREDENTIALS_MARGIN_MS: i64 = 60_000;
const DEFAULT_IDLE: Duration = Duration::from_secs(300);

#[derive(Clone, Copy)]
enum Kind {
    Python,
    Provided,
}

fn kind_of(runtime: &str) -> Result<Kind, ExecError> {
    if runtime.starts_with("python3.") {
        Ok(Kind::Python)
    } else if matches!(runtime, "provided" | "provided.al2" | "provided.al2023") {
        Ok(Kind::Provided)
    } else {
        Err(ExecError::Unsupported(format!(
            "The runtime parameter of {runtime} is not supported by this executor"
        )))
    }
}

#[derive(Default)]
struct State {
    idle: HashMap<String, Vec<Environment>>,
    busy: HashMap<String, u32>,
    in_flight: usize,
    generation: HashMap<String, u64>,
    /// The uid each function runs as under `run_as`, in the order functions first started.
    uids: HashMap<String, u32>,
}

/// First uid of the range functions run as under `run_as`, one per function ARN, so no
/// function can read another's processes (`/proc/<pid>/environ` holds its role's
/// credentials). No passwd entry is needed for them.
pub(crate) const FUNCTION_UID_BASE: u32 = 200_000;

struct Settings {
    python_client: PythonClient,
    python_path: Vec<PathBuf>,
    /// `AWS_ENDPOINT_URL` for functions that set none: where their SDKs' calls go.
    endpoint_url: Option<String>,
    idle_timeout: Duration,
}

pub(crate) struct Pool {
    config: ExecutorConfig,
    state: Mutex<State>,
    settings: Mutex<Settings>,
    python: tokio::sync::OnceCell<python::Probe>,
    bootstrap: tokio::sync::OnceCell<PathBuf>,
    reaper: std::sync::Once,
    /// Code in use by live environments and running invocations.
    leases: Arc<code::Leases>,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One counted invocation; dropping it gives the slot back.
struct Slot<'a> {
    pool: &'a Pool,
    arn: String,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut state = locked(&self.pool.state);
        state.in_flight = state.in_flight.saturating_sub(1);
        if let Some(n) = state.busy.get_mut(&self.arn) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                state.busy.remove(&self.arn);
            }
        }
    }
}

impl Pool {
    pub(crate) fn new(config: ExecutorConfig) -> Pool {
        Pool {
            config,
            state: Mutex::new(State::default()),
            settings: Mutex::new(Settings {
                python_client: PythonClient::Auto,
                python_path: Vec::new(),
                endpoint_url: None,
                idle_timeout: DEFAULT_IDLE,
            }),
            python: tokio::sync::OnceCell::new(),
            bootstrap: tokio::sync::OnceCell::new(),
            reaper: std::sync::Once::new(),
            leases: Arc::default(),
        }
    }

    pub(crate) fn set_python_client(&self, client: PythonClient) {
        locked(&self.settings).python_client = client;
    }

    pub(crate) fn set_python_path(&self, dirs: Vec<PathBuf>) {
        locked(&self.settings).python_path = dirs;
    }

    pub(crate) fn set_endpoint_url(&self, url: String) {
        locked(&self.settings).endpoint_url = Some(url);
    }

    fn python_path(&self) -> Vec<PathBuf> {
        locked(&self.settings).python_path.clone()
    }

    pub(crate) fn set_idle_timeout(&self, idle: Duration) {
        locked(&self.settings).idle_timeout = idle;
    }

    /// Removes installed code neither in `in_use` nor used by a live environment or a running
    /// invocation.
    pub(crate) fn sweep_code(&self, in_use: &std::collections::HashSet<String>) -> usize {
        self.leases.sweep(&self.config.work_root, in_use)
    }

    pub(crate) fn idle_count(&self) -> usize {
        locked(&self.state).idle.values().map(Vec::len).sum()
    }

    pub(crate) fn retire(&self, arn: &str) {
        let stopped = {
            let mut state = locked(&self.state);
            *state.generation.entry(arn.to_string()).or_default() += 1;
            state.idle.remove(arn)
        };
        // Dropping an environment kills its process group.
        drop(stopped);
    }

    fn acquire(&self, spec: &FunctionSpec) -> Result<Slot<'_>, ExecError> {
        let mut state = locked(&self.state);
        if state.in_flight >= self.config.max_concurrency {
            return Err(ExecError::TooManyRequests);
        }
        let busy = state.busy.get(&spec.arn).copied().unwrap_or(0);
        if spec
            .reserved_concurrency
            .is_some_and(|reserved| busy >= reserved)
        {
            return Err(ExecError::TooManyRequests);
        }
        state.in_flight += 1;
        *state.busy.entry(spec.arn.clone()).or_default() += 1;
        Ok(Slot {
            pool: self,
            arn: spec.arn.clone(),
        })
    }

    fn take_idle(&self, spec: &FunctionSpec) -> Option<Environment> {
        let fresh_after = now_ms().saturating_add(CREDENTIALS_MARGIN_MS);
        let mut stale = Vec::new();
        let found = {
            let mut state = locked(&self.state);
            let envs = state.idle.get_mut(&spec.arn)?;
            let mut found = None;
            // Most recently used first: the others go cold and are stopped sooner. One of
            // another revision, dead, or with credentials about to expire is stopped now.
            while let Some(mut env) = envs.pop() {
                if env.revision_id == spec.revision_id
                    && env.credentials_expire_ms > fresh_after
                    && env.alive()
                {
                    found = Some(env);
                    break;
                }
                stale.push(env);
            }
            if envs.is_empty() {
                state.idle.remove(&spec.arn);
            }
            found
        };
        drop(stale);
        found
    }

    fn put_back(&self, mut env: Environment) {
        let mut state = locked(&self.state);
        let current = state.generation.get(&env.arn).copied().unwrap_or(0);
        if env.generation == current && env.alive() {
            state.idle.entry(env.arn.clone()).or_default().push(env);
        }
    }

    fn ensure_reaper(self: &Arc<Self>) {
        self.reaper.call_once(|| {
            tokio::spawn(reap(Arc::downgrade(self)));
        });
    }

    /// The (uid, gid) a function's processes run as: with `run_as`, a uid of its own from
    /// [`FUNCTION_UID_BASE`] on (assigned per ARN for the executor's lifetime) and the
    /// configured gid.
    fn run_as_for(&self, arn: &str) -> Option<(u32, u32)> {
        let (_, gid) = self.config.run_as?;
        let mut state = locked(&self.state);
        let next = u32::try_from(state.uids.len()).unwrap_or(u32::MAX);
        let uid = *state
            .uids
            .entry(arn.to_string())
            .or_insert_with(|| FUNCTION_UID_BASE.saturating_add(next));
        Some((uid, gid))
    }

    /// The interpreter to run and the client to run under it.
    async fn python(&self) -> (PathBuf, PythonClient) {
        let run_as = self.config.run_as;
        let python_path = self.python_path();
        let probe = self
            .python
            .get_or_init(|| python::probe(&self.config.python, &python_path, run_as))
            .await;
        let client = match locked(&self.settings).python_client {
            PythonClient::Auto if probe.awslambdaric => PythonClient::Awslambdaric,
            PythonClient::Auto => PythonClient::Cairn,
            other => other,
        };
        (probe.executable.clone(), client)
    }

    pub(crate) async fn invoke(
        pool: &Arc<Pool>,
        spec: &FunctionSpec,
        inv: Invocation,
    ) -> Result<Outcome, ExecError> {
        let kind = kind_of(&spec.runtime)?;
        let _running = pool.leases.lease(&spec.code_sha256);
        let code_dir = code::installed_dir(&pool.config.work_root, &spec.code_sha256)
            .ok_or_else(|| ExecError::CodeMissing(spec.code_sha256.clone()))?;
        let _slot = pool.acquire(spec)?;
        pool.ensure_reaper();
        let mut env = match pool.take_idle(spec) {
            Some(env) => env,
            None => match pool.start(spec, &inv, kind, &code_dir).await {
                Ok(mut env) => {
                    env.lease = Some(pool.leases.lease(&spec.code_sha256));
                    env
                }
                Err(e)
                    if matches!(kind, Kind::Provided)
                        && matches!(
                            e.kind(),
                            std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
                        ) =>
                {
                    return Ok(entrypoint_error(spec, &inv, &code_dir, &e));
                }
                Err(e) => return Err(e.into()),
            },
        };
        let ran = env.run(spec, inv).await;
        if ran.reusable {
            pool.put_back(env);
        }
        Ok(ran.outcome)
    }

    async fn start(
        &self,
        spec: &FunctionSpec,
        inv: &Invocation,
        kind: Kind,
        code_dir: &Path,
    ) -> std::io::Result<Environment> {
        let work_root = &self.config.work_root;
        let runtime_dir = python::runtime_dir(work_root);
        let (program, args, lang_bin) = match kind {
            Kind::Python => {
                let bootstrap = self
                    .bootstrap
                    .get_or_try_init(|| async { python::write_bootstrap(work_root) })
                    .await?;
                // Put back if something cleaned the work root under a running executor.
                if !bootstrap.exists() {
                    python::write_bootstrap(work_root)?;
                }
                let (python, client) = self.python().await;
                let (program, args) = python::command(&python, client, bootstrap, &spec.handler);
                let lang_bin = python
                    .parent()
                    .filter(|p| p.is_absolute())
                    .map(Path::to_path_buf);
                (program, args, lang_bin)
            }
            Kind::Provided => (code_dir.join("bootstrap"), Vec::new(), None),
        };
        let python_path = self.python_path();
        let endpoint_url = locked(&self.settings).endpoint_url.clone();
        let generation = locked(&self.state)
            .generation
            .get(&spec.arn)
            .copied()
            .unwrap_or(0);
        Environment::start(Start {
            spec,
            invocation: inv,
            program,
            args,
            code_dir,
            runtime_dir: &runtime_dir,
            lang_bin: lang_bin.as_deref(),
            python: matches!(kind, Kind::Python),
            python_path: &python_path,
            endpoint_url: endpoint_url.as_deref(),
            run_as: self.run_as_for(&spec.arn),
            generation,
        })
        .await
    }
}

/// A `provided` function without a runnable `bootstrap`: AWS's `Runtime.InvalidEntrypoint`.
fn entrypoint_error(
    spec: &FunctionSpec,
    inv: &Invocation,
    code_dir: &Path,
    e: &std::io::Error,
) -> Outcome {
    let bootstrap = code_dir.join("bootstrap");
    let message = if e.kind() == std::io::ErrorKind::NotFound {
        format!(
            "RequestId: {} Error: Couldn't find valid bootstrap(s): [{}]",
            inv.request_id,
            bootstrap.display()
        )
    } else {
        format!(
            "RequestId: {} Error: fork/exec {}: permission denied",
            inv.request_id,
            bootstrap.display()
        )
    };
    let id = &inv.request_id;
    let log = vec![
        (now_ms(), report::start_line(id, &spec.version)),
        (now_ms(), format!("{message}\nRuntime.InvalidEntrypoint\n")),
        (now_ms(), report::end_line(id)),
        (
            now_ms(),
            report::Report {
                request_id: id,
                duration_ms: 0.0,
                billed_ms: 1,
                memory_mb: spec.memory_mb,
                max_memory_mb: 0,
                init_duration_ms: None,
            }
            .line(),
        ),
    ];
    Outcome {
        payload: report::platform_error("Runtime.InvalidEntrypoint", &message),
        function_error: Some("Unhandled".to_string()),
        log_stream: report::log_stream_name(&spec.version),
        log,
        duration_ms: 0.0,
        init_duration_ms: None,
    }
}

/// Stops environments idle for longer than the idle timeout, until the pool is gone.
async fn reap(pool: Weak<Pool>) {
    loop {
        let idle = match pool.upgrade() {
            Some(pool) => locked(&pool.settings).idle_timeout,
            None => return,
        };
        let tick = (idle / 4).clamp(Duration::from_millis(50), Duration::from_secs(30));
        tokio::time::sleep(tick).await;
        let Some(pool) = pool.upgrade() else {
            return;
        };
        let mut stopped = Vec::new();
        {
            let mut state = locked(&pool.state);
            for envs in state.idle.values_mut() {
                let mut keep = Vec::with_capacity(envs.len());
                for mut env in envs.drain(..) {
                    if env.last_used.elapsed() < idle && env.alive() {
                        keep.push(env);
                    } else {
                        stopped.push(env);
                    }
                }
                *envs = keep;
            }
            state.idle.retain(|_, envs| !envs.is_empty());
        }
        if !stopped.is_empty() {
            tracing::debug!(stopped = stopped.len(), "idle function processes stopped");
        }
    }
}
