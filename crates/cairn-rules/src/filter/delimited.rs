//! Space-delimited patterns: tokenising a log line as AWS does and fitting the pattern's fields
//! (with `...`) onto its tokens.

use super::ast::Field;
use super::value::Scalar;

/// One token of the line: its value (quotes/brackets removed) and where its raw text starts.
#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    value: &'a str,
    start: usize,
}

/// Splits on whitespace; `"…"` and `[…]` each form one field, without their delimiters. An
/// unclosed quote or bracket runs to the end of the line.
fn tokenize(line: &str) -> Vec<Token<'_>> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let close = match b[i] {
            b'"' => Some(b'"'),
            b'[' => Some(b']'),
            _ => None,
        };
        match close {
            Some(c) => {
                let end = memchr::memchr(c, &b[i + 1..]).map_or(b.len(), |e| i + 1 + e);
                out.push(Token {
                    value: &line[i + 1..end],
                    start,
                });
                i = end + 1;
            }
            None => {
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                out.push(Token {
                    value: &line[start..i],
                    start,
                });
            }
        }
    }
    out
}

fn field_ok(f: &Field, v: &str) -> bool {
    match f {
        Field::Ellipsis => true,
        Field::Token { any_of, .. } => {
            any_of.is_empty()
                || any_of
                    .iter()
                    .any(|all| all.iter().all(|t| t.test(Scalar::Str(v))))
        }
    }
}

/// Assigns fields to tokens: `at[f]` is the first token of field `f` (ellipses may take none).
fn fit(fields: &[Field], toks: &[Token<'_>], fi: usize, ti: usize, at: &mut Vec<usize>) -> bool {
    if fi == fields.len() {
        return ti == toks.len();
    }
    match &fields[fi] {
        Field::Ellipsis => {
            at.push(ti);
            // Later fields must still fit, so try the shortest skip that works… from the longest
            // skip down, which leaves trailing fields the line's last tokens (AWS's examples).
            for end in (ti..=toks.len()).rev() {
                if fit(fields, toks, fi + 1, end, at) {
                    return true;
                }
            }
            at.pop();
            false
        }
        f => {
            if ti >= toks.len() || !field_ok(f, toks[ti].value) {
                return false;
            }
            at.push(ti);
            if fit(fields, toks, fi + 1, ti + 1, at) {
                return true;
            }
            at.pop();
            false
        }
    }
}

/// Matches `line`; on success the extracted values: `$name` for named fields, `$N` (1-based
/// token position) for unnamed ones and for tokens swallowed by `...`.
pub fn match_line<'a>(fields: &[Field], line: &'a str) -> Option<Vec<(String, &'a str)>> {
    let mut toks = tokenize(line);
    let has_ellipsis = fields.iter().any(|f| matches!(f, Field::Ellipsis));
    if !has_ellipsis && toks.len() > fields.len() && !fields.is_empty() {
        // Without `...` the last field takes the rest of the line (`[w1=ERROR, w2]`).
        let last = fields.len() - 1;
        let start = toks[last].start;
        toks.truncate(last);
        toks.push(Token {
            value: line[start..].trim_end(),
            start,
        });
    }
    let mut at = Vec::with_capacity(fields.len());
    if !fit(fields, &toks, 0, 0, &mut at) {
        return None;
    }
    let mut out = Vec::with_capacity(toks.len());
    for (fi, f) in fields.iter().enumerate() {
        let start = at[fi];
        match f {
            Field::Ellipsis => {
                let end = at.get(fi + 1).copied().unwrap_or(toks.len());
                for (k, t) in toks.iter().enumerate().take(end).skip(start) {
                    out.push((format!("${}", k + 1), t.value));
                }
            }
            Field::Token { name: Some(n), .. } => out.push((format!("${n}"), toks[start].value)),
            Field::Token { name: None, .. } => {
                out.push((format!("${}", start + 1), toks[start].value))
            }
        }
    }
    Some(out)
}
