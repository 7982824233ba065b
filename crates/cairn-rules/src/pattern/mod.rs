//! EventBridge event patterns: parsing with AWS's `InvalidEventPatternException` reasons, and
//! matching events (exact values, prefix, suffix, anything-but, equals-ignore-case, wildcard,
//! numeric, exists, cidr, `$or`, arrays in events), one pattern at a time ([`Pattern`]) or many
//! at once ([`PatternSet`]).
//!
//! ```
//! use cairn_rules::pattern::Pattern;
//! let p = Pattern::parse(r#"{"source":["aws.cloudtrail"],"detail":{"eventName":[{"prefix":"Stop"}]}}"#).unwrap();
//! let e = serde_json::json!({"source":"aws.cloudtrail","detail":{"eventName":"StopLogging"}});
//! assert!(p.matches(&e));
//! ```
//!
//! Modules: `lexer` reads pattern text as Jackson does (AWS's messages are Jackson's); `compile`
//! validates it into the `model`'s branches and matchers; `numeric`, `cidr` and `wildcard` hold
//! those operators; `matching` resolves an event's values by path and evaluates branches; `set`
//! is [`PatternSet`].
//!
//! Where AWS is silent, the engine follows event-ruler, AWS's open-source matcher (`[I]` marks
//! inferences in the code):
//! - Refusals carry Jackson's `\n at [Source: (String)"…"; line: L, column: C]` as AWS prints
//!   them (twice where event-ruler re-wraps an error raised inside an `anything-but` list); CIDR
//!   and complexity refusals have none. The 155 pattern/event pairs LocalStack recorded against
//!   AWS get AWS's answers and texts here; `tests/data/event_patterns.json` carries most of
//!   them, in CloudTrail envelopes.
//! - Numbers are IEEE doubles (today's event-ruler, not the 2023 doc's ±5e9 range); a plain
//!   number in a pattern equals the same value in the event (`300` matches `300.0`, recorded).
//! - `wildcard`'s `*` matches zero or more characters; a field whose wildcards score above 10
//!   (event-ruler's complexity) is "too complex".
//! - Fields matched inside one event array must come from the same element (event-ruler's
//!   array-consistent matching); `exists: false` is judged within the elements chosen.
//! - A malformed `$or` is an ordinary field name when the pattern compiles that way
//!   (event-ruler's legacy fallback); otherwise its refusal stands.
//! - A string value that is an IP literal matches any spelling of that address.
//! - Text after the root object is ignored (event-ruler reads no further).
//! - Event numbers beyond a double's precision compare as serde_json prints them, where
//!   event-ruler compares the event's own text.

pub(crate) mod cidr;
mod compile;
mod error;
mod lexer;
mod matching;
mod model;
mod numeric;
mod set;
mod wildcard;

use serde_json::Value;

pub use error::PatternError;
pub use set::PatternSet;

use matching::{BranchRef, Resolved, branch_matches};
use model::Branch;

/// One parsed, validated event pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    branches: Vec<Branch>,
    /// The distinct field paths the branches use.
    paths: Vec<String>,
    /// Per branch, per field: the field's index in `paths`.
    ids: Vec<Vec<usize>>,
}

impl Pattern {
    /// Parses and validates `text` as EventBridge does for `PutRule` and `TestEventPattern`.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        let branches = compile::compile(text).map_err(|f| f.into_error(text))?;
        let mut paths: Vec<String> = Vec::new();
        let ids = branches
            .iter()
            .map(|b| {
                b.iter()
                    .map(|f| match paths.iter().position(|p| *p == f.path) {
                        Some(i) => i,
                        None => {
                            paths.push(f.path.clone());
                            paths.len() - 1
                        }
                    })
                    .collect()
            })
            .collect();
        Ok(Pattern {
            branches,
            paths,
            ids,
        })
    }

    /// Whether `event` (an EventBridge event: `version`, `id`, `detail-type`, `source`, …)
    /// matches.
    pub fn matches(&self, event: &Value) -> bool {
        let mut table = Resolved::new(event, &self.paths, 0);
        self.branches.iter().zip(&self.ids).any(|(fields, ids)| {
            let branch = BranchRef {
                fields,
                ids,
                fids: None,
            };
            branch_matches(&branch, &mut table)
        })
    }

    /// The field paths (dot-joined) the pattern reads.
    pub fn paths(&self) -> &[String] {
        &self.paths
    }
}
