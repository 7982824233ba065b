//! CloudWatch Logs filter patterns: the one language of metric filters, subscription filters,
//! `FilterLogEvents` and Live Tail.
//!
//! The first non-blank character picks the kind: nothing → every event; `{` → JSON pattern;
//! `[` → space-delimited pattern; `%…%` alone → regex; anything else → term pattern.
//!
//! ```
//! use cairn_rules::filter::{FilterPattern, MetricValue};
//! let p = FilterPattern::parse(r#"{ $.latency > 100 && $.status = "5*" }"#).unwrap();
//! let m = p.matches(r#"{"latency": 250, "status": "503"}"#).unwrap();
//! assert_eq!(MetricValue::parse("$.latency").unwrap().extract(&m), Some(250.0));
//! ```
//!
//! Modules: `lexer` and `parser` turn text into the `ast`; `value` compares single values;
//! `scan` reads JSON messages; `json`, `delimited` and `terms` match each kind; `compile` speeds up JSON expressions;
//! [`extract`](MetricValue) reads metric values and dimensions out of a [`Match`]; [`FilterSet`]
//! runs many patterns over one message with one JSON scan; [`cis`] holds the CIS benchmark's
//! monitoring patterns verbatim.
//!
//! Where AWS's documentation is silent the engine decides as follows (marked `[I]` in the code):
//! - JSON `=` and `!=` need the selector to reach a string, number or boolean: an absent field,
//!   `null`, an object or an array satisfies neither (the doc shows this for arrays).
//! - A message that is not exactly one JSON object (a text prefix, trailing text, malformed JSON)
//!   never matches a JSON pattern; a repeated key takes its last value.
//! - A number literal compares numerically with JSON numbers and with numeric strings, and
//!   textually otherwise; `<`, `<=`, `>`, `>=` need a number on the right.
//! - `*` (or `"*"`) matches any string, number or boolean, not `null`.
//! - Booleans compare as the words `true`/`false` (`IS TRUE`/`IS FALSE` are the documented form).
//! - Keywords (`IS NULL`, `NOT EXISTS`, …) are upper case; `IS NOT`, `EXISTS`, `[*]` and `==` are
//!   rejected, as the docs say they are unsupported.
//! - IP addresses compare as strings with `*` prefixes (`10.0.*`), as the docs show; CloudWatch
//!   Logs has no CIDR syntax.
//! - Terms: see `terms` (groups opened by `?`).
//! - Space-delimited: without `...`, a line with more tokens than fields gives the rest of the
//!   line to the last field (`[w1=ERROR, w2]`); with `...`, the fields after it take the line's
//!   last tokens.

mod ast;
pub mod cis;
mod compile;
mod delimited;
mod error;
mod extract;
mod json;
mod lexer;
mod parser;
mod scan;
mod set;
mod terms;
mod value;

#[cfg(test)]
mod tests;

use regex_automata::meta::Regex;

pub use error::{MAX_PATTERN_LEN, PatternError};
pub use extract::{Dimension, MetricValue, validate_dimensions};
pub use set::FilterSet;

use ast::{Expr, Field};
use scan::PathTrie;
use terms::Terms;

/// A parsed, validated filter pattern, ready to test messages.
#[derive(Debug, Clone)]
pub struct FilterPattern {
    source: String,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    All,
    Terms(Terms),
    Regex(Box<Regex>),
    Json(JsonPattern),
    Delimited(Vec<Field>),
}

#[derive(Debug, Clone)]
struct JsonPattern {
    expr: Expr,
    paths: Vec<ast::Path>,
    trie: PathTrie,
}

/// Which of the four languages (or "everything") a pattern is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternKind {
    MatchAll,
    Terms,
    Regex,
    Json,
    SpaceDelimited,
}

/// A message that matched, with what metric values and dimensions may read from it.
#[derive(Debug, Clone)]
pub struct Match<'m> {
    message: &'m str,
    /// Space-delimited patterns only: `$name` / `$N` → token value, in line order.
    fields: Vec<(String, &'m str)>,
}

impl<'m> Match<'m> {
    /// The matched message.
    pub fn message(&self) -> &'m str {
        self.message
    }

    /// TestMetricFilter's `extractedValues`: filled for space-delimited patterns, empty otherwise.
    pub fn extracted_values(&self) -> &[(String, &'m str)] {
        &self.fields
    }

    /// One extracted space-delimited field, by its `$name`.
    pub fn field(&self, name: &str) -> Option<&'m str> {
        self.fields.iter().find(|(n, _)| n == name).map(|&(_, v)| v)
    }
}

impl FilterPattern {
    /// Parses `src`, rejecting it as CloudWatch Logs would.
    pub fn parse(src: &str) -> Result<FilterPattern, PatternError> {
        if src.chars().count() > MAX_PATTERN_LEN {
            return Err(PatternError::TooLong {
                pattern: src.to_owned(),
            });
        }
        let t = src.trim();
        let kind = if t.is_empty() || t == "\"\"" || t == "\" \"" {
            Kind::All
        } else if t.starts_with('{') {
            let p = parser::parse_json(t)?;
            let trie = PathTrie::new(&p.paths);
            Kind::Json(JsonPattern {
                expr: compile::optimize(p.expr),
                paths: p.paths,
                trie,
            })
        } else if t.starts_with('[') {
            Kind::Delimited(parser::parse_delimited(t)?)
        } else if t.len() >= 2
            && t.starts_with('%')
            && t.ends_with('%')
            && !t[1..t.len() - 1].contains('%')
        {
            Kind::Regex(Box::new(value::compile_regex(&t[1..t.len() - 1])?))
        } else {
            Kind::Terms(Terms::parse(t)?)
        };
        Ok(FilterPattern {
            source: src.to_owned(),
            kind,
        })
    }

    /// The pattern exactly as given (AWS stores and echoes it byte for byte).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn kind(&self) -> PatternKind {
        match self.kind {
            Kind::All => PatternKind::MatchAll,
            Kind::Terms(_) => PatternKind::Terms,
            Kind::Regex(_) => PatternKind::Regex,
            Kind::Json(_) => PatternKind::Json,
            Kind::Delimited(_) => PatternKind::SpaceDelimited,
        }
    }

    /// Tests one log event message; `Some` with what extraction needs when it matches.
    pub fn matches<'m>(&self, message: &'m str) -> Option<Match<'m>> {
        let ok = |b: bool| {
            b.then(|| Match {
                message,
                fields: Vec::new(),
            })
        };
        match &self.kind {
            Kind::All => ok(true),
            Kind::Terms(t) => ok(t.is_match(message)),
            Kind::Regex(r) => ok(r.is_match(message)),
            Kind::Json(j) => ok(j.trie.scan(message, |found| {
                found.is_some_and(|f| json::eval(&j.expr, f))
            })),
            Kind::Delimited(f) => {
                delimited::match_line(f, message).map(|fields| Match { message, fields })
            }
        }
    }

    /// Whether `message` matches (no extraction state kept).
    pub fn is_match(&self, message: &str) -> bool {
        self.matches(message).is_some()
    }
}
