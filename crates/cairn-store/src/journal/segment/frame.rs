//! The on-disk frame: `[len: u32 LE][crc32: u32 LE][payload]`.

/// Bytes before the payload.
pub const HEADER_LEN: usize = 8;
/// Largest payload accepted; records are capped at 256 KB by AWS, envelopes add a few bytes.
pub const MAX_PAYLOAD: usize = 16 * 1024 * 1024;

pub fn encode_into(out: &mut Vec<u8>, payload: &[u8]) {
    // Payloads are bounded by MAX_PAYLOAD, so the length fits in u32.
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// What sits at a position of a segment.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A whole, valid frame and its total length.
    Frame { payload: &'a [u8], len: usize },
    /// The bytes end before the frame does: a torn tail.
    Incomplete,
    /// The frame is whole but its checksum or length is wrong.
    Corrupt(&'static str),
}

pub fn decode(buf: &[u8]) -> Decoded<'_> {
    if buf.len() < HEADER_LEN {
        return Decoded::Incomplete;
    }
    let len = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    let crc = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]);
    if len > MAX_PAYLOAD {
        return Decoded::Corrupt("length beyond the maximum payload");
    }
    let Some(payload) = buf.get(HEADER_LEN..HEADER_LEN + len) else {
        return Decoded::Incomplete;
    };
    if crc32fast::hash(payload) != crc {
        return Decoded::Corrupt("checksum mismatch");
    }
    Decoded::Frame {
        payload,
        len: HEADER_LEN + len,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip_and_damage() {
        let mut buf = Vec::new();
        encode_into(&mut buf, b"hello");
        assert_eq!(
            decode(&buf),
            Decoded::Frame {
                payload: b"hello",
                len: 13
            }
        );
        assert_eq!(decode(&buf[..10]), Decoded::Incomplete);
        let mut bad = buf.clone();
        bad[9] ^= 1;
        assert_eq!(decode(&bad), Decoded::Corrupt("checksum mismatch"));
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode(&bytes);
        }
    }
}
