//! How IAM calls are recorded (`iam.amazonaws.com` management events, in us-east-1): the
//! request's parameters and the `responseElements` the handlers shaped (`wire.rs`); refused
//! calls without their parameters, and ChangePassword never with its (AWS records
//! `requestParameters` null for it: both are passwords).

use super::Iam;
use crate::pipeline::codec::form;
use crate::pipeline::{Details, Ended, Recording};

pub(super) fn record(op: &str, call: Recording<'_, Iam>) -> Details {
    // A refused call is recorded without its parameters.
    if call.ended == Ended::Denied || op == "ChangePassword" {
        return Details::default();
    }
    Details {
        request_parameters: call.input.and_then(form::request_parameters),
        response_elements: call.result.ok().and_then(|r| r.response.clone()),
        ..Details::default()
    }
}
