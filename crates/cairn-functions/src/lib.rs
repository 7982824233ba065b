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
//! SKELETON (issue 15): the API the Lambda service builds on; the executor behind it is being
//! written.

use std::collections::BTreeMap;
use std::path::PathBuf;

use bytes::Bytes;

/// How the executor runs processes.
#[derive(Debug, Clone)]
pub struct ExecutorConfig {
    /// Where code is unpacked and processes get their working directories; never under the
    /// instance's data directory.
    pub work_root: PathBuf,
    /// The interpreter `python3.x` runtimes run with.
    pub python: PathBuf,
    /// Machine-wide cap on invocations running at once.
    pub max_concurrency: usize,
    /// When cairn runs as root, processes run as this (uid, gid).
    pub run_as: Option<(u32, u32)>,
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
    /// START, the process's output, END and REPORT, each with its epoch-millisecond time.
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
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Runs functions. Cheap to build: nothing starts before the first invocation.
pub struct Executor {
    config: ExecutorConfig,
}

impl Executor {
    pub fn new(config: ExecutorConfig) -> Executor {
        Executor { config }
    }

    pub fn config(&self) -> &ExecutorConfig {
        &self.config
    }

    /// Unpacks a function's zip under the work root, once per digest.
    pub fn install_code(&self, code_sha256: &str, zip: &[u8]) -> Result<(), ExecError> {
        let _ = (code_sha256, zip);
        Err(ExecError::Unsupported(
            "the function executor is not built yet".into(),
        ))
    }

    /// Runs one invocation on a warm process of this revision, or a new one.
    pub async fn invoke(
        &self,
        function: &FunctionSpec,
        invocation: Invocation,
    ) -> Result<Outcome, ExecError> {
        let _ = (function, invocation);
        Err(ExecError::Unsupported(
            "the function executor is not built yet".into(),
        ))
    }

    /// Stops a function's warm processes (deleted, or code or configuration changed).
    pub fn retire(&self, function_arn: &str) {
        let _ = function_arn;
    }
}
