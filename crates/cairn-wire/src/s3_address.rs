//! S3 addressing on the wire: which bucket and key a request names, path-style (`/bucket/key`)
//! or virtual-host style (`bucket.s3.amazonaws.com/key`, `bucket.localhost:4566/key`), and keys
//! percent-encoded as SDKs put them in a path. The edge needs it to check SigV2 signatures
//! (which sign the path-style resource), S3's codec to route requests.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

const KEY_SAFE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// Percent-encodes a key as SDKs put it in a path, and as `encoding-type=url` returns it.
pub fn encode_key(k: &str) -> String {
    utf8_percent_encode(k, KEY_SAFE).to_string()
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub bucket: Option<String>,
    /// The key, decoded.
    pub key: Option<String>,
    /// Whether the bucket came from the Host header.
    pub virtual_host: bool,
}

impl Address {
    /// The path-style resource (`/bucket/key`, key percent-encoded), as SigV2 signs it.
    pub fn resource_path(&self) -> String {
        match (&self.bucket, &self.key) {
            (None, _) => "/".to_owned(),
            (Some(b), None) => format!("/{b}/"),
            (Some(b), Some(k)) => format!("/{b}/{}", encode_key(k)),
        }
    }
}

/// Host suffixes under which the first label is a bucket name.
fn bucket_from_host(host: &str) -> Option<String> {
    let h = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    if h.parse::<std::net::IpAddr>().is_ok() || h.starts_with('[') {
        return None;
    }
    for suffix in [".s3.localhost", ".localhost", ".s3.amazonaws.com"] {
        if let Some(bucket) = h.strip_suffix(suffix) {
            return (!bucket.is_empty()).then(|| bucket.to_owned());
        }
    }
    // bucket.s3.<region>.amazonaws.com and the older bucket.s3-<region>.amazonaws.com
    let base = h.strip_suffix(".amazonaws.com")?;
    let at = base.rfind(".s3.").or_else(|| base.rfind(".s3-"))?;
    let bucket = &base[..at];
    (!bucket.is_empty()).then(|| bucket.to_owned())
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

pub fn resolve(host: &str, raw_path: &str) -> Address {
    let path = raw_path.strip_prefix('/').unwrap_or(raw_path);
    if let Some(bucket) = bucket_from_host(host) {
        return Address {
            bucket: Some(bucket),
            key: (!path.is_empty()).then(|| decode(path)),
            virtual_host: true,
        };
    }
    if path.is_empty() {
        return Address {
            bucket: None,
            key: None,
            virtual_host: false,
        };
    }
    let (bucket, key) = match path.split_once('/') {
        Some((b, k)) => (b, (!k.is_empty()).then(|| decode(k))),
        None => (path, None),
    };
    Address {
        bucket: Some(decode(bucket)),
        key,
        virtual_host: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_and_virtual_host_styles() {
        let a = resolve("127.0.0.1:4566", "/b/dir/a%20b.txt");
        assert_eq!(
            (a.bucket.as_deref(), a.key.as_deref()),
            (Some("b"), Some("dir/a b.txt"))
        );
        assert!(!a.virtual_host);
        assert_eq!(resolve("localhost:4566", "/").bucket, None);
        assert_eq!(resolve("localhost:4566", "/b").key, None);
        assert_eq!(resolve("localhost:4566", "/b/").key, None);
        let v = resolve("b.localhost:4566", "/k");
        assert_eq!(
            (v.bucket.as_deref(), v.key.as_deref(), v.virtual_host),
            (Some("b"), Some("k"), true)
        );
        assert_eq!(
            resolve("my.bucket.s3.amazonaws.com", "/k")
                .bucket
                .as_deref(),
            Some("my.bucket")
        );
        let v = resolve("logs.s3.us-west-2.amazonaws.com", "/");
        assert_eq!((v.bucket.as_deref(), v.key), (Some("logs"), None));
        assert_eq!(
            resolve("s3.amazonaws.com", "/b/k").bucket.as_deref(),
            Some("b")
        );
    }
}
