//! The execution role's temporary credentials a function runs with: Lambda assumes the
//! function's role through STS's API as `lambda.amazonaws.com` (so the role's trust policy
//! decides; the function's ARN is `aws:SourceArn`), recorded as STS records it (an
//! `AWSService` caller), with the function's name as the session name, as AWS names Lambda's
//! sessions. Credentials are kept per function and role until five minutes before they
//! expire. AssumeRole runs as a call of its own, outside the invocation's: its session must
//! be committed before the function signs its first request with it.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use cairn_functions::Credentials;
use cairn_store::lambda::Function;
use cairn_wire::AwsError;
use serde_json::json;

use super::handlers::invalid;
use crate::app::App;
use crate::pipeline::Durability;
use crate::pipeline::internal::Internal;

const LAMBDA: &str = "lambda.amazonaws.com";

/// How long before expiry cached credentials are renewed.
const RENEW_BEFORE_MS: i64 = 5 * 60 * 1000;

fn cache() -> &'static Mutex<HashMap<String, Credentials>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Credentials>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The session name of a function's role sessions: its name, which STS takes when it has the
/// two characters a session name needs; a one-letter name is padded with `_` `[I]`.
pub(crate) fn session_name(function: &str) -> String {
    if function.len() >= 2 {
        function.to_owned()
    } else {
        format!("{function}_")
    }
}

/// The text of `<tag>…</tag>` in an XML answer, unescaped.
fn element(xml: &str, tag: &str) -> Option<String> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = start + xml[start..].find(&format!("</{tag}>"))?;
    Some(
        xml[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

fn epoch_ms(iso: &str) -> Option<i64> {
    let t =
        time::OffsetDateTime::parse(iso, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Runs `f` on a thread of its own, outside the call this thread may be running (its writes
/// commit on their own), with the server's runtime at hand.
pub(super) fn outside_call<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T, AwsError> {
    let runtime = tokio::runtime::Handle::try_current().ok();
    std::thread::scope(|s| {
        s.spawn(|| {
            let _entered = runtime.as_ref().map(tokio::runtime::Handle::enter);
            f()
        })
        .join()
    })
    .map_err(|_| AwsError::internal("a Lambda worker thread failed"))
}

/// The credentials `f` runs with: cached, or from a new AssumeRole of its role.
pub(super) fn for_function(app: &App, f: &Function, role: &str) -> Result<Credentials, AwsError> {
    let key = format!("{}|{role}|{}", f.account, f.arn);
    let now = app.clock.now_millis();
    if let Some(c) = cache()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key)
        .filter(|c| c.expires_at_ms - RENEW_BEFORE_MS > now)
    {
        return Ok(c.clone());
    }
    let lambda = Internal::service(
        LAMBDA,
        &f.account,
        &f.region,
        Some(&f.arn),
        Durability::Wait,
    );
    let input = json!({"RoleArn": role, "RoleSessionName": session_name(&f.name), "DurationSeconds": "3600"});
    let out = outside_call(|| lambda.call_json(app, "sts", "AssumeRole", input))?
        .map_err(|e| {
            tracing::info!(function = %f.arn, error = %e.message, "Lambda could not assume the function's role");
            invalid("The role defined for the function cannot be assumed by Lambda.")
        })?;
    let xml = out
        .get("Xml")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    let (Some(access_key_id), Some(secret_access_key), Some(session_token)) = (
        element(xml, "AccessKeyId"),
        element(xml, "SecretAccessKey"),
        element(xml, "SessionToken"),
    ) else {
        return Err(AwsError::internal("STS answered no credentials"));
    };
    let expires_at_ms = element(xml, "Expiration")
        .and_then(|e| epoch_ms(&e))
        .unwrap_or(now + 3_600_000);
    let c = Credentials {
        access_key_id,
        secret_access_key,
        session_token,
        expires_at_ms,
    };
    cache()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, c.clone());
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_credentials_out_of_sts_xml() {
        let xml = "<Credentials><AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>s+/=&amp;</SecretAccessKey><Expiration>2026-01-01T00:00:00Z</Expiration></Credentials>";
        assert_eq!(element(xml, "AccessKeyId").as_deref(), Some("ASIA1"));
        assert_eq!(element(xml, "SecretAccessKey").as_deref(), Some("s+/=&"));
        assert_eq!(element(xml, "SessionToken"), None);
        assert_eq!(
            element(xml, "Expiration").and_then(|e| epoch_ms(&e)),
            Some(1_767_225_600_000)
        );
    }
}
