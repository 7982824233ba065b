//! Python functions through the Runtime API, under cairn's own bootstrap (the machine's
//! python3) and under awslambdaric (the project venv's python, when it has it).

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use cairn_functions::ExecError;
use common::*;

const ECHO: &str = r#"
import os
print("init line")

def handler(event, context):
    print("handling", event["n"])
    return {
        "event": event,
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "pid": os.getpid(),
        "greeting": os.environ.get("GREETING"),
        "region": os.environ.get("AWS_REGION"),
        "key": os.environ.get("AWS_ACCESS_KEY_ID"),
        "token": os.environ.get("AWS_SESSION_TOKEN"),
        "tz": os.environ.get("TZ"),
        "task_root": os.environ.get("LAMBDA_TASK_ROOT"),
        "cwd": os.getcwd(),
        "handler_env": os.environ.get("_HANDLER"),
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
        "exec_env": os.environ.get("AWS_EXECUTION_ENV"),
        "init_type": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE"),
        "lang": os.environ.get("LANG"),
        "home": os.environ.get("HOME"),
        "cargo": [k for k in os.environ if k.startswith("CARGO")],
        "runtime_api": os.environ.get("AWS_LAMBDA_RUNTIME_API"),
    }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_echoes_event_and_context_with_framed_logs() {
    for (client, python) in python_clients() {
        let fx = executor(&python, client, 10);
        let spec = python_function(&fx, "echo", ECHO);
        let inv = invocation(r#"{"n": 1}"#);
        let id = inv.request_id.clone();
        let out = fx.executor.invoke(&spec, inv).await.unwrap();
        assert_eq!(out.function_error, None, "{client:?}");
        let v = json(&out.payload);
        assert_eq!(v["event"]["n"], 1);
        assert_eq!(v["aws_request_id"], id.as_str());
        assert_eq!(v["function_name"], "echo");
        assert_eq!(v["function_version"], "$LATEST");
        assert_eq!(v["invoked_function_arn"], spec.arn.as_str());
        assert_eq!(v["memory_limit_in_mb"], "128");
        assert_eq!(v["log_group_name"], "/aws/lambda/echo");
        assert_eq!(v["log_stream_name"], out.log_stream.as_str());
        let remaining = v["remaining"].as_i64().unwrap();
        assert!(remaining > 8_000 && remaining <= 10_000, "{remaining}");
        assert_eq!(v["greeting"], "hi");
        assert_eq!(v["region"], "us-east-1");
        assert_eq!(v["key"], "ASIAEXAMPLE");
        assert_eq!(v["token"], "token");
        assert_eq!(v["tz"], ":UTC");
        assert_eq!(v["handler_env"], "app.handler");
        assert_eq!(v["exec_env"], "AWS_Lambda_python3.12");
        assert_eq!(v["task_root"], v["cwd"]);
        assert_eq!(v["init_type"], "on-demand");
        assert_eq!(v["lang"], "en_US.UTF-8");
        assert_eq!(
            v["home"],
            serde_json::Value::Null,
            "cairn's own environment stays out"
        );
        assert_eq!(v["cargo"], serde_json::json!([]));
        assert!(
            v["runtime_api"].as_str().unwrap().starts_with("127.0.0.1:"),
            "{v}"
        );
        assert!(v["trace"].as_str().unwrap().starts_with("Root=1-"), "{v}");

        // Stream name: YYYY/MM/DD/[$LATEST]<32 hex>.
        let (date, rest) = out.log_stream.split_at(10);
        assert_eq!(date.len(), 10);
        assert!(
            rest.starts_with("/[$LATEST]") && rest.len() == 10 + 32,
            "{}",
            out.log_stream
        );

        // Init output, START, the handler's output, END, REPORT with Init Duration.
        let m = messages(&out.log);
        let start = m.iter().position(|l| l.starts_with("START")).unwrap();
        assert!(
            m[..start].iter().any(|l| l == "init line\n"),
            "{client:?} {m:?}"
        );
        assert_eq!(
            m[start],
            format!("START RequestId: {id} Version: $LATEST\n")
        );
        assert_eq!(m[start + 1], "handling 1\n", "{client:?} {m:?}");
        assert_eq!(m[m.len() - 2], format!("END RequestId: {id}\n"));
        let report = &m[m.len() - 1];
        assert!(
            report.starts_with(&format!("REPORT RequestId: {id}\tDuration: ")),
            "{report}"
        );
        assert!(report.contains("\tBilled Duration: "), "{report}");
        assert!(
            report.contains("\tMemory Size: 128 MB\tMax Memory Used: "),
            "{report}"
        );
        assert!(
            report.contains(" MB\tInit Duration: ") && report.ends_with(" ms\t\n"),
            "{report}"
        );
        assert!(out.init_duration_ms.is_some());
        assert!(
            out.log.windows(2).all(|w| w[0].0 <= w[1].0),
            "times in order"
        );

        // Warm: same process, no init, no Init Duration.
        let out2 = fx
            .executor
            .invoke(&spec, invocation(r#"{"n": 2}"#))
            .await
            .unwrap();
        let v2 = json(&out2.payload);
        assert_eq!(v2["pid"], v["pid"], "{client:?} warm reuse");
        assert_eq!(out2.init_duration_ms, None);
        assert_eq!(out2.log_stream, out.log_stream);
        let m2 = messages(&out2.log);
        assert!(m2[0].starts_with("START"), "{m2:?}");
        assert_eq!(m2[1], "handling 2\n");
        assert!(!m2[3].contains("Init Duration"), "{m2:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_exception_is_an_unhandled_error_document() {
    let src = "def handler(event, context):\n    raise ValueError('boom')\n";
    for (client, python) in python_clients() {
        let fx = executor(&python, client, 10);
        let spec = python_function(&fx, "raiser", src);
        let inv = invocation("{}");
        let id = inv.request_id.clone();
        let out = fx.executor.invoke(&spec, inv).await.unwrap();
        assert_eq!(out.function_error.as_deref(), Some("Unhandled"));
        let v = json(&out.payload);
        assert_eq!(v["errorMessage"], "boom", "{client:?}");
        assert_eq!(v["errorType"], "ValueError");
        assert_eq!(v["requestId"], id.as_str());
        let trace = v["stackTrace"].as_array().unwrap();
        assert_eq!(trace.len(), 1, "{client:?} only the user's frame: {v}");
        assert!(
            trace[0]
                .as_str()
                .unwrap()
                .contains("app.py\", line 2, in handler"),
            "{v}"
        );
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["errorMessage", "errorType", "requestId", "stackTrace"]
        );
        let m = messages(&out.log);
        let err = m
            .iter()
            .find(|l| l.starts_with("[ERROR]"))
            .unwrap_or_else(|| panic!("{m:?}"));
        assert!(
            err.starts_with("[ERROR] ValueError: boom\rTraceback (most recent call last):\r"),
            "{err:?}"
        );
        // A handled exception leaves the process warm.
        let again = fx.executor.invoke(&spec, invocation("{}")).await.unwrap();
        assert_eq!(again.init_duration_ms, None, "{client:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_error_and_missing_handler_are_init_errors() {
    for (client, python) in python_clients() {
        let fx = executor(&python, client, 10);
        let spec = python_function(&fx, "badimport", "import no_such_module\n");
        let out = fx.executor.invoke(&spec, invocation("{}")).await.unwrap();
        assert_eq!(out.function_error.as_deref(), Some("Unhandled"));
        let v = json(&out.payload);
        assert_eq!(
            v["errorType"], "Runtime.ImportModuleError",
            "{client:?} {v}"
        );
        assert_eq!(
            v["errorMessage"],
            "Unable to import module 'app': No module named 'no_such_module'"
        );
        let m = messages(&out.log);
        assert!(
            m.iter().any(|l| l
                .starts_with("[ERROR] Runtime.ImportModuleError: Unable to import module 'app'")),
            "{m:?}"
        );
        assert!(
            m.iter().any(|l| l.starts_with("START")) && m.last().unwrap().starts_with("REPORT")
        );
        assert_eq!(fx.executor.idle_processes(), 0, "a failed init is not kept");

        let mut spec = python_function(&fx, "nohandler", "def other(e, c):\n    return 1\n");
        let out = fx.executor.invoke(&spec, invocation("{}")).await.unwrap();
        let v = json(&out.payload);
        assert_eq!(v["errorType"], "Runtime.HandlerNotFound", "{client:?} {v}");
        assert_eq!(
            v["errorMessage"],
            "Handler 'handler' missing on module 'app'"
        );

        spec.handler = "nodot".into();
        spec.revision_id = "rev-2".into();
        let out = fx.executor.invoke(&spec, invocation("{}")).await.unwrap();
        assert_eq!(
            json(&out.payload)["errorType"],
            "Runtime.MalformedHandlerName",
            "{client:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unserialisable_result_is_a_marshal_error() {
    let src = "def handler(event, context):\n    return {1, 2}\n";
    for (client, python) in python_clients() {
        let fx = executor(&python, client, 10);
        let spec = python_function(&fx, "marshal", src);
        let out = fx.executor.invoke(&spec, invocation("{}")).await.unwrap();
        let v = json(&out.payload);
        assert_eq!(v["errorType"], "Runtime.MarshalError", "{client:?} {v}");
        assert!(
            v["errorMessage"]
                .as_str()
                .unwrap()
                .starts_with("Unable to marshal response: "),
            "{v}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_kills_the_process_group() {
    let src = r#"
import subprocess, time
def handler(event, context):
    child = subprocess.Popen(["sleep", "60"])
    print("child", child.pid, flush=True)
    time.sleep(30)
"#;
    for (client, python) in python_clients() {
        let fx = executor(&python, client, 10);
        let mut spec = python_function(&fx, "sleeper", src);
        spec.timeout_ms = 1000;
        let inv = invocation("{}");
        let id = inv.request_id.clone();
        let t0 = std::time::Instant::now();
        let out = fx.executor.invoke(&spec, inv).await.unwrap();
        assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
        assert_eq!(out.function_error.as_deref(), Some("Unhandled"));
        let v = json(&out.payload);
        let msg = v["errorMessage"].as_str().unwrap();
        assert!(
            msg.ends_with(&format!("Z {id} Task timed out after 1.00 seconds")),
            "{msg}"
        );
        assert_eq!(v.as_object().unwrap().len(), 1, "{v}");
        let m = messages(&out.log);
        assert!(m.contains(&format!("{msg}\n")), "{m:?}");
        assert!(m[m.len() - 2].starts_with("END") && m[m.len() - 1].starts_with("REPORT"));
        let child: u32 = m
            .iter()
            .find_map(|l| l.strip_prefix("child "))
            .unwrap_or_else(|| panic!("{m:?}"))
            .trim()
            .parse()
            .unwrap();
        // The forked `sleep` dies with the group (it may linger a moment as a zombie of init).
        let mut gone = false;
        for _ in 0..50 {
            let state = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
            if state.is_empty() || state.contains(") Z ") {
                gone = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            gone,
            "{client:?}: the handler's child {child} survived the timeout"
        );
        assert_eq!(fx.executor.idle_processes(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_mid_invocation_is_a_runtime_exit_error() {
    let src = "import os\ndef handler(event, context):\n    os._exit(3)\n";
    for (client, python) in python_clients() {
        let fx = executor(&python, client, 10);
        let spec = python_function(&fx, "exiter", src);
        let inv = invocation("{}");
        let id = inv.request_id.clone();
        let out = fx.executor.invoke(&spec, inv).await.unwrap();
        assert_eq!(out.function_error.as_deref(), Some("Unhandled"));
        let v = json(&out.payload);
        assert_eq!(v["errorType"], "Runtime.ExitError", "{client:?}");
        assert_eq!(
            v["errorMessage"],
            format!("RequestId: {id} Error: Runtime exited with error: exit status 3")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_reuse_respects_revision_and_retire() {
    let src = "import os\ndef handler(event, context):\n    return os.getpid()\n";
    let python = system_python();
    let fx = executor(&python, cairn_functions::PythonClient::Cairn, 10);
    let mut spec = python_function(&fx, "pid", src);
    let first = fx.executor.invoke(&spec, invocation("{}")).await.unwrap();
    assert!(first.init_duration_ms.is_some());
    let second = fx.executor.invoke(&spec, invocation("{}")).await.unwrap();
    assert_eq!(second.payload, first.payload);
    assert_eq!(second.init_duration_ms, None);

    spec.revision_id = "rev-2".into();
    let third = fx.executor.invoke(&spec, invocation("{}")).await.unwrap();
    assert_ne!(
        third.payload, first.payload,
        "a new revision starts a new process"
    );
    assert!(third.init_duration_ms.is_some());
    assert_eq!(
        fx.executor.idle_processes(),
        1,
        "the old revision's process was stopped"
    );

    // A process started with credentials expiring within a minute is not reused.
    spec.revision_id = "rev-3".into();
    let mut inv = invocation("{}");
    inv.credentials.expires_at_ms = now_ms() + 30_000;
    let short = fx.executor.invoke(&spec, inv).await.unwrap();
    assert!(short.init_duration_ms.is_some());
    let fourth = fx.executor.invoke(&spec, invocation("{}")).await.unwrap();
    assert!(
        fourth.init_duration_ms.is_some(),
        "expiring credentials force a new process"
    );

    fx.executor.retire(&spec.arn);
    assert_eq!(fx.executor.idle_processes(), 0);
    let pid: u32 = String::from_utf8(fourth.payload.to_vec())
        .unwrap()
        .parse()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(
        stat.is_empty() || stat.contains(") Z "),
        "retired process {pid} still runs"
    );
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_processes_are_stopped_after_the_idle_timeout() {
    let python = system_python();
    let fx = executor(&python, cairn_functions::PythonClient::Cairn, 10);
    let executor = cairn_functions::Executor::new(fx.executor.config().clone())
        .with_python_client(cairn_functions::PythonClient::Cairn)
        .with_idle_timeout(Duration::from_millis(200));
    let spec = python_function(&fx, "idle", "def handler(e, c):\n    return 1\n");
    executor.invoke(&spec, invocation("{}")).await.unwrap();
    assert_eq!(executor.idle_processes(), 1);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(executor.idle_processes(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_limits_refuse_with_too_many_requests() {
    let src = "import time\ndef handler(event, context):\n    time.sleep(0.5)\n    return 1\n";
    let python = system_python();

    // Reserved concurrency 1: a second invocation while the first runs is refused.
    let fx = executor(&python, cairn_functions::PythonClient::Cairn, 10);
    let mut spec = python_function(&fx, "slow", src);
    spec.reserved_concurrency = Some(1);
    let (a, b) = tokio::join!(fx.executor.invoke(&spec, invocation("{}")), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        fx.executor.invoke(&spec, invocation("{}")).await
    });
    assert!(a.is_ok());
    assert!(matches!(b, Err(ExecError::TooManyRequests)), "{b:?}");
    // The slot is given back.
    assert!(fx.executor.invoke(&spec, invocation("{}")).await.is_ok());

    // Reserved 0 throttles everything.
    spec.reserved_concurrency = Some(0);
    assert!(matches!(
        fx.executor.invoke(&spec, invocation("{}")).await,
        Err(ExecError::TooManyRequests)
    ));

    // Machine-wide limit across functions.
    let fx = executor(&python, cairn_functions::PythonClient::Cairn, 1);
    let one = python_function(&fx, "one", src);
    let two = python_function(&fx, "two", src);
    let (a, b) = tokio::join!(fx.executor.invoke(&one, invocation("{}")), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        fx.executor.invoke(&two, invocation("{}")).await
    });
    assert!(a.is_ok());
    assert!(matches!(b, Err(ExecError::TooManyRequests)), "{b:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_code_and_unknown_runtime_are_refused() {
    let python = system_python();
    let fx = executor(&python, cairn_functions::PythonClient::Cairn, 10);
    let spec = spec("nocode", "python3.12", "app.handler", "AAAA");
    assert!(matches!(
        fx.executor.invoke(&spec, invocation("{}")).await,
        Err(ExecError::CodeMissing(_))
    ));
    let mut spec = python_function(&fx, "java", "x = 1\n");
    spec.runtime = "java21".into();
    assert!(matches!(
        fx.executor.invoke(&spec, invocation("{}")).await,
        Err(ExecError::Unsupported(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_context_reaches_the_context_object() {
    let src = "def handler(event, context):\n    return context.client_context.custom\n";
    for (client, python) in python_clients() {
        let fx = executor(&python, client, 10);
        let spec = python_function(&fx, "cc", src);
        let mut inv = invocation("{}");
        // base64 of {"custom":{"a":1}}
        inv.client_context = Some("eyJjdXN0b20iOnsiYSI6MX19".to_string());
        let out = fx.executor.invoke(&spec, inv).await.unwrap();
        assert_eq!(
            json(&out.payload),
            serde_json::json!({"a": 1}),
            "{client:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_response_is_a_response_size_error() {
    let src = "def handler(event, context):\n    return 'x' * 7000000\n";
    for (client, python) in python_clients() {
        let fx = executor(&python, client, 10);
        let spec = python_function(&fx, "big", src);
        let out = fx.executor.invoke(&spec, invocation("{}")).await.unwrap();
        assert_eq!(out.function_error.as_deref(), Some("Unhandled"));
        let v = json(&out.payload);
        assert_eq!(
            v["errorType"], "Function.ResponseSizeTooLarge",
            "{client:?} {v}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_executor_stops_its_processes() {
    let src = "import os\ndef handler(event, context):\n    return os.getpid()\n";
    let fx = executor(system_python(), cairn_functions::PythonClient::Cairn, 10);
    let spec = python_function(&fx, "dropped", src);
    let out = fx.executor.invoke(&spec, invocation("{}")).await.unwrap();
    let pid: u32 = String::from_utf8(out.payload.to_vec())
        .unwrap()
        .parse()
        .unwrap();
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    drop(fx);
    let mut gone = false;
    for _ in 0..50 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat.is_empty() || stat.contains(") Z ") {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "process {pid} outlived its executor");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_module_writes_the_runtime_format() {
    let src = "import logging\ndef handler(event, context):\n    logging.getLogger().warning('careful %d', 3)\n    return 1\n";
    for (client, python) in python_clients() {
        let fx = executor(&python, client, 10);
        let spec = python_function(&fx, "logs", src);
        let inv = invocation("{}");
        let id = inv.request_id.clone();
        let out = fx.executor.invoke(&spec, inv).await.unwrap();
        let m = messages(&out.log);
        let line = m
            .iter()
            .find(|l| l.starts_with("[WARNING]\t"))
            .unwrap_or_else(|| panic!("{client:?} {m:?}"));
        let parts: Vec<&str> = line.split('\t').collect();
        assert_eq!(parts.len(), 4, "{line:?}");
        assert!(parts[1].len() == 24 && parts[1].ends_with('Z'), "{line:?}");
        assert_eq!(parts[2], id);
        assert_eq!(parts[3], "careful 3\n");

        let spec = python_function(&fx, "broken", "import nope\n");
        let out = fx.executor.invoke(&spec, invocation("{}")).await.unwrap();
        let m = messages(&out.log);
        assert!(
            m.iter().any(|l| l.starts_with("[WARNING]\t")
                && l.contains("\t\tLAMBDA_WARNING: Unhandled exception.")),
            "{client:?} {m:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invocations_get_their_own_environments_and_streams() {
    let src = "import os, time\ndef handler(event, context):\n    time.sleep(0.3)\n    return os.getpid()\n";
    let fx = executor(system_python(), cairn_functions::PythonClient::Cairn, 10);
    let spec = python_function(&fx, "parallel", src);
    let (a, b, c) = tokio::join!(
        fx.executor.invoke(&spec, invocation("{}")),
        fx.executor.invoke(&spec, invocation("{}")),
        fx.executor.invoke(&spec, invocation("{}")),
    );
    let outs = [a.unwrap(), b.unwrap(), c.unwrap()];
    let pids: std::collections::HashSet<_> = outs.iter().map(|o| o.payload.clone()).collect();
    let streams: std::collections::HashSet<_> = outs.iter().map(|o| o.log_stream.clone()).collect();
    assert_eq!(pids.len(), 3);
    assert_eq!(streams.len(), 3);
    assert_eq!(fx.executor.idle_processes(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_larger_than_a_pipe_is_captured_whole() {
    let src = "def handler(event, context):\n    for i in range(20000):\n        print('line %05d %s' % (i, 'x' * 100))\n    return 'done'\n";
    for (client, python) in python_clients() {
        let fx = executor(&python, client, 10);
        let spec = python_function(&fx, "chatty", src);
        let out = fx.executor.invoke(&spec, invocation("{}")).await.unwrap();
        assert_eq!(out.payload, "\"done\"", "{client:?}");
        let lines: Vec<&String> = out
            .log
            .iter()
            .map(|(_, m)| m)
            .filter(|m| m.starts_with("line "))
            .collect();
        assert_eq!(lines.len(), 20000, "{client:?}");
        assert!(lines[19999].starts_with("line 19999 "));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_interpreter_is_resolved_past_launchers() {
    let src = "import os, sys\ndef handler(event, context):\n    return [sys.executable, os.environ['PATH']]\n";
    // `python3` as found on PATH (here possibly pyenv's shim, a shell script).
    let fx = executor(
        std::path::Path::new("python3"),
        cairn_functions::PythonClient::Auto,
        10,
    );
    let spec = python_function(&fx, "resolved", src);
    let out = fx.executor.invoke(&spec, invocation("{}")).await.unwrap();
    assert_eq!(out.function_error, None, "{:?}", messages(&out.log));
    let v = json(&out.payload);
    let exe = std::path::PathBuf::from(v[0].as_str().unwrap());
    assert!(exe.is_absolute(), "{v}");
    assert!(!exe.to_string_lossy().contains("/shims/"), "{v}");
    let bin = exe.parent().unwrap().display().to_string();
    assert!(
        v[1].as_str().unwrap().starts_with(&format!("{bin}:")),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoking_from_a_blocking_thread_through_the_runtime_handle() {
    // The Lambda service's handlers are synchronous: they block on the executor.
    let fx = std::sync::Arc::new(executor(
        system_python(),
        cairn_functions::PythonClient::Cairn,
        10,
    ));
    let spec = python_function(&fx, "blocking", "def handler(e, c):\n    return e\n");
    let fx2 = fx.clone();
    let out = tokio::task::spawn_blocking(move || {
        let handle = tokio::runtime::Handle::current();
        let first = handle
            .block_on(fx2.executor.invoke(&spec, invocation("[1]")))
            .unwrap();
        let second = handle
            .block_on(fx2.executor.invoke(&spec, invocation("[2]")))
            .unwrap();
        (first, second)
    })
    .await
    .unwrap();
    assert_eq!(out.0.payload, "[1]");
    assert_eq!(out.1.payload, "[2]");
    assert_eq!(out.1.init_duration_ms, None);
}
