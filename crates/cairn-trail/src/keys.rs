//! Digest signing keys: RSA-2048 per region, in about-30-day validity windows that overlap at
//! rotation, old keys kept for past ranges, private keys sealed at rest. ListPublicKeys serves
//! their public halves exactly as AWS does (PKCS#1 DER, fingerprint = hex MD5 of the DER).

use std::path::Path;
use std::sync::{Arc, Mutex};

use cairn_model::Clock;
use cairn_store::StoreError;
use cairn_store::seal::Sealer;
use cairn_store::trails::{StoredKey, TrailStore};
use md5::{Digest, Md5};
use rsa::RsaPrivateKey;
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};

/// A key's validity, as in AWS's published keys.
pub const VALIDITY_MS: i64 = 30 * 86_400_000;
/// A new key is made once the current one has less than this left, so windows overlap.
pub const ROTATE_BEFORE_END_MS: i64 = 86_400_000;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing key material: {0}")]
    Crypto(String),
    #[error("I/O error on {0}: {1}")]
    Io(String, std::io::Error),
}

/// A usable signing key.
#[derive(Clone)]
pub struct SigningKey {
    pub fingerprint: String,
    pub public_der: Vec<u8>,
    pub private: Arc<ring::rsa::KeyPair>,
    pub valid_from_ms: i64,
    pub valid_to_ms: i64,
}

pub struct KeyRing {
    trails: Arc<dyn TrailStore>,
    clock: Arc<dyn Clock>,
    sealer: Sealer,
    /// Held while deciding whether to make a key, so two callers never make two.
    rotating: Mutex<()>,
    validity_ms: i64,
    rotate_before_end_ms: i64,
}

/// hex MD5 of the DER, as AWS computes key fingerprints.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Md5::digest(der))
}

impl KeyRing {
    /// `master_key_path` holds the key that seals private keys (created, mode 0600, if absent).
    pub fn open(
        trails: Arc<dyn TrailStore>,
        clock: Arc<dyn Clock>,
        master_key_path: &Path,
    ) -> Result<KeyRing, KeyError> {
        let sealer = Sealer::open(master_key_path)?;
        Ok(KeyRing {
            trails,
            clock,
            sealer,
            rotating: Mutex::new(()),
            validity_ms: VALIDITY_MS,
            rotate_before_end_ms: ROTATE_BEFORE_END_MS,
        })
    }

    /// Shorter (or longer) key windows, for labs and tests that want to see a rotation. The
    /// overlap keeps AWS's proportion: a thirtieth of the window.
    pub fn with_validity(mut self, validity_ms: i64) -> KeyRing {
        self.validity_ms = validity_ms.max(1000);
        self.rotate_before_end_ms = self.validity_ms / 30;
        self
    }

    fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, KeyError> {
        Ok(self.sealer.seal(plain)?)
    }

    fn unseal(&self, sealed: &[u8]) -> Result<Vec<u8>, KeyError> {
        Ok(self.sealer.unseal(sealed)?)
    }

    fn make_key(&self, region: &str, from_ms: i64) -> Result<StoredKey, KeyError> {
        let mut rng = rand::rngs::OsRng;
        let private =
            RsaPrivateKey::new(&mut rng, 2048).map_err(|e| KeyError::Crypto(e.to_string()))?;
        let public_der = private
            .to_public_key()
            .to_pkcs1_der()
            .map_err(|e| KeyError::Crypto(e.to_string()))?
            .as_bytes()
            .to_vec();
        let private_der = private
            .to_pkcs1_der()
            .map_err(|e| KeyError::Crypto(e.to_string()))?;
        let k = StoredKey {
            region: region.to_owned(),
            fingerprint: fingerprint(&public_der),
            public_der,
            private_sealed: self.seal(private_der.as_bytes())?,
            valid_from_ms: from_ms,
            valid_to_ms: from_ms + self.validity_ms,
        };
        self.trails.add_signing_key(&k)?;
        Ok(k)
    }

