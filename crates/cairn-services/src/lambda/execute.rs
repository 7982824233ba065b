//! Running one invocation of a function, for Invoke and for the asynchronous worker alike:
//! the executor's view of the function (`FunctionSpec`, from its stored configuration), the
//! role's credentials, the code installed once per digest (again if the executor lost it),
//! the run, and its log lines written to CloudWatch Logs. The executor's refusals become
//! Lambda's errors (`TooManyRequestsException` with AWS's `Reason`).

use bytes::Bytes;
use cairn_functions::{ExecError, FunctionSpec, Invocation, Outcome};
use cairn_store::lambda::Function;
use cairn_wire::AwsError;
use serde_json::Value;

use super::config;
use super::credentials;
use super::function_logs;
use super::handlers::{internal, invalid};
use super::wire::stored_config;
use crate::app::App;

/// The executor's view of a function.
pub(super) fn spec(f: &Function) -> FunctionSpec {
    let cfg = stored_config(f);
    let text = |k: &str| {
        cfg.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let number = |k: &str, default: u64| cfg.get(k).and_then(Value::as_u64).unwrap_or(default);
    let log_group = cfg
        .get("LoggingConfig")
        .and_then(|l| l.get("LogGroup"))
        .and_then(Value::as_str)
        .map_or_else(|| format!("/aws/lambda/{}", f.name), str::to_owned);
    FunctionSpec {
        name: f.name.clone(),
        arn: f.arn.clone(),
        version: "$LATEST".into(),
        runtime: text("Runtime"),
        handler: text("Handler"),
        code_sha256: f.code_sha256.clone(),
        environment: config::environment(&cfg),
        timeout_ms: number("Timeout", 3) * 1000,
        memory_mb: u32::try_from(number("MemorySize", 128)).unwrap_or(128),
        region: f.region.clone(),
        log_group,
        reserved_concurrency: f.reserved_concurrency.and_then(|n| u32::try_from(n).ok()),
        revision_id: f.revision_id.clone(),
    }
}

/// `TooManyRequestsException`, with the reason AWS gives.
fn throttled(f: &Function) -> AwsError {
    let reason = if f.reserved_concurrency.is_some() {
        "ReservedFunctionConcurrentInvocationLimitExceeded"
    } else {
        "ConcurrentInvocationLimitExceeded"
    };
    AwsError::new(429, "TooManyRequestsException", "Rate Exceeded.")
        .with_extra("Type", "User")
        .with_extra("Reason", reason)
}

fn exec_error(f: &Function, e: ExecError) -> AwsError {
    match e {
        ExecError::TooManyRequests => throttled(f),
        ExecError::Unsupported(m) => AwsError::new(
            500,
            "ServiceException",
            format!("cairn could not run the function: {m}"),
        )
        .with_extra("Type", "Service"),
        e @ (ExecError::Io(_) | ExecError::CodeMissing(_)) => internal(e),
        ExecError::InvalidCode(message) => invalid(message),
    }
}

/// Runs one invocation of `f` and writes its log lines.
pub(super) fn run(
    app: &App,
    f: &Function,
    request_id: &str,
    payload: Bytes,
    client_context: Option<String>,
) -> Result<Outcome, AwsError> {
    let spec = spec(f);
    if !config::runnable(&spec.runtime) {
        return Err(config::unrunnable(&spec.runtime));
    }
    let role = stored_config(f)
        .get("Role")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let creds = credentials::for_function(app, f, &role)?;
    let invocation = Invocation {
        request_id: request_id.to_owned(),
        payload,
        client_context,
        credentials: creds,
    };
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|_| AwsError::internal("an invocation needs the server's runtime"))?;
    let executor = &app.functions;
    let outcome = match runtime.block_on(executor.invoke(&spec, invocation.clone())) {
        Err(ExecError::CodeMissing(_)) => {
            let zip = app
                .lambda
                .code(&f.arn)
                .map_err(internal)?
                .ok_or_else(|| internal("the function's code is missing"))?;
            executor
                .install_code(&f.code_sha256, &zip)
                .map_err(|e| exec_error(f, e))?;
            runtime.block_on(executor.invoke(&spec, invocation))
        }
        other => other,
    }
    .map_err(|e| exec_error(f, e))?;
    function_logs::write(
        app,
        &f.account,
        &f.region,
        &spec.log_group,
        &outcome.log_stream,
        &outcome.log,
    );
    Ok(outcome)
}
