//! Comparing one value against a pattern's right-hand side: wildcard strings, numbers (numeric
//! when the value is a number) and `%regex%`. Shared by JSON and space-delimited patterns.

use regex_automata::meta::Regex;

use super::error::PatternError;
use super::lexer::CmpOp;

/// A string literal with AWS's wildcard rule: `*` only counts at the start and/or end; an inner
/// `*` is a literal asterisk.
#[derive(Debug, Clone)]
pub struct Wild {
    pub lit: Box<str>,
    pub leading: bool,
    pub trailing: bool,
}

impl Wild {
    pub fn new(s: &str) -> Self {
        let leading = s.starts_with('*');
        let rest = if leading { &s[1..] } else { s };
        let trailing = rest.ends_with('*');
        let lit = if trailing {
            &rest[..rest.len() - 1]
        } else {
            rest
        };
        Wild {
            lit: lit.into(),
            leading,
            trailing,
        }
    }

    pub fn is_match(&self, v: &str) -> bool {
        let lit: &str = &self.lit;
        match (self.leading, self.trailing) {
            (false, false) => v == lit,
            (false, true) => v.starts_with(lit),
            (true, false) => v.ends_with(lit),
            (true, true) => v.contains(lit),
        }
    }
}

/// The right-hand side of `=`/`!=`.
#[derive(Debug, Clone)]
pub enum Operand {
    /// `*` / `"*"`: any value.
    Any,
    /// A number literal: compared numerically with numbers, textually with strings.
    Num {
        n: f64,
        text: Box<str>,
    },
    Str(Wild),
    Regex(Box<Regex>),
}

/// `op operand`, the unit both pattern kinds test values with.
#[derive(Debug, Clone)]
pub enum ValueTest {
    Eq(Operand),
    Ne(Operand),
    Lt(f64),
    Le(f64),
    Gt(f64),
    Ge(f64),
}

/// A scalar as the message holds it.
#[derive(Debug, Clone, Copy)]
pub enum Scalar<'a> {
    Str(&'a str),
    /// The number's source text (parsed only when a numeric test needs it).
    Num(&'a str),
}

/// Parses AWS's number syntax: optional sign, digits with optional fraction, optional exponent.
/// Stricter than `f64::from_str`, which would also take `inf` and `NaN`.
pub fn parse_number(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let f = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - f;
    }
    if digits == 0 {
        return None;
    }
    if i < b.len() && matches!(b[i], b'e' | b'E') {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let e = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == e {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    s.parse().ok()
}

/// Compiles `%regex%` after AWS's character rules: no `(`/`)`, no multi-byte characters, and only
/// letters, digits, space and `:_#=@/;,-^$?[]{}|\*+.`.
pub fn compile_regex(src: &str) -> Result<Regex, PatternError> {
    if src.is_empty() {
        return Err(PatternError::syntax("empty %regex%"));
    }
    if let Some(c) = src
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || ":_#=@/;,-^$?[]{}|\\*+. ".contains(c)))
    {
        return Err(PatternError::syntax(format!(
            "character {c:?} is not allowed in a regex"
        )));
    }
    Regex::new(&ascii_classes(src)).map_err(|e| PatternError::syntax(format!("bad regex: {e}")))
}

