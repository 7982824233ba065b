//! Queues: create (idempotent with the same attributes), URL, list (prefix, pages), delete,
//! attributes (settable and computed), purge (once a minute), and the queues whose redrive
//! policy names this one.

use std::collections::BTreeMap;

use cairn_store::sqs::{Queue, QueueKey};
use cairn_wire::AwsError;
use serde_json::{Map, Value, json};

use super::{Found, int_in, internal, invalid, no_such_queue, str_member, strings};
use crate::app::App;
use crate::recorder::CallContext;
use crate::sqs::attributes::{self, COMPUTED};
use crate::sqs::wire::queue_url;

/// How long SQS keeps a message, per the queue's retention, as the oldest send time kept.
pub(super) fn oldest_kept(app: &App, q: &Queue) -> i64 {
    app.clock.now_millis() - attributes::int_of(&q.attributes, "MessageRetentionPeriod") * 1000
}

fn given_attributes(input: &Value) -> Result<Map<String, Value>, AwsError> {
    match input.get("Attributes") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(invalid("Attributes must be a map of strings.")),
    }
}

fn exists(app: &App) -> impl Fn(&QueueKey) -> Result<bool, AwsError> + '_ {
    move |k| Ok(app.sqs.queue(k).map_err(internal)?.is_some())
}

pub(super) fn create(app: &App, found: &Found<'_>, input: &Value) -> Result<Value, AwsError> {
    if found.key.name.ends_with(".fifo") {
        return Err(attributes::unsupported_fifo());
    }
    let given = given_attributes(input)?;
    let changes = attributes::validate(&given, &exists(app))?;
    let tags = super::tags::tags_of(input, "tags")?;
    if let Some(q) = found.queue {
        // The same name again: the same queue, unless an attribute differs.
        for (name, v) in &changes {
            let current = q
                .attributes
                .get(name)
                .cloned()
                .or_else(|| attributes::defaults().get(name).cloned());
            if current != *v {
                return Err(AwsError::client(
                    "QueueAlreadyExists",
                    format!(
                        "A queue already exists with the same name and a different value for attribute {name}"
                    ),
                ));
            }
        }
        return Ok(json!({ "QueueUrl": queue_url(found.key) }));
    }
    let mut attrs = attributes::defaults();
    attributes::apply(&mut attrs, changes);
    let now = app.clock.now_millis();
    let queue = Queue {
        key: found.key.clone(),
        created_ms: now,
        modified_ms: now,
        attributes: attrs,
        tags,
        purged_ms: None,
    };
    if !app.sqs.create_queue(&queue).map_err(internal)? {
        // Made meanwhile by another call: answer as for an existing queue.
        return Ok(json!({ "QueueUrl": queue_url(found.key) }));
    }
    Ok(json!({ "QueueUrl": queue_url(found.key) }))
}

pub(super) fn url(found: &Found<'_>) -> Result<Value, AwsError> {
    found.queue()?;
    Ok(json!({ "QueueUrl": queue_url(found.key) }))
}

pub(super) fn delete(app: &App, key: &QueueKey) -> Result<Value, AwsError> {
    if !app.sqs.delete_queue(key).map_err(internal)? {
        return Err(no_such_queue());
    }
    Ok(json!({}))
}

/// Paging through names: the token is the last name of the page, hex-encoded (opaque enough,
/// and a client that makes its own only skips ahead in its own account's list).
fn page_token(name: &str) -> String {
    hex::encode(name)
}

fn after_token(token: &str) -> Result<String, AwsError> {
    hex::decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| invalid("Invalid NextToken value."))
}

pub(super) fn list(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let prefix = str_member(input, "QueueNamePrefix").unwrap_or("");
    let max = int_in(
        input,
        "MaxResults",
        1,
        1000,
        "MaxResults must be an integer between 1 and 1000.",
    )?;
    let after = match str_member(input, "NextToken") {
        Some(t) => Some(after_token(t)?),
        None => None,
    };
    let queues = app
        .sqs
        .queues(&ctx.recipient_account, &ctx.region)
        .map_err(internal)?;
    let mut chosen = queues.iter().filter(|q| {
        q.key.name.starts_with(prefix) && after.as_deref().is_none_or(|a| q.key.name.as_str() > a)
    });
    let limit = usize::try_from(max.unwrap_or(1000)).unwrap_or(1000);
    let page: Vec<&Queue> = chosen.by_ref().take(limit).collect();
    let more = chosen.next().is_some();
    let mut out = json!({});
    if !page.is_empty() {
        out["QueueUrls"] = json!(page.iter().map(|q| queue_url(&q.key)).collect::<Vec<_>>());
    }
    // Without MaxResults AWS answers up to 1000 and no token.
    if more
        && max.is_some()
        && let Some(last) = page.last()
    {
        out["NextToken"] = json!(page_token(&last.key.name));
    }
    Ok(out)
}

