//! The recording gateway: AWS services cairn does not implement itself, answered by an
//! upstream endpoint (moto_server, LocalStack, any AWS-compatible server) and audited by cairn.
//!
//! A call for a forwarded service takes the pipeline like any other: it is authenticated
//! against cairn's identities, authorized by cairn's IAM (the action is the service's prefix
//! and the operation's name from its model; the resource the request names where its ARN form
//! is known, else `*`), then signed anew for the upstream and forwarded; the upstream's answer
//! goes back unchanged but for the request id, and the call is recorded with the caller's true
//! identity, its parameters as CloudTrail writes them (`params`) and the upstream's error, if
//! any. One [`Gateway`] serves one forwarded service; [`services`] makes them from the
//! configuration.

pub mod handlers;
pub mod model;
pub mod operations;
pub mod params;
pub mod record;
pub mod resolve;
pub mod rest;
pub mod wire;

use std::path::PathBuf;
use std::sync::Arc;

use cairn_wire::AwsError;

pub use handlers::{Upstream, UpstreamSpec};
use model::Model;
use wire::{Forward, GatewayCodec, UpstreamAnswer};

use crate::app::App;
use crate::pipeline::registry::Endpoint;
use crate::pipeline::{Check, Details, Operation, Recording, Service};
use crate::recorder::CallContext;

/// The configuration: which services go to which upstream, and where models come from.
#[derive(Debug, Clone, Default)]
pub struct GatewayConfig {
    /// Each upstream, with the services it answers (empty: every service cairn carries a
    /// model of and does not implement itself).
    pub upstreams: Vec<(Vec<String>, UpstreamSpec)>,
    /// A botocore `data` directory with models of other services.
    pub models: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error(transparent)]
    Model(#[from] model::ModelError),
    #[error("{0}")]
    Upstream(String),
    #[error("cairn implements '{0}' itself; it cannot be forwarded to an upstream")]
    Native(String),
    #[error("two upstreams are configured for '{0}'")]
    Twice(String),
}

/// One forwarded service.
pub struct Gateway {
    signing_name: &'static str,
    event_source: &'static str,
    operations: &'static [Operation],
    codec: GatewayCodec,
    upstream: Arc<Upstream>,
}

impl Gateway {
    pub fn new(model: Model, upstream: Arc<Upstream>) -> Gateway {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        let signing_name = leak(model.signing_name().to_owned());
        let event_source = leak(format!("{}.amazonaws.com", model.metadata.endpoint_prefix));
        let xmlns = leak(model.metadata.xml_namespace.clone().unwrap_or_default());
        let operations = operations::table(&model);
        Gateway {
            signing_name,
            event_source,
            operations,
            codec: GatewayCodec::new(Arc::new(model), xmlns),
            upstream,
        }
    }

    pub fn upstream_url(&self) -> &str {
        self.upstream.url()
    }
}

/// The forwarded services of `config`, for the registry. `native` names the services cairn
/// serves itself: they are never forwarded.
pub fn services(
    config: &GatewayConfig,
    native: &[&str],
) -> Result<Vec<Arc<Gateway>>, GatewayError> {
    let mut out: Vec<Arc<Gateway>> = Vec::new();
    for (names, spec) in &config.upstreams {
        let upstream = Arc::new(Upstream::new(spec.clone()).map_err(GatewayError::Upstream)?);
        let every = names.is_empty();
        let names: Vec<String> = if every {
            model::embedded()
                .into_iter()
                .map(str::to_owned)
                .filter(|n| !native.contains(&n.as_str()))
                .collect()
        } else {
            names.clone()
        };
        for name in names {
            if native.contains(&name.as_str()) {
                return Err(GatewayError::Native(name));
            }
            let model = Model::load(&name, config.models.as_deref())?;
            let g = Gateway::new(model, Arc::clone(&upstream));
            if out.iter().any(|o| o.signing_name == g.signing_name) {
                // `every` fills in what the named upstreams leave.
                if every {
                    continue;
                }
                return Err(GatewayError::Twice(name));
            }
            out.push(Arc::new(g));
        }
    }
    Ok(out)
}

/// The same, as registry entries.
pub fn endpoints(
    config: &GatewayConfig,
    native: &[&str],
) -> Result<Vec<Arc<dyn Endpoint>>, GatewayError> {
    Ok(services(config, native)?
        .into_iter()
        .map(|g| g as Arc<dyn Endpoint>)
        .collect())
}

impl Service for Gateway {
    type Codec = GatewayCodec;
    type Plan = ();

    fn signing_name(&self) -> &'static str {
        self.signing_name
    }

    fn event_source(&self) -> &'static str {
        self.event_source
    }

    fn codec(&self) -> &GatewayCodec {
        &self.codec
    }

    fn operations(&self) -> &'static [Operation] {
        self.operations
    }

    fn streams_body(&self, req: &cairn_wire::sigv4::RequestParts<'_>) -> bool {
        self.codec.streams(req.method, req.raw_path, req.raw_query)
    }

    fn resolve(
        &self,
        _app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        input: &Forward,
        _plan: &mut (),
    ) -> Result<Vec<Check>, AwsError> {
        Ok(resolve::checks(self.signing_name, ctx, op, input))
    }

    fn run(
        &self,
        _app: &App,
        _ctx: &CallContext,
        _op: &'static Operation,
        input: &Forward,
        _plan: &mut (),
    ) -> Result<UpstreamAnswer, AwsError> {
        self.upstream
            .forward(self.signing_name, &self.codec.wire, input)
    }

    fn record(
        &self,
        _app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        call: Recording<'_, Self>,
    ) -> Details {
        // A streamed body's signature is known only at its end: until it holds, the call is
        // nobody's (see `crate::edge::stream`).
        if let Some(stream) = call.input.and_then(|i| i.stream.as_ref())
            && let Err(e) = stream.finish()
        {
            return Details {
                unauthenticated: Some(e),
                ..Details::default()
            };
        }
        record::details(
            &self.codec.model,
            &self.codec.wire,
            ctx,
            op,
            call.input,
            call.result,
        )
    }
}
