//! Starting and stopping a function's process: its own process group (so a timeout kills
//! whatever it forked too), a cleared environment, stdin closed, stdout and stderr into the
//! log pipe, and the unprivileged uid/gid when cairn runs as root, with a cap on the processes
//! that user may have. Also reads the peak
//! memory the REPORT line shows.

use std::ffi::OsString;
use std::io;
use std::path::PathBuf;
use std::process::Stdio;

use tokio::process::{Child, Command};

pub(crate) struct Launch {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub cwd: PathBuf,
    pub env: Vec<(String, String)>,
    pub run_as: Option<(u32, u32)>,
}

pub(crate) fn spawn(launch: &Launch, output: std::io::PipeWriter) -> io::Result<Child> {
    let mut cmd = Command::new(&launch.program);
    cmd.args(&launch.args)
        .current_dir(&launch.cwd)
        .env_clear()
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::from(output.try_clone()?))
        .stderr(Stdio::from(output))
        .process_group(0)
        .kill_on_drop(true);
    if let Some((uid, gid)) = launch.run_as.filter(|_| running_as_root()) {
        // std drops the supplementary groups too when it changes the uid as root.
        cmd.uid(uid).gid(gid);
        // SAFETY: runs in the child between fork and exec, after the uid change; setrlimit is
        // async-signal-safe and allocates nothing.
        unsafe {
            cmd.pre_exec(limit_processes);
        }
    }
    cmd.spawn()
}

/// Processes and threads a function's user may have at once. Each function has a uid of its
/// own, so this bounds what one function can fork (a fork bomb stops here, and `setsid`
/// cannot take a process out of the count) without touching other functions or cairn.
pub(crate) const MAX_PROCESSES: u64 = 1024;

fn limit_processes() -> io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: MAX_PROCESSES,
        rlim_max: MAX_PROCESSES,
    };
    // SAFETY: setrlimit reads the struct it is given and nothing else.
    if unsafe { libc::setrlimit(libc::RLIMIT_NPROC, &limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

pub(crate) fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and touches no memory.
    unsafe { libc::geteuid() == 0 }
}

/// Kills the process group the function's process leads. Called while the leader is not yet
/// reaped, so its pid (the group id) cannot have been reused.
pub(crate) fn kill_group(pid: u32) {
    let Ok(pgid) = i32::try_from(pid) else {
        return;
    };
    if pgid <= 1 {
        return;
    }
    // SAFETY: kill takes plain integers; a negative pid addresses the process group.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Peak resident memory of the process (`VmHWM`), in MB rounded up.
pub(crate) fn max_memory_mb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb.div_ceil(1024))
}
