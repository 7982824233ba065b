//! PostgreSQL under the shared suite: a server from Debian's `postgresql` package, started for
//! the test (initdb in a temporary directory, a free port on 127.0.0.1, a socket in that
//! directory, stopped when the fixture is dropped), and each case in a schema of its own.

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::Backend;
use crate::console::{ConsoleStore, PgConsole};
use crate::detections::{DetectionsStore, PgDetections};
use crate::events::{EventsStore, PgEvents};
use crate::history::{HistoryIndex, PgHistory};
use crate::identity::{IdentityStore, PgIdentity};
use crate::journal::{Journal, NoHook, PgJournal};
use crate::kms::{KmsStore, PgKms};
use crate::labs::{LabsStore, PgLabs};
use crate::lake::{LakeStore, PgLake};
use crate::lambda::{LambdaStore, PgLambda};
use crate::logs::{LogsStore, PgLogs};
use crate::metrics::{MetricsStore, PgMetrics};
use crate::objects::{ObjectStore, PgObjects};
use crate::organizations::{OrganizationsStore, PgOrganizations};
use crate::sns::{PgSns, SnsStore};
use crate::sqs::{PgSqs, SqsStore};
use crate::trails::{PgTrails, TrailStore};

/// A PostgreSQL server of the test's own.
pub struct TestPostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// The unprivileged user it runs as when the test runs as root (initdb refuses root).
    user: Option<(u32, u32)>,
}

/// Where Debian's package puts `initdb` and `pg_ctl` (they are not on PATH), newest first.
fn postgres_bin() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|b| b.join("initdb").is_file() && b.join("pg_ctl").is_file())
        .collect();
    found.sort_by_key(|b| {
        b.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop()
}

/// The uid and gid of the `postgres` user Debian's package makes.
fn postgres_user() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.first() == Some(&"postgres") && f.len() > 3)
            .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
            .flatten()
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

