//! `InputPath` and the values of `InputPathsMap`: the JSONPath subset EventBridge documents
//! (`$`, `.name` with dashes, underscores and slashes, `['name']` / `["name"]`, `[index]`, and
//! the wildcards `[*]` / `.*`), applied to an event. A path with a wildcard yields the array of
//! everything it reaches, as JSONPath does.

use serde_json::Value;

use super::TransformError;

/// The longest path AWS accepts (`TargetInputPath`, 256 characters).
const MAX_PATH_LEN: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
    /// Every element of an array, every value of an object.
    Any,
}

/// A parsed JSONPath.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputPath {
    text: String,
    steps: Vec<Step>,
    /// Whether any step used bracket notation for a name (refused in `InputPathsMap`).
    bracketed_name: bool,
}

impl InputPath {
    /// Parses `$.detail`, `$.detail.requestParameters.bucketName`, `$['detail']['x']`,
    /// `$.resources[0]`.
    pub fn parse(text: &str) -> Result<InputPath, TransformError> {
        let bad = || TransformError::InvalidPath(text.to_owned());
        if text.len() > MAX_PATH_LEN {
            return Err(bad());
        }
        let rest = text.strip_prefix('$').ok_or_else(bad)?;
        let b = rest.as_bytes();
        let mut steps = Vec::new();
        let mut bracketed_name = false;
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'.' => {
                    let start = i + 1;
                    let mut end = start;
                    while end < b.len() && b[end] != b'.' && b[end] != b'[' {
                        end += 1;
                    }
                    if end == start {
                        return Err(bad());
                    }
                    steps.push(match &rest[start..end] {
                        "*" => Step::Any,
                        name => Step::Key(name.to_owned()),
                    });
                    i = end;
                }
                b'[' => {
                    let close = rest[i..].find(']').map(|k| i + k).ok_or_else(bad)?;
                    let inner = rest[i + 1..close].trim();
                    let quoted = inner.len() >= 2
                        && ((inner.starts_with('\'') && inner.ends_with('\''))
                            || (inner.starts_with('"') && inner.ends_with('"')));
                    if inner == "*" {
                        steps.push(Step::Any);
                    } else if quoted {
                        steps.push(Step::Key(inner[1..inner.len() - 1].to_owned()));
                        bracketed_name = true;
                    } else {
                        let n = inner.parse::<usize>().map_err(|_| bad())?;
                        steps.push(Step::Index(n));
                    }
                    i = close + 1;
                }
                _ => return Err(bad()),
            }
        }
        Ok(InputPath {
            text: text.to_owned(),
            steps,
            bracketed_name,
        })
    }

    /// As `InputPathsMap` requires: dot notation for names (array indexes allowed).
    pub(crate) fn parse_dotted(text: &str) -> Result<InputPath, TransformError> {
        let p = InputPath::parse(text)?;
        if p.bracketed_name {
            return Err(TransformError::InvalidPath(text.to_owned()));
        }
        Ok(p)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value at this path, if the event has one. With a wildcard: the array of every
    /// value reached, or `None` when there is none (`[I]`).
    pub fn apply(&self, event: &Value) -> Option<Value> {
        if !self.steps.contains(&Step::Any) {
            let mut v = event;
            for step in &self.steps {
                v = match step {
                    Step::Key(k) => v.as_object()?.get(k)?,
                    Step::Index(n) => v.as_array()?.get(*n)?,
                    Step::Any => return None,
                };
            }
            return Some(v.clone());
        }
        let mut found = Vec::new();
        collect(event, &self.steps, &mut found);
        (!found.is_empty()).then(|| Value::Array(found.into_iter().cloned().collect()))
    }
}

/// Every value `steps` reach from `v`.
fn collect<'e>(v: &'e Value, steps: &[Step], out: &mut Vec<&'e Value>) {
    let Some((step, rest)) = steps.split_first() else {
        out.push(v);
        return;
    };
    match (step, v) {
        (Step::Key(k), Value::Object(m)) => {
            if let Some(child) = m.get(k) {
                collect(child, rest, out);
            }
        }
        (Step::Index(n), Value::Array(a)) => {
            if let Some(child) = a.get(*n) {
                collect(child, rest, out);
            }
        }
        (Step::Any, Value::Array(a)) => a.iter().for_each(|c| collect(c, rest, out)),
        (Step::Any, Value::Object(m)) => m.values().for_each(|c| collect(c, rest, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({"detail": {"requestParameters": {"bucketName": "logs"}, "resources": [{"id": "i-1"}, {"id": "i-2"}]},
               "detail-type": "AWS API Call via CloudTrail"})
    }

    #[test]
    fn dot_and_bracket_forms_reach_the_same_value() {
        let e = event();
        let dot = InputPath::parse("$.detail.requestParameters.bucketName").unwrap();
        let br = InputPath::parse("$['detail'][\"requestParameters\"]['bucketName']").unwrap();
        assert_eq!(dot.apply(&e), Some(json!("logs")));
        assert_eq!(br.apply(&e), Some(json!("logs")));
        assert_eq!(
            InputPath::parse("$.detail-type").unwrap().apply(&e),
            Some(json!("AWS API Call via CloudTrail"))
        );
    }

    #[test]
    fn indexes_and_the_root() {
        let e = event();
        assert_eq!(
            InputPath::parse("$.detail.resources[1].id")
                .unwrap()
                .apply(&e),
            Some(json!("i-2"))
        );
        assert_eq!(InputPath::parse("$").unwrap().apply(&e), Some(e.clone()));
        assert_eq!(
            InputPath::parse("$.detail.nothing").unwrap().apply(&e),
            None
        );
        assert_eq!(
            InputPath::parse("$.detail.resources[9]").unwrap().apply(&e),
            None
        );
    }

    #[test]
    fn wildcards_collect_every_value_reached() {
        let e = event();
        assert_eq!(
            InputPath::parse("$.detail.resources[*].id")
                .unwrap()
                .apply(&e),
            Some(json!(["i-1", "i-2"]))
        );
        assert_eq!(
            InputPath::parse("$.detail.requestParameters.*")
                .unwrap()
                .apply(&e),
            Some(json!(["logs"]))
        );
        assert_eq!(
            InputPath::parse("$.detail.nothing[*]").unwrap().apply(&e),
            None
        );
    }

    #[test]
    fn malformed_paths_are_refused() {
        for bad in [
            "detail",
            "$.",
            "$..a",
            "$[abc]",
            "$['a'",
            "$x",
            &format!("$.{}", "a".repeat(300)),
        ] {
            assert!(InputPath::parse(bad).is_err(), "{bad}");
        }
        assert!(InputPath::parse_dotted("$['detail']").is_err());
        assert!(InputPath::parse_dotted("$.detail.resources[0]").is_ok());
    }
}
