//! EventBridge target input shaping, pure: `InputPath` (a JSONPath into the event) and
//! `InputTransformer` (`InputPathsMap` + `InputTemplate`), with the reserved variables
//! `aws.events.rule-arn`, `aws.events.rule-name`, `aws.events.event.ingestion-time`,
//! `aws.events.event` and `aws.events.event.json`.
//!
//! ```
//! use std::collections::BTreeMap;
//! use cairn_rules::transform::InputTransformer;
//! let map = BTreeMap::from([("name".to_string(), "$.detail.eventName".to_string())]);
//! let t = InputTransformer::new(&map, r#"{"call": <name>}"#).unwrap();
//! let e = serde_json::json!({"detail": {"eventName": "StopLogging"}});
//! assert_eq!(t.render(&e, "arn", "rule", "2026-01-01T00:00:00Z"), r#"{"call": "StopLogging"}"#);
//! ```
//!
//! Modules: `path` parses and applies JSONPaths; `template` finds placeholders and holds the
//! quoting rules.

mod path;
mod template;

use std::collections::BTreeMap;

use serde_json::{Map, Value};

pub use path::InputPath;
use template::{Piece, pieces, raw_text, text_form};

/// Most entries `InputPathsMap` may hold.
pub const MAX_PATHS: usize = 100;
/// Longest `InputTemplate` (`TransformerInput`, 8192 characters).
pub const MAX_TEMPLATE_LEN: usize = 8192;
/// Longest input a transformer renders, in bytes: 256 KB, EventBridge's event size limit.
/// [I] A template may repeat a placeholder (an 8 KB template of `<aws.events.event.json>`
/// rendered ~87 MB for one event), so rendering stops here:
/// [`InputTransformer::render_checked`] answers `None` (nothing is delivered) and
/// [`InputTransformer::render`] ends before the piece that would pass it.
pub const MAX_OUTPUT_LEN: usize = 256 * 1024;
/// Longest `InputPathsMap` key.
const MAX_KEY_LEN: usize = 256;

const RULE_ARN: &str = "aws.events.rule-arn";
const RULE_NAME: &str = "aws.events.rule-name";
const INGESTION_TIME: &str = "aws.events.event.ingestion-time";
const EVENT: &str = "aws.events.event";
const EVENT_JSON: &str = "aws.events.event.json";
const RESERVED: [&str; 5] = [RULE_ARN, RULE_NAME, INGESTION_TIME, EVENT, EVENT_JSON];

/// Why a target's input settings are refused. [`TransformError::for_target`] gives the text
/// `PutTargets` reports for a target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransformError {
    /// A path that is not one of the accepted JSONPath forms.
    #[error("{0} is not a valid JSON path")]
    InvalidPath(String),
    /// More than [`MAX_PATHS`] entries.
    #[error("InputPathsMap has {0} entries; at most 100 are allowed")]
    TooManyPaths(usize),
    /// A key outside `[A-Za-z0-9_-]{1,256}`, or one starting with `AWS.`.
    #[error("InputPathsMap key {0} is not valid")]
    InvalidKey(String),
    /// An empty or over-long template.
    #[error("InputTemplate must be 1 to 8192 characters")]
    TemplateLength,
    /// A placeholder that is neither a key of the map nor a reserved variable.
    #[error("InputTemplate contains invalid placeholder {0}.")]
    InvalidPlaceholder(String),
}

impl TransformError {
    /// The message for target `id`. `InvalidPlaceholder` is AWS's recorded text; the others
    /// are cairn's own, marked `[I]` (AWS's texts for them were not recorded).
    pub fn for_target(&self, id: &str) -> String {
        match self {
            TransformError::InvalidPlaceholder(name) => {
                format!("InputTemplate for target {id} contains invalid placeholder {name}.")
            }
            TransformError::InvalidPath(p) => {
                format!("Input path {p} for target {id} is not a valid JSON path.")
            }
            other => format!("{other} (target {id})"),
        }
    }
}

/// A validated `InputTransformer`.
#[derive(Debug, Clone)]
pub struct InputTransformer {
    paths: BTreeMap<String, InputPath>,
    pieces: Vec<Piece>,
    /// A template starting with `{` or `[`: rendered as JSON.
    json: bool,
}

impl InputTransformer {
    /// Validates `InputPathsMap` and `InputTemplate` as `PutTargets` does.
    pub fn new(
        paths_map: &BTreeMap<String, String>,
        template: &str,
    ) -> Result<InputTransformer, TransformError> {
        if paths_map.len() > MAX_PATHS {
            return Err(TransformError::TooManyPaths(paths_map.len()));
        }
        if template.is_empty() || template.chars().count() > MAX_TEMPLATE_LEN {
            return Err(TransformError::TemplateLength);
        }
        let mut paths = BTreeMap::new();
        for (key, path) in paths_map {
            let key_ok = !key.is_empty()
                && key.len() <= MAX_KEY_LEN
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !key_ok || key.starts_with("AWS.") {
                return Err(TransformError::InvalidKey(key.clone()));
            }
            paths.insert(key.clone(), InputPath::parse_dotted(path)?);
        }
        let pieces = pieces(template);
        for p in &pieces {
            if let Piece::Var { name, .. } = p
                && !paths.contains_key(name)
                && !RESERVED.contains(&name.as_str())
            {
                return Err(TransformError::InvalidPlaceholder(name.clone()));
            }
        }
        let json = matches!(template.trim_start().chars().next(), Some('{' | '['));
        Ok(InputTransformer {
            paths,
            pieces,
            json,
        })
    }

