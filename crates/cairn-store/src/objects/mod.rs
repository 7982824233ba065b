//! The S3 store behind cairn's S3 API: buckets (with their stored configurations), object
//! versions with their bodies, and multipart uploads.
//!
//! [`ObjectStore`] is the contract: S3's naming, versioning (null version, delete markers,
//! latest), listing and multipart rules, a body stored before the metadata that names it, and
//! a call's writes (bodies included) undone if its record fails. [`SqliteObjects`] is the
//! embedded backend: metadata in SQLite, bodies as files. [`PgObjects`] keeps the metadata in
//! PostgreSQL for several nodes, and the bodies behind [`Bodies`] (`bodies.rs`). The shared
//! suite (`crate::suite::objects`) holds any backend to this contract.

mod bodies;
mod conditions;
mod pg;
mod remote;
mod sqlite;
mod uploads;
mod versions;

use std::collections::BTreeMap;
use std::path::Path;

use md5::{Digest, Md5};
use thiserror::Error;

pub use bodies::Bodies;
pub use conditions::WriteCondition;
pub use pg::PgObjects;
pub use remote::{BodyBucket, RemoteBodies, S3Endpoint};
pub use sqlite::SqliteObjects;
pub use uploads::{Upload, UploadsPage, UploadsQuery};

/// The embedded store's bodies as stored (sealed), for copying them unchanged into a
/// cluster's bucket (`cairn migrate`): both seal alike, under the same master key file.
pub struct SealedBodies {
    blobs: sqlite::Blobs,
}

impl SealedBodies {
    /// The bodies under `dir` (an embedded store's `s3/blobs`).
    pub fn open(dir: &std::path::Path) -> Result<SealedBodies, ObjectsError> {
        Ok(SealedBodies {
            blobs: SqliteObjects::bodies_of(dir)?,
        })
    }

    /// A body's sealed bytes, exactly as stored.
    pub fn sealed(&self, name: &str) -> Result<Vec<u8>, ObjectsError> {
        self.blobs.sealed(name)
    }

    /// Whether a body is packed with others (small): its name is not one a bucket keeps.
    pub fn is_packed(name: &str) -> bool {
        sqlite::Blobs::is_packed(name)
    }
}

use crate::error::StoreError;

/// Smallest part S3 accepts, except for the last one.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

#[derive(Debug, Error)]
pub enum ObjectsError {
    #[error("The specified bucket does not exist")]
    NoSuchBucket,
    #[error("The requested bucket name is not available.")]
    BucketAlreadyExists,
    #[error("Your previous request to create the named bucket succeeded and you already own it.")]
    BucketAlreadyOwnedByYou,
    #[error("The bucket you tried to delete is not empty")]
    BucketNotEmpty,
    #[error("The specified key does not exist.")]
    NoSuchKey,
    #[error("The specified version does not exist.")]
    NoSuchVersion,
    #[error(
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
    )]
    NoSuchUpload,
    #[error(
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
    )]
    InvalidPart,
    #[error("The list of parts was not in ascending order. Parts must be ordered by part number.")]
    InvalidPartOrder,
    #[error("Your proposed upload is smaller than the minimum allowed size")]
    EntityTooSmall,
    /// A conditional write's condition did not hold (S3's 412).
    #[error("At least one of the pre-conditions you specified did not hold")]
    PreconditionFailed,
    /// A change or removal the caller's check refused, decided on the version as stored
    /// (Object Lock keeping a version): the caller's own reason, passed back unchanged.
    #[error("refused: {0}")]
    Refused(Box<dyn std::error::Error + Send + Sync>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl ObjectsError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        ObjectsError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    pub name: String,
    pub account: String,
    pub region: String,
    pub created_ms: i64,
    pub policy: Option<String>,
    pub versioning: Option<String>,
    pub encryption: Option<String>,
    /// The bucket's other configurations (tags, CORS, lifecycle, …), by [`BucketConfig::name`].
    pub configs: BTreeMap<String, String>,
}

impl Bucket {
    /// One of the bucket's stored configurations, as it was set.
    pub fn config(&self, field: BucketConfig) -> Option<&str> {
        match field {
            BucketConfig::Policy => self.policy.as_deref(),
            BucketConfig::Versioning => self.versioning.as_deref(),
            BucketConfig::Encryption => self.encryption.as_deref(),
            other => self.configs.get(other.name()).map(String::as_str),
        }
    }
}

/// One object version, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectVersion {
    pub bucket: String,
    pub key: String,
    pub version_id: String,
    pub is_latest: bool,
    pub delete_marker: bool,
    pub size: u64,
    pub etag: String,
    pub content_type: Option<String>,
    /// User metadata (lower-case names without `x-amz-meta-`) and stored system headers
    /// (names starting with `:`).
    pub metadata: BTreeMap<String, String>,
    pub blob: Option<String>,
    pub sse: Option<String>,
    pub created_ms: i64,
}

