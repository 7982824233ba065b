//! The in-process test application: a whole cairn (every store, in a temporary directory) whose
//! services tests call directly, without HTTP or signatures, through the same pipeline a client's
//! call takes — authorized, run and recorded. It lives beside the services because it serves
//! all of them ([`crate::registry`]).

use std::sync::Arc;

use cairn_model::{Clock, Principal, SystemClock};
use cairn_store::journal::JournalConfig;
use cairn_wire::AwsError;
use serde_json::Value;

use crate::app::{App, Layout, OpenError, Options, Stores};
use crate::pipeline::Durability;
use crate::pipeline::internal::{Actor, Internal};

/// A cairn in a temporary directory, with one account.
pub struct TestApp {
    pub app: Arc<App>,
    pub stores: Stores,
    /// The account's root user.
    pub root: Principal,
    pub account: String,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

/// Why a test application could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TestAppError {
    #[error("temporary directory: {0}")]
    Dir(#[from] std::io::Error),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("creating the account: {0}")]
    Account(String),
}

impl TestApp {
    pub fn new() -> Result<TestApp, TestAppError> {
        TestApp::with(|_| {})
    }

    /// A test application whose options `configure` sets (a columnar engine, …).
    pub fn with(configure: impl FnOnce(&mut Options)) -> Result<TestApp, TestAppError> {
        let dir = tempfile::tempdir()?;
        let layout = Layout::new(dir.path());
        let stores = Stores::open(&layout, JournalConfig::default(), |_, _| {})?;
        let (_, key) = stores
            .identity
            .create_account(SystemClock.now_millis())
            .map_err(|e| TestAppError::Account(e.to_string()))?;
        let mut options = Options::new(Arc::new(SystemClock));
        configure(&mut options);
        let app = Arc::new(App::build(&stores, &layout, crate::registry(), options)?);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        Ok(TestApp {
            app,
            stores,
            root: Principal::Root {
                account: key.account.clone(),
                access_key_id: key.access_key_id.clone(),
                alias: None,
                session: None,
            },
            account: key.account.to_string(),
            runtime,
            _dir: dir,
        })
    }

    /// Calls an operation of `service` as `principal`, in us-east-1. Input and output are JSON
    /// as the service's codec takes them for internal calls ([`crate::pipeline::Codec::input_of_json`]):
    /// the document for JSON, REST-JSON and CBOR services; the flat parameters for query
    /// services (IAM, STS; the answer's `Xml` and `ResponseElements`); a request description
    /// for S3 (`Bucket`, `Key`, `Query`, `Headers`, `Body`; the answer's `Status`, `Headers`,
    /// `Body`).
    pub fn call_as(
        &self,
        principal: &Principal,
        service: &str,
        op: &str,
        input: Value,
    ) -> Result<Value, AwsError> {
        let internal = Internal {
            actor: Actor::Caller(principal.clone()),
            account: self.account.clone(),
            region: "us-east-1".to_owned(),
            source_arn: None,
            cause: "test".to_owned(),
            durability: Durability::Wait,
        };
        let app = Arc::clone(&self.app);
        let (service, op) = (service.to_owned(), op.to_owned());
        // Internal calls run on a blocking thread of the server's runtime, as handlers do.
        self.runtime.block_on(async move {
            tokio::task::spawn_blocking(move || internal.call_json(&app, &service, &op, input))
                .await
                .map_err(|_| AwsError::internal("the call panicked"))?
        })
    }

    /// Runs `f` on a blocking thread of the application's runtime, where internal calls can
    /// be made (a journal consumer's round, as the server runs it).
    pub fn run_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        self.runtime
            .block_on(async move { tokio::task::spawn_blocking(f).await.ok() })
    }

    /// Calls an operation of `service` as the account's root user.
    pub fn call(&self, service: &str, op: &str, input: Value) -> Result<Value, AwsError> {
        let root = self.root.clone();
        self.call_as(&root, service, op, input)
    }

    /// Every record in the journal, oldest first.
    pub fn records(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut offset = 0;
        while let Ok((batch, next)) = self.stores.journal.read_from(offset, 1 << 20) {
            if batch.is_empty() && next == offset {
                break;
            }
            for (at, payload) in batch {
                if let Ok(entry) = cairn_store::journal::Entry::decode(at, &payload)
                    && let Ok(v) = serde_json::from_slice(&entry.record)
                {
                    out.push(v);
                }
            }
            offset = next;
        }
        out
    }
}
