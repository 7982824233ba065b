//! A small blocking SigV4 client for cairn's own calls to S3-compatible and CloudTrail
//! endpoints (trail delivery to external buckets, `cairn validate-logs`). HTTP/1.1 over plain
//! TCP or TLS, with kept-alive connections.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::sigv4::{SigningKey, sha256_hex, sign};
use crate::tls::{Tls, TlsStream};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// Where to send requests and how to sign them.
#[derive(Debug, Default)]
pub struct Endpoint {
    /// `host:port`
    pub host_port: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// How long a read or write may stall (default 30 s).
    pub io_timeout: Option<Duration>,
    /// Speak TLS (an `https://` endpoint).
    pub tls: Option<Tls>,
    /// Idle keep-alive connections.
    pub idle: std::sync::Mutex<Vec<Conn>>,
}

/// A connection: plain TCP, or TLS over it.
#[derive(Debug)]
pub enum Conn {
    Plain(TcpStream),
    Tls(TlsStream),
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
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

/// An endpoint URL taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    /// `host:port` (the scheme's port when the URL has none).
    pub host_port: String,
    pub https: bool,
}

/// `http://host[:port][/]` or `https://host[:port][/]`.
pub fn parse_url(url: &str) -> Result<Url, String> {
    let (rest, https, port) = if let Some(r) = url.strip_prefix("http://") {
        (r, false, 80)
    } else if let Some(r) = url.strip_prefix("https://") {
        (r, true, 443)
    } else {
        return Err(format!(
            "endpoint {url:?}: must start with http:// or https://"
        ));
    };
    let hostport = rest.trim_end_matches('/');
    if hostport.is_empty() || hostport.contains('/') {
        return Err(format!("endpoint {url:?} must be http(s)://host[:port]"));
    }
    let has_port = hostport
        .rsplit_once(':')
        .is_some_and(|(h, p)| !h.ends_with(':') && p.parse::<u16>().is_ok());
    Ok(Url {
        host_port: if has_port {
            hostport.to_owned()
        } else {
            format!("{hostport}:{port}")
        },
        https,
    })
}

