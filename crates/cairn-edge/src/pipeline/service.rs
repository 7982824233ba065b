//! The `Service` trait: what a service declares (signing name, codec, operation table) and the
//! three things it does for a call — resolve what the call acts on and which policies decide
//! it, run it, and say how it is recorded. Everything else (authentication, authorization,
//! recording, answering) is the pipeline's, the same for every service.

use cairn_model::RecordResource;
use cairn_policy::ResourceRule;
use cairn_wire::AwsError;
use serde_json::Value;

use super::Call;
use super::codec::{Codec, WireRequest};
use super::operation::Operation;
use crate::app::App;
use crate::recorder::CallContext;

/// The input a service's codec decodes.
pub type Input<S> = <<S as Service>::Codec as Codec>::Input;
/// The output a service's codec encodes.
pub type Output<S> = <<S as Service>::Codec as Codec>::Output;

/// A resource-based policy taking part in a decision.
#[derive(Clone, Debug)]
pub struct PolicyOf {
    /// The policy document (`None`: the resource has none).
    pub document: Option<String>,
    /// The account that owns the resource.
    pub account: String,
    pub rule: ResourceRule,
}

/// One permission a call needs: an IAM action on a resource, judged with the caller's identity
/// policies and, when given, the resource's policy.
#[derive(Clone, Debug)]
pub struct Check {
    pub action: String,
    pub resource: String,
    pub policy: Option<PolicyOf>,
    /// Service condition keys the request sets (`s3:prefix`, `iam:PolicyARN`, …).
    pub condition_keys: Vec<(String, String)>,
    /// The refusal, when the service words it its own way (STS names the role).
    pub denied_as: Option<AwsError>,
    /// Refuses the call even when the check passes (only a bucket's owner may touch its
    /// policy: others get 405 with permission, 403 without).
    pub allowed_but: Option<AwsError>,
}

impl Check {
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Check {
        Check {
            action: action.into(),
            resource: resource.into(),
            policy: None,
            condition_keys: Vec::new(),
            denied_as: None,
            allowed_but: None,
        }
    }

    pub fn with_policy(mut self, policy: PolicyOf) -> Check {
        self.policy = Some(policy);
        self
    }

    pub fn with_keys<K: Into<String>>(mut self, keys: Vec<(K, String)>) -> Check {
        self.condition_keys
            .extend(keys.into_iter().map(|(k, v)| (k.into(), v)));
        self
    }

    pub fn denied_as(mut self, e: AwsError) -> Check {
        self.denied_as = Some(e);
        self
    }

    pub fn allowed_but(mut self, e: AwsError) -> Check {
        self.allowed_but = Some(e);
        self
    }
}

/// Where a call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Its input could not be decoded.
    Unparsed,
    /// Resolving what it acts on failed (a missing key, an invalid member).
    Unresolved,
    /// Authorization refused it.
    Denied,
    /// It ran (and succeeded or failed).
    Ran,
}

/// A finished call, for its record.
pub struct Recording<'a, S: Service + ?Sized> {
    pub input: Option<&'a Input<S>>,
    pub plan: &'a S::Plan,
    pub result: Result<&'a Output<S>, &'a AwsError>,
    pub ended: Ended,
}

/// The parts of a record that are the service's to shape (the pipeline fills in who, when,
/// where, the event name, source, category and read-only flag from the table).
#[derive(Clone, Debug, Default)]
pub struct Details {
    pub request_parameters: Option<Value>,
    pub response_elements: Option<Value>,
    pub additional_event_data: Option<Value>,
    pub resources: Vec<RecordResource>,
    /// Another account that also gets the record (a cross-account AssumeRole).
    pub shared_with: Option<String>,
    /// How the call's failure is recorded when that is not its answer's error: a call the
    /// gateway passed to its upstream, which answered an error (the answer is the upstream's
    /// own), or a service whose records word errors their own way (EC2's
    /// `Client.UnauthorizedOperation`).
    pub recorded_error: Option<crate::recorder::RecordedError>,
    /// What the service knows of its answer (status, bytes, object size): kept beside the
    /// record, never in it.
    pub answer: crate::recorder::AnswerFacts,
    /// The call turned out not to be its claimed principal's (a streamed body that did not
    /// match its signature, or never ended): it is answered with this refusal and not
    /// recorded.
    pub unauthenticated: Option<AwsError>,
}

/// How a service takes a request that carries no signature at all
/// ([`Service::admit_anonymous`]).
pub enum Admission {
    /// Served as the anonymous caller: recorded for `account` (the owner of what the request
    /// addresses), in `region`.
    Admitted { account: String, region: String },
    /// Refused on its head, before its body is read: recorded for `account`, in `region`, as
    /// refused with `refusal`, and never run.
    Refused {
        account: String,
        region: String,
        refusal: AwsError,
    },
    /// Answered on its head alone, before any of its body is read.
    Answered(http::Response<http_body_util::Full<bytes::Bytes>>),
}

/// An AWS service front.
pub trait Service: Send + Sync + 'static {
    type Codec: Codec;
    /// What resolving a call hands to running it and to its record (a KMS key, an STS
    /// role); it starts empty for every call.
    type Plan: Default + Send + 'static;

    /// The SigV4 signing name clients use for it (the credential scope's service).
    fn signing_name(&self) -> &'static str;
    /// CloudTrail's `eventSource` for its calls.
    fn event_source(&self) -> &'static str;
    fn codec(&self) -> &Self::Codec;
    /// Every operation of its API.
    fn operations(&self) -> &'static [Operation];
    /// The region its calls are recorded in, for a global service (IAM: us-east-1).
    fn home_region(&self) -> Option<&'static str> {
        None
    }
    /// A new request id in the service's shape.
    fn new_request_id(&self) -> String {
        cairn_model::ids::new_uuid()
    }

    /// Whether a request's body flows through its call instead of being read whole before
    /// it runs (decided from its head alone): only for calls that pass the body on without
    /// reading it, whose signature is checked at the body's end (`crate::edge::stream`).
    /// Such a service's [`Service::record`] must wait for that check.
    fn streams_body(&self, _req: &cairn_wire::sigv4::RequestParts<'_>) -> bool {
        false
    }

    /// Whether a request without any signature is served, judged from its head alone before
    /// its body is read (blocking: it may read the stores). AWS refuses such requests
    /// everywhere but S3, whose buckets can let everyone in; so does the default here, with
    /// the same answer an unsigned request always had.
    fn admit_anonymous(
        &self,
        _app: &App,
        call: &Call,
        _req: &WireRequest,
        _body_follows: bool,
    ) -> Admission {
        let protocol = self.codec().protocol();
        let e = cairn_wire::sigv4::SigV4Error::Missing.to_aws_error(protocol, None);
        Admission::Answered(crate::edge::error_response(&e, protocol, &call.request_id))
    }

    /// Finds what a call acts on and the permissions it needs, before it runs.
    fn resolve(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        input: &Input<Self>,
        plan: &mut Self::Plan,
    ) -> Result<Vec<Check>, AwsError>;

    /// Runs an authorized call.
    fn run(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        input: &Input<Self>,
        plan: &mut Self::Plan,
    ) -> Result<Output<Self>, AwsError>;

    /// How a call is recorded, whatever its outcome.
    fn record(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        call: Recording<'_, Self>,
    ) -> Details;
}
