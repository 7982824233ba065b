//! Detections on PostgreSQL (schema in `sql/pg/detections_*.sql`).

use super::{DetectionsStore, Finding, Kept, decode, encode};
use crate::error::StoreError;
use crate::pg::{Migration, PgDb, backend};

const MIGRATIONS: &[Migration] = &[Migration {
    store: "detections",
    version: 1,
    sql: include_str!("../../sql/pg/detections_0001.sql"),
}];

pub struct PgDetections {
    db: PgDb,
}

impl PgDetections {
    pub fn open(url: &str, schema: &str) -> Result<PgDetections, StoreError> {
        Ok(PgDetections {
            db: PgDb::connect(url, schema, MIGRATIONS)?,
        })
    }

    fn cursor(&self) -> Result<Option<u64>, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt("SELECT position FROM detection_cursor WHERE id = 1", &[])
            .map_err(backend)?
            .map(|r| u64::try_from(r.get::<_, i64>(0)).unwrap_or(0)))
    }

    fn advance(&self, position: u64, findings: &[Finding]) -> Result<(), StoreError> {
        let position = i64::try_from(position).unwrap_or(i64::MAX);
        let docs = findings
            .iter()
            .map(|f| Ok((f.account.clone(), f.created_ms, encode(f)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.db.write_with(|c| {
            for (account, created, doc) in &docs {
                c.execute(
                    "INSERT INTO findings (account, created_ms, document) VALUES ($1, $2, $3)",
                    &[account, created, doc],
                )?;
            }
            c.execute(
                "INSERT INTO detection_cursor (id, position) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET position = EXCLUDED.position",
                &[&position],
            )
        })?;
        Ok(())
    }

    fn list(
        &self,
        account: Option<&str>,
        after_seq: i64,
        limit: usize,
    ) -> Result<Vec<Kept>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .db
            .read()
            .query(
                "SELECT seq, document FROM findings WHERE seq > $1 AND ($2::TEXT IS NULL OR account = $2) ORDER BY seq LIMIT $3",
                &[&after_seq, &account, &limit],
            )
            .map_err(backend)?;
        rows.iter()
            .map(|r| decode(r.get(0), &r.get::<_, String>(1)))
            .collect()
    }
}

impl DetectionsStore for PgDetections {
    forward! {
        blocking:
        fn cursor(&self) -> Result<Option<u64>, StoreError>;
        fn advance(&self, position: u64, findings: &[Finding]) -> Result<(), StoreError>;
        fn list(&self, account: Option<&str>, after_seq: i64, limit: usize) -> Result<Vec<Kept>, StoreError>;
    }
}
