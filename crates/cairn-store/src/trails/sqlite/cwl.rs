//! Trails' CloudWatch Logs delivery state in SQLite (`cwl_delivery`): one row per trail, its
//! cursor, in-flight flag and latest outcome changed together in one statement.

use rusqlite::{OptionalExtension, params};

use super::SqliteTrails;
use crate::error::StoreError;
use crate::trails::CwlState;

impl SqliteTrails {
    pub fn cwl_state(&self, arn: &str) -> Result<Option<CwlState>, StoreError> {
        Ok(self
            .db
            .read()
            .query_row(
                "SELECT cursor, in_flight, latest_ms, latest_error, error_ms FROM cwl_delivery WHERE arn = ?1",
                [arn],
                |r| {
                    Ok(CwlState {
                        cursor: r.get::<_, i64>(0)?.max(0) as u64,
                        in_flight: r.get::<_, i64>(1)? != 0,
                        latest_ms: r.get(2)?,
                        latest_error: r.get(3)?,
                        error_ms: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    pub fn set_cwl_state(&self, arn: &str, s: &CwlState) -> Result<(), StoreError> {
        let cursor = i64::try_from(s.cursor).unwrap_or(i64::MAX);
        self.db.write()?.execute(
            "INSERT OR REPLACE INTO cwl_delivery (arn, cursor, in_flight, latest_ms, latest_error, error_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![arn, cursor, s.in_flight as i64, s.latest_ms, s.latest_error, s.error_ms],
        )?;
        Ok(())
    }

    pub fn drop_cwl_state(&self, arn: &str) -> Result<(), StoreError> {
        self.db
            .write()?
            .execute("DELETE FROM cwl_delivery WHERE arn = ?1", [arn])?;
        Ok(())
    }
}
