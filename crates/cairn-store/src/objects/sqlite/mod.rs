//! The embedded S3 store: buckets, object versions and multipart uploads.
//!
//! Metadata lives in SQLite (`s3.db`, schema in `sql/objects.sql`); bodies are plain files under
//! `blobs/`, each written to a temporary file, fsynced and renamed into place before the row
//! that points at it is committed, so a crash never leaves a row without its body.

mod blobs;
mod configs;
mod list;
pub(in crate::objects) mod sealed;
mod versions;

use crate::db::Db;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use md5::{Digest, Md5};
use rusqlite::{Connection, OptionalExtension, params};

use crate::objects::{
    AccountConfig, Bucket, BucketConfig, ListPage, ListQuery, MIN_PART_SIZE, NewObject,
    ObjectStore, ObjectVersion, ObjectsError, Upload, UploadsPage, UploadsQuery, VersionChange,
    VersionGuard, VersionsPage, VersionsQuery, WriteCondition, etag_of, uploads,
};
pub(super) use blobs::Blobs;

const SCHEMA: &str = include_str!("../../../sql/objects.sql");

/// A version's body as stored: its blob (none for delete markers), size and ETag.
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

pub struct SqliteObjects {
    db: Db,
    blobs: Arc<Blobs>,
}

fn row_to_version(r: &rusqlite::Row<'_>) -> rusqlite::Result<ObjectVersion> {
    let meta: String = r.get(8)?;
    Ok(ObjectVersion {
        bucket: r.get(0)?,
        key: r.get(1)?,
        version_id: r.get(2)?,
        is_latest: r.get::<_, i64>(3)? != 0,
        delete_marker: r.get::<_, i64>(4)? != 0,
        size: r.get::<_, i64>(5)? as u64,
        etag: r.get(6)?,
        content_type: r.get(7)?,
        metadata: serde_json::from_str(&meta).unwrap_or_default(),
        blob: r.get(9)?,
        sse: r.get(10)?,
        created_ms: r.get(11)?,
    })
}

pub(crate) const VERSION_COLUMNS: &str = "bucket, key, version_id, is_latest, delete_marker, size, etag, content_type, metadata, blob, sse, created_ms";

impl SqliteObjects {
    pub fn open(dir: &Path) -> Result<SqliteObjects, ObjectsError> {
        std::fs::create_dir_all(dir).map_err(|e| ObjectsError::io(dir, e))?;
        let db = Db::open(&dir.join("s3.db"), SCHEMA)?;
        let blobs = Blobs::open_beside(&dir.join("blobs"), db.clone())?;
        Ok(SqliteObjects {
            db,
            blobs: Arc::new(blobs),
        })
    }

    /// Deletes a body file the current write stopped naming, once that write is committed
    /// (a rolled-back call still needs it).
    fn remove_on_commit(&self, blob: String) {
        let blobs = Arc::clone(&self.blobs);
        self.db.after_commit(move || blobs.remove(&blob));
    }

    /// Deletes a body file the current write named, if that write is rolled back. (A body
    /// packed in this database was written in the same transaction and goes with it; its id
    /// may then be given again, so it must not be let go a second time.)
    fn remove_on_rollback(&self, blob: String) {
        if Blobs::is_packed_here(&blob) {
            return;
        }
        let blobs = Arc::clone(&self.blobs);
        self.db.after_rollback(move || blobs.remove(&blob));
    }

    /// The bodies of the store whose blob directory is `blobs_dir` (`s3/blobs`), small ones
    /// read from its metadata's database beside it: for copying them out (`cairn migrate`).
    pub(in crate::objects) fn bodies_of(blobs_dir: &Path) -> Result<Blobs, ObjectsError> {
        let meta = blobs_dir.parent().unwrap_or(blobs_dir).join("s3.db");
        Blobs::open_beside(blobs_dir, Db::open(&meta, SCHEMA)?)
    }

    pub fn blob_path(&self, blob: &str) -> PathBuf {
        self.blobs.path(blob)
    }

    // ---- buckets -------------------------------------------------------------------------

