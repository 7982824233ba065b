//! `cairn clock advance`: moves the test clock of a running `cairn serve --test-clock` forward
//! and waits until the trail deliveries and digests that became due are written.

use crate::DataDirArg;
use crate::datadir::DataDir;

#[derive(clap::Subcommand)]
pub enum ClockCommand {
    /// Jump the instance's time ahead (seconds, or with a unit: `90s`, `5m`, `1h`), then run
    /// the deliveries and digests that became due; prints the new time and what was written.
    Advance(AdvanceArgs),
}

#[derive(clap::Args)]
pub struct AdvanceArgs {
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// How far: seconds, or with a unit (`1h`, `30m`, `2s`). `0` only runs what is due.
    #[arg(value_name = "DURATION", value_parser = crate::duration::at_least(0))]
    pub by: u64,
}

pub fn run(cmd: ClockCommand) -> anyhow::Result<()> {
    match cmd {
        ClockCommand::Advance(a) => advance(a),
    }
}

fn advance(a: AdvanceArgs) -> anyhow::Result<()> {
    let dir = DataDir::resolve(&a.data_dir)?;
    let (endpoint, settings, _) = crate::env::admin_endpoint(&dir, None)?;
    let body = serde_json::json!({ "Seconds": a.by });
    let answer = crate::env::admin_call(
        &endpoint,
        &settings,
        "Cairn.AdvanceClock",
        &body,
        "moving its clock",
    )?;
    let v: serde_json::Value = serde_json::from_slice(&answer)?;
    let now = v
        .get("Now")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(0);
    let ran = v.get("Ran").cloned().unwrap_or_default();
    let n = |k: &str| ran.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
    println!(
        "{} (test clock {} s ahead): {} log files, {} digests written",
        cairn_model::timefmt::event_time(now),
        v.get("OffsetSeconds")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(0),
        n("LogFiles"),
        n("Digests")
    );
    Ok(())
}
