//! PutTargets, RemoveTargets, ListTargetsByRule, ListRuleNamesByTarget. A target is kept as
//! the `Target` structure it was put with; what the request as a whole gets wrong is its
//! error, what one target gets wrong is that target's entry in `FailedEntries`. At most five
//! targets per rule, as AWS.

use std::collections::BTreeSet;

use cairn_store::events::Target;
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::{
    bus_of, constraint, internal, missing, page, required, rule_of, str_member, validation,
};
use crate::app::App;
use crate::events::resolve::EventsPlan;
use crate::events::wire::rule_arn_prefix;
use crate::recorder::CallContext;

/// AWS's quota of targets per rule.
const MOST_TARGETS: usize = 5;

/// The services cairn delivers to, by the ARN's service part.
pub(crate) const DELIVERABLE: [&str; 5] = ["sqs", "sns", "logs", "events", "lambda"];

fn id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// What is wrong with a target as a whole request would refuse it.
fn check_target(t: &Value) -> Result<(), AwsError> {
    let id = str_member(t, "Id").ok_or_else(|| missing("targets.member.id"))?;
    if !id_ok(id) {
        return Err(constraint(
            id,
            "targets.member.id",
            r"satisfy regular expression pattern: [\.\-_A-Za-z0-9]+",
        ));
    }
    let arn = str_member(t, "Arn").ok_or_else(|| missing("targets.member.arn"))?;
    let shaped = ["Input", "InputPath", "InputTransformer"]
        .iter()
        .filter(|k| t.get(**k).is_some_and(|v| !v.is_null()))
        .count();
    if shaped > 1 {
        return Err(validation(format!(
            "Only one of Input, InputPath, or InputTransformer must be provided for target {id}."
        )));
    }
    if let Some(input) = str_member(t, "Input") {
        if input.len() > 8192 {
            return Err(constraint(
                input,
                "targets.member.input",
                "have length less than or equal to 8192",
            ));
        }
        if serde_json::from_str::<Value>(input).is_err() {
            return Err(validation(format!(
                "Input for target {id} is not valid JSON."
            )));
        }
    }
    if let Err(e) = crate::events::routing::shape::check(t) {
        return Err(validation(e.for_target(id)));
    }
    if let Some(path) = str_member(t, "InputPath").filter(|p| p.len() > 256) {
        return Err(constraint(
            path,
            "targets.member.inputPath",
            "have length less than or equal to 256",
        ));
    }
    if let Some(tr) = t.get("InputTransformer") {
        if str_member(tr, "InputTemplate").is_none() {
            return Err(missing("targets.member.inputTransformer.inputTemplate"));
        }
        let paths = tr.get("InputPathsMap").and_then(Value::as_object);
        if paths.is_some_and(|m| m.len() > 100) {
            return Err(constraint(
                "{…}",
                "targets.member.inputTransformer.inputPathsMap",
                "have length less than or equal to 100",
            ));
        }
    }
    if let Some(r) = t.get("RetryPolicy") {
        if let Some(n) = r.get("MaximumRetryAttempts").and_then(Value::as_i64)
            && !(0..=185).contains(&n)
        {
            return Err(constraint(
                &n.to_string(),
                "targets.member.retryPolicy.maximumRetryAttempts",
                if n < 0 {
                    "have value greater than or equal to 0"
                } else {
                    "have value less than or equal to 185"
                },
            ));
        }
        if let Some(n) = r.get("MaximumEventAgeInSeconds").and_then(Value::as_i64)
            && !(60..=86_400).contains(&n)
        {
            return Err(constraint(
                &n.to_string(),
                "targets.member.retryPolicy.maximumEventAgeInSeconds",
                if n < 60 {
                    "have value greater than or equal to 60"
                } else {
                    "have value less than or equal to 86400"
                },
            ));
        }
    }
    if arn.contains(":sqs:") && arn.ends_with(".fifo") && t.get("SqsParameters").is_none() {
        return Err(validation(format!(
            "Parameter(s) SqsParameters must be specified for target: {id}."
        )));
    }
    Ok(())
}