/// What to store with a new object.
#[derive(Clone, Debug, Default)]
pub struct NewObject {
    pub content_type: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub sse: Option<String>,
    /// SSE-KMS: the object's own data key, which its body is encrypted under (the wrapped
    /// form travels in `metadata`; this plaintext form is never stored).
    pub data_key: Option<Vec<u8>>,
    /// Commit the metadata with an fsync before returning, whatever the store's default (trail
    /// delivery marks a file delivered right after writing it).
    pub durable: bool,
    /// Write only if the key's current version satisfies this (`If-None-Match` / `If-Match`),
    /// judged inside the write's own transaction, under the key's lock.
    pub condition: Option<WriteCondition>,
}

/// A bucket's stored configurations. The first three have columns of their own; the others
/// are kept by name in a table of the bucket's configurations, each as the S3 service chose
/// to store it (the document as put, or a form of its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BucketConfig {
    Policy,
    Versioning,
    Encryption,
    Tagging,
    Cors,
    Lifecycle,
    OwnershipControls,
    PublicAccessBlock,
    Logging,
    ObjectLock,
    MfaDelete,
    Acl,
}

impl BucketConfig {
    /// The configuration's stored name.
    pub fn name(self) -> &'static str {
        match self {
            BucketConfig::Policy => "policy",
            BucketConfig::Versioning => "versioning",
            BucketConfig::Encryption => "encryption",
            BucketConfig::Tagging => "tagging",
            BucketConfig::Cors => "cors",
            BucketConfig::Lifecycle => "lifecycle",
            BucketConfig::OwnershipControls => "ownership-controls",
            BucketConfig::PublicAccessBlock => "public-access-block",
            BucketConfig::Logging => "logging",
            BucketConfig::ObjectLock => "object-lock",
            BucketConfig::MfaDelete => "mfa-delete",
            BucketConfig::Acl => "acl",
        }
    }

    /// The column a configuration has in the buckets table, if it has one.
    pub(crate) fn column(self) -> Option<&'static str> {
        match self {
            BucketConfig::Policy | BucketConfig::Versioning | BucketConfig::Encryption => {
                Some(self.name())
            }
            _ => None,
        }
    }
}

/// An account's S3 settings (S3 Control): kept by name, as the S3 service stores them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountConfig {
    PublicAccessBlock,
}

impl AccountConfig {
    pub fn name(self) -> &'static str {
        match self {
            AccountConfig::PublicAccessBlock => "public-access-block",
        }
    }
}

/// A change to a stored version's metadata (tags, retention, legal hold, ACL), decided with
/// the version as stored and applied in the same transaction: refusing leaves it unchanged.
pub type VersionChange<'a> = dyn FnMut(&mut ObjectVersion) -> Result<(), ObjectsError> + Send + 'a;

/// What decides whether a stored version may be removed (Object Lock), judged on the version
/// as stored in the transaction that removes it: refusing leaves it in place.
pub type VersionGuard<'a> = dyn FnMut(&ObjectVersion) -> Result<(), ObjectsError> + Send + 'a;

#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    pub bucket: String,
    pub prefix: String,
    pub delimiter: Option<String>,
    /// List keys strictly after this one (marker / start-after / continuation).
    pub after: Option<String>,
    pub max_keys: usize,
}

/// A ListObjectVersions page's request.
#[derive(Clone, Debug, Default)]
pub struct VersionsQuery {
    pub bucket: String,
    pub prefix: String,
    pub delimiter: Option<String>,
    /// Start after every version of this key, or, with `version_marker`, after that version
    /// of it.
    pub key_marker: Option<String>,
    pub version_marker: Option<String>,
    pub max_keys: usize,
}

/// Versions and delete markers in key order, newest first within a key.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionsPage {
    pub versions: Vec<ObjectVersion>,
    pub common_prefixes: Vec<String>,
    pub truncated: bool,
    /// Where the next page starts, when truncated (no version marker after a common prefix).
    pub next_key_marker: Option<String>,
    pub next_version_marker: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListPage {
    pub contents: Vec<ObjectVersion>,
    pub common_prefixes: Vec<String>,
    pub truncated: bool,
    /// The last key or common prefix returned, when truncated: where the next page starts.
    pub next_after: Option<String>,
}

/// `"<hex md5>"`, S3's ETag for a single-part object.
pub fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(Md5::digest(body)))
}

/// Buckets, object versions and multipart uploads.
pub trait ObjectStore: Send + Sync {
    /// Creates a bucket; a name taken (by this account or another) is refused as S3 does.
    fn create_bucket(
        &self,
        name: &str,
        account: &str,
        region: &str,
        now_ms: i64,
    ) -> Result<Bucket, ObjectsError>;

    /// A bucket by name, `None` if there is none.
    fn bucket(&self, name: &str) -> Result<Option<Bucket>, ObjectsError>;

    /// An account's buckets, by name.
    fn list_buckets(&self, account: &str) -> Result<Vec<Bucket>, ObjectsError>;

    /// Deletes an empty bucket (no objects, no uploads in progress).
    fn delete_bucket(&self, name: &str) -> Result<(), ObjectsError>;

