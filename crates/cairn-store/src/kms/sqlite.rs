//! KMS keys and aliases in SQLite (`kms.db`, schema in `sql/kms.sql`), key material sealed
//! under a master key file. Material never leaves this module unsealed except to the caller
//! that asks for it to encrypt or decrypt.

use crate::db::Db;
use std::path::Path;

use rusqlite::{OptionalExtension, params};

use crate::error::StoreError;
use crate::kms::{Alias, Key, KmsStore};
use crate::seal::Sealer;

const SCHEMA: &str = include_str!("../../sql/kms.sql");

pub struct SqliteKms {
    db: Db,
    sealer: Sealer,
}

const COLUMNS: &str = "key_id, account, region, description, key_usage, key_spec, state, policy, created_ms, deletion_ms, pending_days";

fn row_to_key(r: &rusqlite::Row<'_>) -> rusqlite::Result<Key> {
    Ok(Key {
        key_id: r.get(0)?,
        account: r.get(1)?,
        region: r.get(2)?,
        description: r.get(3)?,
        key_usage: r.get(4)?,
        key_spec: r.get(5)?,
        state: r.get(6)?,
        policy: r.get(7)?,
        created_ms: r.get(8)?,
        deletion_ms: r.get(9)?,
        pending_days: r.get(10)?,
    })
}

impl SqliteKms {
    /// `master_key` seals key material (created, mode 0600, if absent).
    pub fn open(path: &Path, master_key: &Path) -> Result<SqliteKms, StoreError> {
        Ok(SqliteKms {
            db: Db::open(path, SCHEMA)?,
            sealer: Sealer::open(master_key)?,
        })
    }

