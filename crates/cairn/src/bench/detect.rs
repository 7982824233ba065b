//! Detection speed on one core: the detection engine's rules (cairn's own sets, plus the
//! Sigma folders given, SigmaHQ's CloudTrail rules by default: about 100 rules) judging real
//! CloudTrail records, in journal order with their own times. Reports records/s judged from
//! parsed records (the rules alone) and from JSON text (parsing included, as the engine reads
//! the journal), and the findings made.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use cairn_model::timefmt::parse_event_time;
use cairn_rules::sigma::Detector;
use serde_json::{Value, json};

#[derive(clap::Args)]
pub struct DetectArgs {
    /// CloudTrail records, one JSON object per line (gzip if the name ends in .gz).
    #[arg(
        long,
        default_value = "../shared/data/cloudtrail-real/records.jsonl.gz"
    )]
    pub records: PathBuf,
    /// Sigma rule folders judged beside cairn's own sets.
    #[arg(long, default_value = "../shared/data/sigma-aws-cloudtrail/rules")]
    pub sigma_rules: Vec<PathBuf>,
    /// Minimum seconds to spend on each measurement (whole passes over the records).
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: DetectArgs) -> anyhow::Result<()> {
    let mut rules = cairn_services::detections::rules::own();
    for dir in &a.sigma_rules {
        let (r, _) = cairn_services::detections::rules::folder(dir)
            .with_context(|| format!("reading {}", dir.display()))?;
        rules.extend(r);
    }
    let file = std::fs::File::open(&a.records)
        .with_context(|| format!("opening {}", a.records.display()))?;
    let reader: Box<dyn BufRead> = if a.records.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    let mut lines: Vec<String> = reader.lines().collect::<Result<_, _>>()?;
    lines.retain(|l| !l.trim().is_empty());
    let mut parsed: Vec<(i64, Value)> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| {
            (
                v.get("eventTime").and_then(parse_event_time).unwrap_or(0),
                v,
            )
        })
        .collect();
    parsed.sort_by_key(|(t, _)| *t);
    let texts: Vec<String> = parsed.iter().map(|(_, v)| v.to_string()).collect();
    let make = || Detector::new(rules.iter().map(|r| r.rule.clone()).collect());

    // The rules alone, over parsed records.
    let (mut judged, mut findings) = (0u64, 0u64);
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < a.seconds {
        let mut d = make();
        for (t, v) in &parsed {
            findings += d.observe(v, *t).len() as u64;
        }
        judged += parsed.len() as u64;
    }
    let rules_only = judged as f64 / start.elapsed().as_secs_f64();
    let findings_per_pass = findings as f64 / (judged as f64 / parsed.len() as f64);

    // Parsing included, as the engine reads the journal.
    let mut judged_text = 0u64;
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < a.seconds {
        let mut d = make();
        for text in &texts {
            let Ok(v) = serde_json::from_str::<Value>(text) else {
                continue;
            };
            let t = v.get("eventTime").and_then(parse_event_time).unwrap_or(0);
            d.observe(&v, t);
        }
        judged_text += texts.len() as u64;
    }
    let with_parsing = judged_text as f64 / start.elapsed().as_secs_f64();

    if a.json {
        println!(
            "{}",
            json!({
                "bench": "detect",
                "rules": rules.len(),
                "records": parsed.len(),
                "records_per_s": rules_only.round(),
                "records_per_s_with_parsing": with_parsing.round(),
                "findings_per_pass": findings_per_pass.round(),
            })
        );
    } else {
        println!(
            "{} rules over {} real records (one core): {:.0} records/s judged, {:.0} records/s with JSON parsing; {:.0} findings a pass",
            rules.len(),
            parsed.len(),
            rules_only,
            with_parsing,
            findings_per_pass
        );
    }
    Ok(())
}
