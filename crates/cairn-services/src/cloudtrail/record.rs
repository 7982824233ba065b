//! How CloudTrail calls are recorded (`cloudtrail.amazonaws.com` management events): the
//! request's parameters, and `responseElements` for mutating calls only; refused calls without
//! their parameters, as AWS records them.

use serde_json::Value;

use super::CloudTrail;
use crate::params;
use crate::pipeline::{Details, Ended, Operation, Recording};

pub(super) fn record(op: &'static Operation, call: Recording<'_, CloudTrail>) -> Details {
    // A refused call is recorded without its parameters, as AWS records it.
    match (call.ended, call.input) {
        (Ended::Unresolved | Ended::Ran, Some(input)) => details(op, input, call.result.ok()),
        _ => Details::default(),
    }
}

/// How a CloudTrail call is recorded.
fn details(op: &Operation, input: &Value, output: Option<&Value>) -> Details {
    Details {
        request_parameters: params::request_parameters(input),
        // AWS writes responseElements for mutating calls only.
        response_elements: if op.read_only {
            None
        } else {
            output.and_then(params::request_parameters)
        },
        ..Details::default()
    }
}
