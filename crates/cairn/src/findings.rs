//! `cairn findings`: what the detection engine of a running `cairn serve` found in an
//! account's calls, oldest first, as a table or as JSON lines.

use serde_json::Value;

use crate::DataDirArg;
use crate::datadir::DataDir;

#[derive(clap::Args)]
pub struct FindingsArgs {
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// Whose findings: an account id of this instance (default: the first account).
    #[arg(long, value_name = "ACCOUNT")]
    pub account: Option<String>,
    /// `table` (one line each) or `json` (one JSON object per line, every field).
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    pub output: String,
    /// Only findings of this level or above: informational, low, medium, high, critical.
    #[arg(long, value_name = "LEVEL", value_parser = ["informational", "low", "medium", "high", "critical"])]
    pub min_level: Option<String>,
}

fn rank(level: &str) -> u8 {
    match level {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

pub fn run(a: FindingsArgs) -> anyhow::Result<()> {
    let dir = DataDir::resolve(&a.data_dir)?;
    let (endpoint, settings, _) = crate::env::admin_endpoint(&dir, a.account.as_deref())?;
    let floor = a.min_level.as_deref().map_or(0, rank);
    let mut after = 0i64;
    let mut shown = 0usize;
    if a.output == "table" {
        println!(
            "{:<20}  {:<8}  {:<44}  {:<24}  WHO",
            "FOUND (UTC)", "LEVEL", "RULE", "CALL"
        );
    }
    loop {
        let body = serde_json::json!({ "After": after, "MaxResults": 1000 });
        let answer = crate::env::admin_call(
            &endpoint,
            &settings,
            "Cairn.ListFindings",
            &body,
            "listing its findings",
        )?;
        let v: Value = serde_json::from_slice(&answer)?;
        let findings = v
            .get("Findings")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for f in &findings {
            let s = |k: &str| f.get(k).and_then(Value::as_str).unwrap_or("");
            if rank(s("level")) < floor {
                continue;
            }
            shown += 1;
            if a.output == "json" {
                println!("{f}");
                continue;
            }
            let found = f
                .get("createdMs")
                .and_then(Value::as_i64)
                .map(cairn_model::timefmt::event_time)
                .unwrap_or_default();
            let mut rule = s("title").to_owned();
            if let Some(n) = f.get("count").and_then(Value::as_u64).filter(|n| *n > 1) {
                rule = format!("{rule} (×{n})");
            }
            println!(
                "{:<20}  {:<8}  {:<44}  {:<24}  {}",
                found,
                s("level"),
                rule,
                format!(
                    "{}:{}",
                    s("eventSource").trim_end_matches(".amazonaws.com"),
                    s("eventName")
                ),
                s("principal")
            );
        }
        match v.get("NextAfter").and_then(Value::as_i64) {
            Some(next) => after = next,
            None => break,
        }
    }
    if a.output == "table" {
        eprintln!("{shown} findings");
    }
    Ok(())
}
