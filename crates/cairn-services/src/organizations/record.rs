//! How Organizations calls are recorded (`organizations.amazonaws.com` management events, in
//! us-east-1): parameters as sent in lower camel case, and the answer of calls that change
//! something.

use serde_json::Value;

use super::Organizations;
use crate::params;
use crate::pipeline::{Details, Operation, Recording};

pub(super) fn record(op: &'static Operation, call: Recording<'_, Organizations>) -> Details {
    let input = call.input.unwrap_or(&Value::Null);
    Details {
        request_parameters: params::request_parameters(input),
        response_elements: if op.read_only {
            None
        } else {
            call.result.ok().and_then(params::request_parameters)
        },
        ..Details::default()
    }
}
