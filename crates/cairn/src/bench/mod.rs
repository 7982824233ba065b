//! `cairn bench`: the benchmarks behind docs/BENCHMARKS.md. Each prints its figures as text and,
//! with `--json`, as one JSON object per line.

mod console;
mod delivery;
mod detect;
mod digest;
mod journal;
mod labs;
mod lake;
mod load;
mod loadfloor;
mod logs;
mod lookup;
mod patterns;
mod policy;
mod s3floor;
mod s3load;
mod versions;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Signed API calls per second against a running endpoint (cairn or a peer such as
    /// moto_server), from this separate process. Credentials and endpoint come from
    /// AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, as `eval "$(cairn env)"` sets them;
    /// `--endpoint` (repeatable) loads other endpoints instead, such as a cluster's nodes.
    Load(load::LoadArgs),
    /// Raw journal append rate (fsync'd group commits) for records of a given size.
    Journal(journal::JournalArgs),
    /// LookupEvents latency over an event history of N events.
    Lookup(lookup::LookupArgs),
    /// Trail delivery throughput: journal to stored log files.
    Delivery(delivery::DeliveryArgs),
    /// The web console's Event history page over an event history of N events: server time
    /// per page with each filter.
    Console(console::ConsoleArgs),
    /// Digest crypto: SHA256withRSA signatures and verifications per second, SHA-256 and
    /// gunzip + SHA-256 throughput over log-file bytes.
    Digest(digest::DigestArgs),
    /// IAM policy decisions per second (a user's four identity policies and a bucket policy,
    /// with conditions and policy variables) and documents parsed per second.
    Policy(policy::PolicyArgs),
    /// S3 PUT then GET throughput against AWS_ENDPOINT_URL (cairn or a peer), signed like an SDK.
    S3(s3load::S3Args),
    /// CloudWatch Logs against AWS_ENDPOINT_URL (cairn or a peer): PutLogEvents ingest with
    /// full batches (events stored per second), then FilterLogEvents latency over them.
    Logs(logs::LogsArgs),
    /// EventBridge pattern matching on one core: 100 alerting rules over real CloudTrail
    /// envelopes, JSON parsing included (events/s and event-rule matches/s).
    Patterns(patterns::PatternsArgs),
    /// Detection on one core: cairn's rule sets and SigmaHQ's CloudTrail rules (about 100)
    /// over real CloudTrail records (records/s, with and without JSON parsing).
    Detect(detect::DetectArgs),
    /// Lake ingest: a synthesized corpus of gzip'd CloudTrail delivery files (real records,
    /// new ids and times) converted into an event data store's Parquet files, as
    /// `cairn query --from` does (events/s).
    Lake(lake::LakeArgs),
    /// Labs against a running instance (`cairn serve`): each lab's start (an investigation's
    /// whole set-up) and its check, timed as `cairn lab` sees them.
    Labs(labs::LabsArgs),
    /// ListObjectVersions over 1M versions of a versioned bucket, in process against the
    /// embedded S3 store: every page of 1,000 timed.
    Versions(versions::VersionsArgs),
}

pub fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Load(a) => load::run(a),
        BenchCommand::Journal(a) => journal::run(a),
        BenchCommand::Lookup(a) => lookup::run(a),
        BenchCommand::Delivery(a) => delivery::run(a),
        BenchCommand::Console(a) => console::run(a),
        BenchCommand::S3(a) => s3load::run(a),
        BenchCommand::Digest(a) => digest::run(a),
        BenchCommand::Policy(a) => policy::run(a),
        BenchCommand::Logs(a) => logs::run(a),
        BenchCommand::Patterns(a) => patterns::run(a),
        BenchCommand::Lake(a) => lake::run(a),
        BenchCommand::Detect(a) => detect::run(a),
        BenchCommand::Labs(a) => labs::run(a),
        BenchCommand::Versions(a) => versions::run(a),
    }
}

/// The p-th percentile of sorted samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Peak resident set size of a process, in KiB (VmHWM from /proc).
pub fn peak_rss_kib(pid: Option<u32>) -> Option<u64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/status"),
        None => "/proc/self/status".to_owned(),
    };
    let s = std::fs::read_to_string(path).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}
