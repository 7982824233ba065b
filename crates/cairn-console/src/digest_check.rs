//! A digest file's validation status, as the S3 browser shows it: cairn's own validator (the
//! one behind `cairn validate-logs`) run over the digest's period, reading the bucket through
//! S3's API as the signed-in person. The digest is valid or not (and why), and each log file
//! it lists is valid, changed (its hash no longer matches) or missing.

use std::sync::Arc;

use base64::Engine;
use cairn_edge::pipeline::internal::Internal;
use cairn_trail::validate::source::{Fetched, ObjectSource};
use cairn_trail::validate::{Options, PublicKey, Target, Validator};
use serde::Serialize;
use serde_json::{Value, json};

use crate::Shared;
use crate::s3_calls;

/// One file's status.
#[derive(Clone, Debug, Serialize)]
pub struct FileStatus {
    pub key: String,
    /// `valid`, `changed`, `missing` or `invalid`.
    pub status: &'static str,
    pub detail: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct DigestStatus {
    pub digest: FileStatus,
    pub logs: Vec<FileStatus>,
}

/// The bucket as the person may read it.
struct PersonsBucket<'a> {
    shared: &'a Shared,
    internal: Internal,
    /// The validator reads on threads of its own; internal calls need the server's runtime.
    runtime: tokio::runtime::Handle,
}

impl ObjectSource for PersonsBucket<'_> {
    fn list(&self, bucket: &str, prefix: &str, marker: &str) -> Result<Vec<String>, String> {
        let _runtime = self.runtime.enter();
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let call = s3_calls::list_all(
                bucket,
                &self.shared.region,
                prefix,
                marker,
                token.as_deref(),
            );
            let a = self
                .internal
                .call_wire(&self.shared.app, "s3", call)
                .map_err(|e| format!("{}: {}", e.code, e.message))?;
            let xml = String::from_utf8_lossy(&a.body);
            out.extend(
                xml.split("<Contents>")
                    .skip(1)
                    .filter_map(|c| s3_calls::xml_values(c, "Key").into_iter().next()),
            );
            token = s3_calls::xml_values(&xml, "NextContinuationToken")
                .into_iter()
                .next();
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Option<Fetched>, String> {
        let _runtime = self.runtime.enter();
        let call = s3_calls::get_object(bucket, &self.shared.region, key);
        match self.internal.call_wire(&self.shared.app, "s3", call) {
            Ok(a) => Ok(Some(Fetched {
                signature: a.header("x-amz-meta-signature").map(str::to_owned),
                body: a.body.to_vec(),
            })),
            Err(e) if e.code == "NoSuchKey" => Ok(None),
            Err(e) => Err(format!("{}: {}", e.code, e.message)),
        }
    }
}

/// The parts of a digest file's key: `[prefix/]AWSLogs/<account>/CloudTrail-Digest/<region>/…/
/// <account>_CloudTrail-Digest_<source>_<trail name>_<home>_<stamp>[_backfill].json.gz`.
fn target_of(bucket: &str, key: &str) -> Option<Target> {
    let (before, _) = key.split_once("AWSLogs/")?;
    let prefix = Some(before.trim_end_matches('/').to_owned()).filter(|p| !p.is_empty());
    let file = key.rsplit('/').next()?;
    let stem = file.strip_suffix(".json.gz")?;
    let stem = stem.strip_suffix("_backfill").unwrap_or(stem);
    let (account, rest) = stem.split_once("_CloudTrail-Digest_")?;
    let (source_region, rest) = rest.split_once('_')?;
    let (rest, _stamp) = rest.rsplit_once('_')?;
    let (trail_name, home_region) = rest.rsplit_once('_')?;
    Some(Target {
        bucket: bucket.to_owned(),
        prefix,
        account: account.to_owned(),
        source_region: source_region.to_owned(),
        trail_name: trail_name.to_owned(),
        home_region: home_region.to_owned(),
    })
}

