//! A PutLogEvents batch packed in one blob, as both backends keep it: per event its timestamp
//! (i64, little-endian), the length of its message (u32) and the message's bytes, in the batch's
//! (timestamp) order.

use crate::error::StoreError;
use crate::logs::NewEvent;

/// Packs events (already in timestamp order).
pub(crate) fn pack(events: &[NewEvent]) -> Vec<u8> {
    let size: usize = events.iter().map(|e| 12 + e.message.len()).sum();
    let mut out = Vec::with_capacity(size);
    for e in events {
        out.extend_from_slice(&e.timestamp.to_le_bytes());
        out.extend_from_slice(&(e.message.len() as u32).to_le_bytes());
        out.extend_from_slice(e.message.as_bytes());
    }
    out
}

/// The events of a packed batch, as (timestamp, message).
pub(crate) fn unpack(blob: &[u8]) -> Result<Vec<(i64, &str)>, StoreError> {
    let bad = || StoreError::Invalid("a stored log event batch is damaged".into());
    let mut out = Vec::new();
    let mut rest = blob;
    while !rest.is_empty() {
        let (ts, tail) = rest.split_at_checked(8).ok_or_else(bad)?;
        let (len, tail) = tail.split_at_checked(4).ok_or_else(bad)?;
        let ts = i64::from_le_bytes(ts.try_into().map_err(|_| bad())?);
        let len = u32::from_le_bytes(len.try_into().map_err(|_| bad())?) as usize;
        let (msg, tail) = tail.split_at_checked(len).ok_or_else(bad)?;
        out.push((ts, std::str::from_utf8(msg).map_err(|_| bad())?));
        rest = tail;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_unpacks_to_what_was_packed() {
        let events = vec![
            NewEvent {
                timestamp: -5,
                message: String::new(),
            },
            NewEvent {
                timestamp: 7,
                message: "héllo {\"a\":1}".into(),
            },
        ];
        let blob = pack(&events);
        assert_eq!(
            unpack(&blob).unwrap(),
            vec![(-5, ""), (7, "héllo {\"a\":1}")]
        );
        assert!(unpack(&blob[..blob.len() - 1]).is_err());
    }
}
