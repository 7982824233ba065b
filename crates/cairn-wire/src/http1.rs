//! HTTP/1.1 request framing for cairn's own small clients (the benchmark load generators and
//! delivery to external S3 endpoints).

/// `METHOD path HTTP/1.1`, every header, `content-length`, a blank line, the body.
pub fn request_bytes(method: &str, path: &str, headers: &http::HeaderMap, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(512 + body.len());
    out.extend_from_slice(format!("{method} {path} HTTP/1.1\r\n").as_bytes());
    for (k, v) in headers {
        out.extend_from_slice(k.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
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
