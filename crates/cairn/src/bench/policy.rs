//! Policy evaluation speed: whole decisions (identity policies of a user in two groups, a
//! bucket policy, conditions and policy variables) per second on one core, and documents
//! parsed per second.

use std::time::Instant;

use cairn_policy::{Caller, Context, PolicyDocument, PolicyKind, Request, ResourceRule};

#[derive(clap::Args)]
pub struct PolicyArgs {
    /// Decisions to make.
    #[arg(long, default_value_t = 1_000_000)]
    pub decisions: u32,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// What a realistic IAM user carries: a managed read-only policy, a group policy with
/// conditions, a self-service policy with variables, and a guard-rail deny.
const IDENTITY: [&str; 4] = [
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudtrail:Describe*","cloudtrail:Get*","cloudtrail:List*","cloudtrail:LookupEvents","iam:Get*","iam:List*","kms:Describe*","kms:Get*","kms:List*","s3:Get*","s3:List*","sts:GetCallerIdentity"],"Resource":"*"}]}"#,
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject","s3:DeleteObject"],"Resource":"arn:aws:s3:::team-*/*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","127.0.0.0/8"]},"StringEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}},{"Effect":"Allow","Action":"cloudtrail:*","Resource":"arn:aws:cloudtrail:*:111122223333:trail/team-*","Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}]}"#,
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*AccessKey*","iam:*LoginProfile","iam:*MFADevice"],"Resource":"arn:aws:iam::*:user/${aws:username}"}]}"#,
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["iam:*MFADevice","sts:GetSessionToken"],"Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}},{"Effect":"Deny","Action":"cloudtrail:StopLogging","Resource":"*"}]}"#,
];

const BUCKET: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::team-logs/AWSLogs/111122223333/*","Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}},{"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::team-logs/AWSLogs/*"}]}"#;

const REQUESTS: [(&str, &str); 6] = [
    ("cloudtrail:LookupEvents", "*"),
    ("s3:PutObject", "arn:aws:s3:::team-logs/notes/a.txt"),
    (
        "s3:DeleteObject",
        "arn:aws:s3:::team-logs/AWSLogs/111122223333/x.json.gz",
    ),
    (
        "iam:CreateAccessKey",
        "arn:aws:iam::111122223333:user/alice",
    ),
    (
        "cloudtrail:StopLogging",
        "arn:aws:cloudtrail:us-east-1:111122223333:trail/team-a",
    ),
    ("kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/k"),
];

pub fn run(args: PolicyArgs) -> anyhow::Result<()> {
    let parses = 100_000u32;
    let t = Instant::now();
    for i in 0..parses {
        let d = IDENTITY[i as usize % IDENTITY.len()];
        std::hint::black_box(PolicyDocument::parse(d, PolicyKind::Identity)?);
    }
    let parse_per_s = f64::from(parses) / t.elapsed().as_secs_f64();

    let identity: Vec<PolicyDocument> = IDENTITY
        .iter()
        .map(|d| PolicyDocument::parse(d, PolicyKind::Identity))
        .collect::<Result<_, _>>()?;
    let docs: Vec<&PolicyDocument> = identity.iter().collect();
    let bucket = PolicyDocument::parse(BUCKET, PolicyKind::Resource)?;
    let caller = Caller::User {
        account: "111122223333".into(),
        arn: "arn:aws:iam::111122223333:user/alice".into(),
    };
    let mut ctx = Context::new();
    ctx.set("aws:username", "alice")
        .set("aws:SourceIp", "127.0.0.1")
        .set("aws:RequestedRegion", "us-east-1")
        .set("aws:CurrentTime", "2026-11-25T10:00:00Z")
        .set("aws:MultiFactorAuthPresent", "true");
    let n = args.decisions.max(1);
    let mut allowed = 0u32;
    let t = Instant::now();
    for i in 0..n {
        let (action, resource) = REQUESTS[i as usize % REQUESTS.len()];
        let on_bucket = resource.starts_with("arn:aws:s3:::");
        let e = cairn_policy::evaluate_with(
            &docs,
            on_bucket.then_some(&bucket),
            Some("111122223333"),
            ResourceRule::Standard,
            &Request {
                caller: &caller,
                action,
                resource,
                context: &ctx,
            },
        );
        if e.decision == cairn_policy::Decision::Allow {
            allowed += 1;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let per_s = f64::from(n) / secs;
    if args.json {
        println!(
            "{}",
            serde_json::json!({"bench": "policy", "decisions": n, "allowed": allowed,
                "decisions_per_s": per_s.round(), "ns_per_decision": (secs * 1e9 / f64::from(n)).round(),
                "documents_parsed_per_s": parse_per_s.round()})
        );
    } else {
        println!(
            "{n} decisions ({allowed} allowed) over 4 identity policies and a bucket policy: {per_s:.0}/s ({:.0} ns each); {parse_per_s:.0} documents parsed/s",
            secs * 1e9 / f64::from(n)
        );
    }
    Ok(())
}
