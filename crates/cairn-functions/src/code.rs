//! Function code on disk: a zip unpacked once per `CodeSha256` into
//! `<work_root>/code/<digest>/`, read-only for the functions that run it (as `/var/task` is on
//! AWS). Unpacking refuses entries that would land outside the directory (zip slip), keeps the
//! Unix mode bits (so `bootstrap` stays executable, and an unreadable file stays unreadable as
//! on AWS), and enforces AWS's unzipped size limit.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use crate::ExecError;

/// AWS's limit on a function's unzipped code.
pub const MAX_UNZIPPED_BYTES: u64 = 262_144_000;

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
    // The declared sizes decide before anything is written; the copy below also counts what
    // actually comes out, since a zip can lie about its sizes.
    let declared: u64 = (0..archive.len())
        .filter_map(|i| archive.by_index_raw(i).ok().map(|f| f.size()))
        .sum();
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
            set_mode(&target, mode.map_or(0o755, |m| m & 0o777))?;
            continue;
        }
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
        }
        if entry.is_symlink() {
            let mut link = String::new();
            entry.read_to_string(&mut link).map_err(invalid)?;
            links.push((rel, PathBuf::from(link)));
            continue;
        }
        let mut out = fs::File::create(&target)?;
        let left = limit - written;
        let copied = io::copy(&mut (&mut entry).take(left), &mut out).map_err(invalid)?;
        written += copied;
        if written >= limit {
            return Err(too_large(limit));
        }
        out.flush()?;
        set_mode(&target, mode.map_or(0o644, |m| m & 0o777))?;
    }
    for (rel, link) in links {
        make_link(into, &rel, &link)?;
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
}
