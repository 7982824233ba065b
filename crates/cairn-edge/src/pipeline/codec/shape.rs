//! Shape hints: the little of an AWS model that a codec needs and a JSON document cannot say.
//!
//! Handlers speak the JSON document model (timestamps as epoch seconds, blobs as base64
//! strings). JSON carries those as they are, but CBOR has types of its own for them (tag 1,
//! byte strings), and botocore's CBOR parser takes what it is given without looking at the
//! model: a timestamp sent as a bare number reaches the caller as a number, a blob sent as
//! text as a string. So a service tells the CBOR codec, per operation, where its outputs hold
//! timestamps and blobs; every other member is written as its value says.
//!
//! The query protocol needs more: its flat form is all strings (`Period=60`, `Threshold=1.0`,
//! `AlarmNames.member.1=a`), and its XML answers are ordered and typed only by the model. So a
//! service that speaks it also says where numbers and booleans are, and lists a structure's
//! members in the model's order ([`super::query_document`] reads and writes by these hints).
//! Some query services (SQS) also name members differently on the query wire than in JSON
//! (the model's `locationName`: `Entries` is `SendMessageBatchRequestEntry.N`) and flatten
//! lists and maps (the model's `flattened`: items repeated under the member's own name, no
//! `.member`/`<member>` level between) — [`Shape::Named`], [`Shape::FlatList`],
//! [`Shape::FlatMap`]. Every other codec sees through these to the shape inside.

use serde_json::Value;