    pub fn create_bucket(
        &self,
        name: &str,
        account: &str,
        region: &str,
        now_ms: i64,
    ) -> Result<Bucket, ObjectsError> {
        let c = self.db.write()?;
        if let Some(b) = bucket_row(&c, name)? {
            return Err(if b.account == account {
                ObjectsError::BucketAlreadyOwnedByYou
            } else {
                ObjectsError::BucketAlreadyExists
            });
        }
        c.prepare_cached(
            "INSERT INTO buckets (name, account, region, created_ms) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![name, account, region, now_ms])?;
        Ok(Bucket {
            name: name.to_owned(),
            account: account.to_owned(),
            region: region.to_owned(),
            created_ms: now_ms,
            policy: None,
            versioning: None,
            encryption: None,
            configs: Default::default(),
        })
    }

    pub fn bucket(&self, name: &str) -> Result<Option<Bucket>, ObjectsError> {
        configs::bucket(&self.db.read(), name)
    }

    /// The bucket's own row, without its configurations: what an object write checks (that
    /// the bucket exists, whether it is versioned) before its transaction.
    fn bucket_plain(&self, name: &str) -> Result<Option<Bucket>, ObjectsError> {
        bucket_row(&self.db.read(), name)
    }

    pub fn list_buckets(&self, account: &str) -> Result<Vec<Bucket>, ObjectsError> {
        let c = self.db.read();
        let mut st = c.prepare_cached(
            "SELECT name, account, region, created_ms, policy, versioning, encryption FROM buckets WHERE account = ?1 ORDER BY name",
        )?;
        let rows = st.query_map([account], bucket_from_row)?;
        let rows: Vec<Bucket> = rows.collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(|b| configs::with_configs(&c, b))
            .collect()
    }

    pub fn buckets_with(&self, field: BucketConfig) -> Result<Vec<Bucket>, ObjectsError> {
        let names = match field.column() {
            Some(column) => {
                let c = self.db.read();
                let mut st = c.prepare(&format!(
                    "SELECT name FROM buckets WHERE {column} IS NOT NULL ORDER BY name"
                ))?;
                let rows = st.query_map([], |r| r.get::<_, String>(0))?;
                rows.collect::<Result<Vec<_>, _>>()?
            }
            None => configs::buckets_with(&self.db.read(), field)?,
        };
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
        configs::account_config(&self.db.read(), account, field)
    }

    pub fn set_account_config(
        &self,
        account: &str,
        field: AccountConfig,
        value: Option<&str>,
    ) -> Result<(), ObjectsError> {
        configs::set_account_config(&*self.db.write()?, account, field, value)
    }

    pub fn update_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        change: &mut VersionChange<'_>,
    ) -> Result<ObjectVersion, ObjectsError> {
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        let v = configs::update_version(&tx, bucket, key, version_id, change)?;
        tx.commit()?;
        Ok(v)
    }

    pub fn delete_bucket(&self, name: &str) -> Result<(), ObjectsError> {
        let mut c = self.db.write()?;
        if bucket_row(&c, name)?.is_none() {
            return Err(ObjectsError::NoSuchBucket);
        }
        let has_objects = c
            .prepare_cached("SELECT 1 FROM objects WHERE bucket = ?1 LIMIT 1")?
            .query_row([name], |_| Ok(()))
            .optional()?
            .is_some();
        if has_objects {
            return Err(ObjectsError::BucketNotEmpty);
        }
        // As in S3, uploads still in progress do not keep a bucket: they go with it.
        let tx = c.savepoint()?;
        let parts: Vec<String> = tx
            .prepare_cached(
                "SELECT p.blob FROM parts p JOIN uploads u ON u.upload_id = p.upload_id WHERE u.bucket = ?1",
            )?
            .query_map([name], |r| r.get::<_, String>(0))?
            .collect::<Result<_, _>>()?;
        tx.prepare_cached(
            "DELETE FROM parts WHERE upload_id IN (SELECT upload_id FROM uploads WHERE bucket = ?1)",
        )?
        .execute([name])?;
        tx.prepare_cached("DELETE FROM uploads WHERE bucket = ?1")?
            .execute([name])?;
        tx.prepare_cached("DELETE FROM buckets WHERE name = ?1")?
            .execute([name])?;
        configs::forget(&tx, name)?;
        tx.commit()?;
        drop(c);
        for b in parts {
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
            return configs::set(&*self.db.write()?, name, field, value);
        };
        let n = self.db.write()?.execute(
            &format!("UPDATE buckets SET {column} = ?2 WHERE name = ?1"),
            params![name, value],
        )?;
        if n == 0 {
            return Err(ObjectsError::NoSuchBucket);
        }
        Ok(())
    }

