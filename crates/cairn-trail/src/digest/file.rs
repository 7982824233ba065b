//! Digest files as AWS writes them: the key, the JSON, the string to sign and the
//! SHA256withRSA signature (RSASSA-PKCS1-v1_5 over SHA-256, hex in lower case).

use cairn_model::timefmt::event_time;
use ring::rsa::KeyPair;
use ring::signature::{RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY, RSA_PKCS1_SHA256};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const SIGNATURE_ALGORITHM: &str = "SHA256withRSA";

/// Where a digest is stored, and what it is named after.
pub struct DigestKey<'a> {
    pub prefix: Option<&'a str>,
    /// An organization trail's organization id (a folder above the account's).
    pub organization: Option<&'a str>,
    pub account: &'a str,
    pub source_region: &'a str,
    pub trail_name: &'a str,
    pub home_region: &'a str,
    pub end_ms: i64,
    pub backfill: bool,
}

impl DigestKey<'_> {
    /// `[prefix/]AWSLogs/[<o-id>/]<acct>/CloudTrail-Digest/<src>/<YYYY>/<MM>/<DD>/<acct>_CloudTrail-Digest_<src>_<name>_<home>_<YYYYMMDDTHHMMSSZ>[_backfill].json.gz`,
    /// dated by the digest's end time.
    pub fn render(&self) -> String {
        let t =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.end_ms) * 1_000_000)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let (y, m, d) = (t.year(), u8::from(t.month()), t.day());
        let stamp = format!(
            "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
            t.hour(),
            t.minute(),
            t.second()
        );
        let (acct, src) = (self.account, self.source_region);
        let suffix = if self.backfill { "_backfill" } else { "" };
        let org = self
            .organization
            .map(|o| format!("{o}/"))
            .unwrap_or_default();
        let base = format!(
            "AWSLogs/{org}{acct}/CloudTrail-Digest/{src}/{y:04}/{m:02}/{d:02}/{acct}_CloudTrail-Digest_{src}_{}_{}_{stamp}{suffix}.json.gz",
            self.trail_name, self.home_region
        );
        match self.prefix {
            Some(p) if !p.is_empty() => format!("{p}/{base}"),
            _ => base,
        }
    }
}

/// A log file as a digest lists it.
pub struct ListedFile<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub sha256: &'a str,
    pub oldest_event: Option<&'a str>,
    pub newest_event: Option<&'a str>,
}

/// The previous digest in the chain.
pub struct Previous<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub hash: &'a str,
    pub signature: &'a str,
}

pub struct DigestContent<'a> {
    pub account: &'a str,
    pub start_ms: i64,
    pub end_ms: i64,
    pub bucket: &'a str,
    pub key: &'a str,
    pub fingerprint: &'a str,
    pub previous: Option<Previous<'a>>,
    pub files: &'a [ListedFile<'a>],
}

fn opt(s: Option<&str>) -> Value {
    s.map_or(Value::Null, |s| Value::String(s.to_owned()))
}

impl DigestContent<'_> {
    /// The uncompressed JSON, fields in AWS's order.
    pub fn to_json(&self) -> Vec<u8> {
        let newest = self.files.iter().filter_map(|f| f.newest_event).max();
        let oldest = self.files.iter().filter_map(|f| f.oldest_event).min();
        let p = self.previous.as_ref();
        let files: Vec<Value> = self
            .files
            .iter()
            .map(|f| {
                json!({
                    "s3Bucket": f.bucket,
                    "s3Object": f.key,
                    "hashValue": f.sha256,
                    "hashAlgorithm": "SHA-256",
                    "newestEventTime": opt(f.newest_event),
                    "oldestEventTime": opt(f.oldest_event),
                })
            })
            .collect();
        let v = json!({
            "awsAccountId": self.account,
            "digestStartTime": event_time(self.start_ms),
            "digestEndTime": event_time(self.end_ms),
            "digestS3Bucket": self.bucket,
            "digestS3Object": self.key,
            "digestPublicKeyFingerprint": self.fingerprint,
            "digestSignatureAlgorithm": SIGNATURE_ALGORITHM,
            "newestEventTime": opt(newest),
            "oldestEventTime": opt(oldest),
            "previousDigestS3Bucket": opt(p.map(|p| p.bucket)),
            "previousDigestS3Object": opt(p.map(|p| p.key)),
            "previousDigestHashValue": opt(p.map(|p| p.hash)),
            "previousDigestHashAlgorithm": opt(p.map(|_| "SHA-256")),
            "previousDigestSignature": opt(p.map(|p| p.signature)),
            "logFiles": files,
        });
        serde_json::to_vec(&v).unwrap_or_default()
    }
}

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `digestEndTime \n bucket/key \n sha256(raw) \n previousDigestSignature|null`, no trailing
/// newline.
pub fn string_to_sign(
    end_time: &str,
    bucket: &str,
    key: &str,
    raw: &[u8],
    previous_signature: Option<&str>,
) -> String {
    format!(
        "{end_time}\n{bucket}/{key}\n{}\n{}",
        sha256_hex(raw),
        previous_signature.unwrap_or("null")
    )
}

/// SHA256withRSA (RSASSA-PKCS1-v1_5 over SHA-256, deterministic), hex.
pub fn sign(key: &KeyPair, to_sign: &str) -> String {
    let mut sig = vec![0u8; key.public().modulus_len()];
    // PKCS#1 v1.5 padding takes no randomness; the generator is only part of ring's API.
    let rng = ring::rand::SystemRandom::new();
    match key.sign(&RSA_PKCS1_SHA256, &rng, to_sign.as_bytes(), &mut sig) {
        Ok(()) => hex::encode(sig),
        Err(_) => String::new(),
    }
}

