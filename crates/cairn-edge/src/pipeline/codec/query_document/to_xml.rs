//! The JSON document model → the XML inside a query answer's `<{Op}Result>`. A structure's
//! members go out in the order its shape lists them (the model's), undescribed ones after
//! in the document's order; lists as `<member>`, maps as `<entry><key/><value/></entry>`;
//! timestamps as ISO 8601 with milliseconds (`2023-11-14T22:13:20.000Z`, as AWS writes
//! them), doubles with a fraction (`1.0`). Null members are left out, as AWS leaves out
//! members that have no value. Members go out under their query names, and flattened lists
//! and maps as their items repeated under the member's name (`<Message>…</Message><Message>`,
//! `<Attribute><Name>k</Name><Value>v</Value></Attribute>`), where the shapes say.

use std::fmt::Write;

use cairn_wire::xml::escape;
use serde_json::{Map, Value};

use crate::pipeline::codec::shape::{Shape, epoch_seconds};

/// The members of an operation's output as XML elements, indented to sit in `<{Op}Result>`.
pub fn xml_of_document(doc: &Value, shape: &Shape) -> String {
    let mut out = String::new();
    if let Value::Object(members) = doc {
        structure(&mut out, members, shape, 2);
    }
    out
}

/// Epoch seconds as `2023-11-14T22:13:20.500Z` (`None`: not a time).
pub fn iso8601_millis(v: &Value) -> Option<String> {
    let secs = epoch_seconds(v)?.as_f64()?;
    let millis = (secs * 1000.0).round() as i128;
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000).ok()?;
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    ))
}

fn structure(out: &mut String, members: &Map<String, Value>, shape: &Shape, depth: usize) {
    let declared: &[(&str, &Shape)] = match shape.bare() {
        Shape::Structure(m) => m,
        _ => &[],
    };
    for (name, member) in declared {
        if let Some(v) = members.get(*name) {
            element(out, member.query_name(name), v, member.bare(), depth);
        }
    }
    for (name, v) in members {
        if !declared.iter().any(|(n, _)| n == name) {
            element(out, name, v, &Shape::Plain, depth);
        }
    }
}

fn element(out: &mut String, name: &str, v: &Value, shape: &Shape, depth: usize) {
    let pad = "  ".repeat(depth);
    let shape = shape.bare();
    match (v, shape) {
        (Value::Null, _) => {}
        // Flattened: each item is an element of the member's own name (none for no items).
        (Value::Array(items), Shape::FlatList(item)) => {
            for i in items {
                element(out, name, i, item.bare(), depth);
            }
        }
        (Value::Object(entries), Shape::FlatMap { key, value, of }) => {
            for (k, item) in entries {
                let _ = writeln!(out, "{pad}<{name}>");
                let k = Value::String(k.clone());
                element(out, key, &k, &Shape::Plain, depth + 1);
                element(out, value, item, of.bare(), depth + 1);
                let _ = writeln!(out, "{pad}</{name}>");
            }
        }
        (Value::Array(items), _) if items.is_empty() => {
            let _ = writeln!(out, "{pad}<{name}/>");
        }
        (Value::Array(items), _) => {
            let _ = writeln!(out, "{pad}<{name}>");
            for item in items {
                element(out, "member", item, shape.item(), depth + 1);
            }
            let _ = writeln!(out, "{pad}</{name}>");
        }
        (Value::Object(members), Shape::Map(_)) => {
            let _ = writeln!(out, "{pad}<{name}>");
            let inner = "  ".repeat(depth + 1);
            for (k, item) in members {
                let _ = writeln!(out, "{inner}<entry>");
                element(
                    out,
                    "key",
                    &Value::String(k.clone()),
                    &Shape::Plain,
                    depth + 2,
                );
                element(out, "value", item, shape.member(k), depth + 2);
                let _ = writeln!(out, "{inner}</entry>");
            }
            let _ = writeln!(out, "{pad}</{name}>");
        }
        (Value::Object(members), _) => {
            let _ = writeln!(out, "{pad}<{name}>");
            structure(out, members, shape, depth + 1);
            let _ = writeln!(out, "{pad}</{name}>");
        }
        _ => {
            let _ = writeln!(out, "{pad}<{name}>{}</{name}>", escape(&scalar(v, shape)));
        }
    }
}

