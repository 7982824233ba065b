//! Ciphertext blobs: which key, and the AES-256-GCM sealing of the plaintext under that key's
//! material, bound to the encryption context.
//!
//! Layout: `0x01` ‖ key id (36 ASCII bytes) ‖ nonce (12) ‖ ciphertext ‖ tag (16). Like AWS's,
//! a blob names its key, so Decrypt needs no KeyId.

use std::collections::BTreeMap;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};

const VERSION: u8 = 1;
const KEY_ID_LEN: usize = 36;

/// The encryption context as additional authenticated data: sorted, so order never matters.
fn aad(context: &BTreeMap<String, String>) -> Vec<u8> {
    serde_json::to_vec(context).unwrap_or_default()
}

pub fn seal(
    key_id: &str,
    material: &[u8],
    plaintext: &[u8],
    context: &BTreeMap<String, String>,
) -> Result<Vec<u8>, String> {
    if key_id.len() != KEY_ID_LEN {
        return Err("malformed key id".into());
    }
    let cipher = Aes256Gcm::new_from_slice(material).map_err(|e| e.to_string())?;
    let nonce: [u8; 12] = rand::random();
    let aad = aad(context);
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(1 + KEY_ID_LEN + 12 + ct.len());
    out.push(VERSION);
    out.extend_from_slice(key_id.as_bytes());
    out.extend_from_slice(&nonce);
    out.extend(ct);
    Ok(out)
}

/// The key id a blob names, if it is one of cairn's blobs.
pub fn key_of(blob: &[u8]) -> Option<&str> {
    if blob.len() < 1 + KEY_ID_LEN + 12 + 16 || blob[0] != VERSION {
        return None;
    }
    std::str::from_utf8(&blob[1..1 + KEY_ID_LEN]).ok()
}

/// The plaintext, or `None` when the blob, key or context do not match.
pub fn open(blob: &[u8], material: &[u8], context: &BTreeMap<String, String>) -> Option<Vec<u8>> {
    key_of(blob)?;
    let cipher = Aes256Gcm::new_from_slice(material).ok()?;
    let nonce = &blob[1 + KEY_ID_LEN..1 + KEY_ID_LEN + 12];
    let aad = aad(context);
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: &blob[1 + KEY_ID_LEN + 12..],
                aad: &aad,
            },
        )
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_bound_to_key_and_context() {
        let id = "1234abcd-12ab-34cd-56ef-1234567890ab";
        let m = [3u8; 32];
        let ctx: BTreeMap<String, String> = [("a".to_owned(), "1".to_owned())].into();
        let blob = seal(id, &m, b"hello", &ctx).unwrap();
        assert_eq!(key_of(&blob), Some(id));
        assert_eq!(open(&blob, &m, &ctx).unwrap(), b"hello");
        assert!(open(&blob, &[4u8; 32], &ctx).is_none(), "another key");
        assert!(
            open(&blob, &m, &BTreeMap::new()).is_none(),
            "another context"
        );
        let mut bad = blob.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(open(&bad, &m, &ctx).is_none());
        assert!(key_of(b"short").is_none());
    }
}
