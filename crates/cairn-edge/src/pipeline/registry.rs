//! The registry: every service an application serves, by signing name. The house holds the
//! type; the list of services is the `registry()` of `cairn-services`, so adding a
//! service is a folder there and one line in that list. The application holds its registry
//! ([`App::registry`]): the edge and internal calls find services through it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use cairn_wire::Protocol;
use http::Response;
use http_body_util::Full;

use super::codec::{Answer, Codec, WireRequest};
use super::internal::WireAnswer;
use super::operation::{Operation, find};
use super::service::{Admission, Service};
use super::{Call, Durability, authorize_here, execute_here, serve};
use crate::app::App;
use crate::recorder::CallContext;
use cairn_wire::AwsError;

type Answering = Pin<Box<dyn Future<Output = Response<Full<Bytes>>> + Send>>;

/// A service as the edge sees it: any [`Service`], behind one object-safe face.
pub trait Endpoint: Send + Sync + 'static {
    fn signing_name(&self) -> &'static str;
    fn event_source(&self) -> &'static str;
    fn protocol(&self) -> Protocol;
    fn operations(&self) -> &'static [Operation];
    fn new_request_id(&self) -> String;
    /// See [`Service::streams_body`].
    fn streams_body(&self, req: &cairn_wire::sigv4::RequestParts<'_>) -> bool;
    fn serve(
        self: Arc<Self>,
        app: Arc<App>,
        call: Call,
        req: WireRequest,
        body: Bytes,
    ) -> Answering;
    /// See [`Service::admit_anonymous`] (blocking).
    fn admit_anonymous(
        &self,
        app: &App,
        call: &Call,
        req: &WireRequest,
        body_follows: bool,
    ) -> Admission;
    /// Makes an internal call, its input and output given as JSON in the shape the service's
    /// codec takes them ([`Codec::input_of_json`]; blocking: from a service's handler).
    fn call_json(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &str,
        input: serde_json::Value,
        durability: Durability,
    ) -> Result<serde_json::Value, AwsError>;
    /// Makes an internal call given as a client's request (REST services), through the
    /// service's codec (blocking).
    fn call_wire(
        &self,
        app: &App,
        ctx: &CallContext,
        req: WireRequest,
        body: Bytes,
        durability: Durability,
    ) -> Result<WireAnswer, AwsError>;
    /// Judges an internal call given as JSON input without running or recording it.
    fn authorize_json(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &str,
        input: serde_json::Value,
    ) -> Result<(), AwsError>;
    /// Judges an internal call given as a client's request without running or recording it.
    fn authorize_wire(
        &self,
        app: &App,
        ctx: &CallContext,
        req: WireRequest,
        body: Bytes,
    ) -> Result<(), AwsError>;
}

