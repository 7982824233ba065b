//! Lambda on PostgreSQL (schema in `sql/pg/lambda_*.sql`). Every write joins the call's group
//! transaction (`crate::pg`), so a refused call leaves nothing behind (its code zip included)
//! and an acknowledged `Event` invocation is committed; the invocation worker's writes
//! (outside any call) commit at once. The worker is woken by this node's commits; other
//! nodes' wait for LISTEN/NOTIFY (not yet: issue 18).

use std::sync::Arc;

use postgres::Row;
use tokio::sync::Notify;

use super::{Function, LambdaStore, NewInvocation, QueuedInvocation};
use crate::error::StoreError;
use crate::pg::{Migration, PgDb, backend};
use crate::string_map::{map_of, map_text};

const MIGRATIONS: &[Migration] = &[Migration {
    store: "lambda",
    version: 1,
    sql: include_str!("../../sql/pg/lambda_0001.sql"),
}];

const FUNCTION_COLUMNS: &str = "arn, account, region, name, config, code_sha256, code_size, revision_id, tags, policy, reserved_concurrency, invoke_config, created_ms, modified_ms";
const INVOCATION_COLUMNS: &str =
    "id, function_arn, request_id, payload, context, attempts, next_ms, created_ms";

pub struct PgLambda {
    db: PgDb,
    queued: Arc<Notify>,
}

fn row_to_function(r: &Row) -> Function {
    let tags: String = r.get(8);
    Function {
        arn: r.get(0),
        account: r.get(1),
        region: r.get(2),
        name: r.get(3),
        config: r.get(4),
        code_sha256: r.get(5),
        code_size: r.get(6),
        revision_id: r.get(7),
        tags: map_of(&tags),
        policy: r.get(9),
        reserved_concurrency: r.get(10),
        invoke_config: r.get(11),
        created_ms: r.get(12),
        modified_ms: r.get(13),
    }
}

