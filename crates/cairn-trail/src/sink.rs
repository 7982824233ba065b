//! Where log files go: the embedded S3, or a bucket on another S3-compatible endpoint named in
//! configuration.

use std::collections::BTreeMap;
use std::sync::Arc;

use cairn_model::Clock;
use cairn_store::objects::{NewObject, ObjectStore};
use cairn_store::trails::Trail;
use cairn_wire::client::{Endpoint, parse_url};

/// An object CloudTrail writes for a trail: a log file or a digest.
pub struct TrailObject<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    /// The gzip'd bytes.
    pub body: &'a [u8],
    /// User metadata, names without `x-amz-meta-` and in lower case.
    pub metadata: &'a [(&'a str, &'a str)],
    /// Whether the trail's KMS key (if it has one) encrypts this object: log files yes,
    /// digests no (AWS keeps digests SSE-S3).
    pub trail_key: bool,
}

/// Writes a trail's objects; an error is the text GetTrailStatus shows.
pub trait LogSink: Send + Sync {
    fn put(&self, trail: &Trail, obj: &TrailObject<'_>) -> Result<(), String>;
}

/// Whether a trail's bucket lets CloudTrail write a key, as S3 would judge it.
pub trait BucketGate: Send + Sync {
    fn may_write(&self, bucket_policy: Option<&str>, trail: &Trail, key: &str) -> bool;
}

/// The embedded object store written directly, judged by a [`BucketGate`] and stored SSE-S3:
/// for this crate's tests and the delivery benchmark. `cairn serve` writes through S3's API
/// instead, as CloudTrail does (cairn-services' `cloudtrail::delivery`), so that bucket and key
/// policies decide and each write is recorded.
pub struct EmbeddedSink {
    pub objects: Arc<dyn ObjectStore>,
    pub gate: Arc<dyn BucketGate>,
    pub clock: Arc<dyn Clock>,
}

impl LogSink for EmbeddedSink {
    fn put(&self, trail: &Trail, obj: &TrailObject<'_>) -> Result<(), String> {
        let key = obj.key;
        let bucket = self
            .objects
            .bucket(obj.bucket)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "NoSuchBucket".to_owned())?;
        if !self.gate.may_write(bucket.policy.as_deref(), trail, key) {
            return Err("AccessDenied".to_owned());
        }
        if obj.trail_key && trail.kms_key_id.is_some() {
            return Err("KMS: this sink writes no KMS-encrypted log files".to_owned());
        }
        let new = NewObject {
            content_type: Some("application/json".into()),
            metadata: obj
                .metadata
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            sse: Some("AES256".into()),
            data_key: None,
            // Delivery marks the file delivered right after: the write must be on disk.
            durable: true,
            condition: None,
        };
        self.objects
            .put_object(obj.bucket, key, obj.body, &new, self.clock.now_millis())
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// A bucket on another S3-compatible endpoint (HTTP or HTTPS), with the credentials to write it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalBucket {
    pub name: String,
    /// `host:port`
    pub endpoint: String,
    /// TLS settings for an `https://` endpoint.
    pub tls: Option<cairn_wire::tls::Tls>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl ExternalBucket {
    /// Parses `http(s)://host[:port][/]` into the endpoint this client speaks to, and its TLS
    /// settings (the public roots, plus `ca_file`'s certificates) for `https://`.
    pub fn endpoint_of(
        url: &str,
        ca_file: Option<&std::path::Path>,
    ) -> Result<(String, Option<cairn_wire::tls::Tls>), String> {
        let u = parse_url(url).map_err(|e| format!("external bucket {e}"))?;
        let tls = if u.https {
            Some(cairn_wire::tls::Tls::new(ca_file).map_err(|e| format!("external bucket {e}"))?)
        } else {
            None
        };
        Ok((u.host_port, tls))
    }

    fn endpoint(&self) -> Endpoint {
        Endpoint {
            host_port: self.endpoint.clone(),
            tls: self.tls.clone(),
            region: self.region.clone(),
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
            // A stalled endpoint is a delivery error soon, not a stuck delivery round.
            io_timeout: Some(std::time::Duration::from_secs(5)),
            ..Endpoint::default()
        }
    }

    /// Whether the bucket exists there.
    pub fn exists(&self) -> Result<bool, String> {
        let r = self
            .endpoint()
            .send("s3", "HEAD", &format!("/{}", self.name), None, &[], b"")?;
        Ok(r.ok())
    }

    pub fn put(&self, key: &str, body: &[u8], metadata: &[(&str, &str)]) -> Result<(), String> {
        let path = format!(
            "/{}/{}",
            self.name,
            cairn_wire::sigv4::uri_encode(key).replace("%2F", "/")
        );
        let names: Vec<String> = metadata
            .iter()
            .map(|(k, _)| format!("x-amz-meta-{k}"))
            .collect();
        // Content-MD5 as CloudTrail sends it: S3 refuses writes into an Object Lock bucket
        // that carry no digest.
        let md5 = {
            use base64::Engine;
            use md5::Digest;
            base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(body))
        };
        let mut headers = vec![
            ("x-amz-acl", "bucket-owner-full-control"),
            ("content-type", "application/json"),
            ("content-md5", md5.as_str()),
        ];
        headers.extend(
            names
                .iter()
                .zip(metadata)
                .map(|(n, (_, v))| (n.as_str(), *v)),
        );
        let r = self
            .endpoint()
            .send("s3", "PUT", &path, None, &headers, body)?;
        if r.ok() { Ok(()) } else { Err(r.error_code()) }
    }
}

/// One page of a `ListObjectsV2` answer: the keys, and the token for the next page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListPage {
    pub keys: Vec<String>,
    pub next: Option<String>,
}