    /// The input the target receives for `event`. Never longer than [`MAX_OUTPUT_LEN`]: an
    /// input that would be longer ends before the first piece (literal text or placeholder
    /// value) that passes the limit; [`InputTransformer::render_checked`] refuses it instead.
    pub fn render(
        &self,
        event: &Value,
        rule_arn: &str,
        rule_name: &str,
        ingestion_time: &str,
    ) -> String {
        let (out, _) = self.render_capped(event, rule_arn, rule_name, ingestion_time);
        out
    }

    /// The rendered input, and whether it is complete (false: stopped at [`MAX_OUTPUT_LEN`]).
    fn render_capped(
        &self,
        event: &Value,
        rule_arn: &str,
        rule_name: &str,
        ingestion_time: &str,
    ) -> (String, bool) {
        let mut out = String::new();
        for piece in &self.pieces {
            let (name, quoted) = match piece {
                Piece::Literal(s) => {
                    if out.len() + s.len() > MAX_OUTPUT_LEN {
                        return (out, false);
                    }
                    out.push_str(s);
                    continue;
                }
                Piece::Var { name, quoted } => (name.as_str(), *quoted),
            };
            let value = self.value(name, event, rule_arn, rule_name, ingestion_time);
            let text = match (self.json, quoted, value) {
                (true, false, Some(v)) => v.to_string(),
                // An unresolved path in a JSON position is an empty string (recorded: AWS
                // delivered `"command": ""`).
                (true, false, None) => "\"\"".to_owned(),
                (true, true, Some(v)) => raw_text(&v),
                (false, _, Some(v)) => text_form(&v),
                (_, _, None) => continue,
            };
            if out.len() + text.len() > MAX_OUTPUT_LEN {
                return (out, false);
            }
            out.push_str(&text);
        }
        (out, true)
    }

    /// As [`InputTransformer::render`], but `None` when a JSON template renders to something
    /// that is not JSON: AWS then delivers nothing (recorded for `{"payload": "<payload>"}`
    /// with an object payload). Also `None`, so nothing is delivered, when the input would be
    /// longer than [`MAX_OUTPUT_LEN`] (256 KB, EventBridge's event size limit).
    pub fn render_checked(
        &self,
        event: &Value,
        rule_arn: &str,
        rule_name: &str,
        ingestion_time: &str,
    ) -> Option<String> {
        let (out, complete) = self.render_capped(event, rule_arn, rule_name, ingestion_time);
        if !complete {
            return None;
        }
        if self.json && serde_json::from_str::<Value>(&out).is_err() {
            return None;
        }
        Some(out)
    }

    fn value(
        &self,
        name: &str,
        event: &Value,
        rule_arn: &str,
        rule_name: &str,
        ingestion_time: &str,
    ) -> Option<Value> {
        if let Some(path) = self.paths.get(name) {
            return path.apply(event);
        }
        match name {
            RULE_ARN => Some(Value::String(rule_arn.to_owned())),
            RULE_NAME => Some(Value::String(rule_name.to_owned())),
            INGESTION_TIME => Some(Value::String(ingestion_time.to_owned())),
            EVENT => Some(event_without_detail(event)),
            EVENT_JSON => Some(event.clone()),
            _ => None,
        }
    }
}

