//! The PostgreSQL store's bucket configurations kept by name, accounts' S3 settings, and
//! changes to a stored version's metadata (under the key's lock, as every write of a key).

use std::collections::BTreeMap;

use postgres::Client;

use super::{BUCKET_COLUMNS, VERSION_COLUMNS, lock_key, row_to_bucket, row_to_version};
use crate::objects::{
    AccountConfig, Bucket, BucketConfig, ObjectVersion, ObjectsError, VersionChange,
};
use crate::string_map::map_text;

/// A bucket with its configurations, in one statement (every S3 call reads its bucket, often
/// several times).
pub(super) fn bucket(c: &mut Client, name: &str) -> Result<Option<Bucket>, postgres::Error> {
    let Some(row) = c.query_opt(
        &format!(
            "SELECT {BUCKET_COLUMNS},
                    (SELECT json_object_agg(name, document)::text FROM bucket_configs WHERE bucket = $1)
             FROM buckets WHERE name = $1"
        ),
        &[&name],
    )?
    else {
        return Ok(None);
    };
    let mut b = row_to_bucket(&row);
    let configs: Option<String> = row.get(7);
    b.configs = configs
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default();
    Ok(Some(b))
}

/// A bucket's configurations kept by name.
pub(super) fn load(
    c: &mut Client,
    bucket: &str,
) -> Result<BTreeMap<String, String>, postgres::Error> {
    Ok(c.query(
        "SELECT name, document FROM bucket_configs WHERE bucket = $1",
        &[&bucket],
    )?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect())
}

/// Sets or removes a configuration kept by name; whether the bucket exists.
pub(super) fn set(
    c: &mut Client,
    bucket: &str,
    field: BucketConfig,
    value: Option<&str>,
) -> Result<bool, postgres::Error> {
    // Holds the bucket against its deletion meanwhile.
    if c.query_opt(
        "SELECT 1 FROM buckets WHERE name = $1 FOR SHARE",
        &[&bucket],
    )?
    .is_none()
    {
        return Ok(false);
    }
    match value {
        Some(v) => c.execute(
            "INSERT INTO bucket_configs (bucket, name, document) VALUES ($1, $2, $3)
             ON CONFLICT (bucket, name) DO UPDATE SET document = excluded.document",
            &[&bucket, &field.name(), &v],
        )?,
        None => c.execute(
            "DELETE FROM bucket_configs WHERE bucket = $1 AND name = $2",
            &[&bucket, &field.name()],
        )?,
    };
    Ok(true)
}

/// Forgets a deleted bucket's configurations.
pub(super) fn forget(c: &mut Client, bucket: &str) -> Result<(), postgres::Error> {
    c.execute("DELETE FROM bucket_configs WHERE bucket = $1", &[&bucket])?;
    Ok(())
}

/// The names of the buckets with a configuration (kept by name or in a column).
pub(super) fn buckets_with(
    c: &mut Client,
    field: BucketConfig,
) -> Result<Vec<String>, postgres::Error> {
    let rows = match field.column() {
        Some(column) => c.query(
            &format!("SELECT name FROM buckets WHERE {column} IS NOT NULL ORDER BY name"),
            &[],
        )?,
        None => c.query(
            "SELECT bucket FROM bucket_configs WHERE name = $1 ORDER BY bucket",
            &[&field.name()],
        )?,
    };
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

pub(super) fn account_config(
    c: &mut Client,
    account: &str,
    field: AccountConfig,
) -> Result<Option<String>, postgres::Error> {
    Ok(c.query_opt(
        "SELECT document FROM account_configs WHERE account = $1 AND name = $2",
        &[&account, &field.name()],
    )?
    .map(|r| r.get(0)))
}

pub(super) fn set_account_config(
    c: &mut Client,
    account: &str,
    field: AccountConfig,
    value: Option<&str>,
) -> Result<(), postgres::Error> {
    match value {
        Some(v) => c.execute(
            "INSERT INTO account_configs (account, name, document) VALUES ($1, $2, $3)
             ON CONFLICT (account, name) DO UPDATE SET document = excluded.document",
            &[&account, &field.name(), &v],
        )?,
        None => c.execute(
            "DELETE FROM account_configs WHERE account = $1 AND name = $2",
            &[&account, &field.name()],
        )?,
    };
    Ok(())
}

/// Reads a version under its key's lock (the latest when none is named), lets `change` decide
/// on it and keeps its new metadata.
pub(super) fn update_version(
    c: &mut Client,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    change: &mut VersionChange<'_>,
) -> Result<Result<ObjectVersion, ObjectsError>, postgres::Error> {
    lock_key(c, bucket, key)?;
    let row = match version_id {
        Some(v) => c.query_opt(
            &format!("SELECT {VERSION_COLUMNS} FROM objects WHERE bucket = $1 AND key = $2 AND version_id = $3"),
            &[&bucket, &key, &v],
        )?,
        None => c.query_opt(
            &format!("SELECT {VERSION_COLUMNS} FROM objects WHERE bucket = $1 AND key = $2 AND is_latest"),
            &[&bucket, &key],
        )?,
    };
    let mut v = match row.as_ref().map(row_to_version) {
        Some(v) if !v.delete_marker => v,
        _ if version_id.is_some() => return Ok(Err(ObjectsError::NoSuchVersion)),
        _ => return Ok(Err(ObjectsError::NoSuchKey)),
    };
    if let Err(e) = change(&mut v) {
        return Ok(Err(e));
    }
    c.execute(
        "UPDATE objects SET metadata = $4 WHERE bucket = $1 AND key = $2 AND version_id = $3",
        &[&bucket, &key, &v.version_id, &map_text(&v.metadata)],
    )?;
    Ok(Ok(v))
}
