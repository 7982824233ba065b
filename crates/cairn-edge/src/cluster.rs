//! A node of a cluster: the same stores as the embedded mode, behind the same traits, in a
//! PostgreSQL database that every node shares (each store in a schema of its own, migrated at
//! start), object bodies in an S3-compatible bucket, journal consumers under leases (DESIGN
//! decision 5). The web console's sessions and failed sign-ins, which a single node keeps in
//! memory, are in the database too: a load balancer sends a browser's requests to any node.
//! What stays on the node's own disk is its master keys (the same on every node, checked
//! against the fingerprints the database keeps), staging space and mail.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use cairn_store::StoreError;
use cairn_store::console::PgConsole;
use cairn_store::detections::PgDetections;
use cairn_store::events::PgEvents;
use cairn_store::history::{FollowingIndex, HistoryIndex, PgHistory};
use cairn_store::identity::PgIdentity;
use cairn_store::journal::{Journal, PgJournal, PgLeases};
use cairn_store::kms::PgKms;
use cairn_store::labs::PgLabs;
use cairn_store::lake::PgLake;
use cairn_store::lambda::PgLambda;
use cairn_store::logs::PgLogs;
use cairn_store::metrics::PgMetrics;
use cairn_store::objects::{BodyBucket, PgObjects, RemoteBodies};
use cairn_store::organizations::PgOrganizations;
use cairn_store::pg::keys::check_master_keys;
use cairn_store::sns::PgSns;
use cairn_store::sqs::PgSqs;
use cairn_store::trails::PgTrails;

use crate::app::{Layout, Nudging, OpenError, Stores};

/// Where a cluster keeps its state.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// `postgres://user[:password]@host[:port]/db`.
    pub database: String,
    /// Each store's schema is this, `_`, and the store's name (`cairn_journal`, …): several
    /// deployments can share a database.
    pub schema_prefix: String,
    /// Object bodies.
    pub bodies: BodyBucket,
    /// Journal entries per PostgreSQL partition (retention drops whole partitions).
    pub partition_entries: u64,
}

impl Cluster {
    pub fn new(database: &str, bodies: BodyBucket) -> Cluster {
        Cluster {
            database: database.to_owned(),
            schema_prefix: "cairn".to_owned(),
            bodies,
            partition_entries: 1_000_000,
        }
    }

    /// The schema of `store` (`cluster` for what belongs to the cluster as a whole).
    pub fn schema(&self, store: &str) -> String {
        format!("{}_{store}", self.schema_prefix)
    }
}

fn at_database(cluster: &Cluster, store: &str) -> impl FnOnce(StoreError) -> OpenError {
    let schema = cluster.schema(store);
    move |source| OpenError::Database { schema, source }
}

