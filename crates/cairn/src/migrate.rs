//! `cairn migrate`: copies a stopped embedded instance (its data directory) into an empty
//! cluster (PostgreSQL and an S3-compatible bucket, DESIGN decision 5), so that the cluster's
//! nodes serve everything the instance had.
//!
//! The journal's entries are appended in order to the cluster's journal, whose commit hook
//! indexes them as the cluster's event history. Every other store is copied row by row from
//! its SQLite file into its PostgreSQL schema (`cairn_store::migrate`): the stores' traits list
//! only what the API shows, while delivery plans, digest chains, cursors and outboxes must move
//! too for trails to keep delivering and digests to keep chaining. Values naming journal
//! offsets are translated on the way (the segment journal numbers entries by byte position,
//! PostgreSQL by entry). Object bodies are copied as stored, sealed, into the bucket: the
//! cluster seals alike under the same master key file.
//!
//! CloudTrail Lake's event data stores keep their files where the cluster's nodes look for them
//! (the `[lake]` bucket, or `lake/` beside the bodies), their journal stream renumbered to the
//! cluster's positions like every other offset; imports' and channels' streams keep theirs.
//!
//! The cluster's master keys are the instance's own (kms.key, signing.key, s3/blobs/master.key,
//! so sealed key material and bodies open unchanged) plus identity.key, made here for the
//! secrets the database keeps sealed: the data directory becomes the first node's directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cairn_model::{Clock, SystemClock};
use cairn_services::app::Layout;
use cairn_services::cluster::Cluster;
use cairn_store::journal::{Journal, JournalConfig, NoHook, SegmentJournal};
use cairn_store::migrate::Value;
use cairn_store::migrate::{Copied, TablePlan, copy_store, count_rows, has_rows};
use cairn_store::objects::{RemoteBodies, SealedBodies};
use cairn_store::seal::Sealer;

use crate::DataDirArg;
use crate::datadir::DataDir;

#[derive(clap::Args)]
pub struct MigrateArgs {
    /// The embedded instance's data directory (stop `cairn serve` on it first). Afterwards it
    /// is the cluster's first node's directory: it holds the cluster's master keys.
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// The cluster's PostgreSQL database (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`; the
    /// configuration file's `database`). It must hold no cairn data yet.
    #[arg(long, env = "CAIRN_DATABASE", value_name = "URL")]
    pub database: Option<String>,
    /// Where the cluster keeps object bodies: `s3://BUCKET[/PREFIX]` (the configuration file's
    /// `[object_store] url`); endpoint and credentials from the `[[external_bucket]]` of that
    /// name, or AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION.
    #[arg(long, env = "CAIRN_OBJECT_STORE", value_name = "URL")]
    pub object_store: Option<String>,
    /// The object store's bucket, resolved from --object-store.
    #[arg(skip)]
    pub object_store_bucket: Option<cairn_store::objects::BodyBucket>,
    /// Where the cluster keeps event data stores' files: the configuration file's `[lake]`
    /// bucket, or (without one) `lake/` beside the object bodies.
    #[arg(skip)]
    pub lake_bucket: Option<cairn_lake::BucketConfig>,
}

/// What is not copied; `run` refuses when any of it holds data.
pub const NOT_COPIED: &str =
    "event data stores whose files are in a bucket of the instance's own ([lake])";

/// The master key files every node needs, relative to its directory.
const KEY_FILES: &[&str] = &[
    "kms.key",
    "signing.key",
    "identity.key",
    "s3/blobs/master.key",
];

/// Tables a cluster in use has rows in (a cluster with any of them is not migrated into).
const IN_USE: &[(&str, &str)] = &[
    ("identity", "accounts"),
    ("journal", "journal"),
    ("objects", "buckets"),
    ("trails", "trails"),
    ("kms", "keys"),
];

