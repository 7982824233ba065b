//! Date and time values of the `Date…` operators: ISO 8601 (`2026-01-02T03:04:05Z`, with or
//! without fractions, zone or time; `2026-01-02`; a bare year) or whole epoch seconds, as IAM
//! reads them. A value with neither a `T` nor a `-` is epoch seconds, so `2026` is a moment in
//! 1970, as in IAM.

use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

/// A value split into its fields, before any calendar check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Parsed {
    Epoch(i64),
    Iso {
        year: i64,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
        nanos: u32,
        /// Seconds east of UTC.
        offset: i32,
    },
}

/// The instant a value names, in nanoseconds since the epoch.
pub fn instant(s: &str) -> Option<i128> {
    match parse(s)? {
        Parsed::Epoch(n) => Some(i128::from(n) * 1_000_000_000),
        Parsed::Iso {
            year,
            month,
            day,
            hour,
            minute,
            second,
            nanos,
            offset,
        } => {
            let date = Date::from_calendar_date(
                i32::try_from(year).ok()?,
                Month::try_from(month).ok()?,
                day,
            )
            .ok()?;
            let time = Time::from_hms_nano(hour, minute, second, nanos).ok()?;
            let offset = UtcOffset::from_whole_seconds(offset).ok()?;
            Some(
                PrimitiveDateTime::new(date, time)
                    .assume_offset(offset)
                    .unix_timestamp_nanos(),
            )
        }
    }
}

/// Whether IAM accepts the value in a policy. IAM checks each field's range (a year within
/// about ±292 million, day 1 to 31 whatever the month), not the calendar.
pub fn acceptable(s: &str) -> bool {
    match parse(s) {
        Some(Parsed::Epoch(n)) => n >= 0,
        Some(Parsed::Iso { year, .. }) => (-292_275_054..=292_278_993).contains(&year),
        None => false,
    }
}

fn number<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn ranged(s: &str, lo: u8, hi: u8) -> Option<u8> {
    number::<u8>(s).filter(|n| (lo..=hi).contains(n))
}

fn parse(s: &str) -> Option<Parsed> {
    let s = s.trim().to_ascii_lowercase();
    if !s.contains('t') && !s.contains('-') {
        return number(&s).map(Parsed::Epoch);
    }
    let (date, time) = s.split_once('t').unwrap_or((s.as_str(), ""));
    let (negative, date) = match date.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, date),
    };
    let mut fields = date.split('-');
    let year: i64 = number(fields.next()?)?;
    let year = if negative { -year } else { year };
    let month = fields.next().map_or(Some(1), |m| ranged(m, 1, 12))?;
    let day = fields.next().map_or(Some(1), |d| ranged(d, 1, 31))?;
    if fields.next().is_some() {
        return None;
    }
    let (clock, offset) = zone(time)?;
    let mut fields = clock.split(':');
    let hour = match fields.next() {
        None | Some("") => 0,
        Some(h) => ranged(h, 0, 23)?,
    };
    let minute = fields.next().map_or(Some(0), |m| ranged(m, 0, 59))?;
    let (second, nanos) = match fields.next() {
        None => (0, 0),
        Some(sec) => {
            let (whole, fraction) = sec.split_once('.').unwrap_or((sec, ""));
            (ranged(whole, 0, 59)?, fraction_nanos(fraction)?)
        }
    };
    if fields.next().is_some() {
        return None;
    }
    Some(Parsed::Iso {
        year,
        month,
        day,
        hour,
        minute,
        second,
        nanos,
        offset,
    })
}

/// Fractional seconds, truncated to nanoseconds. IAM reads the digits as a number of at most
/// 999999999, so `.0000000001` passes and `.1999999999` does not.
fn fraction_nanos(f: &str) -> Option<u32> {
    if f.is_empty() {
        return Some(0);
    }
    if number::<u64>(f)? > 999_999_999 {
        return None;
    }
    let mut digits: String = f.chars().take(9).collect();
    while digits.len() < 9 {
        digits.push('0');
    }
    digits.parse().ok()
}

/// The time without its zone, and the zone's offset in seconds (UTC when none is written).
fn zone(time: &str) -> Option<(&str, i32)> {
    if let Some(t) = time.strip_suffix('z') {
        return Some((t, 0));
    }
    let Some(at) = time.rfind(['+', '-']) else {
        return Some((time, 0));
    };
    let sign = if time[at..].starts_with('-') { -1 } else { 1 };
    let (hours, minutes) = time[at + 1..]
        .split_once(':')
        .unwrap_or((&time[at + 1..], "00"));
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    let h = i32::from(ranged(hours, 0, 23)?);
    let m = i32::from(ranged(minutes, 0, 59)?);
    Some((&time[..at], sign * (h * 3600 + m * 60)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants() {
        let t = |s| instant(s).map(|n| n / 1_000_000_000);
        assert_eq!(t("2026-01-02T03:04:05Z"), Some(1_767_323_045));
        assert_eq!(t("2026-01-02T03:04:05.250Z"), Some(1_767_323_045));
        assert_eq!(
            instant("2026-01-02T03:04:05.250Z").map(|n| n % 1_000_000_000),
            Some(250_000_000)
        );
        assert_eq!(t("2026-01-02T05:04:05+02:00"), Some(1_767_323_045));
        assert_eq!(t("2026-01-01T22:04:05-05:00"), Some(1_767_323_045));
        assert_eq!(t("2026-01-02t03:04:05z"), Some(1_767_323_045));
        assert_eq!(t("2026-01-02"), Some(1_767_312_000));
        assert_eq!(t("2026-01-02T03:04:05"), Some(1_767_323_045));
        assert_eq!(t("1767323045"), Some(1_767_323_045));
        assert_eq!(t("2026"), Some(2026));
        assert_eq!(t("2026-02-30"), None);
        assert_eq!(t("yesterday"), None);
        assert_eq!(t("2026-13-01"), None);
        assert_eq!(t("2026-01-02T24:00:00Z"), None);
    }

    #[test]
    fn acceptance_follows_iam_ranges() {
        assert!(acceptable("2016-12-13T21:20:37.593194+00:00"));
        assert!(acceptable("2016-12-13t2:00:00.593194+23"));
        assert!(acceptable("2019-07-01T13:20:15Z"));
        assert!(acceptable("01T"));
        assert!(acceptable("-292275054"));
        assert!(acceptable("2026-02-30"));
        assert!(!acceptable("sdfdsf"));
        assert!(!acceptable("234-13"));
        assert!(!acceptable("2016-12-13t2:00:00.593194+1"));
        assert!(!acceptable("2016-12-13t2:00:00.1999999999+10:59"));
        assert!(!acceptable("9223372036854775808"));
    }
}