impl TestPostgres {
    /// # Panics
    /// If PostgreSQL is not installed (`scripts/postgres` installs it) or does not start.
    pub fn start() -> TestPostgres {
        let bin = postgres_bin().expect(
            "PostgreSQL's initdb and pg_ctl under /usr/lib/postgresql (Debian's postgresql package: run scripts/postgres)",
        );
        let dir = tempfile::tempdir().expect("a temporary directory for PostgreSQL");
        let root = std::fs::metadata("/proc/self")
            .map(|m| m.uid() == 0)
            .unwrap_or(false);
        let user = if root {
            let (uid, gid) = postgres_user().expect("the postgres user of Debian's package");
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .expect("giving the temporary directory to the postgres user");
            Some((uid, gid))
        } else {
            None
        };
        let pg = TestPostgres {
            dir,
            bin,
            port: free_port(),
            user,
        };
        let data = pg.data();
        pg.run(
            "initdb",
            &[
                "-D",
                path_str(&data),
                "-U",
                "cairn",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        pg.start_server();
        pg
    }

    fn start_server(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c max_connections=200",
            self.port,
            path_str(self.dir.path())
        );
        let data = self.data();
        let log = self.dir.path().join("postgres.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                path_str(&data),
                "-l",
                path_str(&log),
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
    }

    /// Stops the server at once, as a crash would (connections drop; committed data stays).
    pub fn stop(&self) {
        let data = self.data();
        self.run(
            "pg_ctl",
            &["-D", path_str(&data), "-m", "immediate", "-w", "stop"],
        );
    }

    /// Starts the server again after [`TestPostgres::stop`], on the same port.
    pub fn start_again(&self) {
        self.start_server();
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, tool: &str) -> Command {
        let mut c = Command::new(self.bin.join(tool));
        if let Some((uid, gid)) = self.user {
            c.uid(uid).gid(gid);
        }
        c.current_dir(self.dir.path());
        c
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let out = self
            .command(tool)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("running {tool}: {e}"));
        assert!(
            out.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// How stores connect to it.
    pub fn url(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=cairn dbname=postgres",
            self.port
        )
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("a temporary path in UTF-8")
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl")
            .args(["-D", path_str(&data), "-m", "immediate", "-w", "stop"])
            .output();
    }
}

/// The stores on PostgreSQL, in a fresh schema of `server`.
pub struct PgBackend {
    url: String,
    schema: String,
    /// The master key file sealing secrets (shared by every node of a deployment), and the
    /// S3 store's bodies.
    keys: tempfile::TempDir,
    journal: Mutex<Option<Arc<dyn Journal>>>,
    events: Mutex<Option<Arc<dyn EventsStore>>>,
    history: Mutex<Option<Arc<dyn HistoryIndex>>>,
    identity: Mutex<Option<Arc<dyn IdentityStore>>>,
    kms: Mutex<Option<Arc<dyn KmsStore>>>,
    organizations: Mutex<Option<Arc<dyn OrganizationsStore>>>,
    detections: Mutex<Option<Arc<dyn DetectionsStore>>>,
    labs: Mutex<Option<Arc<dyn LabsStore>>>,
    lake: Mutex<Option<Arc<dyn LakeStore>>>,
    lambda: Mutex<Option<Arc<dyn LambdaStore>>>,
    logs: Mutex<Option<Arc<dyn LogsStore>>>,
    objects: Mutex<Option<Arc<dyn ObjectStore>>>,
    metrics: Mutex<Option<Arc<dyn MetricsStore>>>,
    sns: Mutex<Option<Arc<dyn SnsStore>>>,
    sqs: Mutex<Option<Arc<dyn SqsStore>>>,
    trails: Mutex<Option<Arc<dyn TrailStore>>>,
    console: Mutex<Option<Arc<dyn ConsoleStore>>>,
}

static SCHEMAS: AtomicUsize = AtomicUsize::new(0);

impl PgBackend {
    pub fn new(server: &TestPostgres) -> PgBackend {
        PgBackend {
            url: server.url(),
            schema: format!(
                "suite_{}_{}",
                std::process::id(),
                SCHEMAS.fetch_add(1, Ordering::Relaxed)
            ),
            keys: tempfile::tempdir().expect("a temporary directory for the master key"),
            journal: Mutex::new(None),
            events: Mutex::new(None),
            history: Mutex::new(None),
            identity: Mutex::new(None),
            kms: Mutex::new(None),
            organizations: Mutex::new(None),
            detections: Mutex::new(None),
            labs: Mutex::new(None),
            lake: Mutex::new(None),
            lambda: Mutex::new(None),
            logs: Mutex::new(None),
            objects: Mutex::new(None),
            metrics: Mutex::new(None),
            sns: Mutex::new(None),
            sqs: Mutex::new(None),
            trails: Mutex::new(None),
            console: Mutex::new(None),
        }
    }
}

impl Backend for PgBackend {
    fn journal(&self) -> Arc<dyn Journal> {
        let mut slot = self.journal.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(j) = slot.as_ref() {
            return Arc::clone(j);
        }
        // Small partitions, so that reads cross them and purging has some to drop.
        let j: Arc<dyn Journal> = Arc::new(
            PgJournal::open(&self.url, &self.schema, 16, Box::new(NoHook))
                .unwrap_or_else(|e| panic!("opening the journal on PostgreSQL: {e}")),
        );
        *slot = Some(Arc::clone(&j));
        j
    }
    fn history(&self) -> Arc<dyn HistoryIndex> {
        let mut slot = self.history.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(h) = slot.as_ref() {
            return Arc::clone(h);
        }
        let h: Arc<dyn HistoryIndex> = Arc::new(
            PgHistory::open(&self.url, &self.schema)
                .unwrap_or_else(|e| panic!("opening event history on PostgreSQL: {e}")),
        );
        *slot = Some(Arc::clone(&h));
        h
    }
    fn identity(&self) -> Arc<dyn IdentityStore> {
        let mut slot = self.identity.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref() {
            return Arc::clone(s);
        }
        let s: Arc<dyn IdentityStore> = Arc::new(
            PgIdentity::open(
                &self.url,
                &self.schema,
                &self.keys.path().join("identity.key"),
            )
            .unwrap_or_else(|e| panic!("opening the identity store on PostgreSQL: {e}")),
        );
        *slot = Some(Arc::clone(&s));
        s
    }
    fn kms(&self) -> Arc<dyn KmsStore> {
        let mut slot = self.kms.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref() {
            return Arc::clone(s);
        }
        let s: Arc<dyn KmsStore> = Arc::new(
            PgKms::open(&self.url, &self.schema, &self.keys.path().join("kms.key"))
                .unwrap_or_else(|e| panic!("opening the KMS store on PostgreSQL: {e}")),
        );
        *slot = Some(Arc::clone(&s));
        s
    }
    fn detections(&self) -> Arc<dyn DetectionsStore> {
        let mut slot = self.detections.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref() {
            return Arc::clone(s);
        }
        let s: Arc<dyn DetectionsStore> = Arc::new(
            PgDetections::open(&self.url, &self.schema)
                .unwrap_or_else(|e| panic!("opening the detections store on PostgreSQL: {e}")),
        );
        *slot = Some(Arc::clone(&s));
        s
    }
    fn labs(&self) -> Arc<dyn LabsStore> {
        let mut slot = self.labs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref() {
            return Arc::clone(s);
        }
        let s: Arc<dyn LabsStore> = Arc::new(
            PgLabs::open(&self.url, &self.schema)
                .unwrap_or_else(|e| panic!("opening the labs store on PostgreSQL: {e}")),
        );
        *slot = Some(Arc::clone(&s));
        s
    }
    fn organizations(&self) -> Arc<dyn OrganizationsStore> {
        let mut slot = self.organizations.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref() {
            return Arc::clone(s);
        }
        let s: Arc<dyn OrganizationsStore> = Arc::new(
            PgOrganizations::open(&self.url, &self.schema)
                .unwrap_or_else(|e| panic!("opening the Organizations store on PostgreSQL: {e}")),
        );
        *slot = Some(Arc::clone(&s));
        s
    }
    fn logs(&self) -> Arc<dyn LogsStore> {
        let mut slot = self.logs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref() {
            return Arc::clone(s);
        }
        let s: Arc<dyn LogsStore> = Arc::new(
            PgLogs::open(&self.url, &self.schema)
                .unwrap_or_else(|e| panic!("opening the Logs store on PostgreSQL: {e}")),
        );
        *slot = Some(Arc::clone(&s));
        s
    }
    fn metrics(&self) -> Arc<dyn MetricsStore> {
        let mut slot = self.metrics.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref() {
            return Arc::clone(s);
        }
        let s: Arc<dyn MetricsStore> = Arc::new(
            PgMetrics::open(&self.url, &self.schema)
                .unwrap_or_else(|e| panic!("opening the metrics store on PostgreSQL: {e}")),
        );
        *slot = Some(Arc::clone(&s));
        s
    }
    fn objects(&self) -> Arc<dyn ObjectStore> {
        let mut slot = self.objects.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref() {
            return Arc::clone(s);
        }
        // Bodies stay on this machine's disk for now, beside the master keys.
        let s: Arc<dyn ObjectStore> = Arc::new(
            PgObjects::open(&self.url, &self.schema, &self.keys.path().join("s3-bodies"))
                .unwrap_or_else(|e| panic!("opening the S3 store on PostgreSQL: {e}")),
        );
        *slot = Some(Arc::clone(&s));
        s
    }
    fn sqs(&self) -> Arc<dyn SqsStore> {
        let mut slot = self.sqs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref() {
            return Arc::clone(s);
        }
        let s: Arc<dyn SqsStore> = Arc::new(
            PgSqs::open(&self.url, &self.schema)
                .unwrap_or_else(|e| panic!("opening the SQS store on PostgreSQL: {e}")),
        );
        *slot = Some(Arc::clone(&s));
        s
    }
    fn trails(&self) -> Arc<dyn TrailStore> {
        let mut slot = self.trails.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref() {
            return Arc::clone(s);
        }
        let s: Arc<dyn TrailStore> = Arc::new(
            PgTrails::open(&self.url, &self.schema)
                .unwrap_or_else(|e| panic!("opening the trail store on PostgreSQL: {e}")),
        );
        *slot = Some(Arc::clone(&s));
        s
    }
    fn sns(&self) -> Arc<dyn SnsStore> {
        let mut slot = self.sns.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref() {
            return Arc::clone(s);
        }
        let s: Arc<dyn SnsStore> = Arc::new(
            PgSns::open(&self.url, &self.schema)
                .unwrap_or_else(|e| panic!("opening the SNS store on PostgreSQL: {e}")),
        );
        *slot = Some(Arc::clone(&s));
        s
    }
    fn lambda(&self) -> Arc<dyn LambdaStore> {
        let mut slot = self.lambda.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref() {
            return Arc::clone(s);
        }
        let s: Arc<dyn LambdaStore> = Arc::new(
            PgLambda::open(&self.url, &self.schema)
                .unwrap_or_else(|e| panic!("opening the Lambda store on PostgreSQL: {e}")),
        );
        *slot = Some(Arc::clone(&s));
        s
    }
    fn events(&self) -> Arc<dyn EventsStore> {
        let mut slot = self.events.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref() {
            return Arc::clone(s);
        }
        let s: Arc<dyn EventsStore> = Arc::new(
            PgEvents::open(&self.url, &self.schema)
                .unwrap_or_else(|e| panic!("opening the EventBridge store on PostgreSQL: {e}")),
        );
        *slot = Some(Arc::clone(&s));
        s
    }
    fn lake(&self) -> Arc<dyn LakeStore> {
        let mut slot = self.lake.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref() {
            return Arc::clone(s);
        }
        let s: Arc<dyn LakeStore> = Arc::new(
            PgLake::open(&self.url, &self.schema)
                .unwrap_or_else(|e| panic!("opening the lake store on PostgreSQL: {e}")),
        );
        *slot = Some(Arc::clone(&s));
        s
    }
    fn console(&self) -> Arc<dyn ConsoleStore> {
        let mut slot = self.console.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref() {
            return Arc::clone(s);
        }
        let s: Arc<dyn ConsoleStore> = Arc::new(
            PgConsole::open(&self.url, &self.schema)
                .unwrap_or_else(|e| panic!("opening the console store on PostgreSQL: {e}")),
        );
        *slot = Some(Arc::clone(&s));
        s
    }
    fn restart(&self) {
        *self.console.lock().unwrap_or_else(|p| p.into_inner()) = None;
        *self.journal.lock().unwrap_or_else(|p| p.into_inner()) = None;
        *self.events.lock().unwrap_or_else(|p| p.into_inner()) = None;
        *self.history.lock().unwrap_or_else(|p| p.into_inner()) = None;
        *self.identity.lock().unwrap_or_else(|p| p.into_inner()) = None;
        *self.kms.lock().unwrap_or_else(|p| p.into_inner()) = None;
        *self.organizations.lock().unwrap_or_else(|p| p.into_inner()) = None;
        *self.detections.lock().unwrap_or_else(|p| p.into_inner()) = None;
        *self.labs.lock().unwrap_or_else(|p| p.into_inner()) = None;
        *self.lake.lock().unwrap_or_else(|p| p.into_inner()) = None;
        *self.lambda.lock().unwrap_or_else(|p| p.into_inner()) = None;
        *self.logs.lock().unwrap_or_else(|p| p.into_inner()) = None;
        *self.objects.lock().unwrap_or_else(|p| p.into_inner()) = None;
        *self.metrics.lock().unwrap_or_else(|p| p.into_inner()) = None;
        *self.sns.lock().unwrap_or_else(|p| p.into_inner()) = None;
        *self.sqs.lock().unwrap_or_else(|p| p.into_inner()) = None;
        *self.trails.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_contract_on_postgresql() {
        let server = TestPostgres::start();
        super::super::run(super::super::journal::CASES, &|| {
            Box::new(PgBackend::new(&server))
        });
    }

    #[test]
    fn the_events_contract_on_postgresql() {
        let server = TestPostgres::start();
        super::super::run(super::super::events::CASES, &|| {
            Box::new(PgBackend::new(&server))
        });
    }

    #[test]
    fn the_history_contract_on_postgresql() {
        let server = TestPostgres::start();
        super::super::run(super::super::history::CASES, &|| {
            Box::new(PgBackend::new(&server))
        });
    }

    #[test]
    fn the_lake_contract_on_postgresql() {
        let server = TestPostgres::start();
        super::super::run(super::super::lake::CASES, &|| {
            Box::new(PgBackend::new(&server))
        });
    }

    #[test]
    fn the_lambda_contract_on_postgresql() {
        let server = TestPostgres::start();
        super::super::run(super::super::lambda::CASES, &|| {
            Box::new(PgBackend::new(&server))
        });
    }

    #[test]
    fn the_logs_contract_on_postgresql() {
        let server = TestPostgres::start();
        super::super::run(super::super::logs::CASES, &|| {
            Box::new(PgBackend::new(&server))
        });
    }

    #[test]
    fn the_metrics_contract_on_postgresql() {
        let server = TestPostgres::start();
        super::super::run(super::super::metrics::CASES, &|| {
            Box::new(PgBackend::new(&server))
        });
    }

    #[test]
    fn the_objects_contract_on_postgresql() {
        let server = TestPostgres::start();
        super::super::run(super::super::objects::CASES, &|| {
            Box::new(PgBackend::new(&server))
        });
    }

    /// The fail-closed table: a call's writes across stores commit with its record, or not.
    #[test]
    fn the_calls_contract_on_postgresql() {
        let server = TestPostgres::start();
        super::super::run(super::super::calls::CASES, &|| {
            Box::new(PgBackend::new(&server))
        });
    }

    #[test]
    fn the_sns_contract_on_postgresql() {
        let server = TestPostgres::start();
        super::super::run(super::super::sns::CASES, &|| {
            Box::new(PgBackend::new(&server))
        });
    }

    #[test]
    fn the_sqs_contract_on_postgresql() {
        let server = TestPostgres::start();
        super::super::run(super::super::sqs::CASES, &|| {
            Box::new(PgBackend::new(&server))
        });
    }

    #[test]
    fn the_trails_contract_on_postgresql() {
        let server = TestPostgres::start();
        super::super::run(super::super::trails::CASES, &|| {
            Box::new(PgBackend::new(&server))
        });
    }

    #[test]
    fn the_identity_contract_on_postgresql() {
        let server = TestPostgres::start();
        super::super::run(super::super::identity::CASES, &|| {
            Box::new(PgBackend::new(&server))
        });
    }

    #[test]
    fn the_console_contract_on_postgresql() {
        let server = TestPostgres::start();
        super::super::run(super::super::console::CASES, &|| {
            Box::new(PgBackend::new(&server))
        });
    }

    #[test]
    fn the_detections_contract_on_postgresql() {
        let server = TestPostgres::start();
        super::super::run(super::super::detections::CASES, &|| {
            Box::new(PgBackend::new(&server))
        });
    }

    #[test]
    fn the_labs_contract_on_postgresql() {
        let server = TestPostgres::start();
        super::super::run(super::super::labs::CASES, &|| {
            Box::new(PgBackend::new(&server))
        });
    }

    #[test]
    fn the_organizations_contract_on_postgresql() {
        let server = TestPostgres::start();
        super::super::run(super::super::organizations::CASES, &|| {
            Box::new(PgBackend::new(&server))
        });
    }

    #[test]
    fn the_kms_contract_on_postgresql() {
        let server = TestPostgres::start();
        super::super::run(super::super::kms::CASES, &|| {
            Box::new(PgBackend::new(&server))
        });
    }

    fn probe(server: &TestPostgres, schema: &str) -> crate::pg::PgDb {
        crate::pg::PgDb::connect(
            &server.url(),
            schema,
            &[crate::pg::Migration {
                store: "probe",
                version: 1,
                sql: "CREATE TABLE t (v TEXT PRIMARY KEY)",
            }],
        )
        .unwrap()
    }

    fn insert(db: &crate::pg::PgDb, v: &str) -> Result<u64, crate::error::StoreError> {
        db.write_with(|c| c.execute("INSERT INTO t (v) VALUES ($1)", &[&v]))
    }

    fn values(db: &crate::pg::PgDb) -> Vec<String> {
        db.read()
            .query("SELECT v FROM t ORDER BY v", &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    /// Audit fails closed on PostgreSQL as on SQLite: a call's writes are seen by nobody else
    /// before its record is durable, commit with it, and vanish if it is not.
    #[test]
    fn a_calls_writes_commit_only_with_its_record() {
        let server = TestPostgres::start();
        let db = std::sync::Arc::new(probe(&server, "groups"));
        let entered = crate::db::enter();
        insert(&db, "a").unwrap();
        assert_eq!(values(&db), ["a"], "the call sees its own write");
        let other = std::sync::Arc::clone(&db);
        let seen = std::thread::spawn(move || values(&other)).join().unwrap();
        assert!(seen.is_empty(), "nobody else does: {seen:?}");
        entered.leave().finish(true).unwrap();
        assert_eq!(values(&db), ["a"]);

        let entered = crate::db::enter();
        insert(&db, "b").unwrap();
        let refused = entered.leave().finish(false);
        assert!(refused.is_err(), "a call not recorded is refused");
        assert_eq!(values(&db), ["a"], "and leaves nothing behind");
    }

    /// A statement that fails inside a call is undone alone: the group's transaction goes on,
    /// and the call's other writes commit with its record.
    #[test]
    fn a_failed_statement_does_not_abort_the_group() {
        let server = TestPostgres::start();
        let db = probe(&server, "savepoints");
        insert(&db, "a").unwrap();
        let entered = crate::db::enter();
        assert!(insert(&db, "a").is_err(), "a duplicate is refused");
        insert(&db, "b").unwrap();
        entered.leave().finish(true).unwrap();
        assert_eq!(values(&db), ["a", "b"]);
    }

    fn setting(db: &crate::pg::PgDb, name: &str) -> String {
        db.read()
            .query_one(&format!("SHOW {name}"), &[])
            .unwrap()
            .get(0)
    }

    fn is_backend(e: &crate::error::StoreError) -> bool {
        matches!(e, crate::error::StoreError::Backend { .. })
    }

    /// The server stops (as a crash would) and starts again: meanwhile every use of the store
    /// fails, each trying to connect once; afterwards the store connects again by itself, in
    /// its schema and with its settings, and holds what was committed and nothing else.
    #[test]
    fn a_store_connects_again_after_its_database_restarts() {
        let server = TestPostgres::start();
        let db = probe(&server, "restarts");
        insert(&db, "before").unwrap();
        assert_eq!(setting(&db, "lock_timeout"), "10s");

        server.stop();
        for _ in 0..2 {
            let e = insert(&db, "during").unwrap_err();
            assert!(is_backend(&e), "{e}");
            assert!(db.read().query("SELECT v FROM t", &[]).is_err());
        }
        let entered = crate::db::enter();
        let e = insert(&db, "during-call").unwrap_err();
        assert!(is_backend(&e), "{e}");
        entered.leave().finish(true).unwrap();

        server.start_again();
        assert_eq!(values(&db), ["before"], "nothing of the failed calls");
        insert(&db, "after").unwrap();
        let entered = crate::db::enter();
        insert(&db, "after-call").unwrap();
        entered.leave().finish(true).unwrap();
        assert_eq!(values(&db), ["after", "after-call", "before"]);
        assert_eq!(setting(&db, "lock_timeout"), "10s");
        assert_eq!(setting(&db, "search_path"), "restarts");

        // Connections idle through a restart are made again before their next use: the
        // first calls after it succeed.
        server.stop();
        server.start_again();
        std::thread::sleep(crate::pg::CHECK_AFTER_IDLE);
        assert_eq!(values(&db), ["after", "after-call", "before"]);
        insert(&db, "idle").unwrap();
        let entered = crate::db::enter();
        insert(&db, "idle-call").unwrap();
        entered.leave().finish(true).unwrap();
        assert_eq!(values(&db).len(), 5);
    }

    /// A store built on the group machinery (KMS) across a restart: a key made during the
    /// outage is refused and absent afterwards; the store works again without being reopened.
    #[test]
    fn kms_on_postgresql_works_again_after_a_restart() {
        use crate::kms::{Key, PgKms};
        let server = TestPostgres::start();
        let dir = tempfile::tempdir().unwrap();
        let kms = PgKms::open(&server.url(), "kms_restarts", &dir.path().join("kms.key")).unwrap();
        let key = |id: &str| Key {
            key_id: id.into(),
            account: "111122223333".into(),
            region: "us-east-1".into(),
            description: String::new(),
            key_usage: "ENCRYPT_DECRYPT".into(),
            key_spec: "SYMMETRIC_DEFAULT".into(),
            state: "Enabled".into(),
            policy: "{}".into(),
            created_ms: 1,
            deletion_ms: None,
            pending_days: None,
        };
        kms.create(&key("before"), &[1; 32]).unwrap();
        server.stop();
        let e = kms.create(&key("during"), &[2; 32]).unwrap_err();
        assert!(is_backend(&e), "{e}");
        assert!(kms.get("before").is_err());
        server.start_again();
        assert!(kms.get("during").unwrap().is_none());
        assert!(kms.get("before").unwrap().is_some());
        assert_eq!(kms.material("before").unwrap(), [1; 32]);
        kms.create(&key("after"), &[3; 32]).unwrap();
        assert_eq!(
            kms.list("111122223333", "us-east-1")
                .unwrap()
                .iter()
                .map(|k| k.key_id.as_str())
                .collect::<Vec<_>>(),
            ["after", "before"]
        );
    }

    /// A group whose connection is lost while its calls run fails as a whole, even for a
    /// call whose record was made: its writes are gone (PostgreSQL rolled them back), and the
    /// next group begins on a new connection.
    #[test]
    fn a_group_in_flight_when_the_database_dies_fails_whole() {
        let server = TestPostgres::start();
        let db = std::sync::Arc::new(probe(&server, "inflight"));
        insert(&db, "kept").unwrap();

        // Two calls in one group, one on another thread; the server dies before they finish.
        let entered = crate::db::enter();
        insert(&db, "lost-a").unwrap();
        let (joined_tx, joined_rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let other = std::sync::Arc::clone(&db);
        let second = std::thread::spawn(move || {
            let entered = crate::db::enter();
            insert(&other, "lost-b").unwrap();
            joined_tx.send(()).unwrap();
            go_rx.recv().unwrap();
            entered.leave().finish(true)
        });
        joined_rx.recv().unwrap();
        server.stop();
        // The call goes on: its next write fails (the group's connection is gone).
        let e = insert(&db, "lost-c").unwrap_err();
        assert!(is_backend(&e), "{e}");
        go_tx.send(()).unwrap();
        let first = entered.leave().finish(true);
        assert!(
            matches!(first, Err(crate::error::StoreError::RolledBack(_))),
            "{first:?}"
        );
        let second = second.join().unwrap();
        assert!(
            matches!(second, Err(crate::error::StoreError::RolledBack(_))),
            "{second:?}"
        );

        // A group whose connection dies between its writes and its commit fails too.
        server.start_again();
        let entered = crate::db::enter();
        insert(&db, "lost-d").unwrap();
        server.stop();
        let at_commit = entered.leave().finish(true);
        assert!(
            matches!(at_commit, Err(crate::error::StoreError::RolledBack(_))),
            "{at_commit:?}"
        );

        server.start_again();
        // The reader sat idle through both restarts.
        std::thread::sleep(crate::pg::CHECK_AFTER_IDLE);
        assert_eq!(values(&db), ["kept"], "nothing of the failed groups");
        let entered = crate::db::enter();
        insert(&db, "next").unwrap();
        entered.leave().finish(true).unwrap();
        assert_eq!(values(&db), ["kept", "next"]);
    }

    /// A write waiting for a row another node's open group holds gives up after the lock
    /// timeout, with an error, instead of holding its call forever.
    #[test]
    fn a_write_waiting_on_another_nodes_group_fails_after_the_lock_timeout() {
        let server = TestPostgres::start();
        let a = probe(&server, "locks");
        let b = probe(&server, "locks");
        insert(&a, "x").unwrap();
        let entered = crate::db::enter();
        a.write_with(|c| c.execute("UPDATE t SET v = 'y' WHERE v = 'x'", &[]))
            .unwrap();
        let waited = std::thread::scope(|s| {
            s.spawn(|| {
                let started = std::time::Instant::now();
                let out = b.write_with(|c| c.execute("UPDATE t SET v = 'z' WHERE v = 'x'", &[]));
                (out, started.elapsed())
            })
            .join()
            .unwrap()
        });
        let (out, elapsed) = waited;
        let e = out.unwrap_err();
        assert!(e.to_string().contains("55P03"), "lock_not_available: {e}");
        assert!(
            elapsed >= std::time::Duration::from_secs(9)
                && elapsed < std::time::Duration::from_secs(30),
            "{elapsed:?}"
        );
        entered.leave().finish(true).unwrap();
        // The other node's connection goes on.
        assert_eq!(
            b.write_with(|c| c.execute("UPDATE t SET v = 'z' WHERE v = 'y'", &[]))
                .unwrap(),
            1
        );
        assert_eq!(values(&a), ["z"]);
    }

    /// A store opened again over its schema finds its migrations applied and its data there.
    #[test]
    fn every_node_must_hold_the_clusters_master_keys() {
        use crate::pg::keys::check_master_keys;
        let server = TestPostgres::start();
        let url = server.url();
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        let kms = first.path().join("kms.key");
        let signing = first.path().join("signing.key");
        let keys = [("kms", kms.as_path()), ("signing", signing.as_path())];
        check_master_keys(&url, "keys_case", &keys, 1).unwrap();
        assert!(
            kms.exists() && signing.exists(),
            "the first node makes them"
        );
        check_master_keys(&url, "keys_case", &keys, 2).unwrap();

        let other = second.path().join("kms.key");
        let e = check_master_keys(&url, "keys_case", &[("kms", other.as_path())], 3).unwrap_err();
        assert!(e.to_string().contains("is not on this node"), "{e}");
        assert!(!other.exists(), "a missing key is not made up");

        std::fs::write(&other, [9u8; 32]).unwrap();
        let e = check_master_keys(&url, "keys_case", &[("kms", other.as_path())], 4).unwrap_err();
        assert!(e.to_string().contains("is not the cluster's kms"), "{e}");

        std::fs::copy(&kms, &other).unwrap();
        check_master_keys(&url, "keys_case", &[("kms", other.as_path())], 5).unwrap();
    }

    #[test]
    fn migrations_apply_once() {
        let server = TestPostgres::start();
        let b = PgBackend::new(&server);
        let url = server.url();
        for _ in 0..2 {
            crate::pg::PgDb::connect(
                &url,
                &b.schema,
                &[crate::pg::Migration {
                    store: "probe",
                    version: 1,
                    sql: "CREATE TABLE probe (n INTEGER)",
                }],
            )
            .unwrap();
        }
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let n: i64 = c
            .query_one(
                &format!(
                    "SELECT count(*) FROM {}.schema_migrations WHERE store = 'probe'",
                    b.schema
                ),
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(n, 1);
    }
}