pub fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let dir = DataDir::resolve(&args.data_dir)?;
    let (Some(database), Some(bodies)) = (&args.database, &args.object_store_bucket) else {
        bail!(
            "cairn migrate needs the cluster's database (--database, `database`) and object store (--object-store, `[object_store] url`)"
        );
    };
    if !dir.identity_db().exists() {
        bail!(
            "{} holds no embedded cairn instance (no identity.db)",
            dir.root.display()
        );
    }
    if dir.cluster_file().exists() || dir.migrated_file().exists() {
        bail!(
            "{} is already a cluster node's directory (migrated, or served as a node): nothing to migrate",
            dir.root.display()
        );
    }
    let _lock = dir.lock()?;
    let layout = Layout::new(&dir.root);
    let cluster = Cluster::new(database, bodies.clone());
    let lake = args
        .lake_bucket
        .clone()
        .unwrap_or_else(|| crate::serve::lake_beside_bodies(bodies));
    let schema = |store: &str| format!("{}_{store}", cluster.schema_prefix);

    // Under the lock a starting node takes to make the cluster's first account: a node started
    // meanwhile waits, then finds the migrated accounts instead of making one of its own.
    let summary = cairn_store::pg::exclusively(database, crate::serve::FIRST_ACCOUNT_LOCK, || {
        migrate_locked(&dir, &layout, &cluster, &lake, &schema)
    })
    .context("taking the cluster's first-account lock")??;

    let clock = SystemClock;
    dir.set_cluster(Some((database.as_str(), cluster.schema_prefix.as_str())))?;
    let migrated = dir.migrated_file();
    std::fs::write(
        &migrated,
        format!(
            "migrated into the cluster on {} (schemas {}_*) at {} ms\n",
            crate::serve::redacted(database),
            cluster.schema_prefix,
            clock.now_millis()
        ),
    )
    .with_context(|| format!("writing {}", migrated.display()))?;
    println!("copied:");
    for (what, n) in &summary {
        println!("  {n:>10}  {what}");
    }
    println!("not copied: {NOT_COPIED} (none here), and sent mail (mailbox/, each node's own)");
    println!();
    println!(
        "{} is now the cluster's first node's directory: `cairn serve --data-dir {} --database … --object-store …`.",
        dir.root.display(),
        dir.root.display()
    );
    println!(
        "Copy these master key files to every other node's directory (same relative paths, mode 0600):"
    );
    for k in KEY_FILES {
        println!("  {}", dir.root.join(k).display());
    }
    Ok(())
}

/// Checks the cluster is empty and copies everything into it, under the first-account lock.
fn migrate_locked(
    dir: &DataDir,
    layout: &Layout,
    cluster: &Cluster,
    lake: &cairn_lake::BucketConfig,
    schema: &dyn Fn(&str) -> String,
) -> anyhow::Result<Vec<(String, u64)>> {
    let database = cluster.database.as_str();
    for (store, table) in IN_USE {
        if has_rows(database, &schema(store), table)
            .with_context(|| format!("looking into the cluster's {} schema", schema(store)))?
        {
            bail!(
                "the cluster already has data ({}.{table} has rows): cairn migrate copies an instance into an empty cluster only, never into one in use",
                schema(store)
            );
        }
    }
    refuse_uncopied(layout)?;

    let clock = SystemClock;
    let bodies = &cluster.bodies;
    println!(
        "migrating {} into the cluster on {}, bodies in s3://{}/{}",
        dir.root.display(),
        crate::serve::redacted(database),
        bodies.bucket,
        bodies.prefix
    );
    copy_all(dir, layout, cluster, lake, clock.now_millis()).with_context(|| {
        format!(
            "the migration stopped part way: the cluster's {prefix}_* schemas, the bodies under s3://{}/{} and the event data stores' files under s3://{}/{} hold part of it; drop those schemas (DROP SCHEMA … CASCADE) and delete those files before trying again",
            bodies.bucket,
            bodies.prefix,
            lake.bucket,
            lake.prefix,
            prefix = cluster.schema_prefix
        )
    })
}

