//! The application: everything a request handler may touch, shared by all connections, and
//! the one place it is built. `cairn serve`, the benchmarks and the tests all open an
//! instance's stores with [`Stores::open`] and assemble it with [`App::build`].
//!
//! The application holds each store as its trait (`Arc<dyn …>`): services never name a
//! backend. [`Stores::open`] is the one place that picks the embedded one (the segment-log
//! journal and SQLite for the rest); a second backend is a second constructor here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use cairn_model::Clock;
use cairn_store::StoreError;
use cairn_store::console::{ConsoleStore, MemoryConsole};
use cairn_store::detections::{DetectionsStore, SqliteDetections};
use cairn_store::events::{EventsStore, SqliteEvents};
use cairn_store::history::{FollowingIndex, HistoryIndex, SqliteHistory};
use cairn_store::identity::{IdentityStore, SqliteIdentity};
use cairn_store::journal::{Journal, JournalConfig, Leases, SegmentJournal, Solo};
use cairn_store::kms::{KmsStore, SqliteKms};
use cairn_store::labs::{LabsStore, SqliteLabs};
use cairn_store::lake::{Columnar, LakeStore, NoColumnar, SqliteLake};
use cairn_store::lambda::{LambdaStore, SqliteLambda};
use cairn_store::logs::{LogsStore, SqliteLogs};
use cairn_store::metrics::{MetricsStore, SqliteMetrics};
use cairn_store::objects::{ObjectStore, SqliteObjects};
use cairn_store::organizations::{OrganizationsStore, SqliteOrganizations};
use cairn_store::sns::{SnsStore, SqliteSns};
use cairn_store::sqs::{SqliteSqs, SqsStore};
use cairn_store::trails::{SqliteTrails, TrailStore};
use cairn_trail::keys::KeyRing;
use cairn_trail::sink::ExternalBucket;

use crate::pipeline::Registry;
use crate::pipeline::quick::QuickWorkers;

pub struct App {
    pub journal: Arc<dyn Journal>,
    pub history: Arc<dyn HistoryIndex>,
    pub identity: Arc<dyn IdentityStore>,
    /// The embedded S3 store.
    pub objects: Arc<dyn ObjectStore>,
    pub trails: Arc<dyn TrailStore>,
    /// Buckets on other S3-compatible endpoints, by name; trails deliver there instead.
    pub external_buckets: Arc<BTreeMap<String, ExternalBucket>>,
    /// Digest signing keys, per region.
    pub keys: Arc<KeyRing>,
    /// KMS keys and aliases.
    pub kms: Arc<dyn KmsStore>,
    /// AWS Organizations: organizations, their members and service control policies.
    pub organizations: Arc<dyn OrganizationsStore>,
    /// The detection engine's findings and its cursor into the journal.
    pub detections: Arc<dyn DetectionsStore>,
    /// Each account's progress through the labs (`cairn lab`).
    pub labs: Arc<dyn LabsStore>,
    /// CloudWatch Logs groups, streams, events and metric filters.
    pub logs: Arc<dyn LogsStore>,
    pub metrics: Arc<dyn MetricsStore>,
    /// SQS queues and messages.
    pub sqs: Arc<dyn SqsStore>,
    /// SNS topics, subscriptions and pending deliveries.
    pub sns: Arc<dyn SnsStore>,
    /// Lambda functions, their code and queued asynchronous invocations.
    pub lambda: Arc<dyn LambdaStore>,
    /// Runs Lambda functions' code.
    pub functions: Arc<cairn_functions::Executor>,
    /// Removes the functions' work directory when the application goes, after the executor
    /// above has stopped its processes (fields drop in order).
    _functions_root: WorkRoot,
    /// EventBridge buses, rules, targets, events put on buses and pending deliveries.
    pub events: Arc<dyn EventsStore>,
    /// CloudTrail Lake's event data stores, queries, imports and channels.
    pub lake: Arc<dyn LakeStore>,
    /// The events of event data stores, as columns, and SQL over them.
    pub columnar: Arc<dyn Columnar>,
    /// The web console's sessions and failed sign-ins.
    pub console: Arc<dyn ConsoleStore>,
    /// Where the columnar engine keeps event data stores' files (`<data>/lake`).
    pub lake_dir: PathBuf,
    pub clock: Arc<dyn Clock>,
    /// How far back event history reaches; `None` keeps everything.
    pub history_retention_ms: Option<i64>,
    /// Makes pagination tokens tamper-proof.
    pub token_key: Vec<u8>,
    /// Principals' parsed identity policies.
    pub grants: crate::authz::GrantCache,
    /// The service control policies that apply to each account, while they stand still.
    pub scps: crate::authz::ScpCache,
    /// The services this application serves: the edge routes to them and internal calls
    /// reach them through it.
    pub registry: Arc<Registry>,
    /// Threads that run quick operations' calls (see [`crate::pipeline::quick`]).
    pub quick: QuickWorkers,
}

