//! Object bodies in a bucket of any S3-compatible endpoint: where several cairn nodes keep the
//! bodies they share (DESIGN decision 5), while the metadata naming them is in PostgreSQL.
//!
//! Bodies are sealed exactly as on the local disk (`sealed`: AES-256-GCM in 1 MiB chunks
//! under the store's master key, or an object's own data key), so the endpoint only ever holds
//! ciphertext, and a range read fetches only the chunks it covers. Each body is one object
//! under a fresh name (`<prefix>/<2 hex>/<name>`), written whole by one PUT (or a multipart
//! upload when large) before any metadata names it: S3 shows an object whole or not at all.
//!
//! The stores are called on blocking threads; the client is async. Its calls run on a small
//! runtime of this store's own and the caller waits on a channel, which works from any thread
//! (also one of another runtime's, where blocking on a future directly is not allowed).

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use super::ObjectsError;
use super::sqlite::sealed::{CHUNK, HEADER, Sealer, chunk_span};

/// Bodies larger than this (sealed) are uploaded in parts.
const MULTIPART_FROM: usize = 64 << 20;
const PART_SIZE: usize = 16 << 20;

/// A bucket on an S3-compatible endpoint that holds object bodies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodyBucket {
    /// `http://host:port` or `https://host[:port]`.
    pub endpoint: String,
    pub bucket: String,
    /// Key prefix under which bodies are kept; may be empty.
    pub prefix: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl BodyBucket {
    fn client(&self) -> Result<Arc<dyn ObjectStore>, ObjectsError> {
        let endpoint = S3Endpoint {
            endpoint: &self.endpoint,
            bucket: &self.bucket,
            region: &self.region,
            access_key_id: &self.access_key_id,
            secret_access_key: &self.secret_access_key,
            ca_pem: None,
        };
        let store = endpoint
            .client()
            .map_err(|e| remote_err(&self.bucket, &e))?;
        Ok(Arc::new(store))
    }
}

/// A bucket on an S3-compatible endpoint and how to reach it: object bodies' bucket here, the
/// lake's bucket in `cairn-lake`.
pub struct S3Endpoint<'a> {
    /// `http://host:port` or `https://host[:port]`.
    pub endpoint: &'a str,
    pub bucket: &'a str,
    pub region: &'a str,
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    /// For `https://` endpoints with a private CA: its certificates (PEM), trusted besides the
    /// system's.
    pub ca_pem: Option<&'a [u8]>,
}

impl S3Endpoint<'_> {
    /// The client cairn uses for every S3-compatible store: path-style requests (any endpoint,
    /// no DNS per bucket), and a stalled endpoint an error within a minute (the caller fails
    /// and tries again later), not a caller stuck for the library's default minutes.
    pub fn client(&self) -> Result<object_store::aws::AmazonS3, object_store::Error> {
        let mut options = object_store::ClientOptions::new()
            .with_connect_timeout(Duration::from_secs(5))
            .with_timeout(Duration::from_secs(30))
            .with_allow_http(self.endpoint.starts_with("http://"));
        if let Some(pem) = self.ca_pem {
            for c in object_store::Certificate::from_pem_bundle(pem)? {
                options = options.with_root_certificate(c);
            }
        }
        object_store::aws::AmazonS3Builder::new()
            .with_endpoint(self.endpoint.trim_end_matches('/'))
            .with_bucket_name(self.bucket)
            .with_region(self.region)
            .with_access_key_id(self.access_key_id)
            .with_secret_access_key(self.secret_access_key)
            .with_virtual_hosted_style_request(false)
            .with_client_options(options)
            .with_retry(object_store::RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(30),
                ..object_store::RetryConfig::default()
            })
            .build()
    }
}

/// Object bodies in a bucket.
pub struct RemoteBodies {
    store: Arc<dyn ObjectStore>,
    /// `s3://bucket/prefix`, for messages.
    label: String,
    prefix: String,
    sealer: Sealer,
    /// Where a body being assembled from parts waits before it is uploaded.
    staging: PathBuf,
    runtime: Option<tokio::runtime::Runtime>,
}

/// An endpoint's error as the objects store reports I/O failures, with its causes (the
/// client's own message is often only "error sending request").
fn remote_err(label: &str, e: &dyn std::error::Error) -> ObjectsError {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let c = cause.to_string();
        if !text.contains(&c) {
            text = format!("{text}: {c}");
        }
        next = cause.source();
    }
    ObjectsError::Io {
        path: label.to_string(),
        source: std::io::Error::other(text),
    }
}