/// Rewrites the Perl classes `\d`, `\w`, `\s` (and negations, and `\b`/`\B`) to their ASCII
/// meaning, as in the regex dialects AWS's services use, while `.` still takes a whole (possibly
/// multi-byte) character of the message. Nested classes (`[a[0-9]]`) keep this valid inside `[…]`.
fn ascii_classes(src: &str) -> String {
    let mut out = String::with_capacity(src.len() + 16);
    let mut it = src.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('d') => out.push_str("[0-9]"),
            Some('D') => out.push_str("[^0-9]"),
            Some('w') => out.push_str("[0-9A-Za-z_]"),
            Some('W') => out.push_str("[^0-9A-Za-z_]"),
            Some('s') => out.push_str(r"[\t\n\x0B\x0C\r ]"),
            Some('S') => out.push_str(r"[^\t\n\x0B\x0C\r ]"),
            Some('b') => out.push_str(r"(?-u:\b)"),
            Some('B') => out.push_str(r"(?-u:\B)"),
            Some(e) => {
                out.push('\\');
                out.push(e);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Builds `op operand` from a comparison operator and its parsed operand.
pub fn make_test(op: CmpOp, operand: Operand) -> Result<ValueTest, PatternError> {
    let num = |o: &Operand| match o {
        Operand::Num { n, .. } => Ok(*n),
        _ => Err(PatternError::syntax("<, <=, > and >= need a number")),
    };
    Ok(match op {
        CmpOp::Eq => ValueTest::Eq(operand),
        CmpOp::Ne => ValueTest::Ne(operand),
        CmpOp::Lt => ValueTest::Lt(num(&operand)?),
        CmpOp::Le => ValueTest::Le(num(&operand)?),
        CmpOp::Gt => ValueTest::Gt(num(&operand)?),
        CmpOp::Ge => ValueTest::Ge(num(&operand)?),
    })
}

/// Operand from a bare word: `*`, a number, or a (wildcard) string.
pub fn bare_operand(w: &str) -> Result<Operand, PatternError> {
    if let Some(c) = w
        .chars()
        .find(|&c| !c.is_ascii() || matches!(c, '@' | '$' | '\\'))
    {
        // AWS's docs: values with these characters must be quoted.
        return Err(PatternError::syntax(format!("{c:?} in an unquoted value")));
    }
    Ok(quoted_operand(w).unwrap_or_else(|| match parse_number(w) {
        Some(n) => Operand::Num { n, text: w.into() },
        None => Operand::Str(Wild::new(w)),
    }))
}

/// `*` alone means any value, quoted or not; `None` otherwise.
fn quoted_operand(w: &str) -> Option<Operand> {
    (w == "*").then_some(Operand::Any)
}

/// Operand from a quoted string: wildcards apply inside quotes too.
pub fn string_operand(s: &str) -> Operand {
    quoted_operand(s).unwrap_or_else(|| Operand::Str(Wild::new(s)))
}

fn eq(o: &Operand, v: Scalar<'_>) -> bool {
    match (o, v) {
        (Operand::Any, _) => true,
        (Operand::Num { n, .. }, Scalar::Num(t)) => parse_number(t) == Some(*n),
        // Space-delimited tokens are all text: `bytes = 1534` should not depend on how the
        // number is spelt, so a numeric string compares numerically too [I].
        (Operand::Num { n, text }, Scalar::Str(s)) => s == &**text || parse_number(s) == Some(*n),
        (Operand::Str(w), Scalar::Str(s) | Scalar::Num(s)) => w.is_match(s),
        (Operand::Regex(r), Scalar::Str(s) | Scalar::Num(s)) => r.is_match(s),
    }
}

/// Numbers compare as numbers; a string compares numerically only if it is a number [I].
fn num(v: Scalar<'_>) -> Option<f64> {
    match v {
        Scalar::Num(t) | Scalar::Str(t) => parse_number(t),
    }
}

impl ValueTest {
    /// Whether the value passes. `!=` is the negation of `=` on a present value.
    pub fn test(&self, v: Scalar<'_>) -> bool {
        match self {
            ValueTest::Eq(o) => eq(o, v),
            ValueTest::Ne(o) => !eq(o, v),
            ValueTest::Lt(x) => num(v).is_some_and(|n| n < *x),
            ValueTest::Le(x) => num(v).is_some_and(|n| n <= *x),
            ValueTest::Gt(x) => num(v).is_some_and(|n| n > *x),
            ValueTest::Ge(x) => num(v).is_some_and(|n| n >= *x),
        }
    }
}
