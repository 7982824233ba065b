//! A Sigma detection's named searches: a map of field tests (all must pass), a list of such
//! maps (any may), or a list of keywords (any string of the record contains one).

use serde_json::Value;

use super::SigmaError;
use super::record::{Fields, all_strings};
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

    /// The exact values (lower case) one of which `field` must have for this search to
    /// match, when its tests say so; else `None`.
    pub fn required(&self, field: &str) -> Option<Vec<String>> {
        match self {
            Selection::All(tests) => tests.iter().find_map(|t| t.required(field)),
            Selection::Any(alts) => {
                let mut out = Vec::new();
                for a in alts {
                    out.extend(a.required(field)?);
                }
                Some(out)
            }
            Selection::Keywords(_) => None,
        }
    }

    /// Numbers its fields among `fields` (see [`Fields`]).
    pub fn assign_slots(&mut self, fields: &mut Vec<String>) {
        match self {
            Selection::All(tests) => tests.iter_mut().for_each(|t| t.assign_slot(fields)),
            Selection::Any(alts) => alts.iter_mut().for_each(|a| a.assign_slots(fields)),
            Selection::Keywords(_) => {}
        }
    }

    pub fn matches(&self, fields: &mut Fields<'_>) -> bool {
        match self {
            Selection::All(tests) => tests.iter().all(|t| t.matches(fields)),
            Selection::Any(alts) => alts.iter().any(|a| a.matches(fields)),
            Selection::Keywords(words) => {
                let mut strings = Vec::new();
                all_strings(fields.record, &mut strings);
                strings.iter().any(|s| {
                    let s = s.to_lowercase();
                    words.iter().any(|w| s.contains(w.trim_matches('*')))
                })
            }
        }
    }
}
