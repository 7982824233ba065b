//! Trails' SNS notifications in SQLite: the queue of notices owed for written log files
//! (`trail_notices`, filled by `plan_written` in the same transaction as the written mark) and
//! what the latest attempts did (`trail_notify_status`).

use rusqlite::{OptionalExtension, params};

use super::SqliteTrails;
use crate::error::StoreError;
use crate::trails::{Notice, NotifyStatus};

impl SqliteTrails {
    pub fn pending_notices(&self) -> Result<Vec<Notice>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT id, trail_arn, bucket, key, created_ms FROM trail_notices ORDER BY id",
        )?;
        let rows = st.query_map([], |r| {
            Ok(Notice {
                id: r.get(0)?,
                trail_arn: r.get(1)?,
                bucket: r.get(2)?,
                key: r.get(3)?,
                created_ms: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn notices_done(&self, ids: &[i64]) -> Result<(), StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        for id in ids {
            tx.execute("DELETE FROM trail_notices WHERE id = ?1", [id])?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn notify_status(&self, arn: &str) -> Result<NotifyStatus, StoreError> {
        Ok(self
            .db
            .read()
            .query_row(
                "SELECT latest_ms, attempt_ms, latest_error FROM trail_notify_status WHERE arn = ?1",
                [arn],
                |r| {
                    Ok(NotifyStatus {
                        latest_ms: r.get(0)?,
                        attempt_ms: r.get(1)?,
                        latest_error: r.get(2)?,
                    })
                },
            )
            .optional()?
            .unwrap_or_default())
    }

    pub fn set_notify_status(&self, arn: &str, s: &NotifyStatus) -> Result<(), StoreError> {
        self.db.write()?.execute(
            "INSERT OR REPLACE INTO trail_notify_status (arn, latest_ms, attempt_ms, latest_error) VALUES (?1, ?2, ?3, ?4)",
            params![arn, s.latest_ms, s.attempt_ms, s.latest_error],
        )?;
        Ok(())
    }
}
