//! What a target gets: the whole event; `Input` (constant JSON); `InputPath` (the part of the
//! event a JSONPath names); or `InputTransformer` (values picked by `InputPathsMap` placed
//! into `InputTemplate`: bare placeholders as JSON, placeholders inside a quoted string as
//! raw text, as AWS documents; the reserved `aws.events.*` variables). This is the one place
//! input is shaped, so that `cairn_rules::transform` can take it over.

use cairn_model::timefmt::event_time;
use serde_json::{Map, Value};

/// The input `target` (a `Target` structure) gets for `event`.
pub(crate) fn input_for(
    target: &Value,
    event: &Value,
    event_text: &str,
    rule_arn: &str,
    now_ms: i64,
) -> String {
    if let Some(input) = target.get("Input").and_then(Value::as_str) {
        return input.to_owned();
    }
    if let Some(path) = target.get("InputPath").and_then(Value::as_str) {
        return select(event, path).map_or_else(|| "null".to_owned(), |v| v.to_string());
    }
    if let Some(t) = target.get("InputTransformer") {
        let template = t
            .get("InputTemplate")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut vars: Vec<(String, Value)> = t
            .get("InputPathsMap")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, p)| Some((k.clone(), select(event, p.as_str()?)?.clone())))
            .collect();
        let name = rule_arn.rsplit('/').next().unwrap_or_default();
        let mut without_detail = event.as_object().cloned().unwrap_or_default();
        without_detail.shift_remove("detail");
        vars.push(("aws.events.rule-arn".into(), Value::from(rule_arn)));
        vars.push(("aws.events.rule-name".into(), Value::from(name)));
        vars.push((
            "aws.events.event.ingestion-time".into(),
            Value::from(event_time(now_ms)),
        ));
        vars.push(("aws.events.event".into(), Value::Object(without_detail)));
        vars.push(("aws.events.event.json".into(), event.clone()));
        return fill(template, &vars);
    }
    event_text.to_owned()
}

/// The value a JSONPath (`$`, `$.a.b`, `$.a[0]`, `$['a']`) names in `v`.
pub(crate) fn select<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    let mut rest = path.trim().strip_prefix('$')?;
    let mut at = v;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            at = at.get(&r[..end])?;
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix("['") {
            let end = r.find("']")?;
            at = at.get(&r[..end])?;
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let i: usize = r[..end].trim().parse().ok()?;
            at = at.get(i)?;
            rest = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(at)
}

/// `template` with each `<name>` replaced: inside a quoted string by the value's text,
/// elsewhere by its JSON. Names without a value (not in the map, or a path the event does
/// not have) are left as written.
fn fill(template: &str, vars: &[(String, Value)]) -> String {
    let lookup: Map<String, Value> = vars.iter().cloned().collect();
    let mut out = String::with_capacity(template.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = template;
    while let Some(c) = rest.chars().next() {
        if c == '<'
            && let Some(end) = rest.find('>')
        {
            let name = &rest[1..end];
            let known = lookup.get(name);
            let declared = !name.is_empty() && !name.contains(['<', ' ', '"']);
            if let (Some(v), true) = (known, declared) {
                match (in_string, v) {
                    (true, Value::String(s)) => out.push_str(s),
                    (_, v) => out.push_str(&v.to_string()),
                }
                rest = &rest[end + 1..];
                continue;
            }
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({"version": "0", "id": "i", "detail-type": "T", "source": "s", "account": "1",
               "time": "2026-01-01T00:00:00Z", "region": "r", "resources": ["a", "b"],
               "detail": {"instance": "i-1", "state": "running", "n": 5, "list": [1, 2]}})
    }

    #[test]
    fn the_whole_event_input_and_input_path() {
        let e = event();
        let rule = "arn:aws:events:r:1:rule/x";
        assert_eq!(input_for(&json!({}), &e, "TEXT", rule, 0), "TEXT");
        assert_eq!(
            input_for(&json!({"Input": "{\"k\":1}"}), &e, "TEXT", rule, 0),
            "{\"k\":1}"
        );
        assert_eq!(
            input_for(&json!({"InputPath": "$.detail"}), &e, "", rule, 0),
            e["detail"].to_string()
        );
        assert_eq!(
            input_for(&json!({"InputPath": "$.resources[1]"}), &e, "", rule, 0),
            "\"b\""
        );
        assert_eq!(
            input_for(&json!({"InputPath": "$['detail'].n"}), &e, "", rule, 0),
            "5"
        );
        assert_eq!(
            input_for(&json!({"InputPath": "$.nothing"}), &e, "", rule, 0),
            "null"
        );
    }

    #[test]
    fn templates_quote_bare_values_and_inline_string_ones() {
        let e = event();
        let t = json!({"InputTransformer": {
            "InputPathsMap": {"instance": "$.detail.instance", "state": "$.detail.state", "n": "$.detail.n", "gone": "$.detail.gone"},
            "InputTemplate": "{\"instance\": <instance>, \"says\": \"<instance> is <state>\", \"n\": <n>, \"rule\": \"<aws.events.rule-name>\", \"gone\": <gone>}"
        }});
        let out = input_for(&t, &e, "", "arn:aws:events:r:1:rule/my-rule", 0);
        assert_eq!(
            out,
            "{\"instance\": \"i-1\", \"says\": \"i-1 is running\", \"n\": 5, \"rule\": \"my-rule\", \"gone\": <gone>}"
        );
        let s = json!({"InputTransformer": {"InputPathsMap": {"s": "$.detail.state"}, "InputTemplate": "\"<s> now\""}});
        assert_eq!(
            input_for(&s, &e, "", "arn:aws:events:r:1:rule/x", 0),
            "\"running now\""
        );
        let whole = json!({"InputTransformer": {"InputTemplate": "<aws.events.event.json>"}});
        let v: Value =
            serde_json::from_str(&input_for(&whole, &e, "", "arn:aws:events:r:1:rule/x", 0))
                .expect("JSON");
        assert_eq!(v, e);
    }
}
