//! The rules the engine judges records with: cairn's own sets, built in, and the Sigma rules
//! of the folders the user names (`--sigma-rules DIR`), each rule in its set.
//!
//! cairn's own rules are Sigma rules too (`rules/`): `cairn-cis`, the CIS AWS Foundations
//! Benchmark's monitoring controls 4.1–4.15 (the metric filters of Security Hub's
//! CloudWatch.1–14, as detections: they fire on every change they watch, benign or not), and
//! `cairn-techniques`, one rule per Stratus Red Team technique whose CloudTrail trace is
//! distinctive (plain; threshold: "GetSecretValue for 20 secrets by one principal in 5 minutes";
//! sequence: "an instance stopped, its user data changed, started again within 10 minutes"), each
//! tested to fire on the technique's real detonation log and on nothing of the benign real
//! records.

use std::path::{Path, PathBuf};

use cairn_rules::sigma::{Rule, SigmaError};

/// cairn's own rules: (set, YAML).
const OWN: &[(&str, &str)] = &[
    (
        "cairn-cis",
        include_str!("rules/cis/cis-4.1-unauthorized-api-calls.yml"),
    ),
    (
        "cairn-cis",
        include_str!("rules/cis/cis-4.10-security-group-changes.yml"),
    ),
    (
        "cairn-cis",
        include_str!("rules/cis/cis-4.11-nacl-changes.yml"),
    ),
    (
        "cairn-cis",
        include_str!("rules/cis/cis-4.12-network-gateway-changes.yml"),
    ),
    (
        "cairn-cis",
        include_str!("rules/cis/cis-4.13-route-table-changes.yml"),
    ),
    (
        "cairn-cis",
        include_str!("rules/cis/cis-4.14-vpc-changes.yml"),
    ),
    (
        "cairn-cis",
        include_str!("rules/cis/cis-4.15-organizations-changes.yml"),
    ),
    (
        "cairn-cis",
        include_str!("rules/cis/cis-4.2-console-sign-in-without-mfa.yml"),
    ),
    (
        "cairn-cis",
        include_str!("rules/cis/cis-4.3-root-account-usage.yml"),
    ),
    (
        "cairn-cis",
        include_str!("rules/cis/cis-4.4-iam-policy-changes.yml"),
    ),
    (
        "cairn-cis",
        include_str!("rules/cis/cis-4.5-cloudtrail-configuration-changes.yml"),
    ),
    (
        "cairn-cis",
        include_str!("rules/cis/cis-4.6-console-authentication-failures.yml"),
    ),
    (
        "cairn-cis",
        include_str!("rules/cis/cis-4.7-cmk-disabled-or-scheduled-for-deletion.yml"),
    ),
    (
        "cairn-cis",
        include_str!("rules/cis/cis-4.8-s3-bucket-policy-changes.yml"),
    ),
    (
        "cairn-cis",
        include_str!("rules/cis/cis-4.9-config-changes.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/admin-policy-attached.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/ami-shared-with-another-account.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/bedrock-model-access-granted.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/cloudtrail-delete.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/cloudtrail-management-events-off.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/cloudtrail-stop.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/dns-query-logging-deleted.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/ebs-snapshot-shared.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/ec2-instance-connect-key-pushed.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/ec2-password-data-probing.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/ec2-user-data-changed.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/ec2-user-data-probing.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/ec2-user-data-sequence.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/federation-token-with-broad-policy.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/gpu-instance-launch.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/lambda-code-overwritten.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/lambda-layer-added.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/lambda-made-public.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/login-profile-changed-for-another-user.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/login-profile-created-for-another-user.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/organizations-leave.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/rds-snapshot-shared.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/role-trust-policy-opened.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/roles-anywhere-trust-anchor.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/secrets-batch-retrieved.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/secrets-retrieved-in-bulk.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/ssm-managed-instances-enumerated.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/ssm-secure-strings-retrieved-in-bulk.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/ssm-session-started.yml"),
    ),
    (
        "cairn-techniques",
        include_str!("rules/techniques/vpc-flow-logs-deleted.yml"),
    ),
];

/// A rule with the set it came from.
#[derive(Debug, Clone)]
pub struct Armed {
    pub set: String,
    /// The rule's `id`, else its `name`, else its title.
    pub id: String,
    pub rule: Rule,
}

fn armed(set: &str, rule: Rule, fallback: &str) -> Armed {
    let id = rule.id.clone().unwrap_or_else(|| fallback.to_owned());
    Armed {
        set: set.to_owned(),
        id,
        rule,
    }
}

/// cairn's own rules (a file may hold several: a sequence rule with the rules it orders).
pub fn own() -> Vec<Armed> {
    let mut out = Vec::new();
    for (set, text) in OWN {
        for parsed in Rule::parse_all(text) {
            match parsed {
                Ok(r) => {
                    let title = r.title.clone();
                    out.push(armed(set, r, &title));
                }
                // Built in and tested: never happens in a released build.
                Err(e) => {
                    tracing::error!(set, error = %e, "a built-in detection rule does not load")
                }
            }
        }
    }
    out
}

/// A rule file that could not be used, and why.
#[derive(Debug)]
pub struct Refused {
    pub path: PathBuf,
    pub error: SigmaError,
}

/// The Sigma rules of a folder (`*.yml`, `*.yaml`, in subfolders too), in the set named
/// after the folder; rules that cannot be used are listed with the reason.
pub fn folder(dir: &Path) -> std::io::Result<(Vec<Armed>, Vec<Refused>)> {
    let set = dir
        .file_name()
        .map_or_else(|| "sigma".to_owned(), |n| n.to_string_lossy().into_owned());
    let mut files = Vec::new();
    collect(dir, &mut files)?;
    files.sort();
    let (mut rules, mut refused) = (Vec::new(), Vec::new());
    for path in files {
        let text = std::fs::read_to_string(&path)?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        for parsed in Rule::parse_all(&text) {
            match parsed {
                Ok(r) => rules.push((path.clone(), armed(&set, r, &stem))),
                Err(error) => refused.push(Refused {
                    path: path.clone(),
                    error,
                }),
            }
        }
    }
    // A correlation whose rules are not in the folder cannot fire: refused, named.
    let plain: Vec<Rule> = rules.iter().map(|(_, a)| a.rule.clone()).collect();
    let unresolved = cairn_rules::sigma::unresolved_references(&plain);
    let mut kept = Vec::new();
    for (i, (path, a)) in rules.into_iter().enumerate() {
        match unresolved.iter().find(|(u, _)| *u == i) {
            Some((_, missing)) => refused.push(Refused {
                path,
                error: SigmaError::Invalid(format!(
                    "its correlation names rules the folder does not have: {}",
                    missing.join(", ")
                )),
            }),
            None => kept.push(a),
        }
    }
    Ok((kept, refused))
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
