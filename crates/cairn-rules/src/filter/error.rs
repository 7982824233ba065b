//! Why a filter pattern (or a metric transformation that reads it) is rejected.
//!
//! CloudWatch Logs answers every malformed pattern with one `InvalidParameterException` text,
//! "Invalid metric filter pattern" (captured from AWS, see aws-cdk#16278); the [`Display`] of each
//! variant is exactly what the Logs service must send back, while [`PatternError::detail`] says
//! what was wrong for cairn's own logs and tests.

use thiserror::Error;

/// Longest filter pattern the Logs API accepts (`filterPattern` length constraint, all operations).
pub const MAX_PATTERN_LEN: usize = 1024;

/// A filter pattern or metric transformation that CloudWatch Logs would reject with
/// `InvalidParameterException`. `to_string()` is AWS's message text, verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PatternError {
    /// Any syntax error: AWS does not say where or why.
    #[error("Invalid metric filter pattern")]
    Syntax {
        /// What the parser objected to (not sent to clients).
        detail: String,
    },
    /// Longer than [`MAX_PATTERN_LEN`] characters: the standard validation template.
    #[error(
        "1 validation error detected: Value '{pattern}' at 'filterPattern' failed to satisfy constraint: Member must have length less than or equal to 1024"
    )]
    TooLong {
        /// The pattern as sent.
        pattern: String,
    },
    /// Dimensions on a term or regex pattern (only JSON and space-delimited patterns name fields).
    #[error("The specified filter pattern does not support dimensions")]
    DimensionsNotSupported,
    /// A `metricValue` or dimension value that is neither a number nor a `$.selector` / `$field`.
    #[error("Invalid metric value")]
    MetricValue {
        /// What was wrong.
        detail: String,
    },
}

impl PatternError {
    /// The AWS error code the Logs service answers with.
    pub fn code(&self) -> &'static str {
        "InvalidParameterException"
    }

    /// What was wrong, for logs and tests (AWS's own text says less).
    pub fn detail(&self) -> String {
        match self {
            PatternError::Syntax { detail } | PatternError::MetricValue { detail } => {
                detail.clone()
            }
            PatternError::TooLong { pattern } => {
                format!("pattern has {} characters", pattern.chars().count())
            }
            PatternError::DimensionsNotSupported => {
                "dimensions need a JSON or space-delimited pattern".into()
            }
        }
    }

    pub(crate) fn syntax(detail: impl Into<String>) -> Self {
        PatternError::Syntax {
            detail: detail.into(),
        }
    }
}
