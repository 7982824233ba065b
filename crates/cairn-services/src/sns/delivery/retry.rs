//! Delivery retries, as AWS's delivery policies set them. HTTP(S) follows the topic's (or
//! the subscription's) `healthyRetryPolicy`, by default 3 retries 20 s apart; AWS-managed
//! endpoints (queues) and email are retried with a short backoff up to 20 s apart, for at
//! most 23 days, as AWS retries them; then the message is given up.

use serde_json::{Value, json};

const DAY_MS: i64 = 86_400_000;

/// AWS's default policy for HTTP(S) endpoints.
fn default_http() -> Value {
    json!({
        "defaultHealthyRetryPolicy": {
            "minDelayTarget": 20,
            "maxDelayTarget": 20,
            "numRetries": 3,
            "numMaxDelayRetries": 0,
            "numNoDelayRetries": 0,
            "numMinDelayRetries": 0,
            "backoffFunction": "linear"
        },
        "disableSubscriptionOverrides": false,
        "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}
    })
}

/// The `EffectiveDeliveryPolicy` attribute: AWS's default with what `own` sets over it.
pub(crate) fn effective_delivery_policy(own: Option<&str>) -> Value {
    let mut http = default_http();
    if let Some(Value::Object(o)) = own.and_then(|t| serde_json::from_str::<Value>(t).ok()) {
        // A subscription's policy names `healthyRetryPolicy` at its top; a topic's nests
        // it under `http` as `defaultHealthyRetryPolicy`.
        let given = o.get("http").cloned().unwrap_or(Value::Object(o.clone()));
        if let (Some(h), Some(dst)) = (given.as_object(), http.as_object_mut()) {
            for (k, v) in h {
                let key = if k == "healthyRetryPolicy" {
                    "defaultHealthyRetryPolicy"
                } else {
                    k
                };
                dst.insert(key.to_owned(), v.clone());
            }
        }
    }
    json!({"http": http})
}

/// How long to wait after the `attempts`-th failed attempt, or `None` to give up.
pub(crate) fn next_delay_ms(
    protocol: &str,
    policy: Option<&str>,
    attempts: i64,
    created_ms: i64,
    now_ms: i64,
) -> Option<i64> {
    if protocol.starts_with("http") {
        let p = effective_delivery_policy(policy);
        let r = &p["http"]["defaultHealthyRetryPolicy"];
        let num = r["numRetries"].as_i64().unwrap_or(3).clamp(0, 100);
        let min = r["minDelayTarget"].as_i64().unwrap_or(20).clamp(1, 3600);
        let max = r["maxDelayTarget"].as_i64().unwrap_or(20).clamp(min, 3600);
        if attempts > num {
            return None;
        }
        // Linear from the minimum to the maximum delay over the retries.
        let step = if num > 1 {
            (max - min) * (attempts - 1) / (num - 1)
        } else {
            0
        };
        return Some((min + step) * 1000);
    }
    if now_ms - created_ms > 23 * DAY_MS {
        return None;
    }
    let seconds = if attempts <= 3 {
        1
    } else {
        (1_i64 << (attempts - 3).min(5)).min(20)
    };
    Some(seconds * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_retries_three_times_twenty_seconds_apart_by_default() {
        let d: Vec<_> = (1..=4)
            .map(|n| next_delay_ms("http", None, n, 0, 0))
            .collect();
        assert_eq!(d, [Some(20_000), Some(20_000), Some(20_000), None]);
    }

    #[test]
    fn topic_policies_set_http_retries() {
        let p = r#"{"http":{"defaultHealthyRetryPolicy":{"numRetries":2,"minDelayTarget":1,"maxDelayTarget":5}}}"#;
        assert_eq!(next_delay_ms("https", Some(p), 1, 0, 0), Some(1_000));
        assert_eq!(next_delay_ms("https", Some(p), 2, 0, 0), Some(5_000));
        assert_eq!(next_delay_ms("https", Some(p), 3, 0, 0), None);
        assert_eq!(
            effective_delivery_policy(Some(p))["http"]["defaultHealthyRetryPolicy"]["numRetries"],
            2
        );
    }

    #[test]
    fn queues_back_off_to_twenty_seconds_for_23_days() {
        assert_eq!(next_delay_ms("sqs", None, 1, 0, 0), Some(1_000));
        assert_eq!(next_delay_ms("sqs", None, 50, 0, 0), Some(20_000));
        assert_eq!(next_delay_ms("sqs", None, 50, 0, 24 * DAY_MS), None);
    }
}
