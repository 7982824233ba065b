//! A query form → the JSON document model. Keys are dotted paths (`A.member.2.B`); the
//! shape says what each step is, so that `Period=60` becomes a number, `AlarmNames=` (how
//! botocore sends an empty list) an empty list and `StartTime=2023-11-14T22:13:20Z` epoch
//! seconds. A member the shapes do not describe is read by the protocol's conventions alone
//! (`.member.N` a list, `.entry.N` a map, other dots a structure), its leaves as strings.
//! Flattened lists and maps (`Attribute.1.Name=…&Attribute.1.Value=…`) and members named
//! otherwise on the query wire (`Attribute` for `Attributes`) are read where the shapes say;
//! such a member is found by its document name too, as a client whose model lacks the query
//! names (botocore's SQS model today) sends it.

use std::collections::BTreeMap;

use serde_json::{Map, Number, Value};

use crate::pipeline::codec::form::Form;
use crate::pipeline::codec::shape::{PLAIN, Shape, epoch_seconds};

/// A form value its member's shape cannot hold.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FormError {
    #[error("Value '{value}' for parameter {member} is not a valid number.")]
    NotANumber { member: String, value: String },
    #[error("Value '{value}' for parameter {member} is not a valid boolean.")]
    NotABoolean { member: String, value: String },
    #[error("Value '{value}' for parameter {member} is not a valid timestamp.")]
    NotATimestamp { member: String, value: String },
    #[error("Parameter {member} is not a valid list index.")]
    BadIndex { member: String },
}

/// One step of the dotted paths: the value given at it, and the steps below.
#[derive(Default)]
struct Node {
    value: Option<String>,
    children: BTreeMap<String, Node>,
}

impl Node {
    fn insert(&mut self, path: &str, value: &str) {
        let mut at = self;
        for step in path.split('.') {
            at = at.children.entry(step.to_owned()).or_default();
        }
        at.value = Some(value.to_owned());
    }
}

/// The operation's input document from its form (`Action` and `Version` left out).
pub fn document_of_form(form: &Form, shape: &Shape) -> Result<Value, FormError> {
    let mut root = Node::default();
    for (k, v) in form {
        if k != "Action" && k != "Version" {
            root.insert(k, v);
        }
    }
    structure(&root, shape, "")
}

fn path(prefix: &str, step: &str) -> String {
    if prefix.is_empty() {
        step.to_owned()
    } else {
        format!("{prefix}.{step}")
    }
}

fn structure(node: &Node, shape: &Shape, at: &str) -> Result<Value, FormError> {
    let declared: &[(&str, &Shape)] = match shape.bare() {
        Shape::Structure(m) => m,
        _ => &[],
    };
    let mut out = Map::new();
    for (wire, child) in &node.children {
        // The query name the model gives first, then the document's own name.
        let (name, member) = declared
            .iter()
            .find(|(n, s)| s.query_name(n) == wire)
            .or_else(|| declared.iter().find(|(n, _)| n == wire))
            .map(|(n, s)| (*n, s.bare()))
            .unwrap_or((wire.as_str(), &PLAIN));
        out.insert(name.to_owned(), value(child, member, &path(at, wire))?);
    }
    Ok(Value::Object(out))
}

fn value(node: &Node, shape: &Shape, at: &str) -> Result<Value, FormError> {
    let shape = shape.bare();
    match shape {
        Shape::List(item) => list(node, item, at),
        Shape::Map(v) => map(node, v, at),
        // A flattened member sent the unflattened way is still understood.
        Shape::FlatList(item) if node.children.contains_key("member") => list(node, item, at),
        Shape::FlatList(item) => flat_list(node, item, at),
        Shape::FlatMap { key, value, of } => entries(node, (key, value), of, at),
        Shape::Structure(_) => structure(node, shape, at),
        // Undescribed: the conventions tell a list or map from a structure.
        Shape::Plain if !node.children.is_empty() => {
            if node.children.len() == 1 && node.children.contains_key("member") {
                list(node, &Shape::Plain, at)
            } else if node.children.len() == 1 && node.children.contains_key("entry") {
                map(node, &Shape::Plain, at)
            } else {
                structure(node, shape, at)
            }
        }
        _ => scalar(node.value.as_deref().unwrap_or(""), shape, at),
    }
}

