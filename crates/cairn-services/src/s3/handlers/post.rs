//! PostObject: a browser upload, a form POSTed to the bucket's URL. Its signature was checked
//! at the edge (`cairn_wire::post_form`); here its policy is judged
//! ([`super::post_policy`]), the object is written as PutObject writes it, and the answer is
//! the one `success_action_redirect` / `success_action_status` asks for.

use cairn_wire::AwsError;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::objects::{new_object, written};
use super::{S3Result, objects_error, post_policy};
use crate::app::App;
use crate::recorder::CallContext;
use crate::s3::wire::xml::{Doc, encode_key};
use crate::s3::{S3Request, S3Response};

/// What a redirect's query encodes: all but RFC 3986's unreserved characters.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub(super) fn run(app: &App, ctx: &CallContext, req: &S3Request, now: i64) -> S3Result {
    let form = req
        .form
        .as_ref()
        .ok_or_else(|| AwsError::internal("a PostObject without its form"))?;
    post_policy::judge(form, req.bucket(), req.payload.len() as u64, now)?;
    let new = new_object(app, ctx, req)?;
    let v = app
        .objects
        .put_object(req.bucket(), req.key(), &req.payload, &new, now)
        .map_err(|e| objects_error(e, req))?;
    let location = format!(
        "http://{}/{}/{}",
        req.host,
        req.bucket(),
        encode_key(req.key())
    );
    if let Some(redirect) = form
        .field("success_action_redirect")
        .filter(|r| !r.is_empty())
    {
        let q = |s: &str| utf8_percent_encode(s, QUERY).to_string();
        let sep = if redirect.contains('?') { '&' } else { '?' };
        let to = format!(
            "{redirect}{sep}bucket={}&key={}&etag={}",
            q(req.bucket()),
            q(req.key()),
            q(&v.etag)
        );
        return Ok(written(
            S3Response::empty(303).header("location", to),
            &v,
            req,
        ));
    }
    let r = match form.field("success_action_status") {
        Some("200") => S3Response::empty(200),
        Some("201") => {
            let mut d = Doc::new("PostResponse");
            d.elem("Location", &location)
                .elem("Bucket", req.bucket())
                .elem("Key", req.key())
                .elem("ETag", &v.etag);
            let mut r = S3Response::ok(d.finish("PostResponse"));
            r.status = 201;
            r
        }
        _ => S3Response::empty(204),
    };
    Ok(written(r.header("location", location), &v, req))
}
