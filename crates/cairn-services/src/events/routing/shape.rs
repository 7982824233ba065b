//! What a target gets: the whole event; `Input` (constant JSON); `InputPath` (the part of the
//! event a JSONPath names); or `InputTransformer` (values picked by `InputPathsMap` placed
//! into `InputTemplate`). The paths and templates are `cairn_rules::transform`'s; this is
//! the one place the router asks for a target's input.

use std::collections::BTreeMap;

use cairn_model::timefmt::event_time;
use cairn_rules::transform::{InputPath, InputTransformer, TransformError};
use serde_json::Value;

/// What is wrong with a target's `InputPath` or `InputTransformer`, in `PutTargets`' words.
pub(crate) fn check(target: &Value) -> Result<(), TransformError> {
    if let Some(path) = target.get("InputPath").and_then(Value::as_str) {
        InputPath::parse(path)?;
    }
    if let Some(t) = target.get("InputTransformer") {
        transformer(t)?;
    }
    Ok(())
}

fn transformer(t: &Value) -> Result<InputTransformer, TransformError> {
    let paths: BTreeMap<String, String> = t
        .get("InputPathsMap")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    let template = t
        .get("InputTemplate")
        .and_then(Value::as_str)
        .unwrap_or_default();
    InputTransformer::new(&paths, template)
}

/// The input `target` (a `Target` structure) gets for `event` (whose text is `event_text`),
/// or `None` when it gets nothing: a path the event does not have, or a template that
/// renders to something that is not JSON (AWS delivers nothing then).
pub(crate) fn input_for(
    target: &Value,
    event: &Value,
    event_text: &str,
    rule_arn: &str,
    now_ms: i64,
) -> Option<String> {
    if let Some(input) = target.get("Input").and_then(Value::as_str) {
        return Some(input.to_owned());
    }
    if let Some(path) = target.get("InputPath").and_then(Value::as_str) {
        return InputPath::parse(path)
            .ok()?
            .apply(event)
            .map(|v| v.to_string());
    }
    if let Some(t) = target.get("InputTransformer") {
        let name = rule_arn.rsplit('/').next().unwrap_or_default();
        return transformer(t)
            .ok()?
            .render_checked(event, rule_arn, name, &event_time(now_ms));
    }
    Some(event_text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({"version": "0", "id": "i", "detail-type": "T", "source": "s", "account": "1",
               "time": "2026-01-01T00:00:00Z", "region": "r", "resources": ["a", "b"],
               "detail": {"instance": "i-1", "state": "running", "n": 5}})
    }

    #[test]
    fn the_whole_event_input_and_input_path() {
        let e = event();
        let rule = "arn:aws:events:r:1:rule/x";
        let input = |t: Value| input_for(&t, &e, "TEXT", rule, 0);
        assert_eq!(input(json!({})).as_deref(), Some("TEXT"));
        assert_eq!(
            input(json!({"Input": "{\"k\":1}"})).as_deref(),
            Some("{\"k\":1}")
        );
        assert_eq!(
            input(json!({"InputPath": "$.detail"})),
            Some(e["detail"].to_string())
        );
        assert_eq!(
            input(json!({"InputPath": "$.resources[1]"})).as_deref(),
            Some("\"b\"")
        );
        assert_eq!(input(json!({"InputPath": "$.nothing"})), None);
    }

    #[test]
    fn templates_and_their_checks() {
        let e = event();
        let t = json!({"InputTransformer": {
            "InputPathsMap": {"instance": "$.detail.instance", "state": "$.detail.state"},
            "InputTemplate": "{\"instance\": <instance>, \"says\": \"<instance> is <state>\", \"rule\": \"<aws.events.rule-name>\"}"
        }});
        assert_eq!(check(&t), Ok(()));
        let out = input_for(&t, &e, "", "arn:aws:events:r:1:rule/my-rule", 0).expect("an input");
        assert_eq!(
            serde_json::from_str::<Value>(&out).expect("JSON"),
            json!({"instance": "i-1", "says": "i-1 is running", "rule": "my-rule"})
        );
        let bad = json!({"InputTransformer": {"InputTemplate": "<nope>"}});
        assert!(matches!(
            check(&bad),
            Err(TransformError::InvalidPlaceholder(_))
        ));
        assert!(check(&json!({"InputPath": "detail"})).is_err());
    }
}
