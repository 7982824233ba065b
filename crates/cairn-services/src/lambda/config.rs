//! A function's configuration as CreateFunction and UpdateFunctionConfiguration set it: each
//! member validated as AWS validates it (the model's ranges and patterns, AWS's messages for
//! environment variables), AWS's defaults filled in at creation, and the document kept as the
//! function's stored configuration. Which runtimes cairn can run is decided here too: every
//! runtime of the model is accepted at creation, as AWS accepts it, and an invocation of one
//! cairn cannot run (anything but `python3.x` and `provided*`) answers AWS's
//! `InvalidRuntimeException` naming it.

use std::collections::BTreeMap;

use cairn_wire::AwsError;
use serde_json::{Map, Value, json};

use super::handlers::{int_in, invalid, str_member, validation};

/// The model's `Runtime` enum.
const RUNTIMES: [&str; 52] = [
    "nodejs",
    "nodejs4.3",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "nodejs24.x",
    "java8",
    "java8.al2",
    "java11",
    "java17",
    "java21",
    "java25",
    "python2.7",
    "python3.6",
    "python3.7",
    "python3.8",
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "python3.14",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "dotnet6",
    "dotnet8",
    "dotnet10",
    "nodejs4.3-edge",
    "go1.x",
    "ruby2.5",
    "ruby2.7",
    "ruby3.2",
    "ruby3.3",
    "ruby3.4",
    "ruby4.0",
    "provided",
    "provided.al2",
    "provided.al2023",
    "nodejs26.x",
    "python3.15",
    "java8.al2023",
    "java11.al2023",
    "java17.al2023",
    "custom",
];

/// Whether cairn can run a runtime: Python 3 with the machine's interpreter, and the
/// `provided` runtimes running the code's `bootstrap`.
pub fn runnable(runtime: &str) -> bool {
    runtime.starts_with("python3.") || runtime.starts_with("provided")
}

/// Invoking a function whose runtime cairn cannot run.
pub fn unrunnable(runtime: &str) -> AwsError {
    AwsError::new(
        502,
        "InvalidRuntimeException",
        format!(
            "The runtime parameter of {runtime} is not supported by cairn: it runs python3.x functions with the machine's Python and provided.al2/provided.al2023 functions' bootstrap."
        ),
    )
    .with_extra("Type", "User")
}

/// Names AWS keeps for itself in a function's environment.
const RESERVED_ENV: [&str; 17] = [
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
];

fn check_runtime(r: &str) -> Result<(), AwsError> {
    if RUNTIMES.contains(&r) {
        return Ok(());
    }
    Err(invalid(format!(
        "Value {r} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [{}] or be a valid ARN",
        RUNTIMES.join(", ")
    )))
}

fn check_role(role: &str) -> Result<(), AwsError> {
    let pattern = "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+";
    let ok = role
        .strip_prefix("arn:aws:iam::")
        .and_then(|r| r.split_once(":role/"))
        .is_some_and(|(acct, name)| {
            acct.len() == 12
                && acct.bytes().all(|b| b.is_ascii_digit())
                && !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-/".contains(&b))
        });
    if ok {
        return Ok(());
    }
    Err(validation(format!(
        "1 validation error detected: Value '{role}' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
    )))
}

fn check_environment(env: &Value) -> Result<Value, AwsError> {
    let vars = env
        .get("Variables")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut reserved = Vec::new();
    for (k, v) in &vars {
        let valid = k.len() >= 2
            && k.starts_with(|c: char| c.is_ascii_alphabetic())
            && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid {
            return Err(validation(
                "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]",
            ));
        }
        if !v.is_string() {
            return Err(invalid(format!(
                "The value of environment variable {k} must be a string"
            )));
        }
        if RESERVED_ENV.contains(&k.as_str()) {
            reserved.push(k.clone());
        }
    }
    if !reserved.is_empty() {
        return Err(invalid(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: {}",
            reserved.join(", ")
        )));
    }
    let text = Value::Object(vars.clone()).to_string();
    if text.len() > 4096 {
        return Err(invalid(format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {text}"
        )));
    }
    Ok(json!({"Variables": vars}))
}

/// The configuration of a new function, before the members `update` sets.
pub fn defaults(name: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("Description".into(), json!(""));
    m.insert("Timeout".into(), json!(3));
    m.insert("MemorySize".into(), json!(128));
    m.insert("Version".into(), json!("$LATEST"));
    m.insert("TracingConfig".into(), json!({"Mode": "PassThrough"}));
    m.insert("State".into(), json!("Active"));
    m.insert("LastUpdateStatus".into(), json!("Successful"));
    m.insert("PackageType".into(), json!("Zip"));
    m.insert("Architectures".into(), json!(["x86_64"]));
    m.insert("EphemeralStorage".into(), json!({"Size": 512}));
    m.insert(
        "SnapStart".into(),
        json!({"ApplyOn": "None", "OptimizationStatus": "Off"}),
    );
    m.insert(
        "LoggingConfig".into(),
        json!({"LogFormat": "Text", "LogGroup": format!("/aws/lambda/{name}")}),
    );
    m
}

