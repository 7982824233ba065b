//! The S3 store's metadata on PostgreSQL (schema in `sql/pg/objects_*.sql`): buckets and object
//! versions here, listing in `list.rs`, multipart uploads in `uploads.rs`. Bodies are kept
//! behind [`Bodies`] (for now the sealed files of [`Blobs`], under a directory given at open).
//!
//! As in the SQLite store, a body is written before the row that names it; one a write named
//! is removed if the call is refused (its group rolls back) or the write fails, and one a
//! write stopped naming is removed once that write commits.
//!
//! Several nodes write here at once, so what SQLite's single writer gave for free is locked
//! for: writes to one key (and to one part of an upload) are serialised by an advisory lock
//! held until the group commits, so a key never has two latest versions; a version or upload
//! going into a bucket holds the bucket's row (KEY SHARE) so that a DeleteBucket elsewhere
//! waits and then finds it not empty; completing or aborting an upload holds its row, so that
//! two of them elsewhere do not both go ahead. Nothing is cached in memory.

mod configs;
mod list;
mod uploads;
mod versions;

use std::path::Path;
use std::sync::Arc;

use postgres::{Client, Row};

use super::bodies::Bodies;
use super::sqlite::{Blobs, VERSION_COLUMNS};
use crate::objects::{
    AccountConfig, Bucket, BucketConfig, ListPage, ListQuery, NewObject, ObjectStore,
    ObjectVersion, ObjectsError, UploadsPage, UploadsQuery, VersionChange, VersionGuard,
    VersionsPage, VersionsQuery, WriteCondition, etag_of,
};
use crate::pg::{Migration, PgDb, backend};
use crate::string_map::{map_of, map_text};

const MIGRATIONS: &[Migration] = &[
    Migration {
        store: "objects",
        version: 1,
        sql: include_str!("../../../sql/pg/objects_0001.sql"),
    },
    Migration {
        store: "objects",
        version: 2,
        sql: include_str!("../../../sql/pg/objects_0002.sql"),
    },
    Migration {
        store: "objects",
        version: 3,
        sql: include_str!("../../../sql/pg/objects_0003.sql"),
    },
];

pub struct PgObjects {
    db: PgDb,
    bodies: Arc<dyn Bodies>,
}

/// A version's body as stored: its name (none for delete markers), size and ETag.
struct StoredBody {
    blob: Option<String>,
    size: u64,
    etag: String,
    delete_marker: bool,
}

impl StoredBody {
    fn object(blob: String, size: u64, etag: String) -> Self {
        StoredBody {
            blob: Some(blob),
            size,
            etag,
            delete_marker: false,
        }
    }
}

fn row_to_version(r: &Row) -> ObjectVersion {
    let meta: String = r.get(8);
    ObjectVersion {
        bucket: r.get(0),
        key: r.get(1),
        version_id: r.get(2),
        is_latest: r.get(3),
        delete_marker: r.get(4),
        size: r.get::<_, i64>(5) as u64,
        etag: r.get(6),
        content_type: r.get(7),
        metadata: map_of(&meta),
        blob: r.get(9),
        sse: r.get(10),
        created_ms: r.get(11),
    }
}

const BUCKET_COLUMNS: &str = "name, account, region, created_ms, policy, versioning, encryption";

fn row_to_bucket(r: &Row) -> Bucket {
    Bucket {
        name: r.get(0),
        account: r.get(1),
        region: r.get(2),
        created_ms: r.get(3),
        policy: r.get(4),
        versioning: r.get(5),
        encryption: r.get(6),
        configs: Default::default(),
    }
}

fn bucket_row(c: &mut Client, name: &str) -> Result<Option<Bucket>, postgres::Error> {
    Ok(c.query_opt(
        &format!("SELECT {BUCKET_COLUMNS} FROM buckets WHERE name = $1"),
        &[&name],
    )?
    .as_ref()
    .map(row_to_bucket))
}

/// Holds `what` (a key, a part) against writers on every node until the transaction ends.
/// Names that hash alike only wait for each other needlessly.
fn lock(c: &mut Client, what: &str) -> Result<(), postgres::Error> {
    c.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        &[&what],
    )?;
    Ok(())
}

/// Serialises the writes to one key (bucket names hold no `/`).
fn lock_key(c: &mut Client, bucket: &str, key: &str) -> Result<(), postgres::Error> {
    lock(c, &format!("s3 {bucket}/{key}"))
}

