//! cairn's rule engines: pure logic with no I/O, time always injected by the caller.
//!
//! - [`filter`]: the CloudWatch Logs filter pattern language (term, JSON, space-delimited and
//!   regex patterns) shared by metric filters, subscription filters, `FilterLogEvents` and Live
//!   Tail, with AWS's `InvalidParameterException` texts and metric value / dimension extraction.
//! - [`alarm`]: CloudWatch alarm evaluation (periods, M of N, missing data, statistics), with
//!   AWS's state reasons, history items and SNS notification messages.
//! - [`pattern`]: EventBridge event patterns, with AWS's `InvalidEventPatternException` reasons.
//! - [`transform`]: EventBridge target input shaping (`InputPath`, `InputTransformer`).
//! - [`sigma`]: Sigma detection rules for CloudTrail records, with aggregations over time.
//! - [`insights`]: CloudTrail Insights' method: per-minute API call and error counts, a rolling
//!   baseline, and when an insight starts and ends.

pub mod alarm;
pub mod filter;
pub mod insights;
pub mod pattern;
pub mod sigma;
pub mod transform;
