//! The `cairn` command: serve the AWS endpoint, print client settings, import records.

mod accounts;
mod bench;
mod checks;
mod clock;
mod config;
mod datadir;
mod duration;
mod env;
mod fault;
mod findings;
mod import;
mod lab;
mod migrate;
mod open;
mod operations;
mod query;
mod recipes;
mod rounds;
mod serve;
mod tls;
mod validate;

use std::path::PathBuf;

/// mimalloc rather than the system allocator: the SQL engine allocates and frees many buffers
/// from several threads at once, where glibc's per-thread arenas grow and lock. Built without
/// transparent huge pages: each thread's first allocations would fault in and zero 2 MiB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cairn",
    version,
    about = "CloudTrail you can run yourself: an AWS-compatible endpoint that records every call.",
    long_about = "cairn serves an AWS-compatible endpoint (SigV4-authenticated, one port for every service), \
records every call made to it as a CloudTrail event in a durable journal, and answers event-history \
queries (LookupEvents) so the AWS CLI, boto3 and CloudTrail tools work against it unchanged.\n\n\
Start it with `cairn serve`, then `eval \"$(cairn env)\"` in another shell and use the AWS CLI."
)]
struct Cli {
    /// Configuration file (TOML: data_dir, listen, region, history_retention_days, delivery_interval, digest_interval, signing_key_validity, [[external_bucket]], [lake], [lambda], database, [object_store]). Flags and
    /// CAIRN_* variables override it. Default: ~/.config/cairn/cairn.toml when it exists.
    #[arg(long, global = true, env = "CAIRN_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// Where cairn keeps its data; shared by every subcommand.
#[derive(clap::Args, Clone)]
pub struct DataDirArg {
    /// Data directory: journal, event history, credentials. Created on first use (mode 0700).
    /// Default: $XDG_DATA_HOME/cairn, else ~/.local/share/cairn.
    #[arg(long, env = "CAIRN_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the AWS endpoint. The first start creates an account and its root credentials and
    /// prints them once.
    Serve(Box<serve::ServeArgs>),
    /// Print `export` lines (endpoint, keys, region) for this instance: eval "$(cairn env)".
    Env(env::EnvArgs),
    /// Load CloudTrail records from files or folders (recursively) into the journal.
    /// Reads delivery files (.json/.json.gz with {"Records":[…]}), JSON arrays, JSON lines,
    /// EventBridge envelopes and LookupEvents output. Importing the same record twice is a no-op.
    /// Stop `cairn serve` on the same data directory first.
    Import(import::ImportArgs),
    /// Copy a stopped embedded instance (its data directory) into an empty cluster: PostgreSQL
    /// (--database) and an S3-compatible bucket (--object-store), resolved as `cairn serve`
    /// resolves them. Copies accounts and IAM (keys keep working), KMS keys, trails with their
    /// delivery and digest state, S3 buckets and every object version, the journal (event
    /// history is rebuilt from it), CloudWatch Logs, metrics and alarms, SNS, SQS, Lambda,
    /// EventBridge, the Lake's metadata and detection findings. Not copied yet (refused when present): event data
    /// stores that ingest CloudTrail events, and event data stores' files under the data directory. The data directory then holds the cluster's master keys and is
    /// the first node's directory; the command prints which key files to copy to other nodes.
    Migrate(migrate::MigrateArgs),
    /// Validate a trail's digests and log files, like `aws cloudtrail validate-logs` but faster
    /// and stricter: also catches deleted runs of digests, deleted newest digests (from what
    /// cairn knows it delivered), digests outside the chain and log files no digest lists.
    /// Exit 0 when everything is valid, 1 when anything is not, 255 on errors.
    ValidateLogs(validate::ValidateArgs),
    /// Accounts on this instance: create another (with its own root keys, resources, trails
    /// and history) or list them.
    #[command(subcommand)]
    Accounts(accounts::AccountsCommand),
    /// List every operation of every service: IAM actions, CloudTrail category, read-only,
    /// which policies decide it, and whether cairn serves it.
    Operations(operations::OperationsArgs),
    /// SQL over AWS CloudTrail log files or an event data store, as CloudTrail Lake runs it:
    /// `cairn query --from ./logs "SELECT eventname, count(*) FROM events GROUP BY 1"`. Log
    /// files are converted once into a cached columnar copy, reused while they are unchanged.
    Query(query::QueryArgs),
    /// Move the test clock of a `cairn serve --test-clock` instance.
    #[command(subcommand)]
    Clock(clock::ClockCommand),
    /// Best-practice checks of an account on a running instance: AWS Security Hub's CIS
    /// controls for CloudTrail, CloudWatch and KMS (multi-Region trail, log file validation,
    /// encryption, CloudWatch Logs integration, trail bucket not public, the fourteen metric
    /// filter and alarm controls, key rotation), each with the reason and the fix in one line.
    /// Exits 1 when a control failed.
    Checks(checks::ChecksArgs),
    /// What the detection engine of a running instance found: Sigma rules (cairn's CIS
    /// monitoring and attack-technique sets, and `serve --sigma-rules` folders) firing on an
    /// account's calls.
    Findings(findings::FindingsArgs),
    /// The course's labs on a running instance: exercises (create a trail, event history, log
    /// files, validation, alerts, real-time functions, best practices) and investigations of
    /// real attacks replayed into the account, each graded through the public APIs.
    #[command(subcommand)]
    Lab(lab::LabCommand),
    /// Make a `cairn serve --test-faults` instance fail on purpose (for tests of audit that
    /// fails closed).
    Fault(fault::FaultArgs),
    /// Benchmarks (build with --release): load through the edge, journal appends, LookupEvents.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Ready-made set-ups made through the public API (the CIS monitoring alarms).
    #[command(subcommand)]
    Recipes(recipes::RecipesCommand),
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CAIRN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches)?;
    let file = config::load(cli.config.as_deref())?;
    let with_file_dir = |mut d: DataDirArg| {
        if d.data_dir.is_none() {
            d.data_dir = file.data_dir.clone();
        }
        d
    };
    match cli.command {
        Command::Serve(mut a) => {
            a.data_dir = with_file_dir(a.data_dir);
            if let Some(m) = matches.subcommand_matches("serve") {
                if let Some(l) = &file.listen
                    && config::is_default(m, "listen")
                {
                    a.listen = l
                        .parse()
                        .with_context(|| format!("listen = {l:?} in the configuration file"))?;
                }
                if let Some(r) = &file.region
                    && config::is_default(m, "region")
                {
                    a.region = r.clone();
                }
                if let Some(d) = file.history_retention_days
                    && config::is_default(m, "history_retention_days")
                {
                    a.history_retention_days = d;
                }
                if let Some(d) = &file.delivery_interval
                    && config::is_default(m, "delivery_interval")
                {
                    a.delivery_interval = d.seconds("delivery_interval", 1)?;
                }
                if let Some(d) = &file.digest_interval
                    && config::is_default(m, "digest_interval")
                {
                    a.digest_interval = d.seconds("digest_interval", 1)?;
                }
                if let Some(d) = &file.signing_key_validity
                    && config::is_default(m, "signing_key_validity")
                {
                    a.signing_key_validity = d.seconds("signing_key_validity", 2)?;
                }
                if let Some(p) = file.lambda.as_ref().and_then(|l| l.python.as_ref())
                    && config::is_default(m, "lambda_python")
                {
                    a.lambda_python = p.clone();
                }
                if let Some(p) = file.lambda.as_ref().and_then(|l| l.python_path.as_ref())
                    && config::is_default(m, "lambda_python_path")
                {
                    a.lambda_python_path = p.clone();
                }
                if let Some(p) = file
                    .detections
                    .as_ref()
                    .and_then(|d| d.sigma_rules.as_ref())
                    && config::is_default(m, "sigma_rules")
                {
                    a.sigma_rules = p.clone();
                }
            }
            for b in &file.external_bucket {
                a.external_buckets.push(b.resolve()?);
            }
            a.lake_bucket = file.lake_bucket()?;
            a.gateway = config::gateway(&a.upstream, &file)?;
            if a.database.is_none() {
                a.database = file.database.clone();
            }
            if a.object_store.is_none() {
                a.object_store = file.object_store.as_ref().map(|o| o.url.clone());
            }
            match (&a.database, &a.object_store) {
                (Some(_), Some(url)) => {
                    a.object_store_bucket = Some(config::object_store_bucket(
                        url,
                        &file.external_bucket,
                        |k| std::env::var(k).ok(),
                    )?)
                }
                (None, None) => {}
                _ => anyhow::bail!(
                    "a cluster node needs both a database (--database, `database`) and an object store (--object-store, `[object_store] url`)"
                ),
            }
            serve::run(*a)
        }
        Command::Operations(a) => operations::run(a),
        Command::Clock(c) => {
            let c = match c {
                clock::ClockCommand::Advance(mut a) => {
                    a.data_dir = with_file_dir(a.data_dir);
                    clock::ClockCommand::Advance(a)
                }
            };
            clock::run(c)
        }
        Command::Fault(mut a) => {
            a.data_dir = with_file_dir(a.data_dir);
            fault::run(a)
        }
        Command::Checks(mut a) => {
            a.data_dir = with_file_dir(a.data_dir);
            checks::run(a)
        }
        Command::Findings(mut a) => {
            a.data_dir = with_file_dir(a.data_dir);
            findings::run(a)
        }
        Command::Lab(mut a) => {
            let common = a.common_mut();
            common.data_dir = with_file_dir(common.data_dir.clone());
            lab::run(a)
        }
        Command::Env(mut a) => {
            a.data_dir = with_file_dir(a.data_dir);
            env::run(a)
        }
        Command::Import(mut a) => {
            a.data_dir = with_file_dir(a.data_dir);
            a.lake_bucket = file.lake_bucket()?;
            if a.database.is_none() {
                a.database = file.database.clone();
            }
            if a.object_store.is_none() {
                a.object_store = file.object_store.as_ref().map(|o| o.url.clone());
            }
            if let Some(url) = &a.object_store {
                a.object_store_bucket = Some(config::object_store_bucket(
                    url,
                    &file.external_bucket,
                    |k| std::env::var(k).ok(),
                )?);
            }
            import::run(a)
        }
        Command::Query(mut a) => {
            a.data_dir = with_file_dir(a.data_dir);
            a.lake_bucket = file.lake_bucket()?;
            // A cluster's event data stores are in its object store unless `[lake]` says.
            if a.lake_bucket.is_none()
                && let Some(store) = &file.object_store
            {
                a.lake_bucket = Some(serve::lake_beside_bodies(&config::object_store_bucket(
                    &store.url,
                    &file.external_bucket,
                    |k| std::env::var(k).ok(),
                )?));
            }
            query::run(a)
        }
        Command::Migrate(mut a) => {
            a.data_dir = with_file_dir(a.data_dir);
            a.lake_bucket = file.lake_bucket()?;
            if a.database.is_none() {
                a.database = file.database.clone();
            }
            if a.object_store.is_none() {
                a.object_store = file.object_store.as_ref().map(|o| o.url.clone());
            }
            if let Some(url) = &a.object_store {
                a.object_store_bucket = Some(config::object_store_bucket(
                    url,
                    &file.external_bucket,
                    |k| std::env::var(k).ok(),
                )?);
            }
            migrate::run(a)
        }
        Command::ValidateLogs(mut a) => {
            a.data_dir = with_file_dir(a.data_dir);
            validate::run(a)
        }
        Command::Accounts(c) => accounts::run(c, with_file_dir),
        Command::Bench(c) => bench::run(c),
        Command::Recipes(c) => recipes::run(c),
    }
}
