//! CloudTrail Lake's channels (events from outside AWS): Create/Get/List/Update/DeleteChannel.
//!
//! A channel is a Lake document of kind `channel`, keyed by its ARN
//! (`arn:aws:cloudtrail:<region>:<account>:channel/<uuid>`), holding the API's members
//! (`ChannelArn`, `Name`, `Source`, `Destinations`, `Tags`) and where it lives. Its ingestion
//! status is a document of kind `ingestion` under the same key, written by cloudtrail-data's
//! PutAuditEvents. Destinations are event data stores of the account, in the channel's region,
//! single-region, not pending deletion, whose selectors take only `ActivityAuditLog` events.

use cairn_model::{ids, timefmt};
use cairn_store::lake::EventDataStore;
use cairn_wire::AwsError;
use serde_json::{Map, Value, json};

use super::event_data_stores::{self, PENDING_DELETION};
use super::tags::tags_of;
use super::trails::{internal, str_member};
use crate::app::App;
use crate::recorder::CallContext;

/// The document kinds.
pub(in crate::cloudtrail) const CHANNEL: &str = "channel";
const INGESTION: &str = "ingestion";
/// Channels an account may have (in all regions).
const MAX_CHANNELS: usize = 25;
/// The source of channels for the account's own events: any number of them.
const CUSTOM: &str = "Custom";

fn invalid(msg: impl Into<String>) -> AwsError {
    AwsError::client("InvalidParameterException", msg)
}

fn arn_invalid() -> AwsError {
    AwsError::client(
        "ChannelARNInvalidException",
        "The specified channel ARN is not valid or does not map to a channel in your account.",
    )
}

/// The ARN a request names a channel by (its ARN, or the id its ARN ends with).
pub(in crate::cloudtrail) fn channel_arn(
    region: &str,
    account: &str,
    named: &str,
) -> Result<String, AwsError> {
    let id_ok = |id: &str| {
        !id.is_empty()
            && id.len() <= 128
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if let Some(rest) = named.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        match parts.as_slice() {
            [_, "cloudtrail", region, account, res]
                if !region.is_empty()
                    && account.len() == 12
                    && res.strip_prefix("channel/").is_some_and(id_ok) =>
            {
                Ok(named.to_string())
            }
            _ => Err(arn_invalid()),
        }
    } else if id_ok(named) {
        Ok(format!(
            "arn:aws:cloudtrail:{region}:{account}:channel/{named}"
        ))
    } else {
        Err(arn_invalid())
    }
}

/// A stored channel.
pub(in crate::cloudtrail) struct Channel {
    pub arn: String,
    pub doc: Map<String, Value>,
}

/// The channel a request names, in the caller's account.
pub(in crate::cloudtrail) fn find(
    app: &App,
    ctx: &CallContext,
    named: &str,
) -> Result<Channel, AwsError> {
    let arn = channel_arn(&ctx.region, &ctx.recipient_account, named)?;
    let doc = app.lake.document(CHANNEL, &arn).map_err(internal)?;
    match doc.and_then(|d| serde_json::from_str::<Value>(&d).ok()) {
        Some(Value::Object(doc))
            if doc.get("Account").and_then(Value::as_str) == Some(&ctx.recipient_account) =>
        {
            Ok(Channel { arn, doc })
        }
        _ => Err(AwsError::client(
            "ChannelNotFoundException",
            format!("The channel {named} was not found."),
        )),
    }
}

/// Whether an event data store's selectors take only events from outside AWS.
fn takes_activity_only(s: &EventDataStore) -> bool {
    let settings: Value = serde_json::from_str(&s.settings).unwrap_or(Value::Null);
    let Some(selectors) = settings
        .get("AdvancedEventSelectors")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    else {
        return false;
    };
    selectors.iter().all(|sel| {
        sel.get("FieldSelectors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|f| {
                f.get("Field").and_then(Value::as_str) == Some("eventCategory")
                    && f.get("Equals") == Some(&json!(["ActivityAuditLog"]))
            })
    })
}

