//! Condition operators, and how each judges the request context.
//!
//! Absent keys, as AWS documents them: a positive operator fails; a negated operator
//! (`StringNotEquals`, `NotIpAddress`, …) holds; `…IfExists` holds; `ForAllValues:` holds;
//! `ForAnyValue:` fails; `Null` tests exactly that.

use std::net::IpAddr;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::context::Context;
use crate::document::PolicyError;
use crate::pattern::Pattern;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    NumericEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    ArnLike,
    Null,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    ForAllValues,
    ForAnyValue,
}

/// One key tested by one operator.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    pub kind: Kind,
    pub negated: bool,
    pub if_exists: bool,
    pub set: Option<SetOp>,
    pub key: String,
    pub values: Vec<String>,
}

/// Operator name → (kind, negated).
fn operator(name: &str) -> Option<(Kind, bool)> {
    use Kind::*;
    Some(match name {
        "StringEquals" => (StringEquals, false),
        "StringNotEquals" => (StringEquals, true),
        "StringEqualsIgnoreCase" => (StringEqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (StringEqualsIgnoreCase, true),
        "StringLike" => (StringLike, false),
        "StringNotLike" => (StringLike, true),
        "NumericEquals" => (NumericEquals, false),
        "NumericNotEquals" => (NumericEquals, true),
        "NumericLessThan" => (NumericLessThan, false),
        "NumericLessThanEquals" => (NumericLessThanEquals, false),
        "NumericGreaterThan" => (NumericGreaterThan, false),
        "NumericGreaterThanEquals" => (NumericGreaterThanEquals, false),
        "DateEquals" => (DateEquals, false),
        "DateNotEquals" => (DateEquals, true),
        "DateLessThan" => (DateLessThan, false),
        "DateLessThanEquals" => (DateLessThanEquals, false),
        "DateGreaterThan" => (DateGreaterThan, false),
        "DateGreaterThanEquals" => (DateGreaterThanEquals, false),
        "Bool" => (Bool, false),
        "BinaryEquals" => (BinaryEquals, false),
        "IpAddress" => (IpAddress, false),
        "NotIpAddress" => (IpAddress, true),
        // ArnEquals and ArnLike behave the same: each ARN part may hold wildcards.
        "ArnEquals" | "ArnLike" => (ArnLike, false),
        "ArnNotEquals" | "ArnNotLike" => (ArnLike, true),
        "Null" => (Null, false),
        _ => return None,
    })
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Condition {
    /// A statement's `Condition` block.
    pub fn parse_block(v: &Value) -> Result<Vec<Condition>, PolicyError> {
        let syntax = || PolicyError::Malformed("Syntax errors in policy.".into());
        let Value::Object(ops) = v else {
            return Err(syntax());
        };
        let mut out = Vec::new();
        for (name, keys) in ops {
            let (set, rest) = if let Some(r) = name.strip_prefix("ForAllValues:") {
                (Some(SetOp::ForAllValues), r)
            } else if let Some(r) = name.strip_prefix("ForAnyValue:") {
                (Some(SetOp::ForAnyValue), r)
            } else {
                (None, name.as_str())
            };
            let (base, if_exists) = match rest.strip_suffix("IfExists") {
                Some(b) if b != "Null" => (b, true),
                _ => (rest, false),
            };
            let (kind, negated) = operator(base).ok_or_else(|| {
                PolicyError::Malformed(format!("Invalid Condition type : {name}"))
            })?;
            let Value::Object(keys) = keys else {
                return Err(syntax());
            };
            for (key, want) in keys {
                let values = match want {
                    Value::Array(a) => a.iter().map(scalar).collect::<Option<Vec<_>>>(),
                    v => scalar(v).map(|s| vec![s]),
                }
                .ok_or_else(syntax)?;
                out.push(Condition {
                    kind,
                    negated,
                    if_exists,
                    set,
                    key: key.clone(),
                    values,
                });
            }
        }
        Ok(out)
    }

    /// Whether the condition holds for the context.
    pub fn holds(&self, ctx: &Context, variables: bool) -> bool {
        let got = ctx.get(&self.key).filter(|v| !v.is_empty());
        if self.kind == Kind::Null {
            let want_absent = self.values.iter().any(|v| v.eq_ignore_ascii_case("true"));
            return want_absent == got.is_none();
        }
        let Some(got) = got else {
            return match self.set {
                Some(SetOp::ForAllValues) => true,
                Some(SetOp::ForAnyValue) => false,
                None => self.if_exists || self.negated,
            };
        };
        let wants: Vec<Option<Pattern>> = self
            .values
            .iter()
            .map(|w| {
                if variables {
                    Pattern::with_variables(w, ctx)
                } else {
                    Some(Pattern::plain(w))
                }
            })
            .collect();
        let raw: Vec<Option<String>> = self
            .values
            .iter()
            .map(|w| {
                if variables {
                    expand(w, ctx)
                } else {
                    Some(w.clone())
                }
            })
            .collect();
        // Whether one context value passes: matches some listed value (or, negated, none).
        let passes = |value: &str| {
            let any = wants.iter().zip(&raw).any(|(p, r)| match (p, r) {
                (Some(p), Some(r)) => self.matches(p, r, value),
                _ => false,
            });
            any != self.negated
        };
        match self.set {
            Some(SetOp::ForAllValues) => got.iter().all(|v| passes(v)),
            Some(SetOp::ForAnyValue) => got.iter().any(|v| passes(v)),
            None if self.negated => got.iter().all(|v| passes(v)),
            None => got.iter().any(|v| passes(v)),
        }
    }

    /// The base operator (never negated) on one policy value and one context value.
    fn matches(&self, pattern: &Pattern, want: &str, got: &str) -> bool {
        use Kind::*;
        match self.kind {
            StringEquals => want == got,
            StringEqualsIgnoreCase => want.to_lowercase() == got.to_lowercase(),
            StringLike => pattern.matches(got),
            NumericEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => {
                match (got.trim().parse::<f64>(), want.trim().parse::<f64>()) {
                    (Ok(g), Ok(w)) => compare(self.kind, g.partial_cmp(&w)),
                    _ => false,
                }
            }
            DateEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => match (date(got), date(want)) {
                (Some(g), Some(w)) => compare(self.kind, Some(g.cmp(&w))),
                _ => false,
            },
            Bool => want.eq_ignore_ascii_case(got),
            BinaryEquals => want == got,
            IpAddress => ip_in(got, want),
            ArnLike => arn_like(want, got),
            Null => false,
        }
    }
}

/// A condition value with its variables expanded (for the exact-comparison operators).
fn expand(text: &str, ctx: &Context) -> Option<String> {
    if !text.contains("${") {
        return Some(text.to_owned());
    }
    // Expand through the pattern machinery, then read the literal text back.
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Some(out);
        };
        let inner = after[..end].trim();
        match inner {
            "*" | "?" | "$" => out.push_str(inner),
            spec => {
                let (key, default) = match spec.split_once(',') {
                    Some((k, d)) => (k.trim(), Some(d.trim().trim_matches('\'').to_owned())),
                    None => (spec, None),
                };
                match ctx.get(key) {
                    Some([v]) => out.push_str(v),
                    _ => out.push_str(&default?),
                }
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

fn compare(kind: Kind, ord: Option<std::cmp::Ordering>) -> bool {
    use Kind::*;
    use std::cmp::Ordering::*;
    match (kind, ord) {
        (_, None) => false,
        (NumericEquals | DateEquals, Some(o)) => o == Equal,
        (NumericLessThan | DateLessThan, Some(o)) => o == Less,
        (NumericLessThanEquals | DateLessThanEquals, Some(o)) => o != Greater,
        (NumericGreaterThan | DateGreaterThan, Some(o)) => o == Greater,
        (NumericGreaterThanEquals | DateGreaterThanEquals, Some(o)) => o != Less,
        _ => false,
    }
}

/// ISO 8601 (`2026-01-02T03:04:05Z`, with fractions or offsets, or a bare date) or epoch seconds.
fn date(s: &str) -> Option<i128> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(i128::from(n) * 1_000_000_000);
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp_nanos());
    }
    let day = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(s, &day) {
        return Some(d.midnight().assume_utc().unix_timestamp_nanos());
    }
    // `2026-01-02T03:04:05` without a zone: UTC.
    let naive = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(s, &naive)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp_nanos())
}

/// Whether an address is in a CIDR block (or equals a single address).
fn ip_in(addr: &str, cidr: &str) -> bool {
    let Ok(ip) = addr.trim().parse::<IpAddr>() else {
        return false;
    };
    let (net, bits) = match cidr.trim().split_once('/') {
        Some((n, b)) => (n, b.parse::<u32>().ok()),
        None => (cidr.trim(), None),
    };
    let Ok(net) = net.parse::<IpAddr>() else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let bits = bits.unwrap_or(128).min(128);
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        // An IPv4 address written as IPv6 (::ffff:a.b.c.d) against an IPv4 block.
        (IpAddr::V6(a), IpAddr::V4(_)) => a
            .to_ipv4_mapped()
            .is_some_and(|v4| ip_in(&v4.to_string(), cidr)),
        _ => false,
    }
}

/// ARN matching: the six colon-separated parts, each with wildcards.
fn arn_like(pattern: &str, arn: &str) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    if p.len() != 6 || a.len() != 6 {
        return pattern == "*" || Pattern::plain(pattern).matches(arn);
    }
    p.iter().zip(&a).all(|(p, a)| Pattern::plain(p).matches(a))
}