/// Where an instance keeps its stores, under one directory.
#[derive(Clone, Debug)]
pub struct Layout {
    pub root: PathBuf,
}

impl Layout {
    pub fn new(root: &Path) -> Layout {
        Layout {
            root: root.to_owned(),
        }
    }
    pub fn journal(&self) -> PathBuf {
        self.root.join("journal")
    }
    pub fn history_db(&self) -> PathBuf {
        self.root.join("history.db")
    }
    pub fn identity_db(&self) -> PathBuf {
        self.root.join("identity.db")
    }
    pub fn s3(&self) -> PathBuf {
        self.root.join("s3")
    }
    pub fn trails_db(&self) -> PathBuf {
        self.root.join("trails.db")
    }
    pub fn kms_db(&self) -> PathBuf {
        self.root.join("kms.db")
    }
    pub fn organizations_db(&self) -> PathBuf {
        self.root.join("organizations.db")
    }
    pub fn detections_db(&self) -> PathBuf {
        self.root.join("detections.db")
    }
    pub fn labs_db(&self) -> PathBuf {
        self.root.join("labs.db")
    }
    pub fn logs_db(&self) -> PathBuf {
        self.root.join("logs.db")
    }
    pub fn sns_db(&self) -> PathBuf {
        self.root.join("sns.db")
    }
    /// Where email and email-json subscriptions' messages are written, as `.eml` files.
    pub fn mailbox(&self) -> PathBuf {
        self.root.join("mailbox")
    }

    pub fn metrics_db(&self) -> PathBuf {
        self.root.join("metrics.db")
    }

    pub fn events_db(&self) -> PathBuf {
        self.root.join("events.db")
    }

    pub fn sqs_db(&self) -> PathBuf {
        self.root.join("sqs.db")
    }

    pub fn lambda_db(&self) -> PathBuf {
        self.root.join("lambda.db")
    }

    pub fn lake_db(&self) -> PathBuf {
        self.root.join("lake.db")
    }

    /// Event data stores' columnar files, one folder per store.
    pub fn lake(&self) -> PathBuf {
        self.root.join("lake")
    }

    pub fn kms_master_key(&self) -> PathBuf {
        self.root.join("kms.key")
    }
    pub fn signing_master_key(&self) -> PathBuf {
        self.root.join("signing.key")
    }
}

/// A store that would not open, and where.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("opening {path}: {source}")]
    Store { path: PathBuf, source: StoreError },
    #[error("opening {schema} in the database: {source}")]
    Database { schema: String, source: StoreError },
    #[error("opening the S3 store in {path}: {source}")]
    Objects {
        path: PathBuf,
        source: cairn_store::objects::ObjectsError,
    },
    #[error("opening the digest signing keys: {0}")]
    SigningKeys(String),
    #[error("making the functions' work directory {path}: {source}")]
    FunctionsDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("keeping the node's name in {path}: {source}")]
    NodeId {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("starting the pipeline's quick workers: {0}")]
    QuickWorkers(std::io::Error),
}