/// Copies everything into the cluster; what was copied, for the summary.
fn copy_all(
    dir: &DataDir,
    layout: &Layout,
    cluster: &Cluster,
    lake: &cairn_lake::BucketConfig,
    now_ms: i64,
) -> anyhow::Result<Vec<(String, u64)>> {
    let database = cluster.database.as_str();
    let schema = |store: &str| format!("{}_{store}", cluster.schema_prefix);
    let stores =
        crate::open::open_cluster(dir, cluster, now_ms).context("opening the cluster's stores")?;
    let mut summary: Vec<(String, u64)> = Vec::new();

    // The journal first: every other store's offsets are translated by where its entries went.
    let offsets = copy_journal(layout, &*stores.journal)?;
    summary.push(("journal entries".to_owned(), offsets.entries()));

    let names = copy_bodies(layout, cluster)?;
    summary.push(("object bodies".to_owned(), names.copied));

    let identity_sealer = Sealer::open(&dir.identity_key())
        .with_context(|| format!("opening {}", dir.identity_key().display()))?;
    let keep = |_: &str, _: &str, v: Value| Ok(v);
    let plain = TablePlan {
        renamed: &[],
        renamed_columns: &[],
        skipped: &[],
        sealer: None,
        rewrite: &keep,
    };
    let trails_rewrite =
        |table: &str, column: &str, v: Value| offsets.rewrite_trails(table, column, v);
    let lake_rewrite = |table: &str, column: &str, v: Value| match (table, column, v) {
        ("stores", "ingest_ranges", Value::Text(t)) => Ok(Value::Text(offsets.ranges(&t)?)),
        (_, _, v) => Ok(v),
    };
    // The detection engine's cursor is a journal position.
    let detections_rewrite = |table: &str, column: &str, v: Value| match (table, column, v) {
        ("detection_cursor", "position", Value::Integer(p)) => offsets
            .map_i64(p)
            .map(Value::Integer)
            .map_err(|e| cairn_store::StoreError::Invalid(format!("detections cursor: {e}"))),
        (_, _, v) => Ok(v),
    };
    let objects_rewrite = |table: &str, column: &str, v: Value| match (table, column, v) {
        ("objects" | "parts", "blob", Value::Text(name)) => Ok(Value::Text(
            names.renamed.get(&name).cloned().unwrap_or(name),
        )),
        (_, _, v) => Ok(v),
    };
    let plans: Vec<(&str, PathBuf, TablePlan)> = vec![
        (
            "identity",
            layout.identity_db(),
            TablePlan {
                sealer: Some(&identity_sealer),
                ..plain_like(&plain)
            },
        ),
        ("kms", layout.kms_db(), plain_like(&plain)),
        ("labs", layout.labs_db(), plain_like(&plain)),
        (
            "detections",
            layout.detections_db(),
            TablePlan {
                renamed: &[("cursor", "detection_cursor")],
                rewrite: &detections_rewrite,
                ..plain_like(&plain)
            },
        ),
        (
            "organizations",
            layout.organizations_db(),
            plain_like(&plain),
        ),
        (
            "trails",
            layout.trails_db(),
            TablePlan {
                renamed_columns: &[("delivery_cursor", "journal_offset", "offset")],
                rewrite: &trails_rewrite,
                ..plain_like(&plain)
            },
        ),
        (
            "objects",
            layout.s3().join("s3.db"),
            TablePlan {
                // The write counter's PostgreSQL twin is the object_seq sequence (set below);
                // small bodies kept in the database go to the object store with the others.
                skipped: &["counters", "bodies"],
                rewrite: &objects_rewrite,
                ..plain_like(&plain)
            },
        ),
        ("logs", layout.logs_db(), plain_like(&plain)),
        ("metrics", layout.metrics_db(), plain_like(&plain)),
        ("sqs", layout.sqs_db(), plain_like(&plain)),
        ("sns", layout.sns_db(), plain_like(&plain)),
        ("lambda", layout.lambda_db(), plain_like(&plain)),
        (
            "events",
            layout.events_db(),
            TablePlan {
                renamed: &[
                    ("buses", "event_buses"),
                    ("rules", "event_rules"),
                    ("targets", "event_targets"),
                    ("outbox", "event_deliveries"),
                    ("cursors", "event_cursors"),
                ],
                ..plain_like(&plain)
            },
        ),
        (
            "lake",
            layout.lake_db(),
            TablePlan {
                rewrite: &lake_rewrite,
                ..plain_like(&plain)
            },
        ),
    ];
    for (store, path, plan) in &plans {
        // A store newer than the instance (detections.db before its first start with them).
        if !path.exists() {
            continue;
        }
        let total = count_rows(path).with_context(|| format!("reading {}", path.display()))?;
        let bar = bar(store, total, "rows");
        let copied = copy_store(path, database, &schema(store), plan, &mut |n| bar.inc(n))
            .with_context(|| format!("copying {} into {}", path.display(), schema(store)))?;
        bar.finish_and_clear();
        let rows: u64 = copied.iter().map(|c: &Copied| c.rows).sum();
        summary.push((format!("{store} rows"), rows));
    }
    fix_ups(database, &schema, layout, &offsets)?;
    let lake_files = copy_lake_files(layout, lake, &offsets)?;
    summary.push(("event data store files".to_owned(), lake_files));

    // Event history: the cluster's index followed the appends; this makes sure it has all.
    let bar = bar("history", offsets.entries(), "entries");
    stores
        .history
        .catch_up(&*stores.journal, &mut |pos, _| bar.set_position(pos))
        .context("indexing the cluster's event history")?;
    bar.finish_and_clear();
    drop(stores);
    Ok(summary)
}

