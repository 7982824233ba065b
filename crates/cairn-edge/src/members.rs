//! Reading the members of a call's input document (the JSON document model every JSON, CBOR
//! and shaped-query codec hands its service). What a missing member means is each service's
//! own error; these only read.

use serde_json::Value;

/// A string member, `None` when absent or not a string.
pub fn str_member<'a>(input: &'a Value, name: &str) -> Option<&'a str> {
    input.get(name).and_then(Value::as_str)
}
