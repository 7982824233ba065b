//! Reading a CloudTrail record as Sigma rules name its fields: dotted paths into nested
//! objects (`userIdentity.sessionContext.sessionIssuer.type`), and values as text.

use std::borrow::Cow;

use serde_json::Value;

/// The values at a dotted path: a top-level key spelled with dots first (a flattened record),
/// then the path through nested objects, and through every element of a list met on the way
/// (`requestParameters.eventSelectors.includeManagementEvents` reads each selector's).
pub fn lookup<'a>(record: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut out = Vec::new();
    if let Some(v) = record.as_object().and_then(|o| o.get(path)) {
        out.push(v);
        return out;
    }
    let parts: Vec<&str> = path.split('.').collect();
    walk(record, &parts, &mut out);
    out
}

fn walk<'a>(at: &'a Value, parts: &[&str], out: &mut Vec<&'a Value>) {
    let Some((first, rest)) = parts.split_first() else {
        out.push(at);
        return;
    };
    match at {
        Value::Object(o) => {
            if let Some(v) = o.get(*first) {
                walk(v, rest, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| walk(i, parts, out)),
        _ => {}
    }
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
        assert_eq!(lookup(&r, "userIdentity.type"), [&json!("Root")]);
        assert_eq!(
            lookup(&r, "userIdentity.sessionContext.sessionIssuer.type"),
            [&json!("Role")]
        );
        assert!(lookup(&r, "userIdentity.arn").is_empty());
        let flat = json!({"userIdentity.type": "IAMUser"});
        assert_eq!(lookup(&flat, "userIdentity.type"), [&json!("IAMUser")]);
        let listed = json!({"p": {"sel": [{"on": true}, {"on": false}, {}]}});
        assert_eq!(lookup(&listed, "p.sel.on"), [&json!(true), &json!(false)]);
    }

    #[test]
    fn objects_read_as_compact_json() {
        let v = json!({"a": "b", "n": [1, true]});
        let mut out = Vec::new();
        leaves(&v, &mut out);
        assert_eq!(out, vec![r#"{"a":"b","n":[1,true]}"#]);
    }
}
