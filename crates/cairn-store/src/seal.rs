//! Sealing small secrets at rest (signing keys, KMS key material): AES-256-GCM under a 32-byte
//! master key kept in a file of its own, mode 0600, made on first use.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};

use crate::error::StoreError;

pub struct Sealer {
    cipher: Aes256Gcm,
}

fn crypto(msg: impl Into<String>) -> StoreError {
    StoreError::Crypto(msg.into())
}

/// The 32-byte master key at `path`, made (mode 0600, written atomically) if absent. A file
/// of another size is an `InvalidData` error.
pub fn load_or_create_key(path: &Path) -> std::io::Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(k) if k.len() == 32 => Ok(k),
        Ok(_) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not a 32-byte key",
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let k: [u8; 32] = rand::random();
            let tmp = path.with_extension("tmp");
            let mut f = std::fs::File::create(&tmp)?;
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            f.write_all(&k)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)?;
            Ok(k.to_vec())
        }
        Err(e) => Err(e),
    }
}

impl Sealer {
    /// Opens the master key at `path`, creating it (mode 0600) if absent.
    pub fn open(path: &Path) -> Result<Sealer, StoreError> {
        let key = load_or_create_key(path).map_err(|e| StoreError::io(path, e))?;
        Ok(Sealer {
            cipher: Aes256Gcm::new_from_slice(&key).map_err(|e| crypto(e.to_string()))?,
        })
    }

    /// nonce ‖ ciphertext ‖ tag
    pub fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, StoreError> {
        let nonce: [u8; 12] = rand::random();
        let mut out = nonce.to_vec();
        out.extend(
            self.cipher
                .encrypt(Nonce::from_slice(&nonce), plain)
                .map_err(|e| crypto(e.to_string()))?,
        );
        Ok(out)
    }

    pub fn unseal(&self, sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
        if sealed.len() < 12 {
            return Err(crypto("a sealed secret is too short"));
        }
        let (nonce, ct) = sealed.split_at(12);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| crypto("a sealed secret failed authentication"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_round_trip_and_detect_tampering() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("m.key");
        let s = Sealer::open(&path).unwrap();
        let sealed = s.seal(b"secret").unwrap();
        assert_eq!(
            Sealer::open(&path).unwrap().unseal(&sealed).unwrap(),
            b"secret"
        );
        let mut bad = sealed.clone();
        bad[14] ^= 1;
        assert!(s.unseal(&bad).is_err());
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
