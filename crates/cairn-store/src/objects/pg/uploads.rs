//! Multipart uploads on PostgreSQL: starting one, storing its parts (bodies first), listing
//! them, aborting, and completing it into a version, with the SQLite store's rules.
//!
//! A part going in holds its upload's row (SHARE) and a lock on its number; completing or
//! aborting holds the row for update. So a completion or abort on another node waits for the
//! parts being stored, and finds the upload gone if another completion or abort came first.

use md5::{Digest, Md5};
use postgres::Client;

use super::{PgObjects, StoredBody, lock, new_version_id};
use crate::objects::{
    MIN_PART_SIZE, NewObject, ObjectVersion, ObjectsError, Upload, UploadsPage, UploadsQuery,
    WriteCondition, etag_of, uploads,
};
use crate::pg::backend;
use crate::string_map::{map_of, map_text};

/// A part as completion reads it: number, size, ETag, body.
type Part = (i64, u64, String, String);

/// What an upload will store, if it exists (`lock`: a locking clause, or nothing).
fn upload_row(
    c: &mut Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
    lock: &str,
) -> Result<Option<NewObject>, postgres::Error> {
    Ok(c
        .query_opt(
            &format!("SELECT content_type, metadata, sse FROM uploads WHERE upload_id = $1 AND bucket = $2 AND key = $3 {lock}"),
            &[&upload_id, &bucket, &key],
        )?
        .map(|r| NewObject {
            content_type: r.get(0),
            metadata: map_of(r.get(1)),
            sse: r.get(2),
            data_key: None,
            durable: false,
            condition: None,
        }))
}

