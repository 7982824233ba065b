//! Numbers as event-ruler compares them: IEEE doubles, refusing any number a double cannot hold
//! exactly (`Cannot compare number : …`), and ranges with open or closed ends.

use serde_json::Number;

/// Parses a pattern number as event-ruler's `ComparableNumber.generate` accepts it.
pub(crate) fn comparable(text: &str) -> Result<f64, String> {
    let refuse = || format!("Cannot compare number : {text}");
    let value: f64 = text.parse().map_err(|_| refuse())?;
    if !value.is_finite() || canonical_decimal(text) != canonical_decimal(&format!("{value:e}")) {
        return Err(refuse());
    }
    Ok(value)
}

/// The value of a JSON number in an event, when it is one a double holds exactly.
pub(crate) fn event_number(n: &Number) -> Option<f64> {
    if let Some(i) = n.as_i64() {
        let f = i as f64;
        // 2^63 itself would saturate back to i64::MAX and look exact.
        return (f < 2f64.powi(63) && f as i64 == i).then_some(f);
    }
    if let Some(u) = n.as_u64() {
        let f = u as f64;
        return (f < 2f64.powi(64) && f as u64 == u).then_some(f);
    }
    n.as_f64().filter(|f| f.is_finite())
}

/// A decimal number reduced to (negative, significant digits, exponent of the last digit), so
/// that `300`, `3.0e2` and `300.000` compare equal, as Java's `BigDecimal.compareTo` does.
fn canonical_decimal(text: &str) -> Option<(bool, String, i64)> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(k) => (&rest[..k], rest[k + 1..].parse::<i64>().ok()?),
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits: String = int.chars().chain(frac.chars()).collect();
    let mut exponent = exp - frac.len() as i64;
    let trimmed = digits.trim_start_matches('0').to_owned();
    digits = trimmed;
    while digits.ends_with('0') {
        digits.pop();
        exponent += 1;
    }
    if digits.is_empty() {
        return Some((false, String::new(), 0));
    }
    Some((negative, digits, exponent))
}

/// One bound of a range: the value and whether the bound itself is excluded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bound {
    pub value: f64,
    pub open: bool,
}

/// A numeric condition: `=` is a closed range of one point.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Range {
    pub low: Option<Bound>,
    pub high: Option<Bound>,
}

impl Range {
    pub(crate) fn equals(value: f64) -> Range {
        let b = Bound { value, open: false };
        Range {
            low: Some(b),
            high: Some(b),
        }
    }

    /// A two-sided range; event-ruler refuses one whose bottom is not below its top.
    pub(crate) fn between(low: Bound, high: Bound) -> Result<Range, String> {
        if low.value >= high.value {
            return Err("Bottom must be less than top".to_owned());
        }
        Ok(Range {
            low: Some(low),
            high: Some(high),
        })
    }

    pub(crate) fn contains(&self, x: f64) -> bool {
        let above = self
            .low
            .is_none_or(|b| if b.open { x > b.value } else { x >= b.value });
        let below = self
            .high
            .is_none_or(|b| if b.open { x < b.value } else { x <= b.value });
        above && below
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparable_accepts_exact_doubles() {
        assert_eq!(comparable("3.018e2"), Ok(301.8));
        assert_eq!(comparable("-0"), Ok(-0.0));
        assert_eq!(comparable("0.1"), Ok(0.1));
        assert_eq!(comparable("123456789012"), Ok(123_456_789_012.0));
    }

    #[test]
    fn comparable_refuses_what_a_double_cannot_hold() {
        assert_eq!(
            comparable("1e400"),
            Err("Cannot compare number : 1e400".to_owned())
        );
        assert!(comparable("12345678901234567890123").is_err());
        assert!(comparable("0.10000000000000000001").is_err());
    }

    #[test]
    fn ranges_honour_open_and_closed_ends() {
        let r = Range::between(
            Bound {
                value: 0.0,
                open: true,
            },
            Bound {
                value: 5.0,
                open: false,
            },
        )
        .unwrap();
        assert!(!r.contains(0.0));
        assert!(r.contains(5.0));
        assert!(!r.contains(5.000001));
        let bad = Bound {
            value: 5.0,
            open: false,
        };
        assert_eq!(
            Range::between(bad, bad),
            Err("Bottom must be less than top".to_owned())
        );
    }

    #[test]
    fn event_numbers_beyond_double_precision_are_not_numeric() {
        let n: Number = serde_json::from_str("9007199254740993").unwrap();
        assert_eq!(event_number(&n), None);
        let n: Number = serde_json::from_str("300.0").unwrap();
        assert_eq!(event_number(&n), Some(300.0));
    }
}
