//! The shared store test suite: the contract of every store trait, written once, run against
//! every backend (Quickwit's metastore suite is the model).
//!
//! A backend hands the suite fresh, empty stores through [`Backend`]; each store's module
//! here ([`journal`], [`history`], [`identity`], [`console`], [`kms`], [`organizations`], [`detections`], [`labs`], [`lambda`], [`logs`], [`metrics`], [`objects`], [`sqs`], [`sns`], [`events`], [`lake`], [`trails`], and
//! [`calls`] for the fail-closed group semantics) lists its cases in a `CASES` table, and
//! [`run`] runs a table against a new backend per case, naming every case that failed. The
//! embedded backend runs it in [`sqlite`], the PostgreSQL one in [`pg`] (for the stores that
//! are there so far); another backend depends on `cairn-store` with the `suite` feature,
//! implements [`Backend`] over its own stores, and runs the same tables:
//!
//! ```ignore
//! #[test]
//! fn identity() {
//!     cairn_store::suite::run(cairn_store::suite::identity::CASES, &|| Box::new(PgBackend::new()));
//! }
//! ```
//!
//! Cases use only the traits, so what they check is what every backend must do. Tests of one
//! backend's own machinery (torn segment tails, CRCs, file modes, SQLite's group
//! transactions) stay beside that backend.

// A suite of tests: a step that fails is a failed case, so unwrapping is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod calls;
pub mod console;
pub mod detections;
pub mod events;
pub mod history;
pub mod identity;
pub mod journal;
pub mod kms;
pub mod labs;
pub mod lake;
pub mod lambda;
pub mod logs;
pub mod metrics;
pub mod objects;
pub mod organizations;
#[cfg(any(test, feature = "suite"))]
pub mod pg;
pub mod sns;
#[cfg(any(test, feature = "suite"))]
pub mod sqlite;
pub mod sqs;
pub mod trails;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crate::console::ConsoleStore;
use crate::detections::DetectionsStore;
use crate::events::EventsStore;
use crate::history::HistoryIndex;
use crate::identity::IdentityStore;
use crate::journal::Journal;
use crate::kms::KmsStore;
use crate::labs::LabsStore;
use crate::lake::LakeStore;
use crate::lambda::LambdaStore;
use crate::logs::LogsStore;
use crate::metrics::MetricsStore;
use crate::objects::ObjectStore;
use crate::organizations::OrganizationsStore;
use crate::sns::SnsStore;
use crate::sqs::SqsStore;
use crate::trails::TrailStore;

/// One backend's stores, fresh and empty when the backend is made. Each method hands out the
/// same store on every call, until [`Backend::restart`].
pub trait Backend {
    /// The journal, with nothing feeding event history from its commits (the suite feeds the
    /// index itself, through [`HistoryIndex::apply`] and [`HistoryIndex::catch_up`]).
    fn journal(&self) -> Arc<dyn Journal>;
    fn history(&self) -> Arc<dyn HistoryIndex>;
    fn identity(&self) -> Arc<dyn IdentityStore>;
    fn kms(&self) -> Arc<dyn KmsStore>;
    fn organizations(&self) -> Arc<dyn OrganizationsStore>;
    fn detections(&self) -> Arc<dyn DetectionsStore>;
    fn labs(&self) -> Arc<dyn LabsStore>;
    fn logs(&self) -> Arc<dyn LogsStore>;
    fn metrics(&self) -> Arc<dyn MetricsStore>;
    fn objects(&self) -> Arc<dyn ObjectStore>;
    fn sqs(&self) -> Arc<dyn SqsStore>;
    fn trails(&self) -> Arc<dyn TrailStore>;
    fn sns(&self) -> Arc<dyn SnsStore>;
    fn lambda(&self) -> Arc<dyn LambdaStore>;
    fn events(&self) -> Arc<dyn EventsStore>;
    fn lake(&self) -> Arc<dyn LakeStore>;
    /// The console's sessions and failed sign-ins (the embedded backend's are in memory, so a
    /// restart forgets them).
    fn console(&self) -> Arc<dyn ConsoleStore>;
    /// Forgets the open stores, as a process that stops would; the next calls open them again
    /// over the same data. The caller has dropped every store it was handed.
    fn restart(&self);
}

/// A case of the suite: a name (the function's) and the check, given a fresh backend.
pub type Case = (&'static str, fn(&dyn Backend));

/// Runs every case against a backend of its own, and panics naming each case that failed
/// (after running them all, so one failure does not hide the next).
pub fn run(cases: &[Case], new_backend: &dyn Fn() -> Box<dyn Backend>) {
    let mut failed = Vec::new();
    for (name, case) in cases {
        let backend = new_backend();
        if catch_unwind(AssertUnwindSafe(|| case(&*backend))).is_err() {
            failed.push(*name);
        }
    }
    assert!(failed.is_empty(), "store suite cases failed: {failed:?}");
}

/// Every table of the suite, for a backend that runs them all in one test.
pub fn run_all(new_backend: &dyn Fn() -> Box<dyn Backend>) {
    for cases in [
        journal::CASES,
        history::CASES,
        identity::CASES,
        console::CASES,
        kms::CASES,
        detections::CASES,
        labs::CASES,
        logs::CASES,
        metrics::CASES,
        sns::CASES,
        lambda::CASES,
        events::CASES,
        lake::CASES,
        objects::CASES,
        sqs::CASES,
        trails::CASES,
        calls::CASES,
    ] {
        run(cases, new_backend);
    }
}

/// Builds a `CASES` table from case functions, named after them.
macro_rules! cases {
    ($($f:ident),* $(,)?) => {
        pub const CASES: &[$crate::suite::Case] = &[$((stringify!($f), $f)),*];
    };
}
pub(crate) use cases;
