//! A Sigma detection's named searches: a map of field tests (all must pass), a list of such
//! maps (any may), or a list of keywords (any string of the record contains one).

use serde_json::Value;

use super::SigmaError;
use super::record::all_strings;
use super::value::FieldTest;

#[derive(Debug, Clone)]
pub enum Selection {
    /// Every test passes.
    All(Vec<FieldTest>),
    /// One of the alternatives passes.
    Any(Vec<Selection>),
    /// A record string contains one of the keywords (case-insensitive).
    Keywords(Vec<String>),
}

impl Selection {
    pub fn compile(name: &str, v: &Value) -> Result<Selection, SigmaError> {
        match v {
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| FieldTest::compile(k, v))
                .collect::<Result<Vec<_>, _>>()
                .map(Selection::All),
            Value::Array(items) if items.iter().all(Value::is_object) => items
                .iter()
                .map(|i| Selection::compile(name, i))
                .collect::<Result<Vec<_>, _>>()
                .map(Selection::Any),
            Value::Array(items) => items
                .iter()
                .map(|i| match i {
                    Value::String(s) => Ok(s.to_lowercase()),
                    Value::Number(n) => Ok(n.to_string()),
                    other => Err(SigmaError::Invalid(format!(
                        "search '{name}' mixes keywords with {other}"
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Selection::Keywords),
            Value::String(s) => Ok(Selection::Keywords(vec![s.to_lowercase()])),
            other => Err(SigmaError::Invalid(format!(
                "search '{name}' is neither a map, a list of maps nor keywords: {other}"
            ))),
        }
    }

    pub fn matches(&self, record: &Value) -> bool {
        match self {
            Selection::All(tests) => tests.iter().all(|t| t.matches(record)),
            Selection::Any(alts) => alts.iter().any(|a| a.matches(record)),
            Selection::Keywords(words) => {
                let mut strings = Vec::new();
                all_strings(record, &mut strings);
                strings.iter().any(|s| {
                    let s = s.to_lowercase();
                    words.iter().any(|w| s.contains(w.trim_matches('*')))
                })
            }
        }
    }
}
