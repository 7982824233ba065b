//! Queue tags: TagQueue, UntagQueue, ListQueueTags (at most 50 a queue).

use std::collections::BTreeMap;

use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::{Found, internal, invalid, missing, no_such_queue, strings};
use crate::app::App;

const MAX_TAGS: usize = 50;

/// A tags member: a map of strings.
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
        Some(_) => Err(invalid("Tags must be a map of strings.")),
    }
}

pub(super) fn tag(app: &App, found: &Found<'_>, input: &Value) -> Result<Value, AwsError> {
    let new = tags_of(input, "Tags")?;
    if new.is_empty() {
        return Err(missing("Tags"));
    }
    let mut tags = found.queue()?.tags.clone();
    tags.extend(new);
    if tags.len() > MAX_TAGS {
        return Err(invalid(format!(
            "Too many tags added for queue {}.",
            found.key.name
        )));
    }
    if !app.sqs.set_tags(found.key, &tags).map_err(internal)? {
        return Err(no_such_queue());
    }
    Ok(json!({}))
}

pub(super) fn untag(app: &App, found: &Found<'_>, input: &Value) -> Result<Value, AwsError> {
    if input.get("TagKeys").is_none() {
        return Err(missing("TagKeys"));
    }
    let mut tags = found.queue()?.tags.clone();
    for k in strings(input, "TagKeys") {
        tags.remove(&k);
    }
    if !app.sqs.set_tags(found.key, &tags).map_err(internal)? {
        return Err(no_such_queue());
    }
    Ok(json!({}))
}

pub(super) fn list(found: &Found<'_>) -> Result<Value, AwsError> {
    let tags = &found.queue()?.tags;
    Ok(if tags.is_empty() {
        json!({})
    } else {
        json!({ "Tags": tags })
    })
}
