//! `cairn validate-logs`: validate a trail's digests and log files like
//! `aws cloudtrail validate-logs`, faster, and with the checks the AWS CLI leaves out.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use base64::Engine;
use cairn_trail::validate::source::{LocalSource, ObjectSource, S3Source};
use cairn_trail::validate::{Delivered, Options, PublicKey, Report, Target, Validator};
use cairn_wire::client::{Endpoint, parse_url};
use serde_json::{Value, json};

use crate::DataDirArg;
use crate::datadir::DataDir;
use crate::env::instance_settings;

#[derive(clap::Args)]
pub struct ValidateArgs {
    /// The trail to validate: arn:aws:cloudtrail:REGION:ACCOUNT:trail/NAME.
    #[arg(long, value_name = "ARN")]
    pub trail_arn: String,
    /// Validate digests from this time on: 2024-05-01T00:00:00Z, 2024-05-01, or epoch seconds.
    #[arg(long, value_name = "TIME")]
    pub start_time: String,
    /// Up to this time (default: now).
    #[arg(long, value_name = "TIME")]
    pub end_time: Option<String>,
    /// The source region whose digests to validate (default: the trail's home region). Also the
    /// region CloudTrail calls are signed for.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// The bucket holding the digests (default: the trail's, from DescribeTrails).
    #[arg(long, value_name = "BUCKET")]
    pub s3_bucket: Option<String>,
    /// The key prefix of the trail's files (with --s3-bucket).
    #[arg(long, value_name = "PREFIX")]
    pub s3_prefix: Option<String>,
    /// The account whose files to validate (default: the ARN's).
    #[arg(long, value_name = "ACCOUNT")]
    pub account_id: Option<String>,
    /// Read digests and log files from this folder instead of S3, laid out as the bucket
    /// (`aws s3 sync s3://BUCKET DIR`). Needs --s3-bucket for the bucket's name, unless the
    /// endpoint is reachable for DescribeTrails.
    #[arg(long, value_name = "DIR")]
    pub local: Option<PathBuf>,
    /// With --local: do not ask any endpoint for digest signatures (S3 metadata); each
    /// digest's signature is then taken from the next digest in its chain, and the newest of a
    /// chain goes unchecked. Use with --public-keys and --s3-bucket to validate fully offline.
    #[arg(long, requires = "local")]
    pub offline: bool,
    /// Public keys as `aws cloudtrail list-public-keys` prints them, for validating without
    /// an endpoint (default: ListPublicKeys on the endpoint).
    #[arg(long, value_name = "FILE")]
    pub public_keys: Option<PathBuf>,
    /// The endpoint for CloudTrail and S3 calls (default: $AWS_ENDPOINT_URL, else the data
    /// directory's instance). Credentials: $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY, else the
    /// data directory's root key.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// PEM certificates to trust, besides the public roots, for an https:// endpoint with a
    /// private CA (as the AWS CLI's --ca-bundle).
    #[arg(long, value_name = "FILE", env = "AWS_CA_BUNDLE")]
    pub ca_bundle: Option<PathBuf>,
    /// Print every digest and log file checked, not only the invalid ones.
    #[arg(long)]
    pub verbose: bool,
    /// Log files checked at once.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub jobs: usize,
    #[command(flatten)]
    pub data_dir: DataDirArg,
}

/// `2024-05-01T00:00:00Z` (any RFC 3339), `2024-05-01T00:00:00` (UTC), `2024-05-01`, or epoch
/// seconds.
pub fn parse_time(s: &str) -> anyhow::Result<i64> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        return Ok((n * 1000.0) as i64);
    }
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(i64::try_from(t.unix_timestamp_nanos() / 1_000_000)?);
    }
    let dt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    if let Ok(t) = time::PrimitiveDateTime::parse(s, &dt) {
        return Ok(t.assume_utc().unix_timestamp() * 1000);
    }
    let d = format_description!("[year]-[month]-[day]");
    if let Ok(t) = time::Date::parse(s, &d) {
        return Ok(t.midnight().assume_utc().unix_timestamp() * 1000);
    }
    bail!("{s:?} is not a time (use 2024-05-01T00:00:00Z, 2024-05-01 or epoch seconds)")
}

struct Arn {
    region: String,
    account: String,
    name: String,
}

fn parse_arn(arn: &str) -> anyhow::Result<Arn> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "cloudtrail"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].starts_with("trail/")
        && parts[5].len() > 6;
    if !ok {
        bail!("Invalid trail ARN provided: {arn}");
    }
    Ok(Arn {
        region: parts[3].to_owned(),
        account: parts[4].to_owned(),
        name: parts[5].rsplit('/').next().unwrap_or("").to_owned(),
    })
}