fn at(path: PathBuf) -> impl FnOnce(StoreError) -> OpenError {
    move |source| OpenError::Store { path, source }
}

/// An instance's stores, wired together: the journal's commit hook feeds the event-history
/// index (which first catches up with anything it has not seen, and which every read finds
/// current with the calls answered before it).
pub struct Stores {
    pub journal: Arc<dyn Journal>,
    pub history: Arc<dyn HistoryIndex>,
    pub identity: Arc<dyn IdentityStore>,
    pub objects: Arc<dyn ObjectStore>,
    pub trails: Arc<dyn TrailStore>,
    pub kms: Arc<dyn KmsStore>,
    pub organizations: Arc<dyn OrganizationsStore>,
    pub detections: Arc<dyn DetectionsStore>,
    pub labs: Arc<dyn LabsStore>,
    pub logs: Arc<dyn LogsStore>,
    pub metrics: Arc<dyn MetricsStore>,
    pub sqs: Arc<dyn SqsStore>,
    pub sns: Arc<dyn SnsStore>,
    pub lambda: Arc<dyn LambdaStore>,
    pub events: Arc<dyn EventsStore>,
    pub lake: Arc<dyn LakeStore>,
    /// The web console's sessions and failed sign-ins: in memory on a single node (a restart
    /// signs everyone out), in the database for a cluster (any node serves any page).
    pub console: Arc<dyn ConsoleStore>,
    /// Set when the index missed a commit and needs a catch-up pass.
    pub history_behind: Arc<AtomicBool>,
    /// Notified after every journal commit (on a cluster, every node's): consumers that react
    /// to calls (EventBridge's router) wake on it instead of waiting for their next tick.
    pub commits: Arc<crate::commits::Commits>,
    /// Which node runs each journal consumer: this one alone in the embedded mode; one node
    /// of a cluster at a time, by leases in the database.
    pub leases: Arc<dyn Leases>,
    /// This node's name among the holders of leases: the machine's and its directory's
    /// (`node.id`), the same across restarts; one running process at a time holds it.
    pub node: String,
}

/// The journal's commit hook: the event-history index's, then a nudge to whoever waits on
/// [`Stores::commits`].
pub(crate) struct Nudging {
    pub(crate) inner: Box<dyn cairn_store::journal::CommitHook>,
    pub(crate) commits: Arc<crate::commits::Commits>,
}

impl cairn_store::journal::CommitHook for Nudging {
    fn committed(&mut self, entries: Vec<(u64, Vec<u8>)>, end: u64) {
        self.inner.committed(entries, end);
        self.commits.committed();
    }
}

