//! Topics: CreateTopic (idempotent: the same name with the same attributes and tags answers
//! the same ARN), DeleteTopic, ListTopics (100 a page), Get/SetTopicAttributes (with the
//! computed SubscriptionsConfirmed/Pending/Deleted, Owner, TopicArn, EffectiveDeliveryPolicy
//! and AWS's default Policy), AddPermission and RemovePermission (statements of the policy).

use std::collections::BTreeMap;

use cairn_store::sns::Topic;
use cairn_wire::AwsError;
use cairn_wire::xml::escape;
use serde_json::{Value, json};

use super::{default_policy, internal, invalid, next_token_xml, page, policy_of};
use crate::app::App;
use crate::pipeline::codec::form::{Form, optional, tags as form_tags};
use crate::pipeline::codec::query::Reply;
use crate::recorder::CallContext;
use crate::sns::delivery::retry::effective_delivery_policy;
use crate::sns::resolve::SnsPlan;
use crate::sns::wire::{entries, map_xml, members};

/// Attributes a topic may be given (CreateTopic, SetTopicAttributes).
const SETTABLE: [&str; 7] = [
    "Policy",
    "DisplayName",
    "DeliveryPolicy",
    "SignatureVersion",
    "TracingConfig",
    "KmsMasterKeyId",
    "ArchivePolicy",
];

/// Checks one attribute's value, as AWS does.
fn validate_attribute(name: &str, value: &str) -> Result<(), AwsError> {
    match name {
        "Policy" => {
            let ok =
                serde_json::from_str::<Value>(value).is_ok_and(|v| v.get("Statement").is_some());
            if !ok {
                return Err(invalid("Policy Error: null"));
            }
        }
        "DeliveryPolicy"
            if serde_json::from_str::<Value>(value).map_or(true, |v| !v.is_object()) =>
        {
            return Err(invalid("DeliveryPolicy: failed to parse JSON"));
        }
        "SignatureVersion" if value != "1" && value != "2" => {
            return Err(invalid("SignatureVersion"));
        }
        "TracingConfig" if value != "PassThrough" && value != "Active" => {
            return Err(invalid("TracingConfig"));
        }
        "DisplayName" if value.len() > 100 => return Err(invalid("DisplayName")),
        _ if !SETTABLE.contains(&name) => {
            return Err(invalid("AttributeName"));
        }
        _ => {}
    }
    Ok(())
}

