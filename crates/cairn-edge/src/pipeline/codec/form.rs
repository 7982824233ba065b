//! Reading query-protocol input (flat `Name=value` pairs, lists as `Name.member.N`) the way IAM
//! validates it, and turning it into the `requestParameters` CloudTrail records.

use std::collections::BTreeMap;

use cairn_wire::AwsError;
use serde_json::{Map, Value};

pub type Form = BTreeMap<String, String>;

/// IAM's constraint-violation error.
pub fn validation(member: &str, value: &str, constraint: &str) -> AwsError {
    AwsError::client(
        "ValidationError",
        format!(
            "1 validation error detected: Value '{value}' at '{}' failed to satisfy constraint: {constraint}",
            lower_first(member)
        ),
    )
}

pub fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

pub fn required<'a>(form: &'a Form, name: &str) -> Result<&'a str, AwsError> {
    form.get(name).map(String::as_str).ok_or_else(|| {
        AwsError::client(
            "ValidationError",
            format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                lower_first(name)
            ),
        )
    })
}

pub fn optional<'a>(form: &'a Form, name: &str) -> Option<&'a str> {
    form.get(name).map(String::as_str)
}

pub fn boolean(form: &Form, name: &str) -> Result<Option<bool>, AwsError> {
    match form.get(name).map(String::as_str) {
        None => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(v) => Err(validation(name, v, "Member must be a boolean")),
    }
}

pub fn integer(form: &Form, name: &str, min: i64, max: i64) -> Result<Option<i64>, AwsError> {
    let Some(v) = form.get(name) else {
        return Ok(None);
    };
    let n: i64 = v
        .parse()
        .map_err(|_| validation(name, v, "Member must be a number"))?;
    if n < min {
        return Err(validation(
            name,
            v,
            &format!("Member must have value greater than or equal to {min}"),
        ));
    }
    if n > max {
        return Err(validation(
            name,
            v,
            &format!("Member must have value less than or equal to {max}"),
        ));
    }
    Ok(Some(n))
}

/// `Tags.member.1.Key=a&Tags.member.1.Value=b…` → [(a, b)]
pub fn tags(form: &Form) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for n in 1.. {
        let Some(k) = form.get(&format!("Tags.member.{n}.Key")) else {
            break;
        };
        let v = form
            .get(&format!("Tags.member.{n}.Value"))
            .cloned()
            .unwrap_or_default();
        out.push((k.clone(), v));
    }
    out
}

/// Parameters CloudTrail must never write: passwords and one-time codes.
const SECRET_MEMBERS: [&str; 6] = [
    "TokenCode",
    "Password",
    "NewPassword",
    "OldPassword",
    "AuthenticationCode1",
    "AuthenticationCode2",
];
const BOOLEAN_MEMBERS: [&str; 4] = [
    "PasswordResetRequired",
    "SetAsDefault",
    "OnlyAttached",
    "AllowUsersToChangePassword",
];
const INTEGER_MEMBERS: [&str; 3] = ["MaxItems", "MaxSessionDuration", "DurationSeconds"];

/// The call's input as CloudTrail writes it: lower-camel member names, booleans and numbers
/// typed, lists as arrays, secrets left out; `None` when nothing remains.
pub fn request_parameters(form: &Form) -> Option<Value> {
    let mut m = Map::new();
    let mut lists: BTreeMap<String, BTreeMap<u32, Map<String, Value>>> = BTreeMap::new();
    let mut scalars: BTreeMap<String, BTreeMap<u32, Value>> = BTreeMap::new();
    for (k, v) in form {
        if k == "Action" || k == "Version" || SECRET_MEMBERS.contains(&k.as_str()) {
            continue;
        }
        if let Some((name, rest)) = k.split_once(".member.") {
            let (idx, field) = rest.split_once('.').unwrap_or((rest, ""));
            let Ok(idx) = idx.parse::<u32>() else {
                continue;
            };
            if field.is_empty() {
                scalars
                    .entry(name.to_owned())
                    .or_default()
                    .insert(idx, Value::String(v.clone()));
            } else {
                lists
                    .entry(name.to_owned())
                    .or_default()
                    .entry(idx)
                    .or_default()
                    .insert(lower_first(field), Value::String(v.clone()));
            }
            continue;
        }
        let value = if BOOLEAN_MEMBERS.contains(&k.as_str()) {
            match v.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => Value::String(v.clone()),
            }
        } else if INTEGER_MEMBERS.contains(&k.as_str()) {
            v.parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(v.clone()))
        } else {
            Value::String(v.clone())
        };
        m.insert(lower_first(k), value);
    }
    for (name, items) in lists {
        m.insert(
            lower_first(&name),
            Value::Array(items.into_values().map(Value::Object).collect()),
        );
    }
    for (name, items) in scalars {
        m.insert(
            lower_first(&name),
            Value::Array(items.into_values().collect()),
        );
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

/// One page of a listing: IAM's `Marker`/`MaxItems` (default 100, at most 1000). The marker is
/// the position of the next item, so pages stay stable while nothing changes.
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_marker: Option<String>,
}

pub fn page<T>(form: &Form, all: Vec<T>) -> Result<Page<T>, AwsError> {
    let max = integer(form, "MaxItems", 1, 1000)?.unwrap_or(100) as usize;
    let start = match form.get("Marker") {
        None => 0,
        Some(m) => m
            .strip_prefix("cairn-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= all.len())
            .ok_or_else(|| AwsError::client("InvalidInput", "Invalid Marker."))?,
    };
    let end = (start + max).min(all.len());
    let next_marker = (end < all.len()).then(|| format!("cairn-{end}"));
    let items = all.into_iter().skip(start).take(end - start).collect();
    Ok(Page { items, next_marker })
}

/// `<IsTruncated>…</IsTruncated>` and, when truncated, `<Marker>…</Marker>`.
pub fn truncation_xml<T>(p: &Page<T>) -> String {
    match &p.next_marker {
        Some(m) => format!(
            "    <IsTruncated>true</IsTruncated>\n    <Marker>{}</Marker>\n",
            cairn_wire::xml::escape(m)
        ),
        None => "    <IsTruncated>false</IsTruncated>\n".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Form {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn request_parameters_are_typed_and_secret_free() {
        let f = form(&[
            ("Action", "CreateLoginProfile"),
            ("Version", "2010-05-08"),
            ("UserName", "bob"),
            ("Password", "hunter2"),
            ("PasswordResetRequired", "false"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "audit"),
            ("MaxItems", "5"),
        ]);
        assert_eq!(
            request_parameters(&f).unwrap(),
            serde_json::json!({"maxItems": 5, "passwordResetRequired": false, "userName": "bob",
                               "tags": [{"key": "team", "value": "audit"}]})
        );
        assert!(request_parameters(&form(&[("Action", "ListUsers")])).is_none());
    }

    #[test]
    fn pages() {
        let f = form(&[("MaxItems", "2")]);
        let p = page(&f, vec![1, 2, 3]).unwrap();
        assert_eq!(p.items, vec![1, 2]);
        let f = form(&[
            ("MaxItems", "2"),
            ("Marker", p.next_marker.as_deref().unwrap()),
        ]);
        let p2 = page(&f, vec![1, 2, 3]).unwrap();
        assert_eq!(p2.items, vec![3]);
        assert!(p2.next_marker.is_none());
        assert!(page(&form(&[("Marker", "junk")]), vec![1]).is_err());
    }
}
