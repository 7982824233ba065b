//! The embedded backend under the shared suite: the segment-log journal and the SQLite stores,
//! each in a temporary directory of its own, and the console's store in memory (what
//! `cairn serve` alone opens).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::Backend;
use crate::console::{ConsoleStore, MemoryConsole};
use crate::detections::{DetectionsStore, SqliteDetections};
use crate::events::{EventsStore, SqliteEvents};
use crate::history::{HistoryIndex, SqliteHistory};
use crate::identity::{IdentityStore, SqliteIdentity};
use crate::journal::{Journal, JournalConfig, NoHook, SegmentJournal};
use crate::kms::{KmsStore, SqliteKms};
use crate::labs::{LabsStore, SqliteLabs};
use crate::lake::{LakeStore, SqliteLake};
use crate::lambda::{LambdaStore, SqliteLambda};
use crate::logs::{LogsStore, SqliteLogs};
use crate::metrics::{MetricsStore, SqliteMetrics};
use crate::objects::{ObjectStore, SqliteObjects};
use crate::organizations::{OrganizationsStore, SqliteOrganizations};
use crate::sns::{SnsStore, SqliteSns};
use crate::sqs::{SqliteSqs, SqsStore};
use crate::trails::{SqliteTrails, TrailStore};

/// The embedded stores over one temporary data directory.
pub struct SqliteBackend {
    dir: tempfile::TempDir,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    journal: Option<Arc<dyn Journal>>,
    history: Option<Arc<dyn HistoryIndex>>,
    identity: Option<Arc<dyn IdentityStore>>,
    kms: Option<Arc<dyn KmsStore>>,
    organizations: Option<Arc<dyn OrganizationsStore>>,
    detections: Option<Arc<dyn DetectionsStore>>,
    labs: Option<Arc<dyn LabsStore>>,
    logs: Option<Arc<dyn LogsStore>>,
    metrics: Option<Arc<dyn MetricsStore>>,
    objects: Option<Arc<dyn ObjectStore>>,
    sqs: Option<Arc<dyn SqsStore>>,
    trails: Option<Arc<dyn TrailStore>>,
    sns: Option<Arc<dyn SnsStore>>,
    lambda: Option<Arc<dyn LambdaStore>>,
    events: Option<Arc<dyn EventsStore>>,
    lake: Option<Arc<dyn LakeStore>>,
    console: Option<Arc<dyn ConsoleStore>>,
}

impl SqliteBackend {
    /// # Panics
    /// If no temporary directory can be made (a test fixture).
    pub fn new() -> SqliteBackend {
        SqliteBackend {
            dir: tempfile::tempdir().expect("a temporary directory for the store suite"),
            open: Mutex::new(Open::default()),
        }
    }

    pub fn boxed() -> Box<dyn Backend> {
        Box::new(SqliteBackend::new())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The store in `slot`, opened with `open` the first time.
    fn get<T: ?Sized, E: std::fmt::Display>(
        &self,
        slot: impl Fn(&mut Open) -> &mut Option<Arc<T>>,
        open: impl FnOnce() -> Result<Arc<T>, E>,
    ) -> Arc<T> {
        let mut o = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let s = slot(&mut o);
        if let Some(v) = s {
            return Arc::clone(v);
        }
        let v = match open() {
            Ok(v) => v,
            Err(e) => panic!("opening a store for the suite: {e}"),
        };
        *s = Some(Arc::clone(&v));
        v
    }
}

impl Default for SqliteBackend {
    fn default() -> Self {
        SqliteBackend::new()
    }
}

impl Backend for SqliteBackend {
    fn journal(&self) -> Arc<dyn Journal> {
        self.get(
            |o| &mut o.journal,
            || {
                SegmentJournal::open(
                    &self.path("journal"),
                    JournalConfig {
                        // Small segments, so that reads cross them and purging has some to drop.
                        segment_bytes: 4096,
                        fsync: true,
                    },
                    Box::new(NoHook),
                )
                .map(|j| Arc::new(j) as Arc<dyn Journal>)
            },
        )
    }

    fn history(&self) -> Arc<dyn HistoryIndex> {
        self.get(
            |o| &mut o.history,
            || SqliteHistory::open(&self.path("history.db")).map(|h| Arc::new(h) as _),
        )
    }

    fn identity(&self) -> Arc<dyn IdentityStore> {
        self.get(
            |o| &mut o.identity,
            || SqliteIdentity::open(&self.path("identity.db")).map(|s| Arc::new(s) as _),
        )
    }

    fn kms(&self) -> Arc<dyn KmsStore> {
        self.get(
            |o| &mut o.kms,
            || {
                SqliteKms::open(&self.path("kms.db"), &self.path("kms.key"))
                    .map(|s| Arc::new(s) as _)
            },
        )
    }

    fn organizations(&self) -> Arc<dyn OrganizationsStore> {
        self.get(
            |o| &mut o.organizations,
            || SqliteOrganizations::open(&self.path("organizations.db")).map(|s| Arc::new(s) as _),
        )
    }

