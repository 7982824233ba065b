//! `cairn import`: load CloudTrail records from files into the journal, with a progress bar;
//! directly when the data directory is free, else through the `cairn serve` running on it.
//! With `--event-data-store`, into a CloudTrail Lake event data store's columnar files instead
//! (the instance stopped), exactly once: the files, sorted, are the positions of a stream
//! named after them.

use std::path::PathBuf;

use anyhow::{Context, bail};
use cairn_import::{ImportReport, Importer, discover, read_records};
use cairn_model::{Clock, SystemClock};
use cairn_services::cloudtrail::lake_imports::{retained, retained_from};

use crate::DataDirArg;
use crate::datadir::DataDir;
use crate::open;
use cairn_services::cluster::Cluster;

#[derive(clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// Account to load the records into (12 digits). Default: the instance's first account.
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub account: Option<String>,
    /// Load the records into this CloudTrail Lake event data store (its id or ARN) instead of
    /// event history. Needs the instance stopped. Running it again with the same paths adds
    /// nothing twice.
    #[arg(long, value_name = "ID_OR_ARN")]
    pub event_data_store: Option<String>,
    /// Files and folders to import; folders are walked recursively for .json, .json.gz,
    /// .jsonl and .ndjson files.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The bucket event data stores keep their files in, from the configuration file's `[lake]`.
    #[arg(skip)]
    pub lake_bucket: Option<cairn_lake::BucketConfig>,
    /// The cluster's PostgreSQL database, when this directory is a node of one (the
    /// configuration file's `database`): records go into the cluster's journal.
    #[arg(long, env = "CAIRN_DATABASE", value_name = "URL")]
    pub database: Option<String>,
    /// The cluster's object store (`s3://BUCKET[/PREFIX]`, the configuration file's
    /// `[object_store] url`), with --database.
    #[arg(long, env = "CAIRN_OBJECT_STORE", value_name = "URL")]
    pub object_store: Option<String>,
    /// The object store's bucket, resolved from --object-store.
    #[arg(skip)]
    pub object_store_bucket: Option<cairn_store::objects::BodyBucket>,
}

pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    let dir = DataDir::resolve(&args.data_dir)?;
    dir.create()?;
    if let Some(eds) = args.event_data_store.clone() {
        // A cluster first: stopping its node would not help.
        if cluster_of(&dir, &args)?.is_some() {
            bail!(
                "cairn import --event-data-store writes an embedded instance's files; a cluster's event data stores take imports through StartImport (from a bucket), from any node"
            );
        }
        let Some(lock) = dir.try_lock()? else {
            bail!(
                "cairn serve is running on {}: stop it first, `cairn import --event-data-store` writes the store's files directly (or use StartImport from S3 while it runs)",
                dir.root.display()
            );
        };
        return import_into_store(&dir, &args, &eds, lock);
    }
    match dir.try_lock()? {
        Some(lock) => import_directly(&dir, args, lock),
        None => import_into_running(&dir, args),
    }
}

/// The cluster this import writes into, if any; refuses to write into the embedded stores of
/// a directory that serves a cluster (nothing would ever serve those records).
fn cluster_of(dir: &DataDir, args: &ImportArgs) -> anyhow::Result<Option<Cluster>> {
    match (&args.database, &args.object_store_bucket) {
        (Some(database), Some(bodies)) => Ok(Some(Cluster::new(database, bodies.clone()))),
        (None, None) if dir.cluster_file().exists() => bail!(
            "{} is a node of a cluster: give cairn import the cluster's database and object store (--config, or --database and --object-store), so the records go into the cluster's journal",
            dir.root.display()
        ),
        (None, None) => Ok(None),
        _ => bail!(
            "a cluster needs both a database (--database, `database`) and an object store (--object-store, `[object_store] url`)"
        ),
    }
}

/// Files per append into an event data store (each append is one durable step).
const STORE_BATCH_FILES: usize = 64;
const STORE_BATCH_RECORDS: usize = 50_000;

