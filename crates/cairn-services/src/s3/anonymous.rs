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
//! judgement is made first on the head alone: a refused call is answered (and recorded as
//! refused by the pipeline) before a single byte of its body is read.

use bytes::Bytes;
use cairn_wire::sigv4::SigV4Error;
use cairn_wire::{AwsError, Protocol};

use super::wire::codec::s3_error;
use super::{S3Codec, address, aws_buckets, operations, resolve};
use crate::app::App;
use crate::pipeline::{self, Admission, Call, Codec, WireRequest};

/// Whether S3 serves an unsigned request, and for whom it is recorded.
pub(super) fn admit(app: &App, call: &Call, req: &WireRequest, body_follows: bool) -> Admission {
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
    let verdict = if body_follows {
        judge_head(app, &call, req)
    } else {
        Ok(())
    };
    let (account, region) = (call.account.unwrap_or_default(), call.region);
    match verdict {
        Ok(()) => Admission::Admitted { account, region },
        Err(refusal) => Admission::Refused {
            account,
            region,
            refusal,
        },
    }
}

/// Judges a call whose body has not been read, on its head: `Err` is its refusal.
fn judge_head(app: &App, call: &Call, req: &WireRequest) -> Result<(), AwsError> {
    let (op, routed) = S3Codec.route(operations::table(), req, &Bytes::new())?;
    let ctx = pipeline::context_of(call.clone(), None)
        .ok_or_else(|| AwsError::internal("an anonymous call has no owner"))?;
    let mut input = S3Codec.parse(routed, req, Bytes::new(), &ctx)?;
    // The body is not there yet: only what the head says is judged.
    input.bad_payload = None;
    let checks = resolve::checks(app, &ctx, &input)?;
    pipeline::authorize(app, &ctx, op, Protocol::RestXml, &checks)
}
