//! Sigma detection rules for CloudTrail records (logsource `product: aws`,
//! `service: cloudtrail`): parsing a rule's YAML ([`Rule::parse`]), matching one record
//! ([`Rule::matches`]), and judging a stream of records with aggregations over time windows
//! ([`Detector`]).
//!
//! ```
//! use cairn_rules::sigma::Rule;
//! let rule = Rule::parse(r#"
//! title: Trail stopped
//! logsource: {product: aws, service: cloudtrail}
//! detection:
//!     selection:
//!         eventSource: cloudtrail.amazonaws.com
//!         eventName: [StopLogging, DeleteTrail]
//!     condition: selection
//! "#).unwrap();
//! let record = serde_json::json!({"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging"});
//! assert!(rule.matches(&record));
//! ```
//!
//! Supported: field maps, lists of maps and keyword lists as searches; the modifiers
//! `contains`, `startswith`, `endswith`, `all`, `re` (with `i`, `m`, `s`), `cidr`, `exists`,
//! `fieldref`, `lt`/`lte`/`gt`/`gte`, `base64`, `base64offset`; conditions with `and`, `or`,
//! `not`, parentheses, `1 of`/`all of` a name pattern or `them`; the aggregation
//! `| count([field]) [by field] <op> N` over the detection's `timeframe`. Anything else is
//! refused with [`SigmaError::Unsupported`] naming the construct.
//!
//! Modules: `record` reads a record's fields by dotted path, `value` compiles a field's
//! values and modifiers, `selection` a named search, `condition` the condition and its
//! aggregation, `detect` the stateful [`Detector`].

mod condition;
mod correlation;
mod detect;
mod record;
mod selection;
mod value;

use record::string_list;

use serde_json::Value;

pub use condition::{Aggregation, Compare};
pub use correlation::{Correlation, Kind};
pub use detect::{Detector, Hit};

use condition::Cond;
use selection::Selection;

/// Why a rule cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigmaError {
    #[error("not YAML: {0}")]
    Yaml(String),
    #[error("not a valid Sigma rule: {0}")]
    Invalid(String),
    #[error("uses what cairn's Sigma engine does not support: {0}")]
    Unsupported(String),
    #[error("not a rule for CloudTrail: its logsource is {0}")]
    OtherLogSource(String),
}

/// One Sigma rule, compiled.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: Option<String>,
    /// A short unique name (`name:`), where the rule has one.
    pub name: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub status: Option<String>,
    /// `informational`, `low`, `medium`, `high` or `critical`.
    pub level: Option<String>,
    pub author: Option<String>,
    pub tags: Vec<String>,
    pub references: Vec<String>,
    pub falsepositives: Vec<String>,
    searches: Vec<Selection>,
    /// Any of these (a rule may list several conditions).
    conditions: Vec<Cond>,
    pub aggregation: Option<Aggregation>,
    /// The aggregation's window, in milliseconds.
    pub timeframe_ms: Option<i64>,
    /// A correlation rule's definition (it has no searches of its own: it fires on other
    /// rules' firings, see [`Detector`]).
    pub correlation: Option<Correlation>,
}

impl Rule {
    /// Parses and compiles one rule (one YAML document).
    pub fn parse(text: &str) -> Result<Rule, SigmaError> {
        let doc: Value =
            serde_norway::from_str(text).map_err(|e| SigmaError::Yaml(e.to_string()))?;
        Rule::from_document(&doc)
    }

    /// Parses every rule of a YAML stream (documents separated by `---`, as correlation rules
    /// and the rules they name often come together).
    pub fn parse_all(text: &str) -> Vec<Result<Rule, SigmaError>> {
        use serde::Deserialize as _;
        let mut out = Vec::new();
        for doc in serde_norway::Deserializer::from_str(text) {
            match Value::deserialize(doc) {
                Ok(Value::Null) => {}
                Ok(v) => out.push(Rule::from_document(&v)),
                Err(e) => {
                    out.push(Err(SigmaError::Yaml(e.to_string())));
                    break;
                }
            }
        }
        out
    }

    /// The names a correlation rule may use for this rule: its `name` and its `id`.
    pub fn answers_to(&self, reference: &str) -> bool {
        self.name.as_deref() == Some(reference) || self.id.as_deref() == Some(reference)
    }

