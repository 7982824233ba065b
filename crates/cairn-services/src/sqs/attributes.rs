//! Queue attributes: the settable ones with AWS's defaults and ranges, the redrive policy
//! (a dead-letter queue that must exist, 1–1000 receives), and the names GetQueueAttributes
//! knows, computed ones included.

use std::collections::BTreeMap;

use cairn_store::sqs::QueueKey;
use cairn_wire::AwsError;
use serde_json::Value;

/// Settable attributes with an integer range and AWS's default.
const RANGES: [(&str, i64, i64, i64); 5] = [
    ("DelaySeconds", 0, 900, 0),
    ("MaximumMessageSize", 1024, 1_048_576, 1_048_576),
    ("MessageRetentionPeriod", 60, 1_209_600, 345_600),
    ("ReceiveMessageWaitTimeSeconds", 0, 20, 0),
    ("VisibilityTimeout", 0, 43_200, 30),
];

/// Settable attributes kept as given (encryption is accepted and not applied).
const FREE: [&str; 6] = [
    "Policy",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
];

/// Attributes GetQueueAttributes computes.
pub(super) const COMPUTED: [&str; 6] = [
    "QueueArn",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
];

/// FIFO attributes: cairn has no FIFO queues.
const FIFO: [&str; 4] = [
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
];

pub(super) fn unsupported_fifo() -> AwsError {
    AwsError::client(
        "AWS.SimpleQueueService.UnsupportedOperation",
        "cairn does not support FIFO queues yet.",
    )
}

fn invalid_value(name: &str) -> AwsError {
    AwsError::client(
        "InvalidAttributeValue",
        format!("Invalid value for the parameter {name}."),
    )
}

pub(super) fn unknown(name: &str) -> AwsError {
    AwsError::client("InvalidAttributeName", format!("Unknown Attribute {name}."))
}

/// The defaults a new queue starts with.
pub(super) fn defaults() -> BTreeMap<String, String> {
    let mut m: BTreeMap<String, String> = RANGES
        .iter()
        .map(|(n, _, _, d)| ((*n).to_owned(), d.to_string()))
        .collect();
    m.insert("SqsManagedSseEnabled".into(), "true".into());
    m
}

/// An integer attribute of a queue (its default when unset).
pub(super) fn int_of(attrs: &BTreeMap<String, String>, name: &str) -> i64 {
    attrs
        .get(name)
        .and_then(|v| v.parse().ok())
        .or_else(|| RANGES.iter().find(|r| r.0 == name).map(|r| r.3))
        .unwrap_or(0)
}

/// A redrive policy: the dead-letter queue and how many receives send a message there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Redrive {
    pub target: QueueKey,
    pub max_receives: i64,
}

/// The queue an SQS ARN names.
pub(super) fn queue_of_arn(arn: &str) -> Option<QueueKey> {
    let rest = arn.strip_prefix("arn:aws:sqs:")?;
    let mut parts = rest.splitn(3, ':');
    let (region, account, name) = (parts.next()?, parts.next()?, parts.next()?);
    (!region.is_empty() && !account.is_empty() && !name.is_empty())
        .then(|| QueueKey::new(account, region, name))
}

/// Reads a `RedrivePolicy` value (`maxReceiveCount` as a number or a string, as AWS takes it).
pub(super) fn redrive_of(text: &str) -> Result<Redrive, AwsError> {
    let bad = |reason: &str| {
        AwsError::client(
            "InvalidParameterValue",
            format!("Value {text} for parameter RedrivePolicy is invalid. Reason: {reason}"),
        )
    };
    let v: Value = serde_json::from_str(text).map_err(|_| bad("Invalid JSON."))?;
    let target = v
        .get("deadLetterTargetArn")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            bad("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.")
        })?;
    let max = match v.get("maxReceiveCount") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => {
            return Err(bad(
                "Redrive policy does not contain mandatory attribute: maxReceiveCount.",
            ));
        }
    };
    let max_receives = max.filter(|n| (1..=1000).contains(n)).ok_or_else(|| {
        bad("Invalid value for maxReceiveCount: must be an integer from 1 to 1000.")
    })?;
    let target = queue_of_arn(target).ok_or_else(|| bad("Dead letter target does not exist."))?;
    Ok(Redrive {
        target,
        max_receives,
    })
}

