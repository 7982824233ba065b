//! Where log files go: the embedded S3, or a bucket on another S3-compatible endpoint named in
//! configuration.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use cairn_model::{Clock, SystemClock};
use cairn_store::objects::{NewObject, ObjectStore};
use cairn_store::trails::Trail;
use cairn_wire::sigv4::{SigningKey, sha256_hex, sign};

/// An object CloudTrail writes for a trail: a log file or a digest.
pub struct TrailObject<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    /// The gzip'd bytes.
    pub body: &'a [u8],
    /// User metadata, names without `x-amz-meta-` and in lower case.
    pub metadata: &'a [(&'a str, &'a str)],
}

/// Writes a trail's objects; an error is the text GetTrailStatus shows.
pub trait LogSink: Send + Sync {
    fn put(&self, trail: &Trail, obj: &TrailObject<'_>) -> Result<(), String>;
}

/// Whether a trail's bucket lets CloudTrail write a key, as S3 would judge it.
pub trait BucketGate: Send + Sync {
    fn may_write(&self, bucket_policy: Option<&str>, trail: &Trail, key: &str) -> bool;
}

/// The embedded S3: the bucket must exist and its policy must let CloudTrail write.
pub struct EmbeddedSink {
    pub objects: Arc<ObjectStore>,
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
        let new = NewObject {
            content_type: Some("application/json".into()),
            metadata: obj
                .metadata
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            sse: Some("AES256".into()),
        };
        self.objects
            .put_object(obj.bucket, key, obj.body, &new, self.clock.now_millis())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// A bucket on another S3-compatible endpoint (plain HTTP), with the credentials to write it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalBucket {
    pub name: String,
    /// `host:port`
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const IO_TIMEOUT: Duration = Duration::from_secs(5);

impl ExternalBucket {
    /// Parses `http://host:port[/]` into the endpoint this client speaks to.
    pub fn endpoint_of(url: &str) -> Result<String, String> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            format!("external bucket endpoint {url:?}: only http:// endpoints are supported")
        })?;
        let hostport = rest.trim_end_matches('/');
        if hostport.is_empty() || hostport.contains('/') {
            return Err(format!(
                "external bucket endpoint {url:?} must be http://host:port"
            ));
        }
        Ok(hostport.to_owned())
    }

    /// Sends one signed, path-style request and returns the status and body.
    fn request(
        &self,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(u16, Vec<u8>), String> {
        let mut h = http::HeaderMap::new();
        let hv = |s: &str| http::HeaderValue::from_str(s).map_err(|e| e.to_string());
        h.insert("host", hv(&self.endpoint)?);
        h.insert("x-amz-content-sha256", hv(&sha256_hex(body))?);
        for (k, v) in extra {
            h.insert(
                http::HeaderName::from_bytes(k.as_bytes()).map_err(|e| e.to_string())?,
                hv(v)?,
            );
        }
        let key = SigningKey {
            access_key_id: &self.access_key_id,
            secret_access_key: &self.secret_access_key,
            region: &self.region,
            service: "s3",
        };
        sign(
            &key,
            method,
            path,
            None,
            &mut h,
            body,
            SystemClock.now_millis(),
        );
        h.insert("connection", http::HeaderValue::from_static("close"));
        let req = cairn_wire::http1::request_bytes(method, path, &h, body);
        let addr = self
            .endpoint
            .to_socket_addrs()
            .map_err(|e| format!("{}: {e}", self.endpoint))?
            .next()
            .ok_or_else(|| format!("{}: no address", self.endpoint))?;
        let mut s = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)
            .map_err(|e| format!("{}: {e}", self.endpoint))?;
        s.set_read_timeout(Some(IO_TIMEOUT))
            .map_err(|e| e.to_string())?;
        s.set_write_timeout(Some(IO_TIMEOUT))
            .map_err(|e| e.to_string())?;
        s.write_all(&req)
            .map_err(|e| format!("{}: {e}", self.endpoint))?;
        let mut resp = Vec::new();
        s.read_to_end(&mut resp)
            .map_err(|e| format!("{}: {e}", self.endpoint))?;
        let head_end = resp
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or("malformed HTTP response")?;
        let status = std::str::from_utf8(&resp[..head_end])
            .ok()
            .and_then(|h| h.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or("malformed HTTP status line")?;
        Ok((status, resp[head_end + 4..].to_vec()))
    }

    /// Whether the bucket exists there.
    pub fn exists(&self) -> Result<bool, String> {
        let (status, _) = self.request("HEAD", &format!("/{}", self.name), &[], b"")?;
        Ok((200..300).contains(&status))
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
        let mut headers = vec![
            ("x-amz-acl", "bucket-owner-full-control"),
            ("content-type", "application/json"),
        ];
        headers.extend(names.iter().zip(metadata).map(|(n, (_, v))| (n.as_str(), *v)));
        let (status, body) = self.request("PUT", &path, &headers, body)?;
        if (200..300).contains(&status) {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&body);
        let code = text
            .split("<Code>")
            .nth(1)
            .and_then(|r| r.split("</Code>").next())
            .unwrap_or("")
            .to_owned();
        Err(if code.is_empty() {
            format!("HTTP {status}")
        } else {
            code
        })
    }
}

/// Sends each trail's files to its external bucket if configured, else to the embedded S3.
pub struct RoutingSink {
    pub embedded: EmbeddedSink,
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
    fn endpoints() {
        assert_eq!(
            ExternalBucket::endpoint_of("http://127.0.0.1:9000/").unwrap(),
            "127.0.0.1:9000"
        );
        assert!(ExternalBucket::endpoint_of("https://s3.example.com").is_err());
        assert!(ExternalBucket::endpoint_of("http://").is_err());
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
            region: "us-east-1".into(),
            access_key_id: "AKIA".into(),
            secret_access_key: "s".into(),
        };
        assert!(b.put("k", b"x", &[]).is_err());
    }
}
