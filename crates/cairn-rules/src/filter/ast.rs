//! The parsed form of JSON and space-delimited patterns.

use super::scan::KeySig;
use super::value::ValueTest;

/// One step of a JSON selector: `.name` or `[N]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Step {
    Key(Box<str>),
    Index(usize),
}

/// `$.a.b[0]`: the steps after `$`.
pub type Path = Vec<Step>;

/// A JSON pattern's boolean expression. Selectors are numbered (`slot`) so that a message is
/// scanned once for all of them.
#[derive(Debug, Clone)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Test {
        slot: usize,
        test: JsonTest,
    },
    /// `slot = v1 || slot = v2 || …` with exact strings, each with its `scan::key_sig` (see
    /// `compile`).
    InSet {
        slot: usize,
        values: Vec<(KeySig, Box<str>)>,
    },
}

/// What a JSON comparison asks of the value its selector reaches.
#[derive(Debug, Clone)]
pub enum JsonTest {
    Value(ValueTest),
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

/// One `[…]` slot of a space-delimited pattern.
#[derive(Debug, Clone)]
pub enum Field {
    /// `...`: any number of tokens, each extracted under its position (`$1`, `$2`, …).
    Ellipsis,
    /// A named (or, after a trailing comma, unnamed) token with optional conditions, an OR of ANDs.
    Token {
        name: Option<Box<str>>,
        any_of: Vec<Vec<ValueTest>>,
    },
}