fn cloudtrail(endpoint: &Endpoint, op: &str, body: &Value) -> anyhow::Result<Value> {
    let r = endpoint
        .send(
            "cloudtrail",
            "POST",
            "/",
            None,
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", &format!("CloudTrail_20131101.{op}")),
            ],
            body.to_string().as_bytes(),
        )
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("calling CloudTrail {op}"))?;
    if !r.ok() {
        bail!("CloudTrail {op} failed: {}", r.error_code());
    }
    Ok(serde_json::from_slice(&r.body)?)
}

fn display(ms: i64) -> String {
    cairn_model::timefmt::event_time(ms)
}

pub fn run(args: ValidateArgs) -> anyhow::Result<()> {
    match validate(&args) {
        Ok(report) => std::process::exit(if report.ok() { 0 } else { 1 }),
        Err(e) => {
            eprintln!("{e:#}");
            std::process::exit(255)
        }
    }
}

/// The endpoint and credentials CloudTrail and S3 are asked with: --endpoint-url or
/// $AWS_ENDPOINT_URL, and the AWS_* keys, else the data directory's instance and root key.
fn endpoint_of(args: &ValidateArgs, dir: &DataDir, region: &str) -> anyhow::Result<Endpoint> {
    let instance = instance_settings(dir).ok();
    let own_ca = instance
        .as_ref()
        .and_then(|i| i.ca_bundle.as_ref())
        .map(PathBuf::from);
    let url = args
        .endpoint_url
        .clone()
        .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
        .or_else(|| instance.as_ref().map(|i| i.endpoint.clone()))
        .context("no endpoint: pass --endpoint-url or set AWS_ENDPOINT_URL")?;
    let (id, secret) = match (
        std::env::var("AWS_ACCESS_KEY_ID"),
        std::env::var("AWS_SECRET_ACCESS_KEY"),
    ) {
        (Ok(i), Ok(s)) => (i, s),
        _ => {
            let i = instance
                .context("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")?;
            (i.key.access_key_id, i.key.secret_access_key)
        }
    };
    let u = parse_url(&url).map_err(anyhow::Error::msg)?;
    Ok(Endpoint {
        host_port: u.host_port,
        tls: if u.https {
            // The instance's own CA, when it serves a self-signed certificate and no other
            // bundle was named.
            let ca = args.ca_bundle.clone().or(own_ca);
            Some(cairn_wire::tls::Tls::new(ca.as_deref()).map_err(anyhow::Error::msg)?)
        } else {
            None
        },
        region: region.to_owned(),
        access_key_id: id,
        secret_access_key: secret,
        ..Endpoint::default()
    })
}

fn validate(args: &ValidateArgs) -> anyhow::Result<Report> {
    let arn = parse_arn(&args.trail_arn)?;
    let start_ms = parse_time(&args.start_time)?;
    let now = cairn_model::Clock::now_millis(&cairn_model::SystemClock);
    let end_ms = match &args.end_time {
        Some(t) => parse_time(t)?,
        None => now,
    };
    if start_ms > end_ms {
        bail!("Invalid time range specified: start-time must occur before end-time");
    }
    let source_region = args.region.clone().unwrap_or_else(|| arn.region.clone());
    let dir = DataDir::resolve(&args.data_dir)?;

    // Made once (no I/O beyond reading the data directory); only the calls that need an
    // endpoint ask for it, so a fully offline run has none.
    let endpoint = endpoint_of(args, &dir, &source_region).map_err(|e| format!("{e:#}"));
    let endpoint_ref = || endpoint.as_ref().map_err(|e| anyhow::anyhow!("{e}"));

    // DescribeTrails and ListPublicKeys do not depend on each other: ask both at once.
    let (trail, keys) = std::thread::scope(|s| {
        let trail = s.spawn(|| -> anyhow::Result<(String, Option<String>)> {
            if let Some(b) = &args.s3_bucket {
                return Ok((b.clone(), args.s3_prefix.clone()));
            }
            let trails = cloudtrail(endpoint_ref()?, "DescribeTrails", &json!({}))?;
            let t = trails["trailList"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|t| t["TrailARN"].as_str() == Some(&args.trail_arn))
                .with_context(|| format!("A trail could not be found for {}", args.trail_arn))?;
            Ok((
                t["S3BucketName"].as_str().unwrap_or("").to_owned(),
                t["S3KeyPrefix"].as_str().map(str::to_owned),
            ))
        });
        let keys = || -> anyhow::Result<Value> {
            match &args.public_keys {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    serde_json::from_str(&text)
                        .with_context(|| format!("parsing {}", path.display()))
                }
                None => cloudtrail(
                    endpoint_ref()?,
                    "ListPublicKeys",
                    &json!({"StartTime": start_ms / 1000, "EndTime": end_ms.max(now) / 1000 + 7200}),
                ),
            }
        };
        let keys = keys();
        let trail = trail
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("DescribeTrails failed")));
        (trail, keys)
    });
    let (bucket, prefix) = trail?;
    let keys = keys?;
    let keys: Vec<PublicKey> = keys["PublicKeyList"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| {
            Some(PublicKey {
                fingerprint: k["Fingerprint"].as_str()?.to_owned(),
                der: base64::engine::general_purpose::STANDARD
                    .decode(k["Value"].as_str()?)
                    .ok()?,
            })
        })
        .collect();
    if keys.is_empty() {
        bail!(
            "No public keys found between {} and {}",
            display(start_ms),
            display(end_ms + 7_200_000)
        );
    }

    // What cairn delivered, when this machine holds the trail's data directory.
    let delivered = dir
        .trails()
        .ok()
        .flatten()
        .and_then(|s| s.digests_delivered(&args.trail_arn, &source_region).ok())
        .filter(|d| !d.is_empty())
        .map(|d| {
            d.into_iter()
                .map(|(backfill, bucket, key, end_ms)| Delivered {
                    backfill,
                    bucket,
                    key,
                    end_ms,
                })
                .collect()
        });

    let source: Box<dyn ObjectSource> = match &args.local {
        Some(root) => Box::new(LocalSource {
            root: root.clone(),
            signatures: if args.offline {
                None
            } else {
                endpoint.ok().map(|endpoint| S3Source { endpoint })
            },
        }),
        None => Box::new(S3Source {
            endpoint: endpoint.map_err(anyhow::Error::msg)?,
        }),
    };
    let validator = Validator {
        source: source.as_ref(),
        target: Target {
            bucket,
            prefix,
            account: args.account_id.clone().unwrap_or(arn.account),
            source_region,
            trail_name: arn.name,
            home_region: arn.region,
        },
        keys,
        options: Options {
            start_ms,
            end_ms,
            jobs: args.jobs,
            delivered,
        },
    };

    println!(
        "Validating log files for trail {} between {} and {}\n",
        args.trail_arn,
        display(start_ms),
        display(end_ms)
    );
    let bar = indicatif::ProgressBar::new(0);
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} log files {per_sec}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let report = validator
        .run(&|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .map_err(anyhow::Error::msg)?;
    bar.finish_and_clear();
    print_report(&report, args.verbose, start_ms, end_ms);
    Ok(report)
}

