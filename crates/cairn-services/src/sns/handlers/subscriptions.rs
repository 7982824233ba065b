//! Subscriptions: Subscribe (http, https, email, email-json, sqs; lambda refused until cairn
//! has functions), the confirmation handshake (a SubscriptionConfirmation queued for the
//! endpoint; ConfirmSubscription with its token, signed or through the unsigned SubscribeURL),
//! Unsubscribe, the listings (pending rows show `PendingConfirmation`), and subscription
//! attributes (RawMessageDelivery, FilterPolicy, FilterPolicyScope, DeliveryPolicy, …).

use std::collections::BTreeMap;

use cairn_store::sns::{NewDelivery, Subscription, Topic};
use cairn_wire::AwsError;
use cairn_wire::xml::escape;
use serde_json::json;

use super::{internal, invalid, next_token_xml, page};
use crate::app::App;
use crate::pipeline::codec::form::{Form, boolean, optional};
use crate::pipeline::codec::query::Reply;
use crate::recorder::CallContext;
use crate::sns::delivery::retry::effective_delivery_policy;
use crate::sns::filter;
use crate::sns::message;
use crate::sns::resolve::SnsPlan;
use crate::sns::wire::{entries, map_xml, subscription_xml};

/// Attributes a subscription may be given.
const SETTABLE: [&str; 6] = [
    "RawMessageDelivery",
    "FilterPolicy",
    "FilterPolicyScope",
    "DeliveryPolicy",
    "RedrivePolicy",
    "SubscriptionRoleArn",
];

/// What the API answers for a subscription that is not confirmed yet.
const PENDING: &str = "pending confirmation";

fn validate_attribute(name: &str, value: &str) -> Result<(), AwsError> {
    match name {
        "RawMessageDelivery" if value != "true" && value != "false" => {
            Err(invalid("Attributes Reason: RawMessageDelivery: Invalid value [{value}]. Must be true or false.".replace("{value}", value)))
        }
        "FilterPolicy" => filter::validate(value).map(|_| ()).map_err(|e| invalid(format!("Filter policy: {e}"))),
        "FilterPolicyScope" if value != "MessageAttributes" && value != "MessageBody" => Err(invalid(
            "Attributes Reason: FilterPolicyScope: Invalid value [{value}]. Please use either MessageBody or MessageAttributes".replace("{value}", value),
        )),
        "DeliveryPolicy" | "RedrivePolicy" if serde_json::from_str::<serde_json::Value>(value).is_err() => {
            Err(invalid(format!("{name}: failed to parse JSON")))
        }
        _ if !SETTABLE.contains(&name) => Err(invalid("AttributeName")),
        _ => Ok(()),
    }
}

/// Checks the endpoint a protocol needs.
fn validate_endpoint(protocol: &str, endpoint: &str) -> Result<(), AwsError> {
    let ok = match protocol {
        "http" => endpoint.starts_with("http://"),
        "https" => endpoint.starts_with("https://"),
        "email" | "email-json" => {
            endpoint.contains('@') && !endpoint.contains(['\r', '\n', '/', '\\'])
        }
        "sqs" => endpoint.starts_with("arn:aws:sqs:") && endpoint.split(':').count() == 6,
        "lambda" => {
            endpoint.starts_with("arn:aws:lambda:")
                && endpoint.split(':').nth(5) == Some("function")
                && endpoint.split(':').nth(6).is_some_and(|n| !n.is_empty())
        }
        "sms" | "application" | "firehose" => {
            return Err(invalid(format!(
                "cairn does not support the {protocol} protocol yet"
            )));
        }
        _ => {
            return Err(invalid(format!(
                "Amazon SNS does not support this protocol string: {protocol}"
            )));
        }
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "Invalid endpoint for {protocol}: {endpoint}"
        )))
    }
}

/// A new confirmation token (AWS's are long hex strings).
fn new_token() -> String {
    let a = cairn_model::ids::new_uuid().replace('-', "");
    let b = cairn_model::ids::new_uuid().replace('-', "");
    let c = cairn_model::ids::new_uuid().replace('-', "");
    format!("{a}{b}{c}")
}

