//! Organizations on PostgreSQL (schema in `sql/pg/organizations_*.sql`). Writes commit with
//! the record of the call that made them (`crate::pg`).

use crate::error::StoreError;
use crate::organizations::OrganizationDocuments;
use crate::pg::{Migration, PgDb, backend};

const MIGRATIONS: &[Migration] = &[Migration {
    store: "organizations",
    version: 1,
    sql: include_str!("../../sql/pg/organizations_0001.sql"),
}];

pub struct PgOrganizations {
    db: PgDb,
}

impl PgOrganizations {
    pub fn open(url: &str, schema: &str) -> Result<PgOrganizations, StoreError> {
        Ok(PgOrganizations {
            db: PgDb::connect(url, schema, MIGRATIONS)?,
        })
    }

    fn org_of(&self, account: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt("SELECT org FROM members WHERE account = $1", &[&account])
            .map_err(backend)?
            .map(|r| r.get(0)))
    }

    fn ids(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .db
            .read()
            .query("SELECT id FROM organizations ORDER BY id", &[])
            .map_err(backend)?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn get(&self, org: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt("SELECT document FROM organizations WHERE id = $1", &[&org])
            .map_err(backend)?
            .map(|r| r.get(0)))
    }

    fn get_for_update(&self, org: &str) -> Result<Option<String>, StoreError> {
        self.db.write_with(|c| {
            Ok(c.query_opt(
                "SELECT document FROM organizations WHERE id = $1 FOR UPDATE",
                &[&org],
            )?
            .map(|r| r.get(0)))
        })
    }

    fn put(&self, org: &str, document: &str, accounts: &[String]) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            c.execute(
                "INSERT INTO organizations (id, document) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET document = excluded.document",
                &[&org, &document],
            )?;
            c.execute("DELETE FROM members WHERE org = $1", &[&org])?;
            for a in accounts {
                c.execute(
                    "INSERT INTO members (account, org) VALUES ($1, $2)",
                    &[a, &org],
                )?;
            }
            Ok(())
        })
    }

    fn delete(&self, org: &str) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            c.execute("DELETE FROM members WHERE org = $1", &[&org])?;
            c.execute("DELETE FROM organizations WHERE id = $1", &[&org])?;
            Ok(())
        })
    }

    fn generation(&self) -> Option<u64> {
        None
    }
}

impl OrganizationDocuments for PgOrganizations {
    forward! {
        blocking:
        fn org_of(&self, account: &str) -> Result<Option<String>, StoreError>;
        fn get(&self, org: &str) -> Result<Option<String>, StoreError>;
        fn ids(&self) -> Result<Vec<String>, StoreError>;
        fn get_for_update(&self, org: &str) -> Result<Option<String>, StoreError>;
        fn put(&self, org: &str, document: &str, accounts: &[String]) -> Result<(), StoreError>;
        fn delete(&self, org: &str) -> Result<(), StoreError>;
        fn generation(&self) -> Option<u64>;
    }
}
