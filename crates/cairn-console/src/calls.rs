//! The console's API calls: each one made as the signed-in person, through the pipeline, so
//! it is authorized by their policies and recorded like any client's, with
//! `sessionCredentialFromConsole` and the console's user agent.

use std::sync::Arc;

use cairn_edge::edge::web::WebPeer;
use cairn_edge::pipeline::internal::{Internal, WireAnswer, WireCall};
use cairn_model::Principal;
use cairn_wire::AwsError;
use serde_json::Value;

use crate::Shared;

/// The user agent AWS's console calls carry.
pub const CONSOLE_USER_AGENT: &str = "console.amazonaws.com";

/// A signed-in person making calls from a browser.
#[derive(Clone)]
pub struct Caller {
    pub principal: Principal,
    pub source_ip: String,
}

impl Caller {
    pub fn new(principal: Principal, peer: &WebPeer) -> Caller {
        Caller {
            principal,
            source_ip: peer.addr.ip().to_string(),
        }
    }

    /// Calls `op` of the service signed for as `service`, its input and answer as JSON.
    pub async fn call(
        &self,
        shared: &Arc<Shared>,
        service: &'static str,
        op: &'static str,
        input: Value,
    ) -> Result<Value, AwsError> {
        run_json(shared, self.internal(shared), service, op, input).await
    }

    /// Calls `op` as the sign-in service does for the person (the password change a login
    /// profile requires): recorded with `signin.amazonaws.com` as `userAgent` and `invokedBy`,
    /// not as a console call, as AWS records it.
    pub async fn call_via_signin(
        &self,
        shared: &Arc<Shared>,
        service: &'static str,
        op: &'static str,
        input: Value,
    ) -> Result<Value, AwsError> {
        let internal = self.internal(shared).via("signin.amazonaws.com");
        run_json(shared, internal, service, op, input).await
    }

    /// Sends a request to a REST service (S3) as a client would, minus the signature.
    pub async fn call_wire(
        &self,
        shared: &Arc<Shared>,
        service: &'static str,
        call: WireCall,
    ) -> Result<WireAnswer, AwsError> {
        let internal = self.internal(shared);
        let shared = Arc::clone(shared);
        tokio::task::spawn_blocking(move || internal.call_wire(&shared.app, service, call))
            .await
            .unwrap_or_else(|e| Err(AwsError::internal(format!("console call failed: {e}"))))
    }

    /// The calls' circumstances, for work that makes several in a row off the reactor.
    pub fn internal(&self, shared: &Shared) -> Internal {
        Internal::console(
            self.principal.clone(),
            &self.source_ip,
            CONSOLE_USER_AGENT,
            &shared.region,
        )
    }
}

/// Runs a JSON-protocol call off the reactor (the pipeline blocks on the journal).
async fn run_json(
    shared: &Arc<Shared>,
    internal: Internal,
    service: &'static str,
    op: &'static str,
    input: Value,
) -> Result<Value, AwsError> {
    let shared = Arc::clone(shared);
    tokio::task::spawn_blocking(move || internal.call_json(&shared.app, service, op, input))
        .await
        .unwrap_or_else(|e| Err(AwsError::internal(format!("console call failed: {e}"))))
}
