//! The compiled form of a pattern: branches (one per `$or` alternative) of fields, each field a
//! dotted path with the value matchers any one of which must accept one of the event's values
//! there; and how a single matcher judges a single event value.

use serde_json::Value;

use super::cidr::Cidr;
use super::numeric::{Range, event_number};
use super::wildcard::Wildcard;

/// One accepted shape of value. The text forms hold the JSON string's content.
#[derive(Debug, Clone)]
pub(crate) enum Matcher {
    /// A string value, compared exactly.
    Text(String),
    /// A string that is an IP literal: equal to any spelling of the same address.
    Ip(Cidr),
    /// A number as written, equal to event numbers of the same value (or the same text when
    /// the value is beyond a double).
    Number {
        text: String,
        value: Option<f64>,
    },
    Bool(bool),
    Null,
    Prefix(String),
    PrefixIgnoreCase(Folded),
    Suffix(String),
    SuffixIgnoreCase(Folded),
    EqualsIgnoreCase(Folded),
    Wildcard(Wildcard),
    Numeric(Range),
    Cidr(Cidr),
    /// `exists: true`; `exists: false` is [`Field::absent_ok`].
    Exists,
    AnythingBut(AnythingBut),
}

/// The values `anything-but` refuses.
#[derive(Debug, Clone)]
pub(crate) enum AnythingBut {
    Texts(Vec<String>),
    Numbers(Vec<f64>),
    Prefixes(Vec<String>),
    Suffixes(Vec<String>),
    IgnoreCase(Vec<Folded>),
    Wildcards(Vec<Wildcard>),
}

/// A string prepared for case-insensitive comparison as event-ruler does it: each pattern
/// character matches its lower-case or its upper-case form (each possibly several characters,
/// as `ß` → `SS`).
#[derive(Debug, Clone)]
pub(crate) struct Folded {
    forms: Vec<(String, String)>,
}

impl Folded {
    pub(crate) fn new(s: &str) -> Folded {
        Folded {
            forms: s
                .chars()
                .map(|c| (c.to_lowercase().collect(), c.to_uppercase().collect()))
                .collect(),
        }
    }

    /// Whether the pattern consumes `s` from the front, leaving `rest` to `done`.
    fn front<'s>(forms: &[(String, String)], s: &'s str, done: &dyn Fn(&'s str) -> bool) -> bool {
        let Some(((lower, upper), more)) = forms.split_first() else {
            return done(s);
        };
        s.strip_prefix(lower.as_str())
            .is_some_and(|r| Self::front(more, r, done))
            || (upper != lower
                && s.strip_prefix(upper.as_str())
                    .is_some_and(|r| Self::front(more, r, done)))
    }

    fn back(forms: &[(String, String)], s: &str) -> bool {
        let Some(((lower, upper), more)) = forms.split_last() else {
            return true;
        };
        s.strip_suffix(lower.as_str())
            .is_some_and(|r| Self::back(more, r))
            || (upper != lower
                && s.strip_suffix(upper.as_str())
                    .is_some_and(|r| Self::back(more, r)))
    }

    pub(crate) fn equals(&self, s: &str) -> bool {
        Self::front(&self.forms, s, &|rest| rest.is_empty())
    }

    pub(crate) fn is_prefix_of(&self, s: &str) -> bool {
        Self::front(&self.forms, s, &|_| true)
    }

    pub(crate) fn is_suffix_of(&self, s: &str) -> bool {
        Self::back(&self.forms, s)
    }
}

