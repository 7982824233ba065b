#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use serde_json::{Value, json};

use super::*;

fn rule(detection: &str) -> Rule {
    let text = format!(
        "title: t\nlogsource:\n    product: aws\n    service: cloudtrail\ndetection:\n{detection}"
    );
    Rule::parse(&text).unwrap()
}

fn refused(detection: &str) -> SigmaError {
    let text = format!(
        "title: t\nlogsource:\n    product: aws\n    service: cloudtrail\ndetection:\n{detection}"
    );
    Rule::parse(&text).unwrap_err()
}

#[test]
fn values_compare_case_insensitively_with_wildcards() {
    let r = rule(
        "    sel:\n        eventName: 'get*'\n        userAgent: '*boto3?1*'\n    condition: sel\n",
    );
    assert!(r.matches(&json!({"eventName": "GetObject", "userAgent": "Boto3/1.34"})));
    assert!(!r.matches(&json!({"eventName": "ListObjects", "userAgent": "Boto3/1.34"})));
    assert!(!r.matches(&json!({"eventName": "GetObject"})));
    let exact = rule("    sel:\n        eventName: ConsoleLogin\n    condition: sel\n");
    assert!(exact.matches(&json!({"eventName": "consolelogin"})));
    assert!(!exact.matches(&json!({"eventName": "ConsoleLogins"})));
    let escaped = rule("    sel:\n        errorMessage: 'a\\*b'\n    condition: sel\n");
    assert!(escaped.matches(&json!({"errorMessage": "a*b"})));
    assert!(!escaped.matches(&json!({"errorMessage": "aXb"})));
}

#[test]
fn modifiers() {
    let r = rule(
        "    sel:\n        userAgent|contains: trufflehog\n        eventName|startswith: Get\n        eventSource|endswith: .amazonaws.com\n    condition: sel\n",
    );
    assert!(r.matches(&json!({"userAgent": "x TruffleHog y", "eventName": "GetCallerIdentity", "eventSource": "sts.amazonaws.com"})));
    assert!(!r.matches(&json!({"userAgent": "aws-cli", "eventName": "GetCallerIdentity", "eventSource": "sts.amazonaws.com"})));
    let all = rule(
        "    sel:\n        requestParameters|contains|all:\n            - '\"s3:GetObject\"'\n            - '\"Allow\"'\n    condition: sel\n",
    );
    assert!(all.matches(
        &json!({"requestParameters": {"policy": {"Action": "s3:GetObject", "Effect": "Allow"}}})
    ));
    assert!(
        !all.matches(&json!({"requestParameters": {"Action": "s3:GetObject", "Effect": "Deny"}}))
    );
    let re = rule(
        "    sel:\n        userIdentity.arn|re: '.+:assumed-role/aws:.+'\n    condition: sel\n",
    );
    assert!(re.matches(
        &json!({"userIdentity": {"arn": "arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1"}})
    ));
    assert!(!re.matches(&json!({"userIdentity": {"arn": "arn:aws:iam::1:user/bob"}})));
    let cidr = rule("    sel:\n        sourceIPAddress|cidr: 10.0.0.0/8\n    condition: sel\n");
    assert!(cidr.matches(&json!({"sourceIPAddress": "10.1.2.3"})));
    assert!(!cidr.matches(&json!({"sourceIPAddress": "192.0.2.1"})));
    let exists = rule("    sel:\n        errorCode|exists: true\n    condition: sel\n");
    assert!(exists.matches(&json!({"errorCode": "AccessDenied"})));
    assert!(!exists.matches(&json!({"eventName": "x"})));
    let fieldref = rule(
        "    sel:\n        userIdentity.userName|fieldref: requestParameters.userName\n    condition: sel\n",
    );
    assert!(fieldref.matches(
        &json!({"userIdentity": {"userName": "bob"}, "requestParameters": {"userName": "Bob"}})
    ));
    assert!(!fieldref.matches(
        &json!({"userIdentity": {"userName": "bob"}, "requestParameters": {"userName": "eve"}})
    ));
    let num = rule("    sel:\n        requestParameters.maxResults|gte: 100\n    condition: sel\n");
    assert!(num.matches(&json!({"requestParameters": {"maxResults": 500}})));
    assert!(!num.matches(&json!({"requestParameters": {"maxResults": 5}})));
    let null = rule("    sel:\n        errorCode: null\n    condition: sel\n");
    assert!(null.matches(&json!({"eventName": "x"})));
    assert!(!null.matches(&json!({"errorCode": "AccessDenied"})));
    let b64 = rule(
        "    sel:\n        requestParameters.userData|base64offset|contains: 'curl '\n    condition: sel\n",
    );
    let encoded = |s: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(s)
    };
    for prefix in ["", "#", "#!"] {
        let data = encoded(&format!("{prefix}bin/sh\ncurl http://x"));
        assert!(
            b64.matches(&json!({"requestParameters": {"userData": data}})),
            "{prefix}"
        );
    }
    assert!(
        !b64.matches(&json!({"requestParameters": {"userData": encoded("#!/bin/sh\necho hi")}}))
    );
}

