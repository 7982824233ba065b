//! What is PostgreSQL's own in the identity store: secrets sealed at rest, and several nodes
//! over one schema following one generation. The store's contract is in the shared suite
//! (`crate::suite::identity`).

use std::path::Path;

use super::*;
use crate::identity::{KeyOwner, NewSession, totp};
use crate::suite::pg::TestPostgres;

fn node(server: &TestPostgres, schema: &str, keys: &Path) -> PgIdentity {
    PgIdentity::open(&server.url(), schema, &keys.join("master.key")).unwrap()
}

/// `table`'s rows as PostgreSQL writes them out (`bytea` in hex).
fn stored(server: &TestPostgres, schema: &str, table: &str) -> Vec<Vec<u8>> {
    let mut c = postgres::Client::connect(&server.url(), postgres::NoTls).unwrap();
    c.query(
        &format!("SELECT convert_to(t::text, 'UTF8') FROM {schema}.{table} t"),
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Whether `secret` is in `rows` as text or as bytes (rendered in hex).
fn in_clear(rows: &[u8], secret: &[u8]) -> bool {
    contains(rows, secret) || contains(rows, hex(secret).as_bytes())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn secrets_are_sealed_at_rest() {
    let server = TestPostgres::start();
    let keys = tempfile::tempdir().unwrap();
    let s = node(&server, "sealed", keys.path());
    let (acct, root) = s.create_account(1).unwrap();
    let session = s
        .create_session_key(
            NewSession {
                account: &acct.id,
                owner: KeyOwner::Root,
                session_name: None,
                mfa: false,
                expires_ms: 10_000,
            },
            1,
        )
        .unwrap();
    let device = s.create_mfa_device(&acct.id, "/", "d", &vec![], 1).unwrap();
    let secret = s.instance_secret("pagination").unwrap();

    let keys_rows = stored(&server, "sealed", "access_keys").concat();
    let token = session.session_token.clone().unwrap();
    for clear in [&root.secret_access_key, &session.secret_access_key, &token] {
        assert!(
            !in_clear(&keys_rows, clear.as_bytes()),
            "{clear} in the clear"
        );
    }
    let devices = stored(&server, "sealed", "iam_mfa_devices").concat();
    assert!(!in_clear(&devices, &device.seed));
    let instance = stored(&server, "sealed", "instance").concat();
    assert!(!in_clear(&instance, &secret));

    // What is handed out is the secret itself, on every node with the master key.
    let other = node(&server, "sealed", keys.path());
    assert_eq!(other.key(&root.access_key_id).unwrap().unwrap(), root);
    assert_eq!(other.key(&session.access_key_id).unwrap().unwrap(), session);
    assert_eq!(other.mfa_device(&device.serial).unwrap().seed, device.seed);
    assert_eq!(other.instance_secret("pagination").unwrap(), secret);
    // Without it, nothing.
    let stranger = tempfile::tempdir().unwrap();
    assert!(
        node(&server, "sealed", stranger.path())
            .key(&root.access_key_id)
            .is_err()
    );
}

#[test]
fn nodes_follow_one_generation() {
    let server = TestPostgres::start();
    let keys = tempfile::tempdir().unwrap();
    let (a, b) = (
        node(&server, "nodes", keys.path()),
        node(&server, "nodes", keys.path()),
    );
    let (acct, _) = a.create_account(1).unwrap();
    let u = a.create_user(&acct.id, "erin", "/", &vec![], 1).unwrap();
    let key = a.create_user_key(&u, 2).unwrap();
    assert!(b.key(&key.access_key_id).unwrap().unwrap().active);
    let g = b.cache_generation().unwrap();
    assert_eq!(a.generation(), g, "one generation for every node");

    // A change on one node moves it on for the other, which reads the change.
    a.set_key_active(&key.access_key_id, false).unwrap();
    assert!(b.generation() > g);
    assert!(!b.key(&key.access_key_id).unwrap().unwrap().active);

    // Inside a call, a change moves nothing until it commits, even for the call itself.
    let g = a.generation();
    let call = crate::db::enter();
    a.create_user(&acct.id, "frank", "/", &vec![], 3).unwrap();
    assert_eq!(a.cache_generation(), None);
    assert_eq!(a.generation(), g);
    assert_eq!(b.generation(), g);
    call.leave().finish(true).unwrap();
    assert!(b.generation() > g);
    assert!(b.user(&acct.id, "frank").is_ok());

    // A one-time code is good once, whichever node sees it.
    let now = 1_700_000_000_000;
    let d = a
        .create_mfa_device(&acct.id, "/", "erin", &vec![], now)
        .unwrap();
    let step = totp::step_at(now);
    a.enable_mfa_device(
        &acct.id,
        &crate::identity::MfaHolder::user(&u),
        &d.serial,
        &totp::code(&d.seed, step - 1),
        &totp::code(&d.seed, step),
        now,
    )
    .unwrap();
    let next = totp::code(&d.seed, step + 1);
    assert!(b.check_mfa_code(&d.serial, &next, now).unwrap());
    assert!(!a.check_mfa_code(&d.serial, &next, now).unwrap());
}

#[test]
fn what_a_node_keeps_follows_every_change_made_on_another_at_once() {
    let server = TestPostgres::start();
    let keys = tempfile::tempdir().unwrap();
    let (a, b) = (
        node(&server, "kept", keys.path()),
        node(&server, "kept", keys.path()),
    );
    let (acct, root) = a.create_account(1).unwrap();
    let u = a.create_user(&acct.id, "grace", "/", &vec![], 1).unwrap();
    let key = a.create_user_key(&u, 2).unwrap();
    // b reads (and keeps) a user's key, and the root key with its account.
    for _ in 0..2 {
        assert_eq!(b.key(&key.access_key_id).unwrap().unwrap(), key);
        assert_eq!(
            b.key_with_account(&root.access_key_id).unwrap().unwrap(),
            (root.clone(), Some(acct.clone()))
        );
    }
    assert_eq!(
        b.key_with_account(&key.access_key_id).unwrap().unwrap(),
        (key.clone(), None),
        "a user's key comes without an account"
    );

    // Deactivated on a: inactive on b's next read. Deleted on a: gone on b's next read.
    a.set_key_active(&key.access_key_id, false).unwrap();
    assert!(!b.key(&key.access_key_id).unwrap().unwrap().active);
    a.delete_key(&key.access_key_id).unwrap();
    assert_eq!(b.key(&key.access_key_id).unwrap(), None);
    assert_eq!(b.key_with_account(&key.access_key_id).unwrap(), None);
    // An alias set on a comes with the root key on b.
    a.set_account_alias(&acct.id, "corp").unwrap();
    let (_, account) = b.key_with_account(&root.access_key_id).unwrap().unwrap();
    assert_eq!(account.unwrap().alias.as_deref(), Some("corp"));

    // Temporary credentials are issued without moving the generation: b finds them at once.
    let g = b.generation();
    let session = a
        .create_session_key(
            NewSession {
                account: &acct.id,
                owner: KeyOwner::Root,
                session_name: None,
                mfa: false,
                expires_ms: 10_000,
            },
            3,
        )
        .unwrap();
    assert_eq!(b.generation(), g);
    assert_eq!(
        b.key(&session.access_key_id).unwrap().unwrap(),
        session,
        "found on the node that did not issue it"
    );

    // Inside a call that made a key and has not committed, the call reads it through its own
    // transaction; the other node does not see it; rolled back, it is gone everywhere (b kept
    // nothing of it).
    let call = crate::db::enter();
    let uncommitted = b.create_user_key(&u, 4).unwrap();
    assert_eq!(
        b.key(&uncommitted.access_key_id).unwrap().unwrap(),
        uncommitted
    );
    let seen_by_a = std::thread::scope(|s| {
        s.spawn(|| a.key(&uncommitted.access_key_id).unwrap())
            .join()
            .unwrap()
    });
    assert_eq!(seen_by_a, None);
    call.leave().finish(false).unwrap_err();
    assert_eq!(b.key(&uncommitted.access_key_id).unwrap(), None);
}

/// Runs `sql` on the database behind the stores' backs (no generation moved unless it says so).
fn behind_the_back(server: &TestPostgres, schema: &str, sql: &str) {
    let mut c = postgres::Client::connect(&server.url(), postgres::NoTls).unwrap();
    c.batch_execute(&format!("SET search_path TO {schema}; {sql}"))
        .unwrap();
}

/// What a node keeps is answered without reading the rows for as long as the generation stays,
/// which is why every IAM change must move it; temporary keys, which expire and are removed
/// without moving it, are read every time.
#[test]
fn kept_keys_and_accounts_are_answered_until_the_generation_moves_and_temporary_keys_never() {
    let server = TestPostgres::start();
    let keys = tempfile::tempdir().unwrap();
    let b = node(&server, "kept_gen", keys.path());
    let (acct, root) = b.create_account(1).unwrap();
    let u = b.create_user(&acct.id, "ada", "/", &vec![], 1).unwrap();
    let key = b.create_user_key(&u, 2).unwrap();
    assert!(b.key(&key.access_key_id).unwrap().unwrap().active);
    assert_eq!(
        b.key_with_account(&root.access_key_id).unwrap().unwrap().1,
        Some(acct.clone())
    );

    // Rows changed without the generation moving: what was kept is still answered.
    behind_the_back(
        &server,
        "kept_gen",
        &format!(
            "UPDATE access_keys SET status = 'Inactive' WHERE access_key_id = '{}';
             UPDATE accounts SET alias = 'sneaky' WHERE id = '{}'",
            key.access_key_id, acct.id
        ),
    );
    assert!(b.key(&key.access_key_id).unwrap().unwrap().active);
    assert_eq!(b.account(&acct.id).unwrap().unwrap().alias, None);

    // The generation moves (as every IAM change moves it): the rows are read again.
    behind_the_back(
        &server,
        "kept_gen",
        "UPDATE identity_generation SET value = value + 1 WHERE id = 1",
    );
    assert!(!b.key(&key.access_key_id).unwrap().unwrap().active);
    let (_, account) = b.key_with_account(&root.access_key_id).unwrap().unwrap();
    assert_eq!(account.unwrap().alias.as_deref(), Some("sneaky"));

    // A temporary key read on this node, then removed as expired ones are (without moving the
    // generation): gone on the next read.
    let session = b
        .create_session_key(
            NewSession {
                account: &acct.id,
                owner: KeyOwner::Root,
                session_name: Some("s"),
                mfa: false,
                expires_ms: 10_000,
            },
            3,
        )
        .unwrap();
    assert_eq!(b.key(&session.access_key_id).unwrap().unwrap(), session);
    assert_eq!(b.key(&session.access_key_id).unwrap().unwrap(), session);
    let g = b.generation();
    behind_the_back(
        &server,
        "kept_gen",
        &format!(
            "DELETE FROM access_keys WHERE access_key_id = '{}'",
            session.access_key_id
        ),
    );
    assert_eq!(b.generation(), g);
    assert_eq!(b.key(&session.access_key_id).unwrap(), None);
}
