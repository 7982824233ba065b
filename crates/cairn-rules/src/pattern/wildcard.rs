//! `wildcard` values: parsing with event-ruler's escapes (`\*`, `\\`) and refusals, matching,
//! and the complexity score EventBridge uses to refuse rules ("Rule is too complex").
//!
//! The score is event-ruler's `MachineComplexityEvaluator` result: the most wildcard-pattern
//! prefixes (`a*`, `a*b`, …) one input string can match at once, summed over the wildcard
//! patterns of one field. EventBridge refuses a rule above 10 [I: event-ruler's README suggests
//! 10 per rule; AWS accepts `/Users/*/dir/dir/dir/dir/dir/doc.txt` (7) and refuses
//! `*:*:*:*:*:event-bus/*` (11)].

use std::collections::{HashSet, VecDeque};

/// The most complex single rule EventBridge accepts.
pub(crate) const MAX_COMPLEXITY: usize = 10;
/// Subset states explored before a field is declared too complex outright.
const MAX_EXPLORED: usize = 20_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Piece {
    Byte(u8),
    Star,
}

/// A parsed wildcard value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wildcard {
    pieces: Vec<Piece>,
}

impl Wildcard {
    /// Parses `text` (the JSON string's content). Positions in messages count bytes of the
    /// value as event-ruler sees it, with a leading quote.
    pub(crate) fn parse(text: &str) -> Result<Wildcard, String> {
        let b = text.as_bytes();
        let mut pieces = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'*' => {
                    if b.get(i + 1) == Some(&b'*') {
                        return Err(format!("Consecutive wildcard characters at pos {}", i + 1));
                    }
                    pieces.push(Piece::Star);
                }
                b'\\' => match b.get(i + 1) {
                    Some(&n) if n == b'*' || n == b'\\' => {
                        pieces.push(Piece::Byte(n));
                        i += 1;
                    }
                    _ => return Err(format!("Invalid escape character at pos {}", i + 1)),
                },
                c => pieces.push(Piece::Byte(c)),
            }
            i += 1;
        }
        Ok(Wildcard { pieces })
    }

    pub(crate) fn matches(&self, s: &str) -> bool {
        let text = s.as_bytes();
        let p = &self.pieces;
        let (mut ti, mut pi) = (0usize, 0usize);
        let mut resume: Option<(usize, usize)> = None;
        while ti < text.len() {
            match p.get(pi) {
                Some(Piece::Star) => {
                    pi += 1;
                    resume = Some((pi, ti));
                }
                Some(Piece::Byte(c)) if *c == text[ti] => {
                    pi += 1;
                    ti += 1;
                }
                _ => match resume {
                    Some((rp, rt)) => {
                        pi = rp;
                        ti = rt + 1;
                        resume = Some((rp, rt + 1));
                    }
                    None => return false,
                },
            }
        }
        p[pi..].iter().all(|x| *x == Piece::Star)
    }
}

/// The prefixes one input matches, as (pattern, prefix length) pairs, sorted. Prefix length 0
/// (nothing) is present only for the empty input.
type Active = Vec<(usize, usize)>;

/// Adds the prefixes that end in a star right after an active prefix (a star may match
/// nothing), then sorts.
fn close(patterns: &[&Wildcard], mut set: Active) -> Active {
    let mut k = 0;
    while k < set.len() {
        let (p, i) = set[k];
        if patterns[p].pieces.get(i) == Some(&Piece::Star) && !set.contains(&(p, i + 1)) {
            set.push((p, i + 1));
        }
        k += 1;
    }
    set.sort_unstable();
    set
}

/// The prefixes matched after one more input byte.
fn advance(patterns: &[&Wildcard], state: &Active, byte: u8) -> Active {
    let mut next = Active::new();
    for &(p, i) in state {
        let pieces = &patterns[p].pieces;
        // A prefix ending in a star absorbs any byte.
        if i >= 1 && pieces[i - 1] == Piece::Star {
            next.push((p, i));
        }
        if pieces.get(i) == Some(&Piece::Byte(byte)) {
            next.push((p, i + 1));
        }
    }
    next.dedup();
    close(patterns, next)
}

