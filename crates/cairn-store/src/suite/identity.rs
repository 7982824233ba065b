//! The identity store's contract, in IAM's terms: accounts and root keys, names unique per
//! account regardless of case, quotas, deletion refused while something hangs off an entity,
//! policies and their versions, what a principal is granted, sessions, passwords and MFA; and
//! the generation caches follow, which moves with every committed change.

use std::sync::Arc;

use cairn_model::AccountId;

use super::{Backend, cases};
use crate::identity::{
    CredentialReport, IamError, IdentityStore, KeyOwner, MfaHolder, NewPolicy, NewSession, Owner,
    OwnerKind, totp,
};

cases!(
    a_change_outside_iam_moves_the_generation_once_committed,
    accounts_and_root_keys_survive_a_restart,
    users_are_unique_regardless_of_case_and_delete_needs_a_clean_user,
    a_users_password_use_is_noted,
    grants_gather_user_group_and_managed_policies,
    sessions_passwords_and_mfa,
    the_root_user_holds_mfa_devices_and_a_credential_report_is_kept,
    the_generation_moves_with_every_change_and_caches_follow_it,
);

fn store(b: &dyn Backend) -> (Arc<dyn IdentityStore>, AccountId) {
    let s = b.identity();
    let (acct, _) = s.create_account(1).unwrap();
    (s, acct.id)
}

pub fn accounts_and_root_keys_survive_a_restart(b: &dyn Backend) {
    let s = b.identity();
    assert!(s.accounts().unwrap().is_empty());
    let (acct, key) = s.create_account(1).unwrap();
    assert_eq!(s.accounts().unwrap(), vec![acct.clone()]);
    assert_eq!(s.account(&acct.id).unwrap(), Some(acct.clone()));
    assert_eq!(s.key(&key.access_key_id).unwrap().unwrap(), key);
    assert_eq!(s.root_key(&acct.id).unwrap().unwrap(), key);
    assert_eq!(s.root_keys(&acct.id).unwrap(), vec![key.clone()]);
    assert!(s.key("AKIANOPE").unwrap().is_none());
    // What authenticating a request reads: a root key comes with its account.
    assert_eq!(
        s.key_with_account(&key.access_key_id).unwrap(),
        Some((key.clone(), Some(acct.clone())))
    );
    assert!(s.key_with_account("AKIANOPE").unwrap().is_none());
    let a = s.instance_secret("t").unwrap();
    assert_eq!(a.len(), 32);
    assert_eq!(s.instance_secret("t").unwrap(), a);
    assert_ne!(s.instance_secret("other").unwrap(), a);
    drop(s);
    b.restart();
    let s = b.identity();
    assert_eq!(s.key(&key.access_key_id).unwrap().unwrap(), key);
    assert_eq!(s.instance_secret("t").unwrap(), a);
}

pub fn a_users_password_use_is_noted(b: &dyn Backend) {
    let (s, acct) = store(b);
    let u = s.create_user(&acct, "Bob", "/", &vec![], 5).unwrap();
    assert_eq!(u.password_last_used_ms, None);
    s.note_password_used(&u.user_id, 1_000).unwrap();
    s.note_password_used(&u.user_id, 2_000).unwrap();
    assert_eq!(
        s.user(&acct, "bob").unwrap().password_last_used_ms,
        Some(2_000)
    );
    assert_eq!(
        s.users(&acct, "/").unwrap()[0].password_last_used_ms,
        Some(2_000)
    );
}