    /// The key to sign with now in `region`, made (or rotated) as needed.
    pub fn current(&self, region: &str) -> Result<SigningKey, KeyError> {
        let _guard = self.rotating.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.clock.now_millis();
        let newest = self
            .trails
            .signing_keys(region, now, now)?
            .into_iter()
            .max_by_key(|k| k.valid_from_ms);
        let stored = match newest {
            Some(k) if k.valid_to_ms - now > self.rotate_before_end_ms => k,
            // Windows start on a whole second, as AWS's keys do.
            _ => self.make_key(region, now - now.rem_euclid(1000))?,
        };
        self.usable(&stored)
    }

    fn usable(&self, k: &StoredKey) -> Result<SigningKey, KeyError> {
        let der = self.unseal(&k.private_sealed)?;
        let private = Arc::new(crate::digest::file::key_pair(&der).map_err(KeyError::Crypto)?);
        Ok(SigningKey {
            fingerprint: k.fingerprint.clone(),
            public_der: k.public_der.clone(),
            private,
            valid_from_ms: k.valid_from_ms,
            valid_to_ms: k.valid_to_ms,
        })
    }

    /// The public keys of `region` whose validity overlaps `[from, to]`. A region always has a
    /// current key (made on first need), as an AWS region does.
    pub fn public_keys(
        &self,
        region: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<StoredKey>, KeyError> {
        self.current(region)?;
        Ok(self.trails.signing_keys(region, from_ms, to_ms)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_model::ManualClock;
    use rsa::pkcs1::DecodeRsaPublicKey;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn keys_rotate_with_overlap_and_stay_sealed() {
        let d = tempfile::tempdir().unwrap();
        let trails: Arc<dyn TrailStore> =
            Arc::new(cairn_store::trails::SqliteTrails::open(&d.path().join("trails.db")).unwrap());
        let clock = ManualClock::new(1_700_000_000_000);
        let ring = KeyRing::open(
            Arc::clone(&trails),
            Arc::new(clock.clone()),
            &d.path().join("keys.master"),
        )
        .unwrap();
        let k1 = ring.current("us-east-1").unwrap();
        assert_eq!(
            ring.current("us-east-1").unwrap().fingerprint,
            k1.fingerprint,
            "reused while valid"
        );
        assert_eq!(
            k1.public_der[..4],
            [0x30, 0x82, 0x01, 0x0a],
            "PKCS#1 RSAPublicKey, 2048 bits"
        );
        assert_eq!(k1.fingerprint, fingerprint(&k1.public_der));
        rsa::RsaPublicKey::from_pkcs1_der(&k1.public_der).unwrap();
        let other = ring.current("eu-west-1").unwrap();
        assert_ne!(other.fingerprint, k1.fingerprint, "keys are per region");
        clock.advance_millis(VALIDITY_MS - ROTATE_BEFORE_END_MS + 1);
        let k2 = ring.current("us-east-1").unwrap();
        assert_ne!(k2.fingerprint, k1.fingerprint);
        assert!(
            k2.valid_from_ms < k1.valid_to_ms,
            "windows overlap at rotation"
        );
        let all = ring
            .public_keys("us-east-1", 0, clock.now_millis())
            .unwrap();
        assert_eq!(all.len(), 2);
        let past = ring
            .public_keys("us-east-1", 1_700_000_000_000, 1_700_000_000_001)
            .unwrap();
        assert_eq!(past.len(), 1);
        // The private key is not on disk in the clear: not in the database, nor in its
        // write-ahead log (where fresh rows sit), which do hold the sealed key.
        let raw: Vec<u8> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("trails.db")
            })
            .flat_map(|p| std::fs::read(p).unwrap())
            .collect();
        let sealed = trails.signing_keys("us-east-1", 0, i64::MAX).unwrap();
        let stored = &sealed[0].private_sealed;
        let found = |chunk: &[u8]| raw.windows(chunk.len()).any(|w| w == chunk);
        // (16-byte pieces: a page boundary may split a longer run.)
        assert!(
            stored.chunks_exact(16).any(found),
            "the search covers the stored key"
        );
        let der = ring.unseal(stored).unwrap();
        // Bytes of the private exponent, which (unlike the modulus) nothing else holds.
        assert!(!der[300..556].chunks_exact(16).any(found));
        let mode = std::fs::metadata(d.path().join("keys.master"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
}
