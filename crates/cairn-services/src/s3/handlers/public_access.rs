//! Block Public Access, as S3 has it: the four settings of a bucket
//! (`Put/Get/DeletePublicAccessBlock`) and of an account (S3 Control's
//! `Put/Get/DeletePublicAccessBlock`, recorded as `…AccountPublicAccessBlock`), the effective
//! settings of a bucket (either level's), and `GetBucketPolicyStatus`.
//!
//! What the settings do is enforced where the refused thing happens: `BlockPublicPolicy` when a
//! bucket policy is put (here), `RestrictPublicBuckets` when a call is judged (`resolve.rs`),
//! `BlockPublicAcls` and `IgnorePublicAcls` where ACLs are written and read (`acl.rs`).

use cairn_store::objects::{AccountConfig, Bucket, BucketConfig, ObjectsError};
use cairn_wire::AwsError;
use serde::{Deserialize, Serialize};

use super::{S3Result, malformed_xml, objects_error};
use crate::app::App;
use crate::s3::wire::xml::{Doc, parse};
use crate::s3::{S3Request, S3Response};

/// S3 Control's XML namespace (account-level settings).
const CONTROL_NS: &str = "http://awss3control.amazonaws.com/doc/2018-08-20/";

/// The four settings; missing ones are off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Blocks {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl Blocks {
    /// Every setting on: what S3 gives a new bucket (since April 2023).
    pub const ALL: Blocks = Blocks {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };

    /// The settings of a `PublicAccessBlockConfiguration` document.
    fn of_xml(body: &[u8]) -> Result<Blocks, AwsError> {
        let n = parse(body)
            .filter(|n| n.name == "PublicAccessBlockConfiguration")
            .ok_or_else(malformed_xml)?;
        let flag = |name: &str| match n.text_of(name).map(str::trim) {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(_) => Err(malformed_xml()),
        };
        Ok(Blocks {
            block_public_acls: flag("BlockPublicAcls")?,
            ignore_public_acls: flag("IgnorePublicAcls")?,
            block_public_policy: flag("BlockPublicPolicy")?,
            restrict_public_buckets: flag("RestrictPublicBuckets")?,
        })
    }

    fn stored(text: Option<&str>) -> Option<Blocks> {
        text.and_then(|t| serde_json::from_str(t).ok())
    }

    fn text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn xml(&self, ns: &str) -> Vec<u8> {
        let b = |v: bool| if v { "true" } else { "false" };
        let mut d = Doc::new("PublicAccessBlockConfiguration");
        d.elem("BlockPublicAcls", b(self.block_public_acls))
            .elem("IgnorePublicAcls", b(self.ignore_public_acls))
            .elem("BlockPublicPolicy", b(self.block_public_policy))
            .elem("RestrictPublicBuckets", b(self.restrict_public_buckets));
        let xml = d.finish("PublicAccessBlockConfiguration");
        if ns == crate::s3::wire::xml::NS {
            return xml;
        }
        String::from_utf8_lossy(&xml)
            .replace(crate::s3::wire::xml::NS, ns)
            .into_bytes()
    }

    /// Either level's settings: a setting on at the account or the bucket is on.
    fn or(self, other: Blocks) -> Blocks {
        Blocks {
            block_public_acls: self.block_public_acls || other.block_public_acls,
            ignore_public_acls: self.ignore_public_acls || other.ignore_public_acls,
            block_public_policy: self.block_public_policy || other.block_public_policy,
            restrict_public_buckets: self.restrict_public_buckets || other.restrict_public_buckets,
        }
    }
}

/// The settings in force for a bucket: its own and its owner account's.
pub fn effective(app: &App, bucket: &Bucket) -> Result<Blocks, ObjectsError> {
    let own = Blocks::stored(bucket.config(BucketConfig::PublicAccessBlock)).unwrap_or_default();
    let account = Blocks::stored(
        app.objects
            .account_config(&bucket.account, AccountConfig::PublicAccessBlock)?
            .as_deref(),
    )
    .unwrap_or_default();
    Ok(own.or(account))
}

/// The settings a new bucket starts with, as stored.
pub fn new_bucket_default() -> String {
    Blocks::ALL.text()
}

/// Whether a bucket policy document is public (unparsable ones are not: they were refused).
pub fn policy_is_public(policy: &str) -> bool {
    cairn_policy::PolicyDocument::parse_lenient(policy)
        .is_ok_and(|d| cairn_policy::public::is_public(&d))
}

/// The refusal of a public policy under `BlockPublicPolicy`, in S3's words.
pub fn public_policy_blocked(req: &S3Request) -> AwsError {
    AwsError::new(
        403,
        "AccessDenied",
        format!(
            "User: {} is not authorized to perform: s3:PutBucketPolicy on resource: \"arn:aws:s3:::{}\" because public policies are blocked by the BlockPublicPolicy block public access setting.",
            req.caller_arn,
            req.bucket()
        ),
    )
}

