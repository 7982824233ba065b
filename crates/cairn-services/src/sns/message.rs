//! The messages SNS sends, as they wait in the outbox and as they go out: the queued
//! description (a JSON object: `Type`, `MessageId`, `TopicArn`, `Subject`, `Message`,
//! `Timestamp`, `SignatureVersion`, `MessageAttributes`, `Token`), the envelope AWS delivers
//! to HTTP(S) endpoints, queues and email-json (keys in AWS's order, pretty-printed as AWS
//! prints them), and the string its signature covers (ALERTING.md 5.4, 5.5).

use std::collections::BTreeMap;

use cairn_store::sns::Topic;
use serde_json::{Map, Value, json};

use super::wire::MessageAttribute;

/// `yyyy-MM-ddTHH:mm:ss.SSSZ`, as SNS writes timestamps.
pub(crate) fn timestamp(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&fmt).unwrap_or_default()
}

/// The topic's SignatureVersion (`1` unless set to `2`).
fn signature_version(topic: &Topic) -> &str {
    topic
        .attributes
        .get("SignatureVersion")
        .map_or("1", String::as_str)
}

/// A SubscriptionConfirmation for a new subscription holding `token`.
pub(crate) fn confirmation(topic: &Topic, token: &str, now_ms: i64) -> Value {
    json!({
        "Type": "SubscriptionConfirmation",
        "MessageId": cairn_model::ids::new_uuid(),
        "Token": token,
        "TopicArn": topic.arn,
        "Message": format!("You have chosen to subscribe to the topic {}.\nTo confirm the subscription, visit the SubscribeURL included in this message.", topic.arn),
        "Timestamp": timestamp(now_ms),
        "SignatureVersion": signature_version(topic),
    })
}

/// A Notification of a published message, for one subscription.
pub(crate) fn notification(
    topic: &Topic,
    message_id: &str,
    subject: Option<&str>,
    message: &str,
    now_ms: i64,
    attributes: &BTreeMap<String, MessageAttribute>,
) -> Value {
    let mut m = Map::new();
    m.insert("Type".into(), "Notification".into());
    m.insert("MessageId".into(), message_id.into());
    m.insert("TopicArn".into(), topic.arn.clone().into());
    if let Some(s) = subject {
        m.insert("Subject".into(), s.into());
    }
    m.insert("Message".into(), message.into());
    m.insert("Timestamp".into(), timestamp(now_ms).into());
    m.insert("SignatureVersion".into(), signature_version(topic).into());
    if !attributes.is_empty() {
        let attrs: Map<String, Value> = attributes
            .iter()
            .map(|(k, a)| {
                let kind = if a.binary {
                    "Binary"
                } else {
                    a.data_type.as_str()
                };
                (k.clone(), json!({"Type": kind, "Value": a.value}))
            })
            .collect();
        m.insert("MessageAttributes".into(), Value::Object(attrs));
    }
    Value::Object(m)
}

/// A queued message's string member.
pub(crate) fn field<'a>(p: &'a Value, name: &str) -> Option<&'a str> {
    p.get(name).and_then(Value::as_str)
}

