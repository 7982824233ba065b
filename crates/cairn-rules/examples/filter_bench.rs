//! Throughput of the filter engine: every real CloudTrail record against the 14 CIS patterns
//! (Security Hub CloudWatch.1–14), repeatedly, on one thread.
//!
//! `cargo run --release -p cairn-rules --example filter_bench [seconds]`
//!
//! Prints records/s two ways: the patterns one by one (each scans the record itself), and as a
//! `FilterSet` (one scan per record for all fourteen), which is how a log group's metric
//! filters run.

#[path = "../tests/filter_corpus/mod.rs"]
mod filter_corpus;

use std::hint::black_box;
use std::time::{Duration, Instant};

use cairn_rules::filter::FilterPattern;
use cairn_rules::filter::FilterSet;
use cairn_rules::filter::cis::CIS_FILTERS;

/// This thread's CPU time (user + system) from `/proc/thread-self/stat`, so that a busy shared
/// machine does not count other processes' time against the engine. `None` off Linux.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every mainstream Linux configuration.
    Some(Duration::from_millis(ticks * 10))
}

fn run(
    label: &str,
    records: &[String],
    budget: Duration,
    mut per_record: impl FnMut(&str) -> usize,
) {
    let cpu0 = thread_cpu();
    let start = Instant::now();
    let mut n = 0usize;
    let mut hits = 0usize;
    while start.elapsed() < budget {
        for r in records {
            hits += per_record(r);
        }
        n += records.len();
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu0.and_then(|c0| Some(thread_cpu()?.saturating_sub(c0).as_secs_f64()));
    let bytes: usize = records.iter().map(String::len).sum();
    let passes = n / records.len();
    println!(
        "{label:<22} {:>9.0} records/s wall, {:>9} records/s of CPU time  ({:.0} MB/s wall, {passes} passes, {} matches per pass)",
        n as f64 / secs,
        cpu.filter(|&c| c > 0.0)
            .map_or("n/a".to_owned(), |c| format!("{:.0}", n as f64 / c)),
        (bytes * passes) as f64 / secs / 1e6,
        hits / passes.max(1)
    );
}

fn main() {
    let secs: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let Some(records) = filter_corpus::load() else {
        return;
    };
    let records: Vec<String> = records.into_iter().map(|r| r.line).collect();
    let avg = records.iter().map(String::len).sum::<usize>() / records.len();
    println!(
        "{} real CloudTrail records, {avg} bytes on average; 14 CIS patterns; one thread",
        records.len()
    );
    let patterns: Vec<FilterPattern> = CIS_FILTERS
        .iter()
        .map(|f| FilterPattern::parse(f.pattern).expect("CIS pattern"))
        .collect();
    let budget = Duration::from_secs(secs);
    run("patterns one by one", &records, budget, |r| {
        patterns.iter().filter(|p| p.is_match(black_box(r))).count()
    });
    let set = FilterSet::new(patterns.clone());
    let mut out = Vec::new();
    run("FilterSet (one scan)", &records, budget, |r| {
        set.matches_into(black_box(r), &mut out);
        out.iter().filter(|&&b| b).count()
    });
}
