//! The SQLite store's bucket configurations kept by name, accounts' S3 settings, and changes
//! to a stored version's metadata.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, params};

use crate::string_map::map_text;

use super::{VERSION_COLUMNS, bucket_row, row_to_version};
use crate::objects::{
    AccountConfig, Bucket, BucketConfig, ObjectVersion, ObjectsError, VersionChange,
};

/// A bucket's configurations kept by name.
pub(super) fn load(c: &Connection, bucket: &str) -> Result<BTreeMap<String, String>, ObjectsError> {
    let mut st = c.prepare_cached("SELECT name, document FROM bucket_configs WHERE bucket = ?1")?;
    let rows = st.query_map([bucket], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Sets or removes a configuration kept by name; the bucket must exist.
pub(super) fn set(
    c: &Connection,
    bucket: &str,
    field: BucketConfig,
    value: Option<&str>,
) -> Result<(), ObjectsError> {
    if bucket_row(c, bucket)?.is_none() {
        return Err(ObjectsError::NoSuchBucket);
    }
    match value {
        Some(v) => c
            .prepare_cached(
                "INSERT INTO bucket_configs (bucket, name, document) VALUES (?1, ?2, ?3)
                 ON CONFLICT (bucket, name) DO UPDATE SET document = excluded.document",
            )?
            .execute(params![bucket, field.name(), v])?,
        None => c
            .prepare_cached("DELETE FROM bucket_configs WHERE bucket = ?1 AND name = ?2")?
            .execute(params![bucket, field.name()])?,
    };
    Ok(())
}

/// Forgets a deleted bucket's configurations.
pub(super) fn forget(c: &Connection, bucket: &str) -> Result<(), ObjectsError> {
    c.prepare_cached("DELETE FROM bucket_configs WHERE bucket = ?1")?
        .execute([bucket])?;
    Ok(())
}

/// The names of the buckets with a configuration kept by name.
pub(super) fn buckets_with(
    c: &Connection,
    field: BucketConfig,
) -> Result<Vec<String>, ObjectsError> {
    let mut st =
        c.prepare_cached("SELECT bucket FROM bucket_configs WHERE name = ?1 ORDER BY bucket")?;
    let rows = st.query_map([field.name()], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn account_config(
    c: &Connection,
    account: &str,
    field: AccountConfig,
) -> Result<Option<String>, ObjectsError> {
    Ok(
        c.prepare_cached("SELECT document FROM account_configs WHERE account = ?1 AND name = ?2")?
            .query_row(params![account, field.name()], |r| r.get(0))
            .optional()?,
    )
}

pub(super) fn set_account_config(
    c: &Connection,
    account: &str,
    field: AccountConfig,
    value: Option<&str>,
) -> Result<(), ObjectsError> {
    match value {
        Some(v) => c
            .prepare_cached(
                "INSERT INTO account_configs (account, name, document) VALUES (?1, ?2, ?3)
                 ON CONFLICT (account, name) DO UPDATE SET document = excluded.document",
            )?
            .execute(params![account, field.name(), v])?,
        None => c
            .prepare_cached("DELETE FROM account_configs WHERE account = ?1 AND name = ?2")?
            .execute(params![account, field.name()])?,
    };
    Ok(())
}

/// Reads a version (the latest when none is named), lets `change` decide on it and keeps its
/// new metadata, all in the caller's transaction.
pub(super) fn update_version(
    c: &Connection,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    change: &mut VersionChange<'_>,
) -> Result<ObjectVersion, ObjectsError> {
    if bucket_row(c, bucket)?.is_none() {
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
    let mut v = match row {
        Some(v) if !v.delete_marker => v,
        _ if version_id.is_some() => return Err(ObjectsError::NoSuchVersion),
        _ => return Err(ObjectsError::NoSuchKey),
    };
    change(&mut v)?;
    let meta = map_text(&v.metadata);
    c.prepare_cached(
        "UPDATE objects SET metadata = ?4 WHERE bucket = ?1 AND key = ?2 AND version_id = ?3",
    )?
    .execute(params![bucket, key, v.version_id, meta])?;
    Ok(v)
}

/// A bucket with its configurations, in one statement (every S3 call reads its bucket, often
/// several times).
pub(super) fn bucket(c: &Connection, name: &str) -> Result<Option<Bucket>, ObjectsError> {
    let row = c
        .prepare_cached(
            "SELECT name, account, region, created_ms, policy, versioning, encryption,
                    (SELECT json_group_object(name, document) FROM bucket_configs WHERE bucket = ?1)
             FROM buckets WHERE name = ?1",
        )?
        .query_row([name], |r| {
            let b = super::bucket_from_row(r)?;
            let configs: Option<String> = r.get(7)?;
            Ok((b, configs))
        })
        .optional()?;
    Ok(row.map(|(mut b, configs)| {
        b.configs = configs
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default();
        b
    }))
}

/// A bucket with its configurations kept by name.
pub(super) fn with_configs(c: &Connection, mut b: Bucket) -> Result<Bucket, ObjectsError> {
    b.configs = load(c, &b.name)?;
    Ok(b)
}
