//! PutRule (an upsert: patterns validated by `cairn-rules`, schedules by `schedule`, only on
//! the default bus), DescribeRule, ListRules, EnableRule, DisableRule, DeleteRule (refused
//! while the rule has targets, unless forced).

use cairn_rules::pattern::Pattern;
use cairn_store::events::Rule;
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::tags::tags_of_input;
use super::{
    bus_of, check_rule_name, constraint, internal, page, required, rule_of, str_member, validation,
};
use crate::app::App;
use crate::events::resolve::EventsPlan;
use crate::events::schedule::Schedule;
use crate::events::wire::{DEFAULT_BUS, describe_rule_doc, rule_doc};
use crate::recorder::CallContext;

pub(crate) const STATES: [&str; 3] = [
    "ENABLED",
    "DISABLED",
    "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
];

/// `InvalidEventPatternException` with the engine's reason.
pub(super) fn invalid_pattern(text: &str) -> Result<Pattern, AwsError> {
    Pattern::parse(text)
        .map_err(|e| AwsError::client("InvalidEventPatternException", e.to_string()))
}

/// When a scheduled rule fires next, from `now_ms`.
fn next_fire(schedule: Option<&str>, state: &str, now_ms: i64) -> Option<i64> {
    let s = Schedule::parse(schedule?).ok()?;
    (state != "DISABLED")
        .then(|| s.next_after(now_ms))
        .flatten()
}

pub(super) fn put(
    app: &App,
    ctx: &CallContext,
    input: &Value,
    plan: &EventsPlan,
) -> Result<Value, AwsError> {
    let name = required(input, "Name", "name")?;
    check_rule_name(name, "name")?;
    let pattern = str_member(input, "EventPattern");
    let schedule = str_member(input, "ScheduleExpression");
    let state = str_member(input, "State").unwrap_or("ENABLED");
    if !STATES.contains(&state) {
        return Err(constraint(
            state,
            "state",
            &format!("satisfy enum value set: [{}]", STATES.join(", ")),
        ));
    }
    let description = str_member(input, "Description");
    if let Some(d) = description.filter(|d| d.chars().count() > 512) {
        return Err(constraint(
            d,
            "description",
            "have length less than or equal to 512",
        ));
    }
    if let Some(p) = pattern.filter(|p| p.len() > 4096) {
        return Err(constraint(
            p,
            "eventPattern",
            "have length less than or equal to 4096",
        ));
    }
    bus_of(app, ctx, &plan.bus)?;
    if pattern.is_none() && schedule.is_none() {
        return Err(validation(
            "Parameter(s) EventPattern or ScheduleExpression must be specified.",
        ));
    }
    if let Some(s) = schedule {
        if plan.bus != DEFAULT_BUS {
            return Err(validation(
                "ScheduleExpression is supported only on the default event bus.",
            ));
        }
        Schedule::parse(s).map_err(|_| validation("Parameter ScheduleExpression is not valid."))?;
    }
    if let Some(p) = pattern {
        invalid_pattern(p)?;
    }
    let arn = plan.rule_arn.clone().unwrap_or_default();
    let now = app.clock.now_millis();
    let old = app.events.rule(&arn).map_err(internal)?;
    let mut tags = old.as_ref().map(|r| r.tags.clone()).unwrap_or_default();
    tags.extend(tags_of_input(input)?);
    // A rule whose schedule and state are unchanged keeps its cadence.
    let keep_cadence = old
        .as_ref()
        .is_some_and(|r| r.schedule.as_deref() == schedule && r.state == state);
    let rule = Rule {
        arn: arn.clone(),
        account: ctx.recipient_account.clone(),
        region: ctx.region.clone(),
        bus: plan.bus.clone(),
        name: name.to_owned(),
        event_pattern: pattern.map(str::to_owned),
        schedule: schedule.map(str::to_owned),
        state: state.to_owned(),
        description: description.map(str::to_owned),
        role_arn: str_member(input, "RoleArn").map(str::to_owned),
        created_by: old
            .as_ref()
            .map_or_else(|| ctx.recipient_account.clone(), |r| r.created_by.clone()),
        created_ms: old.as_ref().map_or(now, |r| r.created_ms),
        next_fire_ms: match &old {
            Some(r) if keep_cadence => r.next_fire_ms,
            _ => next_fire(schedule, state, now),
        },
        tags,
    };
    crate::events::routing::skip_unwatched(app).map_err(internal)?;
    app.events.put_rule(&rule).map_err(internal)?;
    Ok(json!({"RuleArn": arn}))
}

pub(super) fn describe(
    app: &App,
    ctx: &CallContext,
    input: &Value,
    plan: &EventsPlan,
) -> Result<Value, AwsError> {
    let name = required(input, "Name", "name")?;
    bus_of(app, ctx, &plan.bus)?;
    Ok(describe_rule_doc(&rule_of(app, plan, name)?))
}

pub(super) fn list(
    app: &App,
    ctx: &CallContext,
    input: &Value,
    plan: &EventsPlan,
) -> Result<Value, AwsError> {
    let bus = bus_of(app, ctx, &plan.bus)?;
    let prefix = str_member(input, "NamePrefix").unwrap_or_default();
    let mut rules = app
        .events
        .rules(&bus.account, &bus.region, &bus.name)
        .map_err(internal)?;
    rules.retain(|r| r.name.starts_with(prefix));
    let (rules, next) = page(input, rules)?;
    let mut out = json!({"Rules": rules.iter().map(rule_doc).collect::<Vec<_>>()});
    if let Some(t) = next {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

pub(super) fn set_state(
    app: &App,
    ctx: &CallContext,
    input: &Value,
    plan: &EventsPlan,
    state: &str,
) -> Result<Value, AwsError> {
    let name = required(input, "Name", "name")?;
    bus_of(app, ctx, &plan.bus)?;
    let mut rule = rule_of(app, plan, name)?;
    if rule.state != state {
        rule.state = state.to_owned();
        rule.next_fire_ms = next_fire(rule.schedule.as_deref(), state, app.clock.now_millis());
        crate::events::routing::skip_unwatched(app).map_err(internal)?;
        app.events.put_rule(&rule).map_err(internal)?;
    }
    Ok(json!({}))
}

pub(super) fn delete(
    app: &App,
    ctx: &CallContext,
    input: &Value,
    plan: &EventsPlan,
) -> Result<Value, AwsError> {
    required(input, "Name", "name")?;
    bus_of(app, ctx, &plan.bus)?;
    let arn = plan.rule_arn.as_deref().unwrap_or_default();
    let force = input.get("Force").and_then(Value::as_bool).unwrap_or(false);
    if !force && !app.events.targets(arn).map_err(internal)?.is_empty() {
        return Err(validation("Rule can't be deleted since it has targets."));
    }
    // Deleting a rule that does not exist succeeds, as in AWS.
    app.events.delete_rule(arn).map_err(internal)?;
    Ok(json!({}))
}