/// The complexity score of one field's wildcard patterns, capped just above the limit.
pub(crate) fn complexity(patterns: &[&Wildcard]) -> usize {
    if patterns.is_empty() {
        return 0;
    }
    let named: HashSet<u8> = patterns
        .iter()
        .flat_map(|w| w.pieces.iter())
        .filter_map(|p| match p {
            Piece::Byte(c) => Some(*c),
            Piece::Star => None,
        })
        .collect();
    // One byte no pattern names stands for all the others.
    let other = (0u8..=255).find(|c| !named.contains(c));
    let start = close(patterns, (0..patterns.len()).map(|p| (p, 0)).collect());
    let score = |s: &Active| s.iter().filter(|(_, i)| *i > 0).count();
    let mut seen: HashSet<Active> = HashSet::new();
    let mut queue = VecDeque::new();
    let mut best = 0;
    seen.insert(start.clone());
    queue.push_back(start);
    while let Some(s) = queue.pop_front() {
        best = best.max(score(&s));
        if best > MAX_COMPLEXITY || seen.len() > MAX_EXPLORED {
            return MAX_COMPLEXITY + 1;
        }
        // Only the bytes some active prefix continues with, and one that none does.
        let mut bytes: Vec<u8> = s
            .iter()
            .filter_map(|&(p, i)| match patterns[p].pieces.get(i) {
                Some(Piece::Byte(c)) => Some(*c),
                _ => None,
            })
            .collect();
        bytes.sort_unstable();
        bytes.dedup();
        bytes.extend(other);
        for c in bytes {
            let n = advance(patterns, &s, c);
            if n.is_empty() || seen.contains(&n) {
                continue;
            }
            seen.insert(n.clone());
            queue.push_back(n);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Wildcard {
        Wildcard::parse(s).unwrap()
    }

    #[test]
    fn matches_runs_and_escapes() {
        assert!(
            w("arn:aws:events:us-east-1:*:event-bus/*")
                .matches("arn:aws:events:us-east-1:123456789012:event-bus/default")
        );
        assert!(w("*").matches(""));
        assert!(w("a*").matches("a"));
        assert!(!w("").matches("a"));
        assert!(w("").matches(""));
        assert!(w(r"\*").matches("*"));
        assert!(!w(r"\*").matches("x"));
        assert!(w(r"a\\b").matches(r"a\b"));
        assert!(w("/Users/*/doc.txt").matches("/Users/a/b/doc.txt"));
        assert!(!w("/Users/*/doc.txt").matches("/Users/a/b/doc.txtx"));
    }

    #[test]
    fn refusals_name_the_position_with_the_leading_quote() {
        assert_eq!(
            Wildcard::parse("arn:aws:events:us-east-1:**:event-bus/*"),
            Err("Consecutive wildcard characters at pos 26".to_owned())
        );
        assert_eq!(
            Wildcard::parse(r"a\b"),
            Err("Invalid escape character at pos 2".to_owned())
        );
    }

    #[test]
    fn complexity_agrees_with_event_ruler_tests() {
        let c = |ps: &[&str]| {
            let ws: Vec<Wildcard> = ps.iter().map(|p| w(p)).collect();
            complexity(&ws.iter().collect::<Vec<_>>())
        };
        assert_eq!(c(&["*"]), 1);
        assert_eq!(c(&["*aa"]), 3);
        assert_eq!(c(&["a*b*bb"]), 5);
        assert_eq!(c(&["*ab*ad"]), 4);
        assert_eq!(c(&["a*aaa", "aa*aa"]), 7);
        assert_eq!(c(&["/Users/*/dir/dir/dir/dir/dir/doc.txt"]), 7);
        assert!(c(&["*:*:*:*:*:event-bus/*"]) > MAX_COMPLEXITY);
        assert_eq!(c(&["abc"]), 1);
        assert_eq!(c(&["*", "ab*c"]), 3);
        assert_eq!(c(&["*abc", "*abcde"]), 4);
        assert_eq!(c(&["a*bcb"]), 3);
    }

    #[test]
    fn long_patterns_are_scored_quickly() {
        let long: String = (0..4000)
            .map(|i| char::from(b'!' + (i % 90) as u8))
            .collect();
        let w =
            Wildcard::parse(&format!("*{}", long.replace('*', "x").replace('\\', "y"))).unwrap();
        let t = std::time::Instant::now();
        let _ = complexity(&[&w]);
        assert!(t.elapsed() < std::time::Duration::from_secs(2));
    }
}
