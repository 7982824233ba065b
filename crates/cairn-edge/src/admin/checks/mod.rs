//! Best-practice checks: the root user's MFA and the CloudTrail, CloudWatch and KMS controls of
//! AWS Security Hub's CIS AWS Foundations Benchmark standard, evaluated on one account through cairn's public
//! APIs (internal calls as the given actor, exactly what an auditing tool would call), each
//! with a status (`PASSED`, `FAILED`, or `NOT_AVAILABLE` when cairn cannot tell), the reason in
//! one sentence, and the fix in one line.
//!
//! Modules: `gather` reads what the controls look at (trails with their status and
//! selectors, the trail buckets' policies and ACLs, metric filters, alarms, topics'
//! subscriptions, KMS keys, the account summary's root MFA); `controls` judges them.

mod controls;
mod gather;

use serde::Serialize;

use crate::app::App;
use crate::pipeline::internal::Internal;

pub use controls::judge;
pub use gather::{Gathered, gather};

/// One control's outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// Security Hub's control id (`CloudTrail.1`).
    pub control: &'static str,
    /// The CIS AWS Foundations Benchmark (v1.4–5.0) number.
    pub cis: &'static str,
    pub title: &'static str,
    /// `PASSED`, `FAILED` or `NOT_AVAILABLE`.
    pub status: &'static str,
    /// Why, in one sentence.
    pub reason: String,
    /// How to pass, in one line (empty when passed).
    pub fix: String,
}

/// Runs every control on the account `who` acts in.
pub fn run(app: &App, who: &Internal) -> Vec<Outcome> {
    let now = app.clock.now_millis();
    judge(&gather(app, who), now)
}
