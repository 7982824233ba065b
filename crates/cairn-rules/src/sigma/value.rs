//! One field's test: the values a Sigma selection lists for a field, with the field's
//! modifiers (`contains`, `startswith`, `endswith`, `all`, `re`, `cidr`, `exists`,
//! `fieldref`, `lt`/`lte`/`gt`/`gte`, `base64`, `base64offset`), against the record's values.
//!
//! Sigma compares strings case-insensitively, with `*` (any run of characters) and `?` (one
//! character) as wildcards and `\` escaping them; numbers and booleans compare by their text.

use regex_automata::meta::Regex;
use serde_json::Value;

use super::SigmaError;
use super::record::{leaves, lookup};
use crate::pattern::cidr::Cidr;

/// A compiled test of one field.
#[derive(Debug, Clone)]
pub struct FieldTest {
    /// The field's dotted path (`userIdentity.type`).
    pub field: String,
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
            field,
            all,
            matchers,
        })
    }

    /// Whether the record's field passes.
    pub fn matches(&self, record: &Value) -> bool {
        let found = lookup(record, &self.field);
        let one = |m: &Matcher| matcher_matches(m, &found, record);
        if self.matchers.is_empty() {
            return false;
        }
        if self.all {
            self.matchers.iter().all(one)
        } else {
            self.matchers.iter().any(one)
        }
    }
}

/// Whether one of the field's values (`found`: none when it is absent) passes `m`.
fn matcher_matches(m: &Matcher, found: &[&Value], record: &Value) -> bool {
    let present: Vec<&Value> = found.iter().copied().filter(|v| !v.is_null()).collect();
    let any_text = |f: &dyn Fn(&str) -> bool| present.iter().any(|v| texts(v).iter().any(|t| f(t)));
    match m {
        Matcher::Null => present.is_empty(),
        Matcher::Exists(want) => present.is_empty() != *want,
        Matcher::FieldRef(other) => {
            let others: Vec<_> = lookup(record, other).into_iter().flat_map(texts).collect();
            any_text(&|t| others.iter().any(|o| t.eq_ignore_ascii_case(o)))
        }
        Matcher::Number(cmp, want) => any_text(&|t| {
            t.parse::<f64>().is_ok_and(|n| match cmp {
                Cmp::Lt => n < *want,
                Cmp::Lte => n <= *want,
                Cmp::Gt => n > *want,
                Cmp::Gte => n >= *want,
            })
        }),
        Matcher::Cidr(c) => any_text(&|t| c.contains_text(t)),
        Matcher::Equals(want) => any_text(&|t| t.eq_ignore_ascii_case(want)),
        Matcher::Regex(r) => any_text(&|t| r.is_match(t)),
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
    let mut src = String::from("(?is)^");
    let mut plain = String::new();
    let mut has_wild = false;
    if matches!(shape, Shape::Contains | Shape::EndsWith) {
        src.push_str(".*");
        has_wild = true;
    }
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if wildcards && matches!(chars.peek(), Some('*' | '?' | '\\')) => {
                let next = chars.next().unwrap_or('\\');
                plain.push(next);
                src.push_str(&regex_syntax_escape(next));
            }
            '*' if wildcards => {
                has_wild = true;
                src.push_str(".*");
            }
            '?' if wildcards => {
                has_wild = true;
                src.push('.');
            }
            c => {
                plain.push(c);
                src.push_str(&regex_syntax_escape(c));
            }
        }
    }
    if matches!(shape, Shape::Contains | Shape::StartsWith) {
        src.push_str(".*");
        has_wild = true;
    }
    src.push('$');
    if !has_wild {
        return Ok(Matcher::Equals(plain));
    }
    Regex::new(&src)
        .map(Matcher::Regex)
        .map_err(|e| SigmaError::Invalid(format!("pattern '{text}': {e}")))
}

fn regex_syntax_escape(c: char) -> String {
    regex_syntax::escape(c.encode_utf8(&mut [0u8; 4]))
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
