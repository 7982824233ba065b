//! Subscription filter policies, as AWS documents them: a policy is a JSON object whose keys
//! name message attributes (scope `MessageAttributes`) or members of a JSON message body
//! (scope `MessageBody`, nested objects for nested members); each key holds an array of
//! conditions, any of which may match (OR), and every key must match (AND); `$or` holds
//! alternative policies. Conditions: exact strings and numbers, `null` (bodies),
//! `prefix`, `suffix`, `equals-ignore-case`, `anything-but` (a value, a list, or a
//! `prefix`/`suffix`), `numeric` ranges, and `exists`. String.Array attributes and array
//! members match when any element does.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::wire::MessageAttribute;

/// Checks a policy's shape; the parsed policy.
pub(crate) fn validate(text: &str) -> Result<Value, String> {
    let v: Value = serde_json::from_str(text).map_err(|_| "failed to parse JSON.".to_owned())?;
    let obj = v
        .as_object()
        .ok_or("the filter policy must be a JSON object")?;
    check_object(obj, 0)?;
    Ok(v)
}

fn check_object(obj: &Map<String, Value>, depth: usize) -> Result<(), String> {
    if depth > 5 {
        return Err("Filter policy is too complex".into());
    }
    for (k, v) in obj {
        match v {
            Value::Array(conds) if k != "$or" => {
                if conds.is_empty() {
                    return Err(format!("Empty arrays are not allowed for key {k}"));
                }
                for c in conds {
                    check_condition(c)?;
                }
            }
            Value::Array(alts) => {
                for a in alts {
                    let o = a.as_object().ok_or("$or must hold objects")?;
                    check_object(o, depth + 1)?;
                }
            }
            Value::Object(o) => check_object(o, depth + 1)?,
            _ => return Err(format!("Match value for key {k} must be an array")),
        }
    }
    Ok(())
}

fn check_condition(c: &Value) -> Result<(), String> {
    let Value::Object(o) = c else {
        return if c.is_array() {
            Err("Match value must be String, number, true, false, or null".into())
        } else {
            Ok(())
        };
    };
    let (op, arg) = o.iter().next().ok_or("Empty objects are not allowed")?;
    match op.as_str() {
        "prefix" | "suffix" | "equals-ignore-case" if arg.is_string() => Ok(()),
        "exists" if arg.is_boolean() => Ok(()),
        "anything-but" => Ok(()),
        "numeric" => numeric_ranges(arg).map(|_| ()),
        _ => Err(format!("Unrecognized match type {op}")),
    }
}

/// `[">", 0, "<=", 5]` → [(">", 0.0), ("<=", 5.0)]
fn numeric_ranges(arg: &Value) -> Result<Vec<(String, f64)>, String> {
    let a = arg.as_array().ok_or("Value of numeric must be an array.")?;
    let mut out = Vec::new();
    for pair in a.chunks(2) {
        let op = pair
            .first()
            .and_then(Value::as_str)
            .ok_or("Unrecognized numeric range operator")?;
        if !["=", "<", "<=", ">", ">="].contains(&op) {
            return Err(format!("Unrecognized numeric range operator: {op}"));
        }
        let n = pair
            .get(1)
            .and_then(Value::as_f64)
            .ok_or("Value of numeric must be numbers")?;
        out.push((op.to_owned(), n));
    }
    if out.is_empty() {
        return Err("Value of numeric must be an array.".into());
    }
    Ok(out)
}

/// The scope a policy applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    MessageAttributes,
    MessageBody,
}

/// Whether a message passes the policy.
pub(crate) fn matches(
    policy: &Value,
    scope: Scope,
    attributes: &BTreeMap<String, MessageAttribute>,
    body: &str,
) -> bool {
    let Some(p) = policy.as_object() else {
        return true;
    };
    match scope {
        Scope::MessageAttributes => {
            let values: Map<String, Value> = attributes
                .iter()
                .filter_map(|(k, a)| attribute_value(a).map(|v| (k.clone(), v)))
                .collect();
            object_matches(p, &values)
        }
        Scope::MessageBody => match serde_json::from_str::<Value>(body) {
            Ok(Value::Object(b)) => object_matches(p, &b),
            _ => false,
        },
    }
}

