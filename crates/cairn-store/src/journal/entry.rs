//! The envelope around each journal payload: where the record came from, whose it is, and the
//! record's JSON bytes exactly as written or imported.

use crate::error::StoreError;

const VERSION: u8 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A call cairn served and recorded.
    Recorded = 0,
    /// A record loaded by `cairn import`.
    Imported = 1,
}

/// One journal entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub kind: EntryKind,
    /// The account whose trail and history the record belongs to.
    pub account: String,
    /// The record's JSON, byte for byte.
    pub record: Vec<u8>,
}

impl Entry {
    pub fn encode(&self) -> Vec<u8> {
        let acct = self.account.as_bytes();
        let mut out = Vec::with_capacity(3 + acct.len() + self.record.len());
        out.push(VERSION);
        out.push(self.kind as u8);
        // Account ids are 12 characters; longer ones are refused by the model before this.
        out.push(u8::try_from(acct.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(&acct[..acct.len().min(255)]);
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
        if buf[0] != VERSION {
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
        Ok(Entry {
            kind,
            account,
            record: buf[3 + alen..].to_vec(),
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
        };
        assert_eq!(Entry::decode(0, &e.encode()).unwrap(), e);
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Entry::decode(0, &bytes);
        }
    }
}
