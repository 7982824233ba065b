//! Where an event data store's files live: a folder under the data directory (the default), or
//! a prefix of a bucket on any S3-compatible endpoint (`[lake] bucket` in the configuration),
//! where DuckDB, Trino, Spark and Athena can read them in place.
//!
//! Both hold the same names (`_committed.json`, `_sealed.json`, `eventdate=YYYY-MM-DD/<file>`)
//! under the same exactly-once rules (`files.rs`). What differs is how a file becomes visible:
//! in a folder, a synced temporary file is renamed (and the folder synced); in a bucket, a
//! temporary file in a local staging folder is uploaded, and S3 shows an object whole or not at
//! all. A bucket is reached through `object_store`, driven from the SQL engine's runtime (the
//! lake's own calls are blocking; queries read the bucket directly through DataFusion).

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::LakeError;

pub(crate) const TEMP_SUFFIX: &str = ".tmp";
/// Files larger than this are uploaded in parts (S3 takes at most 5 GiB in one PUT).
const MULTIPART_FROM: u64 = 64 << 20;
const PART_SIZE: usize = 16 << 20;

/// A bucket on an S3-compatible endpoint holding event data stores' files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketConfig {
    /// `http://host:port` or `https://host[:port]`.
    pub endpoint: String,
    pub bucket: String,
    /// Key prefix under which each store has its folder (`<prefix>/<store id>/…`); may be empty.
    pub prefix: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// For `https://` endpoints with a private CA: its certificates (PEM), trusted besides the
    /// system's.
    pub ca_pem: Option<Vec<u8>>,
}

/// A bucket, connected: the client, and where files wait before they are uploaded.
pub struct Bucket {
    store: Arc<dyn ObjectStore>,
    /// `s3://<bucket>`, the URL the SQL engine reads it under.
    url: String,
    prefix: String,
    staging: PathBuf,
    runtime: tokio::runtime::Handle,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bucket({}/{})", self.url, self.prefix)
    }
}

impl Bucket {
    /// A client for `config`'s bucket; files wait in `staging` until uploaded; calls run on
    /// `runtime` (the SQL engine's).
    pub fn connect(
        config: &BucketConfig,
        staging: PathBuf,
        runtime: tokio::runtime::Handle,
    ) -> Result<Bucket, LakeError> {
        let endpoint = cairn_store::objects::S3Endpoint {
            endpoint: &config.endpoint,
            bucket: &config.bucket,
            region: &config.region,
            access_key_id: &config.access_key_id,
            secret_access_key: &config.secret_access_key,
            ca_pem: config.ca_pem.as_deref(),
        };
        let store = endpoint
            .client()
            .map_err(|e| LakeError::Invalid(format!("lake bucket: {e}")))?;
        Ok(Bucket::over(
            Arc::new(store),
            &config.bucket,
            &config.prefix,
            staging,
            runtime,
        ))
    }

    /// A bucket reached through `store` (tests hand an in-memory one).
    pub fn over(
        store: Arc<dyn ObjectStore>,
        bucket: &str,
        prefix: &str,
        staging: PathBuf,
        runtime: tokio::runtime::Handle,
    ) -> Bucket {
        Bucket {
            store,
            url: format!("s3://{bucket}"),
            prefix: prefix.trim_matches('/').to_string(),
            staging,
            runtime,
        }
    }

    /// The folder of store `id` in this bucket.
    pub fn place(self: &Arc<Self>, id: &str) -> Place {
        let prefix = if self.prefix.is_empty() {
            id.to_string()
        } else {
            format!("{}/{id}", self.prefix)
        };
        Place::Bucket {
            bucket: self.clone(),
            prefix,
        }
    }

    /// The client and the URL the SQL engine registers it under.
    pub fn object_store(&self) -> (String, Arc<dyn ObjectStore>) {
        (self.url.clone(), self.store.clone())
    }

    /// Runs `work` on the engine's runtime and waits for it, from any thread (also one of
    /// another runtime's, where blocking on a future directly is not allowed).
    fn wait<T, F>(&self, work: F) -> Result<T, LakeError>
    where
        T: Send + 'static,
        F: std::future::Future<Output = Result<T, object_store::Error>> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.runtime.spawn(async move {
            let _ = tx.send(work.await);
        });
        rx.recv()
            .map_err(|_| LakeError::Bucket("the lake's runtime stopped".into()))?
            .map_err(|e| LakeError::Bucket(with_causes(&e)))
    }
}

/// A file found in a place, named relative to the store's folder (`eventdate=…/<file>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub name: String,
    pub modified: Option<SystemTime>,
    pub size: u64,
}

/// One store's folder: on the local disk or in a bucket.
#[derive(Debug, Clone)]
pub enum Place {
    Folder(PathBuf),
    Bucket { bucket: Arc<Bucket>, prefix: String },
}

impl Place {
    /// Creates the folder (a bucket has nothing to create).
    pub(crate) fn create(&self) -> Result<(), LakeError> {
        match self {
            Place::Folder(root) => Ok(fs::create_dir_all(root)?),
            Place::Bucket { .. } => Ok(()),
        }
    }

