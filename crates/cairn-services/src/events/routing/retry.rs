//! When a failed delivery is tried again, as a target's `RetryPolicy` says: by default 185
//! attempts over 24 hours (AWS's defaults), with exponential backoff from one second up to
//! five minutes on the injected clock. Errors that another attempt cannot fix (the target
//! does not exist, the caller may not deliver) are not retried, as AWS does not retry them:
//! the event goes straight to the dead-letter queue.

use serde_json::Value;

/// AWS's defaults.
const DEFAULT_ATTEMPTS: i64 = 185;
const DEFAULT_AGE_S: i64 = 86_400;
const MOST_DELAY_MS: i64 = 300_000;

/// Why a delivery is given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exhausted {
    MaximumRetryAttempts,
    MaximumEventAgeInSeconds,
    /// An error no retry fixes.
    NotRetryable,
}

impl Exhausted {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Exhausted::MaximumRetryAttempts => "MaximumRetryAttempts",
            Exhausted::MaximumEventAgeInSeconds => "MaximumEventAgeInSeconds",
            Exhausted::NotRetryable => "NotRetryable",
        }
    }
}

/// Error codes another attempt does not fix.
pub(crate) fn retryable(code: &str) -> bool {
    let permanent = [
        "NotFound",
        "NonExistent",
        "DoesNotExist",
        "AccessDenied",
        "AuthorizationError",
        "NotAuthorized",
        "InvalidParameter",
        "Validation",
    ];
    !permanent.iter().any(|p| code.contains(p))
}

/// After the `attempts`-th failed attempt of a delivery made at `created_ms`: when to try
/// again, or why not.
pub(crate) fn next_attempt(
    target: &Value,
    attempts: i64,
    created_ms: i64,
    now_ms: i64,
    retry: bool,
) -> Result<i64, Exhausted> {
    if !retry {
        return Err(Exhausted::NotRetryable);
    }
    let policy = target.get("RetryPolicy");
    let retries = policy
        .and_then(|p| p.get("MaximumRetryAttempts"))
        .and_then(Value::as_i64)
        .unwrap_or(DEFAULT_ATTEMPTS);
    let age_ms = policy
        .and_then(|p| p.get("MaximumEventAgeInSeconds"))
        .and_then(Value::as_i64)
        .unwrap_or(DEFAULT_AGE_S)
        * 1000;
    if attempts > retries {
        return Err(Exhausted::MaximumRetryAttempts);
    }
    let delay = (1000_i64 << (attempts - 1).clamp(0, 20)).min(MOST_DELAY_MS);
    if now_ms + delay - created_ms > age_ms {
        return Err(Exhausted::MaximumEventAgeInSeconds);
    }
    Ok(now_ms + delay)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn backoff_doubles_up_to_five_minutes_within_the_policy() {
        let t = json!({});
        assert_eq!(next_attempt(&t, 1, 0, 0, true), Ok(1_000));
        assert_eq!(next_attempt(&t, 2, 0, 0, true), Ok(2_000));
        assert_eq!(next_attempt(&t, 12, 0, 0, true), Ok(300_000));
        assert_eq!(
            next_attempt(&t, 186, 0, 0, true),
            Err(Exhausted::MaximumRetryAttempts)
        );
        assert_eq!(
            next_attempt(&t, 3, 0, 86_400_000, true),
            Err(Exhausted::MaximumEventAgeInSeconds)
        );
        let none = json!({"RetryPolicy": {"MaximumRetryAttempts": 0}});
        assert_eq!(
            next_attempt(&none, 1, 0, 0, true),
            Err(Exhausted::MaximumRetryAttempts)
        );
        assert_eq!(
            next_attempt(&t, 1, 0, 0, false),
            Err(Exhausted::NotRetryable)
        );
    }

    #[test]
    fn missing_targets_and_refusals_are_not_retried() {
        assert!(!retryable("AWS.SimpleQueueService.NonExistentQueue"));
        assert!(!retryable("ResourceNotFoundException"));
        assert!(!retryable("AccessDenied"));
        assert!(retryable("InternalError"));
        assert!(retryable("ServiceUnavailable"));
    }
}