/// An attribute as a JSON value: strings, numbers, and String.Array as an array.
fn attribute_value(a: &MessageAttribute) -> Option<Value> {
    if a.binary || a.data_type.starts_with("Binary") {
        return None;
    }
    if a.data_type.starts_with("Number") {
        return a
            .value
            .parse::<f64>()
            .ok()
            .and_then(|n| serde_json::Number::from_f64(n).map(Value::Number));
    }
    if a.data_type == "String.Array" {
        return serde_json::from_str::<Value>(&a.value)
            .ok()
            .filter(Value::is_array);
    }
    Some(Value::String(a.value.clone()))
}

fn object_matches(policy: &Map<String, Value>, data: &Map<String, Value>) -> bool {
    policy.iter().all(|(k, cond)| {
        if k == "$or" {
            return cond.as_array().is_some_and(|alts| {
                alts.iter()
                    .any(|a| a.as_object().is_some_and(|o| object_matches(o, data)))
            });
        }
        match cond {
            Value::Object(nested) => match data.get(k) {
                Some(Value::Object(d)) => object_matches(nested, d),
                // A nested policy against a missing member still matches `exists: false`.
                _ => object_matches(nested, &Map::new()),
            },
            Value::Array(conds) => conds.iter().any(|c| condition_matches(c, data.get(k))),
            _ => false,
        }
    })
}

fn condition_matches(c: &Value, value: Option<&Value>) -> bool {
    if let Some(o) = c.as_object()
        && let Some(e) = o.get("exists").and_then(Value::as_bool)
    {
        return value.is_some() == e;
    }
    let Some(value) = value else {
        return false;
    };
    if let Value::Array(items) = value {
        return items.iter().any(|v| scalar_matches(c, v));
    }
    scalar_matches(c, value)
}

fn num_eq(a: &Value, b: &Value) -> bool {
    matches!((a.as_f64(), b.as_f64()), (Some(x), Some(y)) if x == y)
}

