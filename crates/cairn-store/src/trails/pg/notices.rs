//! Trails' SNS notifications on PostgreSQL: the queue of notices owed for written log files
//! (`trail_notices`, filled by `plan_written` in the same transaction as the written mark) and
//! what the latest attempts did (`trail_notify_status`).

use super::PgTrails;
use crate::error::StoreError;
use crate::pg::backend;
use crate::trails::{Notice, NotifyStatus};

impl PgTrails {
    pub fn pending_notices(&self) -> Result<Vec<Notice>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                "SELECT id, trail_arn, bucket, key, created_ms FROM trail_notices ORDER BY id",
                &[],
            )
            .map_err(backend)?
            .iter()
            .map(|r| Notice {
                id: r.get(0),
                trail_arn: r.get(1),
                bucket: r.get(2),
                key: r.get(3),
                created_ms: r.get(4),
            })
            .collect())
    }

    pub fn notices_done(&self, ids: &[i64]) -> Result<(), StoreError> {
        self.db
            .write_with(|c| c.execute("DELETE FROM trail_notices WHERE id = ANY($1)", &[&ids]))?;
        Ok(())
    }

    pub fn notify_status(&self, arn: &str) -> Result<NotifyStatus, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt(
                "SELECT latest_ms, attempt_ms, latest_error FROM trail_notify_status WHERE arn = $1",
                &[&arn],
            )
            .map_err(backend)?
            .map(|r| NotifyStatus {
                latest_ms: r.get(0),
                attempt_ms: r.get(1),
                latest_error: r.get(2),
            })
            .unwrap_or_default())
    }

    pub fn set_notify_status(&self, arn: &str, s: &NotifyStatus) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            c.execute(
                "INSERT INTO trail_notify_status (arn, latest_ms, attempt_ms, latest_error) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (arn) DO UPDATE SET latest_ms = EXCLUDED.latest_ms,
                   attempt_ms = EXCLUDED.attempt_ms, latest_error = EXCLUDED.latest_error",
                &[&arn, &s.latest_ms, &s.attempt_ms, &s.latest_error],
            )
        })?;
        Ok(())
    }
}
