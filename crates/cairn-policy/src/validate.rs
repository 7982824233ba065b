//! IAM's `MalformedPolicyDocument` rules, checked in the order IAM checks them so that a
//! document with several faults gets IAM's message for the first: JSON syntax and shape;
//! what the kind of policy requires or forbids; IAM's "legacy parsing" (exact-case effects,
//! date values, resource ARNs); unique statement ids; actions present; resources present;
//! resource ARN formats; action names.
//!
//! Where IAM's messages are known they are IAM's verbatim (`Syntax errors in policy.`,
//! `The policy failed legacy parsing`, …). The ARN-format rules apply to identity policies,
//! whose resources IAM itself parses; bucket and key policies name resources their own
//! services check.

use serde_json::{Map, Value};

use crate::conditions::{Operator, scalar};
use crate::dates;
use crate::document::{PolicyError, PolicyKind, SYNTAX, malformed};

type Statement = Map<String, Value>;

const TOP_KEYS: [&str; 3] = ["Version", "Id", "Statement"];
const STATEMENT_KEYS: [&str; 9] = [
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
];
const LEGACY: &str = "The policy failed legacy parsing";

/// The first rule the document breaks, for its kind of policy.
pub(crate) fn check(v: &Value, kind: PolicyKind) -> Result<(), PolicyError> {
    let statements = syntax(v, kind)?;
    for st in &statements {
        kind_rules(st, kind)?;
    }
    for st in &statements {
        legacy_statement(st)?;
    }
    let resource_error = if kind == PolicyKind::Identity {
        resource_formats(&statements)?
    } else {
        None
    };
    if kind != PolicyKind::Resource {
        unique_sids(&statements)?;
    }
    for st in &statements {
        if !present(st, "Action", "NotAction") {
            return Err(malformed("Policy statement must contain actions."));
        }
    }
    if kind != PolicyKind::Trust {
        for st in &statements {
            if !present(st, "Resource", "NotResource") {
                return Err(malformed("Policy statement must contain resources."));
            }
        }
    }
    if let Some(e) = resource_error {
        return Err(malformed(e));
    }
    for key in ["Action", "NotAction"] {
        for st in &statements {
            for action in st.get(key).map(texts).unwrap_or_default() {
                action_name(action)?;
            }
        }
    }
    Ok(())
}

fn syntax_error() -> PolicyError {
    malformed(SYNTAX)
}

fn ensure(ok: bool) -> Result<(), PolicyError> {
    if ok { Ok(()) } else { Err(syntax_error()) }
}

