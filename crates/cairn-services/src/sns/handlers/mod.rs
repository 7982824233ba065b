//! Running SNS operations: `topics` (create, delete, list, attributes, permissions),
//! `subscriptions` (subscribe, confirm, unsubscribe, lists, attributes), `publish` (Publish,
//! PublishBatch and the fan-out into the outbox), `tags`; and here the dispatch, the errors
//! they share and the topic policy AWS gives a topic that has none.

mod publish;
mod subscriptions;
mod tags;
mod topics;

use cairn_store::StoreError;
use cairn_store::sns::Topic;
use cairn_wire::AwsError;

pub(super) use subscriptions::confirm;

use super::resolve::SnsPlan;
use crate::app::App;
use crate::pipeline::codec::form::Form;
use crate::pipeline::codec::query::Reply;
use crate::recorder::CallContext;

/// `InvalidParameter` (400), worded as AWS words it: `Invalid parameter: …`.
pub(crate) fn invalid(detail: impl std::fmt::Display) -> AwsError {
    AwsError::client("InvalidParameter", format!("Invalid parameter: {detail}"))
}

/// `NotFound` (404).
pub(crate) fn not_found(message: &str) -> AwsError {
    AwsError::new(404, "NotFound", message)
}

/// The store failed: the call cannot be served.
pub(crate) fn internal(e: StoreError) -> AwsError {
    tracing::error!(error = %e, "SNS store unavailable");
    AwsError::new(500, "InternalError", "Internal Error")
}

/// The topic's policy: the one set on it, else AWS's default (the owner account may do
/// everything but change subscriptions' ownership).
pub(crate) fn policy_of(topic: &Topic) -> String {
    topic
        .attributes
        .get("Policy")
        .cloned()
        .unwrap_or_else(|| default_policy(&topic.arn, &topic.account))
}

pub(crate) fn default_policy(arn: &str, account: &str) -> String {
    serde_json::json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                       "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                       "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
            "Resource": arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
        }],
    })
    .to_string()
}

pub(super) fn run(
    app: &App,
    ctx: &CallContext,
    op: &str,
    form: &Form,
    plan: &mut SnsPlan,
) -> Result<Reply, AwsError> {
    match op {
        "CreateTopic" => topics::create(app, ctx, form, plan),
        "DeleteTopic" => topics::delete(app, plan),
        "ListTopics" => topics::list(app, ctx, form),
        "GetTopicAttributes" => topics::get_attributes(app, plan),
        "SetTopicAttributes" => topics::set_attributes(app, form, plan),
        "AddPermission" => topics::add_permission(app, form, plan),
        "RemovePermission" => topics::remove_permission(app, form, plan),
        "Subscribe" => subscriptions::subscribe(app, ctx, form, plan),
        "ConfirmSubscription" => subscriptions::confirm_call(app, form, plan),
        "Unsubscribe" => subscriptions::unsubscribe(app, plan),
        "ListSubscriptions" => subscriptions::list(app, ctx, form),
        "ListSubscriptionsByTopic" => subscriptions::list_by_topic(app, form, plan),
        "GetSubscriptionAttributes" => subscriptions::get_attributes(plan),
        "SetSubscriptionAttributes" => subscriptions::set_attributes(app, form, plan),
        "Publish" => publish::publish(app, ctx, form, plan),
        "PublishBatch" => publish::publish_batch(app, ctx, form, plan),
        "TagResource" => tags::tag(app, form, plan),
        "UntagResource" => tags::untag(app, form, plan),
        "ListTagsForResource" => tags::list(plan),
        _ => Err(AwsError::client(
            "InvalidAction",
            format!("cairn does not support the SNS operation {op} yet."),
        )),
    }
}

/// The opaque paging token of the SNS listings: the position of the next item.
pub(super) fn page<T>(
    form: &Form,
    all: Vec<T>,
    per_page: usize,
) -> Result<(Vec<T>, Option<String>), AwsError> {
    let start = match form.get("NextToken") {
        None => 0,
        Some(t) => t
            .strip_prefix("cairn-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= all.len())
            .ok_or_else(|| invalid("NextToken"))?,
    };
    let end = (start + per_page).min(all.len());
    let next = (end < all.len()).then(|| format!("cairn-{end}"));
    Ok((
        all.into_iter().skip(start).take(end - start).collect(),
        next,
    ))
}

/// `<NextToken>…</NextToken>` when there is one.
pub(super) fn next_token_xml(next: &Option<String>) -> String {
    next.as_ref()
        .map(|t| {
            format!(
                "    <NextToken>{}</NextToken>\n",
                cairn_wire::xml::escape(t)
            )
        })
        .unwrap_or_default()
}
