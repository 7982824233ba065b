//! The envelope around each journal payload: where the record came from, whose it is, how the
//! call was answered (for consumers that need more than the record), and the record's JSON
//! bytes exactly as written or imported.
//!
//! Two layouts, told apart by their first byte: version 1 (`[1][kind][account length]
//! [account][record]`), written by builds before the answer was kept and still written for an
//! entry without one (an import, a console sign-in); version 2 adds the answer after the
//! account, length-prefixed (`[2][kind][account length][account][answer length][answer]
//! [record]`) so that a later build may add to it and an older answer still reads.

use crate::error::StoreError;

const VERSION_1: u8 = 1;
const VERSION_2: u8 = 2;

/// The answer's bytes as version 2 writes them: status (u16), bytes sent (u64), the object's
/// size (u64, `u64::MAX` when none), total and turn-around milliseconds (u32 each,
/// `u32::MAX` when unknown), little-endian.
const SERVED_LEN: usize = 2 + 8 + 8 + 4 + 4;
const UNKNOWN_MS: u32 = u32::MAX;
const NO_SIZE: u64 = u64::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A call cairn served and recorded.
    Recorded = 0,
    /// A record loaded by `cairn import`.
    Imported = 1,
}

/// How a call was answered: what S3's server access log writes beside a request and a
/// CloudTrail record has no field for, so it travels in the entry and never in the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Served {
    /// The HTTP status answered (206 for a ranged GET).
    pub status: u16,
    /// The response body's bytes.
    pub bytes_sent: u64,
    /// The size of the object the call was about (S3: the whole object, when a range of it
    /// was sent).
    pub object_size: Option<u64>,
    /// Milliseconds from the request's arrival to its answer (as far as the entry knows it:
    /// see the recorder).
    pub total_ms: Option<u32>,
    /// Milliseconds from the request's last byte to its answer.
    pub turn_around_ms: Option<u32>,
}

impl Served {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.status.to_le_bytes());
        out.extend_from_slice(&self.bytes_sent.to_le_bytes());
        out.extend_from_slice(&self.object_size.unwrap_or(NO_SIZE).to_le_bytes());
        for ms in [self.total_ms, self.turn_around_ms] {
            out.extend_from_slice(&ms.unwrap_or(UNKNOWN_MS).to_le_bytes());
        }
    }

    /// Reads the fields this build knows; a longer answer (a later build's) keeps its extra
    /// bytes to itself.
    fn decode(b: &[u8]) -> Option<Served> {
        let u32_at = |i: usize| {
            let v = u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?);
            Some((v != UNKNOWN_MS).then_some(v))
        };
        let size = u64::from_le_bytes(b.get(10..18)?.try_into().ok()?);
        Some(Served {
            status: u16::from_le_bytes(b.get(0..2)?.try_into().ok()?),
            bytes_sent: u64::from_le_bytes(b.get(2..10)?.try_into().ok()?),
            object_size: (size != NO_SIZE).then_some(size),
            total_ms: u32_at(18)?,
            turn_around_ms: u32_at(22)?,
        })
    }
}

/// One journal entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub kind: EntryKind,
    /// The account whose trail and history the record belongs to.
    pub account: String,
    /// The record's JSON, byte for byte.
    pub record: Vec<u8>,
    /// How the call was answered, when it was one cairn answered.
    pub served: Option<Served>,
}