/// Validates a channel's destinations: each an event data store fit to take its events.
fn destinations(app: &App, ctx: &CallContext, v: &Value) -> Result<Value, AwsError> {
    let list = v
        .as_array()
        .filter(|a| (1..=200).contains(&a.len()))
        .ok_or_else(|| invalid("Destinations must list 1 to 200 destinations."))?;
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for d in list {
        let kind = str_member(d, "Type").unwrap_or("");
        let location = str_member(d, "Location").unwrap_or("");
        match kind {
            "EVENT_DATA_STORE" => {}
            "AWS_SERVICE" => {
                return Err(invalid(
                    "AWS_SERVICE destinations belong to channels that AWS services create; a channel you create delivers to event data stores.",
                ));
            }
            other => {
                return Err(invalid(format!(
                    "Value '{other}' at 'destinations.member.type' failed to satisfy constraint: Member must satisfy enum value set: [EVENT_DATA_STORE, AWS_SERVICE]"
                )));
            }
        }
        let store = event_data_stores::find(app, ctx, location)?;
        if store.status == PENDING_DELETION {
            return Err(AwsError::client(
                "InactiveEventDataStoreException",
                format!("The event data store {} is inactive.", store.arn),
            ));
        }
        if store.region != ctx.region {
            return Err(AwsError::client(
                "EventDataStoreNotFoundException",
                format!("The specified event data store {location} was not found."),
            ));
        }
        if !takes_activity_only(&store) {
            return Err(AwsError::client(
                "InvalidEventDataStoreCategoryException",
                format!(
                    "The event data store {} does not take eventCategory ActivityAuditLog events only; a channel's destinations must.",
                    store.arn
                ),
            ));
        }
        let settings: Value = serde_json::from_str(&store.settings).unwrap_or(Value::Null);
        if settings.get("MultiRegionEnabled").and_then(Value::as_bool) != Some(false) {
            return Err(invalid(format!(
                "The event data store {} is multi-Region; a channel's destinations must be single-Region event data stores.",
                store.arn
            )));
        }
        if seen.contains(&store.arn) {
            return Err(invalid(format!(
                "The event data store {} is listed twice in Destinations.",
                store.arn
            )));
        }
        seen.push(store.arn.clone());
        out.push(json!({"Type": "EVENT_DATA_STORE", "Location": store.arn}));
    }
    Ok(Value::Array(out))
}

fn validate_name(name: &str) -> Result<(), AwsError> {
    let ok = (3..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "Channel name must be 3 to 128 characters: letters, digits, periods, underscores and dashes.",
        ))
    }
}

/// The account's channels, as stored.
fn channels_of(app: &App, account: &str) -> Result<Vec<Channel>, AwsError> {
    Ok(app
        .lake
        .documents(CHANNEL, account)
        .map_err(internal)?
        .into_iter()
        .filter_map(|(arn, body)| match serde_json::from_str(&body) {
            Ok(Value::Object(doc)) => Some(Channel { arn, doc }),
            _ => None,
        })
        .collect())
}

fn member<'a>(c: &'a Channel, name: &str) -> &'a str {
    c.doc.get(name).and_then(Value::as_str).unwrap_or("")
}

