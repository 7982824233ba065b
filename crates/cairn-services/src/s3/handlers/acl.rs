//! Access control lists, as S3 has kept them since 2023. A bucket's Object Ownership
//! (`ownership.rs`) decides whether ACLs are in use:
//!
//! - `BucketOwnerEnforced` (every new bucket's, unless asked otherwise): ACLs are disabled.
//!   Reading one answers the owner's full control; setting one is accepted only when it says
//!   just that (`private`, `bucket-owner-full-control`, or the same grant in XML), and refused
//!   with `AccessControlListNotSupported` otherwise.
//! - `BucketOwnerPreferred` and `ObjectWriter`: ACLs are enabled. Canned ACLs, grant headers
//!   and `AccessControlPolicy` documents are stored (the bucket's with the bucket, an object's
//!   with its version), answered as set, and their grants take part in decisions as the
//!   resource-policy statements they amount to (S3's documented mapping of ACL permissions to
//!   policy actions; see [`statements`]). Block Public Access refuses public grants
//!   (`BlockPublicAcls`) and leaves them out of decisions (`IgnorePublicAcls`).

use cairn_store::objects::Bucket;
use cairn_wire::AwsError;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::ownership::{Ownership, ownership};
use super::public_access::Blocks;
use crate::app::App;
use crate::s3::S3Request;
use crate::s3::wire::xml::{NS, Node, parse};

/// The metadata name an object's ACL is stored under while ACLs are enabled (`::`: an
/// internal entry, never answered as a header).
pub const OBJECT_ACL: &str = "::acl";

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";

/// The canonical user id S3 shows as the owner of an account's buckets and objects.
pub fn canonical_id(account: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(
        format!("cairn-canonical-user:{account}").as_bytes(),
    ))
}

/// Who a grant is to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Grantee {
    /// An account, by its canonical user id (and the account it is, found when granted).
    CanonicalUser { id: String, account: String },
    /// One of S3's predefined groups, by URI.
    Group { uri: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub grantee: Grantee,
    pub permission: String,
}

/// A stored ACL: the resource's owner and its grants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acl {
    pub owner: String,
    pub grants: Vec<Grant>,
}

impl Acl {
    /// The owner's full control and nothing else.
    pub fn private(owner: &str) -> Acl {
        Acl {
            owner: owner.to_owned(),
            grants: vec![owner_grant(owner, "FULL_CONTROL")],
        }
    }

    pub fn stored(text: Option<&str>) -> Option<Acl> {
        text.and_then(|t| serde_json::from_str(t).ok())
    }

    pub fn text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Whether a grant lets in everyone (or every AWS account).
    pub fn is_public(&self) -> bool {
        self.grants.iter().any(is_public_grant)
    }

    /// The `AccessControlPolicy` document S3 answers.
    pub fn xml(&self) -> Vec<u8> {
        let esc = cairn_wire::xml::escape;
        let owner = canonical_id(&self.owner);
        let mut x = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AccessControlPolicy xmlns=\"{NS}\"><Owner><ID>{owner}</ID></Owner><AccessControlList>"
        );
        for g in &self.grants {
            let grantee = match &g.grantee {
                Grantee::CanonicalUser { id, .. } => format!(
                    "<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"><ID>{}</ID></Grantee>",
                    esc(id)
                ),
                Grantee::Group { uri } => format!(
                    "<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\"><URI>{}</URI></Grantee>",
                    esc(uri)
                ),
            };
            x.push_str(&format!(
                "<Grant>{grantee}<Permission>{}</Permission></Grant>",
                esc(&g.permission)
            ));
        }
        x.push_str("</AccessControlList></AccessControlPolicy>");
        x.into_bytes()
    }
}

fn owner_grant(account: &str, permission: &str) -> Grant {
    Grant {
        grantee: Grantee::CanonicalUser {
            id: canonical_id(account),
            account: account.to_owned(),
        },
        permission: permission.to_owned(),
    }
}

fn group_grant(uri: &str, permission: &str) -> Grant {
    Grant {
        grantee: Grantee::Group {
            uri: uri.to_owned(),
        },
        permission: permission.to_owned(),
    }
}

fn is_public_grant(g: &Grant) -> bool {
    matches!(&g.grantee, Grantee::Group { uri } if uri == ALL_USERS || uri == AUTHENTICATED_USERS)
}