impl PgObjects {
    pub fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        new: &NewObject,
        now_ms: i64,
    ) -> Result<String, ObjectsError> {
        let id = new_version_id();
        let meta = map_text(&new.metadata);
        let made = self.db.write_with(|c| {
            // The bucket stays while the upload goes in.
            if c.query_opt(
                "SELECT 1 FROM buckets WHERE name = $1 FOR KEY SHARE",
                &[&bucket],
            )?
            .is_none()
            {
                return Ok(false);
            }
            c.execute(
                "INSERT INTO uploads (upload_id, bucket, key, content_type, metadata, sse, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[&id, &bucket, &key, &new.content_type, &meta, &new.sse, &now_ms],
            )?;
            Ok(true)
        })?;
        if !made {
            return Err(ObjectsError::NoSuchBucket);
        }
        Ok(id)
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
        if upload_row(&mut self.db.read(), bucket, key, upload_id, "")
            .map_err(backend)?
            .is_none()
        {
            return Err(ObjectsError::NoSuchUpload);
        }
        let blob = self.bodies.put(body, None, false)?;
        let etag = etag_of(body);
        let stored = self.db.write_with(|c| {
            if upload_row(c, bucket, key, upload_id, "FOR SHARE")?.is_none() {
                return Ok(Err(ObjectsError::NoSuchUpload));
            }
            lock(c, &format!("s3 part {upload_id}/{part_number}"))?;
            let old: Option<String> = c
                .query_opt(
                    "SELECT blob FROM parts WHERE upload_id = $1 AND part_number = $2",
                    &[&upload_id, &part_number],
                )?
                .map(|r| r.get(0));
            c.execute(
                "INSERT INTO parts (upload_id, part_number, size, etag, blob, created_ms) VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (upload_id, part_number) DO UPDATE SET size = EXCLUDED.size, etag = EXCLUDED.etag,
                   blob = EXCLUDED.blob, created_ms = EXCLUDED.created_ms",
                &[&upload_id, &part_number, &(body.len() as i64), &etag, &blob, &now_ms],
            )?;
            Ok(Ok(old))
        });
        let old = match stored {
            Ok(Ok(old)) => old,
            Ok(Err(e)) => {
                self.bodies.remove(&blob);
                return Err(e);
            }
            Err(e) => {
                self.bodies.remove(&blob);
                return Err(e.into());
            }
        };
        self.remove_on_rollback(blob);
        if let Some(o) = old {
            self.remove_on_commit(o);
        }
        Ok(etag)
    }

    /// The uploaded parts: (number, size, etag, created), ascending.
    /// What an upload in progress will write.
    pub fn upload_object(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<NewObject, ObjectsError> {
        let mut c = self.db.read();
        upload_row(&mut c, bucket, key, upload_id, "")
            .map_err(backend)?
            .ok_or(ObjectsError::NoSuchUpload)
    }

    pub fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<Vec<(i64, u64, String, i64)>, ObjectsError> {
        let mut c = self.db.read();
        if upload_row(&mut c, bucket, key, upload_id, "")
            .map_err(backend)?
            .is_none()
        {
            return Err(ObjectsError::NoSuchUpload);
        }
        Ok(c.query(
            "SELECT part_number, size, etag, created_ms FROM parts WHERE upload_id = $1 ORDER BY part_number",
            &[&upload_id],
        )
        .map_err(backend)?
        .iter()
        .map(|r| (r.get(0), r.get::<_, i64>(1) as u64, r.get(2), r.get(3)))
        .collect())
    }

    pub fn abort_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(), ObjectsError> {
        let blobs = self.db.write_with(|c| {
            if upload_row(c, bucket, key, upload_id, "FOR UPDATE")?.is_none() {
                return Ok(Err(ObjectsError::NoSuchUpload));
            }
            let blobs: Vec<String> = c
                .query(
                    "DELETE FROM parts WHERE upload_id = $1 RETURNING blob",
                    &[&upload_id],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect();
            c.execute("DELETE FROM uploads WHERE upload_id = $1", &[&upload_id])?;
            Ok(Ok(blobs))
        })??;
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
        let found = self.db.write_with(|c| {
            let Some(new) = upload_row(c, bucket, key, upload_id, "FOR UPDATE")? else {
                return Ok(None);
            };
            let parts: Vec<Part> = c
                .query(
                    "SELECT part_number, size, etag, blob FROM parts WHERE upload_id = $1",
                    &[&upload_id],
                )?
                .iter()
                .map(|r| (r.get(0), r.get::<_, i64>(1) as u64, r.get(2), r.get(3)))
                .collect();
            Ok(Some((new, parts)))
        })?;
        let (mut new, parts) = found.ok_or(ObjectsError::NoSuchUpload)?;
        new.condition = condition.cloned();
        let chosen = choose(&parts, wanted)?;
        let mut md5s = Vec::with_capacity(16 * chosen.len());
        let mut in_order = Vec::with_capacity(chosen.len());
        for p in &chosen {
            md5s.extend(hex::decode(p.2.trim_matches('"')).unwrap_or_default());
            in_order.push(p.3.clone());
        }
        let blob = self.bodies.concat(&in_order, false)?;
        let size: u64 = chosen.iter().map(|p| p.1).sum();
        let etag = format!("\"{}-{}\"", hex::encode(Md5::digest(&md5s)), chosen.len());
        let v = match self.insert_version(
            bucket,
            key,
            StoredBody::object(blob.clone(), size, etag),
            &new,
            now_ms,
        ) {
            Ok(v) => v,
            Err(e) => {
                self.bodies.remove(&blob);
                return Err(e);
            }
        };
        self.db.write_with(|c| {
            c.execute("DELETE FROM parts WHERE upload_id = $1", &[&upload_id])?;
            c.execute("DELETE FROM uploads WHERE upload_id = $1", &[&upload_id])
        })?;
        for p in parts {
            self.remove_on_commit(p.3);
        }
        Ok(v)
    }

    /// The uploads in progress in a bucket, a page at a time.
    pub fn list_uploads(&self, q: &UploadsQuery) -> Result<UploadsPage, ObjectsError> {
        let mut c = self.db.read();
        if c.query_opt("SELECT 1 FROM buckets WHERE name = $1", &[&q.bucket])
            .map_err(backend)?
            .is_none()
        {
            return Err(ObjectsError::NoSuchBucket);
        }
        let rows = c
            .query(
                "SELECT key, upload_id, created_ms FROM uploads WHERE bucket = $1 AND starts_with(key, $2)",
                &[&q.bucket, &q.prefix],
            )
            .map_err(backend)?
            .iter()
            .map(|r| Upload {
                key: r.get(0),
                upload_id: r.get(1),
                initiated_ms: r.get(2),
            })
            .collect();
        Ok(uploads::page(q, rows))
    }
}

/// The stored parts a completion lists, in its order, under S3's rules: ascending numbers,
/// each part there with the ETag given, every one but the last at least the minimum size.
fn choose<'a>(parts: &'a [Part], wanted: &[(i64, String)]) -> Result<Vec<&'a Part>, ObjectsError> {
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
    Ok(chosen)
}