#[test]
fn lists_keywords_and_conditions() {
    let r = rule(
        "    sel:\n        - eventName: A\n        - eventName: B\n          errorCode: X\n    filter:\n        userIdentity.type: AssumedRole\n    condition: sel and not filter\n",
    );
    assert!(r.matches(&json!({"eventName": "A"})));
    assert!(r.matches(&json!({"eventName": "B", "errorCode": "X"})));
    assert!(!r.matches(&json!({"eventName": "B"})));
    assert!(!r.matches(&json!({"eventName": "A", "userIdentity": {"type": "AssumedRole"}})));
    let k = rule("    keywords:\n        - trufflehog\n    condition: keywords\n");
    assert!(k.matches(&json!({"a": {"b": ["x", "TruffleHog v3"]}})));
    assert!(!k.matches(&json!({"a": "aws-cli"})));
}

#[test]
fn refusals_name_the_construct() {
    assert!(matches!(
        refused("    sel:\n        eventName|windash: x\n    condition: sel\n"),
        SigmaError::Unsupported(m) if m.contains("windash")
    ));
    assert!(matches!(
        refused("    sel:\n        eventName: x\n    condition: sel | count() > 5\n"),
        SigmaError::Invalid(m) if m.contains("timeframe")
    ));
    assert!(matches!(
        refused("    sel:\n        eventName: x\n    condition: other\n"),
        SigmaError::Invalid(m) if m.contains("no search named 'other'")
    ));
    let windows = "title: t\nlogsource:\n    product: windows\ndetection:\n    s:\n        a: b\n    condition: s\n";
    assert!(matches!(
        Rule::parse(windows),
        Err(SigmaError::OtherLogSource(_))
    ));
    assert!(matches!(
        Rule::parse("title: [unclosed"),
        Err(SigmaError::Yaml(_))
    ));
}

#[test]
fn aggregations_fire_past_their_threshold_within_the_timeframe() {
    let r = rule(
        "    sel:\n        eventName: GetSecretValue\n    timeframe: 5m\n    condition: sel | count() by userIdentity.arn > 3\n",
    );
    let mut d = Detector::new(vec![r]);
    let call = |who: &str| json!({"eventName": "GetSecretValue", "userIdentity": {"arn": who}});
    let minute = 60_000;
    // Three calls a minute apart, then one after the window has moved past the first.
    for t in 0..3 {
        assert!(d.observe(&call("a"), t * minute).is_empty());
    }
    assert!(d.observe(&call("a"), 6 * minute).is_empty());
    // Another principal's calls count apart.
    for t in 0..3 {
        assert!(d.observe(&call("b"), 7 * minute + t).is_empty());
    }
    let hits = d.observe(&call("b"), 7 * minute + 10);
    assert_eq!(
        hits,
        vec![Hit {
            rule: 0,
            group: Some("b".into()),
            count: 4
        }]
    );
    // Counting starts afresh after a hit.
    assert!(d.observe(&call("b"), 7 * minute + 11).is_empty());
    let distinct = rule(
        "    sel:\n        eventSource: secretsmanager.amazonaws.com\n    timeframe: 1m\n    condition: sel | count(requestParameters.secretId) by sourceIPAddress >= 2\n",
    );
    let mut d = Detector::new(vec![distinct]);
    let get = |id: &str| json!({"eventSource": "secretsmanager.amazonaws.com", "sourceIPAddress": "1.2.3.4", "requestParameters": {"secretId": id}});
    assert!(d.observe(&get("s1"), 0).is_empty());
    assert!(d.observe(&get("s1"), 1).is_empty());
    assert_eq!(d.observe(&get("s2"), 2).len(), 1);
}

