//! The time formats CloudTrail uses: `eventTime` strings, epoch numbers on the JSON wire, the
//! Java-style dates inside `requestParameters`, and a lenient parser for imported records.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `eventTime` as AWS writes it: `2025-03-04T10:02:44Z` (whole seconds, literal Z).
pub fn event_time(ms: i64) -> String {
    let t = from_millis(ms);
    let f = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(&f).unwrap_or_default()
}

/// Dates inside `requestParameters` of JSON-protocol services, as AWS's Java serializer writes
/// them: `Apr 13, 2017 8:41:00 AM`.
pub fn java_date(ms: i64) -> String {
    let t = from_millis(ms);
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][usize::from(u8::from(t.month())) - 1];
    let (h, ampm) = match t.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    format!(
        "{month} {}, {} {h}:{:02}:{:02} {ampm}",
        t.day(),
        t.year(),
        t.minute(),
        t.second()
    )
}

/// Epoch seconds as a JSON number, the JSON 1.1 wire format for timestamps.
pub fn epoch_seconds(ms: i64) -> serde_json::Value {
    if ms % 1000 == 0 {
        serde_json::Value::from((ms / 1000) as f64)
    } else {
        serde_json::Value::from(ms as f64 / 1000.0)
    }
}

/// Reads a JSON 1.1 timestamp (epoch seconds, integer or fraction) into milliseconds.
pub fn from_epoch_seconds(v: &serde_json::Value) -> Option<i64> {
    let f = v.as_f64()?;
    if !f.is_finite() || f.abs() > 1e14 {
        return None;
    }
    Some((f * 1000.0).round() as i64)
}

/// Parses the `eventTime` of a record from any source: RFC 3339 (the AWS form and variants with
/// fractions or offsets), `YYYY-MM-DD HH:MM:SS[.fraction]` (as some exporters write it), or an
/// epoch number in seconds or milliseconds. Returns milliseconds since the epoch.
pub fn parse_event_time(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::String(s) => parse_time_str(s),
        serde_json::Value::Number(n) => {
            let f = n.as_f64()?;
            // Values past year 2286 in seconds are taken as milliseconds.
            if f > 1e10 {
                Some(f as i64)
            } else {
                Some((f * 1000.0) as i64)
            }
        }
        _ => None,
    }
}

fn parse_time_str(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(to_millis(t));
    }
    let spaced = format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    if let Ok(t) = PrimitiveDateTime::parse(s, &spaced) {
        return Some(to_millis(t.assume_utc()));
    }
    let no_zone = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    if let Ok(t) = PrimitiveDateTime::parse(s, &no_zone) {
        return Some(to_millis(t.assume_utc()));
    }
    None
}

fn to_millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formats() {
        assert_eq!(event_time(1_714_525_200_000), "2024-05-01T01:00:00Z");
        assert_eq!(java_date(1_492_072_860_000), "Apr 13, 2017 8:41:00 AM");
        assert_eq!(java_date(1_492_116_060_000), "Apr 13, 2017 8:41:00 PM");
        assert_eq!(java_date(1_492_041_660_000), "Apr 13, 2017 12:01:00 AM");
        assert_eq!(epoch_seconds(1_714_525_200_000).to_string(), "1714525200.0");
    }

    #[test]
    fn lenient_parse() {
        let want = Some(1_732_557_024_000);
        assert_eq!(parse_event_time(&json!("2024-11-25T17:50:24Z")), want);
        assert_eq!(
            parse_event_time(&json!("2024-11-25 17:50:24.000000000")),
            want
        );
        assert_eq!(parse_event_time(&json!("2024-11-25T17:50:24.000Z")), want);
        assert_eq!(parse_event_time(&json!("2024-11-25T17:50:24")), want);
        assert_eq!(parse_event_time(&json!(1_732_557_024)), want);
        assert_eq!(parse_event_time(&json!(1_732_557_024_000i64)), want);
        assert_eq!(parse_event_time(&json!("yesterday")), None);
        assert_eq!(parse_event_time(&json!(null)), None);
    }
}
