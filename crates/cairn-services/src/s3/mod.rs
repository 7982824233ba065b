//! The embedded S3 front (REST-XML): buckets, objects, listings, multipart uploads, bucket
//! policy, versioning, default encryption, tags, lifecycle rules and server access logging,
//! over path-style and virtual-host addressing.
//!
//! Bucket operations are recorded as management events; object operations (and listings) as
//! data events, which never appear in event history.

//!
//! The rooms (the same in every service; see `docs/adding-a-service.md`):
//! - `mod.rs`: the [`Service`] impl only: signing name, event source, codec, wiring.
//! - `operations.rs`: the operation table (actions, read-only, data events, access).
//! - `resolve.rs`: what a call acts on (bucket, object) and the checks it needs, with the
//!   bucket's policy.
//! - `handlers/`: running each operation (`buckets.rs`, `objects.rs`, `listing.rs`,
//!   `multipart.rs`, `acl.rs`, `tagging.rs`, `lifecycle.rs`, `logging.rs`).
//! - `record.rs`: how calls are recorded (`requestParameters`, `resources`,
//!   `additionalEventData`).
//! - `wire/`: S3's own codec (`codec.rs`), JSON-described requests for internal calls
//!   (`internal.rs`), XML documents (`xml.rs`), the decoded request and the answer.
//!
//! The service's own: `anonymous.rs` (which unsigned requests are S3's anonymous caller's, and
//! whose account records them), `cors.rs` (CORS rules and the headers they give) and `preflight.rs`
//! (unsigned `OPTIONS` preflights, a public route), `policy.rs` (a bucket policy judged on its own, for the delivery
//! benchmark), `aws_buckets.rs` (AWS's public buckets served read-only: CloudTrail's policy
//! templates that `aws cloudtrail create-subscription` reads); `tags.rs` (tag sets and their
//! limits); `lifecycle.rs` (lifecycle rules: checking, matching, day arithmetic) and
//! `lifecycle_work.rs` (the worker applying them on the clock); `access_log.rs` (server
//! access log configuration, keys and lines) and `access_logs.rs` (the journal consumer
//! delivering them). State (buckets, objects, uploads) lives in `cairn-store`, behind `app.objects`.

pub mod access_log;
pub mod access_logs;
mod anonymous;
mod aws_buckets;
pub mod cors;
mod handlers;
pub mod lifecycle;
pub mod lifecycle_work;
mod operations;
pub mod policy;
pub mod preflight;
mod record;
mod resolve;
pub mod tags;
mod wire;

/// Path-style and virtual-host addressing: wire-level, shared with the edge (`cairn-wire`).
pub use cairn_wire::s3_address as address;
pub use wire::codec::S3Codec;
pub use wire::xml;
pub use wire::{S3Request, S3Response};

use cairn_wire::AwsError;

use crate::app::App;
use crate::pipeline::{
    Admission, Call, Check, Details, Operation, Recording, Service, WireRequest,
};
use crate::recorder::CallContext;

/// The embedded S3 service.
pub struct S3;

impl Service for S3 {
    type Codec = S3Codec;
    type Plan = ();

    fn signing_name(&self) -> &'static str {
        "s3"
    }

    fn event_source(&self) -> &'static str {
        "s3.amazonaws.com"
    }

    fn codec(&self) -> &S3Codec {
        &S3Codec
    }

    fn operations(&self) -> &'static [Operation] {
        operations::table()
    }

    /// S3 request ids have their own shape.
    fn new_request_id(&self) -> String {
        wire::new_request_id()
    }

    /// An unsigned request addressing a bucket: S3's anonymous caller.
    fn admit_anonymous(
        &self,
        app: &App,
        call: &Call,
        req: &WireRequest,
        body_follows: bool,
    ) -> Admission {
        anonymous::admit(app, call, req, body_follows)
    }

    fn resolve(
        &self,
        app: &App,
        ctx: &CallContext,
        _op: &'static Operation,
        req: &S3Request,
        _plan: &mut (),
    ) -> Result<Vec<Check>, AwsError> {
        if let Some(e) = &req.bad_payload {
            return Err(e.clone());
        }
        // AWS's public buckets are read by anyone and written by no one: they decide alone.
        if aws_buckets::is_aws_bucket(req.bucket()) {
            return Ok(Vec::new());
        }
        resolve::checks(app, ctx, req)
    }

    fn run(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static Operation,
        req: &S3Request,
        _plan: &mut (),
    ) -> Result<S3Response, AwsError> {
        if aws_buckets::is_aws_bucket(req.bucket()) {
            return aws_buckets::answer(req);
        }
        handlers::run(app, ctx, op, req)
    }

    /// S3 records a refused call with its parameters, as AWS does.
    fn record(
        &self,
        _app: &App,
        ctx: &CallContext,
        _op: &'static Operation,
        call: Recording<'_, Self>,
    ) -> Details {
        record::record(ctx, call)
    }
}
