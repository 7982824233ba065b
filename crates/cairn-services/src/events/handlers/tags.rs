//! TagResource, UntagResource, ListTagsForResource on rules and custom buses (at most 50
//! tags, as AWS), and reading the `Tags` list that CreateEventBus and PutRule also take.

use std::collections::BTreeMap;

use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::{constraint, internal, missing, no_such_bus, no_such_rule, required};
use crate::app::App;
use crate::recorder::CallContext;

const MOST_TAGS: usize = 50;

/// `Tags: [{Key, Value}]` → a map.
pub(super) fn tags_of_input(input: &Value) -> Result<BTreeMap<String, String>, AwsError> {
    let mut out = BTreeMap::new();
    for t in input
        .get("Tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = t
            .get("Key")
            .and_then(Value::as_str)
            .ok_or_else(|| missing("tags.member.key"))?;
        let value = t
            .get("Value")
            .and_then(Value::as_str)
            .ok_or_else(|| missing("tags.member.value"))?;
        if key.is_empty() || key.chars().count() > 128 {
            return Err(constraint(
                key,
                "tags.member.key",
                "have length less than or equal to 128",
            ));
        }
        if value.chars().count() > 256 {
            return Err(constraint(
                value,
                "tags.member.value",
                "have length less than or equal to 256",
            ));
        }
        out.insert(key.to_owned(), value.to_owned());
    }
    Ok(out)
}

/// The tags of the rule or bus an ARN names, which must exist in the caller's account.
fn tags_of(app: &App, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let rest = arn.split(':').nth(5).unwrap_or_default();
    if let Some(path) = rest.strip_prefix("rule/") {
        let (bus, name) = path.split_once('/').unwrap_or(("default", path));
        return app
            .events
            .rule(arn)
            .map_err(internal)?
            .map(|r| r.tags)
            .ok_or_else(|| no_such_rule(name, bus));
    }
    let name = rest.strip_prefix("event-bus/").unwrap_or(rest);
    app.events
        .bus(arn)
        .map_err(internal)?
        .map(|b| b.tags)
        .ok_or_else(|| no_such_bus(name))
}

pub(super) fn tag(app: &App, _ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let arn = required(input, "ResourceARN", "resourceARN")?;
    let new = tags_of_input(input)?;
    let mut tags = tags_of(app, arn)?;
    tags.extend(new);
    if tags.len() > MOST_TAGS {
        return Err(AwsError::client(
            "LimitExceededException",
            "The requested resource exceeds the maximum number allowed.",
        ));
    }
    app.events.set_tags(arn, &tags).map_err(internal)?;
    Ok(json!({}))
}

pub(super) fn untag(app: &App, _ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let arn = required(input, "ResourceARN", "resourceARN")?;
    let mut tags = tags_of(app, arn)?;
    for k in input
        .get("TagKeys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(k) = k.as_str() {
            tags.remove(k);
        }
    }
    app.events.set_tags(arn, &tags).map_err(internal)?;
    Ok(json!({}))
}

pub(super) fn list(app: &App, _ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let arn = required(input, "ResourceARN", "resourceARN")?;
    let tags: Vec<Value> = tags_of(app, arn)?
        .into_iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    Ok(json!({"Tags": tags}))
}
