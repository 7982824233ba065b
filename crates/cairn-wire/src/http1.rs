//! HTTP/1.1 request framing for cairn's own small clients (the benchmark load generators and
//! delivery to external S3 endpoints).

/// `METHOD path HTTP/1.1`, every header, `content-length`, a blank line, the body.
pub fn request_bytes(method: &str, path: &str, headers: &http::HeaderMap, body: &[u8]) -> Vec<u8> {
    let mut out = request_head(method, path, headers, body.len());
    out.extend_from_slice(body);
    out
}

/// The request line and headers (with `content-length`) of a request whose body of
/// `content_length` bytes the caller sends next, so large bodies need not be copied.
pub fn request_head(
    method: &str,
    path: &str,
    headers: &http::HeaderMap,
    content_length: usize,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(format!("{method} {path} HTTP/1.1\r\n").as_bytes());
    for (k, v) in headers {
        out.extend_from_slice(k.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("content-length: {content_length}\r\n\r\n").as_bytes());
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn frames_a_request() {
        let mut h = http::HeaderMap::new();
        h.insert("host", http::HeaderValue::from_static("h"));
        let r = super::request_bytes("PUT", "/b/k", &h, b"xy");
        assert_eq!(
            r,
            b"PUT /b/k HTTP/1.1\r\nhost: h\r\ncontent-length: 2\r\n\r\nxy"
        );
    }
}
