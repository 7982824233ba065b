//! Running a forwarded call: the request goes to the upstream, signed anew with the upstream's
//! credentials for the caller's region, and its answer comes back. An upstream that cannot be
//! reached, stalls past its timeout or answers something that is not an answer of the service's
//! protocol is AWS's `ServiceUnavailable` (503), in bounded time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cairn_wire::AwsError;
use cairn_wire::client::{Endpoint, parse_url};
use cairn_wire::tls::Tls;

use super::model::WireProtocol;
use super::params;
use super::wire::{Document, Forward, UpstreamAnswer};

/// Where a forwarded service's calls go.
#[derive(Debug, Clone)]
pub struct UpstreamSpec {
    /// `http://host:port` or `https://host[:port]`.
    pub url: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// How long the upstream may stall a read or a write before the call fails.
    pub timeout: Duration,
    /// For an `https://` upstream with a private CA: its certificates (PEM).
    pub ca_file: Option<std::path::PathBuf>,
}

/// An upstream, with a kept-alive client per region.
pub struct Upstream {
    spec: UpstreamSpec,
    host_port: String,
    tls: Option<Tls>,
    by_region: Mutex<HashMap<String, Arc<Endpoint>>>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("url", &self.spec.url)
            .finish()
    }
}

impl Upstream {
    pub fn new(spec: UpstreamSpec) -> Result<Upstream, String> {
        let url = parse_url(&spec.url).map_err(|e| format!("upstream {e}"))?;
        let tls = if url.https {
            Some(Tls::new(spec.ca_file.as_deref()).map_err(|e| format!("upstream {e}"))?)
        } else {
            None
        };
        Ok(Upstream {
            host_port: url.host_port,
            tls,
            spec,
            by_region: Mutex::new(HashMap::new()),
        })
    }

    pub fn url(&self) -> &str {
        &self.spec.url
    }

    fn endpoint(&self, region: &str) -> Arc<Endpoint> {
        let make = || {
            Arc::new(Endpoint {
                host_port: self.host_port.clone(),
                region: region.to_owned(),
                access_key_id: self.spec.access_key_id.clone(),
                secret_access_key: self.spec.secret_access_key.clone(),
                io_timeout: Some(self.spec.timeout),
                tls: self.tls.clone(),
                ..Endpoint::default()
            })
        };
        match self.by_region.lock() {
            Ok(mut m) => Arc::clone(m.entry(region.to_owned()).or_insert_with(make)),
            Err(_) => make(),
        }
    }

    /// Sends a call and returns the upstream's answer (blocking).
    pub fn forward(
        &self,
        signing_name: &str,
        wire: &WireProtocol,
        call: &Forward,
    ) -> Result<UpstreamAnswer, AwsError> {
        let headers: Vec<(&str, &str)> = call
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let endpoint = self.endpoint(&call.region);
        let sent = match &call.stream {
            None => endpoint.send(
                signing_name,
                &call.method,
                &call.path,
                call.query.as_deref(),
                &headers,
                &call.body,
            ),
            Some(stream) => endpoint.send_stream(
                signing_name,
                &call.method,
                &call.path,
                call.query.as_deref(),
                &headers,
                &mut stream.reader(),
                stream.length(),
            ),
        };
        let r = match sent {
            Ok(r) => r,
            // A streamed body that failed (its signature, its client) is the answer, not the
            // upstream: the call is refused as the body's end says.
            Err(e) => match call.stream.as_ref().map(|s| s.finish()) {
                Some(Err(refused)) => return Err(refused),
                _ => return Err(self.unavailable(&e)),
            },
        };
        let Some(document) = document_of(wire, r.status, &r.body) else {
            return Err(self.unavailable(&format!(
                "its answer (HTTP {}) is not one of the service's protocol",
                r.status
            )));
        };
        Ok(UpstreamAnswer {
            status: r.status,
            headers: r.headers,
            body: r.body,
            document,
        })
    }

    fn unavailable(&self, why: &str) -> AwsError {
        tracing::warn!(upstream = %self.spec.url, %why, "upstream call failed");
        AwsError::new(
            503,
            "ServiceUnavailable",
            format!(
                "The service is unavailable: cairn could not get an answer from its upstream {} ({why}).",
                self.spec.url
            ),
        )
    }
}

/// An answer's document, if it is one the service's protocol gives: a JSON document (or
/// nothing) for JSON services, an XML document for EC2 and query services. A REST answer's
/// body may be a member of any kind (bytes, text): it is read as the protocol's document when
/// it is one, and passed on as it is otherwise.
fn document_of(wire: &WireProtocol, status: u16, body: &[u8]) -> Option<Document> {
    if !(200..=599).contains(&status) {
        return None;
    }
    match wire {
        WireProtocol::Json { .. } if body.is_empty() => Some(Document::None),
        WireProtocol::Json { .. } => serde_json::from_slice(body).ok().map(Document::Json),
        WireProtocol::Ec2 | WireProtocol::Query => params::parse_xml(body).map(Document::Xml),
        WireProtocol::Rest(p) => Some(
            match p.as_str() {
                "rest-xml" => params::parse_xml(body).map(Document::Xml),
                _ => serde_json::from_slice(body).ok().map(Document::Json),
            }
            .unwrap_or(Document::None),
        ),
    }
}
