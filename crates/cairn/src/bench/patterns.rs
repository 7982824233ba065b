//! EventBridge pattern matching speed on one core: 100 CloudTrail-alerting rules (source,
//! detail-type, eventSource/eventName lists, prefixes, anything-but, numeric, exists, cidr,
//! wildcard, `$or`) against real CloudTrail records wrapped in the "AWS API Call via
//! CloudTrail" envelope, each event parsed from JSON text as it would arrive. Reports events/s
//! and event-rule matches/s (events/s × rules). `--dump DIR` writes the rules and events for
//! `benches/patterns_peer.py`, which times a peer matcher on the same input.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use cairn_rules::pattern::{Pattern, PatternSet};
use serde_json::{Map, Value, json};

#[derive(clap::Args)]
pub struct PatternsArgs {
    /// CloudTrail records, one JSON object per line (gzip if the name ends in .gz).
    #[arg(
        long,
        default_value = "../shared/data/cloudtrail-real/records.jsonl.gz"
    )]
    pub records: PathBuf,
    /// Minimum seconds to spend matching (whole passes over the events).
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Write rules.json and events.jsonl here for a peer matcher, then stop.
    #[arg(long)]
    pub dump: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Services CloudTrail alerting rules commonly watch, with the write calls they alert on.
const WATCHED: [(&str, &[&str]); 12] = [
    (
        "cloudtrail",
        &[
            "StopLogging",
            "DeleteTrail",
            "UpdateTrail",
            "PutEventSelectors",
        ],
    ),
    (
        "iam",
        &[
            "DeleteGroupPolicy",
            "DeleteRolePolicy",
            "DeleteUserPolicy",
            "PutGroupPolicy",
            "PutRolePolicy",
            "PutUserPolicy",
            "CreatePolicy",
            "DeletePolicy",
            "CreatePolicyVersion",
            "DeletePolicyVersion",
            "AttachRolePolicy",
            "DetachRolePolicy",
            "AttachUserPolicy",
            "DetachUserPolicy",
            "AttachGroupPolicy",
            "DetachGroupPolicy",
        ],
    ),
    ("kms", &["DisableKey", "ScheduleKeyDeletion"]),
    (
        "s3",
        &[
            "PutBucketAcl",
            "PutBucketPolicy",
            "PutBucketCors",
            "PutBucketLifecycle",
            "PutBucketReplication",
            "DeleteBucketPolicy",
            "DeleteBucketCors",
            "DeleteBucketLifecycle",
            "DeleteBucketReplication",
        ],
    ),
    (
        "config",
        &[
            "StopConfigurationRecorder",
            "DeleteDeliveryChannel",
            "PutDeliveryChannel",
            "PutConfigurationRecorder",
        ],
    ),
    (
        "ec2",
        &[
            "AuthorizeSecurityGroupIngress",
            "AuthorizeSecurityGroupEgress",
            "RevokeSecurityGroupIngress",
            "RevokeSecurityGroupEgress",
            "CreateSecurityGroup",
            "DeleteSecurityGroup",
        ],
    ),
    (
        "ec2",
        &[
            "CreateNetworkAcl",
            "CreateNetworkAclEntry",
            "DeleteNetworkAcl",
            "DeleteNetworkAclEntry",
            "ReplaceNetworkAclEntry",
            "ReplaceNetworkAclAssociation",
        ],
    ),
    (
        "ec2",
        &[
            "CreateCustomerGateway",
            "DeleteCustomerGateway",
            "AttachInternetGateway",
            "CreateInternetGateway",
            "DeleteInternetGateway",
            "DetachInternetGateway",
        ],
    ),
    (
        "ec2",
        &[
            "CreateRoute",
            "CreateRouteTable",
            "ReplaceRoute",
            "ReplaceRouteTableAssociation",
            "DeleteRouteTable",
            "DeleteRoute",
            "DisassociateRouteTable",
        ],
    ),
    (
        "ec2",
        &[
            "CreateVpc",
            "DeleteVpc",
            "ModifyVpcAttribute",
            "AcceptVpcPeeringConnection",
            "CreateVpcPeeringConnection",
            "DeleteVpcPeeringConnection",
        ],
    ),
    (
        "lambda",
        &[
            "CreateFunction20150331",
            "UpdateFunctionCode20150331v2",
            "AddPermission20150331v2",
        ],
    ),
    (
        "sts",
        &[
            "AssumeRole",
            "GetFederationToken",
            "AssumeRoleWithWebIdentity",
        ],
    ),
];