fn row_to_invocation(r: &Row) -> QueuedInvocation {
    QueuedInvocation {
        id: r.get(0),
        function_arn: r.get(1),
        request_id: r.get(2),
        payload: r.get(3),
        context: r.get(4),
        attempts: r.get(5),
        next_ms: r.get(6),
        created_ms: r.get(7),
    }
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl PgLambda {
    /// The store in `schema` of the database at `url`.
    pub fn open(url: &str, schema: &str) -> Result<PgLambda, StoreError> {
        Ok(PgLambda {
            db: PgDb::connect(url, schema, MIGRATIONS)?,
            queued: Arc::new(Notify::new()),
        })
    }

    pub fn create_function(&self, f: &Function, zip: &[u8]) -> Result<bool, StoreError> {
        self.db.write_with(|c| {
            let n = c.execute(
                &format!("INSERT INTO functions ({FUNCTION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT DO NOTHING"),
                &[&f.arn, &f.account, &f.region, &f.name, &f.config, &f.code_sha256, &f.code_size, &f.revision_id, &map_text(&f.tags), &f.policy, &f.reserved_concurrency, &f.invoke_config, &f.created_ms, &f.modified_ms],
            )?;
            if n > 0 {
                c.execute(
                    "INSERT INTO code (arn, zip) VALUES ($1, $2) ON CONFLICT (arn) DO UPDATE SET zip = EXCLUDED.zip",
                    &[&f.arn, &zip],
                )?;
            }
            Ok(n > 0)
        })
    }

    pub fn function(&self, arn: &str) -> Result<Option<Function>, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt(
                &format!("SELECT {FUNCTION_COLUMNS} FROM functions WHERE arn = $1"),
                &[&arn],
            )
            .map_err(backend)?
            .as_ref()
            .map(row_to_function))
    }

    pub fn functions(
        &self,
        account: &str,
        region: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Function>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                &format!("SELECT {FUNCTION_COLUMNS} FROM functions WHERE account = $1 AND region = $2 AND name > $3 ORDER BY name LIMIT $4"),
                &[&account, &region, &after.unwrap_or(""), &to_i64(limit)],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_function)
            .collect())
    }

    pub fn update_function(&self, f: &Function) -> Result<bool, StoreError> {
        Ok(self.db.write_with(|c| {
            c.execute(
                "UPDATE functions SET config = $2, code_sha256 = $3, code_size = $4, revision_id = $5, tags = $6, policy = $7, reserved_concurrency = $8, invoke_config = $9, modified_ms = $10 WHERE arn = $1",
                &[&f.arn, &f.config, &f.code_sha256, &f.code_size, &f.revision_id, &map_text(&f.tags), &f.policy, &f.reserved_concurrency, &f.invoke_config, &f.modified_ms],
            )
        })? > 0)
    }

    pub fn put_code(&self, arn: &str, zip: &[u8]) -> Result<bool, StoreError> {
        self.db.write_with(|c| {
            let exists = c
                .query_opt("SELECT 1 FROM functions WHERE arn = $1", &[&arn])?
                .is_some();
            if exists {
                c.execute(
                    "INSERT INTO code (arn, zip) VALUES ($1, $2) ON CONFLICT (arn) DO UPDATE SET zip = EXCLUDED.zip",
                    &[&arn, &zip],
                )?;
            }
            Ok(exists)
        })
    }

    pub fn code(&self, arn: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .db
            .read()
            .query_opt("SELECT zip FROM code WHERE arn = $1", &[&arn])
            .map_err(backend)?
            .map(|r| r.get(0)))
    }

    pub fn delete_function(&self, arn: &str) -> Result<bool, StoreError> {
        self.db.write_with(|c| {
            c.execute("DELETE FROM invocations WHERE function_arn = $1", &[&arn])?;
            c.execute("DELETE FROM code WHERE arn = $1", &[&arn])?;
            Ok(c.execute("DELETE FROM functions WHERE arn = $1", &[&arn])? > 0)
        })
    }

    pub fn enqueue(&self, inv: &NewInvocation, now_ms: i64) -> Result<i64, StoreError> {
        let id = self.db.write_with(|c| {
            c.query_one(
                "INSERT INTO invocations (function_arn, request_id, payload, context, attempts, next_ms, created_ms) VALUES ($1, $2, $3, $4, 0, $5, $6) RETURNING id",
                &[&inv.function_arn, &inv.request_id, &inv.payload, &inv.context, &inv.due_ms, &now_ms],
            )
            .map(|r| r.get::<_, i64>(0))
        })?;
        let queued = Arc::clone(&self.queued);
        self.db.after_commit(move || queued.notify_one());
        Ok(id)
    }

    pub fn code_in_use(&self) -> Result<std::collections::HashSet<String>, StoreError> {
        Ok(self
            .db
            .read()
            .query("SELECT DISTINCT code_sha256 FROM functions", &[])
            .map_err(backend)?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    pub fn invocations_queued(&self) -> Arc<Notify> {
        Arc::clone(&self.queued)
    }

    pub fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<QueuedInvocation>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                &format!("SELECT {INVOCATION_COLUMNS} FROM invocations WHERE next_ms <= $1 ORDER BY next_ms, id LIMIT $2"),
                &[&now_ms, &to_i64(limit)],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_invocation)
            .collect())
    }

    pub fn queued(&self) -> Result<Vec<QueuedInvocation>, StoreError> {
        Ok(self
            .db
            .read()
            .query(
                &format!("SELECT {INVOCATION_COLUMNS} FROM invocations ORDER BY id"),
                &[],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_invocation)
            .collect())
    }

    pub fn retry_later(&self, id: i64, attempts: i64, next_ms: i64) -> Result<(), StoreError> {
        self.db.write_with(|c| {
            c.execute(
                "UPDATE invocations SET attempts = $2, next_ms = $3 WHERE id = $1",
                &[&id, &attempts, &next_ms],
            )
        })?;
        Ok(())
    }

    pub fn finish(&self, id: i64) -> Result<(), StoreError> {
        self.db
            .write_with(|c| c.execute("DELETE FROM invocations WHERE id = $1", &[&id]))?;
        Ok(())
    }
}

impl LambdaStore for PgLambda {
    forward! {
        blocking:
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
