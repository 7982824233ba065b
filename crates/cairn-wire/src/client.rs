//! A small blocking SigV4 client for cairn's own calls to S3-compatible and CloudTrail
//! endpoints (trail delivery to external buckets, `cairn validate-logs`). Plain HTTP/1.1, one
//! connection per request.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::sigv4::{SigningKey, sha256_hex, sign};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// Where to send requests and how to sign them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// `host:port`
    pub host_port: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The `<Code>` of an S3 XML error, or the `__type` of a JSON error, else `HTTP <status>`.
    pub fn error_code(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        if let Some(code) = text
            .split("<Code>")
            .nth(1)
            .and_then(|r| r.split("</Code>").next())
        {
            return code.to_owned();
        }
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&self.body)
            && let Some(t) = v.get("__type").and_then(|t| t.as_str())
        {
            return t.rsplit('#').next().unwrap_or(t).to_owned();
        }
        format!("HTTP {}", self.status)
    }
}

/// `http://host:port[/]` → `host:port`.
pub fn host_port_of(url: &str) -> Result<String, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("endpoint {url:?}: only http:// endpoints are supported"))?;
    let hostport = rest.trim_end_matches('/');
    if hostport.is_empty() || hostport.contains('/') {
        return Err(format!("endpoint {url:?} must be http://host:port"));
    }
    Ok(hostport.to_owned())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Endpoint {
    /// Sends one signed request. `path` is already URI-encoded; `query` is the raw query string.
    pub fn send(
        &self,
        service: &str,
        method: &str,
        path: &str,
        query: Option<&str>,
        extra: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response, String> {
        let mut h = http::HeaderMap::new();
        let hv = |s: &str| http::HeaderValue::from_str(s).map_err(|e| e.to_string());
        h.insert("host", hv(&self.host_port)?);
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
            service,
        };
        sign(&key, method, path, query, &mut h, body, now_ms());
        h.insert("connection", http::HeaderValue::from_static("close"));
        let target = match query {
            Some(q) if !q.is_empty() => format!("{path}?{q}"),
            _ => path.to_owned(),
        };
        let req = crate::http1::request_bytes(method, &target, &h, body);
        let at = |e: std::io::Error| format!("{}: {e}", self.host_port);
        let addr = self
            .host_port
            .to_socket_addrs()
            .map_err(at)?
            .next()
            .ok_or_else(|| format!("{}: no address", self.host_port))?;
        let mut s = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT).map_err(at)?;
        s.set_read_timeout(Some(IO_TIMEOUT)).map_err(at)?;
        s.set_write_timeout(Some(IO_TIMEOUT)).map_err(at)?;
        s.set_nodelay(true).map_err(at)?;
        s.write_all(&req).map_err(at)?;
        let mut resp = Vec::new();
        s.read_to_end(&mut resp).map_err(at)?;
        parse_response(&resp)
    }
}

fn parse_response(resp: &[u8]) -> Result<Response, String> {
    let head_end = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("malformed HTTP response")?;
    let head = std::str::from_utf8(&resp[..head_end]).map_err(|_| "malformed HTTP head")?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("malformed HTTP status line")?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let raw = &resp[head_end + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked { dechunk(raw)? } else { raw.to_vec() };
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// Decodes a `transfer-encoding: chunked` body.
fn dechunk(mut raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(raw.len());
    loop {
        let line_end = raw
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("malformed chunked body")?;
        let size_text =
            std::str::from_utf8(&raw[..line_end]).map_err(|_| "malformed chunk size")?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| "malformed chunk size")?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if raw.len() < size + 2 {
            return Err("truncated chunked body".into());
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked_responses() {
        let r =
            parse_response(b"HTTP/1.1 200 OK\r\nX-Amz-Meta-Signature: ab\r\n\r\nhello").unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-amz-meta-signature"), Some("ab"));
        assert_eq!(r.body, b"hello");
        let r = parse_response(
            b"HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n5\r\n<Code\r\n11\r\n>NoSuchKey</Code>\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.error_code(), "NoSuchKey");
        let r = parse_response(b"HTTP/1.1 400 x\r\n\r\n{\"__type\":\"ns#TrailNotFoundException\"}")
            .unwrap();
        assert_eq!(r.error_code(), "TrailNotFoundException");
    }

    #[test]
    fn endpoints() {
        assert_eq!(
            host_port_of("http://127.0.0.1:9000/").unwrap(),
            "127.0.0.1:9000"
        );
        assert!(host_port_of("https://s3.example.com").is_err());
        assert!(host_port_of("http://").is_err());
    }
}
