//! The environment variables a function's process sees (ALERTING.md 8.4): the function's own
//! variables, then Lambda's reserved ones over them (the Lambda API refuses reserved names,
//! so this order only matters for code that bypasses it), the execution role's credentials,
//! and the unreserved defaults a managed runtime sets.

use std::path::Path;

use crate::{Credentials, FunctionSpec};

pub(crate) struct Places<'a> {
    pub code_dir: &'a Path,
    pub runtime_dir: &'a Path,
    /// The directory of the Python interpreter, first on `PATH` (AWS's `/var/lang/bin`).
    pub lang_bin: Option<&'a Path>,
    pub runtime_api: &'a str,
    pub log_stream: &'a str,
    pub python: bool,
    /// Directories after the code on `PYTHONPATH` (AWS's `/var/runtime`).
    pub python_path: &'a [std::path::PathBuf],
    /// Where the function's AWS SDK calls go unless it sets `AWS_ENDPOINT_URL` itself: cairn,
    /// so that handler code written for AWS (`boto3.client("s3")`) runs unchanged.
    pub endpoint_url: Option<&'a str>,
}

pub(crate) fn build(
    spec: &FunctionSpec,
    credentials: &Credentials,
    at: &Places<'_>,
) -> Vec<(String, String)> {
    let code = at.code_dir.display().to_string();
    let mut path = String::new();
    if let Some(bin) = at.lang_bin {
        path.push_str(&bin.display().to_string());
        path.push(':');
    }
    path.push_str("/usr/local/bin:/usr/bin:/bin");
    let mut env: Vec<(String, String)> = spec
        .environment
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut set = |k: &str, v: &str| {
        env.retain(|(key, _)| key != k);
        env.push((k.to_string(), v.to_string()));
    };
    // Unreserved: a function may have set its own.
    if !spec.environment.contains_key("LANG") {
        set("LANG", "en_US.UTF-8");
    }
    if !spec.environment.contains_key("PATH") {
        set("PATH", &path);
    }
    if !spec.environment.contains_key("LD_LIBRARY_PATH") {
        set("LD_LIBRARY_PATH", &format!("{code}:{code}/lib"));
    }
    if at.python {
        // The code comes first (its own boto3 wins over the runtime's, as on AWS), then what
        // the function asked for, then the runtime's own packages.
        let mut dirs = vec![code.clone()];
        if let Some(own) = spec.environment.get("PYTHONPATH").filter(|p| !p.is_empty()) {
            dirs.push(own.clone());
        }
        dirs.extend(at.python_path.iter().map(|p| p.display().to_string()));
        set("PYTHONPATH", &dirs.join(":"));
    }
    if let Some(url) = at.endpoint_url
        && !spec.environment.contains_key("AWS_ENDPOINT_URL")
    {
        set("AWS_ENDPOINT_URL", url);
    }
    if !spec.environment.contains_key("TZ") {
        set("TZ", ":UTC");
    }
    set("_HANDLER", &spec.handler);
    set("AWS_REGION", &spec.region);
    set("AWS_DEFAULT_REGION", &spec.region);
    if at.python {
        set("AWS_EXECUTION_ENV", &format!("AWS_Lambda_{}", spec.runtime));
    }
    set("AWS_LAMBDA_FUNCTION_NAME", &spec.name);
    set(
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        &spec.memory_mb.to_string(),
    );
    set("AWS_LAMBDA_FUNCTION_VERSION", &spec.version);
    set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    set("AWS_LAMBDA_LOG_GROUP_NAME", &spec.log_group);
    set("AWS_LAMBDA_LOG_STREAM_NAME", at.log_stream);
    set("AWS_ACCESS_KEY_ID", &credentials.access_key_id);
    set("AWS_ACCESS_KEY", &credentials.access_key_id);
    set("AWS_SECRET_ACCESS_KEY", &credentials.secret_access_key);
    set("AWS_SESSION_TOKEN", &credentials.session_token);
    set("AWS_LAMBDA_RUNTIME_API", at.runtime_api);
    set("LAMBDA_TASK_ROOT", &code);
    set("LAMBDA_RUNTIME_DIR", &at.runtime_dir.display().to_string());
    // awslambdaric switches to its multi-concurrency mode when this is set.
    env.retain(|(k, _)| k != "AWS_LAMBDA_MAX_CONCURRENCY");
    env
}
