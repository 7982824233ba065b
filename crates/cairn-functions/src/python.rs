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
    crate::code::ensure_public_dir(work_root)?;
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

/// Whether `python` (run as the functions' user) can import awslambdaric.
pub(crate) async fn has_awslambdaric(python: &Path, run_as: Option<(u32, u32)>) -> bool {
    let mut cmd = tokio::process::Command::new(python);
    cmd.args(["-c", "import awslambdaric.bootstrap, runtime_client"])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    if let Some((uid, gid)) = run_as.filter(|_| crate::process::running_as_root()) {
        cmd.uid(uid).gid(gid);
    }
    let status = tokio::time::timeout(Duration::from_secs(20), cmd.status()).await;
    let found = matches!(status, Ok(Ok(s)) if s.success());
    tracing::info!(python = %python.display(), awslambdaric = found, "python runtime client");
    found
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
