//! Running users' Lambda function code: each function runs as local processes that poll the
//! Lambda Runtime API (`/2018-06-01/runtime/invocation/next`, `/response`, `/error`,
//! `/init/error`) which this crate serves on a private loopback port. Python runtimes run
//! through a runtime interface client (awslambdaric when the interpreter has it, else cairn's
//! own bootstrap); `provided.*` runtimes run the code's `bootstrap` executable.
//!
//! This crate knows nothing of services or stores: the Lambda service hands it a
//! [`FunctionSpec`] (what to run), an [`Invocation`] (the payload and the execution role's
//! credentials) and gets an [`Outcome`] back (the result, the function error if any, and the
//! log lines it writes to CloudWatch Logs).
//!
//! Modules, one job each: `code` unpacks zips, `runtime_api` serves one environment's Runtime
//! API, `logpipe` turns a process's output into timestamped lines, `process` spawns and kills
//! process groups, `function_env` builds the variables a function sees, `python` picks the
//! Python runtime client, `environment` runs invocations on one process, `report` writes the
//! lines Lambda itself logs, and `pool` keeps warm environments and counts concurrency.

mod code;
mod environment;
mod function_env;
mod logpipe;
mod peer;
mod pool;
mod process;
mod python;
mod report;
mod runtime_api;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

pub use code::MAX_UNZIPPED_BYTES;

/// How the executor runs processes.
#[derive(Debug, Clone)]
pub struct ExecutorConfig {
    /// Where code is unpacked (`code/<digest>/`, a function's working directory, read-only
    /// to it as `/var/task` is on AWS) and cairn's Python bootstrap written (`runtime/`);
    /// never under the instance's data directory. With `run_as`, it and its parents must be
    /// traversable by other users; it and `code/` are made 0711 (traversable, not listable).
    pub work_root: PathBuf,
    /// The interpreter `python3.x` runtimes run with; asked once for its real executable
    /// (past launchers such as pyenv's shim) and whether it has awslambdaric.
    pub python: PathBuf,
    /// Machine-wide cap on invocations running at once.
    pub max_concurrency: usize,
    /// When cairn runs as root, processes run unprivileged: each function (by ARN) as a uid
    /// of its own, 200000 + n in the order functions first start within the executor's
    /// lifetime (no passwd entry needed), with this gid; so one function cannot read
    /// another's processes (`/proc/<pid>/environ` holds its role's credentials). The uid
    /// given here is what the Python interpreter is probed as.
    pub run_as: Option<(u32, u32)>,
}

/// Which runtime interface client `python3.x` functions run under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PythonClient {
    /// awslambdaric when the interpreter can import it (checked once), else cairn's own.
    Auto,
    /// Always `python -m awslambdaric` (fails like AWS would if the interpreter lacks it).
    Awslambdaric,
    /// Always cairn's own bootstrap.
    Cairn,
}

/// What to run: a function's configuration as the Lambda service holds it.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub name: String,
    /// The unqualified function ARN.
    pub arn: String,
    /// `$LATEST`.
    pub version: String,
    pub runtime: String,
    pub handler: String,
    /// Base64 SHA-256 of the zip, as `CodeSha256`; code is installed once per digest.
    pub code_sha256: String,
    pub environment: BTreeMap<String, String>,
    pub timeout_ms: u64,
    pub memory_mb: u32,
    pub region: String,
    /// `/aws/lambda/<name>` unless the logging config names another.
    pub log_group: String,
    pub reserved_concurrency: Option<u32>,
    /// Changes with every code or configuration update: warm processes of another revision
    /// are not reused.
    pub revision_id: String,
}

/// Temporary credentials of the function's execution role.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    /// Epoch milliseconds; a warm process whose credentials expire sooner is replaced.
    pub expires_at_ms: i64,
}

/// One invocation.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub payload: Bytes,
    /// `X-Amz-Client-Context`, base64 JSON, passed through.
    pub client_context: Option<String>,
    pub credentials: Credentials,
}

