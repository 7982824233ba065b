//! Schedule expressions as EventBridge takes them: `rate(<n> minute|minutes|hour|hours|day|
//! days)` (singular exactly when n is 1) and `cron(<minutes> <hours> <day-of-month> <month>
//! <day-of-week> <year>)` in UTC, with `*`, `?`, ranges, steps, lists, month and weekday
//! names, `L`, `W` and `#`; one of the day fields must be `?`. A rule fires first one period
//! after it is created (rate) or at the next matching minute (cron).

use time::{Date, Month, OffsetDateTime, Weekday};

/// A schedule expression EventBridge would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Parameter ScheduleExpression is not valid.")]
pub(super) struct InvalidSchedule;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Schedule {
    /// Every so many milliseconds.
    Rate(i64),
    Cron(Box<Cron>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Cron {
    minutes: Field,
    hours: Field,
    days: Field,
    months: Field,
    weekdays: Field,
    years: Field,
}

type Field = Vec<Item>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// `*` or `?`.
    Any,
    Range {
        lo: u32,
        hi: u32,
        step: u32,
    },
    /// `L` in day-of-month: the month's last day.
    LastDay,
    /// `<d>W`: the weekday nearest day d (taken as day d).
    Nearest(u32),
    /// `<d>#<k>`: the k-th weekday d of the month.
    Nth(u32, u32),
    /// `<d>L`: the last weekday d of the month.
    LastOf(u32),
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn number(s: &str, names: &[&str], lo: u32, hi: u32) -> Result<u32, InvalidSchedule> {
    let n = match names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
        Some(i) => u32::try_from(i).map_err(|_| InvalidSchedule)? + lo,
        None => s.parse::<u32>().map_err(|_| InvalidSchedule)?,
    };
    if (lo..=hi).contains(&n) {
        Ok(n)
    } else {
        Err(InvalidSchedule)
    }
}

/// One field: a comma list of items within `lo..=hi`.
fn field(
    s: &str,
    lo: u32,
    hi: u32,
    names: &[&str],
    day: bool,
    weekday: bool,
) -> Result<Field, InvalidSchedule> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let item = if part == "*" || (part == "?" && (day || weekday)) {
            Item::Any
        } else if day && part == "L" {
            Item::LastDay
        } else if day && let Some(d) = part.strip_suffix('W') {
            Item::Nearest(number(d, names, lo, hi)?)
        } else if weekday && let Some((d, k)) = part.split_once('#') {
            let k = k.parse::<u32>().map_err(|_| InvalidSchedule)?;
            if !(1..=5).contains(&k) {
                return Err(InvalidSchedule);
            }
            Item::Nth(number(d, names, lo, hi)?, k)
        } else if weekday
            && part.len() > 1
            && let Some(d) = part.strip_suffix('L')
        {
            Item::LastOf(number(d, names, lo, hi)?)
        } else {
            let (range, step) = match part.split_once('/') {
                Some((r, st)) => {
                    let st = st.parse::<u32>().map_err(|_| InvalidSchedule)?;
                    if st == 0 {
                        return Err(InvalidSchedule);
                    }
                    (r, st)
                }
                None => (part, 1),
            };
            let (a, b) = if range == "*" {
                (lo, hi)
            } else if let Some((a, b)) = range.split_once('-') {
                (number(a, names, lo, hi)?, number(b, names, lo, hi)?)
            } else {
                let a = number(range, names, lo, hi)?;
                (a, if step > 1 { hi } else { a })
            };
            if a > b {
                return Err(InvalidSchedule);
            }
            Item::Range { lo: a, hi: b, step }
        };
        out.push(item);
    }
    Ok(out)
}

fn days_in(year: i32, month: Month) -> u32 {
    u32::from(month.length(year))
}

/// Sunday 1 … Saturday 7, as cron counts.
fn cron_weekday(w: Weekday) -> u32 {
    u32::from(w.number_from_sunday())
}

impl Item {
    fn plain(&self, v: u32) -> bool {
        match self {
            Item::Any => true,
            Item::Range { lo, hi, step } => v >= *lo && v <= *hi && (v - lo).is_multiple_of(*step),
            _ => false,
        }
    }
}

fn plain(f: &Field, v: u32) -> bool {
    f.iter().any(|i| i.plain(v))
}

impl Cron {
    fn parse(body: &str) -> Result<Cron, InvalidSchedule> {
        let parts: Vec<&str> = body.split_whitespace().collect();
        let [mi, h, dom, mo, dow, y] = parts[..] else {
            return Err(InvalidSchedule);
        };
        // One of the day fields must be `?`, and only one.
        if (dom == "?") == (dow == "?") {
            return Err(InvalidSchedule);
        }
        Ok(Cron {
            minutes: field(mi, 0, 59, &[], false, false)?,
            hours: field(h, 0, 23, &[], false, false)?,
            days: field(dom, 1, 31, &[], true, false)?,
            months: field(mo, 1, 12, &MONTHS, false, false)?,
            weekdays: field(dow, 1, 7, &WEEKDAYS, false, true)?,
            years: field(y, 1970, 2199, &[], false, false)?,
        })
    }

    fn day_matches(&self, date: Date) -> bool {
        let d = u32::from(date.day());
        let last = days_in(date.year(), date.month());
        let wd = cron_weekday(date.weekday());
        let dom = self.days.iter().any(|i| match i {
            Item::LastDay => d == last,
            Item::Nearest(n) => d == (*n).min(last),
            other => other.plain(d),
        });
        let dow = self.weekdays.iter().any(|i| match i {
            Item::Nth(w, k) => wd == *w && (d - 1) / 7 + 1 == *k,
            Item::LastOf(w) => wd == *w && d + 7 > last,
            other => other.plain(wd),
        });
        dom && dow
    }