/// `Name.member.N…` (N from 1) in N's order; `Name=` alone is the empty list.
fn list(node: &Node, item: &Shape, at: &str) -> Result<Value, FormError> {
    let Some(members) = node.children.get("member") else {
        return Ok(Value::Array(Vec::new()));
    };
    let at = path(at, "member");
    let items = indexed(members, &at)?
        .into_iter()
        .map(|(n, child)| value(child, item, &path(&at, &n.to_string())))
        .collect::<Result<_, _>>()?;
    Ok(Value::Array(items))
}

/// Flattened: `Name.N…` (N from 1) in N's order; `Name=` alone is the empty list.
fn flat_list(node: &Node, item: &Shape, at: &str) -> Result<Value, FormError> {
    let items = indexed(node, at)?
        .into_iter()
        .map(|(n, child)| value(child, item, &path(at, &n.to_string())))
        .collect::<Result<_, _>>()?;
    Ok(Value::Array(items))
}

/// `Name.entry.N.key=k&Name.entry.N.value=v` → {k: v}.
fn map(node: &Node, v: &Shape, at: &str) -> Result<Value, FormError> {
    match node.children.get("entry") {
        Some(list) => entries(list, ("key", "value"), v, &path(at, "entry")),
        None => Ok(Value::Object(Map::new())),
    }
}

/// The numbered entries of a map, `N.<key>=k&N.<value>=v` → {k: v}, under the names given
/// (`key`/`value` by the conventions, a flattened map's own as the model names them; the
/// conventional ones are read too).
fn entries(node: &Node, names: (&str, &str), v: &Shape, at: &str) -> Result<Value, FormError> {
    let mut out = Map::new();
    for (n, entry) in indexed(node, at)? {
        let at = path(at, &n.to_string());
        let child = |name: &str, usual: &str| {
            entry
                .children
                .get_key_value(name)
                .or_else(|| entry.children.get_key_value(usual))
        };
        let key = child(names.0, "key")
            .and_then(|(_, k)| k.value.clone())
            .unwrap_or_default();
        let val = match child(names.1, "value") {
            Some((step, child)) => value(child, v, &path(&at, step))?,
            None => Value::Null,
        };
        out.insert(key, val);
    }
    Ok(Value::Object(out))
}

/// The numbered children of a list or map, in their numbers' order.
fn indexed<'n>(node: &'n Node, at: &str) -> Result<Vec<(u32, &'n Node)>, FormError> {
    let mut items = node
        .children
        .iter()
        .map(|(k, child)| match k.parse::<u32>() {
            Ok(n) => Ok((n, child)),
            Err(_) => Err(FormError::BadIndex {
                member: path(at, k),
            }),
        })
        .collect::<Result<Vec<_>, _>>()?;
    items.sort_by_key(|(n, _)| *n);
    Ok(items)
}

