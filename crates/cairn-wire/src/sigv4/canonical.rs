//! The SigV4 canonical request, rebuilt from the request as received.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use super::{AuthKind, RequestParts};

/// RFC 3986 unreserved characters stay as they are; everything else is encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The same set, with `/` kept as a path separator.
const UNRESERVED_AND_SLASH: &AsciiSet = &UNRESERVED.remove(b'/');

/// SigV4's URI encoding of one component.
pub fn uri_encode(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// The path with each segment in canonical encoding (decoded, then encoded once).
fn normalized_path(raw_path: &str, remove_dot_segments: bool) -> String {
    let raw = if raw_path.is_empty() { "/" } else { raw_path };
    let mut segments: Vec<String> = Vec::new();
    let parts: Vec<&str> = raw.split('/').collect();
    for (i, seg) in parts.iter().enumerate() {
        if remove_dot_segments {
            match *seg {
                "." => continue,
                ".." => {
                    if segments.len() > 1 {
                        segments.pop();
                    }
                    continue;
                }
                "" if i != 0 && i != parts.len() - 1 => continue,
                _ => {}
            }
        }
        segments.push(uri_encode(&decode(seg)));
    }
    let joined = segments.join("/");
    if joined.is_empty() {
        "/".to_owned()
    } else {
        joined
    }
}

/// The canonical URI. S3 signs the path encoded once and as-is; every other service normalizes
/// the path and encodes the already-encoded path a second time.
fn canonical_uri(raw_path: &str, double_encode: bool) -> String {
    if double_encode {
        let once = normalized_path(raw_path, true);
        utf8_percent_encode(&once, UNRESERVED_AND_SLASH).to_string()
    } else {
        normalized_path(raw_path, false)
    }
}

fn canonical_query(raw_query: Option<&str>, presigned: bool) -> String {
    let Some(q) = raw_query else {
        return String::new();
    };
    let mut pairs: Vec<(String, String)> = q
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (uri_encode(&decode(k)), uri_encode(&decode(v)))
        })
        .filter(|(k, _)| !(presigned && k == "X-Amz-Signature"))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn canonical_header_value(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Builds the canonical request for the given signed headers and payload hash.
pub fn canonical_request(
    parts: &RequestParts<'_>,
    signed_headers: &[String],
    payload_hash: &str,
    kind: &AuthKind,
    double_encode_path: bool,
) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(parts.method);
    out.push('\n');
    out.push_str(&canonical_uri(parts.raw_path, double_encode_path));
    out.push('\n');
    out.push_str(&canonical_query(
        parts.raw_query,
        matches!(kind, AuthKind::Presigned { .. }),
    ));
    out.push('\n');
    for name in signed_headers {
        out.push_str(name);
        out.push(':');
        let values: Vec<String> = parts
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| canonical_header_value(v.as_bytes()))
            .collect();
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&signed_headers.join(";"));
    out.push('\n');
    out.push_str(payload_hash);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(canonical_uri("", true), "/");
        assert_eq!(canonical_uri("/", true), "/");
        assert_eq!(canonical_uri("/a b/c", false), "/a%20b/c");
        assert_eq!(canonical_uri("/a%20b/c", false), "/a%20b/c");
        assert_eq!(canonical_uri("/a%20b/c", true), "/a%2520b/c");
        assert_eq!(canonical_uri("/a/./b/../c", true), "/a/c");
        assert_eq!(canonical_uri("/bucket/a//b", false), "/bucket/a//b");
    }

    #[test]
    fn queries_are_sorted_and_reencoded() {
        assert_eq!(
            canonical_query(Some("b=2&a=x%2Fy&a=1&c"), false),
            "a=1&a=x%2Fy&b=2&c="
        );
        assert_eq!(
            canonical_query(Some("X-Amz-Signature=abc&X-Amz-Date=1"), true),
            "X-Amz-Date=1"
        );
    }
}
