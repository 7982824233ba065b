//! S3's anonymous caller: which unsigned requests S3 takes, judged on their head.
//!
//! An unsigned request is S3's only when it addresses a bucket that exists: its record goes to
//! the bucket owner's account, in the bucket's region (AWS writes the caller as
//! `{"type": "AWSAccount", "principalId": "", "accountId": "anonymous"}` there). Anything else —
//! no bucket, a bucket nobody here owns, AWS's own public buckets, another service's unsigned
//! call — keeps the refusal every unsigned request had (403 AccessDenied), unrecorded: there
//! is no account to record it for, and the answer does not tell which buckets exist.
//!
//! Whether the call is allowed is the pipeline's to judge, with the bucket's policy and ACLs
//! as for anyone (`resolve.rs`, Block Public Access included). When a body follows, the same
//! judgement is made first on the head alone: a refused call is recorded and answered before
//! a single byte of its body is read.

use bytes::Bytes;
use cairn_wire::sigv4::SigV4Error;
use cairn_wire::{AwsError, Protocol};

use super::wire::codec::s3_error;
use super::{S3, S3Codec, address, aws_buckets, operations, resolve};
use crate::app::App;
use crate::pipeline::{self, Admission, Call, Codec, Durability, WireRequest};

/// Whether S3 serves an unsigned request, and for whom it is recorded.
pub(super) fn admit(
    svc: &S3,
    app: &App,
    call: &Call,
    req: &WireRequest,
    body_follows: bool,
) -> Admission {
    let head = req.method == http::Method::HEAD;
    let answer = |e: &AwsError| Admission::Answered(s3_error(e, &call.request_id, head));
    let unsigned = || answer(&SigV4Error::Missing.to_aws_error(Protocol::RestXml, None));
    let addr = address::resolve(req.header("host").unwrap_or(""), &req.path);
    let Some(name) = addr.bucket.as_deref() else {
        return unsigned();
    };
    if aws_buckets::is_aws_bucket(name) {
        return unsigned();
    }
    let bucket = match app.objects.bucket(name) {
        Ok(Some(b)) => b,
        Ok(None) => return unsigned(),
        Err(e) => {
            tracing::error!(error = %e, "could not read a bucket for an anonymous request");
            return answer(&AwsError::new(
                503,
                "ServiceUnavailable",
                "Please reduce your request rate.",
            ));
        }
    };
    let mut call = call.clone();
    call.account = Some(bucket.account);
    call.region = bucket.region;
    if body_follows && let Err(e) = judge_head(svc, app, &call, req) {
        return answer(&e);
    }
    Admission::Admitted {
        account: call.account.unwrap_or_default(),
        region: call.region,
    }
}

/// Judges a call whose body has not been read, on its head: `Err` is the error it is answered
/// with when it is refused (recorded first, as every refused call is).
fn judge_head(svc: &S3, app: &App, call: &Call, req: &WireRequest) -> Result<(), AwsError> {
    let (op, routed) = S3Codec.route(operations::table(), req, &Bytes::new())?;
    let ctx = pipeline::context_of(call.clone(), None)
        .ok_or_else(|| AwsError::internal("an anonymous call has no owner"))?;
    let mut input = S3Codec.parse(routed, req, Bytes::new(), &ctx)?;
    // The body is not there yet: only what the head says is judged.
    input.bad_payload = None;
    let verdict = resolve::checks(app, &ctx, &input)
        .and_then(|checks| pipeline::authorize(app, &ctx, op, Protocol::RestXml, &checks));
    let Err(refusal) = verdict else {
        return Ok(());
    };
    // Recorded as refused, and never run: resolving it fails with the refusal.
    input.bad_payload = Some(refusal.clone());
    let recorded = pipeline::execute_here(svc, app, &ctx, op, input, Durability::Wait);
    Err(recorded.err().unwrap_or(refusal))
}
