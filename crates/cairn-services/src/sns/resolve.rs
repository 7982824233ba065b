//! What an SNS call acts on: the topic it names (by `TopicArn`, `ResourceArn`, or through a
//! `SubscriptionArn`), which must exist for every operation but CreateTopic and the account
//! listings, and the check it needs: `sns:<Op>` on the topic's ARN, judged with the caller's
//! identity policies and the topic's policy (AWS's default policy when none was set), so that
//! services such as cloudtrail.amazonaws.com publish only when the topic policy lets them.

use cairn_policy::ResourceRule;
use cairn_store::sns::{Subscription, Topic};
use cairn_wire::AwsError;

use super::handlers::{internal, invalid, not_found, policy_of};
use crate::app::App;
use crate::pipeline::codec::form::{Form, optional};
use crate::pipeline::{Check, PolicyOf};
use crate::recorder::CallContext;

/// What an SNS call acts on, found before it is authorized.
#[derive(Default)]
pub struct SnsPlan {
    /// The topic the call names, as stored.
    pub topic: Option<Topic>,
    /// The subscription the call names, as stored.
    pub subscription: Option<Subscription>,
    /// For CreateTopic: the ARN of the topic to create.
    pub new_arn: Option<String>,
}

/// Operations that name no topic: judged on the account's topics.
const ACCOUNT_WIDE: [&str; 2] = ["ListTopics", "ListSubscriptions"];

/// Operations that name a subscription.
const BY_SUBSCRIPTION: [&str; 3] = [
    "Unsubscribe",
    "GetSubscriptionAttributes",
    "SetSubscriptionAttributes",
];

/// `arn:aws:sns:<region>:<account>:<name>` → (region, account, name).
pub(super) fn split_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:aws:sns:")?;
    let mut parts = rest.splitn(3, ':');
    let region = parts.next()?;
    let account = parts.next()?;
    let name = parts.next()?;
    (!region.is_empty() && !account.is_empty() && !name.is_empty())
        .then_some((region, account, name))
}

fn required_arn<'a>(form: &'a Form, member: &str) -> Result<&'a str, AwsError> {
    optional(form, member)
        .ok_or_else(|| invalid(format!("{member} Reason: no value for required parameter")))
}

/// The stored topic an ARN names.
fn topic_of(app: &App, arn: &str, what: &str) -> Result<Topic, AwsError> {
    if split_arn(arn).is_none_or(|(_, _, name)| name.contains(':')) {
        return Err(invalid(format!("{what}: {arn}")));
    }
    app.sns
        .topic(arn)
        .map_err(internal)?
        .ok_or_else(|| not_found("Topic does not exist"))
}

/// `sns:<Op>` on the topic, with its policy.
fn topic_check(ctx: &CallContext, op: &str, topic: &Topic) -> Check {
    let action = format!("SNS:{op}");
    let denied = AwsError::new(
        403,
        "AuthorizationError",
        format!(
            "User: {} is not authorized to perform: {action} on resource: {}",
            ctx.principal.arn(),
            topic.arn
        ),
    );
    Check::new(format!("sns:{op}"), topic.arn.clone())
        .with_policy(PolicyOf {
            document: Some(policy_of(topic)),
            account: topic.account.clone(),
            rule: ResourceRule::Standard,
        })
        .denied_as(denied)
}

pub(super) fn resolve(
    app: &App,
    ctx: &CallContext,
    op: &str,
    form: &Form,
    plan: &mut SnsPlan,
) -> Result<Vec<Check>, AwsError> {
    let account_wide = format!("arn:aws:sns:{}:{}:*", ctx.region, ctx.recipient_account);
    if !super::operations::SERVED.contains(&op) {
        // Operations cairn does not have need no permission to be told so.
        return Ok(Vec::new());
    }
    if ACCOUNT_WIDE.contains(&op) {
        return Ok(vec![Check::new(format!("sns:{op}"), account_wide)]);
    }
    if op == "CreateTopic" {
        let name = optional(form, "Name")
            .ok_or_else(|| invalid("Name Reason: no value for required parameter"))?;
        let arn = format!(
            "arn:aws:sns:{}:{}:{name}",
            ctx.region, ctx.recipient_account
        );
        plan.new_arn = Some(arn.clone());
        return Ok(vec![Check::new("sns:CreateTopic", arn)]);
    }
    if BY_SUBSCRIPTION.contains(&op) {
        let arn = required_arn(form, "SubscriptionArn")?;
        let sub = app
            .sns
            .subscription(arn)
            .map_err(internal)?
            .ok_or_else(|| not_found("Subscription does not exist"))?;
        let topic = topic_of(app, &sub.topic_arn, "TopicArn")?;
        let check = topic_check(ctx, op, &topic);
        plan.subscription = Some(sub);
        plan.topic = Some(topic);
        return Ok(vec![check]);
    }
    let member = match op {
        "TagResource" | "UntagResource" | "ListTagsForResource" => "ResourceArn",
        _ => "TopicArn",
    };
    let arn = required_arn(form, member)?;
    let topic = match topic_of(app, arn, member) {
        Err(e) if member == "ResourceArn" && e.code == "NotFound" => {
            return Err(AwsError::new(
                404,
                "ResourceNotFound",
                "Resource does not exist",
            ));
        }
        other => other?,
    };
    // Whoever holds the token may confirm (AWS's SubscribeURL is unsigned).
    let checks = if op == "ConfirmSubscription" {
        Vec::new()
    } else {
        vec![topic_check(ctx, op, &topic)]
    };
    plan.topic = Some(topic);
    Ok(checks)
}