impl Stores {
    /// Opens (creating) every store under `layout`; `progress(done, total)` follows the
    /// event-history catch-up, which can be long after an import or a crash.
    pub fn open(
        layout: &Layout,
        journal: JournalConfig,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<Stores, OpenError> {
        let identity: Arc<dyn IdentityStore> = Arc::new(
            SqliteIdentity::open(&layout.identity_db()).map_err(at(layout.identity_db()))?,
        );
        let behind = Arc::new(AtomicBool::new(false));
        let commits = crate::commits::Commits::new();
        let sqlite: Arc<dyn HistoryIndex> =
            Arc::new(SqliteHistory::open(&layout.history_db()).map_err(at(layout.history_db()))?);
        let following =
            FollowingIndex::new(sqlite, Arc::clone(&behind)).map_err(at(layout.history_db()))?;
        let journal: Arc<dyn Journal> = Arc::new(
            SegmentJournal::open(
                &layout.journal(),
                journal,
                Box::new(Nudging {
                    inner: following.hook().map_err(at(layout.journal()))?,
                    commits: Arc::clone(&commits),
                }),
            )
            .map_err(at(layout.journal()))?,
        );
        following.follow(&journal);
        let history: Arc<dyn HistoryIndex> = following;
        let start = history.cursor().map_err(at(layout.history_db()))?;
        let total = journal.head().saturating_sub(start);
        if total > 0 {
            history
                .catch_up(&*journal, &mut |pos, _| {
                    progress(pos.saturating_sub(start), total)
                })
                .map_err(at(layout.history_db()))?;
        }
        Ok(Stores {
            objects: Arc::new(SqliteObjects::open(&layout.s3()).map_err(|source| {
                OpenError::Objects {
                    path: layout.s3(),
                    source,
                }
            })?),
            trails: Arc::new(
                SqliteTrails::open(&layout.trails_db()).map_err(at(layout.trails_db()))?,
            ),
            kms: Arc::new(
                SqliteKms::open(&layout.kms_db(), &layout.kms_master_key())
                    .map_err(at(layout.kms_db()))?,
            ),
            organizations: Arc::new(
                SqliteOrganizations::open(&layout.organizations_db())
                    .map_err(at(layout.organizations_db()))?,
            ),
            detections: Arc::new(
                SqliteDetections::open(&layout.detections_db())
                    .map_err(at(layout.detections_db()))?,
            ),
            labs: Arc::new(SqliteLabs::open(&layout.labs_db()).map_err(at(layout.labs_db()))?),
            logs: Arc::new(SqliteLogs::open(&layout.logs_db()).map_err(at(layout.logs_db()))?),
            metrics: Arc::new(
                SqliteMetrics::open(&layout.metrics_db()).map_err(at(layout.metrics_db()))?,
            ),
            sqs: Arc::new(SqliteSqs::open(&layout.sqs_db()).map_err(at(layout.sqs_db()))?),
            sns: Arc::new(SqliteSns::open(&layout.sns_db()).map_err(at(layout.sns_db()))?),
            lambda: Arc::new(
                SqliteLambda::open(&layout.lambda_db()).map_err(at(layout.lambda_db()))?,
            ),
            events: Arc::new(
                SqliteEvents::open(&layout.events_db()).map_err(at(layout.events_db()))?,
            ),
            lake: Arc::new(SqliteLake::open(&layout.lake_db()).map_err(at(layout.lake_db()))?),
            console: Arc::new(MemoryConsole::new()),
            journal,
            history,
            identity,
            history_behind: behind,
            commits,
            leases: Arc::new(Solo),
            node: "embedded".to_owned(),
        })
    }
}

/// How an instance behaves, beyond its stores.
pub struct Options {
    pub clock: Arc<dyn Clock>,
    pub history_retention_ms: Option<i64>,
    pub external_buckets: Vec<ExternalBucket>,
    /// How long each digest signing key is valid (`None`: AWS's 30 days).
    pub signing_key_validity_ms: Option<i64>,
    /// How Lambda functions run (`None`: `python3`, a work directory of its own under the
    /// system's temporary directory, each as a user of its own when cairn runs as root).
    pub functions: Option<cairn_functions::ExecutorConfig>,
    /// Directories after a Python function's code on `PYTHONPATH`: the runtime's own packages
    /// (boto3, awslambdaric), as `/var/runtime` on AWS.
    pub functions_python_path: Vec<PathBuf>,
    /// The columnar engine for event data stores (`None`: none; Lake's queries are refused).
    pub columnar: Option<Arc<dyn Columnar>>,
}

impl Options {
    /// The wall clock, 90 days of history, no external buckets.
    pub fn new(clock: Arc<dyn Clock>) -> Options {
        Options {
            clock,
            history_retention_ms: Some(90 * 86_400_000),
            external_buckets: Vec::new(),
            signing_key_validity_ms: None,
            functions: None,
            functions_python_path: Vec::new(),
            columnar: None,
        }
    }
}

impl App {
    /// The application over opened stores, serving the services of `registry`
    /// (the `registry()` of `cairn-services`).
    pub fn build(
        stores: &Stores,
        layout: &Layout,
        registry: Registry,
        options: Options,
    ) -> Result<App, OpenError> {
        let keys = KeyRing::open(
            Arc::clone(&stores.trails),
            Arc::clone(&options.clock),
            &layout.signing_master_key(),
        )
        .map_err(|e| OpenError::SigningKeys(e.to_string()))?;
        let keys = match options.signing_key_validity_ms {
            Some(ms) => keys.with_validity(ms),
            None => keys,
        };
        let functions = match options.functions {
            Some(c) => c,
            None => default_functions(Path::new("python3")),
        };
        // Functions running as another user (nobody) must traverse it, but not list it.
        let mode = if functions.run_as.is_some() {
            0o711
        } else {
            0o700
        };
        if let Some(parent) = functions.work_root.parent() {
            sweep_abandoned_work_roots(parent);
        }
        let made_here = !functions.work_root.exists();
        let dir_err = |source| OpenError::FunctionsDir {
            path: functions.work_root.clone(),
            source,
        };
        make_private_dir(&functions.work_root, mode).map_err(dir_err)?;
        let functions_root = WorkRoot {
            path: functions.work_root.clone(),
            made_here,
            _in_use: hold_in_use(&functions.work_root).map_err(dir_err)?,
        };
        let token_key = stores
            .identity
            .instance_secret("pagination-token")
            .map_err(at(layout.identity_db()))?;
        Ok(App {
            journal: Arc::clone(&stores.journal),
            history: Arc::clone(&stores.history),
            identity: Arc::clone(&stores.identity),
            objects: Arc::clone(&stores.objects),
            trails: Arc::clone(&stores.trails),
            keys: Arc::new(keys),
            kms: Arc::clone(&stores.kms),
            organizations: Arc::clone(&stores.organizations),
            detections: Arc::clone(&stores.detections),
            labs: Arc::clone(&stores.labs),
            logs: Arc::clone(&stores.logs),
            metrics: Arc::clone(&stores.metrics),
            sqs: Arc::clone(&stores.sqs),
            sns: Arc::clone(&stores.sns),
            lambda: Arc::clone(&stores.lambda),
            functions: Arc::new(
                cairn_functions::Executor::new(functions)
                    .with_python_path(options.functions_python_path),
            ),
            _functions_root: functions_root,
            events: Arc::clone(&stores.events),
            lake: Arc::clone(&stores.lake),
            console: Arc::clone(&stores.console),
            columnar: options
                .columnar
                .unwrap_or_else(|| Arc::new(NoColumnar) as Arc<dyn Columnar>),
            lake_dir: layout.lake(),
            external_buckets: Arc::new(
                options
                    .external_buckets
                    .into_iter()
                    .map(|b| (b.name.clone(), b))
                    .collect(),
            ),
            clock: options.clock,
            history_retention_ms: options.history_retention_ms,
            token_key,
            grants: Default::default(),
            scps: Default::default(),
            registry: Arc::new(registry),
            // A cluster's stores answer over the network: more workers wait on it at once.
            quick: QuickWorkers::start(stores.leases.shared()).map_err(OpenError::QuickWorkers)?,
        })
    }
}

/// The executor's configuration for an instance: functions run with `python`, in a work
/// directory of their own under the system's temporary directory (never under the data
/// directory, which their processes must not reach), unprivileged when cairn runs as
/// root: the executor gives each function a uid of its own, with nogroup (65534) as its group.
pub fn default_functions(python: &Path) -> cairn_functions::ExecutorConfig {
    use std::os::unix::fs::MetadataExt;
    let unique = format!(
        "{WORK_ROOT_PREFIX}{}-{}",
        std::process::id(),
        cairn_model::ids::new_uuid()
    );
    let root = std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false);
    cairn_functions::ExecutorConfig {
        work_root: std::env::temp_dir().join(unique),
        python: python.to_owned(),
        max_concurrency: 64,
        run_as: root.then_some((65534, 65534)),
    }
}