/// Where a document holds timestamps, blobs, numbers and booleans.
#[derive(Debug)]
pub enum Shape {
    /// Whatever the value is (a string, or a structure holding nothing described).
    Plain,
    /// A whole number (`integer`, `long`).
    Integer,
    /// A `double` (written `1.0`, never `1`, where the protocol spells numbers out).
    Double,
    Boolean,
    /// Epoch seconds (a number; an RFC 3339 string is accepted too).
    Timestamp,
    /// Base64 in the document, raw bytes on a binary wire.
    Blob,
    List(&'static Shape),
    /// A map whose values have this shape (keys are strings).
    Map(&'static Shape),
    /// A flattened list (query): items directly under the member's name, `Name.N` in a form,
    /// `<Name>` repeated in XML.
    FlatList(&'static Shape),
    /// A flattened map (query): `Name.N.<key>=k&Name.N.<value>=v` in a form,
    /// `<Name><key>k</key><value>v</value></Name>` repeated in XML, with the model's names
    /// for the key and the value (`Name`/`Value`, `Key`/`Value`); values have shape `of`.
    FlatMap {
        key: &'static str,
        value: &'static str,
        of: &'static Shape,
    },
    /// A structure member named otherwise on the query wire than in the document (the model's
    /// `locationName`): `Named("Attribute", &map)` is the document's `Attributes`.
    Named(&'static str, &'static Shape),
    /// A structure's described members, in the model's order (query XML is written in it);
    /// members not listed are plain and follow in the document's order.
    Structure(&'static [(&'static str, &'static Shape)]),
}

/// The shape of anything not described.
pub static PLAIN: Shape = Shape::Plain;

impl Shape {
    /// The shape of a structure's member (or of a map's values), whatever its query name.
    pub fn member(&self, name: &str) -> &Shape {
        match self {
            Shape::Structure(members) => members
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, s)| s.bare())
                .unwrap_or(&PLAIN),
            Shape::Map(value) | Shape::FlatMap { of: value, .. } => value.bare(),
            Shape::Named(_, inner) => inner.member(name),
            _ => &PLAIN,
        }
    }

    /// The shape of a list's items.
    pub fn item(&self) -> &Shape {
        match self {
            Shape::List(item) | Shape::FlatList(item) => item.bare(),
            Shape::Named(_, inner) => inner.item(),
            _ => &PLAIN,
        }
    }

    /// The shape without its query name.
    pub fn bare(&self) -> &Shape {
        match self {
            Shape::Named(_, inner) => inner.bare(),
            other => other,
        }
    }

    /// The name a structure member called `name` in the document has on the query wire.
    pub fn query_name<'a>(&'a self, name: &'a str) -> &'a str {
        match self {
            Shape::Named(wire, _) => wire,
            _ => name,
        }
    }
}

/// An operation's shape from a service's table of them (its outputs, or for query its
/// inputs; plain when not listed).
pub fn output_of(table: &'static [(&'static str, &'static Shape)], op: &str) -> &'static Shape {
    table
        .iter()
        .find(|(n, _)| *n == op)
        .map(|(_, s)| *s)
        .unwrap_or(&PLAIN)
}

/// A timestamp in the document model, as epoch seconds (`None`: not a timestamp).
pub fn epoch_seconds(v: &Value) -> Option<serde_json::Number> {
    match v {
        Value::Number(n) => Some(n.clone()),
        Value::String(s) => {
            let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .ok()?;
            if t.nanosecond() == 0 {
                Some(t.unix_timestamp().into())
            } else {
                // Whole seconds plus the fraction: dividing the nanoseconds since the epoch
                // would round away the fraction's last digits (`.25` → `.2499998`).
                serde_json::Number::from_f64(
                    t.unix_timestamp() as f64 + f64::from(t.nanosecond()) / 1e9,
                )
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static DATAPOINT: Shape = Shape::Structure(&[("Timestamp", &Shape::Timestamp)]);
    static OUT: Shape = Shape::Structure(&[
        ("Datapoints", &Shape::List(&DATAPOINT)),
        ("Blobs", &Shape::Map(&Shape::Blob)),
    ]);

    #[test]
    fn members_and_items_walk_the_tree() {
        assert!(matches!(
            OUT.member("Datapoints").item().member("Timestamp"),
            Shape::Timestamp
        ));
        assert!(matches!(OUT.member("Blobs").member("any key"), Shape::Blob));
        assert!(matches!(OUT.member("Label"), Shape::Plain));
        assert!(matches!(OUT.item(), Shape::Plain));
        static TABLE: [(&str, &Shape); 1] = [("Op", &OUT)];
        // Query names and flattening are invisible to the other codecs.
        static FLAT: Shape = Shape::FlatMap {
            key: "Name",
            value: "Value",
            of: &Shape::Timestamp,
        };
        static NAMED: Shape = Shape::Structure(&[
            ("Attributes", &Shape::Named("Attribute", &FLAT)),
            ("Items", &Shape::Named("Item", &Shape::FlatList(&DATAPOINT))),
        ]);
        assert!(matches!(
            NAMED.member("Attributes").member("k"),
            Shape::Timestamp
        ));
        assert!(matches!(
            NAMED.member("Items").item().member("Timestamp"),
            Shape::Timestamp
        ));
        assert_eq!(Shape::Named("Item", &PLAIN).query_name("Items"), "Item");
        assert_eq!(PLAIN.query_name("Items"), "Items");
        assert!(matches!(output_of(&TABLE, "Other"), Shape::Plain));
        assert!(matches!(output_of(&TABLE, "Op"), Shape::Structure(_)));
    }

    #[test]
    fn timestamps_as_epoch_seconds() {
        assert_eq!(
            epoch_seconds(&serde_json::json!(1700000000)),
            Some(1700000000.into())
        );
        assert_eq!(
            epoch_seconds(&serde_json::json!("2023-11-14T22:13:20Z")),
            Some(1700000000.into())
        );
        assert_eq!(
            epoch_seconds(&serde_json::json!("2023-11-14T22:13:20.5Z")),
            serde_json::Number::from_f64(1700000000.5)
        );
        assert_eq!(
            epoch_seconds(&serde_json::json!("2026-12-05T10:00:30.250000Z")),
            serde_json::Number::from_f64(1796464830.25)
        );
        assert_eq!(epoch_seconds(&serde_json::json!("yesterday")), None);
    }
}
