//! Lambda: functions, their code, and the durable queue of asynchronous invocations.
//!
//! [`LambdaStore`] is the contract, in the service's own terms; [`SqliteLambda`] is the
//! embedded backend, [`PgLambda`] the PostgreSQL one; the shared suite
//! (`crate::suite::lambda`) holds any backend to it.
//! Functions are keyed by their unqualified ARN (which names account, region and function)
//! and unique by name in their account and region. A function's configuration is kept as the
//! service describes it (a JSON object); the store keeps and orders, the service validates.
//! The code zip is kept beside the function, written in the same group transaction, so a
//! refused CreateFunction leaves no code behind. Queued invocations are written in the Invoke
//! call's transaction: an `Event` invocation that was acknowledged is on disk.

mod pg;
mod sqlite;

use std::collections::BTreeMap;

pub use pg::PgLambda;
pub use sqlite::SqliteLambda;

use crate::error::StoreError;

/// A function as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    /// The unqualified ARN.
    pub arn: String,
    pub account: String,
    pub region: String,
    pub name: String,
    /// The configuration as the service describes it (a JSON object).
    pub config: String,
    /// Base64 SHA-256 of the zip.
    pub code_sha256: String,
    pub code_size: i64,
    pub revision_id: String,
    pub tags: BTreeMap<String, String>,
    /// The resource policy document, once a statement was added.
    pub policy: Option<String>,
    pub reserved_concurrency: Option<i64>,
    /// The event invoke config (a JSON object), once one was put.
    pub invoke_config: Option<String>,
    pub created_ms: i64,
    pub modified_ms: i64,
}

/// An asynchronous invocation to queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewInvocation {
    pub function_arn: String,
    pub request_id: String,
    pub payload: Vec<u8>,
    /// Who invoked and how, as the service describes it (a JSON object).
    pub context: String,
    /// When the first attempt is due.
    pub due_ms: i64,
}

/// An asynchronous invocation in the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedInvocation {
    pub id: i64,
    pub function_arn: String,
    pub request_id: String,
    pub payload: Vec<u8>,
    pub context: String,
    /// Attempts made so far.
    pub attempts: i64,
    pub next_ms: i64,
    pub created_ms: i64,
}

pub trait LambdaStore: Send + Sync {
    /// Creates a function with its code; `false` when one with its ARN exists (nothing
    /// changes).
    fn create_function(&self, f: &Function, zip: &[u8]) -> Result<bool, StoreError>;
    fn function(&self, arn: &str) -> Result<Option<Function>, StoreError>;
    /// The functions of an account in a region by name, after `after` (a name), at most
    /// `limit`.
    fn functions(
        &self,
        account: &str,
        region: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Function>, StoreError>;
    /// Replaces everything of a function but its code; `false` when it does not exist.
    fn update_function(&self, f: &Function) -> Result<bool, StoreError>;
    /// Replaces a function's code zip; `false` when the function does not exist.
    fn put_code(&self, arn: &str, zip: &[u8]) -> Result<bool, StoreError>;
    /// A function's code zip.
    fn code(&self, arn: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Deletes a function with its code and its queued invocations.
    fn delete_function(&self, arn: &str) -> Result<bool, StoreError>;

    /// Queues an asynchronous invocation; answers its id.
    fn enqueue(&self, inv: &NewInvocation, now_ms: i64) -> Result<i64, StoreError>;
    /// Invocations due at `now_ms`, oldest first, at most `limit`.
    fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<QueuedInvocation>, StoreError>;
    /// Notified whenever an enqueued invocation is committed: the invoker waits on it, so an
    /// event reaches its function within milliseconds rather than at the next tick.
    fn invocations_queued(&self) -> std::sync::Arc<tokio::sync::Notify>;
    /// The code digests some function of any account has now.
    fn code_in_use(&self) -> Result<std::collections::HashSet<String>, StoreError>;
    /// Every queued invocation (for tests and status).
    fn queued(&self) -> Result<Vec<QueuedInvocation>, StoreError>;
    /// Records a failed attempt and when to try again.
    fn retry_later(&self, id: i64, attempts: i64, next_ms: i64) -> Result<(), StoreError>;
    /// Removes an invocation (run, or given up).
    fn finish(&self, id: i64) -> Result<(), StoreError>;
}
