//! KMS keys and aliases on PostgreSQL (schema in `sql/pg/kms_*.sql`), key material sealed
//! under the deployment's master key as in the embedded store: the database never holds it
//! in the clear. Writes commit with the record of the call that made them (`crate::pg`).

use std::path::Path;

use postgres::Row;

use crate::error::StoreError;
use crate::kms::{Alias, Key, KmsStore};
use crate::pg::{Migration, PgDb, backend};
use crate::seal::Sealer;

const MIGRATIONS: &[Migration] = &[Migration {
    store: "kms",
    version: 1,
    sql: include_str!("../../sql/pg/kms_0001.sql"),
}];

const COLUMNS: &str = "key_id, account, region, description, key_usage, key_spec, state, policy, created_ms, deletion_ms, pending_days";

pub struct PgKms {
    db: PgDb,
    sealer: Sealer,
}

fn row_to_key(r: &Row) -> Key {
    Key {
        key_id: r.get(0),
        account: r.get(1),
        region: r.get(2),
        description: r.get(3),
        key_usage: r.get(4),
        key_spec: r.get(5),
        state: r.get(6),
        policy: r.get(7),
        created_ms: r.get(8),
        deletion_ms: r.get(9),
        pending_days: r.get(10),
    }
}

fn row_to_alias(r: &Row) -> Alias {
    Alias {
        name: r.get(0),
        key_id: r.get(1),
        created_ms: r.get(2),
    }
}

impl PgKms {
    /// The store in `schema` of the database at `url`; `master_key` seals key material
    /// (created, mode 0600, if absent; every node of a deployment needs the same file).
    pub fn open(url: &str, schema: &str, master_key: &Path) -> Result<PgKms, StoreError> {
        Ok(PgKms {
            db: PgDb::connect(url, schema, MIGRATIONS)?,
            sealer: Sealer::open(master_key)?,
        })
    }

    pub fn create(&self, k: &Key, material: &[u8]) -> Result<(), StoreError> {
        let sealed = self.sealer.seal(material)?;
        self.db.write_with(|c| {
            c.execute(
                &format!("INSERT INTO keys ({COLUMNS}, material_sealed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"),
                &[&k.key_id, &k.account, &k.region, &k.description, &k.key_usage, &k.key_spec, &k.state, &k.policy, &k.created_ms, &k.deletion_ms, &k.pending_days, &sealed],
            )
        })?;
        Ok(())
    }

    pub fn update(&self, k: &Key) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            c.execute(
                "UPDATE keys SET description = $2, state = $3, policy = $4, deletion_ms = $5, pending_days = $6 WHERE key_id = $1",
                &[&k.key_id, &k.description, &k.state, &k.policy, &k.deletion_ms, &k.pending_days],
            )
        })?;
        Ok(())
    }

    pub fn get(&self, key_id: &str) -> Result<Option<Key>, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt(
                &format!("SELECT {COLUMNS} FROM keys WHERE key_id = $1"),
                &[&key_id],
            )
            .map_err(backend)?
            .as_ref()
            .map(row_to_key))
    }

    pub fn material(&self, key_id: &str) -> Result<Vec<u8>, StoreError> {
        let row = self
            .db
            .read()
            .query_opt(
                "SELECT material_sealed FROM keys WHERE key_id = $1",
                &[&key_id],
            )
            .map_err(backend)?
            .ok_or_else(|| StoreError::Invalid(format!("no KMS key {key_id}")))?;
        let sealed: Vec<u8> = row.get(0);
        self.sealer.unseal(&sealed)
    }

    pub fn list(&self, account: &str, region: &str) -> Result<Vec<Key>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                &format!("SELECT {COLUMNS} FROM keys WHERE account = $1 AND region = $2 ORDER BY created_ms, key_id"),
                &[&account, &region],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_key)
            .collect())
    }

    pub fn delete(&self, key_id: &str) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            c.execute("DELETE FROM aliases WHERE key_id = $1", &[&key_id])?;
            c.execute("DELETE FROM keys WHERE key_id = $1", &[&key_id])?;
            Ok(())
        })
    }

    pub fn alias(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<Option<Alias>, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt(
                "SELECT name, key_id, created_ms FROM aliases WHERE account = $1 AND region = $2 AND name = $3",
                &[&account, &region, &name],
            )
            .map_err(backend)?
            .as_ref()
            .map(row_to_alias))
    }

    pub fn put_alias(&self, account: &str, region: &str, a: &Alias) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            c.execute(
                "INSERT INTO aliases (account, region, name, key_id, created_ms) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (account, region, name) DO UPDATE SET key_id = EXCLUDED.key_id, created_ms = EXCLUDED.created_ms",
                &[&account, &region, &a.name, &a.key_id, &a.created_ms],
            )
        })?;
        Ok(())
    }

    pub fn delete_alias(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            c.execute(
                "DELETE FROM aliases WHERE account = $1 AND region = $2 AND name = $3",
                &[&account, &region, &name],
            )
        })? > 0)
    }

    pub fn aliases(&self, account: &str, region: &str) -> Result<Vec<Alias>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                "SELECT name, key_id, created_ms FROM aliases WHERE account = $1 AND region = $2 ORDER BY name",
                &[&account, &region],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_alias)
            .collect())
    }
}

impl KmsStore for PgKms {
    forward! {
        blocking:
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