/// The fields of the envelope, in the order AWS writes them, without the signature.
pub(crate) struct Envelope {
    pub fields: Vec<(&'static str, String)>,
    pub attributes: Option<Map<String, Value>>,
}

/// Builds the envelope of a queued message for one subscription: its links point at
/// `base_url` (cairn's own endpoint).
pub(crate) fn envelope(p: &Value, subscription_arn: &str, base_url: &str) -> Envelope {
    let s = |n: &str| field(p, n).unwrap_or_default().to_owned();
    let kind = s("Type");
    let mut fields: Vec<(&'static str, String)> = Vec::new();
    if kind == "Notification" {
        fields.push(("Type", kind));
        fields.push(("MessageId", s("MessageId")));
        fields.push(("TopicArn", s("TopicArn")));
        if let Some(subject) = field(p, "Subject") {
            fields.push(("Subject", subject.to_owned()));
        }
        fields.push(("Message", s("Message")));
        fields.push(("Timestamp", s("Timestamp")));
        fields.push(("SignatureVersion", s("SignatureVersion")));
        fields.push((
            "UnsubscribeURL",
            format!("{base_url}/?Action=Unsubscribe&SubscriptionArn={subscription_arn}"),
        ));
    } else {
        fields.push(("Type", kind));
        fields.push(("MessageId", s("MessageId")));
        fields.push(("Token", s("Token")));
        fields.push(("TopicArn", s("TopicArn")));
        fields.push(("Message", s("Message")));
        fields.push((
            "SubscribeURL",
            format!(
                "{base_url}/?Action=ConfirmSubscription&TopicArn={}&Token={}",
                s("TopicArn"),
                s("Token")
            ),
        ));
        fields.push(("Timestamp", s("Timestamp")));
        fields.push(("SignatureVersion", s("SignatureVersion")));
    }
    Envelope {
        fields,
        attributes: p
            .get("MessageAttributes")
            .and_then(Value::as_object)
            .cloned(),
    }
}

/// The fields a signature covers, in this order, when present (AWS's documented list).
const NOTIFICATION_SIGNED: [&str; 6] = [
    "Message",
    "MessageId",
    "Subject",
    "Timestamp",
    "TopicArn",
    "Type",
];
const CONFIRMATION_SIGNED: [&str; 7] = [
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
];

impl Envelope {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn kind(&self) -> &str {
        self.get("Type").unwrap_or_default()
    }

    /// `name\nvalue\n` for each signed field present.
    pub(crate) fn string_to_sign(&self) -> String {
        let names: &[&str] = if self.kind() == "Notification" {
            &NOTIFICATION_SIGNED
        } else {
            &CONFIRMATION_SIGNED
        };
        let mut out = String::new();
        for n in names {
            if let Some(v) = self.get(n) {
                out.push_str(n);
                out.push('\n');
                out.push_str(v);
                out.push('\n');
            }
        }
        out
    }

    /// The JSON body, as AWS prints it (two-space indent, `" : "`), with the signature and
    /// the certificate's URL in their places.
    pub(crate) fn to_json(&self, signature: &str, cert_url: &str) -> String {
        let q = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
        let mut lines: Vec<String> = Vec::new();
        for (k, v) in &self.fields {
            // UnsubscribeURL goes after the signature fields.
            if *k != "UnsubscribeURL" {
                lines.push(format!("  {} : {}", q(k), q(v)));
            }
            if *k == "SignatureVersion" {
                lines.push(format!("  \"Signature\" : {}", q(signature)));
                lines.push(format!("  \"SigningCertURL\" : {}", q(cert_url)));
                if let Some(u) = self.get("UnsubscribeURL") {
                    lines.push(format!("  \"UnsubscribeURL\" : {}", q(u)));
                }
            }
        }
        if let Some(attrs) = &self.attributes {
            let inner: Vec<String> = attrs
                .iter()
                .map(|(k, v)| format!("    {} : {}", q(k), v))
                .collect();
            lines.push(format!(
                "  \"MessageAttributes\" : {{\n{}\n  }}",
                inner.join(",\n")
            ));
        }
        format!("{{\n{}\n}}", lines.join(",\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic() -> Topic {
        Topic {
            arn: "arn:aws:sns:us-east-1:111122223333:t".into(),
            account: "111122223333".into(),
            region: "us-east-1".into(),
            name: "t".into(),
            created_ms: 0,
            attributes: BTreeMap::new(),
            tags: BTreeMap::new(),
            subscriptions_deleted: 0,
        }
    }

    #[test]
    fn timestamps_have_milliseconds() {
        assert_eq!(timestamp(1_702_686_071_830), "2023-12-16T00:21:11.830Z");
    }

    #[test]
    fn notification_keys_are_in_aws_order_and_signed_in_its_order() {
        let attrs = BTreeMap::from([(
            "k".to_owned(),
            MessageAttribute {
                data_type: "String".into(),
                value: "v".into(),
                binary: false,
            },
        )]);
        let p = notification(&topic(), "id-1", Some("S"), "hi", 0, &attrs);
        let e = envelope(
            &p,
            "arn:aws:sns:us-east-1:111122223333:t:sub",
            "http://127.0.0.1:1",
        );
        let body = e.to_json("SIG", "http://127.0.0.1:1/cert.pem");
        let keys: Vec<&str> = body
            .lines()
            .filter_map(|l| l.strip_prefix("  \""))
            .map(|l| l.split('"').next().unwrap_or_default())
            .collect();
        assert_eq!(
            keys,
            [
                "Type",
                "MessageId",
                "TopicArn",
                "Subject",
                "Message",
                "Timestamp",
                "SignatureVersion",
                "Signature",
                "SigningCertURL",
                "UnsubscribeURL",
                "MessageAttributes"
            ]
        );
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            parsed["MessageAttributes"]["k"],
            json!({"Type": "String", "Value": "v"})
        );
        assert_eq!(
            e.string_to_sign(),
            "Message\nhi\nMessageId\nid-1\nSubject\nS\nTimestamp\n1970-01-01T00:00:00.000Z\nTopicArn\narn:aws:sns:us-east-1:111122223333:t\nType\nNotification\n"
        );
    }

    #[test]
    fn notifications_without_subject_sign_without_it() {
        let p = notification(&topic(), "id-1", None, "hi", 0, &BTreeMap::new());
        let e = envelope(&p, "s", "http://x");
        assert!(!e.string_to_sign().contains("Subject"));
        assert!(!e.to_json("S", "c").contains("MessageAttributes"));
    }

    #[test]
    fn confirmations_carry_and_sign_the_subscribe_url() {
        let p = confirmation(&topic(), "tok", 0);
        let e = envelope(&p, "s", "http://127.0.0.1:9");
        let body: Value = serde_json::from_str(&e.to_json("S", "c")).unwrap();
        let url = "http://127.0.0.1:9/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:111122223333:t&Token=tok";
        assert_eq!(body["SubscribeURL"], url);
        assert_eq!(body["Type"], "SubscriptionConfirmation");
        let signed = e.string_to_sign();
        assert!(signed.starts_with("Message\nYou have chosen to subscribe to the topic arn:aws:sns:us-east-1:111122223333:t.\nTo confirm"));
        assert!(signed.contains(&format!("SubscribeURL\n{url}\nTimestamp\n")));
        assert!(signed.ends_with("Token\ntok\nTopicArn\narn:aws:sns:us-east-1:111122223333:t\nType\nSubscriptionConfirmation\n"));
    }
}