    fn detections(&self) -> Arc<dyn DetectionsStore> {
        self.get(
            |o| &mut o.detections,
            || SqliteDetections::open(&self.path("detections.db")).map(|s| Arc::new(s) as _),
        )
    }

    fn labs(&self) -> Arc<dyn LabsStore> {
        self.get(
            |o| &mut o.labs,
            || SqliteLabs::open(&self.path("labs.db")).map(|s| Arc::new(s) as _),
        )
    }

    fn logs(&self) -> Arc<dyn LogsStore> {
        self.get(
            |o| &mut o.logs,
            || SqliteLogs::open(&self.path("logs.db")).map(|s| Arc::new(s) as _),
        )
    }

    fn metrics(&self) -> Arc<dyn MetricsStore> {
        self.get(
            |o| &mut o.metrics,
            || SqliteMetrics::open(&self.path("metrics.db")).map(|s| Arc::new(s) as _),
        )
    }

    fn objects(&self) -> Arc<dyn ObjectStore> {
        self.get(
            |o| &mut o.objects,
            || SqliteObjects::open(&self.path("s3")).map(|s| Arc::new(s) as _),
        )
    }

    fn sqs(&self) -> Arc<dyn SqsStore> {
        self.get(
            |o| &mut o.sqs,
            || SqliteSqs::open(&self.path("sqs.db")).map(|s| Arc::new(s) as _),
        )
    }

    fn trails(&self) -> Arc<dyn TrailStore> {
        self.get(
            |o| &mut o.trails,
            || SqliteTrails::open(&self.path("trails.db")).map(|s| Arc::new(s) as _),
        )
    }

    fn sns(&self) -> Arc<dyn SnsStore> {
        self.get(
            |o| &mut o.sns,
            || SqliteSns::open(&self.path("sns.db")).map(|s| Arc::new(s) as _),
        )
    }

    fn lambda(&self) -> Arc<dyn LambdaStore> {
        self.get(
            |o| &mut o.lambda,
            || SqliteLambda::open(&self.path("lambda.db")).map(|s| Arc::new(s) as _),
        )
    }

    fn events(&self) -> Arc<dyn EventsStore> {
        self.get(
            |o| &mut o.events,
            || SqliteEvents::open(&self.path("events.db")).map(|s| Arc::new(s) as _),
        )
    }

    fn lake(&self) -> Arc<dyn LakeStore> {
        self.get(
            |o| &mut o.lake,
            || SqliteLake::open(&self.path("lake.db")).map(|s| Arc::new(s) as _),
        )
    }

    fn console(&self) -> Arc<dyn ConsoleStore> {
        // A single node keeps console sessions in memory (see `cairn_edge::app::Stores::open`).
        self.get(
            |o| &mut o.console,
            || Ok::<_, std::convert::Infallible>(Arc::new(MemoryConsole::new()) as Arc<_>),
        )
    }
    fn restart(&self) {
        *self.open.lock().unwrap_or_else(|p| p.into_inner()) = Open::default();
    }
}

#[cfg(test)]
mod tests {
    //! The embedded backend passes the shared suite, one test per store.

    use super::SqliteBackend;
    use crate::suite::{self, run};

    #[test]
    fn events() {
        run(suite::events::CASES, &SqliteBackend::boxed);
    }

    #[test]
    fn lake() {
        run(suite::lake::CASES, &SqliteBackend::boxed);
    }

    #[test]
    fn journal() {
        run(suite::journal::CASES, &SqliteBackend::boxed);
    }

    #[test]
    fn history() {
        run(suite::history::CASES, &SqliteBackend::boxed);
    }

    #[test]
    fn identity() {
        run(suite::identity::CASES, &SqliteBackend::boxed);
    }

    #[test]
    fn kms() {
        run(suite::kms::CASES, &SqliteBackend::boxed);
    }

    #[test]
    fn organizations() {
        run(suite::organizations::CASES, &SqliteBackend::boxed);
    }

    #[test]
    fn detections() {
        run(suite::detections::CASES, &SqliteBackend::boxed);
    }

    #[test]
    fn labs() {
        run(suite::labs::CASES, &SqliteBackend::boxed);
    }

    #[test]
    fn logs() {
        run(suite::logs::CASES, &SqliteBackend::boxed);
    }

    #[test]
    fn metrics() {
        run(suite::metrics::CASES, &SqliteBackend::boxed);
    }

    #[test]
    fn objects() {
        run(suite::objects::CASES, &SqliteBackend::boxed);
    }

    #[test]
    fn sqs() {
        run(suite::sqs::CASES, &SqliteBackend::boxed);
    }

    #[test]
    fn trails() {
        run(suite::trails::CASES, &SqliteBackend::boxed);
    }

    #[test]
    fn sns() {
        run(suite::sns::CASES, &SqliteBackend::boxed);
    }

    #[test]
    fn lambda() {
        run(suite::lambda::CASES, &SqliteBackend::boxed);
    }

    #[test]
    fn console() {
        run(suite::console::CASES, &SqliteBackend::boxed);
    }

    #[test]
    fn calls() {
        run(suite::calls::CASES, &SqliteBackend::boxed);
    }
}