/// Names of the functions' work directories made under the temporary directory.
const WORK_ROOT_PREFIX: &str = "cairn-functions-";

/// A file in a work directory that the instance using it keeps locked: the kernel lets the
/// lock go when the process ends, however it ends.
const IN_USE: &str = ".in-use";

/// The functions' work directory; removed on drop when this application made it.
struct WorkRoot {
    path: PathBuf,
    made_here: bool,
    /// Held locked for as long as the directory is in use.
    _in_use: std::fs::File,
}

/// Locks a work directory's in-use file for as long as the returned file is kept. The file is
/// locked under a name of its own first and then renamed: a sweeper never finds it unlocked.
fn hold_in_use(work_root: &Path) -> std::io::Result<std::fs::File> {
    let in_use =
        || std::io::Error::other("another running cairn uses this functions work directory");
    if let Ok(current) = std::fs::OpenOptions::new()
        .write(true)
        .open(work_root.join(IN_USE))
        && let Err(std::fs::TryLockError::WouldBlock) = current.try_lock()
    {
        return Err(in_use());
    }
    let staged = work_root.join(format!("{IN_USE}-{}", std::process::id()));
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&staged)?;
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Err(in_use()),
        Err(std::fs::TryLockError::Error(e)) => return Err(e),
    }
    std::fs::rename(&staged, work_root.join(IN_USE))?;
    Ok(f)
}