/// Removes a key's `null` version (the one written while versioning was off) and returns its
/// body's name, to be removed once the transaction commits.
fn take_null_version(
    c: &mut Client,
    bucket: &str,
    key: &str,
) -> Result<Option<String>, postgres::Error> {
    Ok(c.query_opt(
        "DELETE FROM objects WHERE bucket = $1 AND key = $2 AND version_id = 'null' RETURNING blob",
        &[&bucket, &key],
    )?
    .and_then(|r| r.get::<_, Option<String>>(0)))
}

fn new_version_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl PgObjects {
    /// The store in `schema` of the database at `url`, its bodies sealed files under
    /// `blobs_dir` (made if needed).
    pub fn open(url: &str, schema: &str, blobs_dir: &Path) -> Result<PgObjects, ObjectsError> {
        PgObjects::with_bodies(url, schema, Arc::new(Blobs::open(blobs_dir)?))
    }

    /// The store in `schema` of the database at `url`, its bodies in `bodies`.
    pub fn with_bodies(
        url: &str,
        schema: &str,
        bodies: Arc<dyn Bodies>,
    ) -> Result<PgObjects, ObjectsError> {
        Ok(PgObjects {
            db: PgDb::connect(url, schema, MIGRATIONS)?,
            bodies,
        })
    }

    /// Removes a body the current write stopped naming, once that write is committed (a
    /// rolled-back call still needs it).
    fn remove_on_commit(&self, blob: String) {
        let bodies = Arc::clone(&self.bodies);
        self.db.after_commit(move || bodies.remove(&blob));
    }

    /// Removes a body the current write named, if that write is rolled back.
    fn remove_on_rollback(&self, blob: String) {
        let bodies = Arc::clone(&self.bodies);
        self.db.after_rollback(move || bodies.remove(&blob));
    }

    // ---- buckets -------------------------------------------------------------------------

    pub fn create_bucket(
        &self,
        name: &str,
        account: &str,
        region: &str,
        now_ms: i64,
    ) -> Result<Bucket, ObjectsError> {
        // The owner of the name when it was taken already (by a bucket committed elsewhere
        // meanwhile too: the insert waits for it).
        let taken: Option<String> = self.db.write_with(|c| {
            let n = c.execute(
                "INSERT INTO buckets (name, account, region, created_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
                &[&name, &account, &region, &now_ms],
            )?;
            if n > 0 {
                return Ok(None);
            }
            Ok(Some(
                bucket_row(c, name)?.map(|b| b.account).unwrap_or_default(),
            ))
        })?;
        match taken {
            Some(owner) if owner == account => Err(ObjectsError::BucketAlreadyOwnedByYou),
            Some(_) => Err(ObjectsError::BucketAlreadyExists),
            None => Ok(Bucket {
                name: name.to_owned(),
                account: account.to_owned(),
                region: region.to_owned(),
                created_ms: now_ms,
                policy: None,
                versioning: None,
                encryption: None,
                configs: Default::default(),
            }),
        }
    }

    pub fn bucket(&self, name: &str) -> Result<Option<Bucket>, ObjectsError> {
        Ok(configs::bucket(&mut self.db.read(), name).map_err(backend)?)
    }

    /// The bucket's own row, without its configurations: what an object write checks (that
    /// the bucket exists, whether it is versioned) before its transaction.
    fn bucket_plain(&self, name: &str) -> Result<Option<Bucket>, ObjectsError> {
        Ok(bucket_row(&mut self.db.read(), name).map_err(backend)?)
    }

    pub fn list_buckets(&self, account: &str) -> Result<Vec<Bucket>, ObjectsError> {
        let mut c = self.db.read();
        let mut buckets: Vec<Bucket> = c
            .query(
                &format!("SELECT {BUCKET_COLUMNS} FROM buckets WHERE account = $1 ORDER BY name"),
                &[&account],
            )
            .map_err(backend)?
            .iter()
            .map(row_to_bucket)
            .collect();
        for b in &mut buckets {
            b.configs = configs::load(&mut c, &b.name).map_err(backend)?;
        }
        Ok(buckets)
    }

    pub fn buckets_with(&self, field: BucketConfig) -> Result<Vec<Bucket>, ObjectsError> {
        let names = configs::buckets_with(&mut self.db.read(), field).map_err(backend)?;
        Ok(names
            .iter()
            .map(|n| self.bucket(n))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect())
    }

    pub fn account_config(
        &self,
        account: &str,
        field: AccountConfig,
    ) -> Result<Option<String>, ObjectsError> {
        Ok(configs::account_config(&mut self.db.read(), account, field).map_err(backend)?)
    }

    pub fn set_account_config(
        &self,
        account: &str,
        field: AccountConfig,
        value: Option<&str>,
    ) -> Result<(), ObjectsError> {
        Ok(self
            .db
            .write_with(|c| configs::set_account_config(c, account, field, value))?)
    }

    pub fn update_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        change: &mut VersionChange<'_>,
    ) -> Result<ObjectVersion, ObjectsError> {
        if self.bucket_plain(bucket)?.is_none() {
            return Err(ObjectsError::NoSuchBucket);
        }
        self.db
            .write_with(|c| configs::update_version(c, bucket, key, version_id, change))?
    }

    pub fn delete_bucket(&self, name: &str) -> Result<(), ObjectsError> {
        let done = self.db.write_with(|c| {
            // Waits for versions and uploads going in elsewhere (they hold the row), then
            // sees them.
            if c.query_opt("SELECT 1 FROM buckets WHERE name = $1 FOR UPDATE", &[&name])?
                .is_none()
            {
                return Ok(Err(ObjectsError::NoSuchBucket));
            }
            let busy: bool = c
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM objects WHERE bucket = $1)",
                    &[&name],
                )?
                .get(0);
            if busy {
                return Ok(Err(ObjectsError::BucketNotEmpty));
            }
            // As in S3, uploads still in progress do not keep a bucket: they go with it.
            let parts: Vec<String> = c
                .query(
                    "DELETE FROM parts WHERE upload_id IN (SELECT upload_id FROM uploads WHERE bucket = $1) RETURNING blob",
                    &[&name],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect();
            c.execute("DELETE FROM uploads WHERE bucket = $1", &[&name])?;
            c.execute("DELETE FROM buckets WHERE name = $1", &[&name])?;
            configs::forget(c, name)?;
            Ok(Ok(parts))
        })??;
        for b in done {
            self.remove_on_commit(b);
        }
        Ok(())
    }

    /// Sets (or with `None` removes) one of the bucket's stored configurations.
    pub fn set_bucket_config(
        &self,
        name: &str,
        field: BucketConfig,
        value: Option<&str>,
    ) -> Result<(), ObjectsError> {
        let Some(column) = field.column() else {
            return match self
                .db
                .write_with(|c| configs::set(c, name, field, value))?
            {
                true => Ok(()),
                false => Err(ObjectsError::NoSuchBucket),
            };
        };
        let n = self.db.write_with(|c| {
            c.execute(
                &format!("UPDATE buckets SET {column} = $2 WHERE name = $1"),
                &[&name, &value],
            )
        })?;
        if n == 0 {
            return Err(ObjectsError::NoSuchBucket);
        }
        Ok(())
    }

    // ---- objects -------------------------------------------------------------------------

    /// Stores a new version of `key` with the given body (already stored) and returns it.
    /// Every commit on PostgreSQL is durable, so `new.durable` asks nothing more here.
    fn insert_version(
        &self,
        bucket: &str,
        key: &str,
        body: StoredBody,
        new: &NewObject,
        now_ms: i64,
    ) -> Result<ObjectVersion, ObjectsError> {
        let StoredBody {
            blob,
            size,
            etag,
            delete_marker,
        } = body;
        let meta = map_text(&new.metadata);
        let written = self.db.write_with(|c| {
            let Some(b) = c.query_opt(
                "SELECT versioning FROM buckets WHERE name = $1 FOR KEY SHARE",
                &[&bucket],
            )?
            else {
                return Ok(Ok(None));
            };
            let versioned = b.get::<_, Option<&str>>(0) == Some("Enabled");
            lock_key(c, bucket, key)?;
            if let Some(condition) = &new.condition {
                // Judged under the key's lock, held until the write commits: a write elsewhere
                // cannot slip between the check and this one.
                let latest = c
                    .query_opt(
                        &format!("SELECT {VERSION_COLUMNS} FROM objects WHERE bucket = $1 AND key = $2 AND is_latest"),
                        &[&bucket, &key],
                    )?
                    .as_ref()
                    .map(row_to_version);
                if let Err(e) = condition.judge(latest.as_ref()) {
                    return Ok(Err(e));
                }
            }
            let (version_id, replaced) = if versioned {
                (new_version_id(), None)
            } else {
                ("null".to_owned(), take_null_version(c, bucket, key)?)
            };
            c.execute(
                "UPDATE objects SET is_latest = FALSE WHERE bucket = $1 AND key = $2 AND is_latest",
                &[&bucket, &key],
            )?;
            c.execute(
                "INSERT INTO objects (bucket, key, version_id, seq, is_latest, delete_marker, size, etag, content_type, metadata, blob, sse, created_ms)
                 VALUES ($1, $2, $3, nextval('object_seq'), TRUE, $4, $5, $6, $7, $8, $9, $10, $11)",
                &[&bucket, &key, &version_id, &delete_marker, &(size as i64), &etag, &new.content_type, &meta, &blob, &new.sse, &now_ms],
            )?;
            Ok(Ok(Some((version_id, replaced))))
        })??;
        let (version_id, replaced) = written.ok_or(ObjectsError::NoSuchBucket)?;
        if let Some(b) = &blob {
            self.remove_on_rollback(b.clone());
        }
        if let Some(old) = replaced {
            self.remove_on_commit(old);
        }
        Ok(ObjectVersion {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            version_id,
            is_latest: true,
            delete_marker,
            size,
            etag,
            content_type: new.content_type.clone(),
            metadata: new.metadata.clone(),
            blob,
            sse: new.sse.clone(),
            created_ms: now_ms,
        })
    }

    pub fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: &[u8],
        new: &NewObject,
        now_ms: i64,
    ) -> Result<ObjectVersion, ObjectsError> {
        if self.bucket_plain(bucket)?.is_none() {
            return Err(ObjectsError::NoSuchBucket);
        }
        let blob = self
            .bodies
            .put(body, new.data_key.as_deref(), new.durable)?;
        let etag = etag_of(body);
        let res = self.insert_version(
            bucket,
            key,
            StoredBody::object(blob.clone(), body.len() as u64, etag),
            new,
            now_ms,
        );
        if res.is_err() {
            self.bodies.remove(&blob);
        }
        res
    }

    /// The latest version of a key (or a given version). Delete markers count as absent.
    pub fn head_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<ObjectVersion, ObjectsError> {
        let mut c = self.db.read();
        if bucket_row(&mut c, bucket).map_err(backend)?.is_none() {
            return Err(ObjectsError::NoSuchBucket);
        }
        let row = match version_id {
            Some(v) => c.query_opt(
                &format!("SELECT {VERSION_COLUMNS} FROM objects WHERE bucket = $1 AND key = $2 AND version_id = $3"),
                &[&bucket, &key, &v],
            ),
            None => c.query_opt(
                &format!("SELECT {VERSION_COLUMNS} FROM objects WHERE bucket = $1 AND key = $2 AND is_latest"),
                &[&bucket, &key],
            ),
        }
        .map_err(backend)?;
        match row.as_ref().map(row_to_version) {
            Some(v) if !v.delete_marker => Ok(v),
            _ if version_id.is_some() => Err(ObjectsError::NoSuchVersion),
            _ => Err(ObjectsError::NoSuchKey),
        }
    }

    /// Reads an object's body, or the inclusive byte range of it.
    pub fn read_body(
        &self,
        v: &ObjectVersion,
        range: Option<(u64, u64)>,
    ) -> Result<Vec<u8>, ObjectsError> {
        match &v.blob {
            Some(blob) => self.bodies.get(blob, range, None),
            None => Ok(Vec::new()),
        }
    }

    /// Reads the body of an object encrypted under its own data key (SSE-KMS).
    pub fn read_body_keyed(
        &self,
        v: &ObjectVersion,
        range: Option<(u64, u64)>,
        data_key: &[u8],
    ) -> Result<Vec<u8>, ObjectsError> {
        match &v.blob {
            Some(blob) => self.bodies.get(blob, range, Some(data_key)),
            None => Ok(Vec::new()),
        }
    }

    /// Deletes a key: the null version when versioning is off, a delete marker when it is on.
    /// Deleting a key that does not exist succeeds, as in S3.
    pub fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        now_ms: i64,
    ) -> Result<Option<ObjectVersion>, ObjectsError> {
        let b = self
            .bucket_plain(bucket)?
            .ok_or(ObjectsError::NoSuchBucket)?;
        // Versioning on or suspended: a delete marker (`null` while suspended, replacing the
        // null version), as S3 keeps the versions written before.
        if b.versioning.is_some() {
            let marker = self.insert_version(
                bucket,
                key,
                StoredBody {
                    blob: None,
                    size: 0,
                    etag: String::new(),
                    delete_marker: true,
                },
                &NewObject::default(),
                now_ms,
            )?;
            return Ok(Some(marker));
        }
        let blob = self.db.write_with(|c| {
            lock_key(c, bucket, key)?;
            let blob = take_null_version(c, bucket, key)?;
            // The newest remaining version, if any, becomes the latest again.
            c.execute(
                "UPDATE objects SET is_latest = TRUE WHERE bucket = $1 AND key = $2
                   AND seq = (SELECT max(seq) FROM objects WHERE bucket = $1 AND key = $2)",
                &[&bucket, &key],
            )?;
            Ok(blob)
        })?;
        if let Some(b) = blob {
            self.remove_on_commit(b);
        }
        Ok(None)
    }

    pub fn list(&self, q: &ListQuery) -> Result<ListPage, ObjectsError> {
        let mut c = self.db.read();
        if bucket_row(&mut c, &q.bucket).map_err(backend)?.is_none() {
            return Err(ObjectsError::NoSuchBucket);
        }
        Ok(list::run(&mut c, q).map_err(backend)?)
    }

    pub fn list_versions(&self, q: &VersionsQuery) -> Result<VersionsPage, ObjectsError> {
        let mut c = self.db.read();
        if bucket_row(&mut c, &q.bucket).map_err(backend)?.is_none() {
            return Err(ObjectsError::NoSuchBucket);
        }
        versions::run(&mut c, q)
    }

    pub fn delete_version_guarded(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
        guard: &mut VersionGuard<'_>,
    ) -> Result<Option<ObjectVersion>, ObjectsError> {
        if self.bucket_plain(bucket)?.is_none() {
            return Err(ObjectsError::NoSuchBucket);
        }
        let gone = self
            .db
            .write_with(|c| versions::delete(c, bucket, key, version_id, guard))??;
        if let Some(b) = gone.as_ref().and_then(|v| v.blob.clone()) {
            self.remove_on_commit(b);
        }
        Ok(gone)
    }
}