impl Stores {
    /// Opens every store of `cluster` as this node (`layout`: its own directory, for master
    /// keys and staging); `progress(done, total)` follows the event-history catch-up.
    pub fn open_cluster(
        layout: &Layout,
        cluster: &Cluster,
        now_ms: i64,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<Stores, OpenError> {
        let url = cluster.database.as_str();
        let bodies_key = layout.s3().join("blobs").join("master.key");
        let identity_key = layout.root.join("identity.key");
        check_master_keys(
            url,
            &cluster.schema("cluster"),
            &[
                ("kms", &layout.kms_master_key()),
                ("signing", &layout.signing_master_key()),
                ("identity", &identity_key),
                ("objects", &bodies_key),
            ],
            now_ms,
        )
        .map_err(at_database(cluster, "cluster"))?;

        let identity = Arc::new(
            PgIdentity::open(url, &cluster.schema("identity"), &identity_key)
                .map_err(at_database(cluster, "identity"))?,
        );
        let behind = Arc::new(AtomicBool::new(false));
        let commits = crate::commits::Commits::new();
        let index: Arc<dyn HistoryIndex> = Arc::new(
            PgHistory::open(url, &cluster.schema("history"))
                .map_err(at_database(cluster, "history"))?,
        );
        let following = FollowingIndex::shared(index, Arc::clone(&behind))
            .map_err(at_database(cluster, "history"))?;
        let journal: Arc<dyn Journal> = Arc::new(
            PgJournal::open(
                url,
                &cluster.schema("journal"),
                cluster.partition_entries,
                Box::new(Nudging {
                    inner: following.hook().map_err(at_database(cluster, "history"))?,
                    commits: Arc::clone(&commits),
                }),
            )
            .map_err(at_database(cluster, "journal"))?,
        );
        following.follow(&journal);
        // Other nodes' commits wake this node's consumers that react to calls, as its own do.
        let woken = Arc::clone(&commits);
        cairn_store::journal::pg::listen(
            url,
            &cluster.schema("journal"),
            Box::new(move || woken.committed()),
        )
        .map_err(at_database(cluster, "journal"))?;
        let history: Arc<dyn HistoryIndex> = following;
        let start = history.cursor().map_err(at_database(cluster, "history"))?;
        let total = journal.head().saturating_sub(start);
        if total > 0 {
            history
                .catch_up(&*journal, &mut |pos, _| {
                    progress(pos.saturating_sub(start), total)
                })
                .map_err(at_database(cluster, "history"))?;
        }
        let bodies =
            RemoteBodies::connect(&cluster.bodies, &bodies_key, &layout.s3().join("staging"))
                .map_err(|source| OpenError::Objects {
                    path: layout.s3(),
                    source,
                })?;
        let objects = PgObjects::with_bodies(url, &cluster.schema("objects"), Arc::new(bodies))
            .map_err(|source| OpenError::Objects {
                path: format!("the database's {} schema", cluster.schema("objects")).into(),
                source,
            })?;
        let node = format!("{}-{}", hostname(), node_id(layout)?);
        let leases = PgLeases::open(url, &cluster.schema("leases"))
            .map_err(at_database(cluster, "leases"))?;
        leases
            .claim_node(&node)
            .map_err(at_database(cluster, "leases"))?;
        let leases = Arc::new(leases);
        Ok(Stores {
            journal,
            history,
            identity,
            objects: Arc::new(objects),
            trails: Arc::new(
                PgTrails::open(url, &cluster.schema("trails"))
                    .map_err(at_database(cluster, "trails"))?,
            ),
            kms: Arc::new(
                PgKms::open(url, &cluster.schema("kms"), &layout.kms_master_key())
                    .map_err(at_database(cluster, "kms"))?,
            ),
            organizations: Arc::new(
                PgOrganizations::open(url, &cluster.schema("organizations"))
                    .map_err(at_database(cluster, "organizations"))?,
            ),
            detections: Arc::new(
                PgDetections::open(url, &cluster.schema("detections"))
                    .map_err(at_database(cluster, "detections"))?,
            ),
            labs: Arc::new(
                PgLabs::open(url, &cluster.schema("labs")).map_err(at_database(cluster, "labs"))?,
            ),
            logs: Arc::new(
                PgLogs::open(url, &cluster.schema("logs")).map_err(at_database(cluster, "logs"))?,
            ),
            metrics: Arc::new(
                PgMetrics::open(url, &cluster.schema("metrics"))
                    .map_err(at_database(cluster, "metrics"))?,
            ),
            sqs: Arc::new(
                PgSqs::open(url, &cluster.schema("sqs")).map_err(at_database(cluster, "sqs"))?,
            ),
            sns: Arc::new(
                PgSns::open(url, &cluster.schema("sns")).map_err(at_database(cluster, "sns"))?,
            ),
            lambda: Arc::new(
                PgLambda::open(url, &cluster.schema("lambda"))
                    .map_err(at_database(cluster, "lambda"))?,
            ),
            events: Arc::new(
                PgEvents::open(url, &cluster.schema("events"))
                    .map_err(at_database(cluster, "events"))?,
            ),
            lake: Arc::new(
                PgLake::open(url, &cluster.schema("lake")).map_err(at_database(cluster, "lake"))?,
            ),
            console: Arc::new(
                PgConsole::open(url, &cluster.schema("console"))
                    .map_err(at_database(cluster, "console"))?,
            ),
            history_behind: behind,
            commits,
            leases,
            node,
        })
    }
}

/// The node's own part of its name, made at its first start and kept in its directory
/// (`node.id`): the same after a restart, so that the node takes its leases back at once.
fn node_id(layout: &Layout) -> Result<String, OpenError> {
    let path = layout.root.join("node.id");
    let io = |source| OpenError::NodeId {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => return Ok(id.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let id = cairn_model::ids::new_uuid()[..8].to_owned();
    std::fs::write(&path, format!("{id}\n")).map_err(io)?;
    Ok(id)
}

/// This machine's name, for telling nodes apart in leases and logs.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".to_owned())
}
