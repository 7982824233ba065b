//! Delivering to Lambda subscriptions through an internal call, as AWS does: an asynchronous
//! `Invoke` (`InvocationType: Event`) as `sns.amazonaws.com` with the topic as
//! `aws:SourceArn`, so the function's policy decides. The function receives AWS's SNS event:
//! one record, `{"Records":[{"EventSource":"aws:sns","EventVersion":"1.0",
//! "EventSubscriptionArn","Sns":{…}}]}`, whose `Sns` spells `SigningCertUrl` and
//! `UnsubscribeUrl` as Lambda's event does (not `…URL` as HTTP and SQS bodies do).

use base64::Engine;
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::pipeline::Durability;
use crate::pipeline::internal::Internal;
use crate::sns::message::Envelope;

/// The event a Lambda subscriber gets for a signed envelope.
pub(crate) fn event(
    env: &Envelope,
    subscription_arn: &str,
    signature: &str,
    cert_url: &str,
) -> Value {
    let get = |name: &str| {
        env.fields
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| json!(v))
            .unwrap_or(Value::Null)
    };
    let mut sns = Map::new();
    for name in [
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
    ] {
        sns.insert(name.into(), get(name));
    }
    sns.insert("Signature".into(), json!(signature));
    sns.insert("SigningCertUrl".into(), json!(cert_url));
    sns.insert("UnsubscribeUrl".into(), get("UnsubscribeURL"));
    sns.insert(
        "MessageAttributes".into(),
        Value::Object(env.attributes.clone().unwrap_or_default()),
    );
    json!({"Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": Value::Object(sns),
    }]})
}

/// Invokes the function with the event, asynchronously.
pub(crate) fn invoke(
    app: &App,
    topic_arn: &str,
    function_arn: &str,
    event: &Value,
) -> Result<(), String> {
    let (region, account) = match topic_arn.split(':').collect::<Vec<_>>()[..] {
        [_, _, _, r, a, _] => (r.to_owned(), a.to_owned()),
        _ => return Err(format!("not a topic ARN: {topic_arn}")),
    };
    Internal::service(
        "sns.amazonaws.com",
        &account,
        &region,
        Some(topic_arn),
        Durability::Wait,
    )
    .call_json(
        app,
        "lambda",
        "Invoke",
        json!({
            "FunctionName": function_arn,
            "InvocationType": "Event",
            "Payload": base64::engine::general_purpose::STANDARD.encode(event.to_string()),
        }),
    )
    .map(|_| ())
    .map_err(|e| format!("{}: {}", e.code, e.message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sns::message::envelope;

    #[test]
    fn the_event_has_lambdas_spelling_and_one_record() {
        let p = json!({
            "Type": "Notification", "MessageId": "m-1", "TopicArn": "arn:aws:sns:us-east-1:111122223333:t",
            "Message": "hello", "Timestamp": "2026-01-01T00:00:00.000Z", "SignatureVersion": "1",
        });
        let env = envelope(
            &p,
            "arn:aws:sns:us-east-1:111122223333:t:sub",
            "http://127.0.0.1:1",
        );
        let e = event(
            &env,
            "arn:aws:sns:us-east-1:111122223333:t:sub",
            "c2ln",
            "http://127.0.0.1:1/cert.pem",
        );
        let r = &e["Records"][0];
        assert_eq!(r["EventSource"], "aws:sns");
        assert_eq!(
            r["EventSubscriptionArn"],
            "arn:aws:sns:us-east-1:111122223333:t:sub"
        );
        let sns = &r["Sns"];
        assert_eq!(sns["Message"], "hello");
        assert_eq!(
            sns["Subject"],
            Value::Null,
            "no subject: null, as Lambda's event has it"
        );
        assert_eq!(sns["Signature"], "c2ln");
        assert_eq!(sns["SigningCertUrl"], "http://127.0.0.1:1/cert.pem");
        assert!(
            sns["UnsubscribeUrl"]
                .as_str()
                .unwrap()
                .contains("Action=Unsubscribe")
        );
        assert_eq!(sns["MessageAttributes"], json!({}));
    }
}