/// Every attribute of a queue, computed ones included, by name.
fn all_attributes(app: &App, q: &Queue) -> Result<BTreeMap<String, String>, AwsError> {
    let now = app.clock.now_millis();
    let counts = app
        .sqs
        .counts(&q.key, now, oldest_kept(app, q))
        .map_err(internal)?;
    let mut all = q.attributes.clone();
    all.insert("QueueArn".into(), q.key.arn());
    all.insert(
        "ApproximateNumberOfMessages".into(),
        counts.visible.to_string(),
    );
    all.insert(
        "ApproximateNumberOfMessagesNotVisible".into(),
        counts.in_flight.to_string(),
    );
    all.insert(
        "ApproximateNumberOfMessagesDelayed".into(),
        counts.delayed.to_string(),
    );
    all.insert("CreatedTimestamp".into(), (q.created_ms / 1000).to_string());
    all.insert(
        "LastModifiedTimestamp".into(),
        (q.modified_ms / 1000).to_string(),
    );
    Ok(all)
}

pub(super) fn get_attributes(
    app: &App,
    found: &Found<'_>,
    input: &Value,
) -> Result<Value, AwsError> {
    let q = found.queue()?;
    let names = strings(input, "AttributeNames");
    if let Some(bad) = names.iter().find(|n| !attributes::is_known(n)) {
        return Err(attributes::unknown(bad));
    }
    if names.is_empty() {
        return Ok(json!({}));
    }
    let all = all_attributes(app, q)?;
    let every = names.iter().any(|n| n == "All");
    let chosen: BTreeMap<&String, &String> = all
        .iter()
        .filter(|(k, _)| every || names.contains(k))
        .collect();
    Ok(json!({ "Attributes": chosen }))
}

pub(super) fn set_attributes(
    app: &App,
    found: &Found<'_>,
    input: &Value,
) -> Result<Value, AwsError> {
    let q = found.queue()?;
    let given = given_attributes(input)?;
    if given.is_empty() {
        return Err(super::missing("Attributes"));
    }
    if let Some(bad) = given.keys().find(|k| COMPUTED.contains(&k.as_str())) {
        return Err(attributes::unknown(bad));
    }
    let changes = attributes::validate(&given, &exists(app))?;
    let mut attrs = q.attributes.clone();
    attributes::apply(&mut attrs, changes);
    if !app
        .sqs
        .set_attributes(found.key, &attrs, app.clock.now_millis())
        .map_err(internal)?
    {
        return Err(no_such_queue());
    }
    Ok(json!({}))
}

pub(super) fn purge(app: &App, found: &Found<'_>) -> Result<Value, AwsError> {
    let q = found.queue()?;
    let now = app.clock.now_millis();
    if q.purged_ms.is_some_and(|t| now - t < 60_000) {
        return Err(AwsError::client(
            "AWS.SimpleQueueService.PurgeQueueInProgress",
            format!(
                "Only one PurgeQueue operation on {} is allowed every 60 seconds.",
                q.key.name
            ),
        ));
    }
    app.sqs.purge(found.key, now).map_err(internal)?;
    Ok(json!({}))
}

pub(super) fn dead_letter_sources(
    app: &App,
    found: &Found<'_>,
    input: &Value,
) -> Result<Value, AwsError> {
    let q = found.queue()?;
    let arn = q.key.arn();
    let max = int_in(
        input,
        "MaxResults",
        1,
        1000,
        "MaxResults must be an integer between 1 and 1000.",
    )?;
    let after = match str_member(input, "NextToken") {
        Some(t) => Some(after_token(t)?),
        None => None,
    };
    let queues = app
        .sqs
        .queues(&q.key.account, &q.key.region)
        .map_err(internal)?;
    let mut sources = queues.iter().filter(|s| {
        s.attributes
            .get("RedrivePolicy")
            .and_then(|r| attributes::redrive_of(r).ok())
            .is_some_and(|r| r.target.arn() == arn)
            && after.as_deref().is_none_or(|a| s.key.name.as_str() > a)
    });
    let limit = usize::try_from(max.unwrap_or(1000)).unwrap_or(1000);
    let page: Vec<&Queue> = sources.by_ref().take(limit).collect();
    let mut out =
        json!({ "queueUrls": page.iter().map(|s| queue_url(&s.key)).collect::<Vec<_>>() });
    if sources.next().is_some()
        && max.is_some()
        && let Some(last) = page.last()
    {
        out["NextToken"] = json!(page_token(&last.key.name));
    }
    Ok(out)
}