/// A plan like `p` (every field but the borrowed closure copied), for struct update syntax.
fn plain_like<'a>(p: &TablePlan<'a>) -> TablePlan<'a> {
    TablePlan {
        renamed: p.renamed,
        renamed_columns: p.renamed_columns,
        skipped: p.skipped,
        sealer: p.sealer,
        rewrite: p.rewrite,
    }
}

fn bar(what: &str, total: u64, unit: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{what:>10} {{bar:40}} {{pos}}/{{len}} {unit} ({{eta}})"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// Refuses what this command cannot move yet, before anything is written: never a migration
/// that silently leaves data behind.
fn refuse_uncopied(layout: &Layout) -> anyhow::Result<()> {
    // A store that ingested the journal without files in the data directory kept them in a
    // bucket of the instance's own ([lake]): its files' names and `_committed.json` count
    // the journal's offsets, which the cluster numbers differently, and they are not here to
    // renumber.
    let ingesting = lake_stores(layout, "ingest_ranges <> '[]'")?;
    let elsewhere: Vec<String> = ingesting
        .into_iter()
        .filter(|(id, _)| !layout.lake().join(id).join("_committed.json").exists())
        .map(|(_, arn)| arn)
        .collect();
    if !elsewhere.is_empty() {
        bail!(
            "event data stores ingest CloudTrail events with no files in {} ({}); cairn migrate does not copy {NOT_COPIED} yet; nothing was migrated",
            layout.lake().display(),
            elsewhere.join(", ")
        );
    }
    Ok(())
}

/// The (id, ARN) of every event data store `filter` (an SQL condition on `stores`) selects.
fn lake_stores(layout: &Layout, filter: &str) -> anyhow::Result<Vec<(String, String)>> {
    let rows = cairn_store::migrate::sqlite_strings(
        &layout.lake_db(),
        &format!("SELECT id || ' ' || arn FROM stores WHERE {filter}"),
    )
    .with_context(|| format!("reading {}", layout.lake_db().display()))?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.split_once(' ').map(|(i, a)| (i.to_owned(), a.to_owned())))
        .collect())
}