pub fn users_are_unique_regardless_of_case_and_delete_needs_a_clean_user(b: &dyn Backend) {
    let (s, acct) = store(b);
    let g0 = s.generation();
    let u = s.create_user(&acct, "Alice", "/", &vec![], 5).unwrap();
    assert!(s.generation() > g0);
    assert!(matches!(
        s.create_user(&acct, "alice", "/", &vec![], 6),
        Err(IamError::EntityAlreadyExists(_))
    ));
    assert_eq!(s.user(&acct, "ALICE").unwrap().user_id, u.user_id);
    assert_eq!(u.arn(), format!("arn:aws:iam::{acct}:user/Alice"));
    let key = s.create_user_key(&u, 7).unwrap();
    s.create_user_key(&u, 8).unwrap();
    assert!(matches!(
        s.create_user_key(&u, 9),
        Err(IamError::LimitExceeded(_))
    ));
    assert!(matches!(
        s.delete_user(&acct, "Alice"),
        Err(IamError::DeleteConflict(m)) if m.contains("access keys")
    ));
    s.set_key_active(&key.access_key_id, false).unwrap();
    assert!(!s.key(&key.access_key_id).unwrap().unwrap().active);
    for k in s.user_keys(&u).unwrap() {
        s.delete_key(&k.access_key_id).unwrap();
    }
    assert!(s.key(&key.access_key_id).unwrap().is_none());
    s.put_inline_policy(
        Owner {
            kind: OwnerKind::User,
            id: &u.user_id,
            name: &u.name,
        },
        "p",
        "{}",
    )
    .unwrap();
    assert!(matches!(
        s.delete_user(&acct, "Alice"),
        Err(IamError::DeleteConflict(m)) if m.contains("policies")
    ));
    s.delete_inline_policy(
        Owner {
            kind: OwnerKind::User,
            id: &u.user_id,
            name: &u.name,
        },
        "p",
    )
    .unwrap();
    let renamed = s
        .update_user(&acct, "Alice", Some("Alicia"), Some("/ops/"))
        .unwrap();
    assert_eq!(
        renamed.arn(),
        format!("arn:aws:iam::{acct}:user/ops/Alicia")
    );
    s.delete_user(&acct, "alicia").unwrap();
    assert!(matches!(
        s.user(&acct, "Alicia"),
        Err(IamError::NoSuchEntity(_))
    ));
}