/// Removes the work directories that instances killed before they could remove their own left
/// under `temp` (kill -9, a crash, a power loss): those whose in-use lock nobody holds. A
/// directory without the file (being made this very moment, or by an older version) is left.
fn sweep_abandoned_work_roots(temp: &Path) {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(WORK_ROOT_PREFIX) {
            continue;
        }
        let dir = entry.path();
        let Ok(f) = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join(IN_USE))
        else {
            continue;
        };
        if f.try_lock().is_ok() {
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => {
                    tracing::debug!(dir = %dir.display(), "removed an abandoned functions work directory")
                }
                Err(e) => {
                    tracing::debug!(dir = %dir.display(), error = %e, "could not remove an abandoned functions work directory")
                }
            }
        }
    }
}

impl Drop for WorkRoot {
    fn drop(&mut self) {
        if self.made_here
            && let Err(e) = std::fs::remove_dir_all(&self.path)
        {
            tracing::warn!(path = %self.path.display(), error = %e, "could not remove the functions' work directory");
        }
    }
}

/// Creates a directory only its owner may list (`mode` 0700, or 0711 to let others traverse).
fn make_private_dir(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_directories_of_instances_that_are_gone_are_swept_and_live_ones_kept() {
        let temp = tempfile::tempdir().expect("temp");
        let dir = |name: &str| {
            let d = temp.path().join(name);
            std::fs::create_dir(&d).expect("mkdir");
            std::fs::write(d.join("bootstrap.py"), b"#").expect("file");
            d
        };
        let live = dir("cairn-functions-1-live");
        let _held = hold_in_use(&live).expect("lock");
        let gone = dir("cairn-functions-2-gone");
        // What a killed instance leaves: the file, with nobody holding its lock.
        drop(hold_in_use(&gone).expect("lock"));
        let being_made = dir("cairn-functions-3-new");
        let other = dir("not-cairn");
        std::fs::write(other.join(IN_USE), b"").expect("file");

        sweep_abandoned_work_roots(temp.path());

        assert!(
            live.join("bootstrap.py").exists(),
            "a live instance's directory is kept"
        );
        assert!(!gone.exists(), "an abandoned directory is removed");
        assert!(
            being_made.exists(),
            "a directory without its in-use file is left"
        );
        assert!(other.exists(), "only cairn's directories are looked at");
        // A second instance cannot take a directory in use.
        assert!(hold_in_use(&live).is_err());
    }
}