fn not_found(req: &S3Request) -> AwsError {
    AwsError::new(
        404,
        "NoSuchPublicAccessBlockConfiguration",
        "The public access block configuration was not found",
    )
    .with_extra("BucketName", req.bucket())
}

/// The bucket-level operations and `GetBucketPolicyStatus`.
pub(super) fn run_bucket(app: &App, req: &S3Request) -> S3Result {
    let s = &app.objects;
    let oe = |e| objects_error(e, req);
    let bucket = || {
        s.bucket(req.bucket())
            .map_err(oe)?
            .ok_or_else(|| oe(ObjectsError::NoSuchBucket))
    };
    match req.op {
        "PutPublicAccessBlock" => {
            let blocks = Blocks::of_xml(&req.payload)?;
            bucket()?;
            s.set_bucket_config(
                req.bucket(),
                BucketConfig::PublicAccessBlock,
                Some(&blocks.text()),
            )
            .map_err(oe)?;
            Ok(S3Response::empty(200))
        }
        "GetPublicAccessBlock" => {
            let b = bucket()?;
            let blocks = Blocks::stored(b.config(BucketConfig::PublicAccessBlock))
                .ok_or_else(|| not_found(req))?;
            Ok(S3Response::ok(blocks.xml(crate::s3::wire::xml::NS)))
        }
        "DeletePublicAccessBlock" => {
            s.set_bucket_config(req.bucket(), BucketConfig::PublicAccessBlock, None)
                .map_err(oe)?;
            Ok(S3Response::empty(204))
        }
        "GetBucketPolicyStatus" => {
            let b = bucket()?;
            let policy = b.policy.as_deref().ok_or_else(|| {
                AwsError::new(
                    404,
                    "NoSuchBucketPolicy",
                    "The bucket policy does not exist",
                )
                .with_extra("BucketName", req.bucket())
            })?;
            let mut d = Doc::new("PolicyStatus");
            d.elem(
                "IsPublic",
                if policy_is_public(policy) {
                    "true"
                } else {
                    "false"
                },
            );
            Ok(S3Response::ok(d.finish("PolicyStatus")))
        }
        other => Err(super::not_implemented(other)),
    }
}

/// S3 Control's account-level operations: the account named by `x-amz-account-id` must be
/// the caller's.
pub(super) fn run_account(app: &App, req: &S3Request, caller_account: &str) -> S3Result {
    let account = req.header("x-amz-account-id").unwrap_or_default();
    if account != caller_account {
        return Err(AwsError::new(403, "AccessDenied", "Access Denied"));
    }
    let s = &app.objects;
    let oe = |e| objects_error(e, req);
    let field = AccountConfig::PublicAccessBlock;
    match req.op {
        "PutAccountPublicAccessBlock" => {
            let blocks = Blocks::of_xml(&req.payload)?;
            s.set_account_config(account, field, Some(&blocks.text()))
                .map_err(oe)?;
            Ok(S3Response::empty(200))
        }
        "GetAccountPublicAccessBlock" => {
            let blocks = Blocks::stored(s.account_config(account, field).map_err(oe)?.as_deref())
                .ok_or_else(|| {
                AwsError::new(
                    404,
                    "NoSuchPublicAccessBlockConfiguration",
                    "The public access block configuration was not found",
                )
                .with_extra("AccountId", account)
            })?;
            Ok(S3Response::ok(blocks.xml(CONTROL_NS)))
        }
        "DeleteAccountPublicAccessBlock" => {
            s.set_account_config(account, field, None).map_err(oe)?;
            Ok(S3Response::empty(204))
        }
        other => Err(super::not_implemented(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_read_from_xml_and_combine() {
        let b = Blocks::of_xml(b"<PublicAccessBlockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><BlockPublicAcls>true</BlockPublicAcls><BlockPublicPolicy>TRUE</BlockPublicPolicy></PublicAccessBlockConfiguration>").unwrap();
        assert!(b.block_public_acls && b.block_public_policy);
        assert!(!b.ignore_public_acls && !b.restrict_public_buckets);
        assert!(Blocks::of_xml(b"<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls></PublicAccessBlockConfiguration>").is_err());
        assert!(Blocks::of_xml(b"<Other/>").is_err());
        let r = Blocks {
            restrict_public_buckets: true,
            ..Blocks::default()
        };
        assert_eq!(
            b.or(r),
            Blocks {
                restrict_public_buckets: true,
                ..b
            }
        );
        assert_eq!(Blocks::stored(Some(&Blocks::ALL.text())), Some(Blocks::ALL));
        let xml = String::from_utf8(Blocks::ALL.xml(CONTROL_NS)).unwrap();
        assert!(
            xml.contains(CONTROL_NS)
                && xml.contains("<RestrictPublicBuckets>true</RestrictPublicBuckets>")
        );
    }
}
