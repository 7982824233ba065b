//! cairn's own rules against real records: every rule fires on real records it describes
//! (a technique rule on its Stratus Red Team detonation log, a CIS rule somewhere in the
//! real-record corpus), and no technique rule fires on the benign real records.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::PathBuf;

use cairn_model::timefmt::parse_event_time;
use cairn_rules::sigma::{Detector, Rule};
use serde_json::Value;

use super::*;

fn shared(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/cloudtrail-real")
        .join(path)
}

/// Rule names (`name:`) that fire on `records`, judged in time order (as the journal has
/// them; detonation logs list them newest first).
fn fired(rules: &[Armed], records: &[Value]) -> BTreeSet<String> {
    let mut d = Detector::new(rules.iter().map(|a| a.rule.clone()).collect());
    let mut out = BTreeSet::new();
    let mut records: Vec<&Value> = records.iter().collect();
    records.sort_by_key(|r| r.get("eventTime").and_then(parse_event_time).unwrap_or(0));
    for r in records {
        let t = r.get("eventTime").and_then(parse_event_time).unwrap_or(0);
        for hit in d.observe(r, t) {
            out.insert(name_of(&rules[hit.rule]));
        }
    }
    out
}

fn name_of(a: &Armed) -> String {
    a.rule.name.clone().unwrap_or_else(|| a.id.clone())
}

fn set(rules: &[Armed], name: &str) -> Vec<Armed> {
    rules.iter().filter(|a| a.set == name).cloned().collect()
}

#[test]
fn every_built_in_rule_loads() {
    let own = own();
    let documents: usize = OWN.iter().map(|(_, t)| Rule::parse_all(t).len()).sum();
    assert_eq!(own.len(), documents);
    assert_eq!(set(&own, "cairn-cis").len(), 15);
    assert!(set(&own, "cairn-techniques").len() >= 10);
    let plain: Vec<Rule> = own.iter().map(|a| a.rule.clone()).collect();
    assert!(cairn_rules::sigma::unresolved_references(&plain).is_empty());
}

