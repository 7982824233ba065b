//! Trails' CloudWatch Logs delivery state on PostgreSQL (`cwl_delivery`): one row per trail,
//! its cursor, in-flight flag and latest outcome changed together in one statement.

use super::{PgTrails, offset_param};
use crate::error::StoreError;
use crate::pg::backend;
use crate::trails::CwlState;

impl PgTrails {
    pub fn cwl_state(&self, arn: &str) -> Result<Option<CwlState>, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt(
                "SELECT cursor, in_flight, latest_ms, latest_error, error_ms FROM cwl_delivery WHERE arn = $1",
                &[&arn],
            )
            .map_err(backend)?
            .map(|r| CwlState {
                cursor: r.get::<_, i64>(0).max(0) as u64,
                in_flight: r.get(1),
                latest_ms: r.get(2),
                latest_error: r.get(3),
                error_ms: r.get(4),
            }))
    }

    pub fn set_cwl_state(&self, arn: &str, s: &CwlState) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            c.execute(
                "INSERT INTO cwl_delivery (arn, cursor, in_flight, latest_ms, latest_error, error_ms) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (arn) DO UPDATE SET cursor = EXCLUDED.cursor, in_flight = EXCLUDED.in_flight,
                   latest_ms = EXCLUDED.latest_ms, latest_error = EXCLUDED.latest_error, error_ms = EXCLUDED.error_ms",
                &[&arn, &offset_param(s.cursor), &s.in_flight, &s.latest_ms, &s.latest_error, &s.error_ms],
            )
        })?;
        Ok(())
    }

    pub fn drop_cwl_state(&self, arn: &str) -> Result<(), StoreError> {
        self.db
            .write_with(|c| c.execute("DELETE FROM cwl_delivery WHERE arn = $1", &[&arn]))?;
        Ok(())
    }
}
