//! Matching with IAM's wildcards, and policy variables.
//!
//! A pattern from a policy is turned into tokens: `*` (any run of characters, possibly empty),
//! `?` (one character), and literal characters. Policy variables (`${aws:username}`) expand to
//! literal text, so a user name containing `*` matches only itself; `${*}`, `${?}` and `${$}`
//! are the literal characters.

use crate::context::Context;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Lit(char),
    Star,
    One,
}

/// A pattern ready to match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern(Vec<Tok>);

impl Pattern {
    /// The pattern as written, wildcards and all, with no variables.
    pub fn plain(text: &str) -> Pattern {
        Pattern(
            text.chars()
                .map(|c| match c {
                    '*' => Tok::Star,
                    '?' => Tok::One,
                    c => Tok::Lit(c),
                })
                .collect(),
        )
    }

    /// The pattern with its policy variables replaced from the context; `None` when a
    /// variable has no value and no default (such a pattern matches nothing).
    pub fn with_variables(text: &str, ctx: &Context) -> Option<Pattern> {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.extend(Pattern::plain(&rest[..start]).0);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                // Not a variable after all: keep the text as written.
                out.extend(Pattern::plain(&rest[start..]).0);
                return Some(Pattern(out));
            };
            let inner = &after[..end];
            let value = match inner.trim() {
                "*" => "*".to_owned(),
                "?" => "?".to_owned(),
                "$" => "$".to_owned(),
                spec => variable(spec, ctx)?,
            };
            out.extend(value.chars().map(Tok::Lit));
            rest = &after[end + 1..];
        }
        out.extend(Pattern::plain(rest).0);
        Some(Pattern(out))
    }

    pub fn matches(&self, text: &str) -> bool {
        tokens_match(&self.0, &text.chars().collect::<Vec<_>>(), false)
    }

    pub fn matches_ignore_case(&self, text: &str) -> bool {
        tokens_match(&self.0, &text.chars().collect::<Vec<_>>(), true)
    }
}

/// `key` or `key, 'default'`.
fn variable(spec: &str, ctx: &Context) -> Option<String> {
    let (key, default) = match spec.split_once(',') {
        Some((k, d)) => {
            let d = d.trim();
            let d = d
                .strip_prefix('\'')
                .and_then(|d| d.strip_suffix('\''))
                .unwrap_or(d);
            (k.trim(), Some(d.to_owned()))
        }
        None => (spec, None),
    };
    match ctx.get(key) {
        Some([v]) => Some(v.clone()),
        _ => default,
    }
}

fn eq(a: char, b: char, fold: bool) -> bool {
    a == b || (fold && a.to_lowercase().eq(b.to_lowercase()))
}

fn tokens_match(p: &[Tok], t: &[char], fold: bool) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        match p.get(pi) {
            Some(Tok::One) => {
                pi += 1;
                ti += 1;
            }
            Some(Tok::Lit(c)) if eq(*c, t[ti], fold) => {
                pi += 1;
                ti += 1;
            }
            Some(Tok::Star) => {
                star = Some(pi);
                mark = ti;
                pi += 1;
            }
            _ => match star {
                Some(s) => {
                    pi = s + 1;
                    mark += 1;
                    ti = mark;
                }
                None => return false,
            },
        }
    }
    while p.get(pi) == Some(&Tok::Star) {
        pi += 1;
    }
    pi == p.len()
}

/// `*` and `?` wildcards, as IAM matches them (case-sensitive).
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    Pattern::plain(pattern).matches(text)
}
