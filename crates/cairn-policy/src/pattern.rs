//! Matching with IAM's wildcards: `*` (any run of characters, possibly empty) and `?` (exactly
//! one character, however many bytes it takes).
//!
//! A pattern is a list of tokens rather than a string so that text a policy variable produced
//! (or an escape such as `${*}`) stays literal even when it holds `*` or `?`.

use crate::context::Context;
use crate::variables::{self, Piece};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Lit(char),
    Star,
    One,
}

/// A pattern ready to match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern(Vec<Tok>);

fn wild(text: &str) -> impl Iterator<Item = Tok> + '_ {
    text.chars().map(|c| match c {
        '*' => Tok::Star,
        '?' => Tok::One,
        c => Tok::Lit(c),
    })
}

impl Pattern {
    /// The pattern as written, wildcards and all, with no variables.
    pub fn plain(text: &str) -> Pattern {
        Pattern(wild(text).collect())
    }

    /// Policy text with wildcards, and resolved variables without.
    pub fn from_pieces(pieces: &[Piece<'_>]) -> Pattern {
        let mut toks = Vec::new();
        for p in pieces {
            match p {
                Piece::Policy(s) => toks.extend(wild(s)),
                Piece::Literal(s) => toks.extend(s.chars().map(Tok::Lit)),
            }
        }
        Pattern(toks)
    }

    /// The pattern with its policy variables resolved from the context; `None` when one
    /// cannot be (such a pattern matches nothing).
    pub fn with_variables(text: &str, ctx: &Context) -> Option<Pattern> {
        variables::resolve(text, ctx).map(|p| Pattern::from_pieces(&p))
    }

    pub fn matches(&self, text: &str) -> bool {
        tokens_match(&self.0, &text.chars().collect::<Vec<_>>(), false)
    }

    pub fn matches_ignore_case(&self, text: &str) -> bool {
        tokens_match(&self.0, &text.chars().collect::<Vec<_>>(), true)
    }

    /// ARN matching (`ArnLike`, `ArnEquals`): the six colon-separated parts are matched one
    /// by one, so a wildcard never spans a colon outside the last part. A pattern of other
    /// than six parts matches nothing, unless it is all stars; a value of other than six
    /// parts is not an ARN and matches only such a pattern.
    pub fn matches_arn(&self, arn: &str) -> bool {
        if self.0.iter().all(|t| *t == Tok::Star) {
            return !self.0.is_empty() || arn.is_empty();
        }
        let parts: Vec<&[Tok]> = self.0.splitn(6, |t| *t == Tok::Lit(':')).collect();
        let arn_parts: Vec<&str> = arn.splitn(6, ':').collect();
        parts.len() == 6
            && arn_parts.len() == 6
            && parts
                .iter()
                .zip(&arn_parts)
                .all(|(p, a)| tokens_match(p, &a.chars().collect::<Vec<_>>(), false))
    }
}

fn same(a: char, b: char, fold: bool) -> bool {
    a == b || (fold && a.to_lowercase().eq(b.to_lowercase()))
}

/// Greedy matching with one backtrack point (the last star): linear in practice, and
/// never exponential however many stars a pattern holds.
fn tokens_match(p: &[Tok], t: &[char], fold: bool) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(Tok::One) => {
                pi += 1;
                ti += 1;
            }
            Some(Tok::Lit(c)) if same(*c, t[ti], fold) => {
                pi += 1;
                ti += 1;
            }
            Some(Tok::Star) => {
                backtrack = Some((pi, ti));
                pi += 1;
            }
            _ => match backtrack {
                Some((star, mark)) => {
                    backtrack = Some((star, mark + 1));
                    pi = star + 1;
                    ti = mark + 1;
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|t| *t == Tok::Star)
}

/// `*` and `?` wildcards, as IAM matches them (case-sensitive).
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    Pattern::plain(pattern).matches(text)
}
