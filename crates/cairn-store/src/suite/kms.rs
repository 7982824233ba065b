//! The KMS store's contract: keys with their settings and material, listed per account and
//! region, aliases per account and region, retargeting, and deletion with a key's aliases.

use super::{Backend, cases};
use crate::kms::{Alias, Key};

cases!(
    keys_round_trip_and_keep_their_material,
    keys_are_listed_per_account_and_region_oldest_first,
    aliases_are_per_account_and_region_and_retarget,
    deleting_a_key_takes_its_aliases,
    material_survives_a_restart,
);

const ACCT: &str = "111122223333";

fn key(id: &str, region: &str, created_ms: i64) -> Key {
    Key {
        key_id: id.into(),
        account: ACCT.into(),
        region: region.into(),
        description: String::new(),
        key_usage: "ENCRYPT_DECRYPT".into(),
        key_spec: "SYMMETRIC_DEFAULT".into(),
        state: "Enabled".into(),
        policy: "{}".into(),
        created_ms,
        deletion_ms: None,
        pending_days: None,
    }
}

pub fn keys_round_trip_and_keep_their_material(b: &dyn Backend) {
    let s = b.kms();
    let k = key("1234abcd-12ab-34cd-56ef-1234567890ab", "us-east-1", 5);
    assert!(s.get(&k.key_id).unwrap().is_none());
    s.create(&k, &[7u8; 32]).unwrap();
    assert_eq!(s.get(&k.key_id).unwrap().unwrap(), k);
    assert_eq!(s.material(&k.key_id).unwrap(), [7u8; 32]);
    let mut u = k.clone();
    u.state = "PendingDeletion".into();
    u.description = "going".into();
    u.deletion_ms = Some(99);
    u.pending_days = Some(7);
    s.update(&u).unwrap();
    assert_eq!(s.get(&k.key_id).unwrap().unwrap(), u);
    assert_eq!(
        s.material(&k.key_id).unwrap(),
        [7u8; 32],
        "updating settings leaves the material alone"
    );
    assert!(s.material("no-such-key").is_err());
}

pub fn keys_are_listed_per_account_and_region_oldest_first(b: &dyn Backend) {
    let s = b.kms();
    s.create(&key("k2", "us-east-1", 2), &[2; 32]).unwrap();
    s.create(&key("k1", "us-east-1", 1), &[1; 32]).unwrap();
    s.create(&key("k3", "eu-west-1", 3), &[3; 32]).unwrap();
    let ids = |r| -> Vec<String> {
        s.list(ACCT, r)
            .unwrap()
            .into_iter()
            .map(|k| k.key_id)
            .collect()
    };
    assert_eq!(ids("us-east-1"), ["k1", "k2"]);
    assert_eq!(ids("eu-west-1"), ["k3"]);
    assert!(s.list("444455556666", "us-east-1").unwrap().is_empty());
}

pub fn aliases_are_per_account_and_region_and_retarget(b: &dyn Backend) {
    let s = b.kms();
    s.create(&key("k1", "us-east-1", 1), &[1; 32]).unwrap();
    s.create(&key("k2", "us-east-1", 2), &[2; 32]).unwrap();
    let a = |name: &str, key_id: &str| Alias {
        name: name.into(),
        key_id: key_id.into(),
        created_ms: 6,
    };
    s.put_alias(ACCT, "us-east-1", &a("alias/y", "k1")).unwrap();
    s.put_alias(ACCT, "us-east-1", &a("alias/x", "k1")).unwrap();
    assert_eq!(
        s.alias(ACCT, "us-east-1", "alias/x").unwrap(),
        Some(a("alias/x", "k1"))
    );
    assert!(s.alias(ACCT, "eu-west-1", "alias/x").unwrap().is_none());
    s.put_alias(ACCT, "us-east-1", &a("alias/x", "k2")).unwrap();
    assert_eq!(
        s.alias(ACCT, "us-east-1", "alias/x")
            .unwrap()
            .unwrap()
            .key_id,
        "k2"
    );
    let names: Vec<String> = s
        .aliases(ACCT, "us-east-1")
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["alias/x", "alias/y"], "by name");
    assert!(s.delete_alias(ACCT, "us-east-1", "alias/x").unwrap());
    assert!(!s.delete_alias(ACCT, "us-east-1", "alias/x").unwrap());
    assert!(s.alias(ACCT, "us-east-1", "alias/x").unwrap().is_none());
}

pub fn deleting_a_key_takes_its_aliases(b: &dyn Backend) {
    let s = b.kms();
    s.create(&key("k1", "us-east-1", 1), &[1; 32]).unwrap();
    s.put_alias(
        ACCT,
        "us-east-1",
        &Alias {
            name: "alias/x".into(),
            key_id: "k1".into(),
            created_ms: 2,
        },
    )
    .unwrap();
    s.delete("k1").unwrap();
    assert!(s.get("k1").unwrap().is_none());
    assert!(s.aliases(ACCT, "us-east-1").unwrap().is_empty());
}

pub fn material_survives_a_restart(b: &dyn Backend) {
    let s = b.kms();
    s.create(&key("k1", "us-east-1", 1), &[9; 32]).unwrap();
    drop(s);
    b.restart();
    assert_eq!(b.kms().material("k1").unwrap(), [9; 32]);
}
