//! Condition operators, and how each judges the request context.
//!
//! How AWS documents the combinations, and so how they are judged here:
//! - every operator of a block must hold, and every key of an operator; one key holds when
//!   the request's value matches any of the listed values, or, for a negated operator
//!   (`StringNotEquals`, `NotIpAddress`, …), matches none of them;
//! - a key absent from the request: "the values do not match", so a positive operator fails
//!   and a negated one holds ("If the policy condition requires that the key is not matched,
//!   such as StringNotLike or ArnNotLike, and the right key is not present, the condition is
//!   true"); `…IfExists` holds; `ForAllValues:` holds; `ForAnyValue:` fails; `Null` tests
//!   exactly that;
//! - an operator IAM does not know (only in documents read leniently) never holds, so its
//!   statement never applies.

use serde_json::Value;

use crate::context::Context;
use crate::dates;
use crate::ip;
use crate::pattern::Pattern;
use crate::variables;

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
    /// `ArnEquals` and `ArnLike`, which behave the same: each ARN part may hold wildcards.
    ArnLike,
    Null,
    /// An operator IAM does not know.
    Unknown,
}

impl Kind {
    /// Whether policy variables are expanded in this operator's values (AWS supports them
    /// for the string, ARN and Boolean operators only).
    fn takes_variables(self) -> bool {
        matches!(
            self,
            Kind::StringEquals
                | Kind::StringEqualsIgnoreCase
                | Kind::StringLike
                | Kind::ArnLike
                | Kind::Bool
        )
    }

    fn is_date(self) -> bool {
        matches!(
            self,
            Kind::DateEquals
                | Kind::DateLessThan
                | Kind::DateLessThanEquals
                | Kind::DateGreaterThan
                | Kind::DateGreaterThanEquals
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    ForAllValues,
    ForAnyValue,
}

/// An operator name taken apart: `ForAnyValue:StringNotLikeIfExists`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operator {
    pub kind: Kind,
    pub negated: bool,
    pub if_exists: bool,
    pub set: Option<SetOp>,
}

impl Operator {
    /// `None` for a name IAM does not know.
    pub fn parse(name: &str) -> Option<Operator> {
        let (set, rest) = if let Some(r) = name.strip_prefix("ForAllValues:") {
            (Some(SetOp::ForAllValues), r)
        } else if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (Some(SetOp::ForAnyValue), r)
        } else {
            (None, name)
        };
        // `Null` tests presence itself, so it takes no `IfExists`.
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) if b != "Null" => (b, true),
            _ => (rest, false),
        };
        let (kind, negated) = base_operator(base)?;
        Some(Operator {
            kind,
            negated,
            if_exists,
            set,
        })
    }

    pub fn is_date(&self) -> bool {
        self.kind.is_date()
    }
}

/// Operator name → (kind, negated).
fn base_operator(name: &str) -> Option<(Kind, bool)> {
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
        "ArnEquals" | "ArnLike" => (ArnLike, false),
        "ArnNotEquals" | "ArnNotLike" => (ArnLike, true),
        "Null" => (Null, false),
        _ => return None,
    })
}

/// A listed condition value as text: strings as written, booleans and numbers as JSON
/// writes them.
pub fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// One key tested by one operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub kind: Kind,
    pub negated: bool,
    pub if_exists: bool,
    pub set: Option<SetOp>,
    pub key: String,
    pub values: Vec<String>,
}

impl Condition {
    /// A statement's `Condition` block, read leniently: what cannot be understood becomes a
    /// condition that never holds (IAM would have refused it when the policy was written).
    pub fn parse_block(v: &Value) -> Vec<Condition> {
        let never = || Condition {
            kind: Kind::Unknown,
            negated: false,
            if_exists: false,
            set: None,
            key: String::new(),
            values: Vec::new(),
        };
        let Value::Object(ops) = v else {
            return vec![never()];
        };
        let mut out = Vec::new();
        for (name, keys) in ops {
            let Value::Object(keys) = keys else {
                out.push(never());
                continue;
            };
            if keys.is_empty() {
                // IAM accepts `{"AnyName": {}}` and it constrains nothing.
                continue;
            }
            let Some(op) = Operator::parse(name) else {
                out.push(never());
                continue;
            };
            for (key, want) in keys {
                let values = match want {
                    Value::Array(a) => a.iter().map(scalar).collect::<Option<Vec<_>>>(),
                    v => scalar(v).map(|s| vec![s]),
                };
                match values {
                    Some(values) => out.push(Condition {
                        kind: op.kind,
                        negated: op.negated,
                        if_exists: op.if_exists,
                        set: op.set,
                        key: key.clone(),
                        values,
                    }),
                    None => out.push(never()),
                }
            }
        }
        out
    }

