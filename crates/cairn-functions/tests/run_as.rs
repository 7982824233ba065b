//! When cairn runs as root, functions run as the configured unprivileged user: they cannot
//! read what only root can (such as cairn's data directory), and their code stays readable.

#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use cairn_functions::{Executor, ExecutorConfig, PythonClient};
use common::*;

const NOBODY: (u32, u32) = (65534, 65534);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn functions_run_as_the_unprivileged_user() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipping: not running as root");
        return;
    }
    // An interpreter the unprivileged user can run (pyenv's lives under /root).
    let python = PathBuf::from("/usr/bin/python3");
    if !python.exists() {
        eprintln!("skipping: no /usr/bin/python3");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // Stands for cairn's data directory: root's own.
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(data.join("journal"), "secret").unwrap();

    // The runtime's packages (awslambdaric, boto3) as scripts/venv provides them, when it has.
    let runtime_packages =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.lambda-python");
    let has_packages = runtime_packages.join("awslambdaric").is_dir();
    let executor = Executor::new(ExecutorConfig {
        work_root: dir.path().join("work"),
        python,
        max_concurrency: 4,
        run_as: Some(NOBODY),
    })
    .with_python_client(PythonClient::Auto)
    .with_python_path(vec![runtime_packages]);
    let src = format!(
        r#"
import os, resource, sys
def handler(event, context):
    try:
        open({secret:?}).read()
        read = "read"
    except PermissionError:
        read = "denied"
    try:
        import boto3
        boto = True
    except ImportError:
        boto = False
    return {{"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(), "secret": read,
             "nproc": list(resource.getrlimit(resource.RLIMIT_NPROC)),
             "ric": "awslambdaric" in sys.modules, "boto3": boto}}
"#,
        secret = data.join("journal").display().to_string()
    );
    let zip = zip(&[("app.py", 0o644, &src)]);
    let sha = digest(&zip);
    executor.install_code(&sha, &zip).unwrap();
    let spec = spec("unprivileged", "python3.12", "app.handler", &sha);
    let out = executor.invoke(&spec, invocation("{}")).await.unwrap();
    assert_eq!(out.function_error, None, "{:?}", messages(&out.log));
    let v = json(&out.payload);
    // Each function has a uid of its own from 200000 on; the configured gid.
    assert_eq!(v["uid"], 200000);
    assert_eq!(v["gid"], 65534);
    // What its user may fork is capped.
    assert_eq!(v["nproc"], serde_json::json!([1024, 1024]));
    assert_eq!(
        v["groups"],
        serde_json::json!([]),
        "root's supplementary groups dropped"
    );
    assert_eq!(v["secret"], "denied");
    if has_packages {
        assert_eq!(
            v["ric"], true,
            "awslambdaric from the runtime's packages, as nobody"
        );
        assert_eq!(v["boto3"], true);
    } else {
        eprintln!("awslambdaric not checked: no .lambda-python (run scripts/venv)");
    }
}

/// Each function runs as a uid of its own: one cannot read another's `/proc/<pid>/environ`
/// (its execution role's credentials), nor list the work root or other functions' code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_function_cannot_read_anothers_environ() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipping: not running as root");
        return;
    }
    let python = PathBuf::from("/usr/bin/python3");
    if !python.exists() {
        eprintln!("skipping: no /usr/bin/python3");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let work = dir.path().join("work");
    let executor = Executor::new(ExecutorConfig {
        work_root: work.clone(),
        python,
        max_concurrency: 4,
        run_as: Some(NOBODY),
    })
    .with_python_client(PythonClient::Cairn);
    let victim_src = r#"
import os
def handler(event, context):
    return {"pid": os.getpid(), "uid": os.getuid()}
"#;
    let snoop_src = r#"
import os
def handler(event, context):
    out = {"uid": os.getuid()}
    try:
        out["environ"] = open("/proc/%d/environ" % event["pid"], "rb").read().decode("latin-1")
    except OSError as e:
        out["environ"] = "denied: " + type(e).__name__
    for name, path in (("work", event["work"]), ("code", event["work"] + "/code")):
        try:
            out[name] = os.listdir(path)
        except OSError as e:
            out[name] = "denied"
    return out
"#;
    let mut specs = Vec::new();
    for (name, src) in [("victim", victim_src), ("snoop", snoop_src)] {
        let zip = zip(&[("app.py", 0o644, src)]);
        let sha = digest(&zip);
        executor.install_code(&sha, &zip).unwrap();
        let mut s = spec(name, "python3.12", "app.handler", &sha);
        s.arn = format!("arn:aws:lambda:us-east-1:000000000000:function:{name}");
        specs.push(s);
    }
    let mut inv = invocation("{}");
    inv.credentials.secret_access_key = "victim-secret-key".to_string();
    let out = executor.invoke(&specs[0], inv).await.unwrap();
    assert_eq!(out.function_error, None, "{:?}", messages(&out.log));
    let victim = json(&out.payload);
    // The victim stays warm: its process (and its environment) is still there.
    let event = serde_json::json!({"pid": victim["pid"], "work": work.display().to_string()});
    let out = executor
        .invoke(&specs[1], invocation(&event.to_string()))
        .await
        .unwrap();
    assert_eq!(out.function_error, None, "{:?}", messages(&out.log));
    let snoop = json(&out.payload);
    assert_ne!(
        victim["uid"], snoop["uid"],
        "functions run as distinct uids"
    );
    assert!(victim["uid"].as_u64().unwrap() >= 200000);
    let environ = snoop["environ"].as_str().unwrap();
    assert!(!environ.contains("victim-secret-key"), "{environ}");
    assert!(environ.starts_with("denied"), "{environ}");
    assert_eq!(snoop["work"], "denied", "the work root is not listable");
    assert_eq!(snoop["code"], "denied", "code/ is not listable");
    // The same function keeps its uid.
    let out = executor.invoke(&specs[0], invocation("{}")).await.unwrap();
    assert_eq!(json(&out.payload)["uid"], victim["uid"]);
}
