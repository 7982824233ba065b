//! Raw journal append rate: records of a fixed size, fsync'd group commits.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use cairn_store::journal::{Journal, JournalConfig, NoHook, SegmentJournal};

use super::peak_rss_kib;

#[derive(clap::Args)]
pub struct JournalArgs {
    /// Records to append in each mode.
    #[arg(long, default_value_t = 200_000)]
    pub records: u64,
    /// Record size in bytes.
    #[arg(long, default_value_t = 1024)]
    pub size: usize,
    /// Concurrent writers appending one record per call (group commit gathers them).
    #[arg(long, default_value_t = 64)]
    pub writers: u64,
    /// Directory to write the journal in (a fresh temporary one by default).
    #[arg(long)]
    pub dir: Option<std::path::PathBuf>,
    /// Print JSON lines instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: JournalArgs) -> anyhow::Result<()> {
    let tmp = tempfile::Builder::new()
        .prefix("cairn-bench-journal")
        .tempdir_in(args.dir.clone().unwrap_or_else(std::env::temp_dir))?;
    let record = vec![b'x'; args.size];

    // One record per append call, from many writers at once: what recording calls looks like.
    let j = SegmentJournal::open(
        &tmp.path().join("single"),
        JournalConfig::default(),
        Box::new(NoHook),
    )?;
    let left = Arc::new(AtomicU64::new(args.records));
    let t0 = Instant::now();
    let threads: Vec<_> = (0..args.writers)
        .map(|_| {
            let j = j.clone();
            let left = Arc::clone(&left);
            let record = record.clone();
            std::thread::spawn(move || -> anyhow::Result<()> {
                while left
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok()
                {
                    j.append(vec![record.clone()]).wait_blocking()?;
                }
                Ok(())
            })
        })
        .collect();
    for t in threads {
        t.join().map_err(|_| anyhow::anyhow!("writer panicked"))??;
    }
    let single = args.records as f64 / t0.elapsed().as_secs_f64();
    drop(j);

    // Batches of 1,000 per call: what imports look like.
    let j = SegmentJournal::open(
        &tmp.path().join("batched"),
        JournalConfig::default(),
        Box::new(NoHook),
    )?;
    let t0 = Instant::now();
    let mut done = 0;
    while done < args.records {
        let n = (args.records - done).min(1000);
        j.append((0..n).map(|_| record.clone()).collect())
            .wait_blocking()?;
        done += n;
    }
    let batched = args.records as f64 / t0.elapsed().as_secs_f64();
    let rss = peak_rss_kib(None);
    if args.json {
        println!(
            "{}",
            serde_json::json!({"bench": "journal", "record_bytes": args.size, "records": args.records,
                "writers": args.writers, "single_appends_per_s": single.round(),
                "batched_appends_per_s": batched.round(), "peak_rss_kib": rss})
        );
    } else {
        println!(
            "journal: {} records of {} B: {single:.0} appends/s from {} concurrent writers (one record per call), {batched:.0} appends/s in batches of 1000; every commit fsync'd; peak RSS {} MiB",
            args.records,
            args.size,
            args.writers,
            rss.unwrap_or(0) / 1024
        );
    }
    Ok(())
}