impl RemoteBodies {
    /// Bodies in `bucket`, sealed under the master key at `master_key` (made if absent: every
    /// node of a cluster must be given the same file); bodies assembled from parts wait in
    /// `staging`.
    pub fn connect(
        bucket: &BodyBucket,
        master_key: &Path,
        staging: &Path,
    ) -> Result<RemoteBodies, ObjectsError> {
        let store = bucket.client()?;
        let label = format!("s3://{}/{}", bucket.bucket, bucket.prefix.trim_matches('/'));
        RemoteBodies::over(store, &label, &bucket.prefix, master_key, staging)
    }

    /// Bodies kept through `store` (tests hand an in-memory one).
    pub fn over(
        store: Arc<dyn ObjectStore>,
        label: &str,
        prefix: &str,
        master_key: &Path,
        staging: &Path,
    ) -> Result<RemoteBodies, ObjectsError> {
        std::fs::create_dir_all(staging).map_err(|e| ObjectsError::io(staging, e))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("cairn-bodies")
            .enable_all()
            .build()
            .map_err(|e| ObjectsError::io(Path::new("object body runtime"), e))?;
        Ok(RemoteBodies {
            store,
            label: label.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            sealer: Sealer::open(master_key)?,
            staging: staging.to_owned(),
            runtime: Some(runtime),
        })
    }

    fn key(&self, name: &str) -> Key {
        let shard = &name[..2.min(name.len())];
        if self.prefix.is_empty() {
            Key::from(format!("{shard}/{name}"))
        } else {
            Key::from(format!("{}/{shard}/{name}", self.prefix))
        }
    }