impl ObjectStore for PgObjects {
    forward! {
        blocking:
        fn create_bucket(&self, name: &str, account: &str, region: &str, now_ms: i64) -> Result<Bucket, ObjectsError>;
        fn bucket(&self, name: &str) -> Result<Option<Bucket>, ObjectsError>;
        fn list_buckets(&self, account: &str) -> Result<Vec<Bucket>, ObjectsError>;
        fn delete_bucket(&self, name: &str) -> Result<(), ObjectsError>;
        fn set_bucket_config(&self, name: &str, field: BucketConfig, value: Option<&str>) -> Result<(), ObjectsError>;
        fn buckets_with(&self, field: BucketConfig) -> Result<Vec<Bucket>, ObjectsError>;
        fn account_config(&self, account: &str, field: AccountConfig) -> Result<Option<String>, ObjectsError>;
        fn set_account_config(&self, account: &str, field: AccountConfig, value: Option<&str>) -> Result<(), ObjectsError>;
        fn update_version(&self, bucket: &str, key: &str, version_id: Option<&str>, change: &mut VersionChange<'_>) -> Result<ObjectVersion, ObjectsError>;
        fn put_object(&self, bucket: &str, key: &str, body: &[u8], new: &NewObject, now_ms: i64) -> Result<ObjectVersion, ObjectsError>;
        fn head_object(&self, bucket: &str, key: &str, version_id: Option<&str>) -> Result<ObjectVersion, ObjectsError>;
        fn read_body(&self, v: &ObjectVersion, range: Option<(u64, u64)>) -> Result<Vec<u8>, ObjectsError>;
        fn read_body_keyed(&self, v: &ObjectVersion, range: Option<(u64, u64)>, data_key: &[u8]) -> Result<Vec<u8>, ObjectsError>;
        fn delete_object(&self, bucket: &str, key: &str, now_ms: i64) -> Result<Option<ObjectVersion>, ObjectsError>;
        fn list(&self, q: &ListQuery) -> Result<ListPage, ObjectsError>;
        fn list_versions(&self, q: &VersionsQuery) -> Result<VersionsPage, ObjectsError>;
        fn delete_version_guarded(&self, bucket: &str, key: &str, version_id: &str, guard: &mut VersionGuard<'_>) -> Result<Option<ObjectVersion>, ObjectsError>;
        fn create_upload(&self, bucket: &str, key: &str, new: &NewObject, now_ms: i64) -> Result<String, ObjectsError>;
        fn upload_object(&self, bucket: &str, key: &str, upload_id: &str) -> Result<NewObject, ObjectsError>;
        fn put_part(&self, bucket: &str, key: &str, upload_id: &str, part_number: i64, body: &[u8], now_ms: i64) -> Result<String, ObjectsError>;
        fn list_parts(&self, bucket: &str, key: &str, upload_id: &str) -> Result<Vec<(i64, u64, String, i64)>, ObjectsError>;
        fn abort_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<(), ObjectsError>;
        fn complete_upload(&self, bucket: &str, key: &str, upload_id: &str, wanted: &[(i64, String)], condition: Option<&WriteCondition>, now_ms: i64) -> Result<ObjectVersion, ObjectsError>;
        fn list_uploads(&self, q: &UploadsQuery) -> Result<UploadsPage, ObjectsError>;
    }
}

#[cfg(test)]
mod tests;