fn shared(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(path)
}

/// SigmaHQ's rules for CloudTrail, as a user would bring them.
fn sigmahq() -> Vec<(String, Result<Rule, SigmaError>)> {
    let mut out: Vec<_> = std::fs::read_dir(shared("sigma-aws-cloudtrail/rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, Rule::parse(&std::fs::read_to_string(&p).unwrap()))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_sigmahq_cloudtrail_rule_loads() {
    let rules = sigmahq();
    assert_eq!(rules.len(), 57);
    let refused: Vec<_> = rules
        .iter()
        .filter_map(|(n, r)| r.as_ref().err().map(|e| format!("{n}: {e}")))
        .collect();
    assert!(refused.is_empty(), "{refused:#?}");
}

/// Which SigmaHQ rules fire on which Stratus Red Team detonation logs.
fn fired_on_detonations() -> Vec<(String, String)> {
    let rules = sigmahq();
    let mut fired = Vec::new();
    let dir = shared("cloudtrail-real/stratus-red-team/detonation-logs");
    let mut logs: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    logs.sort();
    for log in logs {
        let technique = log.file_stem().unwrap().to_string_lossy().into_owned();
        let records: Vec<Value> = serde_json::from_slice(&std::fs::read(&log).unwrap()).unwrap();
        for (name, rule) in &rules {
            let rule = rule.as_ref().unwrap();
            if records.iter().any(|r| rule.matches(r)) {
                fired.push((
                    name.clone(),
                    technique.trim_start_matches("aws.").to_owned(),
                ));
            }
        }
    }
    fired
}

/// Each SigmaHQ rule whose events a Stratus Red Team detonation made fires on that
/// detonation's real log, and no rule fires elsewhere. (Rules that name a detonation's event
/// but not its shape stay silent, rightly: `aws_ec2_startup_script_change` wants
/// `requestParameters.attribute: userData`, which the detonation's call does not send; the
/// TruffleHog and S3 Browser rules want those tools' user agents; the failed-login rule wants a
/// failure.)
#[test]
fn sigmahq_rules_fire_on_the_stratus_detonations_they_describe() {
    let fired = fired_on_detonations();
    let expected: Vec<(String, String)> = [
        (
            "aws_sts_assumerole_misuse",
            "credential-access.ec2-get-password-data",
        ),
        (
            "aws_cloudtrail_ssm_malicious_usage",
            "credential-access.ec2-steal-instance-credentials",
        ),
        (
            "aws_sts_assumerole_misuse",
            "credential-access.ec2-steal-instance-credentials",
        ),
        (
            "aws_cloudtrail_disable_logging",
            "defense-evasion.cloudtrail-delete",
        ),
        (
            "aws_cloudtrail_disable_logging",
            "defense-evasion.cloudtrail-stop",
        ),
        (
            "aws_sts_assumerole_misuse",
            "defense-evasion.organizations-leave",
        ),
        (
            "aws_cloudtrail_vpc_flow_logs_deleted",
            "defense-evasion.vpc-remove-flow-logs",
        ),
        (
            "aws_sts_assumerole_misuse",
            "discovery.ec2-download-user-data",
        ),
        (
            "aws_sts_assumerole_misuse",
            "execution.ec2-launch-unusual-instances",
        ),
        (
            "aws_cloudtrail_ssm_malicious_usage",
            "execution.ssm-send-command",
        ),
        (
            "aws_cloudtrail_security_group_change_ingress_egress",
            "exfiltration.ec2-security-group-open-port-22-ingress",
        ),
        (
            "aws_snapshot_backup_exfiltration",
            "exfiltration.ec2-share-ebs-snapshot",
        ),
        ("aws_sts_assumerole_misuse", "impact.bedrock-invoke-model"),
        (
            "aws_cloudtrail_console_login_success_without_mfa",
            "initial-access.console-login-without-mfa",
        ),
        (
            "aws_sts_assumerole_misuse",
            "lateral-movement.ec2-serial-console-send-ssh-public-key",
        ),
        (
            "aws_iam_backdoor_users_keys",
            "persistence.iam-backdoor-user",
        ),
        (
            "aws_iam_backdoor_users_keys",
            "persistence.iam-create-admin-user",
        ),
        (
            "aws_new_lambda_layer_attached",
            "persistence.lambda-layer-extension",
        ),
        (
            "aws_update_login_profile",
            "privilege-escalation.iam-update-user-login-profile",
        ),
    ]
    .into_iter()
    .map(|(r, t)| (r.to_owned(), t.to_owned()))
    .collect();
    assert_eq!(fired, expected);
}

/// The detector's index by eventName skips only rules that could not match: over the whole
/// real-record corpus, SigmaHQ's rules fire on exactly the records they match one by one.
#[test]
fn the_event_name_index_skips_only_rules_that_cannot_match() {
    use std::io::BufRead;
    let rules: Vec<Rule> = sigmahq().into_iter().map(|(_, r)| r.unwrap()).collect();
    assert!(
        rules
            .iter()
            .filter(|r| r.required_event_names().is_some())
            .count()
            >= 50
    );
    let file = std::fs::File::open(shared("cloudtrail-real/records.jsonl.gz")).unwrap();
    let lines = std::io::BufReader::new(flate2::read::GzDecoder::new(file)).lines();
    let mut d = Detector::new(rules.clone());
    let (mut indexed, mut one_by_one) = (0usize, 0usize);
    for line in lines {
        let r: Value = serde_json::from_str(&line.unwrap()).unwrap();
        let hits: Vec<usize> = d.observe(&r, 0).into_iter().map(|h| h.rule).collect();
        let direct: Vec<usize> = (0..rules.len()).filter(|&i| rules[i].matches(&r)).collect();
        assert_eq!(hits, direct, "{}", r["eventID"]);
        indexed += hits.len();
        one_by_one += direct.len();
    }
    assert_eq!(indexed, one_by_one);
    assert!(indexed > 1000);
}

const SEQUENCE: &str = r#"
title: Instance stopped
name: stopped
logsource: {product: aws, service: cloudtrail}
detection:
    s: {eventName: StopInstances}
    condition: s
---
title: User data changed
name: user-data
logsource: {product: aws, service: cloudtrail}
detection:
    s: {eventName: ModifyInstanceAttribute, requestParameters.userData|exists: true}
    condition: s
---
title: Instance started
name: started
logsource: {product: aws, service: cloudtrail}
detection:
    s: {eventName: StartInstances}
    condition: s
---
title: Stopped, user data changed, started again
name: user-data-sequence
correlation:
    type: temporal_ordered
    rules: [stopped, user-data, started]
    group-by: [userIdentity.arn]
    timespan: 10m
level: high
"#;

fn call(name: &str, who: &str) -> Value {
    let mut r = json!({"eventName": name, "userIdentity": {"arn": who}});
    if name == "ModifyInstanceAttribute" {
        r["requestParameters"] = json!({"userData": "<sensitiveDataRemoved>"});
    }
    r
}

fn detector(text: &str) -> Detector {
    Detector::new(
        Rule::parse_all(text)
            .into_iter()
            .map(Result::unwrap)
            .collect(),
    )
}

#[test]
fn an_ordered_sequence_fires_once_in_order_within_its_timespan_per_group() {
    let rules: Vec<Rule> = Rule::parse_all(SEQUENCE)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rules.len(), 4);
    assert!(unresolved_references(&rules).is_empty());
    let mut d = Detector::new(rules);
    let minute = 60_000;
    let fired = |d: &mut Detector, name: &str, who: &str, t: i64| d.observe(&call(name, who), t);
    // The referenced rules are silent on their own (generate: false).
    assert!(fired(&mut d, "StopInstances", "a", 0).is_empty());
    // Out of order for b: started before stopped does not count.
    assert!(fired(&mut d, "StartInstances", "b", minute).is_empty());
    assert!(fired(&mut d, "ModifyInstanceAttribute", "a", 2 * minute).is_empty());
    // Another principal's start does not complete a's sequence.
    assert!(fired(&mut d, "StartInstances", "b", 3 * minute).is_empty());
    let hits = fired(&mut d, "StartInstances", "a", 4 * minute);
    assert_eq!(
        hits,
        vec![Hit {
            rule: 3,
            group: Some("a".into()),
            count: 3
        }]
    );
    // Too slow: the chain must end within 10 minutes of its start.
    assert!(fired(&mut d, "StopInstances", "c", 0).is_empty());
    assert!(fired(&mut d, "ModifyInstanceAttribute", "c", 5 * minute).is_empty());
    assert!(fired(&mut d, "StartInstances", "c", 11 * minute).is_empty());
}

#[test]
fn counts_and_unordered_correlations() {
    let base = "title: Get\nname: get\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n    s: {eventName: GetSecretValue}\n    condition: s\n";
    let counted = format!(
        "{base}---\ntitle: Many gets\ncorrelation:\n    type: event_count\n    rules: [get]\n    group-by: [userIdentity.arn]\n    timespan: 5m\n    condition: {{gte: 3}}\n    generate: true\n"
    );
    let mut d = detector(&counted);
    let get = |who: &str, id: &str| json!({"eventName": "GetSecretValue", "userIdentity": {"arn": who}, "requestParameters": {"secretId": id}});
    // generate: true: the base rule fires on its own too.
    assert_eq!(d.observe(&get("a", "s1"), 0).len(), 1);
    assert_eq!(d.observe(&get("a", "s1"), 1).len(), 1);
    let hits = d.observe(&get("a", "s1"), 2);
    assert_eq!(hits.len(), 2);
    assert_eq!(
        hits[0],
        Hit {
            rule: 1,
            group: Some("a".into()),
            count: 3
        }
    );
    let distinct = format!(
        "{base}---\ntitle: Many secrets\ncorrelation:\n    type: value_count\n    rules: [get]\n    group-by: [userIdentity.arn]\n    timespan: 5m\n    condition: {{gte: 2, field: requestParameters.secretId}}\n"
    );
    let mut d = detector(&distinct);
    assert!(d.observe(&get("a", "s1"), 0).is_empty());
    assert!(d.observe(&get("a", "s1"), 1).is_empty());
    assert_eq!(
        d.observe(&get("a", "s2"), 2),
        vec![Hit {
            rule: 1,
            group: Some("a".into()),
            count: 2
        }]
    );
    let both = "title: A\nname: a\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n    s: {eventName: A}\n    condition: s\n---\ntitle: B\nname: b\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n    s: {eventName: B}\n    condition: s\n---\ntitle: A and B\ncorrelation:\n    type: temporal\n    rules: [a, b]\n    timespan: 1m\n";
    let mut d = detector(both);
    assert!(d.observe(&json!({"eventName": "B"}), 0).is_empty());
    assert_eq!(d.observe(&json!({"eventName": "A"}), 10).len(), 1);
}

#[test]
fn correlation_refusals() {
    let missing =
        "title: Lonely\ncorrelation:\n    type: temporal\n    rules: [nowhere]\n    timespan: 1m\n";
    let rules: Vec<Rule> = Rule::parse_all(missing)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        unresolved_references(&rules),
        vec![(0, vec!["nowhere".to_owned()])]
    );
    let odd = "title: Odd\ncorrelation:\n    type: value_sum\n    rules: [x]\n    timespan: 1m\n";
    assert!(
        matches!(&Rule::parse_all(odd)[0], Err(SigmaError::Unsupported(m)) if m.contains("value_sum"))
    );
    let no_span = "title: Odd\ncorrelation:\n    type: temporal\n    rules: [x]\n";
    assert!(
        matches!(&Rule::parse_all(no_span)[0], Err(SigmaError::Invalid(m)) if m.contains("timespan"))
    );
}
