//! The master keys of a cluster's nodes: every node must seal and open with the same ones.
//!
//! Master keys (KMS material, digest signing keys, object bodies) stay files beside each node
//! and never enter the database: whoever can read PostgreSQL or the bucket does not also hold
//! the keys that open what is sealed there. The database keeps only a fingerprint of each
//! (SHA-256 of a fixed label and the key), recorded by the first node to start; a node whose
//! key differs, or lacks a key the cluster has, refuses to start before it writes anything
//! with it, instead of sealing data the other nodes cannot open.

use std::path::Path;

use crate::error::StoreError;
use crate::pg::{Migration, backend, client};

const MIGRATIONS: &[Migration] = &[Migration {
    store: "cluster_keys",
    version: 1,
    sql: "CREATE TABLE cluster_keys (
              name TEXT PRIMARY KEY,
              fingerprint TEXT NOT NULL,
              recorded_ms BIGINT NOT NULL)",
}];

fn fingerprint(key: &[u8]) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(b"cairn cluster master key\0");
    ctx.update(key);
    hex::encode(ctx.finish().as_ref())
}

/// Checks this node's master keys (`(name, file)`) against the cluster's in `schema`: a key
/// the cluster does not know yet is made if absent and recorded; a known one must be present
/// and the same.
pub fn check_master_keys(
    url: &str,
    schema: &str,
    keys: &[(&str, &Path)],
    now_ms: i64,
) -> Result<(), StoreError> {
    let mut c = client(url, schema, MIGRATIONS)?;
    for (name, path) in keys {
        let known: Option<String> = c
            .query_opt(
                "SELECT fingerprint FROM cluster_keys WHERE name = $1",
                &[name],
            )
            .map_err(backend)?
            .map(|r| r.get(0));
        let exists = path.exists();
        if known.is_some() && !exists {
            return Err(StoreError::Invalid(format!(
                "the cluster's {name} master key is not on this node: copy {} from a node of the cluster (every node needs the same keys)",
                path.display()
            )));
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::io(parent, e))?;
        }
        let key = crate::seal::load_or_create_key(path).map_err(|e| StoreError::io(path, e))?;
        let mine = fingerprint(&key);
        match known {
            Some(theirs) if theirs != mine => {
                return Err(StoreError::Invalid(format!(
                    "{} is not the cluster's {name} master key: copy it from a node of the cluster (every node needs the same keys)",
                    path.display()
                )));
            }
            Some(_) => {}
            None => {
                // Two first nodes racing: the second's insert finds the first's row; check
                // against it.
                let n = c
                    .execute(
                        "INSERT INTO cluster_keys (name, fingerprint, recorded_ms) VALUES ($1, $2, $3)
                         ON CONFLICT (name) DO NOTHING",
                        &[name, &mine, &now_ms],
                    )
                    .map_err(backend)?;
                if n == 0 {
                    return check_master_keys(url, schema, keys, now_ms);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn fingerprints_differ_by_key_and_hide_it() {
        let a = super::fingerprint(&[1u8; 32]);
        assert_ne!(a, super::fingerprint(&[2u8; 32]));
        assert_eq!(a.len(), 64);
        assert!(!a.contains(&hex::encode([1u8; 32])));
    }
}
