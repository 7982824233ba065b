//! Access control lists, as S3 has kept them since 2023: every bucket's Object Ownership is
//! "bucket owner enforced", so ACLs are disabled. Reading one answers the owner's full control;
//! setting one is accepted only when it says just that (`private`, `bucket-owner-full-control`,
//! or the same grant in XML), and refused with `AccessControlListNotSupported` otherwise.

use cairn_wire::AwsError;

use crate::s3::S3Request;
use crate::s3::wire::xml::{NS, parse};

/// The canonical user id S3 shows as the owner of an account's buckets and objects.
pub fn canonical_id(account: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(
        format!("cairn-canonical-user:{account}").as_bytes(),
    ))
}

/// The ACL of every bucket and object an account owns: its owner has full control.
pub fn owner_full_control(account: &str) -> Vec<u8> {
    let id = canonical_id(account);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AccessControlPolicy xmlns=\"{NS}\">\
         <Owner><ID>{id}</ID></Owner><AccessControlList><Grant>\
         <Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\">\
         <ID>{id}</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>\
         </AccessControlList></AccessControlPolicy>"
    )
    .into_bytes()
}

fn not_supported() -> AwsError {
    AwsError::client(
        "AccessControlListNotSupported",
        "The bucket does not allow ACLs",
    )
}

/// Canned ACLs that give the bucket owner full control and no one else anything.
fn owner_only(canned: &str) -> bool {
    matches!(canned, "private" | "bucket-owner-full-control")
}

/// Checks the ACL headers of a write (PutObject, CopyObject, CreateMultipartUpload,
/// CreateBucket): only the owner's full control may be asked for.
pub fn check_headers(req: &S3Request, account: &str) -> Result<(), AwsError> {
    if let Some(canned) = req.header("x-amz-acl")
        && !owner_only(canned)
    {
        return Err(not_supported());
    }
    let owner = format!("id=\"{}\"", canonical_id(account));
    for (name, value) in &req.headers {
        let Some(permission) = name.as_str().strip_prefix("x-amz-grant-") else {
            continue;
        };
        let to_owner = value
            .to_str()
            .is_ok_and(|v| v.split(',').all(|g| g.trim() == owner));
        if permission != "full-control" || !to_owner {
            return Err(not_supported());
        }
    }
    Ok(())
}

/// PutBucketAcl and PutObjectAcl: a canned ACL, grant headers, or an `AccessControlPolicy`
/// document; accepted (and changing nothing) only when it is the owner's full control.
pub fn check_put(req: &S3Request, account: &str) -> Result<(), AwsError> {
    check_headers(req, account)?;
    if req.payload.is_empty() {
        if req.header("x-amz-acl").is_none()
            && !req
                .headers
                .keys()
                .any(|k| k.as_str().starts_with("x-amz-grant-"))
        {
            return Err(AwsError::client(
                "MissingSecurityHeader",
                "Your request was missing a required header",
            )
            .with_extra("MissingHeaderName", "x-amz-acl"));
        }
        return Ok(());
    }
    let doc = parse(&req.payload)
        .filter(|n| n.name == "AccessControlPolicy")
        .ok_or_else(|| {
            AwsError::client(
                "MalformedACLError",
                "The XML you provided was not well-formed or did not validate against our published schema",
            )
        })?;
    let id = canonical_id(account);
    let grants: Vec<_> = doc
        .child("AccessControlList")
        .map(|l| l.all("Grant").collect())
        .unwrap_or_default();
    let only_the_owner = !grants.is_empty()
        && grants.iter().all(|g| {
            g.text_of("Permission") == Some("FULL_CONTROL")
                && g.child("Grantee").and_then(|e| e.text_of("ID")) == Some(id.as_str())
        });
    if only_the_owner {
        Ok(())
    } else {
        Err(not_supported())
    }
}
