//! A metric transformation's `metricValue` and dimension values: a number literal, or a value
//! read from the matched event (`$.selector` for JSON patterns, `$field` for space-delimited ones).

use super::error::PatternError;
use super::parser::parse_selector;
use super::scan::{Found, PathTrie};
use super::value::parse_number;
use super::{FilterPattern, Match, PatternKind};

/// Longest `metricValue` the API accepts.
const MAX_METRIC_VALUE_LEN: usize = 100;

#[derive(Debug, Clone)]
enum Source {
    Literal(f64),
    Json(PathTrie),
    Field(String),
}

/// A parsed `metricValue`.
#[derive(Debug, Clone)]
pub struct MetricValue {
    source: Source,
}

/// A parsed dimension value (`$.selector` or `$field`).
#[derive(Debug, Clone)]
pub struct Dimension {
    source: Source,
}

fn parse_source(s: &str, allow_literal: bool) -> Result<Source, PatternError> {
    let bad = |d: &str| PatternError::MetricValue {
        detail: format!("{d}: {s:?}"),
    };
    if s.starts_with("$.") || s == "$" {
        let path = parse_selector(s).map_err(|_| bad("bad selector"))?;
        return Ok(Source::Json(PathTrie::new(&[path])));
    }
    if let Some(name) = s.strip_prefix('$') {
        if !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Ok(Source::Field(s.to_owned()));
        }
        return Err(bad("bad field reference"));
    }
    match parse_number(s.trim()) {
        Some(n) if allow_literal => Ok(Source::Literal(n)),
        _ => Err(bad("neither a number nor a $reference")),
    }
}

/// Reads the value `source` names from a match, as text.
fn read<'m>(source: &Source, m: &Match<'m>) -> Option<std::borrow::Cow<'m, str>> {
    match source {
        Source::Literal(_) => None,
        Source::Json(trie) => trie.scan(m.message(), |found| {
            found?
                .first()
                .copied()
                .flatten()
                .and_then(|f: Found<'m>| f.text())
        }),
        Source::Field(name) => m.field(name).map(std::borrow::Cow::Borrowed),
    }
}

impl MetricValue {
    /// Parses a `metricValue`: `"1"`, `"2.5e3"`, `"$.latency"`, `"$bytes"`.
    pub fn parse(s: &str) -> Result<MetricValue, PatternError> {
        if s.chars().count() > MAX_METRIC_VALUE_LEN {
            return Err(PatternError::MetricValue {
                detail: format!("longer than {MAX_METRIC_VALUE_LEN}"),
            });
        }
        Ok(MetricValue {
            source: parse_source(s, true)?,
        })
    }

    /// The number to publish for this match; `None` when the reference is missing or not
    /// numeric (AWS then publishes nothing for the event `[I]`). Numeric strings count `[I]`.
    pub fn extract(&self, m: &Match<'_>) -> Option<f64> {
        match &self.source {
            Source::Literal(n) => Some(*n),
            s => read(s, m).and_then(|t| parse_number(t.trim())),
        }
    }

    /// Whether the value is read from the event rather than a constant.
    pub fn is_reference(&self) -> bool {
        !matches!(self.source, Source::Literal(_))
    }
}

impl Dimension {
    /// Parses a dimension value: `$.selector` or `$field`.
    pub fn parse(s: &str) -> Result<Dimension, PatternError> {
        Ok(Dimension {
            source: parse_source(s, false)?,
        })
    }

    /// The dimension's value for this match (string, number or boolean as text).
    pub fn extract(&self, m: &Match<'_>) -> Option<String> {
        read(&self.source, m).map(|c| c.into_owned())
    }
}

/// Dimensions need a JSON or space-delimited pattern (AWS: "The specified filter pattern does not
/// support dimensions").
pub fn validate_dimensions(
    pattern: &FilterPattern,
    dimension_count: usize,
) -> Result<(), PatternError> {
    match pattern.kind() {
        _ if dimension_count == 0 => Ok(()),
        PatternKind::Json | PatternKind::SpaceDelimited => Ok(()),
        _ => Err(PatternError::DimensionsNotSupported),
    }
}