/// Reads a `ListObjectsV2` answer (`<Contents><Key>…`, `<NextContinuationToken>`), the XML
/// every S3-compatible server writes.
pub fn parse_list_page(xml: &str) -> ListPage {
    fn unescape(s: &str) -> String {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }
    let mut keys = Vec::new();
    for contents in xml.split("<Contents>").skip(1) {
        let body = contents.split("</Contents>").next().unwrap_or("");
        if let Some(k) = body
            .split("<Key>")
            .nth(1)
            .and_then(|r| r.split("</Key>").next())
        {
            keys.push(unescape(k));
        }
    }
    let truncated = xml.contains("<IsTruncated>true</IsTruncated>");
    let next = xml
        .split("<NextContinuationToken>")
        .nth(1)
        .and_then(|r| r.split("</NextContinuationToken>").next())
        .filter(|_| truncated)
        .map(unescape);
    ListPage { keys, next }
}

impl ExternalBucket {
    /// One page of the keys under `prefix` (ListObjectsV2).
    pub fn list(&self, prefix: &str, token: Option<&str>) -> Result<ListPage, String> {
        let enc = |v: &str| cairn_wire::sigv4::uri_encode(v);
        let mut query = format!("list-type=2&prefix={}", enc(prefix));
        if let Some(t) = token {
            query = format!("continuation-token={}&{query}", enc(t));
        }
        let r = self.endpoint().send(
            "s3",
            "GET",
            &format!("/{}", self.name),
            Some(&query),
            &[],
            b"",
        )?;
        if !r.ok() {
            return Err(r.error_code());
        }
        Ok(parse_list_page(&String::from_utf8_lossy(&r.body)))
    }

    /// An object's content.
    pub fn get(&self, key: &str) -> Result<Vec<u8>, String> {
        let path = format!(
            "/{}/{}",
            self.name,
            cairn_wire::sigv4::uri_encode(key).replace("%2F", "/")
        );
        let r = self.endpoint().send("s3", "GET", &path, None, &[], b"")?;
        if r.ok() {
            Ok(r.body)
        } else {
            Err(r.error_code())
        }
    }
}

/// Sends each trail's files to its external bucket if configured, else to the embedded S3.
pub struct RoutingSink {
    pub embedded: Arc<dyn LogSink>,
    pub external: BTreeMap<String, ExternalBucket>,
}

impl LogSink for RoutingSink {
    fn put(&self, trail: &Trail, obj: &TrailObject<'_>) -> Result<(), String> {
        match self.external.get(obj.bucket) {
            Some(ext) => ext.put(obj.key, obj.body, obj.metadata),
            None => self.embedded.put(trail, obj),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_pages() {
        let xml = "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>a/b&amp;c.json.gz</Key><Size>3</Size></Contents><Contents><Key>d</Key></Contents><NextContinuationToken>t+1</NextContinuationToken></ListBucketResult>";
        let p = parse_list_page(xml);
        assert_eq!(p.keys, ["a/b&c.json.gz", "d"]);
        assert_eq!(p.next.as_deref(), Some("t+1"));
        let last = parse_list_page(
            "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>",
        );
        assert_eq!(last, ListPage::default());
    }

    #[test]
    fn endpoints() {
        assert_eq!(
            ExternalBucket::endpoint_of("http://127.0.0.1:9000/", None).unwrap(),
            ("127.0.0.1:9000".to_owned(), None)
        );
        let (hp, tls) = ExternalBucket::endpoint_of("https://s3.example.com", None).unwrap();
        assert_eq!(hp, "s3.example.com:443");
        assert!(tls.is_some());
        assert!(ExternalBucket::endpoint_of("http://", None).is_err());
        assert!(
            ExternalBucket::endpoint_of(
                "https://x",
                Some(std::path::Path::new("/nonexistent/ca.pem"))
            )
            .is_err()
        );
    }

    #[test]
    fn unreachable_endpoints_are_delivery_errors() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let b = ExternalBucket {
            name: "b".into(),
            endpoint: format!("127.0.0.1:{port}"),
            tls: None,
            region: "us-east-1".into(),
            access_key_id: "AKIA".into(),
            secret_access_key: "s".into(),
        };
        assert!(b.put("k", b"x", &[]).is_err());
    }
}