pub fn grants_gather_user_group_and_managed_policies(b: &dyn Backend) {
    let (s, acct) = store(b);
    let u = s.create_user(&acct, "bob", "/", &vec![], 1).unwrap();
    let g = s.create_group(&acct, "devs", "/", 1).unwrap();
    s.add_user_to_group(&acct, "devs", "bob", 2).unwrap();
    let user_owner = Owner {
        kind: OwnerKind::User,
        id: &u.user_id,
        name: &u.name,
    };
    let group_owner = Owner {
        kind: OwnerKind::Group,
        id: &g.group_id,
        name: &g.name,
    };
    s.put_inline_policy(user_owner, "mine", "U").unwrap();
    s.put_inline_policy(group_owner, "ours", "G").unwrap();
    let p = s
        .create_policy(
            &acct,
            NewPolicy {
                name: "Managed",
                path: "/",
                description: None,
                document: "M1",
                tags: &vec![],
            },
            3,
        )
        .unwrap();
    s.attach_policy(&acct, group_owner, &p.arn).unwrap();
    s.attach_policy(&acct, user_owner, "arn:aws:iam::aws:policy/ReadOnlyAccess")
        .unwrap();
    let grants = s.user_grants(&u).unwrap();
    assert_eq!(grants.documents, vec!["U", "G", "M1"]);
    assert_eq!(
        grants.aws_managed,
        vec!["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    );
    // A new default version changes what the group grants.
    s.create_policy_version(&p.arn, "M2", true, 4).unwrap();
    assert_eq!(s.user_grants(&u).unwrap().documents[2], "M2");
    assert!(matches!(
        s.delete_policy(&p.arn),
        Err(IamError::DeleteConflict(_))
    ));
    assert!(matches!(
        s.delete_group(&acct, "devs"),
        Err(IamError::DeleteConflict(_))
    ));
    assert_eq!(s.policy(&p.arn).unwrap().attachment_count, 1);
    for n in 3..=5 {
        s.create_policy_version(&p.arn, &format!("M{n}"), false, 5)
            .unwrap();
    }
    assert!(matches!(
        s.create_policy_version(&p.arn, "M6", false, 6),
        Err(IamError::LimitExceeded(_))
    ));
    let versions = s.policy_versions(&p.arn).unwrap();
    assert_eq!(versions[0].version_id, "v5");
    assert!(
        versions
            .iter()
            .any(|v| v.version_id == "v2" && v.is_default)
    );
    assert!(matches!(
        s.delete_policy_version(&p.arn, "v2"),
        Err(IamError::DeleteConflict(_))
    ));
}

pub fn sessions_passwords_and_mfa(b: &dyn Backend) {
    let (s, acct) = store(b);
    let u = s.create_user(&acct, "carol", "/", &vec![], 1).unwrap();
    let key = s
        .create_session_key(
            NewSession {
                account: &acct,
                owner: KeyOwner::User {
                    user_id: u.user_id.clone(),
                },
                session_name: None,
                mfa: true,
                expires_ms: 10_000,
            },
            1_000,
        )
        .unwrap();
    assert!(key.access_key_id.starts_with("ASIA"));
    let back = s.key(&key.access_key_id).unwrap().unwrap();
    assert!(back.session.as_ref().unwrap().mfa);
    assert!(back.session_token.is_some());
    // Temporary keys are not the user's long-term keys.
    assert!(s.user_keys(&u).unwrap().is_empty());

    s.create_login_profile(&u, "correct horse", true, 2)
        .unwrap();
    assert!(s.check_password(&u, "correct horse").unwrap());
    assert!(!s.check_password(&u, "wrong").unwrap());
    assert!(matches!(
        s.create_login_profile(&u, "x", false, 3),
        Err(IamError::EntityAlreadyExists(_))
    ));

    assert!(!s.has_root_password(&acct).unwrap());
    assert!(!s.check_root_password(&acct, "").unwrap());
    s.set_root_password(&acct, "root pw 1", 5).unwrap();
    s.set_root_password(&acct, "root pw 2", 6).unwrap();
    assert!(s.has_root_password(&acct).unwrap());
    assert!(s.check_root_password(&acct, "root pw 2").unwrap());
    assert!(!s.check_root_password(&acct, "root pw 1").unwrap());

    let now = 1_700_000_000_000;
    let d = s
        .create_mfa_device(&acct, "/", "carol", &vec![], now)
        .unwrap();
    let step = totp::step_at(now);
    let carol = MfaHolder::user(&u);
    assert!(matches!(
        s.enable_mfa_device(&acct, &carol, &d.serial, "000000", "111111", now),
        Err(IamError::InvalidAuthenticationCode(_))
    ));
    s.enable_mfa_device(
        &acct,
        &carol,
        &d.serial,
        &totp::code(&d.seed, step - 1),
        &totp::code(&d.seed, step),
        now,
    )
    .unwrap();
    // The enabling codes are spent; the next one is good once.
    assert!(
        !s.check_mfa_code(&d.serial, &totp::code(&d.seed, step), now)
            .unwrap()
    );
    let next = totp::code(&d.seed, step + 1);
    assert!(s.check_mfa_code(&d.serial, &next, now).unwrap());
    assert!(!s.check_mfa_code(&d.serial, &next, now).unwrap());
    assert!(matches!(
        s.delete_mfa_device(&d.serial),
        Err(IamError::DeleteConflict(_))
    ));
    assert_eq!(
        s.mfa_devices_of(&acct, &carol).unwrap(),
        vec![s.mfa_device(&d.serial).unwrap()]
    );
    s.deactivate_mfa_device(&acct, &carol, &d.serial).unwrap();
    s.delete_mfa_device(&d.serial).unwrap();

    s.set_account_alias(&acct, "my-corp").unwrap();
    assert_eq!(
        s.account(&acct).unwrap().unwrap().alias.as_deref(),
        Some("my-corp")
    );
    s.delete_account_alias(&acct, "my-corp").unwrap();
}

pub fn the_root_user_holds_mfa_devices_and_a_credential_report_is_kept(b: &dyn Backend) {
    let s = b.identity();
    let (acct, _) = s.create_account(7).unwrap();
    assert_eq!(s.account(&acct.id).unwrap().unwrap().created_ms, 7);
    let (other, _) = s.create_account(8).unwrap();
    let now = 1_700_000_000_000;
    let step = totp::step_at(now);
    let d = s
        .create_mfa_device(&acct.id, "/", "root-phone", &vec![], now)
        .unwrap();
    let codes = |step: i64| (totp::code(&d.seed, step - 1), totp::code(&d.seed, step));
    // Another account's root cannot take it.
    let (c1, c2) = codes(step);
    assert!(matches!(
        s.enable_mfa_device(&other.id, &MfaHolder::Root, &d.serial, &c1, &c2, now),
        Err(IamError::NoSuchEntity(_))
    ));
    s.enable_mfa_device(&acct.id, &MfaHolder::Root, &d.serial, &c1, &c2, now)
        .unwrap();
    let got = s.mfa_device(&d.serial).unwrap();
    assert_eq!(
        (got.holder, got.enabled_ms),
        (Some(MfaHolder::Root), Some(now))
    );
    assert_eq!(
        s.mfa_devices_of(&acct.id, &MfaHolder::Root).unwrap().len(),
        1
    );
    assert!(
        s.mfa_devices_of(&other.id, &MfaHolder::Root)
            .unwrap()
            .is_empty()
    );
    // A user of the account cannot take root's device, nor deactivate it.
    let u = s.create_user(&acct.id, "ivan", "/", &vec![], 1).unwrap();
    let (c1, c2) = codes(step + 2);
    assert!(matches!(
        s.enable_mfa_device(
            &acct.id,
            &MfaHolder::user(&u),
            &d.serial,
            &c1,
            &c2,
            now + 60_000
        ),
        Err(IamError::EntityAlreadyExists(_))
    ));
    assert!(matches!(
        s.deactivate_mfa_device(&acct.id, &MfaHolder::user(&u), &d.serial),
        Err(IamError::NoSuchEntity(_))
    ));
    // Its codes are good once; in use, it cannot be deleted.
    let next = totp::code(&d.seed, step + 1);
    assert!(s.check_mfa_code(&d.serial, &next, now).unwrap());
    assert!(!s.check_mfa_code(&d.serial, &next, now).unwrap());
    assert!(matches!(
        s.delete_mfa_device(&d.serial),
        Err(IamError::DeleteConflict(_))
    ));
    s.deactivate_mfa_device(&acct.id, &MfaHolder::Root, &d.serial)
        .unwrap();
    assert_eq!(s.mfa_device(&d.serial).unwrap().holder, None);
    assert!(
        !s.check_mfa_code(&d.serial, &totp::code(&d.seed, step + 2), now)
            .unwrap()
    );
    s.delete_mfa_device(&d.serial).unwrap();

    // The credential report: none, then the latest kept.
    assert_eq!(s.credential_report(&acct.id).unwrap(), None);
    let first = CredentialReport {
        generated_ms: 10,
        content: b"user,arn\n".to_vec(),
    };
    s.put_credential_report(&acct.id, &first).unwrap();
    assert_eq!(s.credential_report(&acct.id).unwrap(), Some(first));
    let second = CredentialReport {
        generated_ms: 20,
        content: b"user,arn\n<root_account>,x\n".to_vec(),
    };
    s.put_credential_report(&acct.id, &second).unwrap();
    drop(s);
    b.restart();
    let s = b.identity();
    assert_eq!(s.credential_report(&acct.id).unwrap(), Some(second));
    assert_eq!(s.credential_report(&other.id).unwrap(), None);
}

pub fn the_generation_moves_with_every_change_and_caches_follow_it(b: &dyn Backend) {
    let (s, acct) = store(b);
    let u = s.create_user(&acct, "dave", "/", &vec![], 1).unwrap();
    let key = s.create_user_key(&u, 2).unwrap();
    // Read through whatever caches the store keeps, then change what was read.
    assert!(s.key(&key.access_key_id).unwrap().unwrap().active);
    assert_eq!(
        s.key_with_account(&key.access_key_id).unwrap(),
        Some((key.clone(), None)),
        "a user's key comes without an account"
    );
    assert!(s.user_by_id(&u.user_id).unwrap().is_some());
    let g = s.generation();
    assert_eq!(
        s.cache_generation(),
        Some(g),
        "outside a call, reads may be cached"
    );
    s.set_key_active(&key.access_key_id, false).unwrap();
    assert!(
        s.generation() > g,
        "a committed change moves the generation on"
    );
    assert!(
        !s.key(&key.access_key_id).unwrap().unwrap().active,
        "a cached key follows the generation"
    );
    assert!(
        !s.key_with_account(&key.access_key_id)
            .unwrap()
            .unwrap()
            .0
            .active
    );
    let g = s.generation();
    s.delete_user(&acct, "dave").unwrap_err();
    s.delete_key(&key.access_key_id).unwrap();
    assert!(s.generation() > g);
    assert!(s.key(&key.access_key_id).unwrap().is_none());
    assert!(s.key_with_account(&key.access_key_id).unwrap().is_none());
    s.delete_user(&acct, "dave").unwrap();
    assert!(s.user_by_id(&u.user_id).unwrap().is_none());
    // Reads move nothing.
    let g = s.generation();
    s.accounts().unwrap();
    s.users(&acct, "/").unwrap();
    assert_eq!(s.generation(), g);
}

pub fn a_change_outside_iam_moves_the_generation_once_committed(b: &dyn Backend) {
    let s = b.identity();
    let before = s.generation();
    let call = crate::db::enter();
    s.mark_changed().unwrap();
    assert_eq!(
        s.cache_generation(),
        None,
        "nothing read in the call may be cached"
    );
    assert_eq!(s.generation(), before, "not before the outcome");
    call.leave().finish(true).unwrap();
    assert!(s.generation() > before);
    // Outside a call it moves at once.
    let g = s.generation();
    s.mark_changed().unwrap();
    assert!(s.generation() > g);
}