/// What an invocation came to.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The handler's result, or the error document (`errorMessage`, `errorType`, …).
    pub payload: Bytes,
    /// `Unhandled` when the function failed (`X-Amz-Function-Error`).
    pub function_error: Option<String>,
    /// The log stream the lines belong to (`YYYY/MM/DD/[$LATEST]<32 hex>`).
    pub log_stream: String,
    /// Output written since the previous invocation (a cold start's init output), START, the
    /// process's output, END and REPORT, each with its epoch-millisecond time. Each message is
    /// what AWS puts in CloudWatch Logs, newline included (`"START RequestId: … Version:
    /// $LATEST\n"`, `"REPORT …\tMax Memory Used: 73 MB\t\n"`), so `LogType=Tail`'s text is
    /// the messages concatenated.
    pub log: Vec<(i64, String)>,
    pub duration_ms: f64,
    /// Set on a cold start.
    pub init_duration_ms: Option<f64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The code with this digest is not installed: call [`Executor::install_code`] first.
    #[error("code {0} is not installed")]
    CodeMissing(String),
    /// Concurrency exhausted (reserved or machine-wide): Lambda's `TooManyRequestsException`.
    #[error("rate exceeded")]
    TooManyRequests,
    #[error("{0}")]
    Unsupported(String),
    /// The zip cannot be installed; the message is AWS's `InvalidParameterValueException`
    /// text ("Could not unzip uploaded file. …", "Unzipped size must be smaller than
    /// 262144000 bytes").
    #[error("{0}")]
    InvalidCode(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Runs functions. Cheap to build: nothing starts before the first invocation. Dropping it
/// stops every process it started.
pub struct Executor {
    config: ExecutorConfig,
    pool: Arc<pool::Pool>,
}

impl Executor {
    pub fn new(config: ExecutorConfig) -> Executor {
        let pool = Arc::new(pool::Pool::new(config.clone()));
        Executor { config, pool }
    }

    /// Chooses the Python runtime interface client (default [`PythonClient::Auto`]).
    pub fn with_python_client(self, client: PythonClient) -> Executor {
        self.pool.set_python_client(client);
        self
    }

    /// Functions' AWS SDKs call `url` (`AWS_ENDPOINT_URL`) unless a function sets its own:
    /// cairn's endpoint, known once it listens. Processes started from then on see it.
    pub fn set_endpoint_url(&self, url: String) {
        self.pool.set_endpoint_url(url);
    }

    /// Directories after the function's code on `PYTHONPATH`: the runtime's own packages, as
    /// `/var/runtime` holds boto3 and awslambdaric on AWS. awslambdaric found there counts for
    /// [`PythonClient::Auto`]. Set before the first invocation.
    pub fn with_python_path(self, dirs: Vec<PathBuf>) -> Executor {
        self.pool.set_python_path(dirs);
        self
    }

    /// How long a warm process may sit idle before it is stopped (default 5 minutes).
    pub fn with_idle_timeout(self, idle: Duration) -> Executor {
        self.pool.set_idle_timeout(idle);
        self
    }

    pub fn config(&self) -> &ExecutorConfig {
        &self.config
    }

    /// Unpacks a function's zip under the work root, once per digest. Blocking file I/O: call
    /// it from `spawn_blocking` on a busy runtime.
    pub fn install_code(&self, code_sha256: &str, zip: &[u8]) -> Result<(), ExecError> {
        code::install(&self.config.work_root, code_sha256, zip)
    }

    /// Whether the code with this digest is installed.
    pub fn has_code(&self, code_sha256: &str) -> bool {
        code::installed_dir(&self.config.work_root, code_sha256).is_some()
    }

    /// Removes installed code no function has any more (`in_use`: the digests functions have
    /// now), unless a warm process still runs from it: code is a cache of the stored zips (an
    /// invocation that finds its code gone installs it again), and without this every
    /// UpdateFunctionCode would leave its old code on disk for good. How many were removed.
    pub fn sweep_code(&self, in_use: &std::collections::HashSet<String>) -> usize {
        self.pool.sweep_code(in_use)
    }

    /// Runs one invocation on a warm process of this revision, or a new one.
    pub async fn invoke(
        &self,
        function: &FunctionSpec,
        invocation: Invocation,
    ) -> Result<Outcome, ExecError> {
        pool::Pool::invoke(&self.pool, function, invocation).await
    }

    /// Stops a function's warm processes (deleted, or code or configuration changed); one
    /// running now is stopped when its invocation ends.
    pub fn retire(&self, function_arn: &str) {
        self.pool.retire(function_arn);
    }

    /// Processes kept warm right now (all functions), for tests and metrics.
    pub fn idle_processes(&self) -> usize {
        self.pool.idle_count()
    }
}
