//! One field's test: the values a Sigma selection lists for a field, with the field's
//! modifiers (`contains`, `startswith`, `endswith`, `all`, `re`, `cidr`, `exists`,
//! `fieldref`, `lt`/`lte`/`gt`/`gte`, `base64`, `base64offset`), against the record's values.
//!
//! Sigma compares strings case-insensitively, with `*` (any run of characters) and `?` (one
//! character) as wildcards and `\` escaping them; numbers and booleans compare by their text.

use regex_automata::meta::Regex;
use serde_json::Value;

use super::SigmaError;
use super::record::{Fields, Resolved, any_text, leaves, lookup, visit};
use crate::pattern::cidr::Cidr;

/// A compiled test of one field.
#[derive(Debug, Clone)]
pub struct FieldTest {
    /// The field's dotted path (`userIdentity.type`).
    pub field: String,
    /// The same, split at its dots.
    path: Vec<String>,
    /// Its number among the fields of a detector's rules (see [`Fields`]).
    slot: Option<usize>,
    /// Every value must match (`|all`), instead of any.
    all: bool,
    matchers: Vec<Matcher>,
}

#[derive(Debug, Clone)]
enum Matcher {
    /// The field is absent or null (`field: null`).
    Null,
    /// The field is present (`true`) or absent (`false`).
    Exists(bool),
    /// A string, case-insensitive, without wildcards.
    Equals(String),
    /// A pattern with wildcards, or a regular expression.
    Regex(Regex),
    /// Equal to another field of the same record.
    FieldRef(String),
    Cidr(Cidr),
    Number(Cmp, f64),
}

#[derive(Debug, Clone, Copy)]
enum Cmp {
    Lt,
    Lte,
    Gt,
    Gte,
}

/// How a string value becomes a matcher.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Whole,
    Contains,
    StartsWith,
    EndsWith,
}