/// A usable key pair from a PKCS#1 `RSAPrivateKey` DER.
pub fn key_pair(private_pkcs1_der: &[u8]) -> Result<KeyPair, String> {
    KeyPair::from_der(private_pkcs1_der).map_err(|e| e.to_string())
}

/// Whether `signature_hex` is a valid SHA256withRSA signature of `to_sign` by the PKCS#1 DER
/// public key (any size from 1024 bits, as the AWS CLI accepts any).
pub fn verify(public_der: &[u8], to_sign: &str, signature_hex: &str) -> bool {
    let Ok(raw) = hex::decode(signature_hex) else {
        return false;
    };
    ring::signature::UnparsedPublicKey::new(
        &RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        public_der,
    )
    .verify(to_sign.as_bytes(), &raw)
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
    use rsa::pkcs1v15::{SigningKey, VerifyingKey};
    use rsa::signature::{SignatureEncoding, Signer, Verifier};

    #[test]
    fn keys_like_aws() {
        let k = DigestKey {
            prefix: None,
            organization: None,
            account: "123456789012",
            source_region: "us-east-1",
            trail_name: "mytrail",
            home_region: "us-east-1",
            end_ms: 1_714_525_291_000,
            backfill: false,
        };
        // The key of the reference's worked example.
        assert_eq!(
            k.render(),
            "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/05/01/123456789012_CloudTrail-Digest_us-east-1_mytrail_us-east-1_20240501T010131Z.json.gz"
        );
        let b = DigestKey {
            prefix: Some("team/ct"),
            backfill: true,
            ..k
        }
        .render();
        assert!(b.starts_with("team/ct/AWSLogs/"));
        assert!(b.ends_with("_20240501T010131Z_backfill.json.gz"));
        // The CLI reads the stamp at fixed offsets from the end.
        assert_eq!(&b[b.len() - 33..b.len() - 17], "20240501T010131Z");
        let o = DigestKey {
            organization: Some("o-exampleorgid"),
            account: "222222222222",
            ..k
        }
        .render();
        assert_eq!(
            o,
            "AWSLogs/o-exampleorgid/222222222222/CloudTrail-Digest/us-east-1/2024/05/01/222222222222_CloudTrail-Digest_us-east-1_mytrail_us-east-1_20240501T010131Z.json.gz"
        );
    }

    #[test]
    fn string_to_sign_as_the_reference_shows() {
        let s = string_to_sign("2024-05-01T01:01:31Z", "b", "k", b"{}", None);
        assert_eq!(
            s,
            "2024-05-01T01:01:31Z\nb/k\n44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\nnull"
        );
        assert!(string_to_sign("e", "b", "k", b"", Some("ab")).ends_with("\nab"));
    }

    #[test]
    fn signatures_verify_and_tampering_does_not() {
        let mut rng = rand::rngs::OsRng;
        let private = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
        let der = private.to_public_key().to_pkcs1_der().unwrap();
        let pair = key_pair(private.to_pkcs1_der().unwrap().as_bytes()).unwrap();
        let sig = sign(&pair, "hello");
        assert_eq!(sig.len(), 512);
        // The same signature an independent implementation makes, and it checks ours.
        let reference = SigningKey::<Sha256>::new(private.clone()).sign(b"hello");
        assert_eq!(sig, hex::encode(reference.to_bytes()));
        let ours =
            rsa::pkcs1v15::Signature::try_from(hex::decode(&sig).unwrap().as_slice()).unwrap();
        assert!(
            VerifyingKey::<Sha256>::new(private.to_public_key())
                .verify(b"hello", &ours)
                .is_ok()
        );
        assert!(verify(der.as_bytes(), "hello", &sig));
        assert!(!verify(der.as_bytes(), "hellO", &sig));
        assert!(!verify(der.as_bytes(), "hello", "00"));
        assert!(!verify(b"junk", "hello", &sig));
    }

    #[test]
    fn json_fields_in_aws_order() {
        let files = [ListedFile {
            bucket: "b",
            key: "log",
            sha256: "aa",
            oldest_event: Some("2024-05-01T00:00:01Z"),
            newest_event: Some("2024-05-01T00:00:09Z"),
        }];
        let c = DigestContent {
            account: "123456789012",
            start_ms: 1_714_521_600_000,
            end_ms: 1_714_525_200_000,
            bucket: "b",
            key: "d",
            fingerprint: "f",
            previous: None,
            files: &files,
        };
        let v: Value = serde_json::from_slice(&c.to_json()).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "awsAccountId",
                "digestStartTime",
                "digestEndTime",
                "digestS3Bucket",
                "digestS3Object",
                "digestPublicKeyFingerprint",
                "digestSignatureAlgorithm",
                "newestEventTime",
                "oldestEventTime",
                "previousDigestS3Bucket",
                "previousDigestS3Object",
                "previousDigestHashValue",
                "previousDigestHashAlgorithm",
                "previousDigestSignature",
                "logFiles"
            ]
        );
        assert_eq!(v["digestEndTime"], "2024-05-01T01:00:00Z");
        assert_eq!(v["newestEventTime"], "2024-05-01T00:00:09Z");
        assert_eq!(v["previousDigestSignature"], Value::Null);
        assert_eq!(v["logFiles"][0]["hashAlgorithm"], "SHA-256");
    }
}
