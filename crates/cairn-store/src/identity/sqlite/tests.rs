//! What is SQLite's own in the identity store: its files are the owner's alone. The store's
//! contract is in the shared suite (`crate::suite::identity`).

use std::os::unix::fs::PermissionsExt;

use super::*;

#[test]
fn the_database_files_are_the_owners_alone() {
    let d = tempfile::tempdir().unwrap();
    let s = SqliteIdentity::open(&d.path().join("identity.db")).unwrap();
    s.create_account(1).unwrap();
    for p in ["identity.db", "identity.db-wal", "identity.db-shm"] {
        let mode = std::fs::metadata(d.path().join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{p}");
    }
}