/// Copies every event data store's files to where the cluster keeps them, the journal's
/// stream renumbered to the cluster's positions; the number of files copied.
fn copy_lake_files(
    layout: &Layout,
    lake: &cairn_lake::BucketConfig,
    offsets: &Offsets,
) -> anyhow::Result<u64> {
    let stores: Vec<(String, String)> = lake_stores(layout, "1 = 1")?
        .into_iter()
        .filter(|(id, _)| layout.lake().join(id).join("_committed.json").exists())
        .collect();
    if stores.is_empty() {
        return Ok(0);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the lake bucket's client")?;
    let bucket = std::sync::Arc::new(
        cairn_lake::Bucket::connect(
            lake,
            layout.lake().join("staging"),
            runtime.handle().clone(),
        )
        .context("connecting to the lake's bucket")?,
    );
    // A file of the journal's stream holds the entries after position `first - 1` (the
    // ingestion's position before the append) up to `last` (its position after): both are
    // positions between entries, which `Offsets::map` translates.
    let range = |first: u64, last: u64| {
        (
            offsets.map(first.saturating_sub(1)).saturating_add(1),
            offsets.map(last),
        )
    };
    let committed = |at: u64| offsets.map(at);
    let renumber = cairn_lake::files::Renumber {
        stream: JOURNAL_STREAM,
        range: &range,
        committed: &committed,
    };
    let total_bytes: u64 = stores
        .iter()
        .map(|(id, _)| dir_bytes(&layout.lake().join(id)))
        .sum();
    let bar = bar("lake", total_bytes, "bytes");
    let mut files = 0;
    for (id, arn) in &stores {
        let to = bucket.place(id);
        if to.exists_at(&to.location("_committed.json")) {
            bail!(
                "the cluster's lake already has files of {arn} ({}): cairn migrate copies into an empty cluster only",
                to.location("")
            );
        }
        let copied = cairn_lake::files::copy_store(
            &cairn_lake::Place::Folder(layout.lake().join(id)),
            &to,
            Some(&renumber),
            &mut |n| bar.inc(n),
        )
        .with_context(|| format!("copying the files of {arn} to {}", to.location("")))?;
        files += copied.files;
    }
    bar.finish_and_clear();
    Ok(files)
}

/// The journal's stream in event data stores' files (lake ingestion's).
const JOURNAL_STREAM: &str = "journal";

fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                dir_bytes(&p)
            } else {
                e.metadata().map(|m| m.len()).unwrap_or(0)
            }
        })
        .sum()
}

/// Where the embedded journal's entries went: the segment offset of each, in order, and the
/// cluster position of the first (the rest follow without gaps).
struct Offsets {
    segment: Vec<u64>,
    first: u64,
}

impl Offsets {
    fn entries(&self) -> u64 {
        self.segment.len() as u64
    }

    /// The cluster position for a segment offset: that of the first entry at or after it, so
    /// a cursor (the next entry to read) and both ends of a range keep their meaning.
    fn map(&self, offset: u64) -> u64 {
        self.first + self.segment.partition_point(|&o| o < offset) as u64
    }

    fn map_i64(&self, offset: i64) -> anyhow::Result<i64> {
        let o = u64::try_from(offset).with_context(|| format!("journal offset {offset}"))?;
        Ok(i64::try_from(self.map(o))?)
    }

    /// `[[from, to|null], …]` with each offset translated.
    fn ranges(&self, json: &str) -> Result<String, cairn_store::StoreError> {
        let bad =
            |e: String| cairn_store::StoreError::Invalid(format!("journal ranges {json}: {e}"));
        let ranges: Vec<(u64, Option<u64>)> =
            serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        let mapped: Vec<(u64, Option<u64>)> = ranges
            .into_iter()
            .map(|(from, to)| (self.map(from), to.map(|t| self.map(t))))
            .collect();
        serde_json::to_string(&mapped).map_err(|e| bad(e.to_string()))
    }

