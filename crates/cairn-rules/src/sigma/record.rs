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

/// Calls `f` on each value at `path` (already split at its dots; `dotted` is the path as
/// written, for a flattened record's top-level key) until it answers true; whether one did.
/// The same values as [`lookup`], without collecting them.
pub fn visit<'a>(
    record: &'a Value,
    dotted: &str,
    path: &[String],
    f: &mut dyn FnMut(&'a Value) -> bool,
) -> bool {
    if let Some(v) = record.as_object().and_then(|o| o.get(dotted)) {
        return f(v);
    }
    visit_parts(record, path, f)
}

fn visit_parts<'a>(at: &'a Value, parts: &[String], f: &mut dyn FnMut(&'a Value) -> bool) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return f(at);
    };
    match at {
        Value::Object(o) => o.get(first).is_some_and(|v| visit_parts(v, rest, f)),
        Value::Array(items) => items.iter().any(|i| visit_parts(i, parts, f)),
        _ => false,
    }
}

/// Where a field path leads in one record.
#[derive(Clone, Copy, Debug)]
pub enum Resolved<'a> {
    Absent,
    /// One value (the path crossed no list).
    One(&'a Value),
    /// The path crosses a list: its values are found by [`visit`].
    Many,
}

/// Resolves a path without collecting: absent, one value, or several behind a list.
pub fn resolve<'a>(record: &'a Value, dotted: &str, path: &[String]) -> Resolved<'a> {
    let Some(obj) = record.as_object() else {
        return Resolved::Absent;
    };
    if let Some(v) = obj.get(dotted) {
        return Resolved::One(v);
    }
    let mut at = record;
    for part in path {
        match at {
            Value::Object(o) => match o.get(part) {
                Some(v) => at = v,
                None => return Resolved::Absent,
            },
            Value::Array(_) => return Resolved::Many,
            _ => return Resolved::Absent,
        }
    }
    Resolved::One(at)
}

/// One record with the fields rules have read from it so far: a field many rules test
/// (`eventSource`) is looked up once per record. Fields are numbered by the detector.
#[derive(Debug)]
pub struct Fields<'a> {
    pub record: &'a Value,
    cache: Vec<Option<Resolved<'a>>>,
}

impl<'a> Fields<'a> {
    pub fn new(record: &'a Value, slots: usize) -> Fields<'a> {
        Fields {
            record,
            cache: vec![None; slots],
        }
    }

    /// Field `slot` (`dotted`, split as `path`), looked up once.
    pub fn get(&mut self, slot: Option<usize>, dotted: &str, path: &[String]) -> Resolved<'a> {
        let record = self.record;
        match slot.and_then(|s| self.cache.get_mut(s)) {
            Some(cached) => *cached.get_or_insert_with(|| resolve(record, dotted, path)),
            None => resolve(record, dotted, path),
        }
    }
}

/// Calls `f` on each of a value's texts (see [`leaves`]) until it answers true; whether one
/// did. Strings are not copied.
pub fn any_text(v: &Value, f: &mut dyn FnMut(&str) -> bool) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => f(s),
        Value::Bool(b) => f(if *b { "true" } else { "false" }),
        Value::Number(n) => f(&n.to_string()),
        Value::Array(a) => a.iter().any(|x| any_text(x, f)),
        Value::Object(_) => f(&v.to_string()),
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

/// A field's values as one text (each value's texts joined by commas): an aggregation's or a
/// correlation's group and counted value. `None`: the record has no such field.
pub fn joined_text(record: &Value, field: &str) -> Option<String> {
    let found = lookup(record, field);
    (!found.is_empty()).then(|| {
        let mut out = Vec::new();
        found.iter().for_each(|v| leaves(v, &mut out));
        out.join(",")
    })
}

/// A rule document's member that is a list of strings, or one string.
pub fn string_list(doc: &Value, key: &str) -> Vec<String> {
    match doc.get(key) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
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
