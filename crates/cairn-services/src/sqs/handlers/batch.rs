//! The rules every batch shares: 1–10 entries, each with a distinct `Id` of at most 80
//! alphanumerics, hyphens and underscores; and the answer's shape, with the entries that
//! failed listed beside those that worked (a batch as a whole succeeds).

use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::missing;

const MAX_ENTRIES: usize = 10;

/// The entries of a batch, checked; `entry` names the model's entry shape for the messages.
pub(super) fn entries<'a>(
    input: &'a Value,
    entry: &str,
) -> Result<Vec<(&'a str, &'a Value)>, AwsError> {
    let list = input
        .get("Entries")
        .and_then(Value::as_array)
        .ok_or_else(|| missing("Entries"))?;
    if list.is_empty() {
        return Err(AwsError::client(
            "AWS.SimpleQueueService.EmptyBatchRequest",
            format!("There should be at least one {entry} in the request."),
        ));
    }
    if list.len() > MAX_ENTRIES {
        return Err(AwsError::client(
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            format!(
                "Maximum number of entries per request are {MAX_ENTRIES}. You have sent {}.",
                list.len()
            ),
        ));
    }
    let mut out: Vec<(&str, &Value)> = Vec::with_capacity(list.len());
    for e in list {
        let id = e
            .get("Id")
            .and_then(Value::as_str)
            .ok_or_else(|| missing("Id"))?;
        if id.is_empty()
            || id.len() > 80
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(AwsError::client(
                "AWS.SimpleQueueService.InvalidBatchEntryId",
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
            ));
        }
        if out.iter().any(|(seen, _)| *seen == id) {
            return Err(AwsError::client(
                "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
                format!("Id {id} repeated."),
            ));
        }
        out.push((id, e));
    }
    Ok(out)
}

/// A failed entry, as `BatchResultErrorEntry`.
pub(super) fn failure(id: &str, e: &AwsError) -> Value {
    json!({
        "Id": id,
        "SenderFault": e.status < 500,
        "Code": e.code,
        "Message": e.message,
    })
}

/// A batch's answer.
pub(super) fn answer(successful: Vec<Value>, failed: Vec<Value>) -> Value {
    json!({ "Successful": successful, "Failed": failed })
}
