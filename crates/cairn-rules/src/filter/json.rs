//! JSON patterns: the boolean expression over the values [`scan`](super::scan) found, with
//! AWS's rule that `=`/`!=` only apply to string, number and boolean values.

use std::borrow::Cow;

use super::ast::{Expr, JsonTest};
use super::scan::{Found, key_sig};
use super::value::Scalar;

/// Evaluates `expr` over the scanned slot values.
pub fn eval(expr: &Expr, found: &[Option<Found<'_>>]) -> bool {
    match expr {
        Expr::And(v) => v.iter().all(|e| eval(e, found)),
        Expr::Or(v) => v.iter().any(|e| eval(e, found)),
        Expr::InSet { slot, values } => {
            let text = match found.get(*slot).copied().flatten() {
                Some(Found::Str {
                    raw,
                    escaped: false,
                }) => Cow::Borrowed(raw),
                Some(f @ (Found::Str { .. } | Found::Num(_) | Found::Bool(_))) => match f.text() {
                    Some(t) => t,
                    None => return false,
                },
                _ => return false,
            };
            let sig = key_sig(&text);
            values
                .iter()
                .any(|(s, v)| *s == sig && (text.len() <= 16 || **v == *text))
        }
        Expr::Test { slot, test } => {
            let f = found.get(*slot).copied().flatten();
            match (test, f) {
                (JsonTest::NotExists, f) => f.is_none(),
                (JsonTest::IsNull, f) => f == Some(Found::Null),
                (JsonTest::IsTrue, f) => f == Some(Found::Bool(true)),
                (JsonTest::IsFalse, f) => f == Some(Found::Bool(false)),
                // Absent values, objects and arrays satisfy neither `=` nor `!=` (AWS's doc:
                // `{$.users = 1}` and `{$.users != 1}` both fail on an array).
                (JsonTest::Value(t), Some(f)) => match f {
                    Found::Str { .. } => match f.text() {
                        Some(s) => t.test(Scalar::Str(&s)),
                        None => false,
                    },
                    Found::Num(n) => t.test(Scalar::Num(n)),
                    // Booleans compare as the words `true`/`false` [I]; IS TRUE is the documented form.
                    Found::Bool(b) => t.test(Scalar::Str(if b { "true" } else { "false" })),
                    Found::Null | Found::Composite => false,
                },
                (JsonTest::Value(_), None) => false,
            }
        }
    }
}
