//! Running each EventBridge operation, by topic: `buses`, `rules`, `targets`, `put_events`
//! (PutEvents and TestEventPattern), `tags`. This file holds what they share: AWS's errors
//! and validation texts, reading members, finding buses and rules, and paging.

mod buses;
mod put_events;
mod rules;
mod tags;
mod targets;

use cairn_store::StoreError;
use cairn_store::events::{EventBus, Rule};
use cairn_wire::AwsError;
use serde_json::Value;

pub(crate) use crate::members::str_member;

use super::resolve::EventsPlan;
use super::wire::{DEFAULT_BUS, bus_arn, default_bus};
use crate::app::App;
use crate::recorder::CallContext;

pub(super) fn internal(e: StoreError) -> AwsError {
    tracing::error!(error = %e, "EventBridge store unavailable");
    AwsError::new(500, "InternalException", "Internal error.")
}

pub(super) fn validation(msg: impl Into<String>) -> AwsError {
    AwsError::client("ValidationException", msg)
}

pub(super) fn not_found(msg: impl Into<String>) -> AwsError {
    AwsError::client("ResourceNotFoundException", msg)
}

pub(super) fn no_such_rule(name: &str, bus: &str) -> AwsError {
    not_found(format!("Rule {name} does not exist on EventBus {bus}."))
}

pub(super) fn no_such_bus(name: &str) -> AwsError {
    not_found(format!("Event bus {name} does not exist."))
}

/// AWS's template for a member that must be present.
pub(super) fn missing(member: &str) -> AwsError {
    validation(format!(
        "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
    ))
}

/// AWS's template for a value outside its constraint.
pub(super) fn constraint(value: &str, member: &str, rule: &str) -> AwsError {
    validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must {rule}"
    ))
}

/// A required string member.
pub(super) fn required<'a>(input: &'a Value, member: &str, at: &str) -> Result<&'a str, AwsError> {
    str_member(input, member).ok_or_else(|| missing(at))
}

/// Whether `s` is 1..=max characters of `[.\-_A-Za-z0-9]` (and `/` when `slash`).
fn name_ok(s: &str, max: usize, slash: bool) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') || (slash && c == '/')
        })
}

/// A rule name (`RuleName`: 1–64 of `[\.\-_A-Za-z0-9]+`).
pub(super) fn check_rule_name(name: &str, at: &str) -> Result<(), AwsError> {
    if name.len() > 64 {
        return Err(constraint(name, at, "have length less than or equal to 64"));
    }
    if !name_ok(name, 64, false) {
        return Err(constraint(
            name,
            at,
            r"satisfy regular expression pattern: [\.\-_A-Za-z0-9]+",
        ));
    }
    Ok(())
}

/// The bus a member names: a name, or an event bus ARN.
pub(crate) fn bus_name_of(s: &str) -> String {
    match s.split_once(":event-bus/") {
        Some((_, name)) if s.starts_with("arn:") => name.to_owned(),
        _ => s.to_owned(),
    }
}

/// The bus named by the call, which must exist (the default bus always does).
pub(super) fn bus_of(app: &App, ctx: &CallContext, name: &str) -> Result<EventBus, AwsError> {
    if name == DEFAULT_BUS {
        return Ok(default_bus(&ctx.region, &ctx.recipient_account));
    }
    app.events
        .bus(&bus_arn(&ctx.region, &ctx.recipient_account, name))
        .map_err(internal)?
        .ok_or_else(|| no_such_bus(name))
}

/// The rule the call names, which must exist on its bus.
pub(super) fn rule_of(app: &App, plan: &EventsPlan, name: &str) -> Result<Rule, AwsError> {
    let arn = plan.rule_arn.as_deref().unwrap_or_default();
    app.events
        .rule(arn)
        .map_err(internal)?
        .ok_or_else(|| no_such_rule(name, &plan.bus))
}

/// `Limit` (1–100) and `NextToken` of a listing: the page of `all` to answer, and the token
/// of the next one.
pub(super) fn page<T>(input: &Value, all: Vec<T>) -> Result<(Vec<T>, Option<String>), AwsError> {
    let limit = match input.get("Limit") {
        None | Some(Value::Null) => 100,
        Some(v) => {
            let n = v.as_i64().unwrap_or(0);
            if !(1..=100).contains(&n) {
                return Err(constraint(
                    &v.to_string(),
                    "limit",
                    "have value less than or equal to 100",
                ));
            }
            usize::try_from(n).unwrap_or(100)
        }
    };
    let start = match str_member(input, "NextToken") {
        None => 0,
        Some(t) => t
            .strip_prefix("cairn-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= all.len())
            .ok_or_else(|| validation("The NextToken provided is invalid."))?,
    };
    let end = (start + limit).min(all.len());
    let next = (end < all.len()).then(|| format!("cairn-{end}"));
    Ok((
        all.into_iter().skip(start).take(end - start).collect(),
        next,
    ))
}

pub(super) fn run(
    app: &App,
    ctx: &CallContext,
    op: &str,
    input: &Value,
    plan: &mut EventsPlan,
) -> Result<Value, AwsError> {
    match op {
        "CreateEventBus" => buses::create(app, ctx, input),
        "UpdateEventBus" => buses::update(app, ctx, input, plan),
        "DeleteEventBus" => buses::delete(app, ctx, input, plan),
        "DescribeEventBus" => buses::describe(app, ctx, plan),
        "ListEventBuses" => buses::list(app, ctx, input),
        "PutRule" => rules::put(app, ctx, input, plan),
        "DescribeRule" => rules::describe(app, ctx, input, plan),
        "ListRules" => rules::list(app, ctx, input, plan),
        "EnableRule" => rules::set_state(app, ctx, input, plan, "ENABLED"),
        "DisableRule" => rules::set_state(app, ctx, input, plan, "DISABLED"),
        "DeleteRule" => rules::delete(app, ctx, input, plan),
        "PutTargets" => targets::put(app, ctx, input, plan),
        "RemoveTargets" => targets::remove(app, ctx, input, plan),
        "ListTargetsByRule" => targets::list(app, ctx, input, plan),
        "ListRuleNamesByTarget" => targets::rule_names(app, ctx, input, plan),
        "PutEvents" => put_events::put(app, ctx, input),
        "TestEventPattern" => put_events::test_pattern(input),
        "TagResource" => tags::tag(app, ctx, input),
        "UntagResource" => tags::untag(app, ctx, input),
        "ListTagsForResource" => tags::list(app, ctx, input),
        _ => Err(AwsError::client(
            "UnsupportedOperationException",
            format!("cairn does not support the EventBridge operation {op} yet."),
        )),
    }
}
