//! Log group tags: TagResource / UntagResource / ListTagsForResource (by ARN) and the older
//! TagLogGroup / UntagLogGroup / ListTagsLogGroup (by name), on the same tags.

use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::groups::tags_of;
use super::{Found, internal, invalid, no_such_group};
use crate::app::App;

/// Tags per log group.
const MAX_TAGS: usize = 50;

pub(super) fn tag(app: &App, found: &Found<'_>, input: &Value) -> Result<Value, AwsError> {
    let mut tags = found.group()?.tags.clone();
    let new = tags_of(input, "tags")?;
    if new.is_empty() {
        return Err(super::missing("tags"));
    }
    tags.extend(new);
    if tags.len() > MAX_TAGS {
        return Err(invalid(format!(
            "A log group can have at most {MAX_TAGS} tags."
        )));
    }
    if !app.logs.set_tags(found.key, &tags).map_err(internal)? {
        return Err(no_such_group());
    }
    Ok(json!({}))
}

pub(super) fn untag(app: &App, found: &Found<'_>, input: &Value) -> Result<Value, AwsError> {
    let mut tags = found.group()?.tags.clone();
    // UntagResource names `tagKeys`, UntagLogGroup `tags` (a list of keys).
    let keys = input
        .get("tagKeys")
        .or_else(|| input.get("tags"))
        .and_then(Value::as_array)
        .ok_or_else(|| super::missing("tagKeys"))?;
    for k in keys.iter().filter_map(Value::as_str) {
        tags.remove(k);
    }
    if !app.logs.set_tags(found.key, &tags).map_err(internal)? {
        return Err(no_such_group());
    }
    Ok(json!({}))
}

pub(super) fn list(found: &Found<'_>) -> Result<Value, AwsError> {
    Ok(json!({ "tags": found.group()?.tags }))
}