fn not_supported() -> AwsError {
    AwsError::client(
        "AccessControlListNotSupported",
        "The bucket does not allow ACLs",
    )
}

fn malformed_acl() -> AwsError {
    AwsError::client(
        "MalformedACLError",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

fn invalid_argument(message: &str) -> AwsError {
    AwsError::client("InvalidArgument", message)
}

/// Canned ACLs that give the bucket owner full control and no one else anything.
fn owner_only(canned: &str) -> bool {
    matches!(canned, "private" | "bucket-owner-full-control")
}

/// Checks the ACL headers of a write while ACLs are disabled: only the owner's full control
/// may be asked for.
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

/// Whether the request sets an ACL by headers (a canned ACL or grant headers).
fn has_acl_headers(req: &S3Request) -> bool {
    req.header("x-amz-acl").is_some()
        || req
            .headers
            .keys()
            .any(|k| k.as_str().starts_with("x-amz-grant-"))
}

/// The grants of a canned ACL, for a resource `owner` owns in `bucket_owner`'s bucket.
fn canned(name: &str, owner: &str, bucket_owner: &str, on_bucket: bool) -> Result<Acl, AwsError> {
    let mut acl = Acl::private(owner);
    let extra: Vec<Grant> = match name {
        "private" => Vec::new(),
        "public-read" => vec![group_grant(ALL_USERS, "READ")],
        "public-read-write" => vec![
            group_grant(ALL_USERS, "READ"),
            group_grant(ALL_USERS, "WRITE"),
        ],
        "authenticated-read" => vec![group_grant(AUTHENTICATED_USERS, "READ")],
        "log-delivery-write" if on_bucket => vec![
            group_grant(LOG_DELIVERY, "WRITE"),
            group_grant(LOG_DELIVERY, "READ_ACP"),
        ],
        "bucket-owner-read" if !on_bucket && owner != bucket_owner => {
            vec![owner_grant(bucket_owner, "READ")]
        }
        "bucket-owner-full-control" if !on_bucket && owner != bucket_owner => {
            vec![owner_grant(bucket_owner, "FULL_CONTROL")]
        }
        "bucket-owner-read" | "bucket-owner-full-control" if !on_bucket => Vec::new(),
        _ => return Err(invalid_argument("")),
    };
    acl.grants.extend(extra);
    Ok(acl)
}

/// The account a canonical user id is, among the instance's accounts.
fn account_of_canonical(app: &App, id: &str) -> Result<String, AwsError> {
    let accounts = app.identity.accounts().map_err(|e| {
        tracing::error!(error = %e, "could not list accounts for an ACL grant");
        AwsError::new(
            500,
            "InternalError",
            "We encountered an internal error. Please try again.",
        )
    })?;
    accounts
        .into_iter()
        .map(|a| a.id.to_string())
        .find(|a| canonical_id(a) == id)
        .ok_or_else(|| invalid_argument("Invalid id"))
}

fn grantee_of(app: &App, kind: &str, value: &str) -> Result<Grantee, AwsError> {
    match kind {
        "id" => Ok(Grantee::CanonicalUser {
            id: value.to_owned(),
            account: account_of_canonical(app, value)?,
        }),
        "uri" if [ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY].contains(&value) => {
            Ok(Grantee::Group {
                uri: value.to_owned(),
            })
        }
        "uri" => Err(invalid_argument("Invalid group uri")),
        "emailAddress" => Err(AwsError::client(
            "UnresolvableGrantByEmailAddress",
            "The e-mail address you provided does not match any account on record.",
        )),
        _ => Err(invalid_argument("")),
    }
}

/// The grants of `x-amz-grant-*` headers (`id="…", uri="…"` lists).
fn header_grants(app: &App, req: &S3Request, owner: &str) -> Result<Acl, AwsError> {
    let mut acl = Acl {
        owner: owner.to_owned(),
        grants: Vec::new(),
    };
    for (name, value) in &req.headers {
        let Some(kind) = name.as_str().strip_prefix("x-amz-grant-") else {
            continue;
        };
        let permission = match kind {
            "read" => "READ",
            "write" => "WRITE",
            "read-acp" => "READ_ACP",
            "write-acp" => "WRITE_ACP",
            "full-control" => "FULL_CONTROL",
            _ => return Err(invalid_argument("")),
        };
        let value = value.to_str().map_err(|_| invalid_argument(""))?;
        for g in value.split(',') {
            let (k, v) = g
                .trim()
                .split_once('=')
                .ok_or_else(|| invalid_argument(""))?;
            let v = v.trim().trim_matches('"');
            acl.grants.push(Grant {
                grantee: grantee_of(app, k.trim(), v)?,
                permission: permission.to_owned(),
            });
        }
    }
    Ok(acl)
}

/// The grants of an `AccessControlPolicy` document.
fn document_grants(app: &App, doc: &Node, owner: &str) -> Result<Acl, AwsError> {
    let mut acl = Acl {
        owner: owner.to_owned(),
        grants: Vec::new(),
    };
    for g in doc
        .child("AccessControlList")
        .map(|l| l.all("Grant").collect::<Vec<_>>())
        .unwrap_or_default()
    {
        let permission = g.text_of("Permission").ok_or_else(malformed_acl)?;
        if !matches!(
            permission,
            "READ" | "WRITE" | "READ_ACP" | "WRITE_ACP" | "FULL_CONTROL"
        ) {
            return Err(malformed_acl());
        }
        let e = g.child("Grantee").ok_or_else(malformed_acl)?;
        let grantee = if let Some(id) = e.text_of("ID") {
            grantee_of(app, "id", id)?
        } else if let Some(uri) = e.text_of("URI") {
            grantee_of(app, "uri", uri)?
        } else if let Some(mail) = e.text_of("EmailAddress") {
            grantee_of(app, "emailAddress", mail)?
        } else {
            return Err(malformed_acl());
        };
        acl.grants.push(Grant {
            grantee,
            permission: permission.to_owned(),
        });
    }
    Ok(acl)
}

/// The ACL a write's headers ask for while ACLs are enabled (the owner's full control when
/// none is asked for).
fn acl_of_headers(
    app: &App,
    req: &S3Request,
    owner: &str,
    bucket_owner: &str,
    on_bucket: bool,
) -> Result<Acl, AwsError> {
    let canned_name = req.header("x-amz-acl");
    let grants = req
        .headers
        .keys()
        .any(|k| k.as_str().starts_with("x-amz-grant-"));
    match (canned_name, grants) {
        (Some(_), true) => Err(invalid_argument(
            "Specifying both Canned ACLs and Header Grants is not allowed",
        )),
        (Some(c), false) => canned(c, owner, bucket_owner, on_bucket),
        (None, true) => header_grants(app, req, owner),
        (None, false) => Ok(Acl::private(owner)),
    }
}

fn refuse_public(acl: &Acl, blocks: Blocks) -> Result<(), AwsError> {
    if blocks.block_public_acls && acl.is_public() {
        return Err(AwsError::new(403, "AccessDenied", "Access Denied"));
    }
    Ok(())
}

/// The ACL a new object gets from its write (PutObject, CopyObject, CreateMultipartUpload),
/// stored with it while ACLs are enabled; `None` while they are disabled (after checking the
/// write asks for nothing but the owner's full control).
pub fn of_new_object(
    app: &App,
    req: &S3Request,
    bucket: &Bucket,
    writer: &str,
) -> Result<Option<String>, AwsError> {
    let mode = ownership(bucket);
    if mode == Ownership::BucketOwnerEnforced {
        check_headers(req, &bucket.account)?;
        return Ok(None);
    }
    // The writer owns what it writes, unless the bucket prefers its owner and is given
    // full control (S3's BucketOwnerPreferred).
    let prefers_owner = mode == Ownership::BucketOwnerPreferred
        && req.header("x-amz-acl") == Some("bucket-owner-full-control");
    let owner = if prefers_owner {
        &bucket.account
    } else {
        writer
    };
    let acl = acl_of_headers(app, req, owner, &bucket.account, false)?;
    refuse_public(&acl, blocks_of(app, bucket)?)?;
    Ok(Some(acl.text()))
}

/// The ACL CreateBucket's headers ask for, on a bucket with ACLs enabled.
pub fn of_new_bucket(app: &App, req: &S3Request, bucket: &Bucket) -> Result<Acl, AwsError> {
    let acl = acl_of_headers(app, req, &bucket.account, &bucket.account, true)?;
    refuse_public(&acl, blocks_of(app, bucket)?)?;
    Ok(acl)
}

fn blocks_of(app: &App, bucket: &Bucket) -> Result<Blocks, AwsError> {
    super::public_access::effective(app, bucket).map_err(|e| {
        tracing::error!(error = %e, "could not read a bucket's public access block");
        AwsError::new(
            500,
            "InternalError",
            "We encountered an internal error. Please try again.",
        )
    })
}

/// The ACL a PutBucketAcl or PutObjectAcl sets: a canned ACL, grant headers, or an
/// `AccessControlPolicy` document. While ACLs are disabled it must be the owner's full
/// control alone (and `None` is returned: nothing changes); a document must name the owner.
pub fn of_put(
    app: &App,
    req: &S3Request,
    bucket: &Bucket,
    owner: &str,
    on_bucket: bool,
) -> Result<Option<Acl>, AwsError> {
    let enabled = ownership(bucket) != Ownership::BucketOwnerEnforced;
    let doc = if req.payload.is_empty() {
        if !has_acl_headers(req) {
            return Err(AwsError::client(
                "MissingSecurityHeader",
                "Your request was missing a required header",
            )
            .with_extra("MissingHeaderName", "x-amz-acl"));
        }
        None
    } else {
        if has_acl_headers(req) {
            return Err(AwsError::client(
                "UnexpectedContent",
                "This request does not support content",
            ));
        }
        Some(
            parse(&req.payload)
                .filter(|n| n.name == "AccessControlPolicy")
                .ok_or_else(malformed_acl)?,
        )
    };
    if !enabled {
        match &doc {
            None => check_headers(req, owner)?,
            Some(d) => {
                let id = canonical_id(owner);
                let grants: Vec<_> = d
                    .child("AccessControlList")
                    .map(|l| l.all("Grant").collect())
                    .unwrap_or_default();
                let only_the_owner = !grants.is_empty()
                    && grants.iter().all(|g| {
                        g.text_of("Permission") == Some("FULL_CONTROL")
                            && g.child("Grantee").and_then(|e| e.text_of("ID")) == Some(id.as_str())
                    });
                if !only_the_owner {
                    return Err(not_supported());
                }
            }
        }
        return Ok(None);
    }
    let acl = match &doc {
        None => acl_of_headers(app, req, owner, &bucket.account, on_bucket)?,
        Some(d) => {
            // The document's owner must be the resource's.
            if let Some(id) = d.child("Owner").and_then(|o| o.text_of("ID"))
                && id != canonical_id(owner)
            {
                return Err(AwsError::new(403, "AccessDenied", "Access Denied"));
            }
            document_grants(app, d, owner)?
        }
    };
    refuse_public(&acl, blocks_of(app, bucket)?)?;
    Ok(Some(acl))
}

/// The actions an ACL permission allows (S3's documented mapping), on the bucket or on its
/// objects.
fn actions(permission: &str, on_bucket: bool) -> &'static [&'static str] {
    match (on_bucket, permission) {
        (true, "READ") => &[
            "s3:ListBucket",
            "s3:ListBucketVersions",
            "s3:ListBucketMultipartUploads",
        ],
        (true, "WRITE") => &["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
        (true, "READ_ACP") => &["s3:GetBucketAcl"],
        (true, "WRITE_ACP") => &["s3:PutBucketAcl"],
        (true, "FULL_CONTROL") => &[
            "s3:ListBucket",
            "s3:ListBucketVersions",
            "s3:ListBucketMultipartUploads",
            "s3:PutObject",
            "s3:DeleteObject",
            "s3:DeleteObjectVersion",
            "s3:GetBucketAcl",
            "s3:PutBucketAcl",
        ],
        (false, "READ") => &["s3:GetObject", "s3:GetObjectVersion"],
        (false, "READ_ACP") => &["s3:GetObjectAcl", "s3:GetObjectVersionAcl"],
        (false, "WRITE_ACP") => &["s3:PutObjectAcl", "s3:PutObjectVersionAcl"],
        (false, "FULL_CONTROL") => &[
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:GetObjectAcl",
            "s3:GetObjectVersionAcl",
            "s3:PutObjectAcl",
            "s3:PutObjectVersionAcl",
        ],
        _ => &[],
    }
}

/// The resource-policy statements an ACL's grants amount to, on `bucket` (a bucket ACL: the
/// bucket and, for WRITE, its objects) or on one object (`object_arn`). Public grants are
/// left out when `ignore_public` (IgnorePublicAcls).
pub fn statements(
    acl: &Acl,
    bucket: &str,
    object_arn: Option<&str>,
    ignore_public: bool,
) -> Vec<Value> {
    let on_bucket = object_arn.is_none();
    let mut out = Vec::new();
    for g in &acl.grants {
        if ignore_public && is_public_grant(g) {
            continue;
        }
        let principal = match &g.grantee {
            Grantee::CanonicalUser { account, .. } => {
                json!({"AWS": format!("arn:aws:iam::{account}:root")})
            }
            Grantee::Group { uri } if uri == LOG_DELIVERY => {
                json!({"Service": "logging.s3.amazonaws.com"})
            }
            Grantee::Group { .. } => json!("*"),
        };
        let acts = actions(&g.permission, on_bucket);
        if acts.is_empty() {
            continue;
        }
        let resource = match object_arn {
            Some(arn) => json!(arn),
            None => json!([
                format!("arn:aws:s3:::{bucket}"),
                format!("arn:aws:s3:::{bucket}/*")
            ]),
        };
        let mut statement = json!({
            "Effect": "Allow",
            "Principal": principal,
            "Action": acts,
            "Resource": resource,
        });
        // AuthenticatedUsers is every signed request, of any account, and no anonymous one:
        // only an anonymous request lacks `aws:PrincipalArn`.
        if matches!(&g.grantee, Grantee::Group { uri } if uri == AUTHENTICATED_USERS) {
            statement["Condition"] = json!({"Null": {"aws:PrincipalArn": "false"}});
        }
        out.push(statement);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_acls_grant_as_s3_documents() {
        let owner = "111122223333";
        let read = canned("public-read", owner, owner, true).unwrap();
        assert!(read.is_public());
        assert_eq!(read.grants.len(), 2);
        assert!(!canned("private", owner, owner, true).unwrap().is_public());
        let log = canned("log-delivery-write", owner, owner, true).unwrap();
        assert_eq!(
            log.grants[1..]
                .iter()
                .map(|g| g.permission.as_str())
                .collect::<Vec<_>>(),
            ["WRITE", "READ_ACP"]
        );
        // The bucket owner is granted what an object writer of another account gives it.
        let other = canned("bucket-owner-full-control", "999999999999", owner, false).unwrap();
        assert_eq!(other.grants[1], owner_grant(owner, "FULL_CONTROL"));
        assert!(canned("log-delivery-write", owner, owner, false).is_err());
        assert!(canned("nonsense", owner, owner, true).is_err());
    }

    #[test]
    fn authenticated_users_exclude_anonymous_callers() {
        let owner = "111122223333";
        let acl = canned("authenticated-read", owner, owner, false).unwrap();
        let st = statements(&acl, "b", Some("arn:aws:s3:::b/k"), false);
        assert_eq!(st[1]["Principal"], json!("*"));
        assert_eq!(
            st[1]["Condition"],
            json!({"Null": {"aws:PrincipalArn": "false"}})
        );
        let public = canned("public-read", owner, owner, false).unwrap();
        let st = statements(&public, "b", Some("arn:aws:s3:::b/k"), false);
        assert!(st[1].get("Condition").is_none());
    }

    #[test]
    fn grants_become_statements_and_public_ones_can_be_ignored() {
        let owner = "111122223333";
        let acl = canned("public-read", owner, owner, false).unwrap();
        let st = statements(&acl, "b", Some("arn:aws:s3:::b/k"), false);
        assert_eq!(st.len(), 2);
        assert_eq!(st[1]["Principal"], json!("*"));
        assert_eq!(
            st[1]["Action"],
            json!(["s3:GetObject", "s3:GetObjectVersion"])
        );
        assert_eq!(
            statements(&acl, "b", Some("arn:aws:s3:::b/k"), true).len(),
            1
        );
        let xml = String::from_utf8(acl.xml()).unwrap();
        assert!(xml.contains(ALL_USERS) && xml.contains("<Permission>READ</Permission>"));
    }
}