    fn key(prefix: &str, name: &str) -> ObjectPath {
        ObjectPath::from(format!("{prefix}/{name}"))
    }

    /// A small file's content (`_committed.json`), or None when it does not exist.
    pub(crate) fn read(&self, name: &str) -> Result<Option<Vec<u8>>, LakeError> {
        match self {
            Place::Folder(root) => match fs::read(root.join(name)) {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e.into()),
            },
            Place::Bucket { bucket, prefix } => {
                let store = bucket.store.clone();
                let key = Place::key(prefix, name);
                let got = bucket.wait(async move {
                    match store.get(&key).await {
                        Ok(r) => Ok(Some(r.bytes().await?)),
                        Err(object_store::Error::NotFound { .. }) => Ok(None),
                        Err(e) => Err(e),
                    }
                })?;
                Ok(got.map(|b| b.to_vec()))
            }
        }
    }

    /// A whole file's content, to read it as Parquet (compaction).
    pub(crate) fn read_file(&self, name: &str) -> Result<Bytes, LakeError> {
        match self.read(name)? {
            Some(b) => Ok(Bytes::from(b)),
            None => Err(LakeError::Io(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{name} is gone"),
            ))),
        }
    }

    /// Writes `name` so that a crash leaves either the old or the new content.
    pub(crate) fn write_atomically(&self, name: &str, bytes: &[u8]) -> Result<(), LakeError> {
        match self {
            Place::Folder(root) => {
                let temp = root.join(format!("{name}{TEMP_SUFFIX}"));
                let mut f = File::create(&temp)?;
                f.write_all(bytes)?;
                f.sync_all()?;
                fs::rename(&temp, root.join(name))?;
                sync_dir(root)
            }
            Place::Bucket { bucket, prefix } => {
                let store = bucket.store.clone();
                let key = Place::key(prefix, name);
                let payload = PutPayload::from(bytes.to_vec());
                bucket.wait(async move { store.put(&key, payload).await.map(|_| ()) })
            }
        }
    }

    /// Every file in the store's day folders.
    pub(crate) fn list(&self) -> Result<Vec<Listed>, LakeError> {
        match self {
            Place::Folder(root) => {
                let mut out = Vec::new();
                for entry in fs::read_dir(root)? {
                    let entry = entry?;
                    let day = entry.file_name();
                    let Some(day) = day.to_str().filter(|n| n.starts_with("eventdate=")) else {
                        continue;
                    };
                    if !entry.file_type()?.is_dir() {
                        continue;
                    }
                    for file in fs::read_dir(entry.path())? {
                        let file = file?;
                        let Ok(name) = file.file_name().into_string() else {
                            continue;
                        };
                        let meta = file.metadata()?;
                        out.push(Listed {
                            name: format!("{day}/{name}"),
                            modified: meta.modified().ok(),
                            size: meta.len(),
                        });
                    }
                }
                Ok(out)
            }
            Place::Bucket { bucket, prefix } => {
                let store = bucket.store.clone();
                let under = ObjectPath::from(prefix.as_str());
                let metas: Vec<object_store::ObjectMeta> =
                    bucket.wait(async move { store.list(Some(&under)).try_collect().await })?;
                let lead = format!("{prefix}/");
                Ok(metas
                    .into_iter()
                    .filter_map(|m| {
                        let name = m.location.as_ref().strip_prefix(&lead)?.to_string();
                        // Only files of day folders (not `_committed.json`).
                        (name.starts_with("eventdate=") && name.matches('/').count() == 1).then(
                            || Listed {
                                name,
                                modified: Some(m.last_modified.into()),
                                size: m.size,
                            },
                        )
                    })
                    .collect())
            }
        }
    }

    /// Deletes one file (one already gone is not an error).
    pub(crate) fn remove(&self, name: &str) -> Result<(), LakeError> {
        match self {
            Place::Folder(root) => match fs::remove_file(root.join(name)) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e.into()),
            },
            Place::Bucket { bucket, prefix } => {
                let store = bucket.store.clone();
                let key = Place::key(prefix, name);
                bucket.wait(async move {
                    match store.delete(&key).await {
                        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                        Err(e) => Err(e),
                    }
                })
            }
        }
    }

    /// Deletes a folder of the store (`eventdate=…`), or the whole store for `""`.
    pub(crate) fn remove_folder(&self, folder: &str) -> Result<(), LakeError> {
        match self {
            Place::Folder(root) => {
                let path = if folder.is_empty() {
                    root.clone()
                } else {
                    root.join(folder)
                };
                match fs::remove_dir_all(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                    Err(e) => return Err(e.into()),
                }
                match (folder.is_empty(), root.parent()) {
                    (true, Some(p)) if p.exists() => sync_dir(p),
                    (false, _) => sync_dir(root),
                    _ => Ok(()),
                }
            }
            Place::Bucket { bucket, prefix } => {
                if folder.is_empty() {
                    let _ = fs::remove_dir_all(bucket.staging.join(prefix));
                }
                let store = bucket.store.clone();
                let under = ObjectPath::from(if folder.is_empty() {
                    prefix.clone()
                } else {
                    format!("{prefix}/{folder}")
                });
                bucket.wait(async move {
                    let keys = store.list(Some(&under)).map_ok(|m| m.location).boxed();
                    store.delete_stream(keys).try_collect::<Vec<_>>().await?;
                    Ok(())
                })
            }
        }
    }

    /// Where a file being made for `name` is written (its folder created).
    pub(crate) fn temp_path(&self, name: &str) -> Result<PathBuf, LakeError> {
        let path = match self {
            Place::Folder(root) => root.join(format!("{name}{TEMP_SUFFIX}")),
            Place::Bucket { bucket, prefix } => bucket
                .staging
                .join(prefix)
                .join(format!("{name}{TEMP_SUFFIX}")),
        };
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        Ok(path)
    }

    /// Makes files made under [`Place::temp_path`] (and synced) visible under their names.
    pub(crate) fn publish(&self, files: &[(PathBuf, String)]) -> Result<(), LakeError> {
        match self {
            Place::Folder(root) => {
                for (temp, name) in files {
                    fs::rename(temp, root.join(name))?;
                }
                let mut folders: Vec<PathBuf> = files
                    .iter()
                    .filter_map(|(_, n)| root.join(n).parent().map(Path::to_path_buf))
                    .collect();
                folders.sort();
                folders.dedup();
                for d in folders {
                    sync_dir(&d)?;
                }
                Ok(())
            }
            Place::Bucket { bucket, prefix } => {
                for (temp, name) in files {
                    let size = fs::metadata(temp)?.len();
                    let store = bucket.store.clone();
                    let key = Place::key(prefix, name);
                    if size < MULTIPART_FROM {
                        let payload = PutPayload::from(fs::read(temp)?);
                        bucket.wait(async move { store.put(&key, payload).await.map(|_| ()) })?;
                    } else {
                        let temp = temp.clone();
                        bucket.wait(async move { upload_in_parts(store, key, temp).await })?;
                    }
                    fs::remove_file(temp)?;
                }
                Ok(())
            }
        }
    }

    /// Deletes files an interrupted append left under their temporary names.
    pub(crate) fn remove_temporaries(&self) -> Result<(), LakeError> {
        let (root, also_files) = match self {
            Place::Folder(root) => (root.clone(), true),
            Place::Bucket { bucket, prefix } => (bucket.staging.join(prefix), false),
        };
        if !root.exists() {
            return Ok(());
        }
        for entry in fs::read_dir(&root)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                for f in fs::read_dir(entry.path())? {
                    let p = f?.path();
                    if !also_files || p.to_string_lossy().ends_with(TEMP_SUFFIX) {
                        fs::remove_file(&p)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// How the SQL engine names a file: a local path, or `s3://bucket/key`.
    pub fn location(&self, name: &str) -> String {
        match self {
            Place::Folder(root) => root.join(name).to_string_lossy().into_owned(),
            Place::Bucket { bucket, prefix } => format!("{}/{prefix}/{name}", bucket.url),
        }
    }

    /// The bucket the SQL engine must be able to read, if the files are in one.
    pub fn object_store(&self) -> Option<(String, Arc<dyn ObjectStore>)> {
        match self {
            Place::Folder(_) => None,
            Place::Bucket { bucket, .. } => Some(bucket.object_store()),
        }
    }

    /// Whether the file at `location` (as [`Place::location`] names it) is still there.
    pub fn exists_at(&self, location: &str) -> bool {
        match self {
            Place::Folder(_) => Path::new(location).exists(),
            Place::Bucket { bucket, .. } => {
                let Some(key) = location.strip_prefix(&format!("{}/", bucket.url)) else {
                    return false;
                };
                let store = bucket.store.clone();
                let key = ObjectPath::from(key);
                bucket
                    .wait(async move { store.head(&key).await.map(|_| ()) })
                    .is_ok()
            }
        }
    }
}

async fn upload_in_parts(
    store: Arc<dyn ObjectStore>,
    key: ObjectPath,
    temp: PathBuf,
) -> Result<(), object_store::Error> {
    use std::io::Read;
    let upload = store.put_multipart(&key).await?;
    let mut writer = object_store::WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
    let mut file = File::open(&temp).map_err(|e| object_store::Error::Generic {
        store: "lake",
        source: Box::new(e),
    })?;
    let mut buf = vec![0u8; PART_SIZE];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| object_store::Error::Generic {
                store: "lake",
                source: Box::new(e),
            })?;
        if n == 0 {
            break;
        }
        writer.wait_for_capacity(4).await?;
        writer.write(&buf[..n]);
    }
    writer.finish().await?;
    Ok(())
}

/// An error with the errors beneath it (the client's own message is often only "error sending
/// request").
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = cause.source();
    }
    out
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), LakeError> {
    File::open(dir)?.sync_all()?;
    Ok(())
}
