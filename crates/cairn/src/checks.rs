//! `cairn checks`: the best-practice checks of an account on a running `cairn serve` (AWS
//! Security Hub's CIS AWS Foundations Benchmark controls for CloudTrail, CloudWatch and KMS),
//! each with its status, the reason and the fix in one line.

use serde_json::Value;

use crate::DataDirArg;
use crate::datadir::DataDir;

#[derive(clap::Args)]
pub struct ChecksArgs {
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// Whose: an account id of this instance (default: the first account).
    #[arg(long, value_name = "ACCOUNT")]
    pub account: Option<String>,
    /// `table` (a line each, then the reason and fix of each that did not pass) or `json`
    /// (one JSON object per control).
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    pub output: String,
}

/// Runs the checks; exits 1 when a control failed (0 when all passed or could not be told).
pub fn run(a: ChecksArgs) -> anyhow::Result<()> {
    let dir = DataDir::resolve(&a.data_dir)?;
    let (endpoint, settings, _) = crate::env::admin_endpoint(&dir, a.account.as_deref())?;
    let answer = crate::env::admin_call(
        &endpoint,
        &settings,
        "Cairn.RunChecks",
        &serde_json::json!({}),
        "checking the account",
    )?;
    let v: Value = serde_json::from_slice(&answer)?;
    let controls = v
        .get("Controls")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let s = |c: &Value, k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    if a.output == "json" {
        for c in &controls {
            println!("{c}");
        }
    } else {
        println!("{:<13}  {:<4}  {:<13}  TITLE", "CONTROL", "CIS", "STATUS");
        for c in &controls {
            println!(
                "{:<13}  {:<4}  {:<13}  {}",
                s(c, "control"),
                s(c, "cis"),
                s(c, "status"),
                s(c, "title")
            );
        }
        for c in controls.iter().filter(|c| s(c, "status") != "PASSED") {
            println!();
            println!(
                "{} ({}): {}",
                s(c, "control"),
                s(c, "status"),
                s(c, "reason")
            );
            println!("  fix: {}", s(c, "fix"));
        }
    }
    let count = |st: &str| controls.iter().filter(|c| s(c, "status") == st).count();
    eprintln!(
        "{} passed, {} failed, {} not available",
        count("PASSED"),
        count("FAILED"),
        count("NOT_AVAILABLE")
    );
    if count("FAILED") > 0 {
        std::process::exit(1);
    }
    Ok(())
}