impl FieldTest {
    /// Compiles `key` (`field|modifier|…`) and its value(s).
    pub fn compile(key: &str, value: &Value) -> Result<FieldTest, SigmaError> {
        let mut parts = key.split('|');
        let field = parts.next().unwrap_or("").to_owned();
        let mods: Vec<&str> = parts.collect();
        let values: Vec<&Value> = match value {
            Value::Array(a) => a.iter().collect(),
            v => vec![v],
        };
        let mut shape = Shape::Whole;
        let (mut all, mut re, mut re_flags) = (false, false, String::new());
        let (mut cidr, mut exists, mut fieldref) = (false, false, false);
        let mut cmp = None;
        let mut encode: Option<&str> = None;
        for m in &mods {
            match *m {
                "contains" => shape = Shape::Contains,
                "startswith" => shape = Shape::StartsWith,
                "endswith" => shape = Shape::EndsWith,
                "all" => all = true,
                "re" => re = true,
                "i" | "m" | "s" if re => re_flags.push_str(m),
                "cidr" => cidr = true,
                "exists" => exists = true,
                "fieldref" => fieldref = true,
                "lt" => cmp = Some(Cmp::Lt),
                "lte" => cmp = Some(Cmp::Lte),
                "gt" => cmp = Some(Cmp::Gt),
                "gte" => cmp = Some(Cmp::Gte),
                "base64" | "base64offset" => encode = Some(m),
                other => {
                    return Err(SigmaError::Unsupported(format!(
                        "the modifier '{other}' (field '{field}')"
                    )));
                }
            }
        }
        let mut matchers = Vec::with_capacity(values.len());
        for v in values {
            let text = match v {
                Value::Null => {
                    matchers.push(Matcher::Null);
                    continue;
                }
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) if exists => {
                    matchers.push(Matcher::Exists(*b));
                    continue;
                }
                Value::Bool(b) => b.to_string(),
                other => {
                    return Err(SigmaError::Invalid(format!(
                        "field '{field}' has a value that is not a string, number, boolean or null: {other}"
                    )));
                }
            };
            if exists {
                let b = text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("yes");
                matchers.push(Matcher::Exists(b));
            } else if fieldref {
                matchers.push(Matcher::FieldRef(text));
            } else if cidr {
                let c = Cidr::parse(&text)
                    .map_err(|e| SigmaError::Invalid(format!("field '{field}': {e}")))?;
                matchers.push(Matcher::Cidr(c));
            } else if let Some(c) = cmp {
                let n: f64 = text.parse().map_err(|_| {
                    SigmaError::Invalid(format!("field '{field}': '{text}' is not a number"))
                })?;
                matchers.push(Matcher::Number(c, n));
            } else if re {
                let src = if re_flags.is_empty() {
                    text
                } else {
                    format!("(?{re_flags}){text}")
                };
                let r = Regex::new(&src).map_err(|e| {
                    SigmaError::Invalid(format!("field '{field}': bad regular expression: {e}"))
                })?;
                matchers.push(Matcher::Regex(r));
            } else if let Some(how) = encode {
                for variant in encoded(&text, how) {
                    matchers.push(string_matcher(&variant, shape, false)?);
                }
            } else {
                matchers.push(string_matcher(&text, shape, true)?);
            }
        }
        Ok(FieldTest {
            path: field.split('.').map(str::to_owned).collect(),
            slot: None,
            field,
            all,
            matchers,
        })
    }

    /// The exact values (lower case) one of which `field` must equal for this test to pass,
    /// when the test is on that field and compares whole values only; else `None`.
    pub fn required(&self, field: &str) -> Option<Vec<String>> {
        if self.field != field || (self.all && self.matchers.len() > 1) || self.matchers.is_empty()
        {
            return None;
        }
        self.matchers
            .iter()
            .map(|m| match m {
                Matcher::Equals(v) => Some(v.to_ascii_lowercase()),
                _ => None,
            })
            .collect()
    }

    /// Numbers the field among `fields` (the same path, the same number).
    pub fn assign_slot(&mut self, fields: &mut Vec<String>) {
        let at = match fields.iter().position(|f| *f == self.field) {
            Some(i) => i,
            None => {
                fields.push(self.field.clone());
                fields.len() - 1
            }
        };
        self.slot = Some(at);
    }

    /// Whether the record's field passes.
    pub fn matches(&self, fields: &mut Fields<'_>) -> bool {
        if self.matchers.is_empty() {
            return false;
        }
        let found = fields.get(self.slot, &self.field, &self.path);
        let record = fields.record;
        let one = |m: &Matcher| self.matcher_matches(m, found, record);
        if self.all {
            self.matchers.iter().all(one)
        } else {
            self.matchers.iter().any(one)
        }
    }

    /// Whether one of the field's values passes `m` (an absent or null field has none).
    fn matcher_matches(&self, m: &Matcher, found: Resolved<'_>, record: &Value) -> bool {
        let any = |f: &mut dyn FnMut(&str) -> bool| match found {
            Resolved::Absent => false,
            Resolved::One(v) => any_text(v, f),
            Resolved::Many => visit(record, &self.field, &self.path, &mut |v: &Value| {
                any_text(v, f)
            }),
        };
        let present = || match found {
            Resolved::Absent => false,
            Resolved::One(v) => !v.is_null(),
            Resolved::Many => visit(record, &self.field, &self.path, &mut |v| !v.is_null()),
        };
        match m {
            Matcher::Null => !present(),
            Matcher::Exists(want) => present() == *want,
            Matcher::FieldRef(other) => {
                let others: Vec<_> = lookup(record, other).into_iter().flat_map(texts).collect();
                any(&mut |t| others.iter().any(|o| t.eq_ignore_ascii_case(o)))
            }
            Matcher::Number(cmp, want) => any(&mut |t| {
                t.parse::<f64>().is_ok_and(|n| match cmp {
                    Cmp::Lt => n < *want,
                    Cmp::Lte => n <= *want,
                    Cmp::Gt => n > *want,
                    Cmp::Gte => n >= *want,
                })
            }),
            Matcher::Cidr(c) => any(&mut |t| c.contains_text(t)),
            Matcher::Equals(want) => any(&mut |t| t.eq_ignore_ascii_case(want)),
            Matcher::Regex(r) => any(&mut |t| r.is_match(t)),
        }
    }
}

