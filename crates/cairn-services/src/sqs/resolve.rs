//! What an SQS call acts on: the queue its `QueueUrl` (or, for CreateQueue and GetQueueUrl,
//! `QueueName`) names, which must exist for every operation but CreateQueue, and the check it
//! needs: the operation's action on the queue's ARN, judged with the caller's identity
//! policies and the queue's policy (a resource policy under the standard rule, so that a
//! policy naming `sns.amazonaws.com` or another account lets them send). A URL may name a
//! queue of another account: its policy then decides with the caller's own.

use cairn_policy::ResourceRule;
use cairn_store::sqs::{Queue, QueueKey};
use cairn_wire::AwsError;
use serde_json::Value;

use super::handlers::{check_queue_name, internal, invalid, no_such_queue, required, str_member};
use super::operations::{SERVED, action};
use super::wire::queue_of_url;
use crate::app::App;
use crate::pipeline::{Check, PolicyOf};
use crate::recorder::CallContext;

/// What an SQS call acts on, found before it is authorized.
#[derive(Default)]
pub struct SqsPlan {
    /// The queue the call names (for CreateQueue, the one to create).
    pub key: Option<QueueKey>,
    /// The queue as stored, when it exists.
    pub queue: Option<Queue>,
}

/// The queue a call's `QueueUrl` names.
fn key_of_url(ctx: &CallContext, input: &Value) -> Result<QueueKey, AwsError> {
    let url = required(input, "QueueUrl")?;
    queue_of_url(&ctx.region, url).ok_or_else(|| {
        AwsError::client(
            "InvalidAddress",
            format!("The address {url} is not valid for this endpoint."),
        )
    })
}

pub(super) fn resolve(
    app: &App,
    ctx: &CallContext,
    op: &str,
    input: &Value,
    plan: &mut SqsPlan,
) -> Result<Vec<Check>, AwsError> {
    if !SERVED.contains(&op) {
        // Operations cairn does not have need no permission to be told so.
        return Ok(Vec::new());
    }
    let action = action(op);
    let key = match op {
        "ListQueues" => {
            let all = format!("arn:aws:sqs:{}:{}:", ctx.region, ctx.recipient_account);
            return Ok(vec![Check::new(action, all)]);
        }
        "CreateQueue" => {
            let name = required(input, "QueueName")?;
            check_queue_name(name)?;
            let key = QueueKey::new(&ctx.recipient_account, &ctx.region, name);
            let check = Check::new(action, key.arn());
            plan.queue = app.sqs.queue(&key).map_err(internal)?;
            plan.key = Some(key);
            return Ok(vec![check]);
        }
        "GetQueueUrl" => {
            let name = required(input, "QueueName")?;
            let owner =
                str_member(input, "QueueOwnerAWSAccountId").unwrap_or(&ctx.recipient_account);
            if owner.len() != 12 || !owner.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(format!(
                    "Value {owner} for parameter QueueOwnerAWSAccountId is invalid. Reason: Must be a 12-digit account id."
                )));
            }
            QueueKey::new(owner, &ctx.region, name)
        }
        _ => key_of_url(ctx, input)?,
    };
    let queue = app
        .sqs
        .queue(&key)
        .map_err(internal)?
        .ok_or_else(no_such_queue)?;
    let check = Check::new(action, key.arn()).with_policy(PolicyOf {
        document: queue.attributes.get("Policy").cloned(),
        account: key.account.clone(),
        rule: ResourceRule::Standard,
    });
    plan.queue = Some(queue);
    plan.key = Some(key);
    Ok(vec![check])
}
