//! KMS keys and aliases.
//!
//! [`KmsStore`] is the contract: keys with their settings and secret material (kept sealed at
//! rest by every backend; handed out unsealed only to the caller that encrypts or decrypts),
//! and per-account, per-region aliases. [`SqliteKms`] is the embedded backend, [`PgKms`] the
//! PostgreSQL one; the shared
//! suite (`crate::suite::kms`) holds any backend to this contract.

mod pg;
mod sqlite;

pub use pg::PgKms;
pub use sqlite::SqliteKms;

use crate::error::StoreError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub key_id: String,
    pub account: String,
    pub region: String,
    pub description: String,
    pub key_usage: String,
    pub key_spec: String,
    pub state: String,
    pub policy: String,
    pub created_ms: i64,
    pub deletion_ms: Option<i64>,
    pub pending_days: Option<i64>,
}

impl Key {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:kms:{}:{}:key/{}",
            self.region, self.account, self.key_id
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alias {
    pub name: String,
    pub key_id: String,
    pub created_ms: i64,
}

/// KMS keys and aliases.
pub trait KmsStore: Send + Sync {
    /// Stores a new key with its (unsealed) 32-byte material.
    fn create(&self, k: &Key, material: &[u8]) -> Result<(), StoreError>;

    /// Writes a key's settings (state, policy, description, deletion); not its material.
    fn update(&self, k: &Key) -> Result<(), StoreError>;

    /// A key by id, `None` if there is none.
    fn get(&self, key_id: &str) -> Result<Option<Key>, StoreError>;

    /// The key's material, unsealed.
    fn material(&self, key_id: &str) -> Result<Vec<u8>, StoreError>;

    /// An account's keys in a region, oldest first.
    fn list(&self, account: &str, region: &str) -> Result<Vec<Key>, StoreError>;

    /// Removes a key whose deletion date has passed, with its aliases.
    fn delete(&self, key_id: &str) -> Result<(), StoreError>;

    /// An alias by name, `None` if there is none.
    fn alias(&self, account: &str, region: &str, name: &str) -> Result<Option<Alias>, StoreError>;

    /// Creates or retargets an alias.
    fn put_alias(&self, account: &str, region: &str, a: &Alias) -> Result<(), StoreError>;

    /// Removes an alias; says whether there was one.
    fn delete_alias(&self, account: &str, region: &str, name: &str) -> Result<bool, StoreError>;

    /// An account's aliases in a region, by name.
    fn aliases(&self, account: &str, region: &str) -> Result<Vec<Alias>, StoreError>;
}