/// Sets the configuration members a request carries, validated.
pub fn update(m: &mut Map<String, Value>, input: &Value) -> Result<(), AwsError> {
    if let Some(r) = str_member(input, "Runtime") {
        check_runtime(r)?;
        m.insert("Runtime".into(), json!(r));
    }
    if let Some(r) = str_member(input, "Role") {
        check_role(r)?;
        m.insert("Role".into(), json!(r));
    }
    if let Some(h) = str_member(input, "Handler") {
        if h.len() > 128 || h.is_empty() || h.chars().any(char::is_whitespace) {
            return Err(validation(format!(
                "1 validation error detected: Value '{h}' at 'handler' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\s]+"
            )));
        }
        m.insert("Handler".into(), json!(h));
    }
    if let Some(d) = str_member(input, "Description") {
        if d.chars().count() > 256 {
            return Err(validation(format!(
                "1 validation error detected: Value '{d}' at 'description' failed to satisfy constraint: Member must have length less than or equal to 256"
            )));
        }
        m.insert("Description".into(), json!(d));
    }
    if let Some(t) = int_in(input, "Timeout", "timeout", Some(1), Some(900))? {
        m.insert("Timeout".into(), json!(t));
    }
    if let Some(s) = int_in(input, "MemorySize", "memorySize", Some(128), Some(10240))? {
        m.insert("MemorySize".into(), json!(s));
    }
    if let Some(e) = input.get("Environment").filter(|v| !v.is_null()) {
        m.insert("Environment".into(), check_environment(e)?);
    }
    if let Some(t) = input.get("TracingConfig").and_then(|t| t.get("Mode")) {
        match t.as_str() {
            Some("Active" | "PassThrough") => {
                m.insert("TracingConfig".into(), json!({"Mode": t}));
            }
            _ => {
                return Err(validation(format!(
                    "1 validation error detected: Value '{t}' at 'tracingConfig.mode' failed to satisfy constraint: Member must satisfy enum value set: [Active, PassThrough]"
                )));
            }
        }
    }
    if let Some(a) = input.get("Architectures").and_then(Value::as_array) {
        let ok = a.len() == 1 && matches!(a[0].as_str(), Some("x86_64" | "arm64"));
        if !ok {
            return Err(validation(
                "1 validation error detected: Value at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1, Member must satisfy enum value set: [x86_64, arm64]",
            ));
        }
        m.insert("Architectures".into(), Value::Array(a.clone()));
    }
    if let Some(size) = input.get("EphemeralStorage").and_then(|e| e.get("Size")) {
        let n = size.as_i64().unwrap_or(0);
        if !(512..=10240).contains(&n) {
            return Err(invalid(format!(
                "1 validation error detected: Value '{n}' at 'ephemeralStorage.size' failed to satisfy constraint: Member must have value between 512 and 10240"
            )));
        }
        m.insert("EphemeralStorage".into(), json!({"Size": n}));
    }
    if let Some(l) = input.get("LoggingConfig").and_then(Value::as_object) {
        let mut cfg = m
            .get("LoggingConfig")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (k, v) in l {
            cfg.insert(k.clone(), v.clone());
        }
        m.insert("LoggingConfig".into(), Value::Object(cfg));
    }
    for passthrough in [
        "DeadLetterConfig",
        "KMSKeyArn",
        "VpcConfig",
        "FileSystemConfigs",
    ] {
        if let Some(v) = input.get(passthrough).filter(|v| !v.is_null()) {
            m.insert(passthrough.into(), v.clone());
        }
    }
    if input
        .get("Layers")
        .and_then(Value::as_array)
        .is_some_and(|l| !l.is_empty())
    {
        return Err(invalid(
            "cairn does not support layers yet: package what the function needs in its zip.",
        ));
    }
    if input.get("ImageConfig").is_some() {
        return Err(invalid(
            "cairn does not support container image functions yet.",
        ));
    }
    if input
        .get("SnapStart")
        .and_then(|s| s.get("ApplyOn"))
        .and_then(Value::as_str)
        .is_some_and(|a| a != "None")
    {
        return Err(invalid("cairn does not support SnapStart."));
    }
    Ok(())
}

/// The environment variables of a configuration.
pub fn environment(m: &Map<String, Value>) -> BTreeMap<String, String> {
    m.get("Environment")
        .and_then(|e| e.get("Variables"))
        .and_then(Value::as_object)
        .map(|v| {
            v.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}
