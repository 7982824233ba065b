//! Policy documents: parsed and validated as IAM validates them, per kind of policy.

use serde_json::{Map, Value};
use thiserror::Error;

use crate::conditions::Condition;

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum PolicyError {
    /// The text is not a valid policy; the message is IAM's `MalformedPolicyDocument` text.
    #[error("{0}")]
    Malformed(String),
}

fn malformed(m: &str) -> PolicyError {
    PolicyError::Malformed(m.to_owned())
}

fn syntax() -> PolicyError {
    malformed("Syntax errors in policy.")
}

/// What kind of policy a document is: decides which elements it must and must not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    /// Attached to a user, group or role, or inline: no principal.
    Identity,
    /// An S3 bucket policy or KMS key policy: names principals.
    Resource,
    /// A role's trust policy: names principals, no resources.
    Trust,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// A list of patterns, or its negation (`NotAction`, `NotResource`, `NotPrincipal`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Patterns {
    pub negated: bool,
    pub values: Vec<String>,
}

/// Principals a statement names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Principals {
    pub negated: bool,
    /// `"Principal": "*"` or `{"AWS": "*"}`.
    pub everyone: bool,
    pub aws: Vec<String>,
    pub service: Vec<String>,
    pub federated: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub actions: Patterns,
    pub resources: Option<Patterns>,
    pub principals: Option<Principals>,
    pub conditions: Vec<Condition>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PolicyDocument {
    /// `2012-10-17` documents expand policy variables; older ones take `${…}` literally.
    pub variables: bool,
    pub statements: Vec<Statement>,
}

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

/// A string or a non-empty array of strings.
fn strings(v: &Value) -> Result<Vec<String>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(a) if !a.is_empty() => a
            .iter()
            .map(|x| x.as_str().map(str::to_owned).ok_or_else(syntax))
            .collect(),
        _ => Err(syntax()),
    }
}

fn either(
    st: &Map<String, Value>,
    plain: &str,
    not: &str,
) -> Result<Option<(bool, Value)>, PolicyError> {
    match (st.get(plain), st.get(not)) {
        (Some(_), Some(_)) => Err(syntax()),
        (Some(v), None) => Ok(Some((false, v.clone()))),
        (None, Some(v)) => Ok(Some((true, v.clone()))),
        (None, None) => Ok(None),
    }
}

fn principals(negated: bool, v: &Value) -> Result<Principals, PolicyError> {
    let mut p = Principals {
        negated,
        ..Principals::default()
    };
    match v {
        Value::String(s) if s == "*" => p.everyone = true,
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                let list = strings(v)?;
                match k.as_str() {
                    "AWS" => {
                        if list.iter().any(|a| a == "*") {
                            p.everyone = true;
                        }
                        p.aws.extend(list);
                    }
                    "Service" => p.service.extend(list),
                    "Federated" => p.federated.extend(list),
                    "CanonicalUser" => {}
                    _ => return Err(syntax()),
                }
            }
        }
        _ => return Err(malformed("Invalid principal in policy")),
    }
    Ok(p)
}

fn statement(v: &Value, kind: Option<PolicyKind>) -> Result<Statement, PolicyError> {
    let Value::Object(st) = v else {
        return Err(syntax());
    };
    if st.keys().any(|k| !STATEMENT_KEYS.contains(&k.as_str())) {
        return Err(syntax());
    }
    let effect = match st.get("Effect") {
        None => return Err(malformed("Missing required field Effect")),
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(_) => return Err(syntax()),
    };
    let sid = match st.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(syntax()),
    };
    let Some((negated, actions)) = either(st, "Action", "NotAction")? else {
        return Err(malformed("Policy statement must contain actions."));
    };
    let actions = strings(&actions)?;
    if actions.iter().any(|a| a != "*" && !a.contains(':')) {
        return Err(malformed(
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ));
    }
    let resources = either(st, "Resource", "NotResource")?
        .map(|(negated, v)| {
            Ok::<_, PolicyError>(Patterns {
                negated,
                values: strings(&v)?,
            })
        })
        .transpose()?;
    let principals = either(st, "Principal", "NotPrincipal")?
        .map(|(negated, v)| principals(negated, &v))
        .transpose()?;
    match kind {
        Some(PolicyKind::Identity) => {
            if principals.is_some() {
                return Err(malformed("Policy document should not specify a principal."));
            }
            if resources.is_none() {
                return Err(malformed("Policy statement must contain resources."));
            }
        }
        Some(PolicyKind::Resource) => {
            if principals.is_none() {
                return Err(malformed("Missing required field Principal"));
            }
            if resources.is_none() {
                return Err(malformed("Policy statement must contain resources."));
            }
        }
        Some(PolicyKind::Trust) => {
            if principals.is_none() {
                return Err(malformed("Missing required field Principal"));
            }
            if resources.is_some() {
                return Err(malformed("Has prohibited field Resource"));
            }
        }
        None => {}
    }
    let conditions = match st.get("Condition") {
        None => Vec::new(),
        Some(c) => Condition::parse_block(c)?,
    };
    Ok(Statement {
        sid,
        effect,
        actions: Patterns {
            negated,
            values: actions,
        },
        resources,
        principals,
        conditions,
    })
}

fn document(text: &str, kind: Option<PolicyKind>) -> Result<PolicyDocument, PolicyError> {
    let v: Value = serde_json::from_str(text).map_err(|_| syntax())?;
    let Value::Object(top) = v else {
        return Err(syntax());
    };
    if top.keys().any(|k| !TOP_KEYS.contains(&k.as_str())) {
        return Err(syntax());
    }
    let version = match top.get("Version") {
        None => "2008-10-17",
        Some(Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => v.as_str(),
        Some(_) => return Err(syntax()),
    };
    if let Some(id) = top.get("Id")
        && !id.is_string()
    {
        return Err(syntax());
    }
    let statements = match top.get("Statement") {
        Some(s @ Value::Object(_)) => vec![statement(s, kind)?],
        Some(Value::Array(a)) if !a.is_empty() => a
            .iter()
            .map(|s| statement(s, kind))
            .collect::<Result<_, _>>()?,
        _ => return Err(syntax()),
    };
    Ok(PolicyDocument {
        variables: version == "2012-10-17",
        statements,
    })
}

impl PolicyDocument {
    /// Parses and validates a document of the given kind, as IAM does before storing it.
    pub fn parse(text: &str, kind: PolicyKind) -> Result<PolicyDocument, PolicyError> {
        document(text, Some(kind))
    }

    /// Parses a stored document for evaluation, without the per-kind rules.
    pub fn parse_lenient(text: &str) -> Result<PolicyDocument, PolicyError> {
        document(text, None)
    }
}
