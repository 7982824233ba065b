//! Signing SNS messages: an RSA key and a self-signed X.509 certificate made once per data
//! directory (kept in the SNS store), served by cairn at the `SigningCertURL`; signatures are
//! PKCS#1 v1.5 over the string to sign, with SHA-1 for SignatureVersion 1 and SHA-256 for 2,
//! as AWS signs them, so standard SNS message verifiers accept them when they trust the URL.

use std::sync::{Arc, Mutex};

use base64::Engine;
use cairn_store::sns::{SigningCert, SnsStore};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha1::{Digest, Sha1};
use sha2::Sha256;

/// The DigestInfo prefix of a SHA-1 hash (RFC 8017, 9.2 note 1).
const SHA1_PREFIX: [u8; 15] = [
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
];

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("making the SNS signing key: {0}")]
    Key(String),
    #[error("the SNS store: {0}")]
    Store(#[from] cairn_store::StoreError),
}

/// The key messages are signed with, and its certificate.
pub struct Signer {
    key: RsaPrivateKey,
    pub cert_pem: String,
    /// The certificate's file name: `SimpleNotificationService-<32 hex>.pem`.
    pub cert_name: String,
}

fn key_error(e: impl std::fmt::Display) -> SigningError {
    SigningError::Key(e.to_string())
}

/// A new RSA key and a self-signed certificate for it.
fn make() -> Result<SigningCert, SigningError> {
    let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).map_err(key_error)?;
    let der = key.to_pkcs8_der().map_err(key_error)?;
    let pair = rcgen::KeyPair::try_from(der.as_bytes()).map_err(key_error)?;
    let mut params =
        rcgen::CertificateParams::new(vec!["sns.cairn.localhost".to_owned()]).map_err(key_error)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "sns.amazonaws.com");
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "cairn");
    let cert = params.self_signed(&pair).map_err(key_error)?;
    Ok(SigningCert {
        key_pem: pair.serialize_pem(),
        cert_pem: cert.pem(),
    })
}

impl Signer {
    fn of(c: &SigningCert) -> Result<Signer, SigningError> {
        let pair = rcgen::KeyPair::from_pem(&c.key_pem).map_err(key_error)?;
        let key = RsaPrivateKey::from_pkcs8_der(pair.serialized_der()).map_err(key_error)?;
        let digest = Sha256::digest(c.cert_pem.as_bytes());
        Ok(Signer {
            key,
            cert_pem: c.cert_pem.clone(),
            cert_name: format!(
                "SimpleNotificationService-{}.pem",
                &hex::encode(digest)[..32]
            ),
        })
    }

    /// The data directory's signer, made (and kept) the first time it is needed.
    pub fn load(store: &dyn SnsStore) -> Result<Signer, SigningError> {
        let cert = match store.signing_cert()? {
            Some(c) => c,
            None => store.keep_signing_cert(&make()?)?,
        };
        Signer::of(&cert)
    }

    /// The base64 signature of `text` for a SignatureVersion (`2`: SHA256withRSA, else
    /// SHA1withRSA).
    pub fn sign(&self, text: &str, version: &str) -> Result<String, SigningError> {
        let sig = if version == "2" {
            let hash = Sha256::digest(text.as_bytes());
            self.key.sign(Pkcs1v15Sign::new::<Sha256>(), &hash)
        } else {
            let hash = Sha1::digest(text.as_bytes());
            let scheme = Pkcs1v15Sign {
                hash_len: Some(20),
                prefix: Box::new(SHA1_PREFIX),
            };
            self.key.sign(scheme, &hash)
        }
        .map_err(key_error)?;
        Ok(base64::engine::general_purpose::STANDARD.encode(sig))
    }
}

/// The signer, loaded once and shared (the delivery worker and the certificate route).
#[derive(Default)]
pub struct SignerCell(Mutex<Option<Arc<Signer>>>);

impl SignerCell {
    pub fn get(&self, store: &dyn SnsStore) -> Result<Arc<Signer>, SigningError> {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = &*slot {
            return Ok(Arc::clone(s));
        }
        let s = Arc::new(Signer::load(store)?);
        *slot = Some(Arc::clone(&s));
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::RsaPublicKey;

    #[test]
    fn signatures_verify_with_sha1_and_sha256() {
        let s = Signer::of(&make().unwrap()).unwrap();
        assert!(s.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(
            s.cert_name.starts_with("SimpleNotificationService-")
                && s.cert_name.len() == 26 + 32 + 4
        );
        let public = RsaPublicKey::from(&s.key);
        let b64 = base64::engine::general_purpose::STANDARD;
        let v1 = b64.decode(s.sign("Message\nhi\n", "1").unwrap()).unwrap();
        let scheme = Pkcs1v15Sign {
            hash_len: Some(20),
            prefix: Box::new(SHA1_PREFIX),
        };
        public
            .verify(scheme, &Sha1::digest(b"Message\nhi\n"), &v1)
            .unwrap();
        let v2 = b64.decode(s.sign("Message\nhi\n", "2").unwrap()).unwrap();
        public
            .verify(
                Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(b"Message\nhi\n"),
                &v2,
            )
            .unwrap();
        assert!(
            public
                .verify(
                    Pkcs1v15Sign::new::<Sha256>(),
                    &Sha256::digest(b"other"),
                    &v2
                )
                .is_err()
        );
    }
}