impl Entry {
    pub fn encode(&self) -> Vec<u8> {
        let acct = self.account.as_bytes();
        let mut out = Vec::with_capacity(4 + SERVED_LEN + acct.len() + self.record.len());
        out.push(if self.served.is_some() {
            VERSION_2
        } else {
            VERSION_1
        });
        out.push(self.kind as u8);
        // Account ids are 12 characters; longer ones are refused by the model before this.
        out.push(u8::try_from(acct.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(&acct[..acct.len().min(255)]);
        if let Some(s) = &self.served {
            out.push(SERVED_LEN as u8);
            s.encode(&mut out);
        }
        out.extend_from_slice(&self.record);
        out
    }

    pub fn decode(offset: u64, buf: &[u8]) -> Result<Entry, StoreError> {
        let corrupt = |reason: &str| StoreError::Corrupt {
            offset,
            reason: reason.to_owned(),
        };
        if buf.len() < 3 {
            return Err(corrupt("entry shorter than its header"));
        }
        let version = buf[0];
        if version != VERSION_1 && version != VERSION_2 {
            return Err(corrupt("unknown entry version"));
        }
        let kind = match buf[1] {
            0 => EntryKind::Recorded,
            1 => EntryKind::Imported,
            _ => return Err(corrupt("unknown entry kind")),
        };
        let alen = usize::from(buf[2]);
        let account = buf
            .get(3..3 + alen)
            .ok_or_else(|| corrupt("entry account truncated"))?;
        let account = std::str::from_utf8(account)
            .map_err(|_| corrupt("entry account is not UTF-8"))?
            .to_owned();
        let mut at = 3 + alen;
        let served = if version == VERSION_2 {
            let slen = usize::from(
                *buf.get(at)
                    .ok_or_else(|| corrupt("entry answer truncated"))?,
            );
            let bytes = buf
                .get(at + 1..at + 1 + slen)
                .ok_or_else(|| corrupt("entry answer truncated"))?;
            at += 1 + slen;
            Some(Served::decode(bytes).ok_or_else(|| corrupt("entry answer too short"))?)
        } else {
            None
        };
        Ok(Entry {
            kind,
            account,
            record: buf[at..].to_vec(),
            served,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip() {
        let e = Entry {
            kind: EntryKind::Imported,
            account: "111122223333".into(),
            record: br#"{"a":1}"#.to_vec(),
            served: None,
        };
        assert_eq!(e.encode()[0], VERSION_1);
        assert_eq!(Entry::decode(0, &e.encode()).unwrap(), e);
        let served = Entry {
            kind: EntryKind::Recorded,
            served: Some(Served {
                status: 206,
                bytes_sent: 5,
                object_size: Some(100),
                total_ms: Some(12),
                turn_around_ms: None,
            }),
            ..e
        };
        assert_eq!(served.encode()[0], VERSION_2);
        assert_eq!(Entry::decode(0, &served.encode()).unwrap(), served);
    }

    #[test]
    fn a_version_1_entry_from_an_older_build_still_reads() {
        // Bytes as builds before the answer was kept wrote them.
        let mut old = vec![1, 0, 12];
        old.extend_from_slice(b"111122223333");
        old.extend_from_slice(br#"{"eventName":"GetObject"}"#);
        let e = Entry::decode(7, &old).unwrap();
        assert_eq!(
            (e.kind, e.account.as_str(), e.served),
            (EntryKind::Recorded, "111122223333", None)
        );
        assert_eq!(e.record, br#"{"eventName":"GetObject"}"#);
    }

    #[test]
    fn a_longer_answer_from_a_later_build_keeps_its_extra_bytes() {
        let mut buf = vec![2, 0, 1, b'7', (SERVED_LEN + 3) as u8];
        Served {
            status: 200,
            bytes_sent: 1,
            object_size: None,
            total_ms: Some(1),
            turn_around_ms: Some(0),
        }
        .encode(&mut buf);
        buf.extend_from_slice(&[9, 9, 9]);
        buf.extend_from_slice(b"{}");
        let e = Entry::decode(0, &buf).unwrap();
        assert_eq!(e.record, b"{}");
        assert_eq!(e.served.map(|s| s.status), Some(200));
        // Too short an answer is corrupt, not misread.
        assert!(Entry::decode(0, &[2, 0, 1, b'7', 3, 0, 0, 0, b'{', b'}']).is_err());
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Entry::decode(0, &bytes);
        }
    }
}
