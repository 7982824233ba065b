//! Trail delivery.
//!
//! - [`selectors`]: which journal records a trail takes (account, regions, global service
//!   events, logging ranges, basic and advanced event selectors).
//! - [`logfile`]: log files exactly as AWS writes them: `{"Records":[…]}` in one gzip member, at
//!   AWS's keys.
//! - [`backoff`]: retry pacing for trails whose bucket cannot take their files.
//! - [`delivery`]: the consumer that plans files from the journal and writes them to S3, exactly
//!   once per event per trail, across crashes and retries.
//! - [`notify`]: the consumer that tells a trail's SNS topic about each written log file, at
//!   least once, across crashes and retries.
//! - [`cwl`]: the consumer that writes each selected record to a trail's CloudWatch Logs group,
//!   exactly once per event, across crashes and retries.
//! - [`insights`]: a trail's Insights selectors as stored (types, categories, since when).
//! - [`digest`]: signed, chained digest files for trails that validate.
//! - [`keys`]: the per-region signing keys digests are signed with.
//! - [`validate`]: checking digests and log files, as `aws cloudtrail validate-logs` does and more.

pub mod backoff;
pub mod cwl;
pub mod delivery;
pub mod digest;
pub mod insights;
pub mod keys;
pub mod logfile;
pub mod notify;
pub mod organization;
pub mod selectors;
pub mod sink;
pub mod validate;

#[cfg(test)]
mod testkit;
