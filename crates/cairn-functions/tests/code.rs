//! Installing function code: zips unpacked once per digest, mode bits kept, zip slip and
//! link tricks refused.

#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::PermissionsExt;

use cairn_functions::{ExecError, PythonClient};
use common::*;

fn code_dir(fx: &Fixture, sha: &str) -> std::path::PathBuf {
    let name: String = sha.replace('/', "_").replace('+', "-").replace('=', "");
    fx.executor.config().work_root.join("code").join(name)
}

#[test]
fn unpacks_once_with_mode_bits() {
    let fx = executor(system_python(), PythonClient::Cairn, 1);
    let z = zip(&[
        ("bootstrap", 0o755, "#!/bin/sh\n"),
        ("lib/secret.txt", 0o600, "s"),
        ("a.py", 0o644, "x"),
    ]);
    let sha = digest(&z);
    assert!(!fx.executor.has_code(&sha));
    fx.executor.install_code(&sha, &z).unwrap();
    assert!(fx.executor.has_code(&sha));
    let dir = code_dir(&fx, &sha);
    let mode = |p: &str| std::fs::metadata(dir.join(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("bootstrap"), 0o755);
    assert_eq!(mode("lib/secret.txt"), 0o600);
    assert_eq!(mode("a.py"), 0o644);
    assert_eq!(std::fs::read_to_string(dir.join("a.py")).unwrap(), "x");
    // A second install of the same digest is a no-op, even with other bytes.
    std::fs::write(dir.join("a.py"), "changed").unwrap();
    fx.executor
        .install_code(&sha, &zip(&[("a.py", 0o644, "y")]))
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("a.py")).unwrap(),
        "changed"
    );
}

#[test]
fn zip_slip_is_refused() {
    let fx = executor(system_python(), PythonClient::Cairn, 1);
    for name in [
        "../escaped.txt",
        "a/../../escaped.txt",
        "../../../../../../tmp/cairn-slip.txt",
    ] {
        let z = zip(&[("ok.py", 0o644, "x"), (name, 0o644, "pwned")]);
        let sha = digest(&z);
        let err = fx.executor.install_code(&sha, &z).expect_err(name);
        match err {
            ExecError::InvalidCode(m) => assert_eq!(
                m,
                "Could not unzip uploaded file. Please check your file, then try to upload again."
            ),
            other => panic!("{name}: {other:?}"),
        }
        assert!(!fx.executor.has_code(&sha));
    }
    let work = &fx.executor.config().work_root;
    assert!(!work.join("escaped.txt").exists());
    assert!(!work.join("code/escaped.txt").exists());
    assert!(!std::path::Path::new("/tmp/cairn-slip.txt").exists());
    // Nothing half-unpacked is left behind.
    let left: Vec<_> = std::fs::read_dir(work.join("code")).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");

    // An absolute name is taken relative to the code directory, as unzip does.
    let z = zip(&[("/tmp/cairn-zip-absolute.txt", 0o644, "inside")]);
    let sha = digest(&z);
    fx.executor.install_code(&sha, &z).unwrap();
    assert!(!std::path::Path::new("/tmp/cairn-zip-absolute.txt").exists());
    let inside = code_dir(&fx, &sha).join("tmp/cairn-zip-absolute.txt");
    assert_eq!(std::fs::read_to_string(inside).unwrap(), "inside");
}

#[test]
fn links_cannot_carry_entries_outside() {
    let fx = executor(system_python(), PythonClient::Cairn, 1);
    let outside = fx.dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    w.add_symlink("escape", outside.to_str().unwrap(), opts)
        .unwrap();
    w.start_file("escape/pwned", opts).unwrap();
    std::io::Write::write_all(&mut w, b"x").unwrap();
    let z = w.finish().unwrap().into_inner();
    let sha = digest(&z);
    assert!(matches!(
        fx.executor.install_code(&sha, &z),
        Err(ExecError::InvalidCode(_))
    ));
    assert!(!outside.join("pwned").exists());

    // A plain link inside the code is kept.
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file("app.py", opts).unwrap();
    std::io::Write::write_all(&mut w, b"x = 1\n").unwrap();
    w.add_symlink("alias.py", "app.py", opts).unwrap();
    let z = w.finish().unwrap().into_inner();
    let sha = digest(&z);
    fx.executor.install_code(&sha, &z).unwrap();
    assert_eq!(
        std::fs::read_to_string(code_dir(&fx, &sha).join("alias.py")).unwrap(),
        "x = 1\n"
    );
}

#[test]
fn garbage_and_bad_digests_are_refused() {
    let fx = executor(system_python(), PythonClient::Cairn, 1);
    assert!(matches!(
        fx.executor.install_code("abc=", b"not a zip"),
        Err(ExecError::InvalidCode(_))
    ));
    assert!(matches!(
        fx.executor.install_code("../x", &zip(&[("a", 0o644, "")])),
        Err(ExecError::InvalidCode(_))
    ));
}
