//! Organizations in SQLite (`organizations.db`, schema in `sql/organizations.sql`).

use std::path::Path;

use rusqlite::{OptionalExtension, params};

use crate::db::Db;
use crate::error::StoreError;
use crate::organizations::OrganizationDocuments;

const SCHEMA: &str = include_str!("../../sql/organizations.sql");

pub struct SqliteOrganizations {
    db: Db,
}

impl SqliteOrganizations {
    pub fn open(path: &Path) -> Result<SqliteOrganizations, StoreError> {
        Ok(SqliteOrganizations {
            db: Db::open(path, SCHEMA)?,
        })
    }
}

impl OrganizationDocuments for SqliteOrganizations {
    fn ids(&self) -> Result<Vec<String>, StoreError> {
        let db = self.db.read();
        let mut stmt = db.prepare("SELECT id FROM organizations ORDER BY id")?;
        let ids = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(ids)
    }

    fn org_of(&self, account: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .db
            .read()
            .query_row(
                "SELECT org FROM members WHERE account = ?1",
                [account],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn get(&self, org: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .db
            .read()
            .query_row(
                "SELECT document FROM organizations WHERE id = ?1",
                [org],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn get_for_update(&self, org: &str) -> Result<Option<String>, StoreError> {
        // The writer's transaction sees this call's group's own writes and holds out others.
        Ok(self
            .db
            .write()?
            .query_row(
                "SELECT document FROM organizations WHERE id = ?1",
                [org],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn put(&self, org: &str, document: &str, accounts: &[String]) -> Result<(), StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        tx.execute(
            "INSERT INTO organizations (id, document) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET document = excluded.document",
            params![org, document],
        )?;
        tx.execute("DELETE FROM members WHERE org = ?1", [org])?;
        for a in accounts {
            tx.execute(
                "INSERT INTO members (account, org) VALUES (?1, ?2)",
                params![a, org],
            )?;
        }
        tx.commit()?;
        drop(c);
        self.db.changed();
        Ok(())
    }

    fn delete(&self, org: &str) -> Result<(), StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        tx.execute("DELETE FROM members WHERE org = ?1", [org])?;
        tx.execute("DELETE FROM organizations WHERE id = ?1", [org])?;
        tx.commit()?;
        drop(c);
        self.db.changed();
        Ok(())
    }

    fn generation(&self) -> Option<u64> {
        // What this call wrote and has not committed must not be cached for others.
        (!self.db.uncommitted_here()).then(|| self.db.generation())
    }
}
