//! Where validation reads digests and log files from: an S3-compatible endpoint (cairn's own
//! or any other), or a local folder laid out like the bucket (`aws s3 sync s3://bucket DIR`).

use std::path::{Path, PathBuf};

use cairn_wire::client::Endpoint;
use cairn_wire::sigv4::uri_encode;
use percent_encoding::percent_decode_str;

/// An object as validation needs it.
pub struct Fetched {
    pub body: Vec<u8>,
    /// `x-amz-meta-signature`; a local folder has none.
    pub signature: Option<String>,
}

pub trait ObjectSource: Sync {
    /// Every key under `prefix` that sorts after `marker`, in byte order.
    fn list(&self, bucket: &str, prefix: &str, marker: &str) -> Result<Vec<String>, String>;
    /// The object, or `None` if there is no such key.
    fn get(&self, bucket: &str, key: &str) -> Result<Option<Fetched>, String>;
}

/// An S3-compatible endpoint, path-style.
pub struct S3Source {
    pub endpoint: Endpoint,
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    text.split(open)
        .skip(1)
        .filter_map(|r| r.split(close).next())
        .collect()
}

impl ObjectSource for S3Source {
    fn list(&self, bucket: &str, prefix: &str, marker: &str) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        let mut marker = marker.to_owned();
        loop {
            let query = format!(
                "encoding-type=url&marker={}&prefix={}",
                uri_encode(&marker),
                uri_encode(prefix)
            );
            let r = self.endpoint.send(
                "s3",
                "GET",
                &format!("/{}", uri_encode(bucket)),
                Some(&query),
                &[],
                b"",
            )?;
            if !r.ok() {
                return Err(format!(
                    "listing s3://{bucket}/{prefix}: {}",
                    r.error_code()
                ));
            }
            let text = String::from_utf8_lossy(&r.body);
            let keys: Vec<String> = between(&text, "<Key>", "</Key>")
                .into_iter()
                .map(|k| percent_decode_str(k).decode_utf8_lossy().into_owned())
                .collect();
            let truncated = text.contains("<IsTruncated>true</IsTruncated>");
            let next = between(&text, "<NextMarker>", "</NextMarker>")
                .first()
                .map(|k| percent_decode_str(k).decode_utf8_lossy().into_owned())
                .or_else(|| keys.last().cloned());
            out.extend(keys);
            match next {
                Some(n) if truncated && n > marker => marker = n,
                _ => return Ok(out),
            }
        }
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Option<Fetched>, String> {
        let path = format!(
            "/{}/{}",
            uri_encode(bucket),
            uri_encode(key).replace("%2F", "/")
        );
        let r = self.endpoint.send("s3", "GET", &path, None, &[], b"")?;
        if r.status == 404 && r.error_code() == "NoSuchKey" {
            return Ok(None);
        }
        if !r.ok() {
            return Err(format!("s3://{bucket}/{key}: {}", r.error_code()));
        }
        Ok(Some(Fetched {
            signature: r.header("x-amz-meta-signature").map(str::to_owned),
            body: r.body,
        }))
    }
}

/// A folder holding a bucket's keys as paths: `DIR/<key>`. The bucket name is not part of the
/// path. A downloaded copy keeps no S3 metadata: digest signatures come from the bucket itself
/// when it can still be asked (`signatures`), else only from the chain.
pub struct LocalSource {
    pub root: PathBuf,
    pub signatures: Option<S3Source>,
}

impl S3Source {
    /// An object's `x-amz-meta-signature`, read with a HEAD request.
    pub fn signature(&self, bucket: &str, key: &str) -> Result<Option<String>, String> {
        let path = format!(
            "/{}/{}",
            uri_encode(bucket),
            uri_encode(key).replace("%2F", "/")
        );
        let r = self.endpoint.send("s3", "HEAD", &path, None, &[], b"")?;
        if r.status == 404 {
            return Ok(None);
        }
        if !r.ok() {
            return Err(format!("s3://{bucket}/{key}: HTTP {}", r.status));
        }
        Ok(r.header("x-amz-meta-signature").map(str::to_owned))
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let p = entry.path();
        if entry.file_type()?.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

impl ObjectSource for LocalSource {
    fn list(&self, _bucket: &str, prefix: &str, marker: &str) -> Result<Vec<String>, String> {
        // Start at the deepest folder the prefix names.
        let dir_part = prefix.rsplit_once('/').map_or("", |(d, _)| d);
        let start = self.root.join(dir_part);
        let mut files = Vec::new();
        match walk(&start, &mut files) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(format!("{}: {e}", start.display())),
        }
        let mut keys: Vec<String> = files
            .iter()
            .filter_map(|p| p.strip_prefix(&self.root).ok())
            .filter_map(|p| p.to_str())
            .map(str::to_owned)
            .filter(|k| k.starts_with(prefix) && k.as_str() > marker)
            .collect();
        keys.sort();
        Ok(keys)
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Option<Fetched>, String> {
        if key.split('/').any(|part| part == "..") {
            return Err(format!("{key}: not a key this folder can hold"));
        }
        match std::fs::read(self.root.join(key)) {
            Ok(body) => Ok(Some(Fetched {
                body,
                signature: match &self.signatures {
                    Some(s3) if key.contains("/CloudTrail-Digest/") => s3.signature(bucket, key)?,
                    _ => None,
                },
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{key}: {e}")),
        }
    }
}