/// Other services, for rules of generic shapes.
const SERVICES: [&str; 14] = [
    "s3",
    "ec2",
    "iam",
    "sts",
    "kms",
    "lambda",
    "logs",
    "rds",
    "dynamodb",
    "sns",
    "sqs",
    "cloudformation",
    "elasticbeanstalk",
    "autoscaling",
];

/// The 100 rules, as pattern text.
pub fn rules() -> Vec<String> {
    let mut out = Vec::new();
    // CIS-style change alerts: source + detail-type + eventSource + eventName list.
    for (svc, names) in WATCHED {
        out.push(
            json!({"source": [format!("aws.{svc}")], "detail-type": ["AWS API Call via CloudTrail"],
                "detail": {"eventSource": [format!("{svc}.amazonaws.com")], "eventName": names}})
            .to_string(),
        );
    }
    out.push(r#"{"detail-type":["AWS Console Sign In via CloudTrail"],"detail":{"eventName":["ConsoleLogin"],"responseElements":{"ConsoleLogin":["Failure"]}}}"#.into());
    out.push(r#"{"detail-type":["AWS Console Sign In via CloudTrail"],"detail":{"additionalEventData":{"MFAUsed":[{"anything-but":"Yes"}]}}}"#.into());
    out.push(r#"{"detail":{"userIdentity":{"type":["Root"],"invokedBy":[{"exists":false}]},"eventType":[{"anything-but":"AwsServiceEvent"}]}}"#.into());
    out.push(r#"{"detail":{"errorCode":[{"wildcard":"*UnauthorizedOperation"},{"prefix":"AccessDenied"}]}}"#.into());
    out.push(
        r#"{"detail":{"errorCode":[{"exists":true}],"userIdentity":{"type":["IAMUser"]}}}"#.into(),
    );
    out.push(
        r#"{"detail":{"sourceIPAddress":[{"cidr":"10.0.0.0/8"},{"cidr":"192.168.0.0/16"}]}}"#
            .into(),
    );
    out.push(
        r#"{"detail":{"requestParameters":{"durationSeconds":[{"numeric":[">",3600]}]}}}"#.into(),
    );
    out.push(
        r#"{"detail":{"requestParameters":{"maxResults":[{"numeric":[">=",100,"<=",1000]}]}}}"#
            .into(),
    );
    out.push(r#"{"$or":[{"detail":{"userIdentity":{"type":["Root"]}}},{"detail":{"errorCode":["AccessDenied"]}}]}"#.into());
    out.push(r#"{"source":["aws.s3"],"$or":[{"detail":{"eventName":[{"prefix":"Delete"}]}},{"detail":{"requestParameters":{"x-amz-acl":["public-read","public-read-write"]}}}]}"#.into());
    out.push(r#"{"detail":{"userAgent":[{"prefix":{"equals-ignore-case":"AWS-CLI"}}]}}"#.into());
    out.push(
        r#"{"detail":{"userIdentity":{"arn":[{"wildcard":"arn:aws:iam::*:user/admin*"}]}}}"#.into(),
    );
    out.push(
        r#"{"detail":{"awsRegion":[{"anything-but":["us-east-1","us-west-2","eu-west-1"]}]}}"#
            .into(),
    );
    out.push(r#"{"detail":{"readOnly":[false],"eventName":[{"anything-but":{"prefix":["Get","List","Describe"]}}]}}"#.into());
    out.push(
        r#"{"resources":{"type":["AWS::S3::Object"]},"detail":{"eventName":["DeleteObject"]}}"#
            .into(),
    );
    out.push(
        r#"{"detail":{"eventName":["ConsoleLogin"],"userIdentity":{"type":["Root"]}}}"#.into(),
    );
    out.push(r#"{"detail":{"requestParameters":{"bucketName":[{"exists":true}]},"eventName":[{"suffix":"BucketPolicy"}]}}"#.into());
    out.push(r#"{"detail":{"eventSource":[{"wildcard":"*.amazonaws.com"}],"userIdentity":{"accessKeyId":[{"prefix":"AKIA"}]}}}"#.into());
    // Per service: write calls by name prefix, read calls refused, errors, one principal type.
    for svc in SERVICES {
        let src = format!("aws.{svc}");
        let es = format!("{svc}.amazonaws.com");
        out.push(
            json!({"source": [src], "detail": {"eventName": [{"prefix": "Create"}, {"prefix": "Delete"}, {"prefix": "Put"}]}})
                .to_string(),
        );
        out.push(
            json!({"source": [src], "detail-type": ["AWS API Call via CloudTrail"],
                "detail": {"eventSource": [es], "eventName": [{"anything-but": {"prefix": ["Get", "List", "Describe", "Head"]}}]}})
            .to_string(),
        );
        out.push(
            json!({"detail": {"eventSource": [es], "errorCode": [{"exists": true}], "errorMessage": [{"prefix": ""}]}})
                .to_string(),
        );
        out.push(
            json!({"source": [src], "detail": {"userIdentity": {"type": ["AssumedRole", "FederatedUser"],
                "sessionContext": {"attributes": {"mfaAuthenticated": ["false"]}}}}})
            .to_string(),
        );
        out.push(
            json!({"detail": {"eventSource": [es], "$or": [
                {"userIdentity": {"type": ["Root"]}},
                {"sourceIPAddress": [{"cidr": "172.16.0.0/12"}]},
                {"userAgent": [{"suffix": {"equals-ignore-case": "console.amazonaws.com"}}]}]}})
            .to_string(),
        );
    }
    out.truncate(100);
    out
}

/// EventBridge's `detail-type` for a CloudTrail record (CLOUDTRAIL.md e.2).
fn detail_type(record: &Map<String, Value>) -> &'static str {
    match record.get("eventType").and_then(Value::as_str) {
        Some("AwsConsoleSignIn") => "AWS Console Sign In via CloudTrail",
        Some("AwsConsoleAction") => "AWS Console Action via CloudTrail",
        Some("AwsServiceEvent") => "AWS Service Event via CloudTrail",
        Some("AwsCloudTrailInsight") => "AWS Insight via CloudTrail",
        _ => "AWS API Call via CloudTrail",
    }
}

/// A record in the "AWS API Call via CloudTrail" envelope, as compact JSON.
fn envelope(mut record: Map<String, Value>) -> String {
    record.remove("eventContext");
    let text = |k: &str| {
        record
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let source = format!(
        "aws.{}",
        text("eventSource").trim_end_matches(".amazonaws.com")
    );
    let e = json!({
        "version": "0",
        "id": text("eventID"),
        "detail-type": detail_type(&record),
        "source": source,
        "account": text("recipientAccountId"),
        "time": text("eventTime"),
        "region": text("awsRegion"),
        "resources": [],
        "detail": record,
    });
    e.to_string()
}

fn read_events(path: &Path) -> anyhow::Result<Vec<String>> {
    let file = std::fs::File::open(path).with_context(|| format!("{}", path.display()))?;
    let reader: Box<dyn BufRead> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    let mut out = Vec::new();
    for line in reader.lines() {
        let line = line?;
        if let Ok(Value::Object(record)) = serde_json::from_str::<Value>(&line) {
            out.push(envelope(record));
        }
    }
    anyhow::ensure!(!out.is_empty(), "no records in {}", path.display());
    Ok(out)
}

pub fn run(args: PatternsArgs) -> anyhow::Result<()> {
    let texts = rules();
    let events = read_events(&args.records)?;
    if let Some(dir) = &args.dump {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("rules.json"), serde_json::to_string(&texts)?)?;
        let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("events.jsonl"))?);
        for e in &events {
            writeln!(f, "{e}")?;
        }
        f.flush()?;
        println!(
            "wrote {} rules and {} events to {}",
            texts.len(),
            events.len(),
            dir.display()
        );
        return Ok(());
    }

    let t = Instant::now();
    let mut set = PatternSet::new();
    for text in &texts {
        set.insert(Pattern::parse(text).with_context(|| text.clone())?);
    }
    let compile_us = t.elapsed().as_secs_f64() * 1e6 / texts.len() as f64;
    let rules = set.len();

    // Parse + match, the whole path of an event arriving as text.
    let mut hits = Vec::new();
    let mut matched_events = 0u64;
    let mut total_hits = 0u64;
    let mut passes = 0u64;
    let t = Instant::now();
    while passes == 0 || t.elapsed().as_secs_f64() < args.seconds {
        for text in &events {
            let v: Value = serde_json::from_str(text)?;
            hits.clear();
            set.matches_into(&v, &mut hits);
            if passes == 0 {
                matched_events += u64::from(!hits.is_empty());
                total_hits += hits.len() as u64;
            }
        }
        passes += 1;
    }
    let secs = t.elapsed().as_secs_f64();
    let n = passes * events.len() as u64;
    let events_per_s = n as f64 / secs;

    // Matching alone, over events already parsed.
    let parsed: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_str(e))
        .collect::<Result<_, _>>()?;
    let mut match_passes = 0u64;
    let t = Instant::now();
    while match_passes == 0 || t.elapsed().as_secs_f64() < args.seconds {
        for v in &parsed {
            hits.clear();
            set.matches_into(v, &mut hits);
        }
        match_passes += 1;
    }
    let match_only_per_s = (match_passes * parsed.len() as u64) as f64 / t.elapsed().as_secs_f64();
    let avg_bytes = events.iter().map(String::len).sum::<usize>() / events.len();

    if args.json {
        println!(
            "{}",
            json!({"bench": "patterns", "rules": rules, "events": events.len(), "avg_event_bytes": avg_bytes,
                "events_matched": matched_events, "rule_hits": total_hits,
                "events_per_s": events_per_s.round(), "event_rule_matches_per_s": (events_per_s * rules as f64).round(),
                "match_only_events_per_s": match_only_per_s.round(),
                "match_only_event_rule_matches_per_s": (match_only_per_s * rules as f64).round(),
                "compile_us_per_rule": (compile_us * 10.0).round() / 10.0})
        );
    } else {
        println!(
            "{rules} rules over {} CloudTrail envelopes (avg {avg_bytes} B; {matched_events} events matched, {total_hits} rule hits)",
            events.len()
        );
        println!(
            "parse + match: {events_per_s:.0} events/s = {:.0} event-rule matches/s on one core",
            events_per_s * rules as f64
        );
        println!(
            "match only:    {match_only_per_s:.0} events/s = {:.0} event-rule matches/s; {compile_us:.1} µs to compile a rule",
            match_only_per_s * rules as f64
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_hundred_rules_compile() {
        let texts = rules();
        assert_eq!(texts.len(), 100);
        for t in &texts {
            Pattern::parse(t).unwrap_or_else(|e| panic!("{t}: {e}"));
        }
    }

    #[test]
    fn envelope_follows_cloudtrail_e2() {
        let rec = json!({"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging",
            "eventType": "AwsApiCall", "eventID": "x", "eventTime": "2026-01-01T00:00:00Z",
            "awsRegion": "us-east-1", "recipientAccountId": "123456789012", "eventContext": {}});
        let Value::Object(rec) = rec else {
            unreachable!()
        };
        let e: Value = serde_json::from_str(&envelope(rec)).unwrap();
        assert_eq!(e["source"], "aws.cloudtrail");
        assert_eq!(e["detail-type"], "AWS API Call via CloudTrail");
        assert_eq!(e["account"], "123456789012");
        assert!(e["detail"].get("eventContext").is_none());
    }
}