    /// The first minute after `now_ms` the expression names.
    fn next_after(&self, now_ms: i64) -> Option<i64> {
        let start = (now_ms.div_euclid(60_000) + 1) * 60_000;
        let mut t = OffsetDateTime::from_unix_timestamp(start / 1000).ok()?;
        // Whole days or hours that cannot match are skipped at once; a few years at most.
        for _ in 0..2_000_000 {
            let year = u32::try_from(t.year()).ok()?;
            if year > 2199 {
                return None;
            }
            if !plain(&self.years, year)
                || !plain(&self.months, u32::from(u8::from(t.month())))
                || !self.day_matches(t.date())
            {
                t = t.date().next_day()?.midnight().assume_utc();
                continue;
            }
            if !plain(&self.hours, u32::from(t.hour())) {
                t = t.replace_minute(0).ok()? + time::Duration::hours(1);
                continue;
            }
            if plain(&self.minutes, u32::from(t.minute())) {
                return Some(t.unix_timestamp() * 1000);
            }
            t += time::Duration::minutes(1);
        }
        None
    }
}

impl Schedule {
    pub(super) fn parse(text: &str) -> Result<Schedule, InvalidSchedule> {
        if let Some(body) = text.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
            let parts: Vec<&str> = body.split(' ').collect();
            let [n, unit] = parts[..] else {
                return Err(InvalidSchedule);
            };
            let n: i64 = n.parse().map_err(|_| InvalidSchedule)?;
            if n <= 0 {
                return Err(InvalidSchedule);
            }
            let (singular, ms) = match unit {
                "minute" => (true, 60_000),
                "minutes" => (false, 60_000),
                "hour" => (true, 3_600_000),
                "hours" => (false, 3_600_000),
                "day" => (true, 86_400_000),
                "days" => (false, 86_400_000),
                _ => return Err(InvalidSchedule),
            };
            if singular != (n == 1) {
                return Err(InvalidSchedule);
            }
            return n.checked_mul(ms).map(Schedule::Rate).ok_or(InvalidSchedule);
        }
        if let Some(body) = text.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
            return Ok(Schedule::Cron(Box::new(Cron::parse(body)?)));
        }
        Err(InvalidSchedule)
    }

    /// When the rule fires next after `now_ms`.
    pub(super) fn next_after(&self, now_ms: i64) -> Option<i64> {
        match self {
            Schedule::Rate(ms) => now_ms.checked_add(*ms),
            Schedule::Cron(c) => c.next_after(now_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn rates_want_singular_units_for_one() {
        assert_eq!(
            Schedule::parse("rate(5 minutes)"),
            Ok(Schedule::Rate(5 * MIN))
        );
        assert_eq!(
            Schedule::parse("rate(1 hour)"),
            Ok(Schedule::Rate(60 * MIN))
        );
        for bad in [
            "rate(1 minutes)",
            "rate(5 minute)",
            "rate(0 minutes)",
            "rate(5  minutes)",
            "rate(5 weeks)",
            "rate(x minutes)",
            "every 5 minutes",
        ] {
            assert_eq!(Schedule::parse(bad), Err(InvalidSchedule), "{bad}");
        }
        assert_eq!(Schedule::Rate(MIN).next_after(1_000), Some(61_000));
    }

    #[test]
    fn cron_needs_six_fields_and_one_question_mark() {
        assert!(Schedule::parse("cron(0 12 * * ? *)").is_ok());
        assert!(Schedule::parse("cron(0/15 * ? * MON-FRI *)").is_ok());
        assert!(Schedule::parse("cron(0 8 1 JAN,JUL ? 2030)").is_ok());
        assert!(Schedule::parse("cron(0 8 ? * 6#3 *)").is_ok());
        assert!(Schedule::parse("cron(0 8 L * ? *)").is_ok());
        for bad in [
            "cron(0 12 * * * *)",
            "cron(0 12 ? * ? *)",
            "cron(0 12 * *)",
            "cron(60 12 * * ? *)",
            "cron(0 24 * * ? *)",
            "cron(0 12 32 * ? *)",
            "cron(0 12 ? * 8 *)",
        ] {
            assert_eq!(Schedule::parse(bad), Err(InvalidSchedule), "{bad}");
        }
    }

    #[test]
    fn cron_finds_the_next_matching_minute() {
        // 2026-01-01T00:00:00Z is a Thursday.
        let jan1 = 1_767_225_600_000;
        let at = |s: &str, now: i64| Schedule::parse(s).ok().and_then(|c| c.next_after(now));
        assert_eq!(at("cron(0 12 * * ? *)", jan1), Some(jan1 + 12 * 60 * MIN));
        assert_eq!(at("cron(0/15 * * * ? *)", jan1), Some(jan1 + 15 * MIN));
        // The next Monday: 2026-01-05.
        assert_eq!(
            at("cron(30 9 ? * MON *)", jan1),
            Some(jan1 + 4 * 86_400_000 + 9 * 60 * MIN + 30 * MIN)
        );
        // The last day of January.
        assert_eq!(at("cron(0 0 L * ? *)", jan1), Some(jan1 + 30 * 86_400_000));
        assert_eq!(at("cron(0 0 1 1 ? 2025)", jan1), None);
    }
}