/// The strings of an element that is a string or an array of strings.
fn texts(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn string_or_strings(v: &Value) -> bool {
    match v {
        Value::String(_) => true,
        Value::Array(a) => a.iter().all(Value::is_string),
        _ => false,
    }
}

/// The element or its `Not…` twin is there, and is not an empty array.
fn present(st: &Statement, plain: &str, not: &str) -> bool {
    match st.get(plain).or_else(|| st.get(not)) {
        Some(Value::Array(a)) => !a.is_empty(),
        Some(_) => true,
        None => false,
    }
}

/// JSON shape: the document's and each statement's keys and value types.
fn syntax(v: &Value, kind: PolicyKind) -> Result<Vec<&Statement>, PolicyError> {
    let top = v.as_object().ok_or_else(syntax_error)?;
    ensure(top.keys().all(|k| TOP_KEYS.contains(&k.as_str())))?;
    if let Some(version) = top.get("Version") {
        ensure(matches!(
            version.as_str(),
            Some("2012-10-17" | "2008-10-17")
        ))?;
    }
    if let Some(id) = top.get("Id") {
        ensure(id.is_string())?;
    }
    let statements: Vec<&Statement> = match top.get("Statement") {
        Some(Value::Object(st)) => vec![st],
        Some(Value::Array(a)) if !a.is_empty() => a
            .iter()
            .map(|s| s.as_object().ok_or_else(syntax_error))
            .collect::<Result<_, _>>()?,
        _ => return Err(syntax_error()),
    };
    for st in &statements {
        statement_syntax(st, kind)?;
    }
    Ok(statements)
}

fn statement_syntax(st: &Statement, kind: PolicyKind) -> Result<(), PolicyError> {
    ensure(st.keys().all(|k| STATEMENT_KEYS.contains(&k.as_str())))?;
    for (plain, not) in [
        ("Action", "NotAction"),
        ("Resource", "NotResource"),
        ("Principal", "NotPrincipal"),
    ] {
        ensure(!(st.contains_key(plain) && st.contains_key(not)))?;
    }
    match st.get("Effect") {
        // IAM's identity-policy parser calls a missing effect a syntax error; the
        // principal-bearing policies name the field.
        None if kind == PolicyKind::Identity => return Err(syntax_error()),
        None => return Err(malformed("Missing required field Effect")),
        Some(e) => {
            ensure(e.as_str().is_some_and(|e| {
                e.eq_ignore_ascii_case("Allow") || e.eq_ignore_ascii_case("Deny")
            }))?
        }
    }
    for key in ["Action", "NotAction", "Resource", "NotResource"] {
        if let Some(v) = st.get(key) {
            ensure(string_or_strings(v))?;
        }
    }
    if let Some(sid) = st.get("Sid") {
        ensure(sid.is_string())?;
    }
    if let Some(c) = st.get("Condition") {
        condition_syntax(c)?;
    }
    Ok(())
}

fn condition_syntax(c: &Value) -> Result<(), PolicyError> {
    let ops = c.as_object().ok_or_else(syntax_error)?;
    for (name, keys) in ops {
        let keys = keys.as_object().ok_or_else(syntax_error)?;
        for want in keys.values() {
            let ok = match want {
                Value::Array(a) => a.iter().all(|x| scalar(x).is_some()),
                v => scalar(v).is_some(),
            };
            ensure(ok)?;
        }
        // IAM lets an unknown operator through only when it tests nothing.
        ensure(keys.is_empty() || Operator::parse(name).is_some())?;
    }
    Ok(())
}

/// What the kind of policy requires or forbids.
fn kind_rules(st: &Statement, kind: PolicyKind) -> Result<(), PolicyError> {
    let principal = st.get("Principal").or_else(|| st.get("NotPrincipal"));
    match kind {
        PolicyKind::Identity => {
            if principal.is_some() {
                return Err(malformed("Policy document should not specify a principal."));
            }
        }
        PolicyKind::Resource | PolicyKind::Trust => {
            let Some(p) = principal else {
                return Err(malformed("Missing required field Principal"));
            };
            principal_rules(p, kind)?;
        }
    }
    if kind == PolicyKind::Trust {
        for key in ["Resource", "NotResource"] {
            if st.contains_key(key) {
                return Err(malformed(format!("Has prohibited field {key}")));
            }
        }
    }
    Ok(())
}

/// A principal element's shape and names. IAM also requires that named users and roles
/// exist, which only the caller can check.
fn principal_rules(p: &Value, kind: PolicyKind) -> Result<(), PolicyError> {
    let invalid = |detail: Option<(&str, &str)>| match (kind, detail) {
        (PolicyKind::Trust, Some((k, v))) => {
            malformed(format!("Invalid principal in policy: \"{k}\":\"{v}\""))
        }
        _ => malformed("Invalid principal in policy"),
    };
    let m = match p {
        Value::String(s) if s == "*" => return Ok(()),
        Value::Object(m) if !m.is_empty() => m,
        _ => return Err(invalid(None)),
    };
    for (k, names) in m {
        let list = match names {
            Value::Array(a) if !a.is_empty() => a.iter().collect::<Vec<_>>(),
            Value::String(_) => vec![names],
            _ => return Err(invalid(None)),
        };
        for name in list {
            let name = name.as_str().ok_or_else(|| invalid(None))?;
            let ok = match k.as_str() {
                "AWS" => aws_principal(name),
                "Service" => !name.is_empty() && !name.contains(char::is_whitespace),
                "Federated" | "CanonicalUser" => !name.is_empty(),
                _ => return Err(invalid(None)),
            };
            if !ok {
                let key = if k == "Service" {
                    "SERVICE"
                } else {
                    k.as_str()
                };
                return Err(invalid(Some((key, name))));
            }
        }
    }
    Ok(())
}

/// `*`, an account id, an IAM or STS ARN, or the unique id IAM keeps in place of a
/// deleted user's or role's ARN.
fn aws_principal(name: &str) -> bool {
    let account_id = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
    let unique_id = |s: &str| {
        s.len() >= 16
            && s.starts_with('A')
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    };
    name == "*"
        || account_id(name)
        || unique_id(name)
        || ["arn:aws:iam::", "arn:aws:sts::"]
            .iter()
            .any(|p| name.strip_prefix(p).is_some_and(|rest| rest.contains(':')))
}

/// IAM's legacy parser: effects in exact case, and date values it can read.
fn legacy_statement(st: &Statement) -> Result<(), PolicyError> {
    if !matches!(
        st.get("Effect").and_then(Value::as_str),
        Some("Allow" | "Deny")
    ) {
        return Err(malformed(LEGACY));
    }
    let Some(Value::Object(ops)) = st.get("Condition") else {
        return Ok(());
    };
    for (name, keys) in ops {
        if !Operator::parse(name).is_some_and(|op| op.is_date()) {
            continue;
        }
        for want in keys.as_object().into_iter().flat_map(|k| k.values()) {
            let values = match want {
                Value::Array(a) => a.iter().collect(),
                v => vec![v],
            };
            for v in values {
                if !scalar(v).is_some_and(|s| dates::acceptable(&s)) {
                    return Err(malformed(LEGACY));
                }
            }
        }
    }
    Ok(())
}

/// Identity-policy resources: `Err` for what IAM's legacy parser refuses; otherwise the
/// format fault IAM reports later, if any. As IAM does, the last fault found is the one
/// reported, and the legacy check of a statement's resources is skipped once a format
/// fault has been found.
fn resource_formats(statements: &[&Statement]) -> Result<Option<String>, PolicyError> {
    let mut fault = None;
    for key in ["Resource", "NotResource"] {
        for st in statements {
            let Some(v) = st.get(key) else {
                continue;
            };
            let mut resources = texts(v);
            resources.sort_unstable_by(|a, b| b.cmp(a));
            for r in &resources {
                if let Some(f) = resource_format(r) {
                    fault = Some(f);
                }
            }
            if fault.is_none() && !resources.iter().all(|r| legacy_resource(r)) {
                return Err(malformed(LEGACY));
            }
        }
    }
    Ok(fault)
}

/// Python's `str.partition(':')`: before, whether there was a colon, after.
fn partition(s: &str) -> (&str, bool, &str) {
    match s.split_once(':') {
        Some((a, b)) => (a, true, b),
        None => (s, false, ""),
    }
}

fn resource_format(r: &str) -> Option<String> {
    if r == "*" {
        return None;
    }
    let (_, colon, rest) = partition(r);
    if !colon {
        return Some(format!("Resource {r} must be in ARN format or \"*\"."));
    }
    let (part, colon, rest) = partition(rest);
    if part != "aws" && part != "*" {
        let fields: Vec<&str> = rest.split(':').collect();
        let field = |i: usize| fields.get(i).copied().unwrap_or("*");
        let first = if fields.len() == 1 && fields.first().is_some_and(|f| f.is_empty()) {
            "*"
        } else {
            field(0)
        };
        let last = if fields.len() > 3 {
            fields[3..].join(":")
        } else {
            "*".to_owned()
        };
        return Some(format!(
            "Partition \"{part}\" is not valid for resource \"arn:{part}:{first}:{}:{}:{last}\".",
            field(1),
            field(2)
        ));
    }
    if !colon {
        return Some("Resource vendor must be fully qualified and cannot contain regexes.".into());
    }
    let (service, _, rest) = partition(rest);
    if !rest.starts_with(':') {
        match service {
            "iam" => {
                return Some(format!(
                    "IAM resource {r} cannot contain region information."
                ));
            }
            "s3" => return Some(format!("Resource {r} can not contain region information.")),
            _ => {}
        }
    }
    let (_region, _, rest) = partition(rest);
    let (_account, _, path) = partition(rest);
    const IAM_PATHS: [&str; 13] = [
        "user/",
        "federated-user/",
        "role/",
        "group/",
        "instance-profile/",
        "mfa/",
        "server-certificate/",
        "policy/",
        "sms-mfa/",
        "saml-provider/",
        "oidc-provider/",
        "report/",
        "access-report/",
    ];
    if service == "iam" && !IAM_PATHS.iter().any(|p| path.starts_with(p)) {
        return Some(format!(
            "IAM resource path must either be \"*\" or start with {}.",
            IAM_PATHS.join(", ")
        ));
    }
    None
}

/// IAM's legacy parser reads a resource with an empty field (`::`) only when all six
/// fields are there, and never one with no service.
fn legacy_resource(r: &str) -> bool {
    r == "*"
        || ((r.matches(':').count() >= 5 || !r.contains("::"))
            && r.split(':').nth(2).is_some_and(|s| !s.is_empty()))
}

fn unique_sids(statements: &[&Statement]) -> Result<(), PolicyError> {
    let mut seen = std::collections::HashSet::new();
    for st in statements {
        if let Some(sid) = st.get("Sid").and_then(Value::as_str)
            && !sid.is_empty()
            && !seen.insert(sid)
        {
            return Err(malformed(
                "Statement IDs (SID) in a single policy must be unique.",
            ));
        }
    }
    Ok(())
}

/// `*` or `vendor:action`, the vendor of letters, digits, `-` and `.`.
fn action_name(action: &str) -> Result<(), PolicyError> {
    let parts: Vec<&str> = action.split(':').collect();
    if parts.len() == 1 && action != "*" {
        return Err(malformed(
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ));
    }
    if parts.len() > 2 {
        return Err(malformed("Actions/Condition can contain only one colon."));
    }
    let vendor = parts.first().copied().unwrap_or_default();
    if vendor != "*"
        && !vendor
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(malformed(format!("Vendor {vendor} is not valid")));
    }
    Ok(())
}
