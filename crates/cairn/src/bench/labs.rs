//! Labs against a running instance, as `cairn lab` runs them: every lab started (an
//! investigation's set-up: its lab users, their everyday calls and the attack's records
//! replayed), then, after `--settle` seconds, each checked several times, each check reading
//! the account through the public APIs. Times are what the command sees: the signed admin
//! call to the answer.

use std::time::Instant;

use serde_json::{Value, json};

use super::percentile;
use crate::lab::{Common, call};

#[derive(clap::Args)]
pub struct LabsArgs {
    #[command(flatten)]
    pub common: Common,
    /// Checks timed per lab.
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Seconds to wait between starting every lab and checking them, so that deliveries and
    /// digests happen (with `serve --delivery-interval 1 --digest-interval 10`) and the checks
    /// read what a learner's would: delivered files listed and read, a digest's log file
    /// altered.
    #[arg(long, default_value_t = 0.0)]
    pub settle: f64,
    /// Print JSON lines instead of text.
    #[arg(long)]
    pub json: bool,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

pub fn run(a: LabsArgs) -> anyhow::Result<()> {
    let listed = call(&a.common, "Cairn.ListLabs", &json!({}))?;
    let labs: Vec<(String, String)> = listed
        .get("Labs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|l| {
            let s = |k: &str| l.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            (s("Name"), s("Kind"))
        })
        .collect();
    let (mut worst_start, mut worst_check) = (0.0f64, 0.0f64);
    if !a.json {
        println!(
            "{:<20}  {:<13}  {:>10}  {:>10}  {:>10}",
            "LAB", "KIND", "START ms", "CHECK p50", "CHECK max"
        );
    }
    let mut starts = Vec::with_capacity(labs.len());
    for (name, _) in &labs {
        let t = Instant::now();
        call(&a.common, "Cairn.StartLab", &json!({"Lab": name}))?;
        starts.push(ms(t));
    }
    std::thread::sleep(std::time::Duration::from_secs_f64(a.settle.max(0.0)));
    for ((name, kind), start) in labs.iter().zip(starts) {
        let mut checks = Vec::with_capacity(a.rounds);
        for _ in 0..a.rounds.max(1) {
            let t = Instant::now();
            call(&a.common, "Cairn.CheckLab", &json!({"Lab": name}))?;
            checks.push(ms(t));
        }
        checks.sort_by(f64::total_cmp);
        let (p50, max) = (percentile(&checks, 50.0), percentile(&checks, 100.0));
        worst_start = worst_start.max(start);
        worst_check = worst_check.max(max);
        if a.json {
            println!(
                "{}",
                json!({"lab": name, "kind": kind, "start_ms": start, "check_p50_ms": p50, "check_max_ms": max})
            );
        } else {
            println!("{name:<20}  {kind:<13}  {start:>10.1}  {p50:>10.1}  {max:>10.1}");
        }
    }
    if a.json {
        println!(
            "{}",
            json!({"labs": labs.len(), "slowest_start_ms": worst_start, "slowest_check_ms": worst_check})
        );
    } else {
        println!(
            "{} labs: slowest set-up {worst_start:.0} ms, slowest check {worst_check:.0} ms",
            labs.len()
        );
    }
    Ok(())
}
