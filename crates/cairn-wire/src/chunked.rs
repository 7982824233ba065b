//! `aws-chunked` request bodies (`Content-Encoding: aws-chunked`): the chunk framing SDKs use
//! for streaming uploads, optionally followed by trailing headers such as
//! `x-amz-checksum-crc32`.

use std::collections::BTreeMap;

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
#[error("malformed aws-chunked body: {0}")]
pub struct ChunkedError(pub &'static str);

/// The decoded payload and its trailing headers (lower-case names).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Decoded {
    pub payload: Vec<u8>,
    pub trailers: BTreeMap<String, String>,
    /// Each chunk's `chunk-signature` (if it had one) and its bytes' range in `payload`, the
    /// final empty chunk included.
    pub chunks: Vec<(Option<String>, std::ops::Range<usize>)>,
}

fn line(buf: &[u8], pos: &mut usize) -> Result<String, ChunkedError> {
    let rest = buf.get(*pos..).ok_or(ChunkedError("truncated"))?;
    let end = rest
        .windows(2)
        .position(|w| w == b"\r\n")
        .ok_or(ChunkedError("missing CRLF"))?;
    let s = std::str::from_utf8(&rest[..end]).map_err(|_| ChunkedError("header is not UTF-8"))?;
    *pos += end + 2;
    Ok(s.to_owned())
}

pub fn decode(body: &[u8]) -> Result<Decoded, ChunkedError> {
    let mut out = Decoded::default();
    let mut pos = 0;
    loop {
        let header = line(body, &mut pos)?;
        let mut parts = header.split(';');
        let size_hex = parts.next().unwrap_or("").trim();
        let signature = parts
            .find_map(|p| p.trim().strip_prefix("chunk-signature="))
            .map(str::to_owned);
        let size =
            usize::from_str_radix(size_hex, 16).map_err(|_| ChunkedError("bad chunk size"))?;
        let start = out.payload.len();
        out.chunks
            .push((signature, start..start.saturating_add(size)));
        if size == 0 {
            break;
        }
        let data = body
            .get(
                pos..pos
                    .checked_add(size)
                    .ok_or(ChunkedError("chunk too large"))?,
            )
            .ok_or(ChunkedError("chunk shorter than its size"))?;
        out.payload.extend_from_slice(data);
        pos += size;
        if body.get(pos..pos + 2) != Some(b"\r\n") {
            return Err(ChunkedError("missing CRLF after chunk"));
        }
        pos += 2;
    }
    // Trailers, if any, up to an empty line or the end.
    while pos < body.len() {
        let l = line(body, &mut pos).unwrap_or_default();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            out.trailers
                .insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn signed_chunks_and_trailers() {
        let body = b"5;chunk-signature=abc\r\nhello\r\n6;chunk-signature=def\r\n world\r\n0;chunk-signature=ghi\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        let d = decode(body).unwrap();
        assert_eq!(d.payload, b"hello world");
        assert_eq!(d.trailers["x-amz-checksum-crc32"], "DUoRhQ==");
        assert_eq!(d.chunks.len(), 3);
        assert_eq!(d.chunks[1], (Some("def".to_owned()), 5..11));
        assert!(decode(b"5\r\nhel").is_err());
        assert!(decode(b"zz\r\n").is_err());
    }

    proptest! {
        #[test]
        fn never_panics(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&b);
        }
    }
}
