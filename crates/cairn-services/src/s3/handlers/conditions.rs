//! Conditional reads (GetObject, HeadObject): `If-Match`, `If-None-Match`, `If-Modified-Since`
//! and `If-Unmodified-Since`, judged as S3 judges them (RFC 7232 with S3's two documented
//! pairings: a matching `If-Match` overrides a failing `If-Unmodified-Since`, and a failing
//! `If-None-Match` (the ETag differs) overrides a true `If-Modified-Since`). A copy's
//! `x-amz-copy-source-if-*` headers are the same conditions on its source, except that every
//! one that fails answers 412: a copy has nothing to answer 304 with.

use cairn_store::objects::ObjectVersion;
use cairn_wire::AwsError;

use super::http_date;
use crate::s3::{S3Request, S3Response};

/// Whether an `If-Match` / `If-None-Match` value (one ETag, a list of them, or `*`) names
/// this ETag; quotes and weak markers do not matter.
fn names(header: &str, etag: &str) -> bool {
    let bare = |s: &str| {
        s.trim()
            .trim_start_matches("W/")
            .trim_matches('"')
            .to_owned()
    };
    let mine = bare(etag);
    header
        .split(',')
        .any(|h| h.trim() == "*" || bare(h) == mine)
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`) in ms; `None` when it is not one (S3 then
/// ignores the condition, as HTTP says).
fn parse_http_date(s: &str) -> Option<i64> {
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(s.trim(), &f)
        .ok()
        .map(|t| (t.assume_utc().unix_timestamp_nanos() / 1_000_000) as i64)
}

fn failed(condition: &str) -> AwsError {
    AwsError::new(
        412,
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
    )
    .with_extra("Condition", condition)
}

/// Judges a read's conditions against the version it would answer: `Err` 412, `Ok(Some)` the
/// 304 answer, `Ok(None)` go ahead.
pub(super) fn judge(req: &S3Request, v: &ObjectVersion) -> Result<Option<S3Response>, AwsError> {
    // Dates have whole seconds on the wire: compare at that precision.
    let modified_s = v.created_ms.div_euclid(1000);
    let since = |h: &str| {
        req.header(h)
            .and_then(parse_http_date)
            .map(|ms| ms.div_euclid(1000))
    };
    match req.header("if-match") {
        Some(m) if !names(m, &v.etag) => return Err(failed("If-Match")),
        Some(_) => {}
        None => {
            if since("if-unmodified-since").is_some_and(|t| modified_s > t) {
                return Err(failed("If-Unmodified-Since"));
            }
        }
    }
    let not_modified = match req.header("if-none-match") {
        Some(m) => names(m, &v.etag),
        None => since("if-modified-since").is_some_and(|t| modified_s <= t),
    };
    if not_modified {
        let r = S3Response::empty(304)
            .header("etag", v.etag.clone())
            .header("last-modified", http_date(v.created_ms));
        return Ok(Some(r));
    }
    Ok(None)
}

/// Judges a copy's conditions on its source version (CopyObject, UploadPartCopy): `Err` 412.
pub(super) fn judge_copy_source(req: &S3Request, v: &ObjectVersion) -> Result<(), AwsError> {
    let modified_s = v.created_ms.div_euclid(1000);
    let since = |h: &str| {
        req.header(h)
            .and_then(parse_http_date)
            .map(|ms| ms.div_euclid(1000))
    };
    match req.header("x-amz-copy-source-if-match") {
        Some(m) if !names(m, &v.etag) => return Err(failed("x-amz-copy-source-If-Match")),
        Some(_) => {}
        None => {
            if since("x-amz-copy-source-if-unmodified-since").is_some_and(|t| modified_s > t) {
                return Err(failed("x-amz-copy-source-If-Unmodified-Since"));
            }
        }
    }
    match req.header("x-amz-copy-source-if-none-match") {
        Some(m) if names(m, &v.etag) => Err(failed("x-amz-copy-source-If-None-Match")),
        Some(_) => Ok(()),
        None if since("x-amz-copy-source-if-modified-since").is_some_and(|t| modified_s <= t) => {
            Err(failed("x-amz-copy-source-If-Modified-Since"))
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_lists_and_dates_read_as_http_writes_them() {
        assert!(names("\"abc\"", "\"abc\""));
        assert!(names("abc", "\"abc\""));
        assert!(names("\"x\", W/\"abc\"", "\"abc\""));
        assert!(names("*", "\"abc\""));
        assert!(!names("\"ABCORZ\"", "\"abc\""));
        assert_eq!(
            parse_http_date("Sat, 29 Oct 1994 19:43:31 GMT"),
            Some(783_459_811_000)
        );
        assert_eq!(parse_http_date("yesterday"), None);
    }
}
