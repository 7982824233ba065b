//! The controls, judged on what was gathered. Security Hub's control ids and the CIS AWS
//! Foundations Benchmark v1.4.0 numbers (the monitoring controls keep their 4.x numbers from
//! v1.4 to v5.0; root MFA is 1.5 from v1.4 on).

use cairn_rules::filter::cis::{CIS_FILTERS, CIS_VARIANTS};

use super::Outcome;
use super::gather::{Gathered, Trail};

const PASSED: &str = "PASSED";
const FAILED: &str = "FAILED";
const NOT_AVAILABLE: &str = "NOT_AVAILABLE";
const DAY_MS: i64 = 86_400_000;

fn outcome(
    control: &'static str,
    cis: &'static str,
    title: &'static str,
    status: &'static str,
    reason: impl Into<String>,
    fix: impl Into<String>,
) -> Outcome {
    let fix = if status == PASSED {
        String::new()
    } else {
        fix.into()
    };
    Outcome {
        control,
        cis,
        title,
        status,
        reason: reason.into(),
        fix,
    }
}

fn names(trails: &[&Trail]) -> String {
    trails
        .iter()
        .map(|t| t.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A multi-Region trail that is logging every management event: what CloudTrail.1 asks
/// for, and what the monitoring controls build on.
fn complete(t: &Trail) -> bool {
    t.multi_region && t.logging && t.all_management
}

pub fn judge(g: &Gathered, now_ms: i64) -> Vec<Outcome> {
    let mut out = Vec::new();
    let unread = |control, cis, title, what: &str| {
        outcome(
            control,
            cis,
            title,
            NOT_AVAILABLE,
            format!("{what} could not be read."),
            "Check that the caller may read it.",
        )
    };
    let trails: Option<Vec<&Trail>> = g.trails.as_ref().map(|t| t.iter().collect());
    // IAM.9: what CIS audits with `aws iam get-account-summary` (AccountMFAEnabled is 1).
    let (c, n, t) = ("IAM.9", "1.5", "MFA should be enabled for the root user");
    out.push(match g.root_mfa {
        None => unread(c, n, t, "The account summary"),
        Some(true) => outcome(c, n, t, PASSED, "The root user has an MFA device.", ""),
        Some(false) => outcome(
            c,
            n,
            t,
            FAILED,
            "The root user has no MFA device.",
            "Sign in to the console as the root user; Security credentials: assign a virtual MFA device",
        ),
    });
    // CloudTrail.1
    let (c, n, t) = (
        "CloudTrail.1",
        "3.1",
        "CloudTrail is enabled with a multi-Region trail logging read and write management events",
    );
    out.push(match &trails {
        None => unread(c, n, t, "The account's trails"),
        Some(ts) => match ts.iter().find(|t| complete(t)) {
            Some(ok) => outcome(c, n, t, PASSED, format!("Trail {} is multi-Region, logging, and logs every management event.", ok.name), ""),
            None if ts.is_empty() => outcome(c, n, t, FAILED, "The account has no trail.", "aws cloudtrail create-trail --name main --s3-bucket-name <bucket> --is-multi-region-trail && aws cloudtrail start-logging --name main"),
            None => {
                let why = ts
                    .iter()
                    .map(|t| {
                        let mut gaps = Vec::new();
                        if !t.multi_region { gaps.push("single-Region"); }
                        if !t.logging { gaps.push("not logging"); }
                        if !t.all_management { gaps.push("not logging all management events"); }
                        format!("{} is {}", t.name, gaps.join(" and "))
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                outcome(c, n, t, FAILED, format!("No trail qualifies: {why}."), "aws cloudtrail update-trail --name <trail> --is-multi-region-trail && aws cloudtrail start-logging --name <trail> (selectors: all management events)")
            }
        },
    });
    // Per-trail controls: every trail must pass.
    let per_trail = |c: &'static str,
                     n: &'static str,
                     t: &'static str,
                     bad: &dyn Fn(&Trail) -> bool,
                     failing: &str,
                     passing: &str,
                     fix: &str| match &trails {
        None => unread(c, n, t, "The account's trails"),
        Some(ts) if ts.is_empty() => outcome(
            c,
            n,
            t,
            FAILED,
            "The account has no trail.",
            "Create a trail first (CloudTrail.1).",
        ),
        Some(ts) => {
            let bad: Vec<&Trail> = ts.iter().copied().filter(|t| bad(t)).collect();
            if bad.is_empty() {
                outcome(c, n, t, PASSED, passing.to_owned(), "")
            } else {
                outcome(
                    c,
                    n,
                    t,
                    FAILED,
                    format!("{failing}: {}.", names(&bad)),
                    fix.to_owned(),
                )
            }
        }
    };
    out.push(per_trail(
        "CloudTrail.4",
        "3.2",
        "CloudTrail log file validation is enabled",
        &|t| !t.validation,
        "Log file validation is off for",
        "Every trail writes digest files.",
        "aws cloudtrail update-trail --name <trail> --enable-log-file-validation",
    ));
    // CloudTrail.6
    let (c, n, t) = (
        "CloudTrail.6",
        "3.3",
        "The S3 bucket CloudTrail logs to is not publicly accessible",
    );
    out.push(match &trails {
        None => unread(c, n, t, "The account's trails"),
        Some(ts) if ts.is_empty() => outcome(c, n, t, FAILED, "The account has no trail.", "Create a trail first (CloudTrail.1)."),
        Some(_) => {
            let public: Vec<&str> = g.buckets.iter().filter(|b| b.public == Some(true)).map(|b| b.name.as_str()).collect();
            let unknown: Vec<&str> = g.buckets.iter().filter(|b| b.public.is_none()).map(|b| b.name.as_str()).collect();
            if !public.is_empty() {
                outcome(c, n, t, FAILED, format!("A policy or ACL lets everyone in to {}.", public.join(", ")), "Remove the bucket policy statement allowing \"*\" and any AllUsers/AuthenticatedUsers grant (aws s3api put-bucket-acl --bucket <bucket> --acl private)")
            } else if !unknown.is_empty() {
                outcome(c, n, t, NOT_AVAILABLE, format!("The policy or ACL of {} could not be read (a bucket on another endpoint, or no permission).", unknown.join(", ")), "Check the bucket where it lives.")
            } else {
                outcome(c, n, t, PASSED, "No trail bucket's policy or ACL grants everyone.", "")
            }
        }
    });
    out.push(per_trail(
        "CloudTrail.5", "3.4", "CloudTrail trails are integrated with CloudWatch Logs",
        &|t| t.log_group_arn.is_none() || t.cwl_delivered_ms.is_none_or(|d| now_ms - d > DAY_MS),
        "No delivery to CloudWatch Logs within the last day from", "Every trail delivered to its log group within the last day.",
        "aws cloudtrail update-trail --name <trail> --cloud-watch-logs-log-group-arn <log group ARN> --cloud-watch-logs-role-arn <role ARN>",
    ));
    // CloudTrail.7
    let (c, n, t) = (
        "CloudTrail.7",
        "3.6",
        "S3 bucket access logging is enabled on the CloudTrail S3 bucket",
    );
    out.push(match &trails {
        None => unread(c, n, t, "The account's trails"),
        Some(ts) if ts.is_empty() => outcome(c, n, t, FAILED, "The account has no trail.", "Create a trail first (CloudTrail.1)."),
        Some(_) => {
            let off: Vec<&str> = g.buckets.iter().filter(|b| b.access_logging == Some(false)).map(|b| b.name.as_str()).collect();
            let unknown: Vec<&str> = g.buckets.iter().filter(|b| b.access_logging.is_none()).map(|b| b.name.as_str()).collect();
            if !unknown.is_empty() {
                outcome(c, n, t, NOT_AVAILABLE, format!("The access logging of {} could not be read (a bucket on another endpoint, or no permission).", unknown.join(", ")), "Check the bucket where it lives.")
            } else if off.is_empty() {
                outcome(c, n, t, PASSED, "Every trail bucket logs its accesses.", "")
            } else {
                outcome(c, n, t, FAILED, format!("Server access logging is off for {}.", off.join(", ")), "aws s3api put-bucket-logging --bucket <trail bucket> --bucket-logging-status file://logging.json")
            }
        }
    });
    out.push(per_trail(
        "CloudTrail.2",
        "3.7",
        "CloudTrail logs are encrypted at rest with KMS keys",
        &|t| t.kms_key.is_none(),
        "No KMS key encrypts the log files of",
        "Every trail encrypts its log files with a KMS key.",
        "aws cloudtrail update-trail --name <trail> --kms-key-id <key id or alias>",
    ));
    // KMS.4
    let (c, n, t) = (
        "KMS.4",
        "3.8",
        "Rotation is enabled for customer managed KMS keys",
    );
    out.push(match &g.keys {
        None => unread(c, n, t, "The account's KMS keys"),
        Some(keys) if keys.is_empty() => outcome(c, n, t, PASSED, "The account has no enabled customer managed symmetric key.", ""),
        Some(keys) if keys.iter().any(|k| k.rotation.is_none()) => outcome(c, n, t, NOT_AVAILABLE, "The rotation status of a key could not be read (cairn's KMS does not serve GetKeyRotationStatus yet).", "None yet in cairn; on AWS: aws kms enable-key-rotation --key-id <key id>"),
        Some(keys) => {
            let off: Vec<&str> = keys.iter().filter(|k| k.rotation != Some(true)).map(|k| k.id.as_str()).collect();
            if off.is_empty() {
                outcome(c, n, t, PASSED, "Every customer managed symmetric key rotates yearly.", "")
            } else {
                outcome(c, n, t, FAILED, format!("Rotation is off for {}.", off.join(", ")), "aws kms enable-key-rotation --key-id <key id>")
            }
        }
    });
    monitoring(g, &trails, &mut out);
    out
}

fn squeeze(p: &str) -> String {
    p.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The log group name a trail's `CloudWatchLogsLogGroupArn` names.
fn group_of(arn: &str) -> &str {
    arn.split(":log-group:")
        .nth(1)
        .map_or(arn, |rest| rest.trim_end_matches(":*"))
}

/// CloudWatch.1–14: on the log group of a complete trail, the control's metric filter (its
/// exact pattern), an alarm on the filter's metric, and an SNS topic among the alarm's
/// actions with a confirmed subscription.
fn monitoring(g: &Gathered, trails: &Option<Vec<&Trail>>, out: &mut Vec<Outcome>) {
    for f in CIS_FILTERS.iter() {
        let (c, n, t) = (f.security_hub, f.cis, f.title);
        let fix = "cairn recipes cis-alarms --log-group <trail's log group> --topic <SNS topic ARN>, then subscribe to the topic".to_owned();
        let (Some(ts), Some(filters), Some(alarms)) = (trails, &g.filters, &g.alarms) else {
            out.push(outcome(
                c,
                n,
                t,
                NOT_AVAILABLE,
                "The trails, metric filters or alarms could not be read.",
                "Check that the caller may read them.",
            ));
            continue;
        };
        let groups: Vec<&str> = ts
            .iter()
            .filter(|t| complete(t))
            .filter_map(|t| t.log_group_arn.as_deref().map(group_of))
            .collect();
        if groups.is_empty() {
            out.push(outcome(
                c,
                n,
                t,
                FAILED,
                "No multi-Region trail logging every management event delivers to CloudWatch Logs.",
                format!("Fix CloudTrail.1 and CloudTrail.5 first; then {fix}"),
            ));
            continue;
        }
        let wanted: Vec<String> = std::iter::once(f.pattern)
            .chain(
                CIS_VARIANTS
                    .iter()
                    .filter(|v| v.cis == f.cis)
                    .map(|v| v.pattern),
            )
            .map(squeeze)
            .collect();
        let matching: Vec<_> = filters
            .iter()
            .filter(|m| {
                groups.contains(&m.log_group.as_str()) && wanted.contains(&squeeze(&m.pattern))
            })
            .collect();
        if matching.is_empty() {
            out.push(outcome(
                c,
                n,
                t,
                FAILED,
                format!(
                    "No metric filter on {} has the CIS pattern.",
                    groups.join(", ")
                ),
                fix,
            ));
            continue;
        }
        let alarmed: Vec<_> = alarms
            .iter()
            .filter(|a| {
                matching.iter().any(|m| {
                    m.metrics
                        .iter()
                        .any(|(ns, name)| *ns == a.namespace && *name == a.metric)
                })
            })
            .collect();
        if alarmed.is_empty() {
            out.push(outcome(
                c,
                n,
                t,
                FAILED,
                "The metric filter's metric has no alarm.",
                fix,
            ));
            continue;
        }
        let notified = alarmed.iter().any(|a| {
            a.actions
                .iter()
                .any(|act| g.subscribed.iter().any(|(topic, k)| topic == act && *k > 0))
        });
        if notified {
            let a = &alarmed[0];
            out.push(outcome(c, n, t, PASSED, format!("Alarm {} watches the filter's metric and notifies a topic with a confirmed subscriber.", a.name), ""));
        } else {
            out.push(outcome(c, n, t, FAILED, "No alarm on the filter's metric notifies an SNS topic with a confirmed subscription.", "aws sns subscribe --topic-arn <alarm's topic> --protocol email --notification-endpoint <you> (and confirm it)"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::gather::{Alarm, Bucket, Filter, Key};
    use super::*;

    fn status(outcomes: &[Outcome], control: &str) -> (&'static str, String) {
        let o = outcomes
            .iter()
            .find(|o| o.control == control)
            .unwrap_or_else(|| panic!("{control}"));
        (o.status, o.reason.clone())
    }

    #[test]
    fn an_empty_account_fails_with_reasons() {
        let g = Gathered {
            trails: Some(vec![]),
            filters: Some(vec![]),
            alarms: Some(vec![]),
            keys: Some(vec![]),
            root_mfa: Some(false),
            ..Gathered::default()
        };
        let o = judge(&g, 0);
        assert_eq!(o.len(), 8 + 14);
        assert_eq!(
            status(&o, "IAM.9"),
            (FAILED, "The root user has no MFA device.".into())
        );
        assert_eq!(
            status(&o, "CloudTrail.1"),
            (FAILED, "The account has no trail.".into())
        );
        assert_eq!(status(&o, "KMS.4").0, PASSED);
        assert!(
            o.iter()
                .filter(|o| o.status == FAILED)
                .all(|o| !o.fix.is_empty())
        );
        assert_eq!(status(&o, "CloudWatch.1").0, FAILED);
    }

    #[test]
    fn a_complete_set_up_passes() {
        let trail = Trail {
            name: "main".into(),
            arn: "arn:aws:cloudtrail:us-east-1:1:trail/main".into(),
            bucket: "b".into(),
            multi_region: true,
            validation: true,
            kms_key: Some("k".into()),
            log_group_arn: Some("arn:aws:logs:us-east-1:1:log-group:ct:*".into()),
            logging: true,
            cwl_delivered_ms: Some(1_000),
            all_management: true,
        };
        let filters = CIS_FILTERS
            .iter()
            .map(|f| Filter {
                log_group: "ct".into(),
                pattern: f.pattern.replace(' ', ""),
                metrics: vec![("CIS".into(), f.cis.into())],
            })
            .collect();
        let alarms = CIS_FILTERS
            .iter()
            .map(|f| Alarm {
                name: f.cis.into(),
                namespace: "CIS".into(),
                metric: f.cis.into(),
                actions: vec!["arn:aws:sns:us-east-1:1:t".into()],
            })
            .collect();
        let g = Gathered {
            trails: Some(vec![trail.clone()]),
            buckets: vec![Bucket {
                name: "b".into(),
                public: Some(false),
                access_logging: Some(true),
            }],
            filters: Some(filters),
            alarms: Some(alarms),
            subscribed: vec![("arn:aws:sns:us-east-1:1:t".into(), 1)],
            keys: Some(vec![Key {
                id: "k".into(),
                rotation: Some(true),
            }]),
            root_mfa: Some(true),
        };
        let o = judge(&g, 2_000);
        let failed: Vec<_> = o.iter().filter(|o| o.status != PASSED).collect();
        assert!(failed.is_empty(), "{failed:#?}");
        // A day without delivery to CloudWatch Logs fails CloudTrail.5; no confirmed
        // subscriber fails the monitoring controls.
        assert_eq!(status(&judge(&g, 2 * DAY_MS), "CloudTrail.5").0, FAILED);
        let unsubscribed = Gathered {
            subscribed: vec![("arn:aws:sns:us-east-1:1:t".into(), 0)],
            ..g.clone()
        };
        assert_eq!(
            status(&judge(&unsubscribed, 2_000), "CloudWatch.1").0,
            FAILED
        );
        let single = Gathered {
            trails: Some(vec![Trail {
                multi_region: false,
                ..trail
            }]),
            ..g
        };
        let unread = Gathered {
            root_mfa: None,
            ..single.clone()
        };
        assert_eq!(status(&judge(&unread, 2_000), "IAM.9").0, NOT_AVAILABLE);
        let (s, why) = status(&judge(&single, 2_000), "CloudTrail.1");
        assert_eq!(
            (s, why.as_str()),
            (FAILED, "No trail qualifies: main is single-Region.")
        );
    }
}