/// The stream an import of these files writes: named after the sorted paths, so the same
/// import run again is recognized, and numbered by the files in that order.
fn store_stream(files: &[PathBuf]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for f in files {
        let full = std::fs::canonicalize(f).unwrap_or_else(|_| f.clone());
        h.update(full.to_string_lossy().as_bytes());
        h.update(b"\n");
    }
    format!("import-cli-{}", &hex::encode(h.finalize())[..16])
}

/// Loads files straight into an event data store's columnar files.
fn import_into_store(
    dir: &DataDir,
    args: &ImportArgs,
    named: &str,
    _lock: std::fs::File,
) -> anyhow::Result<()> {
    use cairn_store::lake::Columnar;
    let layout = open::layout(dir);
    let meta = cairn_store::lake::SqliteLake::open(&layout.lake_db())
        .with_context(|| format!("opening {}", layout.lake_db().display()))?;
    let id = match named.rsplit_once("eventdatastore/") {
        Some((_, id)) if named.starts_with("arn:") => id.to_ascii_lowercase(),
        _ => named.to_ascii_lowercase(),
    };
    let Some(store) = meta.store_by_id(&id)? else {
        bail!("no event data store {named} in {}", dir.root.display());
    };
    if store.status == "PENDING_DELETION" {
        bail!("the event data store {} is pending deletion", store.arn);
    }
    let paths = &args.paths;
    let lake = cairn_lake::Lake::open_with(&layout.lake(), args.lake_bucket.as_ref())
        .with_context(|| format!("opening the lake at {}", layout.lake().display()))?;
    // Digest files sit beside log files in a trail's bucket; they hold no events.
    let mut files: Vec<PathBuf> = discover(paths)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .into_iter()
        .filter(|f| !f.to_string_lossy().contains("CloudTrail-Digest"))
        .collect();
    files.sort();
    files.dedup();
    let stream = store_stream(&files);
    // Events older than the store's retention period are left out (the server's retention
    // pass would drop them), as StartImport does.
    let keep_from = retained_from(&store.settings, SystemClock.now_millis());
    let done = lake.committed(&store.id, &stream)?.unwrap_or(0);
    let bar = progress_bar(&files);
    let mut report = ImportReport::default();
    let mut skipped = 0u64;
    let mut i = 0usize;
    while i < files.len() {
        let first = i as u64 + 1;
        let mut records = Vec::new();
        let mut batch_bytes = 0;
        while i < files.len()
            && (i as u64 + 1 - first) < STORE_BATCH_FILES as u64
            && records.len() < STORE_BATCH_RECORDS
        {
            let f = &files[i];
            i += 1;
            batch_bytes += std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
            report.files += 1;
            if (i as u64) <= done {
                skipped += 1;
                continue;
            }
            let (found, errors) = read_records(f);
            report.errors.extend(errors);
            report.records += found.len() as u64;
            records.extend(found.into_iter().filter(|r| retained(r, keep_from)));
        }
        let last = i as u64;
        if last > done {
            let appended = lake.append(
                &store.id,
                &stream,
                first.max(done + 1),
                last,
                &mut records
                    .iter()
                    .map(|r| std::borrow::Cow::Borrowed(r.as_str())),
            )?;
            report.imported += appended.rows;
            for (n, why) in appended.refused {
                eprintln!("error: record {n} of files {first}-{last}: {why}");
            }
        }
        bar.inc(batch_bytes);
    }
    bar.finish_and_clear();
    for e in &report.errors {
        eprintln!("error: {e}");
    }
    let mut bad: Vec<&str> = report.errors.iter().map(|e| e.file.as_str()).collect();
    bad.dedup();
    println!(
        "imported {} records into event data store {} from {} files ({} files imported before, skipped); {} files had errors",
        report.imported,
        store.arn,
        report.files,
        skipped,
        bad.len()
    );
    if !report.errors.is_empty() {
        std::process::exit(1);
    }
    Ok(())
}