    fn rewrite_trails(
        &self,
        table: &str,
        column: &str,
        v: Value,
    ) -> Result<Value, cairn_store::StoreError> {
        let bad =
            |e: anyhow::Error| cairn_store::StoreError::Invalid(format!("{table}.{column}: {e}"));
        Ok(match (table, column, v) {
            ("trails", "logging_ranges", Value::Text(t)) => Value::Text(self.ranges(&t)?),
            ("delivery_cursor", "journal_offset", Value::Integer(o))
            | ("cwl_delivery", "cursor", Value::Integer(o)) => {
                Value::Integer(self.map_i64(o).map_err(bad)?)
            }
            // The backfill chain's -1 names no range.
            ("digest_files" | "digest_chains", "range_from", Value::Integer(o)) if o >= 0 => {
                Value::Integer(self.map_i64(o).map_err(bad)?)
            }
            ("delivery_plans", "offsets", Value::Blob(b)) => {
                let mut out = Vec::with_capacity(b.len());
                for chunk in b.chunks(8) {
                    let raw: [u8; 8] = chunk.try_into().map_err(|_| {
                        cairn_store::StoreError::Invalid(format!(
                            "delivery_plans.offsets: {} bytes, not whole offsets",
                            b.len()
                        ))
                    })?;
                    out.extend_from_slice(&self.map(u64::from_le_bytes(raw)).to_le_bytes());
                }
                Value::Blob(out)
            }
            (_, _, v) => v,
        })
    }
}

/// Appends every entry of the embedded journal, in order, to the cluster's.
fn copy_journal(layout: &Layout, to: &dyn Journal) -> anyhow::Result<Offsets> {
    let from = SegmentJournal::open(
        &layout.journal(),
        JournalConfig::default(),
        Box::new(NoHook),
    )
    .with_context(|| format!("opening the journal in {}", layout.journal().display()))?;
    let head = from.head();
    let bar = indicatif::ProgressBar::new(head);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "   journal {bar:40} {bytes}/{total_bytes} ({eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut offsets = Offsets {
        segment: Vec::new(),
        first: to.head(),
    };
    let mut cursor = 0u64;
    loop {
        let (entries, next) = from
            .read_from(cursor, 4 << 20)
            .context("reading the embedded journal")?;
        if entries.is_empty() {
            break;
        }
        let expected = offsets.first + offsets.entries();
        let (segment, payloads): (Vec<u64>, Vec<Vec<u8>>) = entries.into_iter().unzip();
        if offsets.segment.is_empty()
            && let Some(first) = segment.first()
        {
            tracing::debug!(first, "first embedded journal entry");
        }
        let positions = to
            .append(payloads)
            .wait_blocking()
            .context("appending to the cluster's journal")?;
        let contiguous = positions
            .iter()
            .enumerate()
            .all(|(i, &p)| p == expected + i as u64);
        if !contiguous {
            bail!(
                "the cluster's journal numbered the copied entries from {:?}, not {expected}: is another node writing to it?",
                positions.first()
            );
        }
        offsets.segment.extend(segment);
        cursor = next;
        bar.set_position(cursor.min(head));
    }
    bar.finish_and_clear();
    Ok(offsets)
}

/// Bodies copied, and the new names of those that were packed together on disk.
struct BodyNames {
    copied: u64,
    renamed: HashMap<String, String>,
}

