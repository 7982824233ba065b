//! Rewrites a parsed JSON expression for evaluation speed without changing what it matches:
//! nested `&&`/`||` are flattened, and an `||` of exact string equalities on one selector (the
//! shape of most CIS patterns: `$.eventName=A || $.eventName=B || …`) becomes one set lookup
//! that compares integers, not bytes, for all but long values.

use std::collections::BTreeMap;

use super::ast::{Expr, JsonTest};
use super::scan::key_sig;
use super::value::{Operand, ValueTest, Wild};

/// The exact (wildcard-free) string an `=` test compares with, if that is what `e` is.
fn exact_eq(e: &Expr) -> Option<(usize, &str)> {
    match e {
        Expr::Test {
            slot,
            test:
                JsonTest::Value(ValueTest::Eq(Operand::Str(Wild {
                    lit,
                    leading: false,
                    trailing: false,
                }))),
        } => Some((*slot, lit)),
        _ => None,
    }
}

/// Simplifies `e` (see the module doc).
pub fn optimize(e: Expr) -> Expr {
    match e {
        Expr::And(parts) => {
            let mut flat = Vec::with_capacity(parts.len());
            for p in parts.into_iter().map(optimize) {
                match p {
                    Expr::And(inner) => flat.extend(inner),
                    p => flat.push(p),
                }
            }
            one_or(flat, Expr::And)
        }
        Expr::Or(parts) => {
            let mut flat = Vec::with_capacity(parts.len());
            for p in parts.into_iter().map(optimize) {
                match p {
                    Expr::Or(inner) => flat.extend(inner),
                    p => flat.push(p),
                }
            }
            // Group exact equalities by selector; everything else keeps its place.
            let mut sets: BTreeMap<usize, Vec<Box<str>>> = BTreeMap::new();
            let mut rest = Vec::new();
            for p in flat {
                match exact_eq(&p) {
                    Some((slot, lit)) => sets.entry(slot).or_default().push(lit.into()),
                    None => rest.push(p),
                }
            }
            let mut out: Vec<Expr> = sets
                .into_iter()
                .map(|(slot, mut values)| {
                    values.sort();
                    values.dedup();
                    let values = values.into_iter().map(|v| (key_sig(&v), v)).collect();
                    Expr::InSet { slot, values }
                })
                .collect();
            out.extend(rest);
            one_or(out, Expr::Or)
        }
        e => e,
    }
}

fn one_or(mut v: Vec<Expr>, wrap: fn(Vec<Expr>) -> Expr) -> Expr {
    if v.len() == 1 { v.remove(0) } else { wrap(v) }
}

/// `e` with every selector number `s` replaced by `map[s]` (for a [`FilterSet`](super::FilterSet)'s
/// shared slots).
pub fn remap(e: &Expr, map: &[usize]) -> Expr {
    match e {
        Expr::And(v) => Expr::And(v.iter().map(|e| remap(e, map)).collect()),
        Expr::Or(v) => Expr::Or(v.iter().map(|e| remap(e, map)).collect()),
        Expr::Test { slot, test } => Expr::Test {
            slot: map[*slot],
            test: test.clone(),
        },
        Expr::InSet { slot, values } => Expr::InSet {
            slot: map[*slot],
            values: values.clone(),
        },
    }
}
