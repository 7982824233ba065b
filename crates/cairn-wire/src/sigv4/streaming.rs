//! Signed streaming uploads (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`): each aws-chunked chunk
//! carries a signature chained from the request's own (the seed); with `…-PAYLOAD-TRAILER`,
//! the trailing headers (checksums) carry one more, chained from the last chunk's.

use super::{CredentialScope, SigV4Error, hmac, sha256_hex, signing_key};
use crate::chunked::Decoded;

/// What verifying a request's chunks needs, taken when its seed signature checked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamingSeed {
    pub signing_key: Vec<u8>,
    pub amz_date: String,
    pub scope: String,
    pub seed_signature: String,
}

impl StreamingSeed {
    pub fn new(
        secret: &str,
        scope: &CredentialScope,
        amz_date: &str,
        seed_signature: &str,
    ) -> Self {
        StreamingSeed {
            signing_key: signing_key(secret, scope),
            amz_date: amz_date.to_owned(),
            scope: scope.to_scope_string(),
            seed_signature: seed_signature.to_owned(),
        }
    }

    /// Checks every chunk's signature, in order, against the chain from the seed.
    pub fn verify(&self, d: &Decoded) -> Result<(), SigV4Error> {
        // A signed stream ends with a signed empty chunk; anything else was cut short.
        if d.chunks.last().is_none_or(|(_, r)| !r.is_empty()) {
            return Err(SigV4Error::BadSignature {
                string_to_sign: String::new(),
                canonical_request: String::new(),
            });
        }
        let empty = sha256_hex(b"");
        let mut previous = self.seed_signature.clone();
        for (sig, range) in &d.chunks {
            let data = d.payload.get(range.clone()).unwrap_or_default();
            let sts = format!(
                "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{previous}\n{empty}\n{}",
                self.amz_date,
                self.scope,
                sha256_hex(data)
            );
            let want = hex::encode(hmac(&self.signing_key, sts.as_bytes()));
            if sig.as_deref() != Some(want.as_str()) {
                return Err(SigV4Error::BadSignature {
                    string_to_sign: sts,
                    canonical_request: String::new(),
                });
            }
            previous = want;
        }
        Ok(())
    }

    /// Checks the trailing headers' `x-amz-trailer-signature`, chained from the final chunk's
    /// signature over the canonical trailers (`name:value\n` each, the signature left out).
    pub fn verify_trailer(&self, d: &Decoded) -> Result<(), SigV4Error> {
        let bad = |sts: String| SigV4Error::BadSignature {
            string_to_sign: sts,
            canonical_request: String::new(),
        };
        let last = d
            .chunks
            .last()
            .and_then(|(sig, _)| sig.clone())
            .ok_or_else(|| bad(String::new()))?;
        let given = d
            .trailers
            .get("x-amz-trailer-signature")
            .ok_or_else(|| bad(String::new()))?;
        let canonical: String = d
            .trailers
            .iter()
            .filter(|(k, _)| k.as_str() != "x-amz-trailer-signature")
            .map(|(k, v)| format!("{k}:{v}\n"))
            .collect();
        let sts = format!(
            "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{last}\n{}",
            self.amz_date,
            self.scope,
            sha256_hex(canonical.as_bytes())
        );
        let want = hex::encode(hmac(&self.signing_key, sts.as_bytes()));
        if *given != want {
            return Err(bad(sts));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunked::decode;

    /// Amazon S3 API Reference, "Signature calculations for the Authorization header:
    /// Transferring payload in multiple chunks" (66,560 bytes of `a` in 64 KiB chunks).
    #[test]
    fn aws_documented_streaming_example() {
        let scope = CredentialScope {
            date: "20130524".into(),
            region: "us-east-1".into(),
            service: "s3".into(),
        };
        let seed = StreamingSeed::new(
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            &scope,
            "20130524T000000Z",
            "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
        );
        let mut body = Vec::new();
        body.extend_from_slice(b"10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n");
        body.extend(std::iter::repeat_n(b'a', 65536));
        body.extend_from_slice(b"\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n");
        body.extend(std::iter::repeat_n(b'a', 1024));
        body.extend_from_slice(b"\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n");
        let d = decode(&body).unwrap();
        assert_eq!(d.payload.len(), 66_560);
        seed.verify(&d).unwrap();
        let mut tampered = body.clone();
        tampered[200] = b'b';
        assert!(seed.verify(&decode(&tampered).unwrap()).is_err());
    }
}
