//! Account-level resource policies in SQLite: put (create or replace by name), list by name,
//! delete.

use rusqlite::params;

use super::SqliteLogs;
use crate::error::StoreError;
use crate::logs::ResourcePolicy;

impl SqliteLogs {
    pub fn put_resource_policy(
        &self,
        account: &str,
        region: &str,
        p: &ResourcePolicy,
    ) -> Result<(), StoreError> {
        self.db.write()?.execute(
            "INSERT INTO resource_policies (account, region, name, document, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (account, region, name) DO UPDATE SET document = excluded.document, updated_ms = excluded.updated_ms",
            params![account, region, p.name, p.document, p.updated_ms],
        )?;
        Ok(())
    }

    pub fn resource_policies(
        &self,
        account: &str,
        region: &str,
    ) -> Result<Vec<ResourcePolicy>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT name, document, updated_ms FROM resource_policies WHERE account = ?1 AND region = ?2 ORDER BY name",
        )?;
        let rows = st.query_map([account, region], |r| {
            Ok(ResourcePolicy {
                name: r.get(0)?,
                document: r.get(1)?,
                updated_ms: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn delete_resource_policy(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.db.write()?.execute(
            "DELETE FROM resource_policies WHERE account = ?1 AND region = ?2 AND name = ?3",
            [account, region, name],
        )? > 0)
    }
}
