//! How STS calls are recorded (`sts.amazonaws.com` management events): parameters, the new
//! credentials (never the secret key), the role among the resources, and the role's account
//! when it is not the caller's.

use crate::pipeline::codec::form::request_parameters;
use crate::pipeline::{Details, Operation, Recording};

use super::Sts;

pub(super) fn record(op: &'static Operation, call: Recording<'_, Sts>) -> Details {
    if op.name == "GetCallerIdentity" {
        return Details::default();
    }
    let request = call.input.and_then(request_parameters);
    match call.result {
        Ok(r) => Details {
            request_parameters: request,
            response_elements: r.response.clone(),
            resources: r.resources.clone(),
            shared_with: r.shared_with.clone(),
            ..Details::default()
        },
        // AWS records STS refusals without their parameters (other failures keep them).
        Err(e) if e.code == "AccessDenied" => Details::default(),
        Err(_) => Details {
            request_parameters: request,
            ..Details::default()
        },
    }
}
