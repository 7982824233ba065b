//! Lambda in SQLite (`lambda.db`, schema in `sql/lambda.sql`). Every write joins the call's
//! group transaction ([`Db::write`]), so a refused call leaves nothing behind (its code zip
//! included: zips are rows here, not files) and an acknowledged `Event` invocation is
//! committed; the invocation worker's writes (outside any call) commit at once.

use std::path::Path;
use std::sync::Arc;

use rusqlite::{OptionalExtension, params};
use tokio::sync::Notify;

use super::{Function, LambdaStore, NewInvocation, QueuedInvocation};
use crate::db::Db;
use crate::error::StoreError;
use crate::string_map::{map_of, map_text};

const SCHEMA: &str = include_str!("../../sql/lambda.sql");

pub struct SqliteLambda {
    db: Db,
    queued: Arc<Notify>,
}

const FUNCTION_COLUMNS: &str = "arn, account, region, name, config, code_sha256, code_size, revision_id, tags, policy, reserved_concurrency, invoke_config, created_ms, modified_ms";

fn row_to_function(r: &rusqlite::Row<'_>) -> rusqlite::Result<Function> {
    let tags: String = r.get(8)?;
    Ok(Function {
        arn: r.get(0)?,
        account: r.get(1)?,
        region: r.get(2)?,
        name: r.get(3)?,
        config: r.get(4)?,
        code_sha256: r.get(5)?,
        code_size: r.get(6)?,
        revision_id: r.get(7)?,
        tags: map_of(&tags),
        policy: r.get(9)?,
        reserved_concurrency: r.get(10)?,
        invoke_config: r.get(11)?,
        created_ms: r.get(12)?,
        modified_ms: r.get(13)?,
    })
}

const INVOCATION_COLUMNS: &str =
    "id, function_arn, request_id, payload, context, attempts, next_ms, created_ms";

fn row_to_invocation(r: &rusqlite::Row<'_>) -> rusqlite::Result<QueuedInvocation> {
    Ok(QueuedInvocation {
        id: r.get(0)?,
        function_arn: r.get(1)?,
        request_id: r.get(2)?,
        payload: r.get(3)?,
        context: r.get(4)?,
        attempts: r.get(5)?,
        next_ms: r.get(6)?,
        created_ms: r.get(7)?,
    })
}

impl SqliteLambda {
    pub fn open(path: &Path) -> Result<SqliteLambda, StoreError> {
        Ok(SqliteLambda {
            db: Db::open(path, SCHEMA)?,
            queued: Arc::new(Notify::new()),
        })
    }

