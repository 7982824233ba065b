//! What is SQLite's own in the identity store: its files are the owner's alone, and a file
//! made by an older build opens with the columns this one needs. The store's contract is in the
//! shared suite (`crate::suite::identity`).

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

#[test]
fn a_database_from_before_root_mfa_devices_gains_the_column() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("identity.db");
    {
        // The MFA devices table as builds before root devices made it, with a device in it.
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE accounts (id TEXT PRIMARY KEY, alias TEXT UNIQUE, created_ms INTEGER NOT NULL);
             INSERT INTO accounts VALUES ('123456789012', NULL, 5);
             CREATE TABLE iam_mfa_devices (serial TEXT PRIMARY KEY, account TEXT NOT NULL REFERENCES accounts (id),
                 seed BLOB NOT NULL, tags TEXT NOT NULL DEFAULT '[]', created_ms INTEGER NOT NULL,
                 user_id TEXT, enabled_ms INTEGER, last_step INTEGER);
             INSERT INTO iam_mfa_devices (serial, account, seed, created_ms)
                 VALUES ('arn:aws:iam::123456789012:mfa/old', '123456789012', x'00', 6);",
        )
        .unwrap();
    }
    let s = SqliteIdentity::open(&path).unwrap();
    let dev = s.mfa_device("arn:aws:iam::123456789012:mfa/old").unwrap();
    assert_eq!((dev.holder, dev.created_ms), (None, 6));
    drop(s);
    // Opening it again changes nothing.
    let s = SqliteIdentity::open(&path).unwrap();
    let account = AccountId::parse("123456789012").unwrap();
    assert_eq!(s.mfa_devices(&account).unwrap().len(), 1);
    assert_eq!(s.account(&account).unwrap().unwrap().created_ms, 5);
}
