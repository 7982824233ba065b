//! Reading a CloudTrail record as Sigma rules name its fields: dotted paths into nested
//! objects (`userIdentity.sessionContext.sessionIssuer.type`), and values as text.

use std::borrow::Cow;

use serde_json::Value;

/// The value at a dotted path: a top-level key spelled with dots first (a flattened record),
/// then the path through nested objects.
pub fn lookup<'a>(record: &'a Value, path: &str) -> Option<&'a Value> {
    let obj = record.as_object()?;
    if let Some(v) = obj.get(path) {
        return Some(v);
    }
    let mut at = record;
    for part in path.split('.') {
        at = at.as_object()?.get(part)?;
    }
    Some(at)
}

/// A value's texts: a string's itself, a number's or boolean's printed form, each element of
/// a list (recursively), and an object as compact JSON (rules test `requestParameters|contains`
/// on the parameters as text).
pub fn leaves<'a>(v: &'a Value, out: &mut Vec<Cow<'a, str>>) {
    match v {
        Value::Null => {}
        Value::String(s) => out.push(Cow::Borrowed(s)),
        Value::Number(n) => out.push(Cow::Owned(n.to_string())),
        Value::Bool(b) => out.push(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Array(a) => a.iter().for_each(|x| leaves(x, out)),
        Value::Object(_) => out.push(Cow::Owned(v.to_string())),
    }
}

/// Every string anywhere in a record (for keyword selections).
pub fn all_strings<'a>(v: &'a Value, out: &mut Vec<Cow<'a, str>>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| all_strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| all_strings(x, out)),
        other => leaves(other, out),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    #[test]
    fn dotted_paths_reach_nested_fields() {
        let r = json!({"userIdentity": {"type": "Root", "sessionContext": {"sessionIssuer": {"type": "Role"}}}});
        assert_eq!(lookup(&r, "userIdentity.type"), Some(&json!("Root")));
        assert_eq!(
            lookup(&r, "userIdentity.sessionContext.sessionIssuer.type"),
            Some(&json!("Role"))
        );
        assert_eq!(lookup(&r, "userIdentity.arn"), None);
        let flat = json!({"userIdentity.type": "IAMUser"});
        assert_eq!(lookup(&flat, "userIdentity.type"), Some(&json!("IAMUser")));
    }

    #[test]
    fn objects_read_as_compact_json() {
        let v = json!({"a": "b", "n": [1, true]});
        let mut out = Vec::new();
        leaves(&v, &mut out);
        assert_eq!(out, vec![r#"{"a":"b","n":[1,true]}"#]);
    }
}
