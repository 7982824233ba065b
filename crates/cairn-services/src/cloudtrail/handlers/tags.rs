//! Tags: AddTags, RemoveTags, ListTags, on trails and event data stores (named by ARN), at
//! most 50 a resource.

use cairn_store::trails::Trail;
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::trails::{find, internal, str_member};
use crate::app::App;
use crate::cloudtrail::names::{TrailRef, parse_ref};
use crate::recorder::CallContext;

const MAX_TAGS: usize = 50;

pub(super) fn tags_of(input: &Value) -> Result<Vec<(String, String)>, AwsError> {
    let mut out = Vec::new();
    for t in input
        .get("TagsList")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let k = str_member(t, "Key").unwrap_or("");
        if k.is_empty() || k.len() > 128 {
            return Err(AwsError::client(
                "InvalidTagParameterException",
                "Tag keys must be 1 to 128 characters.",
            ));
        }
        let v = str_member(t, "Value").unwrap_or("");
        if v.len() > 256 {
            return Err(AwsError::client(
                "InvalidTagParameterException",
                "Tag values can be at most 256 characters.",
            ));
        }
        out.push((k.to_owned(), v.to_owned()));
    }
    Ok(out)
}

/// The trail a tagging call names by ARN (`ResourceId`).
fn tagged_trail(app: &App, ctx: &CallContext, id: &str) -> Result<Trail, AwsError> {
    match parse_ref(id)? {
        r @ TrailRef::Arn { .. } => find(app, ctx, &r),
        TrailRef::Name(_) => Err(AwsError::client(
            "CloudTrailARNInvalidException",
            format!("The ARN {id} is not valid."),
        )),
    }
}

/// Whether an ARN names an event data store (whose tags live with it in the lake's store).
fn is_event_data_store(id: &str) -> bool {
    id.starts_with("arn:") && id.contains(":eventdatastore/")
}

/// Whether an ARN names a channel (whose tags live in its document).
fn is_channel(id: &str) -> bool {
    id.starts_with("arn:") && id.contains(":channel/")
}

/// Changes a channel's tags, in the order they were added.
fn retag_channel(
    app: &App,
    ctx: &CallContext,
    id: &str,
    change: impl FnOnce(&mut Vec<(String, String)>),
) -> Result<(), AwsError> {
    let (_, mut tags) = super::channels::tags(app, ctx, id)?;
    change(&mut tags);
    if tags.len() > MAX_TAGS {
        return Err(AwsError::client(
            "TagsLimitExceededException",
            format!("A resource can have at most {MAX_TAGS} tags."),
        ));
    }
    super::channels::set_tags(app, ctx, id, &tags)
}

/// Changes an event data store's tags.
fn retag_store(
    app: &App,
    ctx: &CallContext,
    id: &str,
    change: impl FnOnce(&mut std::collections::BTreeMap<String, String>),
) -> Result<(), AwsError> {
    let mut s = super::event_data_stores::find(app, ctx, id)?;
    change(&mut s.tags);
    if s.tags.len() > MAX_TAGS {
        return Err(AwsError::client(
            "TagsLimitExceededException",
            format!("A resource can have at most {MAX_TAGS} tags."),
        ));
    }
    app.lake.put_store(&s).map_err(internal)
}

pub fn add_tags(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let id = str_member(input, "ResourceId").unwrap_or("");
    if is_event_data_store(id) {
        let tags = tags_of(input)?;
        retag_store(app, ctx, id, |all| all.extend(tags))?;
        return Ok(json!({}));
    }
    if is_channel(id) {
        let tags = tags_of(input)?;
        retag_channel(app, ctx, id, |all| {
            for (k, v) in tags {
                match all.iter_mut().find(|(key, _)| *key == k) {
                    Some(t) => t.1 = v,
                    None => all.push((k, v)),
                }
            }
        })?;
        return Ok(json!({}));
    }
    let t = tagged_trail(app, ctx, str_member(input, "ResourceId").unwrap_or(""))?;
    super::trails::owned(app, ctx, &t)?;
    let tags = tags_of(input)?;
    let mut keys: Vec<String> = app
        .trails
        .tags(&t.arn)
        .map_err(internal)?
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    keys.extend(tags.iter().map(|(k, _)| k.clone()));
    keys.sort();
    keys.dedup();
    if keys.len() > MAX_TAGS {
        return Err(AwsError::client(
            "TagsLimitExceededException",
            format!("A trail can have at most {MAX_TAGS} tags."),
        ));
    }
    app.trails.add_tags(&t.arn, &tags).map_err(internal)?;
    Ok(json!({}))
}

pub fn remove_tags(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let id = str_member(input, "ResourceId").unwrap_or("");
    if is_event_data_store(id) {
        let keys: Vec<String> = tags_of(input)?.into_iter().map(|(k, _)| k).collect();
        retag_store(app, ctx, id, |all| all.retain(|k, _| !keys.contains(k)))?;
        return Ok(json!({}));
    }
    if is_channel(id) {
        let keys: Vec<String> = tags_of(input)?.into_iter().map(|(k, _)| k).collect();
        retag_channel(app, ctx, id, |all| all.retain(|(k, _)| !keys.contains(k)))?;
        return Ok(json!({}));
    }
    let t = tagged_trail(app, ctx, str_member(input, "ResourceId").unwrap_or(""))?;
    super::trails::owned(app, ctx, &t)?;
    let keys: Vec<String> = tags_of(input)?.into_iter().map(|(k, _)| k).collect();
    app.trails.remove_tags(&t.arn, &keys).map_err(internal)?;
    Ok(json!({}))
}

pub fn list_tags(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let mut out = Vec::new();
    for id in input
        .get("ResourceIdList")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if is_event_data_store(id) {
            let s = super::event_data_stores::find(app, ctx, id)?;
            let tags: Vec<Value> = s
                .tags
                .iter()
                .map(|(k, v)| json!({"Key": k, "Value": v}))
                .collect();
            out.push(json!({"ResourceId": s.arn, "TagsList": tags}));
            continue;
        }
        if is_channel(id) {
            let (arn, tags) = super::channels::tags(app, ctx, id)?;
            let tags: Vec<Value> = tags
                .iter()
                .map(|(k, v)| json!({"Key": k, "Value": v}))
                .collect();
            out.push(json!({"ResourceId": arn, "TagsList": tags}));
            continue;
        }
        let t = tagged_trail(app, ctx, id)?;
        let tags: Vec<Value> = app
            .trails
            .tags(&t.arn)
            .map_err(internal)?
            .into_iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect();
        out.push(json!({"ResourceId": t.arn, "TagsList": tags}));
    }
    Ok(json!({"ResourceTagList": out}))
}