fn scalar(text: &str, shape: &Shape, at: &str) -> Result<Value, FormError> {
    let err = |make: fn(String, String) -> FormError| make(at.to_owned(), text.to_owned());
    match shape {
        Shape::Integer => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| err(|member, value| FormError::NotANumber { member, value })),
        Shape::Double => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| err(|member, value| FormError::NotANumber { member, value })),
        Shape::Boolean => match text.to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(err(|member, value| FormError::NotABoolean {
                member,
                value,
            })),
        },
        // ISO 8601 as botocore sends it, or epoch seconds as some tools do.
        Shape::Timestamp => text
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(|n| match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => Number::from(f as i64),
                _ => n,
            })
            .or_else(|| epoch_seconds(&Value::String(text.to_owned())))
            .map(Value::Number)
            .ok_or_else(|| err(|member, value| FormError::NotATimestamp { member, value })),
        _ => Ok(Value::String(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;
    use crate::pipeline::codec::query::parse_form;

    static DIMENSION: Shape =
        Shape::Structure(&[("Name", &Shape::Plain), ("Value", &Shape::Plain)]);
    static DIMENSIONS: Shape = Shape::List(&DIMENSION);
    static DATUM: Shape = Shape::Structure(&[
        ("Dimensions", &DIMENSIONS),
        ("Timestamp", &Shape::Timestamp),
        ("Value", &Shape::Double),
        ("Values", &Shape::List(&Shape::Double)),
        ("StorageResolution", &Shape::Integer),
    ]);
    static INPUT: Shape = Shape::Structure(&[
        ("MetricData", &Shape::List(&DATUM)),
        ("AlarmNames", &Shape::List(&Shape::Plain)),
        ("ActionsEnabled", &Shape::Boolean),
        ("Attributes", &Shape::Map(&Shape::Integer)),
    ]);

    fn doc(form: &str) -> Result<Value, FormError> {
        document_of_form(&parse_form(form), &INPUT)
    }

    #[test]
    fn lists_structures_and_scalars_take_their_shapes() {
        let d = doc("Action=PutMetricData&Version=2010-08-01&Namespace=N\
             &MetricData.member.1.MetricName=m&MetricData.member.1.Value=2\
             &MetricData.member.1.Timestamp=2023-11-14T22%3A13%3A20.500Z\
             &MetricData.member.1.Dimensions.member.1.Name=a&MetricData.member.1.Dimensions.member.1.Value=b\
             &MetricData.member.1.StorageResolution=60\
             &MetricData.member.1.Values.member.1=1.5&MetricData.member.1.Values.member.2=3\
             &MetricData.member.2.MetricName=n&MetricData.member.2.Timestamp=1700000000\
             &ActionsEnabled=TRUE")
        .unwrap();
        assert_eq!(
            d,
            json!({
                "ActionsEnabled": true,
                "MetricData": [
                    {"Dimensions": [{"Name": "a", "Value": "b"}], "MetricName": "m",
                     "StorageResolution": 60, "Timestamp": 1700000000.5, "Value": 2.0,
                     "Values": [1.5, 3.0]},
                    {"MetricName": "n", "Timestamp": 1700000000},
                ],
                "Namespace": "N",
            })
        );
        // A double stays a double even when it is whole.
        assert!(d["MetricData"][0]["Value"].is_f64());
    }

    #[test]
    fn list_items_follow_their_numbers_not_their_text() {
        let form = (1..=11)
            .map(|n| format!("AlarmNames.member.{n}=a{n}"))
            .collect::<Vec<_>>()
            .join("&");
        let names = doc(&form).unwrap()["AlarmNames"].clone();
        let want: Vec<String> = (1..=11).map(|n| format!("a{n}")).collect();
        assert_eq!(names, json!(want));
    }

    #[test]
    fn empty_lists_maps_and_undescribed_members() {
        assert_eq!(doc("AlarmNames=").unwrap(), json!({"AlarmNames": []}));
        assert_eq!(
            doc("Attributes.entry.1.key=k&Attributes.entry.1.value=7").unwrap(),
            json!({"Attributes": {"k": 7}})
        );
        // Not described: read by the conventions, leaves as strings.
        assert_eq!(
            doc("Tags.member.1.Key=k&Tags.member.1.Value=v&Other.entry.1.key=x&Other.entry.1.value=y&S.A=1")
                .unwrap(),
            json!({"Other": {"x": "y"}, "S": {"A": "1"}, "Tags": [{"Key": "k", "Value": "v"}]})
        );
    }

    // SQS's forms: flattened lists and maps, under the model's query names.
    static MESSAGE_ATTRIBUTE: Shape = Shape::Structure(&[
        ("StringValue", &Shape::Plain),
        (
            "StringListValues",
            &Shape::Named("StringListValue", &Shape::FlatList(&Shape::Plain)),
        ),
        ("DataType", &Shape::Plain),
    ]);
    static ATTRIBUTES: Shape = Shape::FlatMap {
        key: "Name",
        value: "Value",
        of: &Shape::Plain,
    };
    static ENTRY: Shape = Shape::Structure(&[
        ("Id", &Shape::Plain),
        ("DelaySeconds", &Shape::Integer),
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
    static SQS: Shape = Shape::Structure(&[
        ("Attributes", &Shape::Named("Attribute", &ATTRIBUTES)),
        (
            "AttributeNames",
            &Shape::Named("AttributeName", &Shape::FlatList(&Shape::Plain)),
        ),
        (
            "Entries",
            &Shape::Named("SendMessageBatchRequestEntry", &Shape::FlatList(&ENTRY)),
        ),
    ]);

    fn sqs(form: &str) -> Result<Value, FormError> {
        document_of_form(&parse_form(form), &SQS)
    }

    #[test]
    fn flattened_lists_and_maps_under_their_query_names() {
        let d = sqs("Action=SendMessageBatch&QueueUrl=u\
             &Attribute.1.Name=DelaySeconds&Attribute.1.Value=5\
             &Attribute.2.Name=Policy&Attribute.2.Value=%7B%7D\
             &AttributeName.2=B&AttributeName.1=A&AttributeName.10=C\
             &SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.DelaySeconds=3\
             &SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=color\
             &SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=String\
             &SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue=red\
             &SendMessageBatchRequestEntry.1.MessageAttribute.2.Name=tags\
             &SendMessageBatchRequestEntry.1.MessageAttribute.2.Value.DataType=StringList\
             &SendMessageBatchRequestEntry.1.MessageAttribute.2.Value.StringListValue.1=x\
             &SendMessageBatchRequestEntry.2.Id=b")
        .unwrap();
        assert_eq!(
            d,
            json!({
                "QueueUrl": "u",
                "Attributes": {"DelaySeconds": "5", "Policy": "{}"},
                "AttributeNames": ["A", "B", "C"],
                "Entries": [
                    {"Id": "a", "DelaySeconds": 3, "MessageAttributes": {
                        "color": {"DataType": "String", "StringValue": "red"},
                        "tags": {"DataType": "StringList", "StringListValues": ["x"]},
                    }},
                    {"Id": "b"},
                ],
            })
        );
    }

    #[test]
    fn flattened_members_by_their_document_names_and_the_conventions() {
        // What botocore sends from a model without query names (`Entries.1.Id`, `key`/`value`),
        // and a flattened list sent with `.member.N`, read as the same document.
        let d = sqs("Entries.1.Id=a&Entries.1.DelaySeconds=1\
             &Attributes.1.key=VisibilityTimeout&Attributes.1.value=30\
             &AttributeNames.member.1=All")
        .unwrap();
        assert_eq!(
            d,
            json!({
                "Attributes": {"VisibilityTimeout": "30"},
                "AttributeNames": ["All"],
                "Entries": [{"Id": "a", "DelaySeconds": 1}],
            })
        );
        assert_eq!(
            sqs("AttributeName=").unwrap(),
            json!({"AttributeNames": []})
        );
        assert_eq!(
            sqs("SendMessageBatchRequestEntry.1.DelaySeconds=soon").unwrap_err(),
            FormError::NotANumber {
                member: "SendMessageBatchRequestEntry.1.DelaySeconds".into(),
                value: "soon".into()
            }
        );
        assert!(matches!(
            sqs("AttributeName.first=A"),
            Err(FormError::BadIndex { .. })
        ));
    }

    #[test]
    fn values_the_shape_cannot_hold_are_refused_by_name() {
        assert_eq!(
            doc("MetricData.member.1.Value=lots").unwrap_err(),
            FormError::NotANumber {
                member: "MetricData.member.1.Value".into(),
                value: "lots".into()
            }
        );
        assert!(matches!(
            doc("ActionsEnabled=yes"),
            Err(FormError::NotABoolean { .. })
        ));
        assert!(matches!(
            doc("MetricData.member.1.Timestamp=yesterday"),
            Err(FormError::NotATimestamp { .. })
        ));
        assert!(matches!(
            doc("AlarmNames.member.x=a"),
            Err(FormError::BadIndex { .. })
        ));
        assert!(matches!(
            doc("MetricData.member.1.StorageResolution=1.5"),
            Err(FormError::NotANumber { .. })
        ));
    }
}
