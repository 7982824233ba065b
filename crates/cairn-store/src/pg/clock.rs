//! A cluster's test clock: one offset in the database that every node's `--test-clock` reads,
//! so that `cairn clock advance` on any node moves time for all of them at once. Read on each
//! use (tests only: a query per reading is cheap beside what a test waits for).

use std::sync::Mutex;

use cairn_model::SharedOffset;
use postgres::Client;

use crate::error::StoreError;
use crate::pg::{Migration, backend, blocking, client};

const MIGRATIONS: &[Migration] = &[Migration {
    store: "test_clock",
    version: 1,
    sql: "CREATE TABLE test_clock (
              id INTEGER PRIMARY KEY CHECK (id = 1),
              offset_ms BIGINT NOT NULL);
          INSERT INTO test_clock (id, offset_ms) VALUES (1, 0);",
}];

pub struct PgClockOffset {
    url: String,
    schema: String,
    conn: Mutex<Option<Client>>,
}

impl PgClockOffset {
    pub fn open(url: &str, schema: &str) -> Result<PgClockOffset, StoreError> {
        let c = client(url, schema, MIGRATIONS)?;
        Ok(PgClockOffset {
            url: url.to_owned(),
            schema: schema.to_owned(),
            conn: Mutex::new(Some(c)),
        })
    }

    fn query(&self, sql: &str, ms: Option<i64>) -> Option<i64> {
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let slot: &mut Option<Client> = &mut guard;
        let got = blocking(|| -> Result<i64, StoreError> {
            if slot.as_ref().is_none_or(|c| c.is_closed()) {
                *slot = Some(client(&self.url, &self.schema, &[])?);
            }
            let Some(c) = slot.as_mut() else {
                return Err(StoreError::Invalid(
                    "no connection for the test clock".into(),
                ));
            };
            let row = match ms {
                Some(ms) => c.query_one(sql, &[&ms]),
                None => c.query_one(sql, &[]),
            }
            .map_err(backend)?;
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

impl Drop for PgClockOffset {
    fn drop(&mut self) {
        crate::pg::close(
            self.conn
                .get_mut()
                .unwrap_or_else(|p| p.into_inner())
                .take(),
        );
    }
}
