//! Detections: a rule engine over the journal. Every recorded call is judged by Sigma rules
//! (cairn's own sets and the folders the user names, see [`rules`]); a rule that fires makes
//! a finding, kept with the engine's cursor (`cairn findings` lists them) and put on the
//! account's default event bus, where EventBridge rules send it on (SNS, SQS, Lambda).

pub mod engine;
pub mod rules;
