//! Policy documents: the model, and reading one from JSON.
//!
//! [`PolicyDocument::parse`] first holds the text to IAM's rules for its kind of policy
//! (the `validate` module); [`PolicyDocument::parse_lenient`] reads what it can of a stored
//! document, so that a statement it cannot understand simply never applies rather than
//! hiding the rest of the document.

use serde_json::{Map, Value};
use thiserror::Error;

use crate::conditions::Condition;
use crate::validate;

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum PolicyError {
    /// The text is not a valid policy; the message is IAM's `MalformedPolicyDocument` text.
    #[error("{0}")]
    Malformed(String),
}

pub(crate) fn malformed(m: impl Into<String>) -> PolicyError {
    PolicyError::Malformed(m.into())
}

pub(crate) const SYNTAX: &str = "Syntax errors in policy.";

/// What kind of policy a document is: decides which elements it must and must not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    /// Attached to a user, group or role, or inline: no principal; actions and resources.
    Identity,
    /// An S3 bucket policy or KMS key policy: principals, actions and resources.
    Resource,
    /// A role's trust policy: principals and actions, no resources.
    Trust,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// A list of patterns, or its negation (`NotAction`, `NotResource`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Patterns {
    pub negated: bool,
    pub values: Vec<String>,
}

/// The principals a statement names (`Principal`), or excludes (`NotPrincipal`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Principals {
    pub negated: bool,
    /// `"Principal": "*"` or `{"AWS": "*"}`.
    pub everyone: bool,
    /// Account ids, account ARNs (`…:root`), user, role and role-session ARNs.
    pub aws: Vec<String>,
    pub service: Vec<String>,
    /// Web-identity and SAML providers: no caller here is one, so these match nothing.
    pub federated: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub actions: Patterns,
    /// `None` when the statement names no resources (trust policies).
    pub resources: Option<Patterns>,
    /// `None` when the statement names no principals (identity policies).
    pub principals: Option<Principals>,
    pub conditions: Vec<Condition>,
}

/// A parsed policy document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyDocument {
    /// `2012-10-17` documents expand policy variables; older ones take `${…}` literally.
    pub variables: bool,
    pub statements: Vec<Statement>,
}

impl PolicyDocument {
    /// Parses and validates a document of the given kind, as IAM does before storing it.
    pub fn parse(text: &str, kind: PolicyKind) -> Result<PolicyDocument, PolicyError> {
        let v: Value = serde_json::from_str(text).map_err(|_| malformed(SYNTAX))?;
        validate::check(&v, kind)?;
        build(&v)
    }

    /// Parses a stored document for evaluation, without IAM's rules: fails only when the
    /// text is not a JSON object with a `Statement` object or array. Statements that cannot
    /// be understood are dropped; conditions that cannot be understood never hold.
    pub fn parse_lenient(text: &str) -> Result<PolicyDocument, PolicyError> {
        let v: Value = serde_json::from_str(text).map_err(|_| malformed(SYNTAX))?;
        build(&v)
    }
}

fn build(v: &Value) -> Result<PolicyDocument, PolicyError> {
    let Value::Object(top) = v else {
        return Err(malformed(SYNTAX));
    };
    let statements = match top.get("Statement") {
        Some(s @ Value::Object(_)) => std::slice::from_ref(s),
        Some(Value::Array(a)) => a.as_slice(),
        _ => return Err(malformed(SYNTAX)),
    };
    Ok(PolicyDocument {
        variables: top.get("Version").and_then(Value::as_str) == Some("2012-10-17"),
        statements: statements.iter().filter_map(statement).collect(),
    })
}

/// A string or an array of strings; anything else is no strings.
pub(crate) fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// The element or its `Not…` twin: `None` when neither is there, `Err` when both are.
fn either<'a>(
    st: &'a Map<String, Value>,
    plain: &str,
    not: &str,
) -> Result<Option<(bool, &'a Value)>, ()> {
    match (st.get(plain), st.get(not)) {
        (Some(_), Some(_)) => Err(()),
        (Some(v), None) => Ok(Some((false, v))),
        (None, Some(v)) => Ok(Some((true, v))),
        (None, None) => Ok(None),
    }
}

fn statement(v: &Value) -> Option<Statement> {
    let st = v.as_object()?;
    let effect = match st.get("Effect").and_then(Value::as_str) {
        Some(e) if e.eq_ignore_ascii_case("Allow") => Effect::Allow,
        Some(e) if e.eq_ignore_ascii_case("Deny") => Effect::Deny,
        _ => return None,
    };
    let (negated, actions) = either(st, "Action", "NotAction").ok()??;
    let resources = either(st, "Resource", "NotResource")
        .ok()?
        .map(|(negated, v)| Patterns {
            negated,
            values: strings(v),
        });
    let principals = either(st, "Principal", "NotPrincipal")
        .ok()?
        .map(|(negated, v)| principals(negated, v));
    Some(Statement {
        sid: st.get("Sid").and_then(Value::as_str).map(str::to_owned),
        effect,
        actions: Patterns {
            negated,
            values: strings(actions),
        },
        resources,
        principals,
        conditions: st
            .get("Condition")
            .map(Condition::parse_block)
            .unwrap_or_default(),
    })
}

fn principals(negated: bool, v: &Value) -> Principals {
    let mut p = Principals {
        negated,
        ..Principals::default()
    };
    match v {
        Value::String(s) => p.everyone = s == "*",
        Value::Object(m) => {
            for (kind, names) in m {
                let names = strings(names);
                match kind.as_str() {
                    "AWS" => {
                        p.everyone |= names.iter().any(|a| a == "*");
                        p.aws.extend(names);
                    }
                    "Service" => p.service.extend(names),
                    "Federated" => p.federated.extend(names),
                    // Canonical users are S3 ACL grantees; no caller here is one.
                    _ => {}
                }
            }
        }
        _ => {}
    }
    p
}