#[test]
fn each_technique_rule_fires_on_its_detonation_log() {
    let rules = set(&own(), "cairn-techniques");
    let mut all_fired = BTreeSet::new();
    let dir = shared("stratus-red-team/detonation-logs");
    let expect: &[(&str, &[&str])] = &[
        (
            "credential-access.ec2-get-password-data",
            &["ec2-password-data-probing"],
        ),
        (
            "credential-access.ec2-steal-instance-credentials",
            &["ssm-managed-instances-enumerated"],
        ),
        (
            "credential-access.secretsmanager-batch-retrieve-secrets",
            &["secrets-batch-retrieved"],
        ),
        (
            "credential-access.secretsmanager-retrieve-secrets",
            &["secrets-retrieved-in-bulk"],
        ),
        (
            "credential-access.ssm-retrieve-securestring-parameters",
            &["ssm-secure-strings-retrieved-in-bulk"],
        ),
        ("defense-evasion.cloudtrail-delete", &["cloudtrail-delete"]),
        (
            "defense-evasion.cloudtrail-event-selectors",
            &["cloudtrail-management-events-off"],
        ),
        ("defense-evasion.cloudtrail-stop", &["cloudtrail-stop"]),
        (
            "defense-evasion.dns-delete-logs",
            &["dns-query-logging-deleted"],
        ),
        (
            "defense-evasion.organizations-leave",
            &["organizations-leave"],
        ),
        (
            "defense-evasion.vpc-remove-flow-logs",
            &["vpc-flow-logs-deleted"],
        ),
        (
            "discovery.ec2-download-user-data",
            &["ec2-user-data-probing"],
        ),
        (
            "execution.ec2-launch-unusual-instances",
            &["gpu-instance-launch"],
        ),
        (
            "execution.ec2-user-data",
            &["ec2-user-data-changed", "ec2-user-data-sequence"],
        ),
        (
            "execution.ssm-send-command",
            &["ssm-managed-instances-enumerated"],
        ),
        (
            "execution.ssm-start-session",
            &["ssm-managed-instances-enumerated", "ssm-session-started"],
        ),
        // Opening SSH to the world is what the benign teaching account does too: CIS 4.10
        // (security group changes) watches it, no technique rule.
        ("exfiltration.ec2-security-group-open-port-22-ingress", &[]),
        (
            "exfiltration.ec2-share-ami",
            &["ami-shared-with-another-account"],
        ),
        (
            "exfiltration.ec2-share-ebs-snapshot",
            &["ebs-snapshot-shared"],
        ),
        ("exfiltration.rds-share-snapshot", &["rds-snapshot-shared"]),
        (
            "impact.bedrock-invoke-model",
            &["bedrock-model-access-granted"],
        ),
        // Benign accounts sign in without MFA too: CIS 4.2 watches it.
        ("initial-access.console-login-without-mfa", &[]),
        (
            "lateral-movement.ec2-instance-connect",
            &["ec2-instance-connect-key-pushed"],
        ),
        (
            "lateral-movement.ec2-serial-console-send-ssh-public-key",
            &["ec2-instance-connect-key-pushed"],
        ),
        (
            "persistence.iam-backdoor-role",
            &["role-trust-policy-opened"],
        ),
        (
            "persistence.iam-create-admin-user",
            &["admin-policy-attached"],
        ),
        (
            "persistence.iam-create-backdoor-role",
            &["admin-policy-attached"],
        ),
        (
            "persistence.iam-create-user-login-profile",
            &["login-profile-created-for-another-user"],
        ),
        (
            "persistence.lambda-backdoor-function",
            &["lambda-made-public"],
        ),
        (
            "persistence.lambda-layer-extension",
            &["lambda-layer-added"],
        ),
        (
            "persistence.lambda-overwrite-code",
            &["lambda-code-overwritten"],
        ),
        (
            "persistence.rolesanywhere-create-trust-anchor",
            &["roles-anywhere-trust-anchor"],
        ),
        (
            "persistence.sts-federation-token",
            &["federation-token-with-broad-policy"],
        ),
        (
            "privilege-escalation.iam-update-user-login-profile",
            &["login-profile-changed-for-another-user"],
        ),
    ];
    for (technique, names) in expect {
        let path = dir.join(format!("aws.{technique}.json"));
        let records: Vec<Value> = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let got = fired(&rules, &records);
        let want: BTreeSet<String> = names.iter().map(|n| (*n).to_owned()).collect();
        assert_eq!(got, want, "{technique}");
        all_fired.extend(got);
    }
    // Every technique rule has its positive events (but the sequence's steps, which only
    // the sequence sees).
    let every: BTreeSet<String> = rules
        .iter()
        .map(name_of)
        .filter(|n| !n.starts_with("ec2-user-data-sequence-"))
        .collect();
    assert_eq!(all_fired, every);
}

/// The real records that are not attacks: every source but the detonation logs, the attack
/// timelines and the hand-labelled fixtures.
fn benign() -> Vec<Value> {
    const ATTACKS: &[&str] = &[
        "stratus-red-team",
        "otrf-security-datasets",
        "umccr-cloudtrail-parquet-lambda",
        "panther-analysis",
        "streamalert",
    ];
    let index =
        flate2::read::GzDecoder::new(std::fs::File::open(shared("records_index.tsv.gz")).unwrap());
    let sources: Vec<String> = std::io::BufReader::new(index)
        .lines()
        .skip(1)
        .map(|l| l.unwrap().split('\t').nth(1).unwrap_or_default().to_owned())
        .collect();
    let records =
        flate2::read::GzDecoder::new(std::fs::File::open(shared("records.jsonl.gz")).unwrap());
    std::io::BufReader::new(records)
        .lines()
        .zip(sources)
        .filter(|(_, s)| !ATTACKS.contains(&s.as_str()))
        .map(|(l, _)| serde_json::from_str(&l.unwrap()).unwrap())
        .collect()
}

