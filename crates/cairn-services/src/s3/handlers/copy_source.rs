//! What a copy reads (CopyObject, UploadPartCopy): the source `x-amz-copy-source` names
//! (`[/]bucket/key[?versionId=…]`, the key percent-encoded, so that a key holding `?` stays
//! whole), the version of it the copy is made from, and that version's conditions
//! (`x-amz-copy-source-if-*`), which fail with 412 and never 304, as S3 judges them.

use cairn_store::objects::{ObjectVersion, ObjectsError};
use cairn_wire::AwsError;
use percent_encoding::percent_decode_str;

use super::conditions;
use crate::app::App;
use crate::s3::S3Request;

/// A copy's source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopySource {
    pub bucket: String,
    pub key: String,
    pub version: Option<String>,
}

impl CopySource {
    /// The source a request names, if its `x-amz-copy-source` is one.
    pub fn of(req: &S3Request) -> Result<CopySource, AwsError> {
        parse(req.header("x-amz-copy-source").unwrap_or(""))
    }

    /// The object's ARN, as IAM judges reading it.
    pub fn arn(&self) -> String {
        format!("arn:aws:s3:::{}/{}", self.bucket, self.key)
    }

    /// The version the copy reads, checked against the request's source conditions.
    pub fn read_version(&self, app: &App, req: &S3Request) -> Result<ObjectVersion, AwsError> {
        let v = app
            .objects
            .head_object(&self.bucket, &self.key, self.version.as_deref())
            .map_err(|e| self.error(e, req))?;
        conditions::judge_copy_source(req, &v)?;
        Ok(v)
    }

    /// A store error about the source, naming the source's key as S3 does.
    pub fn error(&self, e: ObjectsError, req: &S3Request) -> AwsError {
        match e {
            ObjectsError::NoSuchKey => {
                AwsError::new(404, "NoSuchKey", "The specified key does not exist.")
                    .with_extra("Key", self.key.clone())
            }
            ObjectsError::NoSuchVersion => AwsError::new(
                404,
                "NoSuchVersion",
                "The specified version does not exist.",
            )
            .with_extra("Key", self.key.clone())
            .with_extra("VersionId", self.version.clone().unwrap_or_default()),
            ObjectsError::NoSuchBucket => {
                AwsError::new(404, "NoSuchBucket", "The specified bucket does not exist")
                    .with_extra("BucketName", self.bucket.clone())
            }
            other => super::objects_error(other, req),
        }
    }
}

fn invalid_source() -> AwsError {
    AwsError::client(
        "InvalidArgument",
        "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
    )
    .with_extra("ArgumentName", "x-amz-copy-source")
}

/// Reads `x-amz-copy-source` as sent: the query (`versionId`) is split off before the path is
/// decoded.
pub fn parse(header: &str) -> Result<CopySource, AwsError> {
    let (path, query) = match header.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (header, None),
    };
    let path = percent_decode_str(path).decode_utf8_lossy();
    let Some((bucket, key)) = path.trim_start_matches('/').split_once('/') else {
        return Err(invalid_source());
    };
    if bucket.is_empty() || key.is_empty() {
        return Err(invalid_source());
    }
    let version = query.and_then(|q| {
        q.split('&').find_map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k == "versionId").then(|| percent_decode_str(v).decode_utf8_lossy().into_owned())
        })
    });
    Ok(CopySource {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_read_as_botocore_sends_them() {
        let s = parse("src-bucket/dir/a%20b.txt").unwrap();
        assert_eq!(
            (s.bucket.as_str(), s.key.as_str(), s.version),
            ("src-bucket", "dir/a b.txt", None)
        );
        let s = parse("/src-bucket/k?versionId=3HL4kqtJlcpXroDTDmJ%2Brmk").unwrap();
        assert_eq!(s.version.as_deref(), Some("3HL4kqtJlcpXroDTDmJ+rmk"));
        // A key holding `?` is encoded; it is not a query.
        let s = parse("b/%3FversionId").unwrap();
        assert_eq!((s.key.as_str(), s.version.as_deref()), ("?versionId", None));
        assert_eq!(s.arn(), "arn:aws:s3:::b/?versionId");
        for bad in ["", "bucket", "bucket/", "/k", "//"] {
            assert_eq!(parse(bad).unwrap_err().code, "InvalidArgument", "{bad}");
        }
    }
}