    /// Sets (or with `None` removes) one of the bucket's stored configurations.
    fn set_bucket_config(
        &self,
        name: &str,
        field: BucketConfig,
        value: Option<&str>,
    ) -> Result<(), ObjectsError>;

    /// The buckets (of every account) that have a configuration set, by name: for the work
    /// a configuration asks of cairn over time (lifecycle rules, access logs).
    fn buckets_with(&self, field: BucketConfig) -> Result<Vec<Bucket>, ObjectsError>;

    /// An account's S3 setting, as stored.
    fn account_config(
        &self,
        account: &str,
        field: AccountConfig,
    ) -> Result<Option<String>, ObjectsError>;

    /// Sets (or with `None` removes) an account's S3 setting.
    fn set_account_config(
        &self,
        account: &str,
        field: AccountConfig,
        value: Option<&str>,
    ) -> Result<(), ObjectsError>;

    /// Changes the metadata of a stored version (the latest when `version_id` is `None`;
    /// delete markers count as absent, as in `head_object`). Only `metadata` is kept of what
    /// `change` does. The version as changed.
    fn update_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        change: &mut VersionChange<'_>,
    ) -> Result<ObjectVersion, ObjectsError>;

    /// Stores a new version of `key` (replacing the null version when versioning is off), body first, durably.
    fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: &[u8],
        new: &NewObject,
        now_ms: i64,
    ) -> Result<ObjectVersion, ObjectsError>;

    /// The latest version of a key (or a given version). Delete markers count as absent.
    fn head_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<ObjectVersion, ObjectsError>;

    /// Reads an object's body, or the inclusive byte range of it.
    fn read_body(
        &self,
        v: &ObjectVersion,
        range: Option<(u64, u64)>,
    ) -> Result<Vec<u8>, ObjectsError>;

    /// Reads the body of an object encrypted under its own data key (SSE-KMS).
    fn read_body_keyed(
        &self,
        v: &ObjectVersion,
        range: Option<(u64, u64)>,
        data_key: &[u8],
    ) -> Result<Vec<u8>, ObjectsError>;

    /// Deletes a key: the null version when versioning is off, a delete marker when it is on
    /// (one whose version id is `null`, replacing the null version, while it is suspended).
    /// Deleting a key that does not exist succeeds, as in S3.
    fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        now_ms: i64,
    ) -> Result<Option<ObjectVersion>, ObjectsError>;

    /// Lists the latest version of each key in byte order, with prefix, delimiter and paging.
    fn list(&self, q: &ListQuery) -> Result<ListPage, ObjectsError>;

    /// Lists every version and delete marker (ListObjectVersions). A version marker that is
    /// no longer a version of the key marker (removed since the last page) starts the page at
    /// the key's versions still there.
    fn list_versions(&self, q: &VersionsQuery) -> Result<VersionsPage, ObjectsError>;

    /// Removes one version (or delete marker) of a key for good; the newest one left becomes
    /// the latest. What was removed; `None` when there was no such version (S3 answers that
    /// as a success too).
    fn delete_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<Option<ObjectVersion>, ObjectsError> {
        self.delete_version_guarded(bucket, key, version_id, &mut |_| Ok(()))
    }

    /// [`ObjectStore::delete_version`], when `guard` allows it: the guard sees the version as
    /// stored, in the same transaction as its removal, so no change made meanwhile (a legal
    /// hold put on, a retention extended) is missed. Its refusal is answered unchanged.
    fn delete_version_guarded(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
        guard: &mut VersionGuard<'_>,
    ) -> Result<Option<ObjectVersion>, ObjectsError>;

    /// Starts a multipart upload; returns its id.
    fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        new: &NewObject,
        now_ms: i64,
    ) -> Result<String, ObjectsError>;

    /// What an upload in progress will write when completed: its content type, metadata (an
    /// Object Lock its object takes included) and encryption; `NoSuchUpload` when there is none.
    fn upload_object(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<NewObject, ObjectsError>;

    /// Stores (or replaces) one part of an upload; returns its ETag.
    fn put_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: i64,
        body: &[u8],
        now_ms: i64,
    ) -> Result<String, ObjectsError>;

    /// The uploaded parts: (number, size, etag, created), ascending.
    fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<Vec<(i64, u64, String, i64)>, ObjectsError>;

    /// Abandons an upload and its parts.
    fn abort_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<(), ObjectsError>;

    /// Completes an upload from the listed parts (number, ETag as the client sent it), if the
    /// key's current version satisfies `condition` when the object goes in.
    fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        wanted: &[(i64, String)],
        condition: Option<&WriteCondition>,
        now_ms: i64,
    ) -> Result<ObjectVersion, ObjectsError>;

    /// The uploads in progress in a bucket (ListMultipartUploads), in key order and, within a
    /// key, in the order they were started.
    fn list_uploads(&self, q: &UploadsQuery) -> Result<UploadsPage, ObjectsError>;
}
