//! Many patterns over the same stream of messages, as a log group's metric filters are: every
//! JSON pattern's selectors go into one trie, so each message is scanned once, not once per
//! pattern.

use super::json::{self, PathTrie};
use super::{FilterPattern, Kind};

/// A fixed list of patterns evaluated together.
#[derive(Debug, Clone)]
pub struct FilterSet {
    patterns: Vec<FilterPattern>,
    trie: PathTrie,
    /// Per pattern: its selector numbers → slots of the shared trie (empty for non-JSON kinds).
    slot_maps: Vec<Vec<usize>>,
}

impl FilterSet {
    pub fn new(patterns: Vec<FilterPattern>) -> FilterSet {
        let mut trie = PathTrie::new(&[]);
        let slot_maps = patterns
            .iter()
            .map(|p| match &p.kind {
                Kind::Json(j) => j.paths.iter().map(|path| trie.insert(path)).collect(),
                _ => Vec::new(),
            })
            .collect();
        FilterSet {
            patterns,
            trie,
            slot_maps,
        }
    }

    pub fn patterns(&self) -> &[FilterPattern] {
        &self.patterns
    }

    /// Sets `out[i]` to whether pattern `i` matches `message`. The message is scanned as JSON at
    /// most once.
    pub fn matches_into(&self, message: &str, out: &mut Vec<bool>) {
        out.clear();
        let mut found = Vec::new();
        let mut scanned: Option<bool> = None;
        for (p, map) in self.patterns.iter().zip(&self.slot_maps) {
            let hit = match &p.kind {
                Kind::Json(j) => {
                    let ok = *scanned.get_or_insert_with(|| self.trie.scan(message, &mut found));
                    ok && json::eval(&j.expr, &found, map)
                }
                _ => p.is_match(message),
            };
            out.push(hit);
        }
    }
}
