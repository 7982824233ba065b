//! Log groups: create (with tags), delete, describe (prefix or pattern, pages), retention.

use std::collections::BTreeMap;

use cairn_store::logs::{GroupKey, LogGroup};
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::{
    DESCRIBE_LIMIT, bad_token, constraint, int_member, internal, invalid, limit, no_such_group,
    str_member,
};
use crate::app::App;
use crate::logs::{token, wire};
use crate::recorder::CallContext;

/// The retention periods AWS accepts, in days.
const RETENTION_DAYS: [i64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// A `tags` member: a map of strings.
pub(super) fn tags_of(input: &Value, member: &str) -> Result<BTreeMap<String, String>, AwsError> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(invalid("Tag values must be strings.")),
            })
            .collect(),
        Some(_) => Err(invalid("tags must be a map of strings.")),
    }
}

pub(super) fn create(app: &App, key: &GroupKey, input: &Value) -> Result<Value, AwsError> {
    let tags = tags_of(input, "tags")?;
    let group = LogGroup {
        key: key.clone(),
        created_ms: app.clock.now_millis(),
        retention_days: None,
        tags,
    };
    if !app.logs.create_group(&group).map_err(internal)? {
        return Err(AwsError::client(
            "ResourceAlreadyExistsException",
            "The specified log group already exists",
        ));
    }
    Ok(json!({}))
}

pub(super) fn delete(app: &App, key: &GroupKey) -> Result<Value, AwsError> {
    if !app.logs.delete_group(key).map_err(internal)? {
        return Err(no_such_group());
    }
    Ok(json!({}))
}

pub(super) fn put_retention(app: &App, key: &GroupKey, input: &Value) -> Result<Value, AwsError> {
    let days =
        int_member(input, "retentionInDays").ok_or_else(|| super::missing("retentionInDays"))?;
    if !RETENTION_DAYS.contains(&days) {
        let allowed: Vec<String> = RETENTION_DAYS.iter().map(i64::to_string).collect();
        return Err(constraint(
            &days.to_string(),
            "retentionInDays",
            &format!("satisfy enum value set: [{}]", allowed.join(", ")),
        ));
    }
    if !app.logs.set_retention(key, Some(days)).map_err(internal)? {
        return Err(no_such_group());
    }
    // Events past the new retention go now (reads already leave them out).
    let cutoff = app.clock.now_millis() - days * super::log_events::DAY_MS;
    app.logs.expire_events(key, cutoff).map_err(internal)?;
    Ok(json!({}))
}

pub(super) fn delete_retention(app: &App, key: &GroupKey) -> Result<Value, AwsError> {
    if !app.logs.set_retention(key, None).map_err(internal)? {
        return Err(no_such_group());
    }
    Ok(json!({}))
}

pub(super) fn describe(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let prefix = str_member(input, "logGroupNamePrefix");
    let pattern = str_member(input, "logGroupNamePattern");
    if prefix.is_some() && pattern.is_some() {
        return Err(invalid(
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
        ));
    }
    let limit = limit(input, DESCRIBE_LIMIT, DESCRIBE_LIMIT)?;
    let after = match str_member(input, "nextToken") {
        Some(t) => Some(token::parse_after_name(&app.token_key, t).ok_or_else(bad_token)?),
        None => None,
    };
    let groups = app
        .logs
        .groups(&ctx.recipient_account, &ctx.region)
        .map_err(internal)?;
    let filters = app
        .logs
        .metric_filters(&ctx.recipient_account, &ctx.region, None)
        .map_err(internal)?;
    let mut chosen = groups.iter().filter(|g| {
        let n = g.key.name.as_str();
        prefix.is_none_or(|p| n.starts_with(p))
            && pattern.is_none_or(|p| n.contains(p))
            && after.as_deref().is_none_or(|a| n > a)
    });
    let page: Vec<&LogGroup> = chosen.by_ref().take(limit).collect();
    let more = chosen.next().is_some();
    let docs: Vec<Value> = page
        .iter()
        .map(|g| {
            let count = filters.iter().filter(|f| f.group == g.key.name).count();
            wire::log_group(g, count, pattern.is_some())
        })
        .collect();
    let mut out = json!({ "logGroups": docs });
    if more && let Some(last) = page.last() {
        out["nextToken"] = json!(token::after_name(&app.token_key, &last.key.name));
    }
    Ok(out)
}
