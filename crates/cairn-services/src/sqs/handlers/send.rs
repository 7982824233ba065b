//! SendMessage and SendMessageBatch: AWS's checks on bodies (allowed characters, size with
//! the attributes, delay) and message attributes (at most 10, names, data types, values),
//! the digests of both, and a batch's per-entry failures.

use base64::Engine;
use cairn_store::sqs::NewMessage;
use cairn_wire::AwsError;
use serde_json::{Map, Value, json};

use super::{Found, bad_value, batch, internal, invalid, missing, str_member};
use crate::app::App;
use crate::recorder::CallContext;
use crate::sqs::{attributes, md5};

const MAX_ATTRIBUTES: usize = 10;

/// A message checked and ready to store, with its answer.
struct Checked {
    message: NewMessage,
    md5_attributes: Option<String>,
    size: usize,
}

/// The XML character set SQS bodies are held to.
fn allowed(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

pub(crate) fn check_body(body: &str) -> Result<(), AwsError> {
    if body.is_empty() {
        return Err(missing("MessageBody"));
    }
    if let Some(c) = body.chars().find(|c| !allowed(*c)) {
        return Err(AwsError::client(
            "InvalidMessageContents",
            format!(
                "Invalid binary character '#x{:X}' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
                u32::from(c)
            ),
        ));
    }
    Ok(())
}

/// Checks message attributes; answers their size as SQS counts it toward the message's.
pub(crate) fn check_attributes(attrs: &Map<String, Value>) -> Result<usize, AwsError> {
    if attrs.len() > MAX_ATTRIBUTES {
        return Err(invalid(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [{MAX_ATTRIBUTES}].",
            attrs.len()
        )));
    }
    let mut size = 0;
    for (name, a) in attrs {
        let lower = name.to_ascii_lowercase();
        if name.is_empty()
            || name.len() > 256
            || name.starts_with('.')
            || name.ends_with('.')
            || name.contains("..")
            || lower.starts_with("aws.")
            || lower.starts_with("amazon.")
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        {
            return Err(invalid(format!(
                "Message (user) attribute '{name}' has an invalid name."
            )));
        }
        let data_type = a.get("DataType").and_then(Value::as_str).unwrap_or("");
        let base = data_type.split('.').next().unwrap_or("");
        if !["String", "Number", "Binary"].contains(&base) {
            return Err(invalid(format!(
                "The type of message (user) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
            )));
        }
        let value_len = if base == "Binary" {
            let b = a.get("BinaryValue").and_then(Value::as_str);
            let raw = b.and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok());
            match raw {
                Some(r) if !r.is_empty() => r.len(),
                _ => {
                    return Err(invalid(format!(
                        "The message attribute '{name}' with type 'Binary' must use field 'Binary'."
                    )));
                }
            }
        } else {
            match a.get("StringValue").and_then(Value::as_str) {
                Some(s) if !s.is_empty() => {
                    if base == "Number" && s.parse::<f64>().is_err() {
                        return Err(invalid(format!(
                            "Can't cast the value of message (user) attribute '{name}' to a number."
                        )));
                    }
                    s.len()
                }
                _ => {
                    return Err(invalid(format!(
                        "The message attribute '{name}' with type '{base}' must use field 'String'."
                    )));
                }
            }
        };
        size += name.len() + data_type.len() + value_len;
    }
    Ok(size)
}

/// Who sent a message, as `SenderId` shows it: the caller's principal id (the account for the
/// root user and for AWS services).
fn sender_of(ctx: &CallContext) -> String {
    ctx.principal
        .user_identity()
        .get("principalId")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| ctx.recipient_account.clone())
}

fn check(
    app: &App,
    ctx: &CallContext,
    found: &Found<'_>,
    input: &Value,
) -> Result<Checked, AwsError> {
    let q = found.queue()?;
    let body = str_member(input, "MessageBody").ok_or_else(|| missing("MessageBody"))?;
    check_body(body)?;
    if input.get("MessageDeduplicationId").is_some() {
        return Err(invalid(
            "The request include parameter that is not valid for this queue type",
        ));
    }
    let delay = match input.get("DelaySeconds") {
        None | Some(Value::Null) => attributes::int_of(&q.attributes, "DelaySeconds"),
        Some(v) => v
            .as_i64()
            .filter(|n| (0..=900).contains(n))
            .ok_or_else(|| bad_value("DelaySeconds", v, "DelaySeconds must be >= 0 and <= 900."))?,
    };
    let empty = Map::new();
    let attrs = match input.get("MessageAttributes") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(m)) => m,
        Some(_) => return Err(invalid("MessageAttributes must be a map.")),
    };
    let size = body.len() + check_attributes(attrs)?;
    let max = attributes::int_of(&q.attributes, "MaximumMessageSize");
    if i64::try_from(size).unwrap_or(i64::MAX) > max {
        return Err(invalid(format!(
            "One or more parameters are invalid. Reason: Message must be shorter than {max} bytes."
        )));
    }
    let now = app.clock.now_millis();
    Ok(Checked {
        message: NewMessage {
            id: cairn_model::ids::new_uuid(),
            body: body.to_owned(),
            attributes: Value::Object(attrs.clone()).to_string(),
            md5_body: md5::of_body(body),
            sender_id: sender_of(ctx),
            sent_ms: now,
            visible_ms: now + delay * 1000,
        },
        md5_attributes: md5::of_attributes(attrs),
        size,
    })
}

fn answer(c: &Checked) -> Value {
    let mut out = json!({
        "MD5OfMessageBody": c.message.md5_body,
        "MessageId": c.message.id,
    });
    if let Some(m) = &c.md5_attributes {
        out["MD5OfMessageAttributes"] = json!(m);
    }
    out
}

pub(super) fn one(
    app: &App,
    ctx: &CallContext,
    found: &Found<'_>,
    input: &Value,
) -> Result<Value, AwsError> {
    let c = check(app, ctx, found, input)?;
    app.sqs
        .send(found.key, std::slice::from_ref(&c.message))
        .map_err(internal)?;
    Ok(answer(&c))
}

pub(super) fn batch(
    app: &App,
    ctx: &CallContext,
    found: &Found<'_>,
    input: &Value,
) -> Result<Value, AwsError> {
    let q = found.queue()?;
    let entries = batch::entries(input, "SendMessageBatchRequestEntry")?;
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    let mut total = 0;
    for (id, e) in entries {
        match check(app, ctx, found, e) {
            Ok(c) => {
                total += c.size;
                ok.push((id, c));
            }
            Err(err) => failed.push(batch::failure(id, &err)),
        }
    }
    let max = attributes::int_of(&q.attributes, "MaximumMessageSize");
    if i64::try_from(total).unwrap_or(i64::MAX) > max {
        return Err(AwsError::client(
            "AWS.SimpleQueueService.BatchRequestTooLong",
            format!(
                "Batch requests cannot be longer than {max} bytes. You have sent {total} bytes."
            ),
        ));
    }
    let messages: Vec<NewMessage> = ok.iter().map(|(_, c)| c.message.clone()).collect();
    if !messages.is_empty() {
        app.sqs.send(found.key, &messages).map_err(internal)?;
    }
    let successful = ok
        .iter()
        .map(|(id, c)| {
            let mut a = answer(c);
            a["Id"] = json!(id);
            a
        })
        .collect();
    Ok(batch::answer(successful, failed))
}
