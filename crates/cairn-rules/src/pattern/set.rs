//! [`PatternSet`]: one event against many patterns. The paths all patterns read are interned
//! once; each event's values at a path are resolved the first time a pattern needs them and
//! shared by every later pattern, and identical fields in different rules (the same path and
//! the same values, as `"source": ["aws.s3"]` in many rules) are judged once per event, so
//! paths only rules that already failed would read are never walked.

use std::collections::HashMap;

use serde_json::Value;

use super::Pattern;
use super::matching::{BranchRef, Resolved, branch_matches};

/// Per pattern, per branch, per field: an id.
type Ids = Vec<Vec<Vec<usize>>>;

/// Many patterns, matched together.
#[derive(Debug, Clone, Default)]
pub struct PatternSet {
    patterns: Vec<Pattern>,
    /// The id of each field's path in `paths`.
    ids: Ids,
    /// The id of each field among the distinct fields of the set.
    fids: Ids,
    paths: Vec<String>,
    path_index: HashMap<String, usize>,
    field_index: HashMap<String, usize>,
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
            let id = *self.path_index.entry(p.clone()).or_insert(next);
            if id == next {
                self.paths.push(p.clone());
            }
            global.push(id);
        }
        let ids: Vec<Vec<usize>> = pattern
            .ids
            .iter()
            .map(|b| b.iter().map(|i| global[*i]).collect())
            .collect();
        let fids = pattern
            .branches
            .iter()
            .map(|fields| {
                fields
                    .iter()
                    .map(|f| {
                        // The compiled field's full description identifies it.
                        let key = format!("{:?}|{:?}|{}", f.path, f.matchers, f.absent_ok);
                        let next = self.field_index.len();
                        *self.field_index.entry(key).or_insert(next)
                    })
                    .collect()
            })
            .collect();
        self.ids.push(ids);
        self.fids.push(fids);
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
        let mut table = Resolved::new(event, &self.paths, self.field_index.len());
        for (i, pattern) in self.patterns.iter().enumerate() {
            let (Some(ids), Some(fids)) = (self.ids.get(i), self.fids.get(i)) else {
                continue;
            };
            let hit = pattern
                .branches
                .iter()
                .zip(ids)
                .zip(fids)
                .any(|((fields, ids), fids)| {
                    let branch = BranchRef {
                        fields,
                        ids,
                        fids: Some(fids),
                    };
                    branch_matches(&branch, &mut table)
                });
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

    #[test]
    fn shared_fields_inside_arrays_still_respect_elements() {
        // The same field in two rules; inside an array its verdict depends on the element
        // the other fields chose, so it must not be shared.
        let mut set = PatternSet::new();
        for t in [
            r#"{"r":{"type":["A"],"id":["1"]}}"#,
            r#"{"r":{"type":["A"],"id":["2"]}}"#,
        ] {
            set.insert(Pattern::parse(t).unwrap());
        }
        let e = json!({"r": [{"type": "A", "id": "2"}, {"type": "B", "id": "1"}]});
        assert_eq!(set.matches(&e), vec![1]);
    }
}
