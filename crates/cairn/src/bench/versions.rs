//! ListObjectVersions over many versions, in process against the embedded S3 store: a
//! versioned bucket holding N versions of K keys (every tenth version a delete marker), then
//! every page of 1,000 read in turn, as a clean-up or an inventory walks them, each timed.
//! The store is what the request handler calls; signing and XML are not in the figure.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use cairn_store::objects::{BucketConfig, NewObject, ObjectsError, SqliteObjects, VersionsQuery};
use serde_json::json;

use super::percentile;

#[derive(clap::Args)]
pub struct VersionsArgs {
    /// Versions in the bucket (delete markers included).
    #[arg(long, default_value_t = 1_000_000)]
    pub versions: u64,
    /// Keys they are spread over.
    #[arg(long, default_value_t = 100_000)]
    pub keys: u64,
    /// Directory to build the store in, or to reuse when it already holds the bucket.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

const BUCKET: &str = "versions-bench";

fn fill(s: &SqliteObjects, a: &VersionsArgs) -> Result<(), ObjectsError> {
    s.create_bucket(BUCKET, "111122223333", "us-east-1", 0)?;
    s.set_bucket_config(BUCKET, BucketConfig::Versioning, Some("Enabled"))?;
    let bar = indicatif::ProgressBar::new(a.versions);
    let keys = a.keys.max(1);
    for i in 0..a.versions {
        let key = format!("logs/{:04}/{:08}.json.gz", (i % keys) % 1000, i % keys);
        if i % 10 == 9 {
            s.delete_object(BUCKET, &key, i as i64)?;
        } else {
            s.put_object(BUCKET, &key, b"x", &NewObject::default(), i as i64)?;
        }
        if i % 1000 == 0 {
            bar.set_position(i);
        }
    }
    bar.finish_and_clear();
    Ok(())
}

pub fn run(a: VersionsArgs) -> anyhow::Result<()> {
    let tmp;
    let dir = match &a.dir {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_owned()
        }
    };
    let s = SqliteObjects::open(&dir).context("opening the store")?;
    if s.bucket(BUCKET)?.is_none() {
        let t = Instant::now();
        fill(&s, &a)?;
        eprintln!(
            "{} versions written in {:.1} s",
            a.versions,
            t.elapsed().as_secs_f64()
        );
    }
    let mut times = Vec::new();
    let mut listed = 0usize;
    let mut q = VersionsQuery {
        bucket: BUCKET.into(),
        max_keys: 1000,
        ..Default::default()
    };
    let all = Instant::now();
    loop {
        let t = Instant::now();
        let page = s.list_versions(&q)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        listed += page.versions.len();
        if !page.truncated {
            break;
        }
        q.key_marker = page.next_key_marker;
        q.version_marker = page.next_version_marker;
    }
    let total = all.elapsed().as_secs_f64();
    times.sort_by(f64::total_cmp);
    let (p50, p99, max) = (
        percentile(&times, 50.0),
        percentile(&times, 99.0),
        percentile(&times, 100.0),
    );
    if a.json {
        println!(
            "{}",
            json!({"versions": listed, "pages": times.len(), "p50_ms": p50, "p99_ms": p99, "max_ms": max, "walk_s": total})
        );
    } else {
        println!(
            "ListObjectVersions: {listed} versions in {} pages of 1000 in {total:.1} s: p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms a page",
            times.len()
        );
    }
    Ok(())
}