    /// Compiles a rule given as its YAML document read into JSON.
    pub fn from_document(doc: &Value) -> Result<Rule, SigmaError> {
        let text = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_owned);
        let list = |k: &str| string_list(doc, k);
        let title = text("title").ok_or_else(|| SigmaError::Invalid("it has no title".into()))?;
        if let Some(c) = doc.get("correlation") {
            return Ok(Rule {
                id: text("id"),
                name: text("name"),
                title,
                description: text("description"),
                status: text("status"),
                level: text("level"),
                author: text("author"),
                tags: list("tags"),
                references: list("references"),
                falsepositives: list("falsepositives"),
                searches: Vec::new(),
                conditions: Vec::new(),
                aggregation: None,
                timeframe_ms: None,
                correlation: Some(Correlation::parse(c, &duration_ms)?),
            });
        }
        let logsource = doc
            .get("logsource")
            .ok_or_else(|| SigmaError::Invalid("it has no logsource".into()))?;
        let product = logsource.get("product").and_then(Value::as_str);
        let service = logsource.get("service").and_then(Value::as_str);
        if product != Some("aws") || service.is_some_and(|s| s != "cloudtrail") {
            return Err(SigmaError::OtherLogSource(logsource.to_string()));
        }
        let Some(Value::Object(detection)) = doc.get("detection") else {
            return Err(SigmaError::Invalid("it has no detection".into()));
        };
        let mut names = Vec::new();
        let mut searches = Vec::new();
        let mut timeframe_ms = None;
        let mut condition_texts = Vec::new();
        for (name, v) in detection {
            match name.as_str() {
                "condition" => match v {
                    Value::String(s) => condition_texts.push(s.clone()),
                    Value::Array(a) => condition_texts
                        .extend(a.iter().filter_map(|c| c.as_str().map(str::to_owned))),
                    _ => return Err(SigmaError::Invalid("its condition is not text".into())),
                },
                "timeframe" => {
                    let t = v.as_str().unwrap_or_default();
                    timeframe_ms = Some(duration_ms(t).ok_or_else(|| {
                        SigmaError::Invalid(format!("timeframe '{t}' is not like 30s, 5m, 1h, 1d"))
                    })?);
                }
                _ => {
                    names.push(name.clone());
                    searches.push(Selection::compile(name, v)?);
                }
            }
        }
        if condition_texts.is_empty() {
            return Err(SigmaError::Invalid("its detection has no condition".into()));
        }
        let mut conditions = Vec::new();
        let mut aggregation = None;
        for c in &condition_texts {
            let (cond, agg) = condition::parse(c, &names)?;
            conditions.push(cond);
            if agg.is_some() {
                if condition_texts.len() > 1 {
                    return Err(SigmaError::Unsupported(
                        "an aggregation in a rule with several conditions".into(),
                    ));
                }
                aggregation = agg;
            }
        }
        if aggregation
            .as_ref()
            .is_some_and(|a| matches!(a.op, Compare::Lt | Compare::Lte))
        {
            return Err(SigmaError::Unsupported(
                "an aggregation on fewer than N records (judged as records arrive, it would fire on the first)".into(),
            ));
        }
        if aggregation.is_some() && timeframe_ms.is_none() {
            return Err(SigmaError::Invalid(
                "an aggregation needs the detection's timeframe".into(),
            ));
        }
        Ok(Rule {
            id: text("id"),
            name: text("name"),
            title,
            description: text("description"),
            status: text("status"),
            level: text("level"),
            author: text("author"),
            tags: list("tags"),
            references: list("references"),
            falsepositives: list("falsepositives"),
            searches,
            conditions,
            aggregation,
            timeframe_ms,
            correlation: None,
        })
    }

    /// The `eventName` values (lower case) one of which a record must have for the rule to
    /// match, when its condition says so: lets a [`Detector`] skip the rule for every other
    /// call. `None`: any record may match.
    pub fn required_event_names(&self) -> Option<Vec<String>> {
        let search = |i: usize| self.searches[i].required("eventName");
        let mut out = Vec::new();
        for c in &self.conditions {
            out.extend(c.required(&search)?);
        }
        out.sort();
        out.dedup();
        Some(out)
    }

    /// Whether one record satisfies the rule's condition (an aggregating rule's records
    /// count toward its threshold: see [`Detector`]).
    pub fn matches(&self, record: &Value) -> bool {
        self.matches_fields(&mut record::Fields::new(record, 0))
    }

    /// Numbers the fields its searches test among `fields`, so that a detector looks each up
    /// once per record.
    pub(crate) fn assign_slots(&mut self, fields: &mut Vec<String>) {
        self.searches
            .iter_mut()
            .for_each(|s| s.assign_slots(fields));
    }

    /// [`Rule::matches`] on a record whose fields other rules may have read already.
    pub(crate) fn matches_fields(&self, fields: &mut record::Fields<'_>) -> bool {
        // A search is judged once however often the condition names it; most rules have a
        // few searches, kept on the stack.
        const FEW: usize = 16;
        let n = self.searches.len();
        let mut few = [None; FEW];
        let mut many = Vec::new();
        let seen: &mut [Option<bool>] = if n <= FEW {
            &mut few[..n]
        } else {
            many.resize(n, None);
            &mut many
        };
        let mut search =
            |i: usize| *seen[i].get_or_insert_with(|| self.searches[i].matches(fields));
        self.conditions.iter().any(|c| c.eval(&mut search))
    }
}

/// The references of each correlation rule among `rules` that no rule there answers to:
/// (the correlation's index, the names).
pub fn unresolved_references(rules: &[Rule]) -> Vec<(usize, Vec<String>)> {
    rules
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let c = r.correlation.as_ref()?;
            let missing: Vec<String> = c
                .rules
                .iter()
                .filter(|n| {
                    !rules
                        .iter()
                        .any(|b| b.correlation.is_none() && b.answers_to(n))
                })
                .cloned()
                .collect();
            (!missing.is_empty()).then_some((i, missing))
        })
        .collect()
}

/// `30s`, `5m`, `1h`, `1d` in milliseconds.
fn duration_ms(t: &str) -> Option<i64> {
    let t = t.trim();
    let unit = t.chars().last()?;
    let n: i64 = t[..t.len() - unit.len_utf8()].trim().parse().ok()?;
    let ms = match unit {
        's' => 1_000,
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        _ => return None,
    };
    n.checked_mul(ms)
}

#[cfg(test)]
mod tests;