/// A verdict as a status: a log file that is there but fails (another hash, no longer gzip)
/// is not what was delivered, so it changed; a digest that fails is invalid.
fn status_of(verdict: &str, log_file: bool) -> (&'static str, String) {
    match verdict.strip_prefix("INVALID: ") {
        None => ("valid", verdict.to_owned()),
        Some(why) if why.starts_with("not found") => ("missing", why.to_owned()),
        Some(why) if log_file => ("changed", why.to_owned()),
        Some(why) => ("invalid", why.to_owned()),
    }
}

/// Validates the digest `key` (whose JSON is `digest`) as the person (blocking, on one of the
/// runtime's blocking threads).
pub fn check(
    shared: &Arc<Shared>,
    internal: Internal,
    bucket: &str,
    key: &str,
    digest: &Value,
) -> Result<DigestStatus, String> {
    let target = target_of(bucket, key).ok_or("This is not a digest file's key.")?;
    let time = |k: &str| cairn_model::timefmt::parse_event_time(&digest[k]);
    let (start, end) = (
        time("digestStartTime").ok_or("The digest has no digestStartTime.")?,
        time("digestEndTime").ok_or("The digest has no digestEndTime.")?,
    );
    let keys_answer = internal
        .call_json(
            &shared.app,
            "cloudtrail",
            "ListPublicKeys",
            json!({"StartTime": start / 1000 - 3600, "EndTime": end / 1000 + 3600}),
        )
        .map_err(|e| format!("{}: {}", e.code, e.message))?;
    let keys: Vec<PublicKey> = keys_answer["PublicKeyList"]
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
    let runtime = tokio::runtime::Handle::try_current().map_err(|e| e.to_string())?;
    let source = PersonsBucket {
        shared,
        internal,
        runtime,
    };
    let validator = Validator {
        source: &source,
        target,
        keys,
        options: Options {
            start_ms: start,
            end_ms: end,
            jobs: 2,
            delivered: None,
        },
    };
    let report = validator.run(&|_, _| {})?;
    let me = format!("s3://{bucket}/{key}");
    let mut digest_status = FileStatus {
        key: key.to_owned(),
        status: "invalid",
        detail: "the validator did not reach this digest".into(),
    };
    let mut logs = Vec::new();
    let mut mine = false;
    for line in &report.lines {
        let parts: Vec<&str> = line.text.split('\t').collect();
        let [what, loc, verdict] = parts[..] else {
            continue;
        };
        if what.ends_with("Digest file") {
            mine = loc == me;
            if mine {
                let (status, detail) = status_of(verdict, false);
                digest_status = FileStatus {
                    key: key.to_owned(),
                    status,
                    detail,
                };
            }
        } else if what == "Log file" && mine {
            let (status, detail) = status_of(verdict, true);
            let log_key = loc.strip_prefix(&format!("s3://{bucket}/")).unwrap_or(loc);
            logs.push(FileStatus {
                key: log_key.to_owned(),
                status,
                detail,
            });
        }
    }
    Ok(DigestStatus {
        digest: digest_status,
        logs,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn digest_keys_name_their_trail() {
        let t = target_of(
            "b",
            "logs/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/12/05/111122223333_CloudTrail-Digest_us-east-1_my_trail_us-east-1_20261205T220000Z.json.gz",
        )
        .unwrap();
        assert_eq!(t.prefix.as_deref(), Some("logs"));
        assert_eq!(t.trail_name, "my_trail");
        assert_eq!(t.home_region, "us-east-1");
        assert_eq!(t.source_region, "us-east-1");
        assert!(target_of("b", "AWSLogs/1/CloudTrail/x.json.gz").is_none());
        assert_eq!(status_of("INVALID: not found", true).0, "missing");
        assert_eq!(
            status_of("INVALID: hash value doesn't match", true).0,
            "changed"
        );
        assert_eq!(status_of("INVALID: invalid format", true).0, "changed");
        assert_eq!(
            status_of("INVALID: signature verification failed", false).0,
            "invalid"
        );
        assert_eq!(status_of("valid", false).0, "valid");
    }
}