impl<S: Service> Endpoint for S {
    fn signing_name(&self) -> &'static str {
        Service::signing_name(self)
    }
    fn event_source(&self) -> &'static str {
        Service::event_source(self)
    }
    fn protocol(&self) -> Protocol {
        self.codec().protocol()
    }
    fn operations(&self) -> &'static [Operation] {
        Service::operations(self)
    }
    fn new_request_id(&self) -> String {
        Service::new_request_id(self)
    }
    fn streams_body(&self, req: &cairn_wire::sigv4::RequestParts<'_>) -> bool {
        Service::streams_body(self, req)
    }
    fn serve(
        self: Arc<Self>,
        app: Arc<App>,
        call: Call,
        req: WireRequest,
        body: Bytes,
    ) -> Answering {
        Box::pin(serve(self, app, call, req, body))
    }
    fn admit_anonymous(
        &self,
        app: &App,
        call: &Call,
        req: &WireRequest,
        body_follows: bool,
    ) -> Admission {
        Service::admit_anonymous(self, app, call, req, body_follows)
    }
    fn call_json(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &str,
        input: serde_json::Value,
        durability: Durability,
    ) -> Result<serde_json::Value, AwsError> {
        let name = Service::signing_name(self);
        let op = find(Service::operations(self), op)
            .ok_or_else(|| AwsError::internal(format!("{name} has no operation {op}")))?;
        let input = self
            .codec()
            .input_of_json(op, ctx, input)
            .ok_or_else(|| AwsError::internal(format!("{name} takes no internal JSON calls")))?;
        let out = execute_here(self, app, ctx, op, input, durability)?;
        self.codec()
            .json_of_output(out)
            .ok_or_else(|| AwsError::internal(format!("{name} answers no internal JSON calls")))
    }
    /// A request that does not route or parse is cairn's own mistake: it is answered, not
    /// recorded.
    fn call_wire(
        &self,
        app: &App,
        ctx: &CallContext,
        req: WireRequest,
        body: Bytes,
        durability: Durability,
    ) -> Result<WireAnswer, AwsError> {
        let (op, routed) = self.codec().route(Service::operations(self), &req, &body)?;
        let head = req.method == http::Method::HEAD;
        let protocol = self.codec().protocol_of(&req);
        let input = self.codec().parse(routed, &req, body, ctx)?;
        let out = execute_here(self, app, ctx, op, input, durability)?;
        let answer = Answer {
            request_id: ctx.request_id.clone(),
            head,
            protocol,
        };
        Ok(WireAnswer::of(self.codec().encode(op, out, &answer)))
    }
    fn authorize_json(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &str,
        input: serde_json::Value,
    ) -> Result<(), AwsError> {
        let name = Service::signing_name(self);
        let op = find(Service::operations(self), op)
            .ok_or_else(|| AwsError::internal(format!("{name} has no operation {op}")))?;
        let input = self
            .codec()
            .input_of_json(op, ctx, input)
            .ok_or_else(|| AwsError::internal(format!("{name} takes no internal JSON calls")))?;
        authorize_here(self, app, ctx, op, &input)
    }
    fn authorize_wire(
        &self,
        app: &App,
        ctx: &CallContext,
        req: WireRequest,
        body: Bytes,
    ) -> Result<(), AwsError> {
        let (op, routed) = self.codec().route(Service::operations(self), &req, &body)?;
        let input = self.codec().parse(routed, &req, body, ctx)?;
        authorize_here(self, app, ctx, op, &input)
    }
}

/// The services an endpoint serves.
pub struct Registry {
    services: Vec<Arc<dyn Endpoint>>,
    public: Vec<Arc<dyn PublicRoute>>,
}

/// A request AWS answers without a signature, and so cairn too: SNS's signing certificate
/// (`SigningCertURL`) and the confirmation links in its messages (`SubscribeURL`), S3's CORS
/// preflight requests. The edge offers a GET or OPTIONS request that carries no signature to
/// each route before authenticating it.
pub trait PublicRoute: Send + Sync + 'static {
    /// The answer, when the request is this route's (blocking: run off the reactor).
    fn answer(&self, app: &App, request: &PublicRequest<'_>) -> Option<Response<Full<Bytes>>>;
}

/// An unsigned request offered to the public routes.
pub struct PublicRequest<'a> {
    pub method: &'a http::Method,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a http::HeaderMap,
}

impl Registry {
    /// A registry of these services.
    pub fn new(services: Vec<Arc<dyn Endpoint>>) -> Registry {
        Registry {
            services,
            public: Vec::new(),
        }
    }

    /// The same registry, serving these services too (after its own: a signing name it
    /// already serves keeps its service).
    pub fn with_services(mut self, more: Vec<Arc<dyn Endpoint>>) -> Registry {
        self.services.extend(more);
        self
    }

    /// The same registry, with routes answered without a signature.
    pub fn with_public(mut self, routes: Vec<Arc<dyn PublicRoute>>) -> Registry {
        self.public.extend(routes);
        self
    }

    /// The unsigned routes, in the order they are offered a request.
    pub fn public(&self) -> &[Arc<dyn PublicRoute>] {
        &self.public
    }

    /// The service clients sign for with this name.
    pub fn get(&self, signing_name: &str) -> Option<&Arc<dyn Endpoint>> {
        self.services
            .iter()
            .find(|s| s.signing_name() == signing_name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Endpoint>> {
        self.services.iter()
    }
}