    /// Runs `work` on this store's runtime and waits for it.
    fn wait<T, F>(&self, work: F) -> Result<T, ObjectsError>
    where
        T: Send + 'static,
        F: std::future::Future<Output = Result<T, object_store::Error>> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let Some(runtime) = &self.runtime else {
            return Err(remote_err(&self.label, &std::io::Error::other("closed")));
        };
        runtime.spawn(async move {
            let _ = tx.send(work.await);
        });
        rx.recv()
            .map_err(|_| remote_err(&self.label, &std::io::Error::other("runtime stopped")))?
            .map_err(|e| remote_err(&self.label, &e))
    }

    /// Writes a body sealed under `key` (an object's own data key) or the master key; returns
    /// its name. A body in a bucket is durable once the endpoint answered: `durable` asks
    /// nothing more.
    pub fn write_keyed(&self, body: &[u8], key: Option<&[u8]>) -> Result<String, ObjectsError> {
        let own = key.map(Sealer::from_key).transpose()?;
        let sealer = own.as_ref().unwrap_or(&self.sealer);
        let io = |e| ObjectsError::io(Path::new(&self.label), e);
        let mut w = sealer
            .writer(Vec::with_capacity(
                body.len() + body.len() / CHUNK * 16 + 64,
            ))
            .map_err(io)?;
        w.write(body).map_err(io)?;
        let sealed = Bytes::from(w.finish().map_err(io)?);
        let name = uuid::Uuid::new_v4().simple().to_string();
        self.upload(&name, sealed)?;
        Ok(name)
    }

    /// Stores a body already sealed (copied from an embedded store, which seals alike) under
    /// `name`, which no other body may have.
    pub fn put_sealed(&self, name: &str, sealed: Vec<u8>) -> Result<(), ObjectsError> {
        self.upload(name, Bytes::from(sealed))
    }

    fn upload(&self, name: &str, sealed: Bytes) -> Result<(), ObjectsError> {
        let store = Arc::clone(&self.store);
        let key = self.key(name);
        self.wait(async move {
            if sealed.len() < MULTIPART_FROM {
                store.put(&key, PutPayload::from(sealed)).await.map(|_| ())
            } else {
                let upload = store.put_multipart(&key).await?;
                let mut writer =
                    object_store::WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
                for part in sealed.chunks(PART_SIZE) {
                    writer.wait_for_capacity(4).await?;
                    writer.write(part);
                }
                writer.finish().await.map(|_| ())
            }
        })
    }

    /// Writes the concatenation of stored bodies (completing a multipart upload) under the
    /// master key, sealing a chunk of plaintext at a time into a staging file, then uploading
    /// it: memory stays at a few chunks whatever the object's size.
    pub fn concat(&self, parts: &[String]) -> Result<String, ObjectsError> {
        let name = uuid::Uuid::new_v4().simple().to_string();
        let temp = self.staging.join(format!("{name}.tmp"));
        let result = self.concat_into(parts, &name, &temp);
        if let Err(e) = std::fs::remove_file(&temp)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %temp.display(), error = %e, "could not remove a staged body");
        }
        result.map(|()| name)
    }

    fn concat_into(&self, parts: &[String], name: &str, temp: &Path) -> Result<(), ObjectsError> {
        let io = |e| ObjectsError::io(temp, e);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(temp)
            .map_err(io)?;
        let mut w = self.sealer.writer(file).map_err(io)?;
        for p in parts {
            let len = self.plain_len(p)?;
            let mut at = 0u64;
            while at < len {
                let end = (at + CHUNK as u64).min(len) - 1;
                let piece = self.read(p, Some((at, end)))?;
                w.write(&piece).map_err(io)?;
                at = end + 1;
            }
        }
        let mut file = w.finish().map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        let mut sealed = Vec::new();
        // Multipart uploads of many GiB would want a streamed upload; parts are read back
        // here whole because the client's multipart writer takes owned buffers anyway.
        file.read_to_end(&mut sealed).map_err(io)?;
        self.upload(name, Bytes::from(sealed))
    }

    /// The stored (sealed) size of a body.
    fn stored_len(&self, name: &str) -> Result<u64, ObjectsError> {
        let store = Arc::clone(&self.store);
        let key = self.key(name);
        self.wait(async move { store.head(&key).await.map(|m| m.size) })
    }

    fn plain_len(&self, name: &str) -> Result<u64, ObjectsError> {
        Ok(super::sqlite::sealed::plain_len(self.stored_len(name)?))
    }

    fn read_with(
        &self,
        sealer: &Sealer,
        name: &str,
        range: Option<(u64, u64)>,
    ) -> Result<Vec<u8>, ObjectsError> {
        let store = Arc::clone(&self.store);
        let key = self.key(name);
        let label = PathBuf::from(format!("{}/{}", self.label, key));
        match range {
            None => {
                let sealed = self.wait(async move { store.get(&key).await?.bytes().await })?;
                sealer.read_bytes(&sealed, None, &label)
            }
            Some((first, last)) => {
                // Only the header and the chunks the range covers are fetched.
                let len = self.stored_len(name)?;
                let span = chunk_span(len, first, last);
                if span.is_empty() {
                    return self.read_with(sealer, name, None);
                }
                let ranges = vec![0..HEADER.min(len), span.clone()];
                let got = self.wait(async move { store.get_ranges(&key, &ranges).await })?;
                let (Some(header), Some(chunks)) = (got.first(), got.get(1)) else {
                    return Err(remote_err(
                        &self.label,
                        &std::io::Error::other("short ranged read"),
                    ));
                };
                let pieces = Pieces {
                    header: header.clone(),
                    span_at: span.start,
                    span: chunks.clone(),
                    pos: 0,
                };
                sealer.read_parts(pieces, len, Some((first, last)), &label)
            }
        }
    }

    /// Reads a body, or the inclusive byte range `(first, last)` of it.
    pub fn read(&self, name: &str, range: Option<(u64, u64)>) -> Result<Vec<u8>, ObjectsError> {
        self.read_with(&self.sealer, name, range)
    }

    /// Reads a body written under its own key.
    pub fn read_keyed(
        &self,
        name: &str,
        range: Option<(u64, u64)>,
        key: &[u8],
    ) -> Result<Vec<u8>, ObjectsError> {
        self.read_with(&Sealer::from_key(key)?, name, range)
    }

    /// Deletes a body no version names any more (a failure is logged: the body is only an
    /// orphan, never data a client can reach).
    pub fn remove(&self, name: &str) {
        let store = Arc::clone(&self.store);
        let key = self.key(name);
        let done = self.wait(async move {
            match store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(e),
            }
        });
        if let Err(e) = done {
            tracing::warn!(name, error = %e, "could not remove a replaced object body");
        }
    }
}

impl Drop for RemoteBodies {
    fn drop(&mut self) {
        // Dropping a runtime waits for its threads, which is refused inside another runtime.
        if let Some(r) = self.runtime.take() {
            r.shutdown_background();
        }
    }
}