fn scalar(v: &Value, shape: &Shape) -> String {
    match (shape, v) {
        (Shape::Timestamp, v) => iso8601_millis(v).unwrap_or_else(|| scalar(v, &Shape::Plain)),
        // Debug prints an f64 with its fraction (`1.0`, `0.25`, `1e20`), which every parser
        // reads back as the same double.
        (Shape::Double, Value::Number(n)) => match n.as_f64() {
            Some(f) => format!("{f:?}"),
            None => n.to_string(),
        },
        (Shape::Integer, Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9e15 => (f as i64).to_string(),
            _ => n.to_string(),
        },
        (_, Value::String(s)) => s.clone(),
        (_, Value::Bool(b)) => b.to_string(),
        (_, Value::Number(n)) => n.to_string(),
        (_, other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    static DIMENSION: Shape =
        Shape::Structure(&[("Name", &Shape::Plain), ("Value", &Shape::Plain)]);
    static ALARM: Shape = Shape::Structure(&[
        ("AlarmName", &Shape::Plain),
        ("AlarmConfigurationUpdatedTimestamp", &Shape::Timestamp),
        ("ActionsEnabled", &Shape::Boolean),
        ("OKActions", &Shape::List(&Shape::Plain)),
        ("Dimensions", &Shape::List(&DIMENSION)),
        ("Period", &Shape::Integer),
        ("Threshold", &Shape::Double),
    ]);
    static OUTPUT: Shape = Shape::Structure(&[
        ("MetricAlarms", &Shape::List(&ALARM)),
        ("Stats", &Shape::Map(&Shape::Double)),
        ("NextToken", &Shape::Plain),
    ]);

    #[test]
    fn members_go_out_in_the_models_order_typed_by_their_shapes() {
        let doc = json!({
            "NextToken": "t<1>",
            "Stats": {"p99": 2},
            "MetricAlarms": [{
                "Threshold": 1, "Period": 60.0, "Dimensions": [{"Value": "b", "Name": "a"}],
                "OKActions": [], "ActionsEnabled": true,
                "AlarmConfigurationUpdatedTimestamp": 1700000000.5, "AlarmName": "x",
                "Extra": "last", "Gone": null,
            }],
        });
        let want = "    <MetricAlarms>
      <member>
        <AlarmName>x</AlarmName>
        <AlarmConfigurationUpdatedTimestamp>2023-11-14T22:13:20.500Z</AlarmConfigurationUpdatedTimestamp>
        <ActionsEnabled>true</ActionsEnabled>
        <OKActions/>
        <Dimensions>
          <member>
            <Name>a</Name>
            <Value>b</Value>
          </member>
        </Dimensions>
        <Period>60</Period>
        <Threshold>1.0</Threshold>
        <Extra>last</Extra>
      </member>
    </MetricAlarms>
    <Stats>
      <entry>
        <key>p99</key>
        <value>2.0</value>
      </entry>
    </Stats>
    <NextToken>t&lt;1&gt;</NextToken>
";
        assert_eq!(xml_of_document(&doc, &OUTPUT), want);
    }

    // SQS's ReceiveMessage answer: flattened lists and maps under the model's query names.
    static MESSAGE_ATTRIBUTE: Shape = Shape::Structure(&[
        ("StringValue", &Shape::Plain),
        ("BinaryValue", &Shape::Blob),
        ("DataType", &Shape::Plain),
    ]);
    static PAIRS: Shape = Shape::FlatMap {
        key: "Name",
        value: "Value",
        of: &Shape::Plain,
    };
    static MESSAGE: Shape = Shape::Structure(&[
        ("MessageId", &Shape::Plain),
        ("Body", &Shape::Plain),
        ("Attributes", &Shape::Named("Attribute", &PAIRS)),
        (
            "MessageAttributes",
            &Shape::Named(
                "MessageAttribute",
                &Shape::FlatMap {
                    key: "Name",
                    value: "Value",
                    of: &MESSAGE_ATTRIBUTE,
                },
            ),
        ),
    ]);
    static RECEIVED: Shape = Shape::Structure(&[(
        "Messages",
        &Shape::Named("Message", &Shape::FlatList(&MESSAGE)),
    )]);

    #[test]
    fn flattened_lists_and_maps_repeat_under_their_query_names() {
        let doc = json!({"Messages": [
            {"Body": "hi", "MessageId": "1",
             "Attributes": {"SenderId": "AID", "SentTimestamp": "1700000000000"},
             "MessageAttributes": {"color": {"DataType": "String", "StringValue": "red"}}},
            {"MessageId": "2", "Body": "there"},
        ]});
        let want = "    <Message>
      <MessageId>1</MessageId>
      <Body>hi</Body>
      <Attribute>
        <Name>SenderId</Name>
        <Value>AID</Value>
      </Attribute>
      <Attribute>
        <Name>SentTimestamp</Name>
        <Value>1700000000000</Value>
      </Attribute>
      <MessageAttribute>
        <Name>color</Name>
        <Value>
          <StringValue>red</StringValue>
          <DataType>String</DataType>
        </Value>
      </MessageAttribute>
    </Message>
    <Message>
      <MessageId>2</MessageId>
      <Body>there</Body>
    </Message>
";
        assert_eq!(xml_of_document(&doc, &RECEIVED), want);
        // No messages: no elements at all, as AWS answers `<ReceiveMessageResult/>`.
        assert_eq!(xml_of_document(&json!({"Messages": []}), &RECEIVED), "");
    }

    #[test]
    fn timestamps_and_doubles_as_aws_writes_them() {
        assert_eq!(
            iso8601_millis(&json!(1700000000)).unwrap(),
            "2023-11-14T22:13:20.000Z"
        );
        assert_eq!(
            iso8601_millis(&json!(1700000000.123)).unwrap(),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(iso8601_millis(&json!("soon")), None);
        assert_eq!(scalar(&json!(0.25), &Shape::Double), "0.25");
        assert_eq!(scalar(&json!(3), &Shape::Double), "3.0");
        assert_eq!(scalar(&json!(3), &Shape::Plain), "3");
        // Not a time after all: written as it is rather than lost.
        assert_eq!(scalar(&json!("soon"), &Shape::Timestamp), "soon");
    }

    #[test]
    fn a_document_that_is_not_a_structure_writes_nothing() {
        assert_eq!(xml_of_document(&json!([1]), &OUTPUT), "");
        assert_eq!(xml_of_document(&json!({}), &OUTPUT), "");
    }
}