/// The channel as Create/UpdateChannel answer it.
fn describe(c: &Channel) -> Map<String, Value> {
    let mut out = Map::new();
    for key in ["ChannelArn", "Name", "Source", "Destinations"] {
        if let Some(v) = c.doc.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    out
}

pub fn create(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let name = str_member(input, "Name").unwrap_or("");
    validate_name(name)?;
    let source = str_member(input, "Source").unwrap_or("");
    if source.is_empty() || source.len() > 256 {
        return Err(AwsError::client(
            "InvalidSourceException",
            "Source must be Custom or the name of a partner event source (1 to 256 characters).",
        ));
    }
    let dests = destinations(app, ctx, input.get("Destinations").unwrap_or(&Value::Null))?;
    let tags = tags_of(&json!({"TagsList": input.get("Tags").cloned().unwrap_or(Value::Null)}))?;
    if tags.len() > 200 {
        return Err(AwsError::client(
            "TagsLimitExceededException",
            "A channel can have at most 200 tags.",
        ));
    }
    let existing = channels_of(app, &ctx.recipient_account)?;
    if existing
        .iter()
        .any(|c| member(c, "Name") == name && member(c, "Region") == ctx.region)
    {
        return Err(AwsError::client(
            "ChannelAlreadyExistsException",
            format!("A channel with the name {name} already exists."),
        ));
    }
    if source != CUSTOM
        && existing
            .iter()
            .any(|c| member(c, "Source") == source && member(c, "Region") == ctx.region)
    {
        return Err(AwsError::client(
            "ChannelAlreadyExistsException",
            format!(
                "A channel for the source {source} already exists; a source has at most one channel."
            ),
        ));
    }
    if existing.len() >= MAX_CHANNELS {
        return Err(AwsError::client(
            "ChannelMaxLimitExceededException",
            format!("Your account has the maximum number of channels ({MAX_CHANNELS})."),
        ));
    }
    let arn = format!(
        "arn:aws:cloudtrail:{}:{}:channel/{}",
        ctx.region,
        ctx.recipient_account,
        ids::new_uuid()
    );
    let tags_json: Vec<Value> = tags
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    let doc = json!({
        "ChannelArn": arn,
        "Name": name,
        "Source": source,
        "Destinations": dests,
        "Tags": tags_json,
        "Account": ctx.recipient_account,
        "Region": ctx.region,
        "CreatedMs": app.clock.now_millis(),
    });
    app.lake
        .put_document(CHANNEL, &arn, &ctx.recipient_account, &doc.to_string())
        .map_err(internal)?;
    let Value::Object(doc) = doc else {
        return Err(AwsError::internal("a channel document is an object"));
    };
    let c = Channel { arn, doc };
    let mut out = describe(&c);
    out.insert("Tags".into(), Value::Array(tags_json));
    Ok(Value::Object(out))
}

pub fn get(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let c = find(app, ctx, str_member(input, "Channel").unwrap_or(""))?;
    let mut out = describe(&c);
    out.insert(
        "SourceConfig".into(),
        json!({
            "ApplyToAllRegions": false,
            "AdvancedEventSelectors": [{
                "Name": "Select events from the channel's source",
                "FieldSelectors": [{"Field": "eventCategory", "Equals": ["ActivityAuditLog"]}],
            }],
        }),
    );
    let status: Map<String, Value> = app
        .lake
        .document(INGESTION, &c.arn)
        .map_err(internal)?
        .and_then(|d| serde_json::from_str(&d).ok())
        .unwrap_or_default();
    let mut ingestion = Map::new();
    for (key, value) in status {
        // Times are kept in milliseconds; the API gives epoch seconds.
        let v = match (key.ends_with("Time"), value.as_i64()) {
            (true, Some(ms)) => timefmt::epoch_seconds(ms),
            _ => value,
        };
        ingestion.insert(key, v);
    }
    out.insert("IngestionStatus".into(), Value::Object(ingestion));
    Ok(Value::Object(out))
}

pub fn list(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let max = match input.get("MaxResults") {
        None | Some(Value::Null) => 1000,
        Some(v) => match v.as_i64() {
            Some(n @ 1..=1000) => n as usize,
            _ => return Err(invalid("MaxResults must be between 1 and 1000.")),
        },
    };
    let mut all: Vec<Channel> = channels_of(app, &ctx.recipient_account)?
        .into_iter()
        .filter(|c| member(c, "Region") == ctx.region)
        .collect();
    all.sort_by_key(|c| {
        (
            c.doc.get("CreatedMs").and_then(Value::as_i64),
            c.arn.clone(),
        )
    });
    let start = match str_member(input, "NextToken") {
        None => 0,
        Some(t) => all.iter().position(|c| c.arn == t).ok_or_else(|| {
            AwsError::client("InvalidNextTokenException", "The NextToken is not valid.")
        })?,
    };
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(max)
        .map(|c| json!({"ChannelArn": c.arn, "Name": member(c, "Name")}))
        .collect();
    let mut out = json!({ "Channels": page });
    if let Some(next) = all.get(start + max) {
        out["NextToken"] = json!(next.arn);
    }
    Ok(out)
}

pub fn update(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let mut c = find(app, ctx, str_member(input, "Channel").unwrap_or(""))?;
    if let Some(name) = str_member(input, "Name") {
        validate_name(name)?;
        let taken = channels_of(app, &ctx.recipient_account)?.iter().any(|o| {
            o.arn != c.arn && member(o, "Name") == name && member(o, "Region") == ctx.region
        });
        if taken {
            return Err(AwsError::client(
                "ChannelAlreadyExistsException",
                format!("A channel with the name {name} already exists."),
            ));
        }
        c.doc.insert("Name".into(), json!(name));
    }
    if let Some(d) = input.get("Destinations").filter(|v| !v.is_null()) {
        let d = destinations(app, ctx, d)?;
        c.doc.insert("Destinations".into(), d);
    }
    app.lake
        .put_document(
            CHANNEL,
            &c.arn,
            &ctx.recipient_account,
            &Value::Object(c.doc.clone()).to_string(),
        )
        .map_err(internal)?;
    Ok(Value::Object(describe(&c)))
}

pub fn delete(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let c = find(app, ctx, str_member(input, "Channel").unwrap_or(""))?;
    app.lake
        .remove_document(CHANNEL, &c.arn)
        .map_err(internal)?;
    app.lake
        .remove_document(INGESTION, &c.arn)
        .map_err(internal)?;
    app.lake
        .remove_document(super::resource_policies::POLICY, &c.arn)
        .map_err(internal)?;
    Ok(json!({}))
}

/// A channel's tags (AddTags, RemoveTags, ListTags on its ARN).
pub(in crate::cloudtrail) fn tags(
    app: &App,
    ctx: &CallContext,
    named: &str,
) -> Result<(String, Vec<(String, String)>), AwsError> {
    let c = find(app, ctx, named)?;
    let tags = c
        .doc
        .get("Tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|t| (member_of(t, "Key"), member_of(t, "Value")))
        .collect();
    Ok((c.arn, tags))
}

fn member_of(v: &Value, name: &str) -> String {
    v.get(name).and_then(Value::as_str).unwrap_or("").to_owned()
}

/// Replaces a channel's tags.
pub(in crate::cloudtrail) fn set_tags(
    app: &App,
    ctx: &CallContext,
    named: &str,
    tags: &[(String, String)],
) -> Result<(), AwsError> {
    let mut c = find(app, ctx, named)?;
    let list: Vec<Value> = tags
        .iter()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    c.doc.insert("Tags".into(), Value::Array(list));
    app.lake
        .put_document(
            CHANNEL,
            &c.arn,
            &ctx.recipient_account,
            &Value::Object(c.doc).to_string(),
        )
        .map_err(internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_are_named_by_arn_or_id() {
        let c = |named: &str| channel_arn("eu-west-1", "111122223333", named);
        assert_eq!(
            c("0f1e2d3c-aaaa").unwrap(),
            "arn:aws:cloudtrail:eu-west-1:111122223333:channel/0f1e2d3c-aaaa"
        );
        let arn = "arn:aws:cloudtrail:us-east-1:444455556666:channel/abc-1";
        assert_eq!(c(arn).unwrap(), arn);
        for bad in [
            "",
            "arn:aws:cloudtrail:us-east-1:444455556666:eventdatastore/abc",
            "arn:aws:s3:::b",
            "arn:aws:cloudtrail:us-east-1:4444:channel/abc",
            "no spaces",
        ] {
            assert_eq!(
                c(bad).unwrap_err().code,
                "ChannelARNInvalidException",
                "{bad}"
            );
        }
    }
}