/// A sealed body's header and one span of its chunks, read as if they were the whole file:
/// the decryption reads the header, then seeks to the span and reads within it.
struct Pieces {
    header: Bytes,
    span_at: u64,
    span: Bytes,
    pos: u64,
}

impl Read for Pieces {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let header_len = self.header.len() as u64;
        let (from, at) = if self.pos < header_len {
            (&self.header, self.pos)
        } else if self.pos >= self.span_at {
            (&self.span, self.pos - self.span_at)
        } else {
            return Err(std::io::Error::other("read outside the fetched span"));
        };
        let at = at as usize;
        let n = buf.len().min(from.len().saturating_sub(at));
        buf[..n].copy_from_slice(&from[at..at + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Pieces {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        match to {
            SeekFrom::Start(p) => {
                self.pos = p;
                Ok(p)
            }
            _ => Err(std::io::Error::other("only absolute seeks")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    fn bodies(dir: &Path) -> (RemoteBodies, Arc<InMemory>) {
        let mem = Arc::new(InMemory::new());
        let b = RemoteBodies::over(
            mem.clone(),
            "s3://test/bodies",
            "bodies",
            &dir.join("master.key"),
            &dir.join("staging"),
        )
        .unwrap();
        (b, mem)
    }

    fn body(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn bodies_round_trip_whole_and_by_range_and_are_stored_sealed() {
        let d = tempfile::tempdir().unwrap();
        let (b, mem) = bodies(d.path());
        let data = body(CHUNK * 2 + 777);
        let name = b.write_keyed(&data, None).unwrap();
        assert_eq!(b.read(&name, None).unwrap(), data);
        for (first, last) in [
            (0, 0),
            (5, 100),
            (CHUNK as u64 - 3, CHUNK as u64 + 3),
            (CHUNK as u64 * 2, CHUNK as u64 * 2 + 776),
            (10, CHUNK as u64 * 2 + 776),
        ] {
            assert_eq!(
                b.read(&name, Some((first, last))).unwrap(),
                &data[first as usize..=last as usize],
                "{first}-{last}"
            );
        }
        let stored = b
            .wait({
                let key = b.key(&name);
                let mem = mem.clone();
                async move { mem.get(&key).await?.bytes().await }
            })
            .unwrap();
        assert!(stored.starts_with(b"CAIRNSSE"));
        assert!(
            !stored.windows(64).any(|w| w == &data[1000..1064]),
            "the endpoint holds ciphertext only"
        );
    }

    #[test]
    fn own_keys_concatenation_and_removal() {
        let d = tempfile::tempdir().unwrap();
        let (b, _) = bodies(d.path());
        let key = [7u8; 32];
        let secret = body(3000);
        let n = b.write_keyed(&secret, Some(&key)).unwrap();
        assert_eq!(b.read_keyed(&n, None, &key).unwrap(), secret);
        assert!(b.read(&n, None).is_err(), "the master key cannot open it");

        let one = body(CHUNK + 10);
        let two = body(20);
        let p1 = b.write_keyed(&one, None).unwrap();
        let p2 = b.write_keyed(&two, None).unwrap();
        let whole = b.concat(&[p1.clone(), p2]).unwrap();
        let mut expected = one.clone();
        expected.extend_from_slice(&two);
        assert_eq!(b.read(&whole, None).unwrap(), expected);
        assert_eq!(
            std::fs::read_dir(d.path().join("staging")).unwrap().count(),
            0,
            "nothing left staged"
        );
        b.remove(&p1);
        assert!(b.read(&p1, None).is_err());
        b.remove(&p1);
    }

    #[test]
    fn an_unreachable_endpoint_is_an_error_not_a_hang() {
        let d = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let b = RemoteBodies::connect(
            &BodyBucket {
                endpoint: format!("http://127.0.0.1:{port}"),
                bucket: "bodies".into(),
                prefix: String::new(),
                region: "us-east-1".into(),
                access_key_id: "AKIDEXAMPLE".into(),
                secret_access_key: "secret".into(),
            },
            &d.path().join("master.key"),
            &d.path().join("staging"),
        )
        .unwrap();
        let e = b.write_keyed(b"hello", None).unwrap_err();
        assert!(e.to_string().contains("s3://bodies"), "{e}");
    }
}
