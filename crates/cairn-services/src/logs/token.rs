//! Paging tokens. GetLogEvents answers `f/<56 digits>` and `b/<56 digits>`, as AWS does: here
//! the digits hold the (timestamp, id) position the next page starts from, and a check so that
//! a token cairn did not make is refused ("The specified nextToken is invalid."). The Describe
//! and Filter operations' tokens are opaque: the same digits, or a name in hex, each with the
//! same check.

use cairn_store::logs::Position;
use sha2::{Digest, Sha256};

/// 16 digits that tie `body` to this instance's token key.
fn check(key: &[u8], body: &str) -> String {
    let mut h = Sha256::new();
    h.update(key);
    h.update(body.as_bytes());
    let d = h.finalize();
    let mut n = [0u8; 8];
    n.copy_from_slice(&d[..8]);
    format!("{:016}", u64::from_be_bytes(n) % 10_000_000_000_000_000)
}

/// 56 digits: the timestamp and id (20 each, offset so negatives fit) and the check.
pub(super) fn position(key: &[u8], p: Position) -> String {
    const OFFSET: i128 = 1 << 62;
    let body = format!(
        "{:020}{:020}",
        i128::from(p.timestamp) + OFFSET,
        i128::from(p.id) + OFFSET
    );
    let c = check(key, &body);
    format!("{body}{c}")
}

/// The position in 56 digits made by [`position`], `None` if they are not.
pub(super) fn parse_position(key: &[u8], s: &str) -> Option<Position> {
    const OFFSET: i128 = 1 << 62;
    if s.len() != 56 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (body, c) = s.split_at(40);
    if check(key, body) != c {
        return None;
    }
    let ts = body[..20].parse::<i128>().ok()? - OFFSET;
    let id = body[20..].parse::<i128>().ok()? - OFFSET;
    Some(Position {
        timestamp: i64::try_from(ts).ok()?,
        id: i64::try_from(id).ok()?,
    })
}

/// An opaque token for "after this name" (Describe* pages).
pub(super) fn after_name(key: &[u8], name: &str) -> String {
    let body = hex::encode(name.as_bytes());
    format!("{}{body}", check(key, &body))
}

/// The name in a token made by [`after_name`].
pub(super) fn parse_after_name(key: &[u8], s: &str) -> Option<String> {
    if s.len() < 16 || !s.is_char_boundary(16) {
        return None;
    }
    let (c, body) = s.split_at(16);
    if check(key, body) != c {
        return None;
    }
    String::from_utf8(hex::decode(body).ok()?).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn positions_round_trip_and_foreign_tokens_are_refused() {
        let p = Position {
            timestamp: 1_700_000_000_000,
            id: 42,
        };
        let t = position(b"k", p);
        assert_eq!(t.len(), 56);
        assert_eq!(parse_position(b"k", &t), Some(p));
        assert_eq!(parse_position(b"other", &t), None);
        let neg = Position {
            timestamp: -5,
            id: 0,
        };
        assert_eq!(parse_position(b"k", &position(b"k", neg)), Some(neg));
        assert_eq!(parse_position(b"k", "123"), None);
        let n = after_name(b"k", "/aws/x");
        assert_eq!(parse_after_name(b"k", &n).as_deref(), Some("/aws/x"));
        assert_eq!(parse_after_name(b"k", "0000000000000000zz"), None);
    }
}
