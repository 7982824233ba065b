//! Many patterns over the same stream of messages, as a log group's metric filters are: every
//! JSON pattern's selectors go into one trie, so each message is scanned once, not once per
//! pattern.

use super::ast::Expr;
use super::compile::remap;
use super::json;
use super::scan::{Found, PathTrie};
use super::{FilterPattern, Kind};

/// A fixed list of patterns evaluated together.
#[derive(Debug, Clone)]
pub struct FilterSet {
    patterns: Vec<FilterPattern>,
    trie: PathTrie,
    /// Per pattern: its JSON expression over the shared trie's slots (`None` for other kinds).
    exprs: Vec<Option<Expr>>,
}

impl FilterSet {
    pub fn new(patterns: Vec<FilterPattern>) -> FilterSet {
        let mut trie = PathTrie::new(&[]);
        let exprs = patterns
            .iter()
            .map(|p| match &p.kind {
                Kind::Json(j) => {
                    let map: Vec<usize> = j.paths.iter().map(|path| trie.insert(path)).collect();
                    Some(remap(&j.expr, &map))
                }
                _ => None,
            })
            .collect();
        FilterSet {
            patterns,
            trie,
            exprs,
        }
    }

    pub fn patterns(&self) -> &[FilterPattern] {
        &self.patterns
    }

    /// Sets `out[i]` to whether pattern `i` matches `message`. The message is scanned as JSON at
    /// most once.
    pub fn matches_into(&self, message: &str, out: &mut Vec<bool>) {
        out.clear();
        let eval_all = |found: Option<&[Option<Found<'_>>]>, out: &mut Vec<bool>| {
            for (p, e) in self.patterns.iter().zip(&self.exprs) {
                out.push(match e {
                    Some(e) => found.is_some_and(|f| json::eval(e, f)),
                    None => p.is_match(message),
                });
            }
        };
        if self.exprs.iter().any(Option::is_some) {
            self.trie.scan(message, |found| eval_all(found, out));
        } else {
            eval_all(None, out);
        }
    }
}
