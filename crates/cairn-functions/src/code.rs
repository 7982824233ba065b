//! Function code on disk: a zip unpacked once per `CodeSha256` into
//! `<work_root>/code/<digest>/`, read-only for the functions that run it (as `/var/task` is on
//! AWS). Unpacking refuses entries that would land outside the directory (zip slip) and zips of
//! more than 100,000 entries, keeps the Unix mode bits but never group or other write (nor
//! setuid/setgid: `m & 0o755`), so `bootstrap` stays executable, an unreadable file stays
//! unreadable as on AWS, and nothing there is writable by the uids functions run as; and it
//! enforces AWS's unzipped size limit.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use crate::ExecError;

/// AWS's limit on a function's unzipped code.
pub const MAX_UNZIPPED_BYTES: u64 = 262_144_000;

/// Most entries a zip may have: more is refused before anything is written.
const MAX_ENTRIES: usize = 100_000;
/// Longest symlink target read from an entry.
const MAX_LINK_BYTES: u64 = 4096;

const UNZIP_FAILED: &str =
    "Could not unzip uploaded file. Please check your file, then try to upload again.";

/// The directory a digest's code lives in, whether or not it is installed. `None` when the
/// digest is not base64 (it names a directory, so nothing else may pass).
fn dir_for(work_root: &Path, code_sha256: &str) -> Option<PathBuf> {
    let ok = !code_sha256.is_empty()
        && code_sha256.len() <= 128
        && code_sha256
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    if !ok {
        return None;
    }
    // Base64's `/` cannot appear in a file name; the URL-safe spelling names the same digest.
    let name: String = code_sha256
        .chars()
        .filter(|c| *c != '=')
        .map(|c| match c {
            '/' => '_',
            '+' => '-',
            c => c,
        })
        .collect();
    Some(work_root.join("code").join(name))
}

/// The installed code directory of a digest.
pub(crate) fn installed_dir(work_root: &Path, code_sha256: &str) -> Option<PathBuf> {
    dir_for(work_root, code_sha256).filter(|dir| dir.is_dir())
}

/// Which installed code is in use by live environments and running invocations, so that a
/// sweep of unused code leaves it alone.
#[derive(Default)]
pub(crate) struct Leases(std::sync::Mutex<std::collections::HashMap<String, usize>>);

/// One use of a digest's code; the use ends when this is dropped.
pub(crate) struct CodeLease {
    leases: std::sync::Arc<Leases>,
    sha: String,
}

impl Leases {
    fn map(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, usize>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn lease(self: &std::sync::Arc<Self>, sha: &str) -> CodeLease {
        *self.map().entry(sha.to_owned()).or_default() += 1;
        CodeLease {
            leases: std::sync::Arc::clone(self),
            sha: sha.to_owned(),
        }
    }

    /// Removes the installed code of digests neither in `in_use` nor leased. The lease map is
    /// held throughout, so an invocation cannot take a lease on code being removed and then
    /// start from a directory that vanishes under it: it waits, finds the code gone, and
    /// installs it again. How many were removed.
    pub(crate) fn sweep(
        &self,
        work_root: &Path,
        in_use: &std::collections::HashSet<String>,
    ) -> usize {
        let leased = self.map();
        let keep: std::collections::HashSet<String> = in_use
            .iter()
            .chain(leased.keys())
            .filter_map(|sha| dir_name(sha))
            .collect();
        let mut removed = 0;
        for (name, dir) in installed(work_root) {
            // `.staging-…`: an install under way.
            if keep.contains(&name) || name.starts_with('.') {
                continue;
            }
            match fs::remove_dir_all(&dir) {
                Ok(()) => removed += 1,
                Err(e) => {
                    tracing::warn!(dir = %dir.display(), error = %e, "could not remove unused function code")
                }
            }
        }
        removed
    }
}

impl Drop for CodeLease {
    fn drop(&mut self) {
        let mut map = self.leases.map();
        if let Some(n) = map.get_mut(&self.sha) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.sha);
            }
        }
    }
}

/// The directory names of the installed digests, with the directory each is in.
pub(crate) fn installed(work_root: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = fs::read_dir(work_root.join("code")) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
        .collect()
}

/// The directory name a digest's code is installed under.
pub(crate) fn dir_name(code_sha256: &str) -> Option<String> {
    dir_for(Path::new(""), code_sha256)
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
}

