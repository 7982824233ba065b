//! The digests SQS answers with, computed as AWS computes them (the SDKs for Java, Go and .NET
//! check them): `MD5OfMessageBody` is the hex MD5 of the body's UTF-8 bytes, and
//! `MD5OfMessageAttributes` the hex MD5 of the attributes sorted by name, each as its name,
//! its data type (both length-prefixed), a transport byte (1 for a string value, 2 for a
//! binary one) and the value (length-prefixed), lengths as 4-byte big-endian integers.

use base64::Engine;
use md5::{Digest, Md5};
use serde_json::{Map, Value};

pub(super) fn of_body(body: &str) -> String {
    hex::encode(Md5::digest(body.as_bytes()))
}

fn put(h: &mut Md5, bytes: &[u8]) {
    h.update(u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
    h.update(bytes);
}

/// The digest of message attributes as the JSON protocol carries them (binary values in
/// base64); `None` when there are none.
pub(super) fn of_attributes(attrs: &Map<String, Value>) -> Option<String> {
    if attrs.is_empty() {
        return None;
    }
    // A JSON object from serde_json keeps its keys sorted (no preserve_order), as AWS sorts.
    let mut names: Vec<&String> = attrs.keys().collect();
    names.sort();
    let mut h = Md5::new();
    for name in names {
        let a = &attrs[name];
        let data_type = a.get("DataType").and_then(Value::as_str).unwrap_or("");
        put(&mut h, name.as_bytes());
        put(&mut h, data_type.as_bytes());
        if let Some(s) = a.get("StringValue").and_then(Value::as_str) {
            h.update([1u8]);
            put(&mut h, s.as_bytes());
        } else if let Some(b) = a.get("BinaryValue").and_then(Value::as_str) {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b)
                .unwrap_or_default();
            h.update([2u8]);
            put(&mut h, &raw);
        }
    }
    Some(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn body_digest_is_hex_md5() {
        assert_eq!(of_body("hello"), "5d41402abc4b2a76b9719d911017c592");
        assert_eq!(of_body(""), "d41d8cd98f00b204e9800998ecf8427e");
    }

    /// Worked by hand from the algorithm: the bytes of one string attribute, digested with
    /// an independent MD5 of the same concatenation.
    #[test]
    fn attribute_digest_follows_aws_encoding() {
        let attrs = json!({"k": {"DataType": "String", "StringValue": "v"}});
        let mut bytes = Vec::new();
        for part in [&b"k"[..], &b"String"[..]] {
            bytes.extend((part.len() as u32).to_be_bytes());
            bytes.extend(part);
        }
        bytes.push(1);
        bytes.extend(1u32.to_be_bytes());
        bytes.push(b'v');
        assert_eq!(
            of_attributes(attrs.as_object().unwrap()).unwrap(),
            hex::encode(Md5::digest(&bytes))
        );
        assert!(of_attributes(&Map::new()).is_none());
    }

    /// Attributes are digested in name order, whatever order they came in; values count.
    #[test]
    fn order_and_binary_values_count() {
        let a = json!({"b": {"DataType": "Binary", "BinaryValue": "AAE="}, "a": {"DataType": "Number", "StringValue": "1"}});
        let b = json!({"a": {"DataType": "Number", "StringValue": "1"}, "b": {"DataType": "Binary", "BinaryValue": "AAE="}});
        assert_eq!(
            of_attributes(a.as_object().unwrap()),
            of_attributes(b.as_object().unwrap())
        );
        let c = json!({"a": {"DataType": "Number", "StringValue": "2"}, "b": {"DataType": "Binary", "BinaryValue": "AAE="}});
        assert_ne!(
            of_attributes(a.as_object().unwrap()),
            of_attributes(c.as_object().unwrap())
        );
    }
}