/// Checks attributes given to CreateQueue or SetQueueAttributes and answers them as stored
/// (an empty `RedrivePolicy` or `Policy` removes it). `exists` says whether a queue is there,
/// for the dead-letter target.
pub(super) fn validate(
    given: &serde_json::Map<String, Value>,
    exists: &dyn Fn(&QueueKey) -> Result<bool, AwsError>,
) -> Result<BTreeMap<String, Option<String>>, AwsError> {
    let mut out = BTreeMap::new();
    for (name, v) in given {
        let value = v.as_str().ok_or_else(|| invalid_value(name))?;
        if FIFO.contains(&name.as_str()) {
            if name == "FifoQueue" && value == "false" {
                continue;
            }
            return Err(unsupported_fifo());
        }
        if let Some((_, lo, hi, _)) = RANGES.iter().find(|r| r.0 == name) {
            match value.parse::<i64>() {
                Ok(n) if (*lo..=*hi).contains(&n) => {
                    out.insert(name.clone(), Some(n.to_string()));
                }
                _ => return Err(invalid_value(name)),
            }
            continue;
        }
        if !FREE.contains(&name.as_str()) {
            return Err(unknown(name));
        }
        if value.is_empty()
            && matches!(
                name.as_str(),
                "Policy" | "RedrivePolicy" | "RedriveAllowPolicy"
            )
        {
            out.insert(name.clone(), None);
            continue;
        }
        match name.as_str() {
            "Policy" | "RedriveAllowPolicy"
                if !serde_json::from_str::<Value>(value).is_ok_and(|v| v.is_object()) =>
            {
                return Err(invalid_value(name));
            }
            "RedrivePolicy" => {
                let r = redrive_of(value)?;
                if !exists(&r.target)? {
                    return Err(AwsError::client(
                        "InvalidParameterValue",
                        format!(
                            "Value {value} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist."
                        ),
                    ));
                }
            }
            "SqsManagedSseEnabled" if value != "true" && value != "false" => {
                return Err(invalid_value(name));
            }
            _ => {}
        }
        out.insert(name.clone(), Some(value.to_owned()));
    }
    Ok(out)
}

/// Applies validated changes to a queue's attributes.
pub(super) fn apply(
    attrs: &mut BTreeMap<String, String>,
    changes: BTreeMap<String, Option<String>>,
) {
    for (k, v) in changes {
        match v {
            Some(v) => {
                attrs.insert(k, v);
            }
            None => {
                attrs.remove(&k);
            }
        }
    }
}

/// Whether a name may be asked of GetQueueAttributes.
pub(super) fn is_known(name: &str) -> bool {
    name == "All"
        || RANGES.iter().any(|r| r.0 == name)
        || FREE.contains(&name)
        || COMPUTED.contains(&name)
        || FIFO.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn given(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn ranges_are_aws_s() {
        let none = |_: &QueueKey| Ok(true);
        assert!(validate(&given(json!({"VisibilityTimeout": "43200"})), &none).is_ok());
        let e = validate(&given(json!({"VisibilityTimeout": "43201"})), &none).unwrap_err();
        assert_eq!(e.code, "InvalidAttributeValue");
        assert_eq!(
            e.message,
            "Invalid value for the parameter VisibilityTimeout."
        );
        let e = validate(&given(json!({"DelaySeconds": "x"})), &none).unwrap_err();
        assert_eq!(e.code, "InvalidAttributeValue");
        let e = validate(&given(json!({"Colour": "red"})), &none).unwrap_err();
        assert_eq!(
            (e.code.as_ref(), e.message.as_str()),
            ("InvalidAttributeName", "Unknown Attribute Colour.")
        );
        let e = validate(&given(json!({"FifoQueue": "true"})), &none).unwrap_err();
        assert_eq!(e.code, "AWS.SimpleQueueService.UnsupportedOperation");
    }

    #[test]
    fn redrive_policies_name_an_existing_queue_and_a_count() {
        let r = redrive_of(r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:111122223333:dlq","maxReceiveCount":"3"}"#).unwrap();
        assert_eq!(r.max_receives, 3);
        assert_eq!(r.target, QueueKey::new("111122223333", "us-east-1", "dlq"));
        assert!(redrive_of(r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:111122223333:dlq","maxReceiveCount":0}"#).is_err());
        assert!(redrive_of(r#"{"maxReceiveCount":2}"#).is_err());
        let missing = |_: &QueueKey| Ok(false);
        let e = validate(
            &given(json!({"RedrivePolicy": r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:111122223333:dlq","maxReceiveCount":2}"#})),
            &missing,
        )
        .unwrap_err();
        assert!(
            e.message.ends_with("Dead letter target does not exist."),
            "{}",
            e.message
        );
    }

    #[test]
    fn an_empty_policy_removes_it() {
        let mut attrs = defaults();
        attrs.insert("Policy".into(), "{}".into());
        let changes = validate(&given(json!({"Policy": ""})), &|_| Ok(true)).unwrap();
        apply(&mut attrs, changes);
        assert!(!attrs.contains_key("Policy"));
        assert_eq!(int_of(&attrs, "VisibilityTimeout"), 30);
    }
}
