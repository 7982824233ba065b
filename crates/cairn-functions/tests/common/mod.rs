//! Shared helpers for the executor's tests: zips built in memory, a function spec, the
//! interpreters to run Python functions with.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use cairn_functions::{
    Credentials, Executor, ExecutorConfig, FunctionSpec, Invocation, PythonClient,
};

/// Builds a zip from (name, mode, content).
pub fn zip(files: &[(&str, u32, &str)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, mode, content) in files {
        let opts = zip::write::SimpleFileOptions::default().unix_permissions(*mode);
        w.start_file(*name, opts).unwrap();
        w.write_all(content.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A digest-shaped name unique to the content (tests only need a stable key).
pub fn digest(zip: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    zip.hash(&mut h);
    format!("{:016x}+/{}=", h.finish(), zip.len())
}

/// The machine's python3 (resolved past pyenv's shim, which costs a shell per start).
pub fn system_python() -> PathBuf {
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 on PATH");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// An interpreter and the runtime's packages on its path (`Executor::with_python_path`).
#[derive(Debug, Clone)]
pub struct Py {
    pub exe: PathBuf,
    pub path: Vec<PathBuf>,
}

pub trait AsPy {
    fn as_py(&self) -> Py;
}

impl AsPy for Py {
    fn as_py(&self) -> Py {
        self.clone()
    }
}

impl AsPy for PathBuf {
    fn as_py(&self) -> Py {
        Py {
            exe: self.clone(),
            path: Vec::new(),
        }
    }
}

impl AsPy for Path {
    fn as_py(&self) -> Py {
        Py {
            exe: self.to_path_buf(),
            path: Vec::new(),
        }
    }
}

impl<T: AsPy + ?Sized> AsPy for &T {
    fn as_py(&self) -> Py {
        (**self).as_py()
    }
}

fn imports_awslambdaric(py: &Py) -> bool {
    let mut cmd = std::process::Command::new(&py.exe);
    cmd.args(["-c", "import awslambdaric.bootstrap, runtime_client"]);
    if !py.path.is_empty() {
        let dirs: Vec<String> = py.path.iter().map(|p| p.display().to_string()).collect();
        cmd.env("PYTHONPATH", dirs.join(":"));
    }
    cmd.stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// awslambdaric as the project provides it to functions: the system's python3 with
/// `.lambda-python` (scripts/venv) on the path; else the project venv's python if it has it.
pub fn ric_python() -> Option<Py> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let candidates = [
        Py {
            exe: PathBuf::from("/usr/bin/python3"),
            path: vec![root.join(".lambda-python")],
        },
        Py {
            exe: system_python(),
            path: vec![root.join(".lambda-python")],
        },
        Py {
            exe: root.join(".venv/bin/python"),
            path: Vec::new(),
        },
    ];
    let found = candidates.into_iter().find(imports_awslambdaric);
    if found.is_none() {
        eprintln!("skipping awslambdaric: no interpreter here can import it (run scripts/venv)");
    }
    found
}

/// The Python runtime clients to run a test under: cairn's bootstrap on the machine's
/// python3, and awslambdaric when the project has it.
pub fn python_clients() -> Vec<(PythonClient, Py)> {
    let mut v = vec![(PythonClient::Cairn, system_python().as_py())];
    if let Some(p) = ric_python() {
        v.push((PythonClient::Awslambdaric, p));
    }
    v
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub executor: Executor,
}

pub fn executor(python: impl AsPy, client: PythonClient, max_concurrency: usize) -> Fixture {
    let py = python.as_py();
    let dir = tempfile::tempdir().unwrap();
    let executor = Executor::new(ExecutorConfig {
        work_root: dir.path().join("work"),
        python: py.exe,
        max_concurrency,
        run_as: None,
    })
    .with_python_client(client)
    .with_python_path(py.path);
    Fixture { dir, executor }
}

pub fn spec(name: &str, runtime: &str, handler: &str, code_sha256: &str) -> FunctionSpec {
    FunctionSpec {
        name: name.to_string(),
        arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{name}"),
        version: "$LATEST".to_string(),
        runtime: runtime.to_string(),
        handler: handler.to_string(),
        code_sha256: code_sha256.to_string(),
        environment: BTreeMap::from([("GREETING".to_string(), "hi".to_string())]),
        timeout_ms: 10_000,
        memory_mb: 128,
        region: "us-east-1".to_string(),
        log_group: format!("/aws/lambda/{name}"),
        reserved_concurrency: None,
        revision_id: "rev-1".to_string(),
    }
}

/// Installs a one-file Python function and returns its spec.
pub fn python_function(fx: &Fixture, name: &str, source: &str) -> FunctionSpec {
    let zip = zip(&[("app.py", 0o644, source)]);
    let sha = digest(&zip);
    fx.executor.install_code(&sha, &zip).unwrap();
    spec(name, "python3.12", "app.handler", &sha)
}

pub fn invocation(payload: &str) -> Invocation {
    Invocation {
        request_id: uuid::Uuid::new_v4().to_string(),
        payload: Bytes::from(payload.to_string()),
        client_context: None,
        credentials: Credentials {
            access_key_id: "ASIAEXAMPLE".to_string(),
            secret_access_key: "secret".to_string(),
            session_token: "token".to_string(),
            expires_at_ms: i64::MAX,
        },
    }
}

pub fn json(payload: &Bytes) -> serde_json::Value {
    serde_json::from_slice(payload)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(payload)))
}

/// The log messages, without times.
pub fn messages(log: &[(i64, String)]) -> Vec<String> {
    log.iter().map(|(_, m)| m.clone()).collect()
}
