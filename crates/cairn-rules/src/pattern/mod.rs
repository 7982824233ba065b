//! EventBridge event patterns: parsing with AWS's `InvalidEventPatternException` reasons, and
//! matching events (exact values, prefix, suffix, anything-but, equals-ignore-case, wildcard,
//! numeric, exists, cidr, `$or`, arrays in events).
//!
//! SKELETON: the API the events service builds on; the engine behind it is being written
//! (issue 15). Today only exact string/number/bool/null leaves match.

use serde_json::Value;

/// A pattern EventBridge refuses; `reason` is the text after
/// `Event pattern is not valid. Reason: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Event pattern is not valid. Reason: {reason}")]
pub struct PatternError {
    pub reason: String,
}

/// One parsed, validated event pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    root: Value,
}

impl Pattern {
    /// Parses and validates `text` as EventBridge does for `PutRule` and `TestEventPattern`.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let root: Value = serde_json::from_str(text).map_err(|e| PatternError {
            reason: e.to_string(),
        })?;
        if !root.is_object() {
            return Err(PatternError {
                reason: "Filter is not an object".into(),
            });
        }
        Ok(Pattern { root })
    }

    /// Whether `event` (an EventBridge event: `version`, `id`, `detail-type`, `source`, …)
    /// matches.
    pub fn matches(&self, event: &Value) -> bool {
        matches_object(&self.root, event)
    }
}

fn matches_object(pattern: &Value, event: &Value) -> bool {
    let Some(fields) = pattern.as_object() else {
        return false;
    };
    fields.iter().all(|(key, want)| {
        let got = event.get(key);
        match want {
            Value::Object(_) => got.is_some_and(|g| matches_object(want, g)),
            Value::Array(options) => got.is_some_and(|g| options.iter().any(|o| o == g)),
            _ => false,
        }
    })
}