    // ---- objects -------------------------------------------------------------------------

    fn next_seq(c: &Connection) -> Result<i64, ObjectsError> {
        c.prepare_cached("INSERT INTO counters (name, value) VALUES ('object_seq', 1) ON CONFLICT(name) DO UPDATE SET value = value + 1")?.execute([],
        )?;
        Ok(
            c.prepare_cached("SELECT value FROM counters WHERE name = 'object_seq'")?
                .query_row([], |r| r.get(0))?,
        )
    }

    /// Stores a new version of `key` with the given body (already a blob file) and returns it.
    fn insert_version(
        &self,
        bucket: &str,
        key: &str,
        body: StoredBody,
        new: &NewObject,
        now_ms: i64,
    ) -> Result<ObjectVersion, ObjectsError> {
        let mut c = self.db.write()?;
        let b = bucket_row(&c, bucket)?.ok_or(ObjectsError::NoSuchBucket)?;
        let versioned = b.versioning.as_deref() == Some("Enabled");
        let new_blob = body.blob.clone();
        let res = Self::insert_version_in(&mut c, bucket, key, versioned, body, new, now_ms);
        // Delivered log files must outlive a power loss, not only a crash: the row is synced
        // with its commit (its call's group, or this statement's own).
        let res = match res {
            Ok(v) if new.durable => c.sync_at_commit().map(|()| v).map_err(ObjectsError::from),
            other => other,
        };
        drop(c);
        let (version, replaced_blob) = res?;
        if let Some(blob) = new_blob {
            self.remove_on_rollback(blob);
        }
        if let Some(old) = replaced_blob {
            self.remove_on_commit(old);
        }
        Ok(version)
    }

