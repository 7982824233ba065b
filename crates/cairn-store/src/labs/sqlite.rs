//! Lab progress in SQLite (`labs.db`, schema in `sql/labs.sql`).

use std::path::Path;

use rusqlite::{OptionalExtension, params};

use super::{LabsStore, Progress, decode, encode};
use crate::db::Db;
use crate::error::StoreError;

const SCHEMA: &str = include_str!("../../sql/labs.sql");

pub struct SqliteLabs {
    db: Db,
}

impl SqliteLabs {
    pub fn open(path: &Path) -> Result<SqliteLabs, StoreError> {
        Ok(SqliteLabs {
            db: Db::open(path, SCHEMA)?,
        })
    }
}

impl LabsStore for SqliteLabs {
    fn progress(&self, account: &str, lab: &str) -> Result<Option<Progress>, StoreError> {
        let doc: Option<String> = self
            .db
            .read()
            .query_row(
                "SELECT document FROM labs WHERE account = ?1 AND lab = ?2",
                params![account, lab],
                |r| r.get(0),
            )
            .optional()?;
        doc.as_deref().map(decode).transpose()
    }

    fn keep(&self, p: &Progress) -> Result<(), StoreError> {
        let doc = encode(p)?;
        self.db.write()?.execute(
            "INSERT INTO labs (account, lab, document) VALUES (?1, ?2, ?3)
             ON CONFLICT (account, lab) DO UPDATE SET document = excluded.document",
            params![p.account, p.lab, doc],
        )?;
        Ok(())
    }

    fn list(&self, account: &str) -> Result<Vec<Progress>, StoreError> {
        let db = self.db.read();
        let mut stmt =
            db.prepare_cached("SELECT document FROM labs WHERE account = ?1 ORDER BY lab")?;
        let docs = stmt
            .query_map([account], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        docs.iter().map(|d| decode(d)).collect()
    }

    fn forget(&self, account: &str, lab: &str) -> Result<bool, StoreError> {
        let n = self.db.write()?.execute(
            "DELETE FROM labs WHERE account = ?1 AND lab = ?2",
            params![account, lab],
        )?;
        Ok(n > 0)
    }
}