pub(super) fn subscribe(
    app: &App,
    ctx: &CallContext,
    form: &Form,
    plan: &mut SnsPlan,
) -> Result<Reply, AwsError> {
    let Some(topic) = plan.topic.clone() else {
        return Err(invalid("TopicArn"));
    };
    let protocol = optional(form, "Protocol")
        .ok_or_else(|| invalid("Protocol Reason: no value for required parameter"))?;
    let endpoint = optional(form, "Endpoint").unwrap_or_default();
    validate_endpoint(protocol, endpoint)?;
    let attributes = entries(form, "Attributes");
    for (k, v) in &attributes {
        validate_attribute(k, v)?;
    }
    let return_arn = boolean(form, "ReturnSubscriptionArn")?.unwrap_or(false);
    let existing = app
        .sns
        .subscriptions_of(&topic.arn)
        .map_err(internal)?
        .into_iter()
        .find(|s| s.protocol == protocol && s.endpoint == endpoint);
    if let Some(s) = existing {
        if attributes
            .iter()
            .any(|(k, v)| s.attributes.get(k) != Some(v))
        {
            return Err(invalid(
                "Attributes Reason: Subscription already exists with different attributes",
            ));
        }
        return Ok(answer(&s, return_arn));
    }
    // Same-account queues and functions are confirmed at once; everything else confirms
    // through its token.
    let same_account_queue = matches!(protocol, "sqs" | "lambda")
        && endpoint.split(':').nth(4) == Some(ctx.recipient_account.as_str());
    let sub = Subscription {
        arn: format!("{}:{}", topic.arn, cairn_model::ids::new_uuid()),
        topic_arn: topic.arn.clone(),
        owner: ctx.recipient_account.clone(),
        protocol: protocol.to_owned(),
        endpoint: endpoint.to_owned(),
        confirmed: same_account_queue,
        token: (!same_account_queue).then(new_token),
        attributes,
        created_ms: app.clock.now_millis(),
    };
    app.sns.put_subscription(&sub).map_err(internal)?;
    if let Some(token) = &sub.token {
        queue_confirmation(app, &topic, &sub, token)?;
    }
    Ok(answer(&sub, return_arn))
}

/// Queues the SubscriptionConfirmation message for a pending subscription.
fn queue_confirmation(
    app: &App,
    topic: &Topic,
    sub: &Subscription,
    token: &str,
) -> Result<(), AwsError> {
    let now = app.clock.now_millis();
    let payload = message::confirmation(topic, token, now);
    app.sns
        .enqueue(
            &[NewDelivery {
                subscription_arn: sub.arn.clone(),
                topic_arn: topic.arn.clone(),
                payload: payload.to_string(),
                due_ms: now,
            }],
            now,
        )
        .map_err(internal)
}

fn answer(sub: &Subscription, return_arn: bool) -> Reply {
    let shown = if sub.confirmed || return_arn {
        sub.arn.as_str()
    } else {
        PENDING
    };
    Reply::xml(
        format!("    <SubscriptionArn>{}</SubscriptionArn>\n", escape(shown)),
        Some(json!({"subscriptionArn": shown})),
    )
}

/// Confirms the subscription of `topic` holding `token`: its ARN, or `None` for a token
/// no subscription holds. The API and the unsigned SubscribeURL both come here.
pub(crate) fn confirm(app: &App, topic_arn: &str, token: &str) -> Result<Option<String>, AwsError> {
    let subs = app.sns.subscriptions_of(topic_arn).map_err(internal)?;
    let Some(mut sub) = subs.into_iter().find(|s| s.token.as_deref() == Some(token)) else {
        return Ok(None);
    };
    if !sub.confirmed {
        sub.confirmed = true;
        app.sns.put_subscription(&sub).map_err(internal)?;
    }
    Ok(Some(sub.arn))
}

pub(super) fn confirm_call(app: &App, form: &Form, plan: &mut SnsPlan) -> Result<Reply, AwsError> {
    let Some(topic) = &plan.topic else {
        return Err(invalid("TopicArn"));
    };
    let token = optional(form, "Token")
        .ok_or_else(|| invalid("Token Reason: no value for required parameter"))?;
    let arn = confirm(app, &topic.arn, token)?.ok_or_else(|| invalid("Token"))?;
    Ok(Reply::xml(
        format!("    <SubscriptionArn>{}</SubscriptionArn>\n", escape(&arn)),
        Some(json!({"subscriptionArn": arn})),
    ))
}

