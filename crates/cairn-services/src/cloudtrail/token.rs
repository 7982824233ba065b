//! Pagination tokens: opaque, bound to the query they continue, and signed so that a client
//! cannot forge or alter one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cairn_store::history::PageAfter;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const MAC_LEN: usize = 16;

fn mac(key: &[u8], binding: &[u8], body: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(&(binding.len() as u64).to_le_bytes());
    m.update(binding);
    m.update(body);
    m.finalize().into_bytes()[..MAC_LEN].to_vec()
}

/// A token for the page after `after`, valid only for queries with the same `binding`.
pub fn issue(key: &[u8], binding: &[u8], after: PageAfter) -> String {
    let mut body = Vec::with_capacity(16 + MAC_LEN);
    body.extend_from_slice(&after.t.to_le_bytes());
    body.extend_from_slice(&after.seq.to_le_bytes());
    let tag = mac(key, binding, &body);
    body.extend_from_slice(&tag);
    URL_SAFE_NO_PAD.encode(body)
}

/// Reads a token back; `None` if it is malformed, altered, or from another query.
pub fn open(key: &[u8], binding: &[u8], token: &str) -> Option<PageAfter> {
    let raw = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    if raw.len() != 16 + MAC_LEN {
        return None;
    }
    let (body, tag) = raw.split_at(16);
    let want = mac(key, binding, body);
    if want.iter().zip(tag).fold(0u8, |a, (x, y)| a | (x ^ y)) != 0 {
        return None;
    }
    Some(PageAfter {
        t: i64::from_le_bytes(body[..8].try_into().ok()?),
        seq: i64::from_le_bytes(body[8..16].try_into().ok()?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let a = PageAfter { t: 123, seq: 456 };
        let t = issue(b"k", b"q1", a);
        assert_eq!(open(b"k", b"q1", &t), Some(a));
        assert_eq!(open(b"k", b"q2", &t), None);
        assert_eq!(open(b"other", b"q1", &t), None);
        let mut chars: Vec<char> = t.chars().collect();
        chars[2] = if chars[2] == 'A' { 'B' } else { 'A' };
        let bad: String = chars.into_iter().collect();
        assert_eq!(open(b"k", b"q1", &bad), None);
        assert_eq!(open(b"k", b"q1", "garbage!"), None);
    }
}
