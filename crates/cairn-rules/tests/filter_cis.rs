//! The CIS monitoring patterns over real CloudTrail records: each must match exactly the records
//! an independent, hand-written predicate for its CIS check selects (serde_json, no shared code
//! with the engine).

mod filter_corpus;

use cairn_rules::filter::cis::{CIS_FILTERS, CIS_VARIANTS};
use cairn_rules::filter::{FilterPattern, FilterSet};
use serde_json::Value;

/// The value at a dotted path if it is a "value node" (string, number, boolean) — what `=` and
/// `!=` compare; objects, arrays, null and absence compare as neither.
fn scalar(v: &Value, path: &str) -> Option<String> {
    let mut cur = v;
    for k in path.split('.') {
        cur = cur.as_object()?.get(k)?;
    }
    match cur {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn exists(v: &Value, path: &str) -> bool {
    let mut cur = v;
    for k in path.split('.') {
        match cur.as_object().and_then(|o| o.get(k)) {
            Some(c) => cur = c,
            None => return false,
        }
    }
    true
}

fn is(v: &Value, path: &str, want: &str) -> bool {
    scalar(v, path).as_deref() == Some(want)
}

fn is_not(v: &Value, path: &str, not: &str) -> bool {
    scalar(v, path).is_some_and(|s| s != not)
}

fn name_in(v: &Value, names: &[&str]) -> bool {
    scalar(v, "eventName").is_some_and(|n| names.contains(&n.as_str()))
}

/// The CIS check written directly, keyed by CIS number.
fn predicate(cis: &str, v: &Value) -> bool {
    let unauthorized = || {
        scalar(v, "errorCode")
            .is_some_and(|c| c.ends_with("UnauthorizedOperation") || c.starts_with("AccessDenied"))
    };
    match cis {
        "4.1" => unauthorized(),
        "4.1 (v5.0)" => {
            scalar(v, "errorCode").is_some_and(|c| c.ends_with("UnauthorizedOperation"))
                || (scalar(v, "errorCode").is_some_and(|c| c.starts_with("AccessDenied"))
                    && is_not(v, "sourceIPAddress", "delivery.logs.amazonaws.com")
                    && is_not(v, "eventName", "HeadBucket"))
        }
        "4.2" => {
            is(v, "eventName", "ConsoleLogin")
                && is_not(v, "additionalEventData.MFAUsed", "Yes")
                && is(v, "userIdentity.type", "IAMUser")
                && is(v, "responseElements.ConsoleLogin", "Success")
        }
        "4.2 (CIS text)" => {
            is(v, "eventName", "ConsoleLogin") && is_not(v, "additionalEventData.MFAUsed", "Yes")
        }
        "4.3" => {
            is(v, "userIdentity.type", "Root")
                && !exists(v, "userIdentity.invokedBy")
                && is_not(v, "eventType", "AwsServiceEvent")
        }
        "4.4" => name_in(
            v,
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
        "4.5" => name_in(
            v,
            &[
                "CreateTrail",
                "UpdateTrail",
                "DeleteTrail",
                "StartLogging",
                "StopLogging",
            ],
        ),
        "4.6" => {
            is(v, "eventName", "ConsoleLogin") && is(v, "errorMessage", "Failed authentication")
        }
        "4.7" => {
            is(v, "eventSource", "kms.amazonaws.com")
                && name_in(v, &["DisableKey", "ScheduleKeyDeletion"])
        }
        "4.8" => {
            is(v, "eventSource", "s3.amazonaws.com")
                && name_in(
                    v,
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
                )
        }
        "4.9" => {
            is(v, "eventSource", "config.amazonaws.com")
                && name_in(
                    v,
                    &[
                        "StopConfigurationRecorder",
                        "DeleteDeliveryChannel",
                        "PutDeliveryChannel",
                        "PutConfigurationRecorder",
                    ],
                )
        }
        "4.10" | "4.10 (v5.0)" => {
            name_in(
                v,
                &[
                    "AuthorizeSecurityGroupIngress",
                    "AuthorizeSecurityGroupEgress",
                    "RevokeSecurityGroupIngress",
                    "RevokeSecurityGroupEgress",
                    "CreateSecurityGroup",
                    "DeleteSecurityGroup",
                ],
            ) || (cis == "4.10 (v5.0)" && is(v, "eventName", "ModifySecurityGroupRules"))
        }
        "4.11" => name_in(
            v,
            &[
                "CreateNetworkAcl",
                "CreateNetworkAclEntry",
                "DeleteNetworkAcl",
                "DeleteNetworkAclEntry",
                "ReplaceNetworkAclEntry",
                "ReplaceNetworkAclAssociation",
            ],
        ),
        "4.12" => name_in(
            v,
            &[
                "CreateCustomerGateway",
                "DeleteCustomerGateway",
                "AttachInternetGateway",
                "CreateInternetGateway",
                "DeleteInternetGateway",
                "DetachInternetGateway",
            ],
        ),
        "4.13" => name_in(
            v,
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
        "4.14" => name_in(
            v,
            &[
                "CreateVpc",
                "DeleteVpc",
                "ModifyVpcAttribute",
                "AcceptVpcPeeringConnection",
                "CreateVpcPeeringConnection",
                "DeleteVpcPeeringConnection",
                "RejectVpcPeeringConnection",
                "AttachClassicLinkVpc",
                "DetachClassicLinkVpc",
                "DisableVpcClassicLink",
                "EnableVpcClassicLink",
            ],
        ),
        "4.15" => {
            is(v, "eventSource", "organizations.amazonaws.com")
                && name_in(
                    v,
                    &[
                        "AcceptHandshake",
                        "AttachPolicy",
                        "CreateAccount",
                        "CreateOrganizationalUnit",
                        "CreatePolicy",
                        "DeclineHandshake",
                        "DeleteOrganization",
                        "DeleteOrganizationalUnit",
                        "DeletePolicy",
                        "DetachPolicy",
                        "DisablePolicyType",
                        "EnablePolicyType",
                        "InviteAccountToOrganization",
                        "LeaveOrganization",
                        "MoveAccount",
                        "RemoveAccountFromOrganization",
                        "UpdatePolicy",
                        "UpdateOrganizationalUnit",
                    ],
                )
        }
        other => panic!("no predicate for {other}"),
    }
}

/// Controls no real record in the corpus qualifies for (KMS key disabling, S3 bucket policy
/// changes, Config, NACLs, gateways, route tables, VPCs: only hand-edited fixtures have those),
/// checked both ways so the list stays true when the corpus grows.
const NOT_EXERCISED: &[&str] = &["4.7", "4.8", "4.9", "4.11", "4.12", "4.13", "4.14"];

#[test]
fn cis_patterns_match_exactly_what_the_checks_select() {
    for f in CIS_FILTERS.iter().chain(&CIS_VARIANTS) {
        FilterPattern::parse(f.pattern)
            .unwrap_or_else(|e| panic!("CIS {} does not parse: {}", f.cis, e.detail()));
    }
    let t = std::time::Instant::now();
    let Some(records) = filter_corpus::load() else {
        return;
    };
    eprintln!("loaded in {:?}", t.elapsed());
    let values: Vec<Value> = records
        .iter()
        .map(|r| serde_json::from_str(&r.line).expect("corpus line is JSON"))
        .collect();
    eprintln!("parsed in {:?}", t.elapsed());
    let all: Vec<_> = CIS_FILTERS.iter().chain(&CIS_VARIANTS).collect();
    let set = FilterSet::new(
        all.iter()
            .map(|f| FilterPattern::parse(f.pattern).unwrap())
            .collect(),
    );
    let mut set_counts = vec![0usize; all.len()];
    let mut out = Vec::new();
    for r in &records {
        set.matches_into(&r.line, &mut out);
        for (c, hit) in set_counts.iter_mut().zip(&out) {
            *c += usize::from(*hit);
        }
    }
    eprintln!("{} real records", records.len());
    let mut mismatches = Vec::new();
    let mut exercise = Vec::new();
    let t = std::time::Instant::now();
    for (i, f) in all.iter().enumerate() {
        let p = FilterPattern::parse(f.pattern).unwrap();
        let mut engine = 0;
        let mut expected = 0;
        let mut stratus = 0;
        for (r, v) in records.iter().zip(&values) {
            let hit = p.is_match(&r.line);
            let want = predicate(f.cis, v);
            engine += usize::from(hit);
            expected += usize::from(want);
            stratus += usize::from(hit && r.source == "stratus-red-team");
            if hit != want && mismatches.len() < 20 {
                mismatches.push(format!(
                    "CIS {}: engine {hit}, predicate {want}: {}",
                    f.cis,
                    &r.line[..r.line.len().min(300)]
                ));
            }
        }
        eprintln!(
            "CIS {:<14} {:<14} engine {engine:>5}  predicate {expected:>5}  (stratus {stratus})  {}",
            f.cis, f.security_hub, f.title
        );
        assert_eq!(engine, expected, "CIS {}", f.cis);
        assert_eq!(
            set_counts[i], engine,
            "FilterSet disagrees for CIS {}",
            f.cis
        );
        if NOT_EXERCISED.contains(&f.cis) != (engine == 0) {
            exercise.push(format!(
                "CIS {}: {engine} matches, listed as not exercised: {}",
                f.cis,
                NOT_EXERCISED.contains(&f.cis)
            ));
        }
    }
    eprintln!("checked in {:?}", t.elapsed());
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(exercise.is_empty(), "{}", exercise.join("\n"));
}
