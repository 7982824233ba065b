//! cairn's own calls on its endpoint, beside AWS's: signed with SigV4 for the service name
//! `cairn`, answered in JSON. Today one: `Cairn.Import`, through which `cairn import` loads
//! records into a running instance, each into event history at once.
//!
//! These calls administer cairn itself; AWS has no such API, so they are not recorded as
//! CloudTrail events (the records they load are).

use std::sync::Arc;

use bytes::Bytes;
use cairn_import::Importer;
use cairn_model::Principal;
use cairn_wire::{AwsError, Protocol};
use http::{HeaderMap, Response};
use http_body_util::Full;
use serde_json::{Value, json};

use crate::app::App;
use crate::edge::Call;
use crate::edge::respond::{error_response, json_response};

/// The signing name of cairn's own calls.
pub const SIGNING_NAME: &str = "cairn";

/// The largest batch of records one call may carry, as its JSON body.
pub const MAX_BATCH_BYTES: usize = 900 * 1024;

pub async fn serve(
    app: Arc<App>,
    call: Call,
    headers: &HeaderMap,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let protocol = Protocol::Json11;
    let rid = call.request_id.clone();
    let target = crate::pipeline::codec::json::target_of(headers);
    if target != "Cairn.Import" {
        let e = AwsError::client(
            "UnknownOperationException",
            format!("cairn has no operation '{target}'"),
        );
        return error_response(&e, protocol, &rid);
    }
    // Loading history into an account is its owner's act.
    let Principal::Root { account, .. } = &call.principal else {
        let e = AwsError::new(
            403,
            "AccessDeniedException",
            "Only an account's root user may import records into it.",
        );
        return error_response(&e, protocol, &rid);
    };
    let records = match serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("Records").cloned())
        .and_then(|r| serde_json::from_value::<Vec<String>>(r).ok())
    {
        Some(r) => r,
        None => {
            let e = AwsError::client(
                "SerializationException",
                "Expected {\"Records\": [<record JSON text>, …]}",
            );
            return error_response(&e, protocol, &rid);
        }
    };
    let importer = Importer {
        journal: app.journal.clone(),
        history: Arc::clone(&app.history),
        account: account.to_string(),
    };
    let done = tokio::task::spawn_blocking(move || importer.import_records(records)).await;
    match done {
        Ok(Ok(r)) => {
            let body =
                json!({"Records": r.records, "Imported": r.imported, "Duplicates": r.duplicates});
            json_response(body.to_string().into_bytes(), protocol, &rid)
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "import into the journal failed");
            error_response(&AwsError::audit_unavailable(), protocol, &rid)
        }
        Err(_) => error_response(
            &AwsError::internal("the import failed unexpectedly"),
            protocol,
            &rid,
        ),
    }
}
