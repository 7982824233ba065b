//! Number and date formatting as CloudWatch's Java code writes them into reasons and reason data:
//! doubles like Java's `Double.toString` (`1.0`, `21.5`, `1.0E7`), reason timestamps
//! `dd/MM/yy HH:mm:ss` and JSON dates `yyyy-MM-dd'T'HH:mm:ss.SSS+0000`, all in UTC.

use time::OffsetDateTime;

fn utc(ms: i64) -> OffsetDateTime {
    // Out-of-range instants cannot come from validated metric data; the epoch keeps this total.
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A double as Java's `Double.toString` prints it, which is what AWS's reasons show: always a
/// fraction digit in plain notation for 10^-3 <= |x| < 10^7, computerized scientific notation
/// (`1.0E7`, `1.5E-4`) outside that range.
pub fn java_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    let abs = x.abs();
    if (1e-3..1e7).contains(&abs) {
        let s = format!("{x}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        // Rust's `{:e}` is the shortest round-trip mantissa like Java's; only the spelling differs.
        let s = format!("{x:e}");
        let (mantissa, exponent) = s.split_once('e').unwrap_or((s.as_str(), "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_owned()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exponent}")
    }
}

/// The timestamp of a datapoint inside a `StateReason`: `dd/MM/yy HH:mm:ss` UTC (ALERTING.md
/// §4.5: queryDate 2019-10-02 appears as `02/10/19`).
pub fn reason_date(ms: i64) -> String {
    let t = utc(ms);
    format!(
        "{:02}/{:02}/{:02} {:02}:{:02}:{:02}",
        t.day(),
        u8::from(t.month()),
        t.year().rem_euclid(100),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Dates inside `StateReasonData`, the SNS message and history data:
/// `2025-09-19T21:11:41.123+0000`.
pub fn reason_data_date(ms: i64) -> String {
    let t = utc(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_like_java() {
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(21.5), "21.5");
        assert_eq!(java_double(99.50160229693434), "99.50160229693434");
        assert_eq!(java_double(0.0), "0.0");
        assert_eq!(java_double(-3.0), "-3.0");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(12_345_678.0), "1.2345678E7");
        assert_eq!(java_double(0.0001), "1.0E-4");
        assert_eq!(java_double(0.001), "0.001");
        assert_eq!(java_double(9_999_999.0), "9999999.0");
    }

    #[test]
    fn dates() {
        // 2019-10-02T16:59:00Z, the public AWS sample's datapoint.
        assert_eq!(reason_date(1_570_035_540_000), "02/10/19 16:59:00");
        assert_eq!(
            reason_data_date(1_570_035_540_000 + 5 * 60_000 + 40_985),
            "2019-10-02T17:04:40.985+0000"
        );
    }
}
