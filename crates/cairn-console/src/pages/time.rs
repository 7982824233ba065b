//! Times as the pages show and take them: the API's epoch seconds shown in UTC, and the
//! browser's `datetime-local` fields read as UTC.

use serde_json::Value;
use time::OffsetDateTime;
use time::macros::format_description;

/// An API time (epoch seconds, possibly fractional) as `2026-12-05 21:44:15 UTC`.
pub fn shown(v: &Value) -> String {
    cairn_model::timefmt::from_epoch_seconds(v)
        .map(shown_ms)
        .unwrap_or_default()
}

pub fn shown_ms(ms: i64) -> String {
    let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) else {
        return String::new();
    };
    t.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
    ))
    .unwrap_or_default()
}

/// A `datetime-local` value (`2026-12-05T21:44` or with seconds), as UTC epoch ms.
pub fn parse_local(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let with_seconds = if s.len() == 16 {
        format!("{s}:00")
    } else {
        s.to_owned()
    };
    let t = time::PrimitiveDateTime::parse(
        &with_seconds,
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
    )
    .ok()?;
    Some((t.assume_utc().unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let ms = parse_local("2026-12-05T21:44").unwrap_or_default();
        assert_eq!(shown_ms(ms), "2026-12-05 21:44:00 UTC");
        assert_eq!(
            shown(&serde_json::json!(ms as f64 / 1000.0)),
            "2026-12-05 21:44:00 UTC"
        );
        assert_eq!(parse_local("yesterday"), None);
        assert_eq!(parse_local(""), None);
    }
}
