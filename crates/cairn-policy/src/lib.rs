//! IAM policies: parsing and validating documents as IAM does (`MalformedPolicyDocument`), and
//! deciding requests by AWS's documented evaluation logic.
//!
//! - [`document`]: policy documents and their statements, validated per kind of policy.
//! - [`pattern`]: `*`/`?` wildcards and policy variables (`${aws:username}`).
//! - [`conditions`]: the condition operators.
//! - [`evaluate`]: one document against a request, and the final decision over a caller's
//!   identity policies and a resource's policy.

pub mod conditions;
pub mod context;
pub mod document;
pub mod evaluate;
pub mod pattern;

pub use context::{Caller, Context, Request};
pub use document::{PolicyDocument, PolicyError, PolicyKind};
pub use evaluate::{
    Decision, DenySource, Evaluation, Outcome, ResourceRule, denial_message, evaluate,
    evaluate_with,
};
pub use pattern::wildcard_match;

#[cfg(test)]
mod tests;