    /// Stores a new key with its (unsealed) 32-byte material.
    pub fn create(&self, k: &Key, material: &[u8]) -> Result<(), StoreError> {
        let sealed = self.sealer.seal(material)?;
        self.db.write()?.execute(
            &format!("INSERT INTO keys ({COLUMNS}, material_sealed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
            params![k.key_id, k.account, k.region, k.description, k.key_usage, k.key_spec, k.state, k.policy, k.created_ms, k.deletion_ms, k.pending_days, sealed],
        )?;
        Ok(())
    }

    /// Writes a key's settings (state, policy, description, deletion); not its material.
    pub fn update(&self, k: &Key) -> Result<(), StoreError> {
        self.db.write()?.execute(
            "UPDATE keys SET description = ?2, state = ?3, policy = ?4, deletion_ms = ?5, pending_days = ?6 WHERE key_id = ?1",
            params![k.key_id, k.description, k.state, k.policy, k.deletion_ms, k.pending_days],
        )?;
        Ok(())
    }

    pub fn get(&self, key_id: &str) -> Result<Option<Key>, StoreError> {
        Ok(self
            .db
            .read()
            .query_row(
                &format!("SELECT {COLUMNS} FROM keys WHERE key_id = ?1"),
                [key_id],
                row_to_key,
            )
            .optional()?)
    }

    /// The key's material, unsealed.
    pub fn material(&self, key_id: &str) -> Result<Vec<u8>, StoreError> {
        let sealed: Vec<u8> = self.db.read().query_row(
            "SELECT material_sealed FROM keys WHERE key_id = ?1",
            [key_id],
            |r| r.get(0),
        )?;
        self.sealer.unseal(&sealed)
    }

    /// An account's keys in a region, oldest first.
    pub fn list(&self, account: &str, region: &str) -> Result<Vec<Key>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM keys WHERE account = ?1 AND region = ?2 ORDER BY created_ms, key_id"
        ))?;
        let rows = st.query_map([account, region], row_to_key)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Removes a key whose deletion date has passed, with its aliases.
    pub fn delete(&self, key_id: &str) -> Result<(), StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        tx.execute("DELETE FROM aliases WHERE key_id = ?1", [key_id])?;
        tx.execute("DELETE FROM keys WHERE key_id = ?1", [key_id])?;
        tx.commit()?;
        Ok(())
    }

    pub fn alias(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<Option<Alias>, StoreError> {
        Ok(self
            .db.read()
            .query_row(
                "SELECT name, key_id, created_ms FROM aliases WHERE account = ?1 AND region = ?2 AND name = ?3",
                [account, region, name],
                |r| Ok(Alias { name: r.get(0)?, key_id: r.get(1)?, created_ms: r.get(2)? }),
            )
            .optional()?)
    }

    /// Creates or retargets an alias.
    pub fn put_alias(&self, account: &str, region: &str, a: &Alias) -> Result<(), StoreError> {
        self.db.write()?.execute(
            "INSERT OR REPLACE INTO aliases (account, region, name, key_id, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![account, region, a.name, a.key_id, a.created_ms],
        )?;
        Ok(())
    }

    pub fn delete_alias(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.db.write()?.execute(
            "DELETE FROM aliases WHERE account = ?1 AND region = ?2 AND name = ?3",
            [account, region, name],
        )? > 0)
    }

    /// An account's aliases in a region, by name.
    pub fn aliases(&self, account: &str, region: &str) -> Result<Vec<Alias>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT name, key_id, created_ms FROM aliases WHERE account = ?1 AND region = ?2 ORDER BY name",
        )?;
        let rows = st.query_map([account, region], |r| {
            Ok(Alias {
                name: r.get(0)?,
                key_id: r.get(1)?,
                created_ms: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl KmsStore for SqliteKms {
    forward! {
        fn create(&self, k: &Key, material: &[u8]) -> Result<(), StoreError>;
        fn update(&self, k: &Key) -> Result<(), StoreError>;
        fn get(&self, key_id: &str) -> Result<Option<Key>, StoreError>;
        fn material(&self, key_id: &str) -> Result<Vec<u8>, StoreError>;
        fn list(&self, account: &str, region: &str) -> Result<Vec<Key>, StoreError>;
        fn delete(&self, key_id: &str) -> Result<(), StoreError>;
        fn alias(&self, account: &str, region: &str, name: &str) -> Result<Option<Alias>, StoreError>;
        fn put_alias(&self, account: &str, region: &str, a: &Alias) -> Result<(), StoreError>;
        fn delete_alias(&self, account: &str, region: &str, name: &str) -> Result<bool, StoreError>;
        fn aliases(&self, account: &str, region: &str) -> Result<Vec<Alias>, StoreError>;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rest of the contract is in the shared suite (`crate::suite::kms`); what is
    /// SQLite's own is that the material is sealed in its files.
    #[test]
    fn material_is_sealed_in_the_database_files() {
        let d = tempfile::tempdir().unwrap();
        let s = SqliteKms::open(&d.path().join("kms.db"), &d.path().join("kms.key")).unwrap();
        let k = Key {
            key_id: "1234abcd-12ab-34cd-56ef-1234567890ab".into(),
            account: "111122223333".into(),
            region: "us-east-1".into(),
            description: String::new(),
            key_usage: "ENCRYPT_DECRYPT".into(),
            key_spec: "SYMMETRIC_DEFAULT".into(),
            state: "Enabled".into(),
            policy: "{}".into(),
            created_ms: 5,
            deletion_ms: None,
            pending_days: None,
        };
        let material = [7u8; 32];
        s.create(&k, &material).unwrap();
        assert_eq!(s.get(&k.key_id).unwrap().unwrap(), k);
        assert_eq!(s.material(&k.key_id).unwrap(), material);
        // Neither in the database nor in its write-ahead log, where fresh rows sit.
        let raw: Vec<u8> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("kms.db")
            })
            .flat_map(|p| std::fs::read(p).unwrap())
            .collect();
        assert!(
            raw.windows(k.key_id.len())
                .any(|w| w == k.key_id.as_bytes()),
            "the search covers where the key's row is"
        );
        assert!(
            !raw.windows(32).any(|w| w == material),
            "material sealed at rest"
        );
    }
}