impl Matcher {
    /// Whether this matcher accepts `v`, a scalar event value (string, number, bool, null).
    pub(crate) fn accepts(&self, v: &Value) -> bool {
        match self {
            Matcher::Text(t) => v.as_str() == Some(t.as_str()),
            Matcher::Ip(c) | Matcher::Cidr(c) => v.as_str().is_some_and(|s| c.contains_text(s)),
            Matcher::Number { text, value } => match v {
                Value::Number(n) => match (value, event_number(n)) {
                    (Some(a), Some(b)) => *a == b,
                    _ => n.to_string() == *text,
                },
                _ => false,
            },
            Matcher::Bool(b) => v.as_bool() == Some(*b),
            Matcher::Null => v.is_null(),
            Matcher::Prefix(p) => v.as_str().is_some_and(|s| s.starts_with(p.as_str())),
            Matcher::Suffix(p) => v.as_str().is_some_and(|s| s.ends_with(p.as_str())),
            Matcher::PrefixIgnoreCase(f) => v.as_str().is_some_and(|s| f.is_prefix_of(s)),
            Matcher::SuffixIgnoreCase(f) => v.as_str().is_some_and(|s| f.is_suffix_of(s)),
            Matcher::EqualsIgnoreCase(f) => v.as_str().is_some_and(|s| f.equals(s)),
            Matcher::Wildcard(w) => v.as_str().is_some_and(|s| w.matches(s)),
            Matcher::Numeric(r) => match v {
                Value::Number(n) => event_number(n).is_some_and(|x| r.contains(x)),
                _ => false,
            },
            Matcher::Exists => true,
            Matcher::AnythingBut(a) => !a.refuses(v),
        }
    }
}

impl AnythingBut {
    /// Whether `v` is one of the refused values; values of another type never are.
    fn refuses(&self, v: &Value) -> bool {
        match (self, v) {
            (AnythingBut::Texts(ts), Value::String(s)) => ts.iter().any(|t| t == s),
            (AnythingBut::Numbers(ns), Value::Number(n)) => {
                event_number(n).is_some_and(|x| ns.contains(&x))
            }
            (AnythingBut::Prefixes(ps), Value::String(s)) => {
                ps.iter().any(|p| s.starts_with(p.as_str()))
            }
            (AnythingBut::Suffixes(ps), Value::String(s)) => {
                ps.iter().any(|p| s.ends_with(p.as_str()))
            }
            (AnythingBut::IgnoreCase(fs), Value::String(s)) => fs.iter().any(|f| f.equals(s)),
            (AnythingBut::Wildcards(ws), Value::String(s)) => ws.iter().any(|w| w.matches(s)),
            _ => false,
        }
    }
}

/// One field of a branch: a dotted path and the matchers for its values.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub path: String,
    pub matchers: Vec<Matcher>,
    /// The field is satisfied when the path holds no value (`exists: false`).
    pub absent_ok: bool,
}

impl Field {
    pub(crate) fn new(path: String, matchers: Vec<Matcher>, absent_ok: bool) -> Field {
        Field {
            path,
            matchers,
            absent_ok,
        }
    }

    pub(crate) fn accepts(&self, v: &Value) -> bool {
        self.matchers.iter().any(|m| m.accepts(v))
    }
}

/// One `$or` alternative: every field must be satisfied.
pub(crate) type Branch = Vec<Field>;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn folded_compares_case_insensitively() {
        let f = Folded::new("EventB");
        assert!(f.is_prefix_of("eventbridge"));
        assert!(!f.is_prefix_of("event"));
        assert!(Folded::new(".PNG").is_suffix_of("a.png"));
        assert!(Folded::new("Alice").equals("aLICE"));
        assert!(!Folded::new("Alice").equals("Alice2"));
        assert!(Folded::new("straße").equals("STRASSE"));
        assert!(Folded::new("x").equals("X"));
        assert!(Folded::new("").equals(""));
        assert!(!Folded::new("").equals("x"));
        assert!(Folded::new("").is_suffix_of("x"));
    }

    #[test]
    fn anything_but_lets_other_types_through() {
        let m = Matcher::AnythingBut(AnythingBut::Texts(vec!["x".into()]));
        assert!(m.accepts(&json!(null)));
        assert!(m.accepts(&json!(5)));
        assert!(!m.accepts(&json!("x")));
        let m = Matcher::AnythingBut(AnythingBut::Numbers(vec![300.0]));
        assert!(!m.accepts(&json!(300.0)));
        assert!(m.accepts(&json!("300")));
    }

    #[test]
    fn numbers_compare_by_value() {
        let m = Matcher::Number {
            text: "300".into(),
            value: Some(300.0),
        };
        assert!(m.accepts(&json!(300.0)));
        assert!(!m.accepts(&json!("300")));
    }
}
