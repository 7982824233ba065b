//! A browser upload's policy document (the base64 JSON its signature covers), judged as S3
//! judges it: unexpired, every condition holding (`eq`, `starts-with`, `content-length-range`,
//! the `{"field": "value"}` shorthand, `bucket` naming the bucket posted to), and no form
//! field that no condition names.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cairn_wire::AwsError;
use cairn_wire::post_form::PostForm;
use serde_json::Value;

fn invalid(what: &str) -> AwsError {
    AwsError::client("InvalidPolicyDocument", format!("Invalid Policy: {what}"))
}

fn denied(why: &str) -> AwsError {
    AwsError::new(
        403,
        "AccessDenied",
        format!("Invalid according to Policy: {why}"),
    )
}

/// Fields no condition needs to name: the signature's own, the file, and `x-ignore-*`.
fn exempt(field: &str) -> bool {
    let f = field.to_ascii_lowercase();
    matches!(
        f.as_str(),
        "policy" | "signature" | "x-amz-signature" | "awsaccesskeyid" | "file"
    ) || f.starts_with("x-ignore-")
}

/// An ISO 8601 UTC time (`2030-01-01T00:00:00Z`, milliseconds optional) in ms.
fn parse_time(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// The value a condition tests: a form field (any case), or the bucket posted to.
fn value_of<'a>(form: &'a PostForm, bucket: &'a str, name: &str) -> &'a str {
    if name.eq_ignore_ascii_case("bucket") {
        return bucket;
    }
    form.field(name).unwrap_or("")
}

/// Judges the policy of `form` for an upload of `size` bytes to `bucket` at `now_ms`.
pub(super) fn judge(form: &PostForm, bucket: &str, size: u64, now_ms: i64) -> Result<(), AwsError> {
    let encoded = form.field("policy").unwrap_or("");
    let doc: Value = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|j| serde_json::from_slice(&j).ok())
        .ok_or_else(|| invalid("Invalid JSON."))?;
    let expiration = doc
        .get("expiration")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("Policy missing expiration."))?;
    let expires = parse_time(expiration)
        .ok_or_else(|| invalid(&format!("Invalid 'expiration' value: '{expiration}'")))?;
    if expires <= now_ms {
        return Err(denied("Policy expired."));
    }
    let conditions = doc
        .get("conditions")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("Policy missing conditions."))?;
    let mut named: Vec<String> = Vec::new();
    for c in conditions {
        match c {
            Value::Object(m) => {
                for (field, want) in m {
                    let want = want.as_str().unwrap_or("");
                    named.push(field.to_ascii_lowercase());
                    if value_of(form, bucket, field) != want {
                        return Err(denied(&format!(
                            "Policy Condition failed: [\"eq\", \"${field}\", \"{want}\"]"
                        )));
                    }
                }
            }
            Value::Array(a) => {
                let op = a.first().and_then(Value::as_str).unwrap_or("");
                if op.eq_ignore_ascii_case("content-length-range") {
                    let bound = |i: usize| a.get(i).and_then(Value::as_u64);
                    let (Some(min), Some(max)) = (bound(1), bound(2)) else {
                        return Err(invalid("Invalid content-length-range condition."));
                    };
                    if size > max {
                        return Err(AwsError::client(
                            "EntityTooLarge",
                            "Your proposed upload exceeds the maximum allowed size",
                        )
                        .with_extra("ProposedSize", size.to_string())
                        .with_extra("MaxSizeAllowed", max.to_string()));
                    }
                    if size < min {
                        return Err(AwsError::client(
                            "EntityTooSmall",
                            "Your proposed upload is smaller than the minimum allowed size",
                        )
                        .with_extra("ProposedSize", size.to_string())
                        .with_extra("MinSizeAllowed", min.to_string()));
                    }
                    continue;
                }
                let (Some(field), Some(want)) = (
                    a.get(1).and_then(Value::as_str),
                    a.get(2).and_then(Value::as_str),
                ) else {
                    return Err(invalid(&format!("Invalid condition: {c}")));
                };
                let name = field.strip_prefix('$').unwrap_or(field);
                named.push(name.to_ascii_lowercase());
                let got = value_of(form, bucket, name);
                let holds = match op.to_ascii_lowercase().as_str() {
                    "eq" => got == want,
                    "starts-with" => got.starts_with(want),
                    _ => return Err(invalid(&format!("Unknown condition operator: {op}"))),
                };
                if !holds {
                    return Err(denied(&format!(
                        "Policy Condition failed: [\"{op}\", \"{field}\", \"{want}\"]"
                    )));
                }
            }
            _ => return Err(invalid(&format!("Invalid condition: {c}"))),
        }
    }
    let extra: Vec<&str> = form
        .fields
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !exempt(k) && !named.contains(&k.to_ascii_lowercase()))
        .collect();
    if let Some(first) = extra.first() {
        return Err(denied(&format!("Extra input fields: {first}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(policy: &Value, fields: &[(&str, &str)]) -> PostForm {
        let mut f: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        f.push(("policy".into(), STANDARD.encode(policy.to_string())));
        PostForm {
            fields: f,
            file: None,
        }
    }

    const NOW: i64 = 1_900_000_000_000;

    #[test]
    fn policies_as_s3_judges_them() {
        let p = serde_json::json!({
            "expiration": "2030-06-01T00:00:00.000Z",
            "conditions": [
                {"bucket": "b"},
                ["starts-with", "$key", "up/"],
                ["content-length-range", 1, 10],
                ["eq", "$Content-Type", "text/plain"],
            ]
        });
        let ok = form(&p, &[("key", "up/a"), ("Content-Type", "text/plain")]);
        assert!(judge(&ok, "b", 5, NOW).is_ok());
        let e = judge(&ok, "other", 5, NOW).unwrap_err();
        assert_eq!(
            e.message,
            "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$bucket\", \"b\"]"
        );
        let bad_key = form(&p, &[("key", "down/a"), ("Content-Type", "text/plain")]);
        let e = judge(&bad_key, "b", 5, NOW).unwrap_err();
        assert_eq!((e.status, e.code.as_ref()), (403, "AccessDenied"));
        assert!(e.message.ends_with("[\"starts-with\", \"$key\", \"up/\"]"));
        assert_eq!(judge(&ok, "b", 11, NOW).unwrap_err().code, "EntityTooLarge");
        assert_eq!(judge(&ok, "b", 0, NOW).unwrap_err().code, "EntityTooSmall");
        let extra = form(
            &p,
            &[
                ("key", "up/a"),
                ("Content-Type", "text/plain"),
                ("x-amz-meta-a", "1"),
            ],
        );
        assert_eq!(
            judge(&extra, "b", 5, NOW).unwrap_err().message,
            "Invalid according to Policy: Extra input fields: x-amz-meta-a"
        );
        let ignored = form(
            &p,
            &[
                ("key", "up/a"),
                ("Content-Type", "text/plain"),
                ("x-ignore-me", "1"),
            ],
        );
        assert!(judge(&ignored, "b", 5, NOW).is_ok());
        let expired = serde_json::json!({"expiration": "2020-01-01T00:00:00Z", "conditions": []});
        assert_eq!(
            judge(&form(&expired, &[]), "b", 1, NOW)
                .unwrap_err()
                .message,
            "Invalid according to Policy: Policy expired."
        );
        let mut broken = form(&p, &[]);
        broken.fields.last_mut().unwrap().1 = "not base64 json".into();
        assert_eq!(
            judge(&broken, "b", 1, NOW).unwrap_err().code,
            "InvalidPolicyDocument"
        );
    }
}
