//! Trail names and ARNs: AWS's naming rules, and resolving a `Name` that may be either.

use cairn_wire::AwsError;

pub fn trail_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:cloudtrail:{region}:{account}:trail/{name}")
}

fn invalid(msg: impl Into<String>) -> AwsError {
    AwsError::client("InvalidTrailNameException", msg)
}

/// Checks a trail name against AWS's rules.
pub fn validate_name(name: &str) -> Result<(), AwsError> {
    let n = name.chars().count();
    if n < 3 {
        return Err(invalid(format!(
            "Trail name too short. Minimum allowed length: 3 characters. Specified name length: {n} characters."
        )));
    }
    if n > 128 {
        return Err(invalid(format!(
            "Trail name too long. Maximum allowed length: 128 characters. Specified name length: {n} characters."
        )));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(invalid(
            "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_).",
        ));
    }
    let b = name.as_bytes();
    if !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric() {
        return Err(invalid("Trail name must starts with a letter or number."));
    }
    if b.windows(2)
        .any(|w| !w[0].is_ascii_alphanumeric() && !w[1].is_ascii_alphanumeric())
    {
        return Err(invalid(
            "Trail name cannot have adjacent periods (.), hyphens (-), or underscores (_).",
        ));
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(invalid("Trail name cannot be formatted as an IP address."));
    }
    Ok(())
}

/// A trail named by name or ARN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrailRef {
    Name(String),
    Arn {
        region: String,
        account: String,
        name: String,
    },
}

/// Reads a `Name`/`TrailName` member.
pub fn parse_ref(s: &str) -> Result<TrailRef, AwsError> {
    if s.is_empty() {
        return Err(AwsError::client(
            "TrailNotProvidedException",
            "Trail name or ARN must be provided.",
        ));
    }
    if let Some(rest) = s.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let ok = parts.len() == 5
            && parts[1] == "cloudtrail"
            && parts[3].len() == 12
            && parts[3].bytes().all(|b| b.is_ascii_digit());
        let name = parts.get(4).and_then(|r| r.strip_prefix("trail/"));
        return match (ok, name) {
            (true, Some(name)) if !parts[2].is_empty() => {
                validate_name(name)?;
                Ok(TrailRef::Arn {
                    region: parts[2].to_owned(),
                    account: parts[3].to_owned(),
                    name: name.to_owned(),
                })
            }
            _ => Err(AwsError::client(
                "CloudTrailARNInvalidException",
                format!("The ARN {s} is not valid."),
            )),
        };
    }
    validate_name(s)?;
    Ok(TrailRef::Name(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["abc", "my-trail_1.x", "A1b"] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "-abc",
            "abc-",
            "a--b",
            "a._b",
            "a b c",
            "10.0.0.1",
            &"x".repeat(129),
        ] {
            assert_eq!(
                validate_name(bad).unwrap_err().code,
                "InvalidTrailNameException",
                "{bad}"
            );
        }
    }

    #[test]
    fn refs() {
        assert_eq!(parse_ref("tr1").unwrap(), TrailRef::Name("tr1".into()));
        assert_eq!(
            parse_ref("arn:aws:cloudtrail:eu-west-1:111122223333:trail/tr1").unwrap(),
            TrailRef::Arn {
                region: "eu-west-1".into(),
                account: "111122223333".into(),
                name: "tr1".into()
            }
        );
        assert_eq!(
            parse_ref("arn:aws:s3:::b").unwrap_err().code,
            "CloudTrailARNInvalidException"
        );
        assert_eq!(parse_ref("").unwrap_err().code, "TrailNotProvidedException");
    }
}
