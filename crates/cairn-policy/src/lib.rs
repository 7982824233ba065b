//! IAM policies: parsing and validating documents as IAM does (`MalformedPolicyDocument`), and
//! deciding requests by AWS's documented evaluation logic. No I/O.
//!
//! - [`document`]: policy documents and their statements; [`validate`](PolicyDocument::parse)
//!   holds a document to IAM's rules for its kind of policy.
//! - [`pattern`]: `*`/`?` wildcards, and ARN matching part by part.
//! - [`variables`]: policy variables (`${aws:username}`, defaults, `${*}`).
//! - [`conditions`]: the condition operators, `…IfExists`, `ForAllValues:`/`ForAnyValue:`.
//! - [`public`]: whether a resource policy is public, as S3 decides it.
//! - [`evaluate`](mod@evaluate): one document against a request, and the final decision
//!   over a caller's identity policies and a resource's policy.
//!
//! The caller fills the request [`Context`] (`aws:username`, `aws:SourceIp`,
//! `aws:MultiFactorAuthPresent`, …); this crate only tests it.

pub mod conditions;
pub mod context;
mod dates;
pub mod document;
pub mod evaluate;
mod ip;
pub mod pattern;
mod principal;
pub mod public;
mod validate;
pub mod variables;

pub use context::{Caller, Context, Request};
pub use document::{PolicyDocument, PolicyError, PolicyKind};
pub use evaluate::{
    Decision, DenySource, Evaluation, Outcome, ResourceRule, denial_message, evaluate,
    evaluate_with,
};
pub use pattern::wildcard_match;

#[cfg(test)]
mod tests;