/// Copies every body that object versions and upload parts name into the cluster's bucket,
/// sealed as stored. Bodies packed into the small bodies' database get a name of their own.
fn copy_bodies(layout: &Layout, cluster: &Cluster) -> anyhow::Result<BodyNames> {
    let objects_db = layout.s3().join("s3.db");
    let names = cairn_store::migrate::sqlite_strings(
        &objects_db,
        "SELECT blob FROM objects WHERE blob IS NOT NULL UNION SELECT blob FROM parts",
    )
    .with_context(|| format!("reading {}", objects_db.display()))?;
    let blobs_dir = layout.s3().join("blobs");
    let local = SealedBodies::open(&blobs_dir)
        .with_context(|| format!("opening {}", blobs_dir.display()))?;
    let remote = RemoteBodies::connect(
        &cluster.bodies,
        &blobs_dir.join("master.key"),
        &layout.s3().join("staging"),
    )
    .context("connecting to the object store")?;
    let bar = bar("bodies", names.len() as u64, "bodies");
    let mut out = BodyNames {
        copied: 0,
        renamed: HashMap::new(),
    };
    for name in names {
        let sealed = local
            .sealed(&name)
            .with_context(|| format!("reading object body {name}"))?;
        let target = if SealedBodies::is_packed(&name) {
            cairn_model::ids::new_uuid().replace('-', "")
        } else {
            name.clone()
        };
        remote
            .put_sealed(&target, sealed)
            .with_context(|| format!("writing object body {target} to the object store"))?;
        if target != name {
            out.renamed.insert(name, target);
        }
        out.copied += 1;
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(out)
}

/// What the row copy cannot express: counters PostgreSQL keeps outside tables, and cursors
/// whose meaning depends on their row.
fn fix_ups(
    database: &str,
    schema: &dyn Fn(&str) -> String,
    layout: &Layout,
    offsets: &Offsets,
) -> anyhow::Result<()> {
    use cairn_store::migrate::{execute, sqlite_i64};
    // Object versions are ordered by a sequence.
    execute(
        database,
        &schema("objects"),
        "SELECT setval('object_seq', (SELECT COALESCE(MAX(seq), 0) FROM objects) + 1, false)",
    )?;
    // Events put on buses are numbered from a head row.
    execute(
        database,
        &schema("events"),
        "UPDATE bus_events_head SET next_seq = (SELECT COALESCE(MAX(seq), 0) FROM bus_events) + 1",
    )?;
    // The router's cursor into the journal (its other cursor counts bus events, unchanged).
    if let Some(p) = sqlite_i64(
        &layout.events_db(),
        "SELECT position FROM cursors WHERE name = 'cloudtrail'",
    )? {
        let mapped = offsets.map_i64(p)?;
        execute(
            database,
            &schema("events"),
            &format!("UPDATE event_cursors SET position = {mapped} WHERE name = 'cloudtrail'"),
        )?;
    }
    // Nodes cache IAM by this generation: make sure none trusts a cache from before the copy.
    execute(
        database,
        &schema("identity"),
        "UPDATE identity_generation SET value = value + 1",
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Entries at byte offsets 100, 150 and 400 of a segment journal, copied to positions 0-2.
    fn offsets() -> Offsets {
        Offsets {
            segment: vec![100, 150, 400],
            first: 0,
        }
    }

    #[test]
    fn offsets_map_entries_cursors_and_ranges() {
        let o = offsets();
        // Entries map to their positions; a cursor between entries to the next one; the head
        // (past the last entry) to the cluster's head.
        assert_eq!(
            [
                o.map(0),
                o.map(100),
                o.map(150),
                o.map(151),
                o.map(400),
                o.map(401)
            ],
            [0, 0, 1, 2, 2, 3]
        );
        assert_eq!(
            o.ranges("[[100,400],[401,null]]").unwrap(),
            "[[0,2],[3,null]]"
        );
        assert!(o.ranges("not json").is_err());
    }

    #[test]
    fn trail_values_naming_offsets_are_translated() {
        let o = offsets();
        let plan: Vec<u8> = [150u64, 400].iter().flat_map(|x| x.to_le_bytes()).collect();
        let want: Vec<u8> = [1u64, 2].iter().flat_map(|x| x.to_le_bytes()).collect();
        assert_eq!(
            o.rewrite_trails("delivery_plans", "offsets", Value::Blob(plan))
                .unwrap(),
            Value::Blob(want)
        );
        assert_eq!(
            o.rewrite_trails("delivery_cursor", "journal_offset", Value::Integer(401))
                .unwrap(),
            Value::Integer(3)
        );
        // The backfill chain (-1) and values naming no offset are left alone.
        assert_eq!(
            o.rewrite_trails("digest_chains", "range_from", Value::Integer(-1))
                .unwrap(),
            Value::Integer(-1)
        );
        assert_eq!(
            o.rewrite_trails("digest_chains", "range_from", Value::Integer(150))
                .unwrap(),
            Value::Integer(1)
        );
        assert_eq!(
            o.rewrite_trails("trails", "name", Value::Text("t".into()))
                .unwrap(),
            Value::Text("t".into())
        );
        assert!(
            o.rewrite_trails("delivery_plans", "offsets", Value::Blob(vec![1, 2, 3]))
                .is_err()
        );
    }
}