    /// The version's row, in one transaction; returns it and the body file it replaced.
    fn insert_version_in(
        c: &mut Connection,
        bucket: &str,
        key: &str,
        versioned: bool,
        body: StoredBody,
        new: &NewObject,
        now_ms: i64,
    ) -> Result<(ObjectVersion, Option<String>), ObjectsError> {
        let StoredBody {
            blob,
            size,
            etag,
            delete_marker,
        } = body;
        let version_id = if versioned {
            new_version_id()
        } else {
            "null".to_owned()
        };
        let tx = c.savepoint()?;
        if let Some(condition) = &new.condition {
            // Judged under the write lock this transaction holds: no write slips in between.
            let latest = tx
                .query_row(
                    &format!("SELECT {VERSION_COLUMNS} FROM objects WHERE bucket = ?1 AND key = ?2 AND is_latest = 1"),
                    params![bucket, key],
                    row_to_version,
                )
                .optional()?;
            condition.judge(latest.as_ref())?;
        }
        let seq = Self::next_seq(&tx)?;
        let replaced_blob = if versioned {
            None
        } else {
            take_null_version(&tx, bucket, key)?
        };
        tx.prepare_cached(
            "UPDATE objects SET is_latest = 0 WHERE bucket = ?1 AND key = ?2 AND is_latest = 1",
        )?
        .execute(params![bucket, key])?;
        let meta = serde_json::to_string(&new.metadata).unwrap_or_else(|_| "{}".into());
        tx.prepare_cached("INSERT INTO objects (bucket, key, version_id, seq, is_latest, delete_marker, size, etag, content_type, metadata, blob, sse, created_ms)
             VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)")?.execute(params![bucket, key, version_id, seq, delete_marker as i64, size as i64, etag, new.content_type, meta, blob, new.sse, now_ms],
        )?;
        tx.commit()?;
        Ok((
            ObjectVersion {
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
            },
            replaced_blob,
        ))
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
            .blobs
            .write_keyed(body, new.data_key.as_deref(), new.durable)?;
        let etag = etag_of(body);
        let res = self.insert_version(
            bucket,
            key,
            StoredBody::object(blob.clone(), body.len() as u64, etag),
            new,
            now_ms,
        );
        if res.is_err() {
            self.blobs.discard(&blob);
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
        let c = self.db.read();
        if bucket_row(&c, bucket)?.is_none() {
            return Err(ObjectsError::NoSuchBucket);
        }
        let row = match version_id {
            Some(v) => c
                .query_row(
                    &format!("SELECT {VERSION_COLUMNS} FROM objects WHERE bucket = ?1 AND key = ?2 AND version_id = ?3"),
                    params![bucket, key, v],
                    row_to_version,
                )
                .optional()?,
            None => c
                .query_row(
                    &format!("SELECT {VERSION_COLUMNS} FROM objects WHERE bucket = ?1 AND key = ?2 AND is_latest = 1"),
                    params![bucket, key],
                    row_to_version,
                )
                .optional()?,
        };
        match row {
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
        let Some(blob) = &v.blob else {
            return Ok(Vec::new());
        };
        self.blobs.read(blob, range)
    }

    /// Reads the body of an object encrypted under its own data key (SSE-KMS).
    pub fn read_body_keyed(
        &self,
        v: &ObjectVersion,
        range: Option<(u64, u64)>,
        data_key: &[u8],
    ) -> Result<Vec<u8>, ObjectsError> {
        let Some(blob) = &v.blob else {
            return Ok(Vec::new());
        };
        self.blobs.read_keyed(blob, range, data_key)
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
        let mut c = self.db.write()?;
        let tx = c.savepoint()?;
        let blob = take_null_version(&tx, bucket, key)?;
        // The newest remaining version, if any, becomes the latest again.
        tx.prepare_cached("UPDATE objects SET is_latest = 1 WHERE bucket = ?1 AND key = ?2 AND seq = (SELECT max(seq) FROM objects WHERE bucket = ?1 AND key = ?2)")?.execute(params![bucket, key],
        )?;
        tx.commit()?;
        drop(c);
        if let Some(b) = blob {
            self.remove_on_commit(b);
        }
        Ok(None)
    }

    pub fn list(&self, q: &ListQuery) -> Result<ListPage, ObjectsError> {
        let c = self.db.read();
        if bucket_row(&c, &q.bucket)?.is_none() {
            return Err(ObjectsError::NoSuchBucket);
        }
        list::run(&c, q)
    }

    pub fn list_versions(&self, q: &VersionsQuery) -> Result<VersionsPage, ObjectsError> {
        let c = self.db.read();
        if bucket_row(&c, &q.bucket)?.is_none() {
            return Err(ObjectsError::NoSuchBucket);
        }
        versions::run(&c, q)
    }

    pub fn delete_version_guarded(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
        guard: &mut VersionGuard<'_>,
    ) -> Result<Option<ObjectVersion>, ObjectsError> {
        let mut c = self.db.write()?;
        if bucket_row(&c, bucket)?.is_none() {
            return Err(ObjectsError::NoSuchBucket);
        }
        let tx = c.savepoint()?;
        let gone = versions::delete(&tx, bucket, key, version_id, guard)?;
        tx.commit()?;
        drop(c);
        if let Some(b) = gone.as_ref().and_then(|v| v.blob.clone()) {
            self.remove_on_commit(b);
        }
        Ok(gone)
    }

    // ---- multipart uploads ---------------------------------------------------------------

    pub fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        new: &NewObject,
        now_ms: i64,
    ) -> Result<String, ObjectsError> {
        let c = self.db.write()?;
        if bucket_row(&c, bucket)?.is_none() {
            return Err(ObjectsError::NoSuchBucket);
        }
        let id = new_version_id();
        let meta = serde_json::to_string(&new.metadata).unwrap_or_else(|_| "{}".into());
        c.prepare_cached("INSERT INTO uploads (upload_id, bucket, key, content_type, metadata, sse, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?.execute(params![id, bucket, key, new.content_type, meta, new.sse, now_ms],
        )?;
        Ok(id)
    }

