//! CloudTrail Data's wire shapes: the REST-JSON route of PutAuditEvents, from botocore's model
//! (`POST /PutAuditEvents`, `channelArn` and `externalId` in the query string).

use crate::pipeline::codec::rest_json::RestJsonCodec;
use crate::pipeline::codec::rest_json::route::{At, Binding, Kind, Route};

pub(super) static CODEC: RestJsonCodec = RestJsonCodec { routes: &ROUTES };

static ROUTES: [Route; 1] = [Route {
    op: "PutAuditEvents",
    method: "POST",
    uri: "/PutAuditEvents",
    status: 200,
    input: &[
        Binding {
            member: "channelArn",
            at: At::Query("channelArn"),
            kind: Kind::String,
        },
        Binding {
            member: "externalId",
            at: At::Query("externalId"),
            kind: Kind::String,
        },
    ],
    output: &[],
    input_payload: None,
    output_payload: None,
}];