fn progress_bar(files: &[PathBuf]) -> indicatif::ProgressBar {
    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "importing {bar:40} {bytes}/{total_bytes} {msg} ({eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// What an import did, as the user reads it; exits 1 when files had errors.
fn finish(report: &ImportReport, account: &str, via: &str) -> anyhow::Result<()> {
    for e in &report.errors {
        eprintln!("error: {e}");
    }
    let mut bad: Vec<&str> = report.errors.iter().map(|e| e.file.as_str()).collect();
    bad.dedup();
    println!(
        "imported {} records into account {account}{via} ({} already present) from {} files; {} files had errors",
        report.imported,
        report.duplicates,
        report.files,
        bad.len()
    );
    if !report.errors.is_empty() {
        std::process::exit(1);
    }
    Ok(())
}

/// `cairn serve` holds the data directory: send the records to it, in batches, signed with
/// the account's root key; each is in event history when its batch is answered.
fn import_into_running(dir: &DataDir, args: ImportArgs) -> anyhow::Result<()> {
    let (endpoint, settings, key) = crate::env::admin_endpoint(dir, args.account.as_deref())?;
    let send = |batch: &mut Vec<String>, report: &mut ImportReport| -> anyhow::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let body = serde_json::json!({ "Records": std::mem::take(batch) });
        let answer =
            crate::env::admin_call(&endpoint, &settings, "Cairn.Import", &body, "the import")?;
        let v: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
        let count = |k: &str| v.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
        report.records += count("Records");
        report.imported += count("Imported");
        report.duplicates += count("Duplicates");
        Ok(())
    };
    let files = discover(&args.paths).map_err(|e| anyhow::anyhow!("{e}"))?;
    let bar = progress_bar(&files);
    let mut report = ImportReport::default();
    let (mut batch, mut batch_bytes) = (Vec::new(), 0usize);
    for f in &files {
        let (records, errors) = read_records(f);
        report.files += 1;
        report.errors.extend(errors);
        for raw in records {
            // A record's text grows a little as a JSON string (quotes, escapes).
            let size = raw.len() + raw.len() / 8 + 8;
            if batch_bytes + size > cairn_services::admin::MAX_BATCH_BYTES {
                send(&mut batch, &mut report)?;
                batch_bytes = 0;
            }
            batch_bytes += size;
            batch.push(raw);
        }
        bar.inc(std::fs::metadata(f).map(|m| m.len()).unwrap_or(0));
    }
    send(&mut batch, &mut report)?;
    bar.finish_and_clear();
    let via = format!(" through the running instance at {}", settings.endpoint);
    finish(&report, key.account.as_str(), &via)
}

fn import_directly(dir: &DataDir, args: ImportArgs, _lock: std::fs::File) -> anyhow::Result<()> {
    let cluster = cluster_of(dir, &args)?;
    let (stores, key, created) = open::open_node(dir, cluster.as_ref(), SystemClock.now_millis())?;
    if created {
        eprintln!(
            "created account {} in {} (run `cairn env` for its credentials)",
            key.account,
            dir.root.display()
        );
    }
    let account = match args.account {
        Some(a) => {
            let known = stores
                .identity
                .accounts()?
                .into_iter()
                .any(|x| x.id.as_str() == a);
            if !known {
                bail!("account {a} does not exist in {}", dir.root.display());
            }
            a
        }
        None => key.account.to_string(),
    };
    let files = discover(&args.paths).map_err(|e| anyhow::anyhow!("{e}"))?;
    let bar = progress_bar(&files);
    let importer = Importer {
        journal: stores.journal.clone(),
        history: stores.history.clone(),
        account: account.clone(),
    };
    let report = importer
        .import_files(&files, |_, size| bar.inc(size))
        .context("writing to the journal")?;
    bar.finish_and_clear();
    finish(&report, &account, "")
}
