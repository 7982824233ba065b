//! Lab progress on PostgreSQL (schema in `sql/pg/labs_*.sql`).

use super::{LabsStore, Progress, decode, encode};
use crate::error::StoreError;
use crate::pg::{Migration, PgDb, backend};

const MIGRATIONS: &[Migration] = &[Migration {
    store: "labs",
    version: 1,
    sql: include_str!("../../sql/pg/labs_0001.sql"),
}];

pub struct PgLabs {
    db: PgDb,
}

impl PgLabs {
    pub fn open(url: &str, schema: &str) -> Result<PgLabs, StoreError> {
        Ok(PgLabs {
            db: PgDb::connect(url, schema, MIGRATIONS)?,
        })
    }

    fn progress(&self, account: &str, lab: &str) -> Result<Option<Progress>, StoreError> {
        self.db
            .read()
            .query_opt(
                "SELECT document FROM labs WHERE account = $1 AND lab = $2",
                &[&account, &lab],
            )
            .map_err(backend)?
            .map(|r| decode(&r.get::<_, String>(0)))
            .transpose()
    }

    fn keep(&self, p: &Progress) -> Result<(), StoreError> {
        let doc = encode(p)?;
        self.db.write_with(|c| {
            c.execute(
                "INSERT INTO labs (account, lab, document) VALUES ($1, $2, $3)
                 ON CONFLICT (account, lab) DO UPDATE SET document = EXCLUDED.document",
                &[&p.account, &p.lab, &doc],
            )
        })?;
        Ok(())
    }

    fn list(&self, account: &str) -> Result<Vec<Progress>, StoreError> {
        let rows = self
            .db
            .read()
            .query(
                "SELECT document FROM labs WHERE account = $1 ORDER BY lab",
                &[&account],
            )
            .map_err(backend)?;
        rows.iter()
            .map(|r| decode(&r.get::<_, String>(0)))
            .collect()
    }

    fn forget(&self, account: &str, lab: &str) -> Result<bool, StoreError> {
        let n = self.db.write_with(|c| {
            c.execute(
                "DELETE FROM labs WHERE account = $1 AND lab = $2",
                &[&account, &lab],
            )
        })?;
        Ok(n > 0)
    }
}

impl LabsStore for PgLabs {
    forward! {
        blocking:
        fn progress(&self, account: &str, lab: &str) -> Result<Option<Progress>, StoreError>;
        fn keep(&self, p: &Progress) -> Result<(), StoreError>;
        fn list(&self, account: &str) -> Result<Vec<Progress>, StoreError>;
        fn forget(&self, account: &str, lab: &str) -> Result<bool, StoreError>;
    }
}
