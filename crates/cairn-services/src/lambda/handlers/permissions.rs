//! A function's resource policy: AddPermission adds a statement in AWS's shape
//! (`{"Sid","Effect":"Allow","Principal":{"Service"|"AWS"},"Action","Resource","Condition"}`,
//! `SourceArn` as `ArnLike AWS:SourceArn`, `SourceAccount` as `StringEquals AWS:SourceAccount`,
//! `PrincipalOrgID` as `StringEquals aws:PrincipalOrgID`) to the policy
//! `{"Version":"2012-10-17","Id":"default","Statement":[…]}` and answers the statement as a
//! string; GetPolicy answers the policy as a string with the revision; RemovePermission drops
//! a statement by id, and the policy with its last statement. AWS's errors and limits (a
//! statement id used twice, a 20 KB policy).

use cairn_wire::AwsError;
use serde_json::{Map, Value, json};

use super::functions::save;
use super::{
    AwsErrorExt, check_revision, conflict, function_of, not_found, str_member, validation,
};
use crate::app::App;
use crate::lambda::resolve::LambdaPlan;

/// AWS's limit on a function policy's size.
const MAX_POLICY: usize = 20480;

fn principal_of(p: &str) -> Value {
    if p == "*" {
        json!("*")
    } else if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) {
        json!({"AWS": format!("arn:aws:iam::{p}:root")})
    } else if p.starts_with("arn:") {
        json!({"AWS": p})
    } else {
        json!({"Service": p})
    }
}

fn statements(policy: Option<&str>) -> Vec<Value> {
    policy
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
        .and_then(|p| p.get("Statement").and_then(Value::as_array).cloned())
        .unwrap_or_default()
}

fn policy_text(statements: Vec<Value>) -> String {
    json!({"Version": "2012-10-17", "Id": "default", "Statement": statements}).to_string()
}

pub(super) fn add(app: &App, input: &Value, plan: &LambdaPlan) -> Result<Value, AwsError> {
    let f = function_of(plan)?.clone();
    check_revision(input, &f.revision_id)?;
    let sid = str_member(input, "StatementId").unwrap_or_default();
    if sid.is_empty()
        || sid.len() > 100
        || !sid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(validation(format!(
            "1 validation error detected: Value '{sid}' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)"
        )));
    }
    let action = str_member(input, "Action").unwrap_or_default();
    let action_ok = action == "*"
        || action == "lambda:*"
        || action
            .strip_prefix("lambda:")
            .is_some_and(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_alphabetic()));
    if !action_ok {
        return Err(validation(format!(
            "1 validation error detected: Value '{action}' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])"
        )));
    }
    let principal = str_member(input, "Principal").unwrap_or_default();
    if principal.is_empty() || principal.chars().any(char::is_whitespace) {
        return Err(validation(format!(
            "1 validation error detected: Value '{principal}' at 'principal' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\s]+"
        )));
    }
    let mut current = statements(f.policy.as_deref());
    if current
        .iter()
        .any(|s| s.get("Sid").and_then(Value::as_str) == Some(sid))
    {
        return Err(conflict(format!(
            "The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the existing statement."
        )));
    }
    let resource = match &plan.qualifier {
        Some(q) => format!("{}:{q}", f.arn),
        None => f.arn.clone(),
    };
    let mut condition = Map::new();
    let mut string_equals = Map::new();
    if let Some(a) = str_member(input, "SourceAccount") {
        string_equals.insert("AWS:SourceAccount".into(), json!(a));
    }
    if let Some(o) = str_member(input, "PrincipalOrgID") {
        string_equals.insert("aws:PrincipalOrgID".into(), json!(o));
    }
    if let Some(t) = str_member(input, "EventSourceToken") {
        string_equals.insert("lambda:EventSourceToken".into(), json!(t));
    }
    if let Some(t) = str_member(input, "FunctionUrlAuthType") {
        string_equals.insert("lambda:FunctionUrlAuthType".into(), json!(t));
    }
    if !string_equals.is_empty() {
        condition.insert("StringEquals".into(), Value::Object(string_equals));
    }
    if let Some(arn) = str_member(input, "SourceArn") {
        condition.insert("ArnLike".into(), json!({"AWS:SourceArn": arn}));
    }
    let mut statement = Map::new();
    statement.insert("Sid".into(), json!(sid));
    statement.insert("Effect".into(), json!("Allow"));
    statement.insert("Principal".into(), principal_of(principal));
    statement.insert("Action".into(), json!(action));
    statement.insert("Resource".into(), json!(resource));
    if !condition.is_empty() {
        statement.insert("Condition".into(), Value::Object(condition));
    }
    let statement = Value::Object(statement);
    current.push(statement.clone());
    let policy = policy_text(current);
    if policy.len() > MAX_POLICY {
        return Err(AwsError::new(
            400,
            "PolicyLengthExceededException",
            format!(
                "The final policy size ({}) is bigger than the limit ({MAX_POLICY}).",
                policy.len()
            ),
        )
        .user());
    }
    let mut f = f;
    f.policy = Some(policy);
    save(app, f)?;
    Ok(json!({"Statement": statement.to_string()}))
}

pub(super) fn get(plan: &LambdaPlan) -> Result<Value, AwsError> {
    let f = function_of(plan)?;
    match &f.policy {
        Some(p) => Ok(json!({"Policy": p, "RevisionId": f.revision_id})),
        None => Err(not_found(
            "No policy is associated with the given resource.",
        )),
    }
}

pub(super) fn remove(app: &App, input: &Value, plan: &LambdaPlan) -> Result<Value, AwsError> {
    let mut f = function_of(plan)?.clone();
    check_revision(input, &f.revision_id)?;
    let sid = str_member(input, "StatementId").unwrap_or_default();
    if f.policy.is_none() {
        return Err(not_found(
            "No policy is associated with the given resource.",
        ));
    }
    let mut current = statements(f.policy.as_deref());
    let before = current.len();
    current.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(sid));
    if current.len() == before {
        return Err(not_found(format!(
            "Statement {sid} is not found in resource policy."
        )));
    }
    f.policy = (!current.is_empty()).then(|| policy_text(current));
    save(app, f)?;
    Ok(json!({}))
}