/// `http://host:port[/]` → `host:port` (plain HTTP only).
pub fn host_port_of(url: &str) -> Result<String, String> {
    let u = parse_url(url)?;
    if u.https {
        return Err(format!("endpoint {url:?}: expected http://"));
    }
    Ok(u.host_port)
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
        let (h, target) =
            self.signed(service, method, path, query, extra, &sha256_hex(body), body)?;
        let req = crate::http1::request_bytes(method, &target, &h, body);
        let head_only = method == "HEAD";
        // A kept connection may have been closed by the server meanwhile: then try a new one.
        let kept = self.idle.lock().ok().and_then(|mut v| v.pop());
        if let Some(s) = kept
            && let Ok(r) = self.exchange(s, &req, head_only)
        {
            return Ok(r);
        }
        let s = self.connect()?;
        self.exchange(s, &req, head_only)
    }

    /// Sends one signed request whose body of `length` bytes is read from `body` as it is
    /// sent, never held whole. The payload is signed as `UNSIGNED-PAYLOAD` (its hash is known
    /// only once it is all sent). The request goes on a new connection; if `body` fails before
    /// its end, the connection is dropped with the request incomplete, so the server never
    /// takes it for a whole one.
    #[allow(clippy::too_many_arguments)]
    pub fn send_stream(
        &self,
        service: &str,
        method: &str,
        path: &str,
        query: Option<&str>,
        extra: &[(&str, &str)],
        body: &mut dyn Read,
        length: u64,
    ) -> Result<Response, String> {
        let (h, target) = self.signed(
            service,
            method,
            path,
            query,
            extra,
            crate::sigv4::UNSIGNED_PAYLOAD,
            &[],
        )?;
        let length = usize::try_from(length).map_err(|_| "body too large".to_owned())?;
        let head = crate::http1::request_head(method, &target, &h, length);
        let mut s = self.connect()?;
        let at = |e: std::io::Error| format!("{}: {e}", self.host_port);
        s.write_all(&head).map_err(at)?;
        let mut left = length;
        let mut chunk = vec![0u8; 64 * 1024];
        while left > 0 {
            let want = left.min(chunk.len());
            let n = match body.read(&mut chunk[..want]) {
                Ok(0) => return Err("the request body ended early".into()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("the request body failed: {e}")),
            };
            s.write_all(&chunk[..n]).map_err(at)?;
            left -= n;
        }
        self.read_response(s, method == "HEAD")
    }

    /// A request's headers (`host`, `x-amz-content-sha256: payload_hash`, `extra`) signed
    /// with SigV4, and its request target (path and query).
    #[allow(clippy::too_many_arguments)]
    fn signed(
        &self,
        service: &str,
        method: &str,
        path: &str,
        query: Option<&str>,
        extra: &[(&str, &str)],
        payload_hash: &str,
        body: &[u8],
    ) -> Result<(http::HeaderMap, String), String> {
        let mut h = http::HeaderMap::new();
        let hv = |s: &str| http::HeaderValue::from_str(s).map_err(|e| e.to_string());
        h.insert("host", hv(&self.host_port)?);
        h.insert("x-amz-content-sha256", hv(payload_hash)?);
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
        let target = match query {
            Some(q) if !q.is_empty() => format!("{path}?{q}"),
            _ => path.to_owned(),
        };
        Ok((h, target))
    }

    fn connect(&self) -> Result<Conn, String> {
        let at = |e: std::io::Error| format!("{}: {e}", self.host_port);
        let addr = self
            .host_port
            .to_socket_addrs()
            .map_err(at)?
            .next()
            .ok_or_else(|| format!("{}: no address", self.host_port))?;
        let s = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT).map_err(at)?;
        let timeout = self.io_timeout.unwrap_or(IO_TIMEOUT);
        s.set_read_timeout(Some(timeout)).map_err(at)?;
        s.set_write_timeout(Some(timeout)).map_err(at)?;
        s.set_nodelay(true).map_err(at)?;
        match &self.tls {
            None => Ok(Conn::Plain(s)),
            Some(tls) => {
                let host = self
                    .host_port
                    .rsplit_once(':')
                    .map_or(self.host_port.as_str(), |(h, _)| h);
                let host = host.trim_start_matches('[').trim_end_matches(']');
                Ok(Conn::Tls(tls.connect(host, s)?))
            }
        }
    }

    /// Sends one request on `s` and reads exactly its response; keeps `s` for reuse when the
    /// response says it may be.
    fn exchange(&self, mut s: Conn, req: &[u8], head_only: bool) -> Result<Response, String> {
        s.write_all(req)
            .map_err(|e| format!("{}: {e}", self.host_port))?;
        self.read_response(s, head_only)
    }

    /// Reads exactly one response from `s`; keeps `s` for reuse when the response says it
    /// may be.
    fn read_response(&self, mut s: Conn, head_only: bool) -> Result<Response, String> {
        let at = |e: std::io::Error| format!("{}: {e}", self.host_port);
        let mut buf = Vec::with_capacity(16 * 1024);
        let mut chunk = [0u8; 16 * 1024];
        let head_end = loop {
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p;
            }
            let n = s.read(&mut chunk).map_err(at)?;
            if n == 0 {
                return Err(format!("{}: connection closed", self.host_port));
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let mut r = parse_head(&buf[..head_end])?;
        let mut rest = buf[head_end + 4..].to_vec();
        let close = r
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let length = r
            .header("content-length")
            .and_then(|v| v.parse::<usize>().ok());
        let chunked = r
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        let reusable = if head_only || r.status == 204 || r.status == 304 {
            true
        } else if let Some(len) = length {
            while rest.len() < len {
                let n = s.read(&mut chunk).map_err(at)?;
                if n == 0 {
                    return Err(format!("{}: truncated response", self.host_port));
                }
                rest.extend_from_slice(&chunk[..n]);
            }
            rest.truncate(len);
            true
        } else if chunked {
            loop {
                if let Some(body) = complete_chunked(&rest) {
                    rest = body?;
                    break;
                }
                let n = s.read(&mut chunk).map_err(at)?;
                if n == 0 {
                    return Err(format!("{}: truncated response", self.host_port));
                }
                rest.extend_from_slice(&chunk[..n]);
            }
            true
        } else {
            s.read_to_end(&mut rest).map_err(at)?;
            false
        };
        r.body = rest;
        if reusable
            && !close
            && let Ok(mut idle) = self.idle.lock()
        {
            idle.push(s);
        }
        Ok(r)
    }
}

/// The decoded body once a chunked body is complete (its last chunk seen), else `None`.
fn complete_chunked(raw: &[u8]) -> Option<Result<Vec<u8>, String>> {
    let mut at = raw;
    loop {
        let line_end = at.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&at[..line_end]).ok()?;
        let size =
            usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16).ok()?;
        at = &at[line_end + 2..];
        if size == 0 {
            // Trailers end with an empty line.
            return at
                .windows(2)
                .position(|w| w == b"\r\n")
                .map(|_| dechunk(raw));
        }
        if at.len() < size + 2 {
            return None;
        }
        at = &at[size + 2..];
    }
}

/// Parses a whole response (head and body) read from a connection.
#[cfg(test)]
fn parse_response(resp: &[u8]) -> Result<Response, String> {
    let head_end = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("malformed HTTP response")?;
    let mut r = parse_head(&resp[..head_end])?;
    let raw = &resp[head_end + 4..];
    r.body = if r
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        dechunk(raw)?
    } else {
        raw.to_vec()
    };
    Ok(r)
}

/// The status line and headers; the body is read separately.
fn parse_head(head: &[u8]) -> Result<Response, String> {
    let head = std::str::from_utf8(head).map_err(|_| "malformed HTTP head")?;
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
    Ok(Response {
        status,
        headers,
        body: Vec::new(),
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
        assert_eq!(
            parse_url("https://s3.example.com").unwrap(),
            Url {
                host_port: "s3.example.com:443".into(),
                https: true
            }
        );
        assert_eq!(
            parse_url("https://127.0.0.1:8443/").unwrap().host_port,
            "127.0.0.1:8443"
        );
        assert!(parse_url("ftp://x").is_err());
    }
}
