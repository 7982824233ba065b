//! `provided.al2023` functions: the code's own `bootstrap` speaking the Runtime API, here a
//! shell script with curl, which also probes the API's answers to wrong requests.

#![allow(clippy::unwrap_used)]

mod common;

use cairn_functions::PythonClient;
use common::*;

const BOOTSTRAP: &str = r#"#!/bin/sh
set -eu
echo "init from bootstrap"
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
HEADERS="$(mktemp)"
while true; do
  EVENT=$(curl -sS -D "$HEADERS" "$API/invocation/next")
  ID=$(grep -i '^lambda-runtime-aws-request-id:' "$HEADERS" | tr -d '\r' | cut -d' ' -f2)
  DEADLINE=$(grep -i '^lambda-runtime-deadline-ms:' "$HEADERS" | tr -d '\r' | cut -d' ' -f2)
  ARN=$(grep -i '^lambda-runtime-invoked-function-arn:' "$HEADERS" | tr -d '\r' | cut -d' ' -f2)
  echo "event $EVENT"
  BOGUS=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{}' "$API/invocation/not-an-id/response")
  NOPATH=$(curl -s -o /dev/null -w '%{http_code}' "$API/nothing")
  INITERR=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{}' "$API/init/error")
  case "$EVENT" in
    *fail*)
      curl -sS -o /dev/null -X POST "$API/invocation/$ID/error" \
        -H "Lambda-Runtime-Function-Error-Type: Custom.Failure" \
        -d '{"errorMessage":"it failed","errorType":"Custom.Failure"}'
      ;;
    *)
      CODE=$(curl -sS -o "$HEADERS.body" -w '%{http_code}' -X POST "$API/invocation/$ID/response" \
        -d "{\"echo\":$EVENT,\"bogus\":$BOGUS,\"nopath\":$NOPATH,\"initerr\":$INITERR,\"pid\":$$,\"deadline\":$DEADLINE,\"arn\":\"$ARN\",\"exec_env\":\"${AWS_EXECUTION_ENV:-none}\",\"python_path\":\"${PYTHONPATH:-none}\"}")
      echo "posted $CODE $(cat "$HEADERS.body")"
      ;;
  esac
done
"#;

fn install(fx: &Fixture, name: &str, files: &[(&str, u32, &str)]) -> cairn_functions::FunctionSpec {
    let zip = zip(files);
    let sha = digest(&zip);
    fx.executor.install_code(&sha, &zip).unwrap();
    spec(name, "provided.al2023", "unused.handler", &sha)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_bootstrap_serves_invocations_through_the_runtime_api() {
    let fx = executor(system_python(), PythonClient::Cairn, 10);
    let spec = install(&fx, "shell", &[("bootstrap", 0o755, BOOTSTRAP)]);
    let out = fx
        .executor
        .invoke(&spec, invocation(r#"{"x":1}"#))
        .await
        .unwrap();
    assert_eq!(out.function_error, None, "{:?}", messages(&out.log));
    let v = json(&out.payload);
    assert_eq!(v["echo"]["x"], 1);
    assert_eq!(v["bogus"], 400, "unknown request id: InvalidRequestID");
    assert_eq!(v["nopath"], 404);
    assert_eq!(
        v["initerr"], 403,
        "init/error after the first next: InvalidStateTransition"
    );
    assert_eq!(v["arn"], spec.arn.as_str());
    assert_eq!(
        v["exec_env"], "none",
        "AWS_EXECUTION_ENV is absent for provided runtimes"
    );
    assert_eq!(v["python_path"], "none");
    assert!(v["deadline"].as_i64().unwrap() > 0);
    let m = messages(&out.log);
    assert_eq!(m[0], "init from bootstrap\n", "{m:?}");
    assert!(m[1].starts_with("START"), "{m:?}");
    assert_eq!(m[2], "event {\"x\":1}\n");
    assert!(m[m.len() - 2].starts_with("END"), "{m:?}");
    assert!(
        m[m.len() - 1].starts_with("REPORT") && m[m.len() - 1].contains("Init Duration"),
        "{m:?}"
    );

    let out2 = fx
        .executor
        .invoke(&spec, invocation(r#"{"x":2}"#))
        .await
        .unwrap();
    assert_eq!(json(&out2.payload)["pid"], v["pid"], "warm reuse");
    // Written after the response was accepted: in this invocation's log when it came before
    // the executor finished it, else the next one's, before START. Never lost, never twice.
    let m2 = messages(&out2.log);
    let posted = "posted 202 {\"status\":\"OK\"}\n".to_string();
    let start2 = m2.iter().position(|l| l.starts_with("START")).unwrap();
    let count = m.iter().filter(|l| **l == posted).count()
        + m2[..start2].iter().filter(|l| **l == posted).count();
    assert_eq!(count, 1, "{m:?} {m2:?}");
    assert_eq!(m2[start2 + 1], "event {\"x\":2}\n", "{m2:?}");

    let failed = fx
        .executor
        .invoke(&spec, invocation(r#""fail""#))
        .await
        .unwrap();
    assert_eq!(failed.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(json(&failed.payload)["errorType"], "Custom.Failure");
    let after = fx
        .executor
        .invoke(&spec, invocation(r#"{"x":3}"#))
        .await
        .unwrap();
    assert_eq!(
        json(&after.payload)["pid"],
        v["pid"],
        "an error leaves the process warm"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_unexecutable_bootstrap_is_an_invalid_entrypoint() {
    let fx = executor(system_python(), PythonClient::Cairn, 10);
    let spec = install(&fx, "nobootstrap", &[("other", 0o755, "#!/bin/sh\n")]);
    let out = fx.executor.invoke(&spec, invocation("{}")).await.unwrap();
    assert_eq!(out.function_error.as_deref(), Some("Unhandled"));
    let v = json(&out.payload);
    assert_eq!(v["errorType"], "Runtime.InvalidEntrypoint");
    assert!(
        v["errorMessage"]
            .as_str()
            .unwrap()
            .contains("Couldn't find valid bootstrap(s)"),
        "{v}"
    );

    let spec = install(&fx, "noexec", &[("bootstrap", 0o644, BOOTSTRAP)]);
    let out = fx.executor.invoke(&spec, invocation("{}")).await.unwrap();
    let v = json(&out.payload);
    assert_eq!(v["errorType"], "Runtime.InvalidEntrypoint", "{v}");
    assert!(
        v["errorMessage"]
            .as_str()
            .unwrap()
            .ends_with("permission denied"),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_exiting_during_init_is_an_exit_error() {
    let fx = executor(system_python(), PythonClient::Cairn, 10);
    let spec = install(
        &fx,
        "dies",
        &[("bootstrap", 0o755, "#!/bin/sh\necho dying\nexit 7\n")],
    );
    let inv = invocation("{}");
    let id = inv.request_id.clone();
    let out = fx.executor.invoke(&spec, inv).await.unwrap();
    let v = json(&out.payload);
    assert_eq!(v["errorType"], "Runtime.ExitError");
    assert_eq!(
        v["errorMessage"],
        format!("RequestId: {id} Error: Runtime exited with error: exit status 7")
    );
    let m = messages(&out.log);
    assert!(m.contains(&"dying\n".to_string()), "{m:?}");
}