    pub fn create_function(&self, f: &Function, zip: &[u8]) -> Result<bool, StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        let n = tx.execute(
            &format!("INSERT OR IGNORE INTO functions ({FUNCTION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"),
            params![f.arn, f.account, f.region, f.name, f.config, f.code_sha256, f.code_size, f.revision_id, map_text(&f.tags), f.policy, f.reserved_concurrency, f.invoke_config, f.created_ms, f.modified_ms],
        )?;
        if n > 0 {
            tx.execute(
                "INSERT OR REPLACE INTO code (arn, zip) VALUES (?1, ?2)",
                params![f.arn, zip],
            )?;
        }
        tx.commit()?;
        Ok(n > 0)
    }

    pub fn function(&self, arn: &str) -> Result<Option<Function>, StoreError> {
        Ok(self
            .db
            .read()
            .query_row(
                &format!("SELECT {FUNCTION_COLUMNS} FROM functions WHERE arn = ?1"),
                [arn],
                row_to_function,
            )
            .optional()?)
    }

    pub fn functions(
        &self,
        account: &str,
        region: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Function>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {FUNCTION_COLUMNS} FROM functions WHERE account = ?1 AND region = ?2 AND name > ?3 ORDER BY name LIMIT ?4"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = st.query_map(
            params![account, region, after.unwrap_or(""), limit],
            row_to_function,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn update_function(&self, f: &Function) -> Result<bool, StoreError> {
        Ok(self.db.write()?.execute(
            "UPDATE functions SET config = ?2, code_sha256 = ?3, code_size = ?4, revision_id = ?5, tags = ?6, policy = ?7, reserved_concurrency = ?8, invoke_config = ?9, modified_ms = ?10 WHERE arn = ?1",
            params![f.arn, f.config, f.code_sha256, f.code_size, f.revision_id, map_text(&f.tags), f.policy, f.reserved_concurrency, f.invoke_config, f.modified_ms],
        )? > 0)
    }

    pub fn put_code(&self, arn: &str, zip: &[u8]) -> Result<bool, StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        let exists: Option<i64> = tx
            .query_row("SELECT 1 FROM functions WHERE arn = ?1", [arn], |r| {
                r.get(0)
            })
            .optional()?;
        if exists.is_some() {
            tx.execute(
                "INSERT OR REPLACE INTO code (arn, zip) VALUES (?1, ?2)",
                params![arn, zip],
            )?;
        }
        tx.commit()?;
        Ok(exists.is_some())
    }

    pub fn code(&self, arn: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .db
            .read()
            .query_row("SELECT zip FROM code WHERE arn = ?1", [arn], |r| r.get(0))
            .optional()?)
    }

    pub fn delete_function(&self, arn: &str) -> Result<bool, StoreError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        tx.execute("DELETE FROM invocations WHERE function_arn = ?1", [arn])?;
        tx.execute("DELETE FROM code WHERE arn = ?1", [arn])?;
        let n = tx.execute("DELETE FROM functions WHERE arn = ?1", [arn])?;
        tx.commit()?;
        Ok(n > 0)
    }

    pub fn enqueue(&self, inv: &NewInvocation, now_ms: i64) -> Result<i64, StoreError> {
        let c = self.db.write()?;
        c.execute(
            "INSERT INTO invocations (function_arn, request_id, payload, context, attempts, next_ms, created_ms) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)",
            params![inv.function_arn, inv.request_id, inv.payload, inv.context, inv.due_ms, now_ms],
        )?;
        let id = c.last_insert_rowid();
        drop(c);
        let queued = Arc::clone(&self.queued);
        self.db.after_commit(move || queued.notify_one());
        Ok(id)
    }

    pub fn code_in_use(&self) -> Result<std::collections::HashSet<String>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached("SELECT DISTINCT code_sha256 FROM functions")?;
        let rows = st.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn invocations_queued(&self) -> Arc<Notify> {
        Arc::clone(&self.queued)
    }

    pub fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<QueuedInvocation>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {INVOCATION_COLUMNS} FROM invocations WHERE next_ms <= ?1 ORDER BY next_ms, id LIMIT ?2"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = st.query_map(params![now_ms, limit], row_to_invocation)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn queued(&self) -> Result<Vec<QueuedInvocation>, StoreError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(&format!(
            "SELECT {INVOCATION_COLUMNS} FROM invocations ORDER BY id"
        ))?;
        let rows = st.query_map([], row_to_invocation)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn retry_later(&self, id: i64, attempts: i64, next_ms: i64) -> Result<(), StoreError> {
        self.db.write()?.execute(
            "UPDATE invocations SET attempts = ?2, next_ms = ?3 WHERE id = ?1",
            params![id, attempts, next_ms],
        )?;
        Ok(())
    }

    pub fn finish(&self, id: i64) -> Result<(), StoreError> {
        self.db
            .write()?
            .execute("DELETE FROM invocations WHERE id = ?1", [id])?;
        Ok(())
    }
}

impl LambdaStore for SqliteLambda {
    forward! {
        fn create_function(&self, f: &Function, zip: &[u8]) -> Result<bool, StoreError>;
        fn function(&self, arn: &str) -> Result<Option<Function>, StoreError>;
        fn functions(&self, account: &str, region: &str, after: Option<&str>, limit: usize) -> Result<Vec<Function>, StoreError>;
        fn update_function(&self, f: &Function) -> Result<bool, StoreError>;
        fn put_code(&self, arn: &str, zip: &[u8]) -> Result<bool, StoreError>;
        fn code(&self, arn: &str) -> Result<Option<Vec<u8>>, StoreError>;
        fn delete_function(&self, arn: &str) -> Result<bool, StoreError>;
        fn enqueue(&self, inv: &NewInvocation, now_ms: i64) -> Result<i64, StoreError>;
        fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<QueuedInvocation>, StoreError>;
        fn invocations_queued(&self) -> Arc<Notify>;
        fn code_in_use(&self) -> Result<std::collections::HashSet<String>, StoreError>;
        fn queued(&self) -> Result<Vec<QueuedInvocation>, StoreError>;
        fn retry_later(&self, id: i64, attempts: i64, next_ms: i64) -> Result<(), StoreError>;
        fn finish(&self, id: i64) -> Result<(), StoreError>;
    }
}