/// Makes a directory readable and traversable by the unprivileged user functions run as.
pub(crate) fn ensure_public_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755))
}

/// Makes a directory traversable but not listable by the users functions run as (0711): the
/// work root and `code/`, so one function cannot list the code directories of others.
pub(crate) fn ensure_traversable_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o711))
}

pub(crate) fn install(work_root: &Path, code_sha256: &str, zip: &[u8]) -> Result<(), ExecError> {
    let dir = dir_for(work_root, code_sha256).ok_or_else(|| {
        ExecError::InvalidCode(format!("CodeSha256 {code_sha256:?} is not a base64 digest"))
    })?;
    if dir.is_dir() {
        return Ok(());
    }
    ensure_traversable_dir(work_root)?;
    let parent = work_root.join("code");
    ensure_traversable_dir(&parent)?;
    // Unpacked beside its final place and renamed in, so a crash or a concurrent install never
    // leaves a half-written directory under the digest's name.
    let staging = parent.join(format!(".staging-{}", uuid::Uuid::new_v4().simple()));
    let result = unpack(zip, &staging, MAX_UNZIPPED_BYTES);
    if let Err(e) = result {
        let _ = fs::remove_dir_all(&staging);
        return Err(e);
    }
    fs::set_permissions(&staging, fs::Permissions::from_mode(0o755))?;
    if let Err(e) = fs::rename(&staging, &dir) {
        let _ = fs::remove_dir_all(&staging);
        if !dir.is_dir() {
            return Err(e.into());
        }
    }
    tracing::debug!(code_sha256, dir = %dir.display(), "function code installed");
    Ok(())
}

fn invalid(e: impl std::fmt::Display) -> ExecError {
    tracing::debug!(error = %e, "function zip refused");
    ExecError::InvalidCode(UNZIP_FAILED.to_string())
}

fn too_large(limit: u64) -> ExecError {
    ExecError::InvalidCode(format!("Unzipped size must be smaller than {limit} bytes"))
}

fn unpack(zip: &[u8], into: &Path, limit: u64) -> Result<(), ExecError> {
    let mut archive = zip::ZipArchive::new(io::Cursor::new(zip)).map_err(invalid)?;
    if archive.len() > MAX_ENTRIES {
        return Err(invalid(format!(
            "{} entries, more than {MAX_ENTRIES}",
            archive.len()
        )));
    }
    // The declared sizes decide before anything is written; the copy below also counts what
    // actually comes out, since a zip can lie about its sizes.
    let declared: u64 = (0..archive.len())
        .filter_map(|i| archive.by_index_raw(i).ok().map(|f| f.size()))
        .fold(0u64, u64::saturating_add);
    if declared >= limit {
        return Err(too_large(limit));
    }
    fs::create_dir(into)?;
    let mut written: u64 = 0;
    // Symlinks are made last: a link made earlier could carry a later entry outside the
    // directory.
    let mut links: Vec<(PathBuf, PathBuf)> = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(invalid)?;
        let rel = entry
            .enclosed_name()
            .ok_or_else(|| invalid(format!("entry {:?} leaves the directory", entry.name())))?;
        if rel.components().all(|c| matches!(c, Component::CurDir)) {
            continue;
        }
        let target = into.join(&rel);
        let mode = entry.unix_mode();
        if entry.is_dir() {
            fs::create_dir_all(&target)?;
            set_mode(&target, mode.map_or(0o755, |m| m & 0o755))?;
            continue;
        }
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
        }
        if entry.is_symlink() {
            let mut link = String::new();
            (&mut entry)
                .take(MAX_LINK_BYTES)
                .read_to_string(&mut link)
                .map_err(invalid)?;
            links.push((rel, PathBuf::from(link)));
            continue;
        }
        let mut out = fs::File::create(&target)?;
        let left = limit.saturating_sub(written);
        let copied = io::copy(&mut (&mut entry).take(left), &mut out).map_err(invalid)?;
        written = written.saturating_add(copied);
        if written >= limit {
            return Err(too_large(limit));
        }
        out.flush()?;
        // Never writable by group or others (functions run as other users than the owner,
        // root); a setuid or setgid bit is not kept either.
        set_mode(&target, mode.map_or(0o644, |m| m & 0o755))?;
    }
    for (rel, link) in links {
        make_link(into, &rel, &link)?;
    }
    // Directories made on the way (not entries of their own) were made under cairn's umask.
    restrict(into)?;
    Ok(())
}