    fn upload(
        &self,
        c: &Connection,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<NewObject, ObjectsError> {
        let row = c
            .prepare_cached("SELECT content_type, metadata, sse FROM uploads WHERE upload_id = ?1 AND bucket = ?2 AND key = ?3")?.query_row(params![upload_id, bucket, key],
                |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?)),
            )
            .optional()?;
        let (content_type, meta, sse) = row.ok_or(ObjectsError::NoSuchUpload)?;
        Ok(NewObject {
            content_type,
            metadata: serde_json::from_str(&meta).unwrap_or_default(),
            sse,
            data_key: None,
            durable: false,
            condition: None,
        })
    }

    /// What an upload in progress will write.
    pub fn upload_object(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<NewObject, ObjectsError> {
        self.upload(&self.db.read(), bucket, key, upload_id)
    }

    pub fn put_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: i64,
        body: &[u8],
        now_ms: i64,
    ) -> Result<String, ObjectsError> {
        self.upload(&self.db.read(), bucket, key, upload_id)?;
        let blob = self.blobs.write(body, false)?;
        let etag = etag_of(body);
        let old: Option<String> = {
            let c = self.db.write()?;
            let old = c
                .prepare_cached("SELECT blob FROM parts WHERE upload_id = ?1 AND part_number = ?2")?
                .query_row(params![upload_id, part_number], |r| r.get(0))
                .optional()?;
            c.prepare_cached("INSERT OR REPLACE INTO parts (upload_id, part_number, size, etag, blob, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?.execute(params![upload_id, part_number, body.len() as i64, etag, blob, now_ms],
            )?;
            old
        };
        self.remove_on_rollback(blob);
        if let Some(o) = old {
            self.remove_on_commit(o);
        }
        Ok(etag)
    }

    /// The uploaded parts: (number, size, etag, created), ascending.
    pub fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<Vec<(i64, u64, String, i64)>, ObjectsError> {
        let c = self.db.read();
        self.upload(&c, bucket, key, upload_id)?;
        let mut st = c.prepare_cached("SELECT part_number, size, etag, created_ms FROM parts WHERE upload_id = ?1 ORDER BY part_number")?;
        let rows = st.query_map([upload_id], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as u64, r.get(2)?, r.get(3)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn abort_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(), ObjectsError> {
        let blobs: Vec<String> = {
            let c = self.db.write()?;
            self.upload(&c, bucket, key, upload_id)?;
            let mut st = c.prepare_cached("SELECT blob FROM parts WHERE upload_id = ?1")?;
            let b = st
                .query_map([upload_id], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            c.prepare_cached("DELETE FROM parts WHERE upload_id = ?1")?
                .execute([upload_id])?;
            c.prepare_cached("DELETE FROM uploads WHERE upload_id = ?1")?
                .execute([upload_id])?;
            b
        };
        for b in blobs {
            self.remove_on_commit(b);
        }
        Ok(())
    }

    /// Completes an upload from the listed parts (number, ETag as the client sent it).
    pub fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        wanted: &[(i64, String)],
        condition: Option<&WriteCondition>,
        now_ms: i64,
    ) -> Result<ObjectVersion, ObjectsError> {
        let (mut new, parts) = {
            let c = self.db.write()?;
            let new = self.upload(&c, bucket, key, upload_id)?;
            let mut st = c.prepare_cached(
                "SELECT part_number, size, etag, blob FROM parts WHERE upload_id = ?1",
            )?;
            let rows: Vec<(i64, u64, String, String)> = st
                .query_map([upload_id], |r| {
                    Ok((r.get(0)?, r.get::<_, i64>(1)? as u64, r.get(2)?, r.get(3)?))
                })?
                .collect::<Result<_, _>>()?;
            (new, rows)
        };
        if wanted.is_empty() {
            return Err(ObjectsError::InvalidPart);
        }
        if wanted.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(ObjectsError::InvalidPartOrder);
        }
        let mut chosen = Vec::with_capacity(wanted.len());
        for (i, (num, etag)) in wanted.iter().enumerate() {
            let p = parts
                .iter()
                .find(|p| p.0 == *num)
                .ok_or(ObjectsError::InvalidPart)?;
            if p.2.trim_matches('"') != etag.trim_matches('"') {
                return Err(ObjectsError::InvalidPart);
            }
            if i + 1 < wanted.len() && p.1 < MIN_PART_SIZE {
                return Err(ObjectsError::EntityTooSmall);
            }
            chosen.push(p);
        }
        let mut md5s = Vec::with_capacity(16 * chosen.len());
        let mut part_blobs_in_order = Vec::with_capacity(chosen.len());
        for p in &chosen {
            md5s.extend(hex::decode(p.2.trim_matches('"')).unwrap_or_default());
            part_blobs_in_order.push(p.3.clone());
        }
        let blob = self.blobs.concat(&part_blobs_in_order, false)?;
        let size: u64 = chosen.iter().map(|p| p.1).sum();
        let etag = format!("\"{}-{}\"", hex::encode(Md5::digest(&md5s)), chosen.len());
        new.condition = condition.cloned();
        let v = match self.insert_version(
            bucket,
            key,
            StoredBody::object(blob.clone(), size, etag),
            &new,
            now_ms,
        ) {
            Ok(v) => v,
            Err(e) => {
                self.blobs.remove(&blob);
                return Err(e);
            }
        };
        let part_blobs: Vec<String> = parts.iter().map(|p| p.3.clone()).collect();
        {
            let c = self.db.write()?;
            c.prepare_cached("DELETE FROM parts WHERE upload_id = ?1")?
                .execute([upload_id])?;
            c.prepare_cached("DELETE FROM uploads WHERE upload_id = ?1")?
                .execute([upload_id])?;
        }
        for b in part_blobs {
            self.remove_on_commit(b);
        }
        Ok(v)
    }

    /// The uploads in progress in a bucket, a page at a time.
    pub fn list_uploads(&self, q: &UploadsQuery) -> Result<UploadsPage, ObjectsError> {
        let c = self.db.read();
        if bucket_row(&c, &q.bucket)?.is_none() {
            return Err(ObjectsError::NoSuchBucket);
        }
        let mut st = c.prepare_cached(
            "SELECT key, upload_id, created_ms FROM uploads WHERE bucket = ?1 AND substr(key, 1, ?2) = ?3",
        )?;
        let rows = st
            .query_map(
                params![q.bucket, q.prefix.chars().count() as i64, q.prefix],
                |r| {
                    Ok(Upload {
                        key: r.get(0)?,
                        upload_id: r.get(1)?,
                        initiated_ms: r.get(2)?,
                    })
                },
            )?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(uploads::page(q, rows))
    }
}