/// A value's texts: a string's itself, a number's or boolean's printed form, each element
/// of a list, and an object as compact JSON (rules match `requestParameters|contains`).
fn texts(v: &Value) -> Vec<std::borrow::Cow<'_, str>> {
    let mut out = Vec::new();
    leaves(v, &mut out);
    out
}

/// A string value as a matcher: plain text compares directly; wildcards become a
/// case-insensitive regular expression.
fn string_matcher(text: &str, shape: Shape, wildcards: bool) -> Result<Matcher, SigmaError> {
    // The pattern as pieces: literal text, `*` (any run) and `?` (one character).
    enum Piece {
        Text(String),
        Any,
        One,
    }
    let mut pieces: Vec<Piece> = Vec::new();
    let push = |pieces: &mut Vec<Piece>, c: char| match pieces.last_mut() {
        Some(Piece::Text(t)) => t.push(c),
        _ => pieces.push(Piece::Text(c.to_string())),
    };
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if wildcards && matches!(chars.peek(), Some('*' | '?' | '\\')) => {
                let next = chars.next().unwrap_or('\\');
                push(&mut pieces, next);
            }
            '*' if wildcards => pieces.push(Piece::Any),
            '?' if wildcards => pieces.push(Piece::One),
            c => push(&mut pieces, c),
        }
    }
    // The modifiers' implied wildcards; a leading or trailing `*` unanchors that end instead of
    // matching a run (the regular expression then searches for the rest: much faster).
    let mut anchored_start = !matches!(shape, Shape::Contains | Shape::EndsWith);
    let mut anchored_end = !matches!(shape, Shape::Contains | Shape::StartsWith);
    while matches!(pieces.first(), Some(Piece::Any)) {
        pieces.remove(0);
        anchored_start = false;
    }
    while matches!(pieces.last(), Some(Piece::Any)) {
        pieces.pop();
        anchored_end = false;
    }
    if anchored_start && anchored_end {
        if let [Piece::Text(t)] = pieces.as_slice() {
            return Ok(Matcher::Equals(t.clone()));
        }
        if pieces.is_empty() {
            return Ok(Matcher::Equals(String::new()));
        }
    }
    let mut src = String::from("(?is)");
    if anchored_start {
        src.push('^');
    }
    for p in &pieces {
        match p {
            Piece::Text(t) => src.push_str(&regex_syntax::escape(t)),
            Piece::Any => src.push_str(".*"),
            Piece::One => src.push('.'),
        }
    }
    if anchored_end {
        src.push('$');
    }
    Regex::new(&src)
        .map(Matcher::Regex)
        .map_err(|e| SigmaError::Invalid(format!("pattern '{text}': {e}")))
}

/// `base64`: the value's Base64; `base64offset`: the three forms it takes at any offset
/// inside a longer Base64 text (Sigma's definition: encode the value after 0, 1 or 2 bytes,
/// and cut the characters those bytes and the padding touch).
fn encoded(text: &str, how: &str) -> Vec<String> {
    use base64::Engine as _;
    let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
    if how == "base64" {
        return vec![b64(text.as_bytes())];
    }
    (0..3usize)
        .map(|i| {
            let mut padded = vec![b' '; i];
            padded.extend_from_slice(text.as_bytes());
            let e = b64(&padded);
            let start = [0, 2, 3][i];
            let cut = [0, 3, 2][(text.len() + i) % 3];
            e.get(start..e.len().saturating_sub(cut))
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}
