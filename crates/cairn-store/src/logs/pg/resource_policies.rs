//! Account-level resource policies on PostgreSQL: put (create or replace by name), list by
//! name, delete.

use super::PgLogs;
use crate::error::StoreError;
use crate::logs::ResourcePolicy;
use crate::pg::backend;

impl PgLogs {
    pub fn put_resource_policy(
        &self,
        account: &str,
        region: &str,
        p: &ResourcePolicy,
    ) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            c.execute(
                "INSERT INTO resource_policies (account, region, name, document, updated_ms) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (account, region, name) DO UPDATE SET document = EXCLUDED.document, updated_ms = EXCLUDED.updated_ms",
                &[&account, &region, &p.name, &p.document, &p.updated_ms],
            )
        })?;
        Ok(())
    }

    pub fn resource_policies(
        &self,
        account: &str,
        region: &str,
    ) -> Result<Vec<ResourcePolicy>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                "SELECT name, document, updated_ms FROM resource_policies WHERE account = $1 AND region = $2 ORDER BY name",
                &[&account, &region],
            )
            .map_err(backend)?
            .iter()
            .map(|r| ResourcePolicy {
                name: r.get(0),
                document: r.get(1),
                updated_ms: r.get(2),
            })
            .collect())
    }

    pub fn delete_resource_policy(
        &self,
        account: &str,
        region: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            c.execute(
                "DELETE FROM resource_policies WHERE account = $1 AND region = $2 AND name = $3",
                &[&account, &region, &name],
            )
        })? > 0)
    }
}