/// `aws.events.event`: the envelope without `detail`, keys as AWS delivers them (recorded:
/// `detail-type` becomes `detailType`, in this order).
fn event_without_detail(event: &Value) -> Value {
    let mut m = Map::new();
    for (key, from) in [
        ("id", "id"),
        ("account", "account"),
        ("detailType", "detail-type"),
        ("time", "time"),
        ("source", "source"),
        ("region", "region"),
        ("resources", "resources"),
        ("version", "version"),
    ] {
        if let Some(v) = event.get(from) {
            m.insert(key.to_owned(), v.clone());
        }
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({"version": "0", "id": "e-1", "detail-type": "core.update-account-command",
            "source": "core.update-account-command", "account": "111111111111", "time": "2026-01-01T00:00:00Z",
            "region": "us-east-1", "resources": [],
            "detail": {"command": "update-account", "payload": {"acc_id": "0a787ecb-4015", "sf_id": "baz"},
                "listsingle": ["HIGH"], "listmulti": ["ACTIVE", "INACTIVE"], "valid": true}})
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn render(pairs: &[(&str, &str)], template: &str) -> String {
        InputTransformer::new(&map(pairs), template)
            .unwrap()
            .render(
                &event(),
                "arn:aws:events:us-east-1:1:rule/r",
                "r",
                "2026-01-01T00:00:01Z",
            )
    }

    const PATHS: [(&str, &str); 6] = [
        ("userId", "$.detail.payload.acc_id"),
        ("payload", "$.detail.payload"),
        ("systemstring", "$.detail.awsAccountId"),
        ("listsingle", "$.detail.listsingle"),
        ("listmulti", "$.detail.listmulti"),
        ("valid", "$.detail.valid"),
    ];

    #[test]
    fn bare_placeholders_in_json_insert_json_values() {
        let out = render(
            &PATHS,
            r#"{"method": "PUT", "path": "users-service/users/<userId>", "id": <userId>, "body": <payload>}"#,
        );
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v,
            json!({"method": "PUT", "path": "users-service/users/0a787ecb-4015", "id": "0a787ecb-4015",
                "body": {"acc_id": "0a787ecb-4015", "sf_id": "baz"}})
        );
        let v: Value =
            serde_json::from_str(&render(&PATHS, r#"{"singlelistitem": <listsingle>}"#)).unwrap();
        assert_eq!(v, json!({"singlelistitem": ["HIGH"]}));
    }

    #[test]
    fn quoted_placeholders_insert_raw_text() {
        assert_eq!(
            render(
                &PATHS,
                r#"{"multi_replacement": "users/<userId>/second/<userId>"}"#
            ),
            r#"{"multi_replacement": "users/0a787ecb-4015/second/0a787ecb-4015"}"#
        );
    }

    #[test]
    fn text_templates_strip_quotes_from_structured_values() {
        assert_eq!(
            render(
                &PATHS,
                r#""<listsingle> single list item <listmulti> multiple list items <systemstring> system account id <payload> payload <userId> user id""#
            ),
            r#""[HIGH] single list item [ACTIVE,INACTIVE] multiple list items  system account id {acc_id:0a787ecb-4015,sf_id:baz} payload 0a787ecb-4015 user id""#
        );
        assert_eq!(
            render(&PATHS, r#""Command is <valid>!""#),
            r#""Command is true!""#
        );
    }

    #[test]
    fn unresolved_paths_give_empty_values() {
        let pairs = [("command", "$.detail.notinmessage")];
        assert_eq!(
            render(&pairs, r#"{"command": <command>}"#),
            r#"{"command": ""}"#
        );
        assert_eq!(render(&pairs, r#""detail <command>""#), r#""detail ""#);
    }

    #[test]
    fn reserved_variables() {
        assert_eq!(
            render(
                &[],
                r#""<aws.events.rule-arn> <aws.events.rule-name> <aws.events.event.ingestion-time>""#
            ),
            r#""arn:aws:events:us-east-1:1:rule/r r 2026-01-01T00:00:01Z""#
        );
        let out = render(
            &[],
            r#"{"originalEvent": <aws.events.event>, "originalEventJson": <aws.events.event.json>}"#,
        );
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v["originalEvent"],
            json!({"id": "e-1", "account": "111111111111", "detailType": "core.update-account-command",
                "time": "2026-01-01T00:00:00Z", "source": "core.update-account-command", "region": "us-east-1",
                "resources": [], "version": "0"})
        );
        assert!(v["originalEvent"].get("detail").is_none());
        assert_eq!(v["originalEventJson"], event());
    }

    #[test]
    fn json_templates_that_break_json_are_not_delivered() {
        let t = InputTransformer::new(&map(&PATHS), r#"{"payload": "<payload>"}"#).unwrap();
        assert_eq!(t.render_checked(&event(), "a", "r", "t"), None);
        let t = InputTransformer::new(&map(&PATHS), r#"{"id" : "<userId>"}"#).unwrap();
        assert_eq!(
            t.render_checked(&event(), "a", "r", "t").as_deref(),
            Some(r#"{"id" : "0a787ecb-4015"}"#)
        );
    }

    #[test]
    fn undefined_placeholders_are_refused_with_aws_text() {
        let e = InputTransformer::new(
            &map(&[("detail-type", "$.detail-type")]),
            r#""Event of <detail-type> type, with not defined key <notdefinedkey>""#,
        )
        .unwrap_err();
        assert_eq!(
            e.for_target("t1"),
            "InputTemplate for target t1 contains invalid placeholder notdefinedkey."
        );
    }

    #[test]
    fn paths_map_validation() {
        let many: BTreeMap<String, String> = (0..101)
            .map(|i| (format!("k{i}"), "$.detail".to_owned()))
            .collect();
        assert_eq!(
            InputTransformer::new(&many, "\"x\"").unwrap_err(),
            TransformError::TooManyPaths(101)
        );
        assert!(matches!(
            InputTransformer::new(&map(&[("bad key", "$.a")]), "\"x\""),
            Err(TransformError::InvalidKey(_))
        ));
        assert!(matches!(
            InputTransformer::new(&map(&[("k", "$['detail']")]), "\"x\""),
            Err(TransformError::InvalidPath(_))
        ));
        assert!(matches!(
            InputTransformer::new(&map(&[("k", "detail")]), "\"x\""),
            Err(TransformError::InvalidPath(_))
        ));
        assert_eq!(
            InputTransformer::new(&map(&[]), "").unwrap_err(),
            TransformError::TemplateLength
        );
    }
}
