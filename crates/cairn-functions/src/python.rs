//! Which runtime interface client a `python3.x` function runs under: awslambdaric (the one
//! AWS's own images run) when the configured interpreter can import it, checked once per
//! executor, else cairn's own bootstrap (`bootstrap.py`, embedded here and written to
//! `<work_root>/runtime/`).

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::PythonClient;

/// cairn's own runtime interface client.
const BOOTSTRAP: &str = include_str!("bootstrap.py");
const BOOTSTRAP_NAME: &str = "cairn_bootstrap.py";

/// Where the bootstrap lives: `LAMBDA_RUNTIME_DIR` (AWS's `/var/runtime`).
pub(crate) fn runtime_dir(work_root: &Path) -> PathBuf {
    work_root.join("runtime")
}

/// Writes the bootstrap (atomically: another executor may be starting from it right now).
pub(crate) fn write_bootstrap(work_root: &Path) -> io::Result<PathBuf> {
    crate::code::ensure_traversable_dir(work_root)?;
    let dir = runtime_dir(work_root);
    crate::code::ensure_public_dir(&dir)?;
    let path = dir.join(BOOTSTRAP_NAME);
    if std::fs::read_to_string(&path).is_ok_and(|text| text == BOOTSTRAP) {
        return Ok(path);
    }
    let tmp = dir.join(format!(
        ".{BOOTSTRAP_NAME}.{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&tmp, BOOTSTRAP)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// What the configured interpreter turned out to be.
#[derive(Debug, Clone)]
pub(crate) struct Probe {
    /// `sys.executable`: past a launcher such as pyenv's shim (a shell script costing tens
    /// of milliseconds per start), still inside a virtualenv when it is one.
    pub executable: PathBuf,
    pub awslambdaric: bool,
}

/// Asks the interpreter (run as the functions' user) where it lives and whether it can import
/// awslambdaric (from its own packages or the runtime's `python_path`). Runs with cairn's own
/// environment otherwise: a launcher needs it to find the real interpreter.
pub(crate) async fn probe(
    python: &Path,
    python_path: &[PathBuf],
    run_as: Option<(u32, u32)>,
) -> Probe {
    let mut cmd = tokio::process::Command::new(python);
    if !python_path.is_empty() {
        let dirs: Vec<String> = python_path
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        cmd.env("PYTHONPATH", dirs.join(":"));
    }
    cmd.args([
        "-c",
        "import sys; print(sys.executable, flush=True); import awslambdaric.bootstrap, runtime_client",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .kill_on_drop(true);
    if let Some((uid, gid)) = run_as.filter(|_| crate::process::running_as_root()) {
        cmd.uid(uid).gid(gid);
    }
    let out = tokio::time::timeout(Duration::from_secs(20), cmd.output()).await;
    let (executable, awslambdaric) = match out {
        Ok(Ok(out)) => {
            let text = String::from_utf8_lossy(&out.stdout);
            let exe = PathBuf::from(text.lines().next().unwrap_or_default().trim());
            (exe, out.status.success())
        }
        _ => (PathBuf::new(), false),
    };
    let executable = if executable.is_absolute() {
        executable
    } else {
        python.to_path_buf()
    };
    tracing::info!(
        python = %python.display(),
        executable = %executable.display(),
        awslambdaric,
        "python runtime"
    );
    Probe {
        executable,
        awslambdaric,
    }
}

/// The command line of a Python function's process.
pub(crate) fn command(
    python: &Path,
    client: PythonClient,
    bootstrap: &Path,
    handler: &str,
) -> (PathBuf, Vec<OsString>) {
    let args = match client {
        PythonClient::Awslambdaric | PythonClient::Auto => {
            vec!["-m".into(), "awslambdaric".into(), handler.into()]
        }
        PythonClient::Cairn => vec![bootstrap.into(), handler.into()],
    };
    (python.to_path_buf(), args)
}
