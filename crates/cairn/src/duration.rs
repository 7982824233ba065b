//! Durations as users write them: `5m`, `2s`, `1h30m`, `30d`, or plain seconds (`300`).

use serde::Deserialize;

/// Parses a duration into whole seconds.
pub fn parse_seconds(text: &str) -> Result<u64, String> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().map_err(|_| format!("{t} is too large"));
    }
    let d = humantime::parse_duration(t).map_err(|e| {
        format!("'{t}' is not a duration ({e}); write seconds (300) or with a unit: 5m, 2s, 1h")
    })?;
    if d.subsec_nanos() != 0 {
        return Err(format!("'{t}' is not a whole number of seconds"));
    }
    Ok(d.as_secs())
}

/// A clap value parser: a duration of at least `min` seconds.
pub fn at_least(min: u64) -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync + 'static {
    move |text| {
        let s = parse_seconds(text)?;
        if s < min {
            return Err(format!("must be at least {min} s"));
        }
        Ok(s)
    }
}

/// A duration in the configuration file: a number of seconds or a string with units.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum FileDuration {
    Seconds(u64),
    Text(String),
}

impl FileDuration {
    /// The duration in seconds, at least `min`; `name` says which setting is wrong.
    pub fn seconds(&self, name: &str, min: u64) -> anyhow::Result<u64> {
        let s = match self {
            FileDuration::Seconds(s) => *s,
            FileDuration::Text(t) => parse_seconds(t)
                .map_err(|e| anyhow::anyhow!("{name} in the configuration file: {e}"))?,
        };
        anyhow::ensure!(
            s >= min,
            "{name} in the configuration file must be at least {min} s"
        );
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_plain_seconds() {
        assert_eq!(parse_seconds("300"), Ok(300));
        assert_eq!(parse_seconds("5m"), Ok(300));
        assert_eq!(parse_seconds("2s"), Ok(2));
        assert_eq!(parse_seconds("1h"), Ok(3600));
        assert_eq!(parse_seconds("1h 30m"), Ok(5400));
        assert_eq!(parse_seconds("30d"), Ok(2_592_000));
        assert!(parse_seconds("500ms").is_err());
        assert!(parse_seconds("soon").is_err());
        assert!(parse_seconds("").is_err());
        assert_eq!(at_least(1)("0"), Err("must be at least 1 s".into()));
        assert_eq!(at_least(1)("1s"), Ok(1));
    }

    #[test]
    fn file_values_take_both_forms() {
        #[derive(Deserialize)]
        struct F {
            a: FileDuration,
            b: FileDuration,
        }
        let f: F = toml::from_str("a = 60\nb = \"5m\"").unwrap();
        assert_eq!(f.a.seconds("a", 1).unwrap(), 60);
        assert_eq!(f.b.seconds("b", 1).unwrap(), 300);
        assert!(FileDuration::Seconds(0).seconds("a", 1).is_err());
        assert!(FileDuration::Text("x".into()).seconds("a", 1).is_err());
    }
}
