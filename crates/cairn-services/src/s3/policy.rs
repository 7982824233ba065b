//! Whether a bucket policy lets an AWS service principal do something: what CreateTrail checks
//! before it accepts a bucket (`InsufficientS3BucketPolicyException`).
//!
//! The general IAM policy engine (identity and resource policies for every caller) arrives with
//! IAM; this covers the statements a service-principal grant uses: `Effect`, `Principal`
//! (`*`, `{"Service": …}`), `Action`, `Resource` with wildcards, and `String*`/`Arn*`
//! conditions on the request context.

use cairn_store::trails::Trail;
use cairn_trail::delivery::BucketGate;
use serde_json::Value;

/// Judges trail delivery writes by the bucket policy, as S3 judges CloudTrail's PutObject.
pub struct PolicyGate;

impl BucketGate for PolicyGate {
    fn may_write(&self, bucket_policy: Option<&str>, trail: &Trail, key: &str) -> bool {
        let Some(policy) = bucket_policy else {
            return false;
        };
        let ctx = [
            ("aws:SourceArn", trail.arn.as_str()),
            ("aws:SourceAccount", trail.account.as_str()),
            ("s3:x-amz-acl", "bucket-owner-full-control"),
        ];
        allows_service(
            policy,
            "cloudtrail.amazonaws.com",
            "s3:PutObject",
            &format!("arn:aws:s3:::{}/{key}", trail.s3_bucket),
            &ctx,
        )
    }
}

/// `*` and `?` wildcards, as IAM matches them.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn principal_matches(p: Option<&Value>, service: &str) -> bool {
    match p {
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(m)) => {
            strings(m.get("Service")).contains(&service) || strings(m.get("AWS")).contains(&"*")
        }
        _ => false,
    }
}

fn conditions_hold(c: Option<&Value>, context: &[(&str, &str)]) -> bool {
    let Some(Value::Object(ops)) = c else {
        return true;
    };
    ops.iter().all(|(op, body)| {
        let Value::Object(keys) = body else {
            return false;
        };
        keys.iter().all(|(key, want)| {
            let got = context
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| *v);
            let wants = strings(Some(want));
            let base = op.trim_end_matches("IfExists");
            match got {
                None => op.ends_with("IfExists"),
                Some(g) => match base {
                    "StringEquals" | "ArnEquals" => wants.contains(&g),
                    "StringEqualsIgnoreCase" => wants.iter().any(|w| w.eq_ignore_ascii_case(g)),
                    "StringLike" | "ArnLike" => wants.iter().any(|w| wildcard_match(w, g)),
                    "StringNotEquals" | "ArnNotEquals" => !wants.contains(&g),
                    "StringNotLike" | "ArnNotLike" => !wants.iter().any(|w| wildcard_match(w, g)),
                    _ => false,
                },
            }
        })
    })
}

/// Whether `policy` allows `service` to perform `action` on `resource`, given the request
/// context (condition keys and values).
pub fn allows_service(
    policy: &str,
    service: &str,
    action: &str,
    resource: &str,
    context: &[(&str, &str)],
) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return false;
    };
    let statements = match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(s @ Value::Object(_)) => vec![s.clone()],
        _ => return false,
    };
    let mut allowed = false;
    for s in &statements {
        let applies = principal_matches(s.get("Principal"), service)
            && strings(s.get("Action"))
                .iter()
                .any(|a| wildcard_match(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()))
            && strings(s.get("Resource"))
                .iter()
                .any(|r| wildcard_match(r, resource))
            && conditions_hold(s.get("Condition"), context);
        if !applies {
            continue;
        }
        match s.get("Effect").and_then(Value::as_str) {
            Some("Deny") => return false,
            Some("Allow") => allowed = true,
            _ => {}
        }
    }
    allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bucket policy the CloudTrail User Guide gives for trail delivery.
    const DOCUMENTED: &str = r#"{"Version":"2012-10-17","Statement":[
      {"Sid":"AWSCloudTrailAclCheck20150319","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},
       "Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::myBucketName",
       "Condition":{"StringEquals":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-1:111122223333:trail/myTrail"}}},
      {"Sid":"AWSCloudTrailWrite20150319","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},
       "Action":"s3:PutObject","Resource":"arn:aws:s3:::myBucketName/AWSLogs/111122223333/*",
       "Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control",
         "aws:SourceArn":"arn:aws:cloudtrail:us-east-1:111122223333:trail/myTrail"}}}]}"#;

    #[test]
    fn documented_policy_allows_the_trail_and_only_it() {
        let ctx = [
            (
                "aws:SourceArn",
                "arn:aws:cloudtrail:us-east-1:111122223333:trail/myTrail",
            ),
            ("s3:x-amz-acl", "bucket-owner-full-control"),
        ];
        assert!(allows_service(
            DOCUMENTED,
            "cloudtrail.amazonaws.com",
            "s3:GetBucketAcl",
            "arn:aws:s3:::myBucketName",
            &ctx
        ));
        assert!(allows_service(
            DOCUMENTED,
            "cloudtrail.amazonaws.com",
            "s3:PutObject",
            "arn:aws:s3:::myBucketName/AWSLogs/111122223333/x",
            &ctx
        ));
        let other = [
            (
                "aws:SourceArn",
                "arn:aws:cloudtrail:us-east-1:111122223333:trail/other",
            ),
            ("s3:x-amz-acl", "bucket-owner-full-control"),
        ];
        assert!(!allows_service(
            DOCUMENTED,
            "cloudtrail.amazonaws.com",
            "s3:PutObject",
            "arn:aws:s3:::myBucketName/AWSLogs/111122223333/x",
            &other
        ));
        assert!(!allows_service(
            DOCUMENTED,
            "cloudtrail.amazonaws.com",
            "s3:PutObject",
            "arn:aws:s3:::myBucketName/prefix/AWSLogs/111122223333/x",
            &ctx
        ));
        assert!(!allows_service(
            DOCUMENTED,
            "config.amazonaws.com",
            "s3:GetBucketAcl",
            "arn:aws:s3:::myBucketName",
            &ctx
        ));
        let deny = DOCUMENTED.replacen(
            r#""Statement":["#,
            r#""Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"},"#,
            1,
        );
        assert!(!allows_service(
            &deny,
            "cloudtrail.amazonaws.com",
            "s3:GetBucketAcl",
            "arn:aws:s3:::myBucketName",
            &ctx
        ));
        assert!(!allows_service(
            "not json",
            "cloudtrail.amazonaws.com",
            "s3:GetBucketAcl",
            "arn:aws:s3:::b",
            &ctx
        ));
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("a*c", "abbbc"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "abbc"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("abc", "abcd"));
    }
}