/// Clears the group and other write bits of everything under `dir` (links are not followed).
fn restrict(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let meta = fs::symlink_metadata(entry.path())?;
        if meta.file_type().is_symlink() {
            continue;
        }
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o7022 != 0 {
            set_mode(&entry.path(), mode & 0o755)?;
        }
        if meta.is_dir() {
            restrict(&entry.path())?;
        }
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

/// Creates a symlink entry, refusing one whose own path runs through another symlink.
fn make_link(root: &Path, rel: &Path, link: &Path) -> Result<(), ExecError> {
    let mut at = root.to_path_buf();
    let parents: Vec<Component<'_>> = rel
        .parent()
        .map_or(Vec::new(), |p| p.components().collect());
    for part in parents {
        at.push(part);
        let meta = fs::symlink_metadata(&at)?;
        if !meta.is_dir() {
            return Err(invalid(format!("{} runs through a link", rel.display())));
        }
    }
    let path = root.join(rel);
    if fs::symlink_metadata(&path).is_ok() {
        return Err(invalid(format!("{} is in the zip twice", rel.display())));
    }
    std::os::unix::fs::symlink(link, &path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zip_of(content: &[u8]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        w.start_file("big.bin", zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(content).unwrap();
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn unzipped_size_limit_is_aws_message() {
        let dir = tempfile::tempdir().unwrap();
        let z = zip_of(&[0u8; 1000]);
        let err = unpack(&z, &dir.path().join("a"), 1000).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Unzipped size must be smaller than 1000 bytes"
        );
        unpack(&z, &dir.path().join("b"), 1001).unwrap();
        assert_eq!(fs::read(dir.path().join("b/big.bin")).unwrap().len(), 1000);
        assert_eq!(MAX_UNZIPPED_BYTES, 262_144_000);
    }

    #[test]
    fn world_writable_entries_are_installed_0755() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default();
        w.add_directory("lib/", o.unix_permissions(0o777)).unwrap();
        w.start_file("lib/mod.py", o.unix_permissions(0o777))
            .unwrap();
        w.write_all(b"x = 1\n").unwrap();
        w.start_file("deep/er/app.py", o.unix_permissions(0o666))
            .unwrap();
        w.write_all(b"y = 1\n").unwrap();
        w.start_file("bootstrap", o.unix_permissions(0o4777))
            .unwrap();
        w.write_all(b"#!/bin/sh\n").unwrap();
        let z = w.finish().unwrap().into_inner();
        let into = dir.path().join("a");
        unpack(&z, &into, 1 << 20).unwrap();
        let mode = |p: &str| fs::metadata(into.join(p)).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode("lib"), 0o755);
        assert_eq!(mode("lib/mod.py"), 0o755);
        assert_eq!(mode("deep/er/app.py"), 0o644);
        assert_eq!(mode("bootstrap"), 0o755);
        for p in ["deep", "deep/er"] {
            assert_eq!(mode(p) & 0o022, 0, "{p}");
        }
    }

    #[test]
    fn too_many_entries_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        for i in 0..=MAX_ENTRIES {
            w.start_file(format!("{i}"), zip::write::SimpleFileOptions::default())
                .unwrap();
        }
        let z = w.finish().unwrap().into_inner();
        let into = dir.path().join("a");
        let err = unpack(&z, &into, MAX_UNZIPPED_BYTES).unwrap_err();
        assert_eq!(err.to_string(), UNZIP_FAILED);
        assert!(!into.exists(), "nothing written");
    }

    #[test]
    fn a_long_symlink_entry_is_read_only_so_far() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        let target = "a".repeat(100_000);
        w.add_symlink("link", &target, zip::write::SimpleFileOptions::default())
            .unwrap();
        let z = w.finish().unwrap().into_inner();
        let into = dir.path().join("a");
        // 4096 bytes of it are read; a name that long is then refused by the file system.
        let _ = unpack(&z, &into, MAX_UNZIPPED_BYTES);
        if let Ok(link) = fs::read_link(into.join("link")) {
            assert!(link.as_os_str().len() <= MAX_LINK_BYTES as usize);
        }
    }
}
