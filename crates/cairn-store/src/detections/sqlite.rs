//! Detections in SQLite (`detections.db`, schema in `sql/detections.sql`).

use std::path::Path;

use rusqlite::{OptionalExtension, params};

use super::{DetectionsStore, Finding, Kept, decode, encode};
use crate::db::Db;
use crate::error::StoreError;

const SCHEMA: &str = include_str!("../../sql/detections.sql");

pub struct SqliteDetections {
    db: Db,
}

impl SqliteDetections {
    pub fn open(path: &Path) -> Result<SqliteDetections, StoreError> {
        Ok(SqliteDetections {
            db: Db::open(path, SCHEMA)?,
        })
    }
}

impl DetectionsStore for SqliteDetections {
    fn cursor(&self) -> Result<Option<u64>, StoreError> {
        let v: Option<i64> = self
            .db
            .read()
            .query_row("SELECT position FROM cursor WHERE id = 1", [], |r| r.get(0))
            .optional()?;
        Ok(v.map(|p| u64::try_from(p).unwrap_or(0)))
    }

    fn advance(&self, position: u64, findings: &[Finding]) -> Result<(), StoreError> {
        let position = i64::try_from(position).unwrap_or(i64::MAX);
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        for f in findings {
            tx.execute(
                "INSERT INTO findings (account, created_ms, document) VALUES (?1, ?2, ?3)",
                params![f.account, f.created_ms, encode(f)?],
            )?;
        }
        tx.execute(
            "INSERT INTO cursor (id, position) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET position = excluded.position",
            [position],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn list(
        &self,
        account: Option<&str>,
        after_seq: i64,
        limit: usize,
    ) -> Result<Vec<Kept>, StoreError> {
        let db = self.db.read();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = db.prepare_cached(
            "SELECT seq, document FROM findings WHERE seq > ?1 AND (?2 IS NULL OR account = ?2) ORDER BY seq LIMIT ?3",
        )?;
        let rows = stmt
            .query_map(params![after_seq, account, limit], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.iter().map(|(s, d)| decode(*s, d)).collect()
    }
}