/// What is wrong with one target alone: its `FailedEntries` entry.
fn target_failure(t: &Value) -> Option<(&'static str, String)> {
    let arn = str_member(t, "Arn").unwrap_or_default();
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" || parts[2].is_empty() {
        return Some((
            "ValidationException",
            format!("Parameter {arn} is not valid. Reason: Provided Arn is not in correct format."),
        ));
    }
    if !DELIVERABLE.contains(&parts[2]) {
        return Some((
            "ValidationException",
            format!(
                "cairn does not deliver to {} targets; its targets are SQS queues, SNS topics, CloudWatch Logs log groups, event buses and Lambda functions.",
                parts[2]
            ),
        ));
    }
    None
}

pub(super) fn put(
    app: &App,
    ctx: &CallContext,
    input: &Value,
    plan: &EventsPlan,
) -> Result<Value, AwsError> {
    let name = required(input, "Rule", "rule")?;
    let targets = input
        .get("Targets")
        .and_then(Value::as_array)
        .ok_or_else(|| missing("targets"))?;
    if targets.is_empty() || targets.len() > 100 {
        return Err(constraint(
            "[Target]",
            "targets",
            if targets.is_empty() {
                "have length greater than or equal to 1"
            } else {
                "have length less than or equal to 100"
            },
        ));
    }
    for t in targets {
        check_target(t)?;
    }
    bus_of(app, ctx, &plan.bus)?;
    let rule = rule_of(app, plan, name)?;
    let mut failed = Vec::new();
    let mut kept = Vec::new();
    for t in targets {
        let id = str_member(t, "Id").unwrap_or_default();
        match target_failure(t) {
            Some((code, message)) => failed.push(json!({
                "TargetId": id, "ErrorCode": code, "ErrorMessage": message
            })),
            None => kept.push(Target {
                rule_arn: rule.arn.clone(),
                id: id.to_owned(),
                arn: str_member(t, "Arn").unwrap_or_default().to_owned(),
                spec: t.to_string(),
            }),
        }
    }
    let mut ids: BTreeSet<String> = app
        .events
        .targets(&rule.arn)
        .map_err(internal)?
        .into_iter()
        .map(|t| t.id)
        .collect();
    ids.extend(kept.iter().map(|t| t.id.clone()));
    if ids.len() > MOST_TARGETS {
        return Err(AwsError::client(
            "LimitExceededException",
            "The requested resource exceeds the maximum number allowed.",
        ));
    }
    app.events.put_targets(&kept).map_err(internal)?;
    Ok(json!({"FailedEntryCount": failed.len(), "FailedEntries": failed}))
}

pub(super) fn remove(
    app: &App,
    ctx: &CallContext,
    input: &Value,
    plan: &EventsPlan,
) -> Result<Value, AwsError> {
    let name = required(input, "Rule", "rule")?;
    let ids: Vec<String> = input
        .get("Ids")
        .and_then(Value::as_array)
        .ok_or_else(|| missing("ids"))?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    bus_of(app, ctx, &plan.bus)?;
    let rule = rule_of(app, plan, name)?;
    app.events
        .remove_targets(&rule.arn, &ids)
        .map_err(internal)?;
    Ok(json!({"FailedEntryCount": 0, "FailedEntries": []}))
}

pub(super) fn list(
    app: &App,
    ctx: &CallContext,
    input: &Value,
    plan: &EventsPlan,
) -> Result<Value, AwsError> {
    let name = required(input, "Rule", "rule")?;
    bus_of(app, ctx, &plan.bus)?;
    let rule = rule_of(app, plan, name)?;
    let targets: Vec<Value> = app
        .events
        .targets(&rule.arn)
        .map_err(internal)?
        .iter()
        .filter_map(|t| serde_json::from_str(&t.spec).ok())
        .collect();
    let (targets, next) = page(input, targets)?;
    let mut out = json!({"Targets": targets});
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

pub(super) fn rule_names(
    app: &App,
    ctx: &CallContext,
    input: &Value,
    plan: &EventsPlan,
) -> Result<Value, AwsError> {
    let target = required(input, "TargetArn", "targetArn")?;
    let bus = bus_of(app, ctx, &plan.bus)?;
    let prefix = rule_arn_prefix(&bus.region, &bus.account, &bus.name);
    let mut names: Vec<String> = app
        .events
        .rules_with_target(&prefix, target)
        .map_err(internal)?
        .iter()
        .filter_map(|arn| arn.strip_prefix(&prefix))
        // The default bus's prefix also starts every custom bus's rule ARNs.
        .filter(|rest| !rest.contains('/'))
        .map(str::to_owned)
        .collect();
    names.sort();
    let (names, next) = page(input, names)?;
    let mut out = json!({"RuleNames": names});
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}