fn print_report(r: &Report, verbose: bool, start_ms: i64, end_ms: i64) {
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    let mut last_double = false;
    for line in &r.lines {
        if line.error {
            let lead = if last_double { "" } else { "\n" };
            let _ = write!(err, "{lead}{}\n\n", line.text);
            last_double = true;
        } else if verbose {
            let _ = writeln!(out, "{}", line.text);
            last_double = false;
        }
    }
    let _ = err.flush();
    if !last_double {
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "Results requested for {} to {}",
        display(start_ms),
        display(end_ms)
    );
    let total = r.digests.valid + r.digests.invalid + r.backfill.valid + r.backfill.invalid;
    if total == 0 {
        let _ = writeln!(out, "No digests found");
        return;
    }
    match r.found {
        Some((a, b)) => {
            let _ = writeln!(out, "Results found for {} to {}:", display(a), display(b));
        }
        None => {
            let _ = writeln!(out, "No valid digests found in range");
        }
    }
    for (count, name) in [
        (r.digests, "digest"),
        (r.backfill, "backfill digest"),
        (r.logs, "log"),
    ] {
        let n = count.valid + count.invalid;
        if n > 0 {
            let _ = write!(out, "\n{}/{n} {name} files valid", count.valid);
            if count.invalid > 0 {
                let _ = write!(out, ", {}/{n} {name} files INVALID", count.invalid);
            }
        }
    }
    if r.unverified > 0 {
        let _ = write!(
            out,
            "\n{} digest signatures not checked (a local folder keeps no S3 metadata; the newest digest of a chain has no later digest recording its signature)",
            r.unverified
        );
    }
    let _ = writeln!(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_arns() {
        assert_eq!(
            parse_time("2024-05-01T01:01:31Z").unwrap(),
            1_714_525_291_000
        );
        assert_eq!(
            parse_time("2024-05-01T03:01:31+02:00").unwrap(),
            1_714_525_291_000
        );
        assert_eq!(
            parse_time("2024-05-01T01:01:31").unwrap(),
            1_714_525_291_000
        );
        assert_eq!(parse_time("2024-05-01").unwrap(), 1_714_521_600_000);
        assert_eq!(parse_time("1714525291").unwrap(), 1_714_525_291_000);
        assert!(parse_time("yesterday").is_err());
        let a = parse_arn("arn:aws:cloudtrail:us-east-1:123456789012:trail/t1").unwrap();
        assert_eq!((a.region.as_str(), a.name.as_str()), ("us-east-1", "t1"));
        assert!(parse_arn("arn:aws:s3:::b").is_err());
    }
}
