//! Receipt handles and what they do: DeleteMessage(Batch) and ChangeMessageVisibility(Batch).
//!
//! A handle is opaque to clients: base64 of the queue's ARN, the message id and a fresh nonce
//! (each receive hands out a new one). One that does not decode so is `ReceiptHandleIsInvalid`;
//! one that decodes but names no message deletes nothing and succeeds, as AWS's does for a
//! message already deleted.

use base64::Engine;
use cairn_store::sqs::VisibilityChange;
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::{Found, bad_value, batch, internal, missing, str_member};
use crate::app::App;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

pub(super) fn receipt_handle(queue_arn: &str, message_id: &str) -> String {
    B64.encode(format!(
        "{queue_arn} {message_id} {}",
        cairn_model::ids::new_uuid()
    ))
}

fn check_handle(handle: &str) -> Result<(), AwsError> {
    let ok = B64
        .decode(handle)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .is_some_and(|s| s.split(' ').count() == 3 && s.starts_with("arn:aws:sqs:"));
    if ok {
        Ok(())
    } else {
        Err(AwsError::client(
            "ReceiptHandleIsInvalid",
            format!("The input receipt handle \"{handle}\" is not a valid receipt handle."),
        ))
    }
}

fn handle_of(input: &Value) -> Result<&str, AwsError> {
    let h = str_member(input, "ReceiptHandle").ok_or_else(|| missing("ReceiptHandle"))?;
    check_handle(h)?;
    Ok(h)
}

fn delete_one(app: &App, found: &Found<'_>, input: &Value) -> Result<(), AwsError> {
    let h = handle_of(input)?;
    app.sqs.delete_message(found.key, h).map_err(internal)?;
    Ok(())
}

pub(super) fn delete(app: &App, found: &Found<'_>, input: &Value) -> Result<Value, AwsError> {
    found.queue()?;
    delete_one(app, found, input)?;
    Ok(json!({}))
}

pub(super) fn delete_batch(app: &App, found: &Found<'_>, input: &Value) -> Result<Value, AwsError> {
    found.queue()?;
    let entries = batch::entries(input, "DeleteMessageBatchRequestEntry")?;
    let (mut ok, mut failed) = (Vec::new(), Vec::new());
    for (id, e) in entries {
        match delete_one(app, found, e) {
            Ok(()) => ok.push(json!({ "Id": id })),
            Err(err) => failed.push(batch::failure(id, &err)),
        }
    }
    Ok(batch::answer(ok, failed))
}

fn change_one(app: &App, found: &Found<'_>, input: &Value) -> Result<(), AwsError> {
    let h = handle_of(input)?;
    let v = input
        .get("VisibilityTimeout")
        .ok_or_else(|| missing("VisibilityTimeout"))?;
    let secs = v
        .as_i64()
        .filter(|n| (0..=43_200).contains(n))
        .ok_or_else(|| {
            bad_value(
                "VisibilityTimeout",
                v,
                "VisibilityTimeout must be an integer between 0 and 43200",
            )
        })?;
    let now = app.clock.now_millis();
    match app
        .sqs
        .change_visibility(found.key, h, now, now + secs * 1000)
        .map_err(internal)?
    {
        VisibilityChange::Changed => Ok(()),
        VisibilityChange::NotInFlight => Err(AwsError::client(
            "AWS.SimpleQueueService.MessageNotInflight",
            "Message is not in flight.",
        )),
        VisibilityChange::NoSuchReceipt => Err(bad_value(
            "ReceiptHandle",
            h,
            "Message does not exist or is not available for visibility timeout change.",
        )),
    }
}

pub(super) fn change_visibility(
    app: &App,
    found: &Found<'_>,
    input: &Value,
) -> Result<Value, AwsError> {
    found.queue()?;
    change_one(app, found, input)?;
    Ok(json!({}))
}

pub(super) fn change_visibility_batch(
    app: &App,
    found: &Found<'_>,
    input: &Value,
) -> Result<Value, AwsError> {
    found.queue()?;
    let entries = batch::entries(input, "ChangeMessageVisibilityBatchRequestEntry")?;
    let (mut ok, mut failed) = (Vec::new(), Vec::new());
    for (id, e) in entries {
        match change_one(app, found, e) {
            Ok(()) => ok.push(json!({ "Id": id })),
            Err(err) => failed.push(batch::failure(id, &err)),
        }
    }
    Ok(batch::answer(ok, failed))
}