    /// Whether the condition holds for the context; `variables` says whether the document
    /// expands policy variables.
    pub fn holds(&self, ctx: &Context, variables: bool) -> bool {
        if self.kind == Kind::Unknown {
            return false;
        }
        let got = ctx.get(&self.key).filter(|v| !v.is_empty());
        if self.kind == Kind::Null {
            return self.values.iter().any(|w| {
                if w.eq_ignore_ascii_case("true") {
                    got.is_none()
                } else if w.eq_ignore_ascii_case("false") {
                    got.is_some()
                } else {
                    false
                }
            });
        }
        let Some(got) = got else {
            return match self.set {
                Some(SetOp::ForAllValues) => true,
                Some(SetOp::ForAnyValue) => false,
                None => self.if_exists || self.negated,
            };
        };
        let wants: Vec<Want> = self
            .values
            .iter()
            .filter_map(|w| Want::new(w, self.kind, variables, ctx))
            .collect();
        // Whether one request value passes: matches some listed value (or, negated, none).
        let passes =
            |value: &str| wants.iter().any(|w| w.matches(self.kind, value)) != self.negated;
        match self.set {
            Some(SetOp::ForAllValues) => got.iter().all(|v| passes(v)),
            Some(SetOp::ForAnyValue) => got.iter().any(|v| passes(v)),
            None if self.negated => got.iter().all(|v| passes(v)),
            None => got.iter().any(|v| passes(v)),
        }
    }
}

/// A listed value ready to compare: its text with variables resolved, and as a pattern for
/// the operators that take wildcards. A value whose variable cannot be resolved is dropped:
/// it matches nothing.
struct Want {
    text: String,
    pattern: Pattern,
}

impl Want {
    fn new(written: &str, kind: Kind, variables: bool, ctx: &Context) -> Option<Want> {
        if variables && kind.takes_variables() {
            let pieces = variables::resolve(written, ctx)?;
            Some(Want {
                text: variables::text_of(&pieces),
                pattern: Pattern::from_pieces(&pieces),
            })
        } else {
            Some(Want {
                text: written.to_owned(),
                pattern: Pattern::plain(written),
            })
        }
    }

    /// The operator, never negated, on this value and one request value.
    fn matches(&self, kind: Kind, got: &str) -> bool {
        use Kind::*;
        let want = self.text.as_str();
        match kind {
            StringEquals => want == got,
            StringEqualsIgnoreCase => want.to_lowercase() == got.to_lowercase(),
            StringLike => self.pattern.matches(got),
            NumericEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => {
                match (got.trim().parse::<f64>(), want.trim().parse::<f64>()) {
                    (Ok(g), Ok(w)) => compare(kind, g.partial_cmp(&w)),
                    _ => false,
                }
            }
            DateEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => match (dates::instant(got), dates::instant(want)) {
                (Some(g), Some(w)) => compare(kind, Some(g.cmp(&w))),
                _ => false,
            },
            Bool => want.eq_ignore_ascii_case(got),
            BinaryEquals => want == got,
            IpAddress => ip::in_block(got, want),
            ArnLike => self.pattern.matches_arn(got),
            Null | Unknown => false,
        }
    }
}

fn compare(kind: Kind, ord: Option<std::cmp::Ordering>) -> bool {
    use Kind::*;
    use std::cmp::Ordering::*;
    let Some(o) = ord else {
        return false;
    };
    match kind {
        NumericEquals | DateEquals => o == Equal,
        NumericLessThan | DateLessThan => o == Less,
        NumericLessThanEquals | DateLessThanEquals => o != Greater,
        NumericGreaterThan | DateGreaterThan => o == Greater,
        NumericGreaterThanEquals | DateGreaterThanEquals => o != Less,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_names() {
        let op = Operator::parse("ForAnyValue:StringNotLikeIfExists").unwrap();
        assert_eq!(op.kind, Kind::StringLike);
        assert!(op.negated && op.if_exists);
        assert_eq!(op.set, Some(SetOp::ForAnyValue));
        assert_eq!(Operator::parse("ArnEquals").unwrap().kind, Kind::ArnLike);
        assert!(Operator::parse("NullIfExists").is_none());
        assert!(Operator::parse("StringEqualz").is_none());
        assert!(Operator::parse("ForAnyValue::StringEquals").is_none());
        assert!(Operator::parse("stringequals").is_none());
    }
}
