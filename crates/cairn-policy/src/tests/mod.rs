//! Tests over the public API: the evaluation table, IAM's parse errors, AWS's denial
//! messages and the wildcard edge cases.

mod hostile;
mod messages;
mod parsing;
mod table;
mod wildcards;