pub(super) fn unsubscribe(app: &App, plan: &mut SnsPlan) -> Result<Reply, AwsError> {
    if let Some(s) = &plan.subscription {
        app.sns.delete_subscription(&s.arn).map_err(internal)?;
    }
    Ok(Reply::xml(String::new(), None))
}

fn rows_xml(subs: &[Subscription]) -> String {
    let mut xml = "    <Subscriptions>\n".to_owned();
    for s in subs {
        let arn = if s.confirmed {
            s.arn.as_str()
        } else {
            "PendingConfirmation"
        };
        xml.push_str(&subscription_xml(
            arn,
            &s.owner,
            &s.protocol,
            &s.endpoint,
            &s.topic_arn,
        ));
    }
    xml.push_str("    </Subscriptions>\n");
    xml
}

pub(super) fn list(app: &App, ctx: &CallContext, form: &Form) -> Result<Reply, AwsError> {
    let all = app
        .sns
        .subscriptions_in(&ctx.recipient_account, &ctx.region)
        .map_err(internal)?;
    let (items, next) = page(form, all, 100)?;
    Ok(Reply::xml(rows_xml(&items) + &next_token_xml(&next), None))
}

pub(super) fn list_by_topic(app: &App, form: &Form, plan: &mut SnsPlan) -> Result<Reply, AwsError> {
    let Some(topic) = &plan.topic else {
        return Err(invalid("TopicArn"));
    };
    let all = app.sns.subscriptions_of(&topic.arn).map_err(internal)?;
    let (items, next) = page(form, all, 100)?;
    Ok(Reply::xml(rows_xml(&items) + &next_token_xml(&next), None))
}

pub(super) fn get_attributes(plan: &mut SnsPlan) -> Result<Reply, AwsError> {
    let Some(s) = &plan.subscription else {
        return Err(invalid("SubscriptionArn"));
    };
    let mut m: BTreeMap<String, String> = s.attributes.clone();
    m.insert("SubscriptionArn".into(), s.arn.clone());
    m.insert("TopicArn".into(), s.topic_arn.clone());
    m.insert("Owner".into(), s.owner.clone());
    m.insert("Protocol".into(), s.protocol.clone());
    m.insert("Endpoint".into(), s.endpoint.clone());
    m.insert("PendingConfirmation".into(), (!s.confirmed).to_string());
    m.insert(
        "ConfirmationWasAuthenticated".into(),
        s.confirmed.to_string(),
    );
    m.entry("RawMessageDelivery".into())
        .or_insert_with(|| "false".into());
    if s.protocol.starts_with("http") {
        let topic_policy = plan
            .topic
            .as_ref()
            .and_then(|t| t.attributes.get("DeliveryPolicy"));
        let own = s.attributes.get("DeliveryPolicy").or(topic_policy);
        m.insert(
            "EffectiveDeliveryPolicy".into(),
            effective_delivery_policy(own.map(String::as_str)).to_string(),
        );
    }
    Ok(Reply::xml(map_xml("Attributes", &m), None))
}

pub(super) fn set_attributes(
    app: &App,
    form: &Form,
    plan: &mut SnsPlan,
) -> Result<Reply, AwsError> {
    let Some(mut s) = plan.subscription.clone() else {
        return Err(invalid("SubscriptionArn"));
    };
    let name = optional(form, "AttributeName")
        .ok_or_else(|| invalid("AttributeName Reason: no value for required parameter"))?;
    let value = optional(form, "AttributeValue").unwrap_or_default();
    if value.is_empty() && name == "FilterPolicy" {
        s.attributes.remove(name);
    } else {
        validate_attribute(name, value)?;
        s.attributes.insert(name.to_owned(), value.to_owned());
    }
    app.sns.put_subscription(&s).map_err(internal)?;
    Ok(Reply::xml(String::new(), None))
}