fn scalar_matches(c: &Value, v: &Value) -> bool {
    match c {
        Value::String(s) => v.as_str() == Some(s.as_str()),
        Value::Number(_) => num_eq(c, v),
        Value::Null => v.is_null(),
        Value::Bool(b) => v.as_bool() == Some(*b),
        Value::Object(o) => {
            let Some((op, arg)) = o.iter().next() else {
                return false;
            };
            let text = v.as_str();
            match op.as_str() {
                "prefix" => matches!((text, arg.as_str()), (Some(t), Some(p)) if t.starts_with(p)),
                "suffix" => matches!((text, arg.as_str()), (Some(t), Some(p)) if t.ends_with(p)),
                "equals-ignore-case" => {
                    matches!((text, arg.as_str()), (Some(t), Some(p)) if t.eq_ignore_ascii_case(p))
                }
                "numeric" => match (v.as_f64(), numeric_ranges(arg)) {
                    (Some(n), Ok(ranges)) => ranges.iter().all(|(op, x)| match op.as_str() {
                        "=" => n == *x,
                        "<" => n < *x,
                        "<=" => n <= *x,
                        ">" => n > *x,
                        _ => n >= *x,
                    }),
                    _ => false,
                },
                "anything-but" => match arg {
                    Value::Array(xs) => !xs.iter().any(|x| scalar_matches(x, v)),
                    Value::Object(_) => !scalar_matches(arg, v),
                    other => !scalar_matches(other, v),
                },
                _ => false,
            }
        }
        Value::Array(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(pairs: &[(&str, &str, &str)]) -> BTreeMap<String, MessageAttribute> {
        pairs
            .iter()
            .map(|(k, t, v)| {
                (
                    (*k).to_owned(),
                    MessageAttribute {
                        data_type: (*t).into(),
                        value: (*v).into(),
                        binary: false,
                    },
                )
            })
            .collect()
    }

    fn on_attrs(policy: Value, a: &[(&str, &str, &str)]) -> bool {
        matches(&policy, Scope::MessageAttributes, &attrs(a), "")
    }

    #[test]
    fn exact_values_and_and_or() {
        let p = json!({"store": ["example_corp"], "event": ["order_placed", "order_cancelled"]});
        assert!(on_attrs(
            p.clone(),
            &[
                ("store", "String", "example_corp"),
                ("event", "String", "order_cancelled")
            ]
        ));
        assert!(!on_attrs(
            p.clone(),
            &[
                ("store", "String", "example_corp"),
                ("event", "String", "other")
            ]
        ));
        assert!(!on_attrs(p, &[("store", "String", "example_corp")]));
    }

    #[test]
    fn numbers_ranges_prefixes_and_anything_but() {
        assert!(on_attrs(
            json!({"price": [{"numeric": [">", 0, "<=", 150]}]}),
            &[("price", "Number", "100")]
        ));
        assert!(!on_attrs(
            json!({"price": [{"numeric": [">", 0, "<=", 150]}]}),
            &[("price", "Number", "151")]
        ));
        assert!(on_attrs(
            json!({"price": [100]}),
            &[("price", "Number", "100.0")]
        ));
        assert!(on_attrs(
            json!({"c": [{"prefix": "bas"}]}),
            &[("c", "String", "basketball")]
        ));
        assert!(on_attrs(
            json!({"c": [{"suffix": "ball"}]}),
            &[("c", "String", "basketball")]
        ));
        assert!(on_attrs(
            json!({"c": [{"equals-ignore-case": "RED"}]}),
            &[("c", "String", "red")]
        ));
        assert!(!on_attrs(
            json!({"c": [{"anything-but": ["red", "blue"]}]}),
            &[("c", "String", "red")]
        ));
        assert!(on_attrs(
            json!({"c": [{"anything-but": {"prefix": "re"}}]}),
            &[("c", "String", "blue")]
        ));
        assert!(!on_attrs(json!({"c": [{"anything-but": "red"}]}), &[]));
    }

    #[test]
    fn exists_arrays_and_or() {
        assert!(on_attrs(json!({"c": [{"exists": false}]}), &[]));
        assert!(!on_attrs(json!({"c": [{"exists": true}]}), &[]));
        assert!(on_attrs(
            json!({"c": ["b"]}),
            &[("c", "String.Array", "[\"a\",\"b\"]")]
        ));
        let or = json!({"$or": [{"a": ["1"]}, {"b": ["2"]}]});
        assert!(on_attrs(or.clone(), &[("b", "String", "2")]));
        assert!(!on_attrs(or, &[("b", "String", "3")]));
    }

    #[test]
    fn message_body_scope_follows_nested_members() {
        let p = json!({"patient": {"age": [{"numeric": [">=", 18]}]}, "kind": ["visit"]});
        let body = r#"{"kind":"visit","patient":{"age":40}}"#;
        assert!(matches(&p, Scope::MessageBody, &BTreeMap::new(), body));
        assert!(!matches(
            &p,
            Scope::MessageBody,
            &BTreeMap::new(),
            r#"{"kind":"visit","patient":{"age":4}}"#
        ));
        assert!(!matches(
            &p,
            Scope::MessageBody,
            &BTreeMap::new(),
            "not json"
        ));
    }

    #[test]
    fn invalid_policies_are_refused() {
        assert!(validate("{").is_err());
        assert!(validate(r#"{"a": "x"}"#).is_err());
        assert!(validate(r#"{"a": []}"#).is_err());
        assert!(validate(r#"{"a": [{"numeric": ["~", 1]}]}"#).is_err());
        assert!(validate(r#"{"a": [{"wat": 1}]}"#).is_err());
        assert!(validate(r#"{"a": ["x", 1, {"prefix": "p"}]}"#).is_ok());
    }
}
