//! A cluster's test clock: one offset in the database that every node's `--test-clock` reads,
//! so that `cairn clock advance` on any node moves time for all of them at once. Read on each
//! use (tests only: a query per reading is cheap beside what a test waits for).

use cairn_model::SharedOffset;

use crate::error::StoreError;
use crate::pg::{Migration, Session, client};

const MIGRATIONS: &[Migration] = &[Migration {
    store: "test_clock",
    version: 1,
    sql: "CREATE TABLE test_clock (
              id INTEGER PRIMARY KEY CHECK (id = 1),
              offset_ms BIGINT NOT NULL);
          INSERT INTO test_clock (id, offset_ms) VALUES (1, 0);",
}];

pub struct PgClockOffset {
    session: Session,
}

impl PgClockOffset {
    pub fn open(url: &str, schema: &str) -> Result<PgClockOffset, StoreError> {
        let c = client(url, schema, MIGRATIONS)?;
        Ok(PgClockOffset {
            session: Session::new(url, schema, "the test clock", Some(c)),
        })
    }

    fn query(&self, sql: &str, ms: Option<i64>) -> Option<i64> {
        let got = self.session.with(|c| {
            let row = match ms {
                Some(ms) => c.query_one(sql, &[&ms]),
                None => c.query_one(sql, &[]),
            }?;
            Ok(row.get(0))
        });
        match got {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!(error = %e, "could not reach the cluster's test clock");
                None
            }
        }
    }
}

impl SharedOffset for PgClockOffset {
    fn read(&self) -> Option<i64> {
        self.query("SELECT offset_ms FROM test_clock WHERE id = 1", None)
    }

    fn add(&self, ms: i64) -> Option<i64> {
        self.query(
            "UPDATE test_clock SET offset_ms = offset_ms + $1 WHERE id = 1 RETURNING offset_ms",
            Some(ms.max(0)),
        )
    }
}
