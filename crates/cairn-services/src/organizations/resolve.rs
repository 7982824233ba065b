//! What an Organizations call needs: its IAM action on `*` (cairn does not scope
//! Organizations' actions to ARNs yet). Who in the organization may make it — the management
//! account for changes and most reads — is the handlers' to check.

use crate::pipeline::{Check, Operation};

pub(super) fn checks(op: &'static Operation) -> Vec<Check> {
    op.actions
        .iter()
        .map(|a| Check::new(a.clone(), "*"))
        .collect()
}