#[test]
fn no_technique_rule_fires_on_the_benign_real_records() {
    let rules = set(&own(), "cairn-techniques");
    let mut records = benign();
    assert!(records.len() > 20_000);
    records.sort_by(|a, b| a["eventTime"].as_str().cmp(&b["eventTime"].as_str()));
    assert_eq!(fired(&rules, &records), BTreeSet::new());
}

/// CIS rules whose calls the real corpus does not hold: judged on real records of the same
/// service with the watched call's name (and, for failed sign-ins, its error) put in.
const NOT_IN_THE_CORPUS: &[(&str, &str, &str)] = &[
    (
        "cis-4.6-console-authentication-failures",
        "ConsoleLogin",
        "ConsoleLogin",
    ),
    (
        "cis-4.7-cmk-disabled-or-scheduled-for-deletion",
        "kms.amazonaws.com",
        "DisableKey",
    ),
    (
        "cis-4.9-config-changes",
        "config.amazonaws.com",
        "StopConfigurationRecorder",
    ),
    (
        "cis-4.11-nacl-changes",
        "ec2.amazonaws.com",
        "CreateNetworkAclEntry",
    ),
    (
        "cis-4.12-network-gateway-changes",
        "ec2.amazonaws.com",
        "AttachInternetGateway",
    ),
    (
        "cis-4.13-route-table-changes",
        "ec2.amazonaws.com",
        "CreateRoute",
    ),
    ("cis-4.14-vpc-changes", "ec2.amazonaws.com", "CreateVpc"),
];

fn real_records() -> Vec<Value> {
    let records =
        flate2::read::GzDecoder::new(std::fs::File::open(shared("records.jsonl.gz")).unwrap());
    let mut all: Vec<Value> = std::io::BufReader::new(records)
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    all.sort_by(|a, b| a["eventTime"].as_str().cmp(&b["eventTime"].as_str()));
    all
}

#[test]
fn each_cis_rule_fires_on_real_records() {
    let rules = set(&own(), "cairn-cis");
    let all = real_records();
    let got = fired(&rules, &all);
    let every: BTreeSet<String> = rules.iter().map(name_of).collect();
    let absent: BTreeSet<String> = NOT_IN_THE_CORPUS
        .iter()
        .map(|(n, _, _)| (*n).to_owned())
        .collect();
    let missing: Vec<_> = every.difference(&got).cloned().collect();
    assert_eq!(
        missing.iter().cloned().collect::<BTreeSet<_>>(),
        absent,
        "CIS rules without real positives"
    );
    for (name, source, event) in NOT_IN_THE_CORPUS {
        let rule: Vec<Armed> = rules
            .iter()
            .filter(|a| name_of(a) == *name)
            .cloned()
            .collect();
        let mut derived: Vec<Value> = if *source == "ConsoleLogin" {
            let login = all
                .iter()
                .find(|r| r["eventName"] == "ConsoleLogin")
                .unwrap()
                .clone();
            (0..3)
                .map(|_| {
                    let mut r = login.clone();
                    r["errorMessage"] = Value::from("Failed authentication");
                    r["responseElements"] = serde_json::json!({"ConsoleLogin": "Failure"});
                    r
                })
                .collect()
        } else {
            let mut r = all
                .iter()
                .find(|r| r["eventSource"] == *source)
                .unwrap()
                .clone();
            r["eventName"] = Value::from(*event);
            vec![r]
        };
        assert_eq!(
            fired(&rule, &derived),
            BTreeSet::from([(*name).to_owned()]),
            "{name}"
        );
        // The same records with another call's name are left alone.
        for r in &mut derived {
            r["eventName"] = Value::from("DescribeSomething");
        }
        assert!(fired(&rule, &derived).is_empty(), "{name}");
    }
}