fn bucket_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Bucket> {
    Ok(Bucket {
        name: r.get(0)?,
        account: r.get(1)?,
        region: r.get(2)?,
        created_ms: r.get(3)?,
        policy: r.get(4)?,
        versioning: r.get(5)?,
        encryption: r.get(6)?,
        configs: Default::default(),
    })
}

fn bucket_row(c: &Connection, name: &str) -> Result<Option<Bucket>, ObjectsError> {
    Ok(c.prepare_cached("SELECT name, account, region, created_ms, policy, versioning, encryption FROM buckets WHERE name = ?1")?.query_row([name],
        bucket_from_row,
    )
    .optional()?)
}

/// Removes a key's `null` version (the one written while versioning was off) and returns its
/// blob, to be deleted once the transaction commits.
fn take_null_version(
    c: &Connection,
    bucket: &str,
    key: &str,
) -> Result<Option<String>, ObjectsError> {
    let blob = c
        .prepare_cached(
            "SELECT blob FROM objects WHERE bucket = ?1 AND key = ?2 AND version_id = 'null'",
        )?
        .query_row(params![bucket, key], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten();
    c.prepare_cached("DELETE FROM objects WHERE bucket = ?1 AND key = ?2 AND version_id = 'null'")?
        .execute(params![bucket, key])?;
    Ok(blob)
}

fn new_version_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl ObjectStore for SqliteObjects {
    forward! {
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
