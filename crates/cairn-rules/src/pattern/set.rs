//! [`PatternSet`]: one event against many patterns. The paths all patterns read are interned
//! once; each event's values at a path are resolved the first time a pattern needs them and
//! shared by every later pattern, so a rule costs only its comparisons, and paths only rules
//! that already failed would read are never walked.

use std::collections::HashMap;

use serde_json::Value;

use super::Pattern;
use super::matching::{Resolved, branch_matches};

/// Many patterns, matched together.
#[derive(Debug, Clone, Default)]
pub struct PatternSet {
    patterns: Vec<Pattern>,
    /// Per pattern, per branch, per field: the id of its path in `paths`.
    ids: Vec<Vec<Vec<usize>>>,
    paths: Vec<String>,
    index: HashMap<String, usize>,
}

impl PatternSet {
    pub fn new() -> PatternSet {
        PatternSet::default()
    }

    /// Adds a pattern; returns its index, the number [`PatternSet::matches`] reports.
    pub fn insert(&mut self, pattern: Pattern) -> usize {
        let mut global = Vec::with_capacity(pattern.paths.len());
        for p in &pattern.paths {
            let next = self.paths.len();
            let id = *self.index.entry(p.clone()).or_insert(next);
            if id == next {
                self.paths.push(p.clone());
            }
            global.push(id);
        }
        self.ids.push(
            pattern
                .ids
                .iter()
                .map(|b| b.iter().map(|i| global[*i]).collect())
                .collect(),
        );
        self.patterns.push(pattern);
        self.patterns.len() - 1
    }

    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<&Pattern> {
        self.patterns.get(index)
    }

    /// Indexes of the patterns `event` matches, in insertion order.
    pub fn matches(&self, event: &Value) -> Vec<usize> {
        let mut out = Vec::new();
        self.matches_into(event, &mut out);
        out
    }

    /// As [`PatternSet::matches`], appending to `out` so callers can reuse one buffer.
    pub fn matches_into(&self, event: &Value, out: &mut Vec<usize>) {
        let mut table = Resolved::new(event, &self.paths);
        for (i, (pattern, ids)) in self.patterns.iter().zip(&self.ids).enumerate() {
            let hit = pattern
                .branches
                .iter()
                .zip(ids)
                .any(|(fields, ids)| branch_matches(fields, ids, &mut table));
            if hit {
                out.push(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patterns_and_sets_cross_threads() {
        fn shareable<T: Send + Sync + 'static>(_: &T) -> bool {
            true
        }
        let p = Pattern::parse(r#"{"source":["aws.s3"]}"#).unwrap();
        let mut set = PatternSet::new();
        assert!(shareable(&p));
        set.insert(p);
        assert!(shareable(&set));
        let handle = std::thread::spawn(move || set.matches(&json!({"source": "aws.s3"})));
        assert_eq!(handle.join().unwrap(), vec![0]);
    }

    #[test]
    fn reports_each_matching_pattern_once() {
        let mut set = PatternSet::new();
        let texts = [
            r#"{"source":["aws.s3"]}"#,
            r#"{"detail":{"eventName":[{"prefix":"Put"}]}}"#,
            r#"{"$or":[{"source":["aws.s3"]},{"detail":{"eventName":["PutObject"]}}]}"#,
            r#"{"source":["aws.ec2"]}"#,
        ];
        for t in texts {
            set.insert(Pattern::parse(t).unwrap());
        }
        let e = json!({"source":"aws.s3","detail":{"eventName":"PutObject"}});
        assert_eq!(set.matches(&e), vec![0, 1, 2]);
        assert_eq!(set.len(), 4);
    }
}
