//! Rule engines with no I/O: CloudWatch Logs filter patterns (filter) and, beside them, other rule
//! engines.
//!
//! - [`filter`]: the CloudWatch Logs filter pattern language (term, JSON, space-delimited and
//!   regex patterns) shared by metric filters, subscription filters, `FilterLogEvents` and Live
//!   Tail, with AWS's `InvalidParameterException` texts and metric value / dimension extraction.

pub mod filter;