fn valid_name(name: &str) -> bool {
    (1..=256).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

pub(super) fn create(
    app: &App,
    ctx: &CallContext,
    form: &Form,
    plan: &mut SnsPlan,
) -> Result<Reply, AwsError> {
    let name = optional(form, "Name").unwrap_or_default();
    let mut attributes = entries(form, "Attributes");
    if name.ends_with(".fifo") || attributes.get("FifoTopic").is_some_and(|v| v == "true") {
        return Err(invalid("cairn does not support FIFO topics yet"));
    }
    attributes.remove("FifoTopic");
    if !valid_name(name) {
        return Err(invalid("Topic Name"));
    }
    for (k, v) in &attributes {
        validate_attribute(k, v)?;
    }
    let tags: BTreeMap<String, String> = form_tags(form).into_iter().collect();
    let arn = plan.new_arn.clone().unwrap_or_default();
    let topic = Topic {
        arn: arn.clone(),
        account: ctx.recipient_account.clone(),
        region: ctx.region.clone(),
        name: name.to_owned(),
        created_ms: app.clock.now_millis(),
        attributes,
        tags,
        subscriptions_deleted: 0,
    };
    if !app.sns.create_topic(&topic).map_err(internal)? {
        let existing = app.sns.topic(&arn).map_err(internal)?;
        if let Some(e) = existing {
            let asked: Vec<_> = topic.attributes.iter().collect();
            if asked.iter().any(|(k, v)| e.attributes.get(*k) != Some(*v)) {
                return Err(invalid(
                    "Attributes Reason: Topic already exists with different attributes",
                ));
            }
            if !topic.tags.is_empty() && topic.tags != e.tags {
                return Err(invalid(
                    "Tags Reason: Topic already exists with different tags",
                ));
            }
        }
    }
    Ok(Reply::xml(
        format!("    <TopicArn>{}</TopicArn>\n", escape(&arn)),
        Some(json!({"topicArn": arn})),
    ))
}

pub(super) fn delete(app: &App, plan: &mut SnsPlan) -> Result<Reply, AwsError> {
    if let Some(t) = &plan.topic {
        app.sns.delete_topic(&t.arn).map_err(internal)?;
    }
    Ok(Reply::xml(String::new(), None))
}

pub(super) fn list(app: &App, ctx: &CallContext, form: &Form) -> Result<Reply, AwsError> {
    let all = app
        .sns
        .topics(&ctx.recipient_account, &ctx.region)
        .map_err(internal)?;
    let (items, next) = page(form, all, 100)?;
    let mut xml = "    <Topics>\n".to_owned();
    for t in items {
        xml.push_str(&format!(
            "      <member>\n        <TopicArn>{}</TopicArn>\n      </member>\n",
            escape(&t.arn)
        ));
    }
    xml.push_str("    </Topics>\n");
    xml.push_str(&next_token_xml(&next));
    Ok(Reply::xml(xml, None))
}

pub(super) fn get_attributes(app: &App, plan: &mut SnsPlan) -> Result<Reply, AwsError> {
    let Some(t) = &plan.topic else {
        return Err(invalid("TopicArn"));
    };
    let subs = app.sns.subscriptions_of(&t.arn).map_err(internal)?;
    let confirmed = subs.iter().filter(|s| s.confirmed).count();
    let mut m = t.attributes.clone();
    m.insert("Policy".into(), policy_of(t));
    m.insert("Owner".into(), t.account.clone());
    m.insert("TopicArn".into(), t.arn.clone());
    m.entry("DisplayName".into()).or_default();
    m.insert("SubscriptionsConfirmed".into(), confirmed.to_string());
    m.insert(
        "SubscriptionsPending".into(),
        (subs.len() - confirmed).to_string(),
    );
    m.insert(
        "SubscriptionsDeleted".into(),
        t.subscriptions_deleted.to_string(),
    );
    m.insert(
        "EffectiveDeliveryPolicy".into(),
        effective_delivery_policy(t.attributes.get("DeliveryPolicy").map(String::as_str))
            .to_string(),
    );
    Ok(Reply::xml(map_xml("Attributes", &m), None))
}

pub(super) fn set_attributes(
    app: &App,
    form: &Form,
    plan: &mut SnsPlan,
) -> Result<Reply, AwsError> {
    let Some(mut t) = plan.topic.clone() else {
        return Err(invalid("TopicArn"));
    };
    let name = optional(form, "AttributeName")
        .ok_or_else(|| invalid("AttributeName Reason: no value for required parameter"))?;
    let value = optional(form, "AttributeValue").unwrap_or_default();
    validate_attribute(name, value)?;
    if value.is_empty() && name != "DisplayName" {
        t.attributes.remove(name);
    } else {
        t.attributes.insert(name.to_owned(), value.to_owned());
    }
    app.sns.update_topic(&t).map_err(internal)?;
    Ok(Reply::xml(String::new(), None))
}

fn policy_value(t: &Topic) -> Value {
    serde_json::from_str(&policy_of(t)).unwrap_or_else(|_| {
        serde_json::from_str(&default_policy(&t.arn, &t.account)).unwrap_or(Value::Null)
    })
}

pub(super) fn add_permission(
    app: &App,
    form: &Form,
    plan: &mut SnsPlan,
) -> Result<Reply, AwsError> {
    let Some(mut t) = plan.topic.clone() else {
        return Err(invalid("TopicArn"));
    };
    let label = optional(form, "Label").ok_or_else(|| invalid("Label"))?;
    let accounts = members(form, "AWSAccountId");
    let actions = members(form, "ActionName");
    if accounts.is_empty() || actions.is_empty() {
        return Err(invalid("AWSAccountId and ActionName"));
    }
    let mut policy = policy_value(&t);
    let statements = policy
        .get_mut("Statement")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| invalid("Policy"))?;
    if statements
        .iter()
        .any(|s| s.get("Sid").and_then(Value::as_str) == Some(label))
    {
        return Err(invalid("Statement already exists"));
    }
    let principals: Vec<String> = accounts
        .iter()
        .map(|a| format!("arn:aws:iam::{a}:root"))
        .collect();
    statements.push(json!({
        "Sid": label,
        "Effect": "Allow",
        "Principal": {"AWS": principals},
        "Action": actions.iter().map(|a| format!("SNS:{a}")).collect::<Vec<_>>(),
        "Resource": t.arn,
    }));
    t.attributes.insert("Policy".into(), policy.to_string());
    app.sns.update_topic(&t).map_err(internal)?;
    Ok(Reply::xml(String::new(), None))
}

pub(super) fn remove_permission(
    app: &App,
    form: &Form,
    plan: &mut SnsPlan,
) -> Result<Reply, AwsError> {
    let Some(mut t) = plan.topic.clone() else {
        return Err(invalid("TopicArn"));
    };
    let label = optional(form, "Label").ok_or_else(|| invalid("Label"))?;
    let mut policy = policy_value(&t);
    if let Some(statements) = policy.get_mut("Statement").and_then(Value::as_array_mut) {
        statements.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(label));
    }
    t.attributes.insert("Policy".into(), policy.to_string());
    app.sns.update_topic(&t).map_err(internal)?;
    Ok(Reply::xml(String::new(), None))
}
