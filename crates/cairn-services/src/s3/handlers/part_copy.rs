//! UploadPartCopy: one part of a multipart upload copied from an existing object — all of it,
//! or the bytes `x-amz-copy-source-range` names — under the source's conditions, answered
//! with `CopyPartResult`. The part is an ordinary part from then on: completing the upload
//! judges its size like any other.

use cairn_wire::AwsError;

use super::copy_source::CopySource;
use super::multipart::part_args;
use super::objects::read_object;
use super::{S3Result, iso, objects_error};
use crate::app::App;
use crate::recorder::CallContext;
use crate::s3::wire::xml::Doc;
use crate::s3::{S3Request, S3Response};

/// The largest source (or range of one) a copy reads: 5 GiB, S3's limit for a part.
const MAX_COPY_BYTES: u64 = 5 * 1024 * 1024 * 1024;

pub(super) fn run(app: &App, ctx: &CallContext, req: &S3Request, now: i64) -> S3Result {
    let (num, upload_id) = part_args(req)?;
    let source = CopySource::of(req)?;
    let oe = |e| objects_error(e, req);
    // The upload first: a part for an upload that is not there is `NoSuchUpload`, and its
    // source is not read for nothing.
    app.objects
        .list_parts(req.bucket(), req.key(), &upload_id)
        .map_err(oe)?;
    let v = source.read_version(app, req)?;
    let range = match req.header("x-amz-copy-source-range") {
        Some(h) => Some(range_of(h, v.size)?),
        None => None,
    };
    let len = range.map_or(v.size, |(first, last)| last - first + 1);
    if len > MAX_COPY_BYTES {
        return Err(AwsError::client(
            "InvalidRequest",
            format!(
                "The specified copy source is larger than the maximum allowable size for a copy source: {MAX_COPY_BYTES}"
            ),
        ));
    }
    let body = read_object(app, ctx, req, &v, range)?;
    let etag = app
        .objects
        .put_part(req.bucket(), req.key(), &upload_id, num, &body, now)
        .map_err(oe)?;
    let mut d = Doc::new("CopyPartResult");
    d.elem("LastModified", &iso(now)).elem("ETag", &etag);
    let mut r = S3Response::ok(d.finish("CopyPartResult"));
    if v.version_id != "null" {
        r = r.header("x-amz-copy-source-version-id", v.version_id.clone());
    }
    Ok(r)
}

/// `x-amz-copy-source-range`: `bytes=first-last`, both given, inside the source. Anything else
/// is `InvalidArgument`; a range past the source's end is `InvalidRange`.
fn range_of(h: &str, size: u64) -> Result<(u64, u64), AwsError> {
    let malformed = || {
        AwsError::client(
            "InvalidArgument",
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
        )
        .with_extra("ArgumentName", "x-amz-copy-source-range")
        .with_extra("ArgumentValue", h)
    };
    let (first, last) = h
        .strip_prefix("bytes=")
        .and_then(|spec| spec.split_once('-'))
        .ok_or_else(malformed)?;
    let offset = |s: &str| {
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(malformed());
        }
        // Offsets past what a u64 holds are past any source's end.
        Ok(s.parse::<u64>().unwrap_or(u64::MAX))
    };
    let (first, last) = (offset(first)?, offset(last)?);
    if first > last {
        return Err(malformed());
    }
    if last >= size {
        return Err(AwsError::new(
            416,
            "InvalidRange",
            "The requested range is not satisfiable",
        )
        .with_extra("RangeRequested", h)
        .with_extra("ActualObjectSize", size.to_string()));
    }
    Ok((first, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_ranges_are_whole_and_inside_the_source() {
        assert_eq!(range_of("bytes=0-9", 10).unwrap(), (0, 9));
        assert_eq!(range_of("bytes=3-3", 10).unwrap(), (3, 3));
        for bad in [
            "0-2",
            "bytes=0",
            "bytes=hello-world",
            "bytes=0-bar",
            "bytes=hello-",
            "bytes=0-2,3-5",
            "bytes=-5",
            "bytes=5-",
            "bytes=5-2",
        ] {
            assert_eq!(
                range_of(bad, 10).unwrap_err().code,
                "InvalidArgument",
                "{bad}"
            );
        }
        let past = range_of("bytes=0-21", 5).unwrap_err();
        assert_eq!((past.code.as_ref(), past.status), ("InvalidRange", 416));
        assert_eq!(
            range_of("bytes=0-99999999999999999999999", 5)
                .unwrap_err()
                .code,
            "InvalidRange"
        );
    }
}
