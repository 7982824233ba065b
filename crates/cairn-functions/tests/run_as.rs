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
import os, sys
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
    assert_eq!(v["uid"], 65534);
    assert_eq!(v["gid"], 65534);
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
