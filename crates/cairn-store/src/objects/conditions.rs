//! Conditional writes (`If-None-Match: *`, `If-Match: <etag>` on PutObject and
//! CompleteMultipartUpload): the condition a write carries and how it is judged against the
//! key's current version. Each backend judges it inside the write's transaction, under the
//! key's write lock, so no other write slips between the check and the write.

use super::{ObjectVersion, ObjectsError};

/// What the key's current version must be for a write to go ahead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteCondition {
    /// `If-None-Match: *`: the key has no current object (none, or a delete marker).
    IfNoneMatch,
    /// `If-Match`: the key's current object has this ETag (quotes do not matter).
    IfMatch(String),
}

impl WriteCondition {
    /// Judges the condition against the key's latest version (a delete marker included, which
    /// counts as no object): `NoSuchKey` when `If-Match` finds no object, as S3 answers it.
    pub fn judge(&self, latest: Option<&ObjectVersion>) -> Result<(), ObjectsError> {
        let current = latest.filter(|v| !v.delete_marker);
        match (self, current) {
            (WriteCondition::IfNoneMatch, None) => Ok(()),
            (WriteCondition::IfNoneMatch, Some(_)) => Err(ObjectsError::PreconditionFailed),
            (WriteCondition::IfMatch(_), None) => Err(ObjectsError::NoSuchKey),
            (WriteCondition::IfMatch(etag), Some(v)) => {
                if bare(etag) == bare(&v.etag) {
                    Ok(())
                } else {
                    Err(ObjectsError::PreconditionFailed)
                }
            }
        }
    }
}

fn bare(etag: &str) -> &str {
    etag.trim().trim_start_matches("W/").trim_matches('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(etag: &str, delete_marker: bool) -> ObjectVersion {
        ObjectVersion {
            bucket: "b".into(),
            key: "k".into(),
            version_id: "null".into(),
            is_latest: true,
            delete_marker,
            size: 0,
            etag: etag.into(),
            content_type: None,
            metadata: Default::default(),
            blob: None,
            sse: None,
            created_ms: 0,
        }
    }

    #[test]
    fn conditions_as_s3_judges_them() {
        let v = version("\"abc\"", false);
        let marker = version("", true);
        assert!(WriteCondition::IfNoneMatch.judge(None).is_ok());
        assert!(WriteCondition::IfNoneMatch.judge(Some(&marker)).is_ok());
        assert!(matches!(
            WriteCondition::IfNoneMatch.judge(Some(&v)),
            Err(ObjectsError::PreconditionFailed)
        ));
        assert!(
            WriteCondition::IfMatch("abc".into())
                .judge(Some(&v))
                .is_ok()
        );
        assert!(
            WriteCondition::IfMatch("\"abc\"".into())
                .judge(Some(&v))
                .is_ok()
        );
        assert!(matches!(
            WriteCondition::IfMatch("\"abd\"".into()).judge(Some(&v)),
            Err(ObjectsError::PreconditionFailed)
        ));
        assert!(matches!(
            WriteCondition::IfMatch("\"abc\"".into()).judge(Some(&marker)),
            Err(ObjectsError::NoSuchKey)
        ));
        assert!(matches!(
            WriteCondition::IfMatch("\"abc\"".into()).judge(None),
            Err(ObjectsError::NoSuchKey)
        ));
    }
}
