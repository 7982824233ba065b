//! SigV4 verification: the `Authorization` header form and the presigned query form.
//!
//! [`parse`] reads what the client claims (key, scope, signed headers, signature) without any
//! secret; the edge uses the scope to route. [`verify`] then recomputes the signature with the
//! key's secret and checks time limits. Both work on the request exactly as received, because a
//! signature covers the bytes the client sent.

mod canonical;
mod errors;
mod parse;
mod sign;
mod streaming;

pub use canonical::{canonical_request, uri_encode};
pub use errors::SigV4Error;
pub use parse::parse;
pub use sign::{SigningKey, sign};
pub use streaming::StreamingSeed;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Largest clock difference accepted between client and server (AWS: 15 minutes).
pub const MAX_SKEW_MS: i64 = 15 * 60 * 1000;
/// Longest presigned URL validity AWS accepts (7 days).
pub const MAX_PRESIGN_EXPIRES_S: i64 = 604_800;

pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// The parts of an HTTP request a signature covers, as received.
#[derive(Clone, Copy, Debug)]
pub struct RequestParts<'a> {
    pub method: &'a str,
    /// The path exactly as in the request line, still percent-encoded.
    pub raw_path: &'a str,
    /// The query string exactly as in the request line, without `?`.
    pub raw_query: Option<&'a str>,
    pub headers: &'a http::HeaderMap,
}

/// `<date>/<region>/<service>/aws4_request`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialScope {
    pub date: String,
    pub region: String,
    pub service: String,
}

impl CredentialScope {
    pub fn to_scope_string(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthKind {
    Header,
    Presigned { expires_s: i64 },
}

/// What a request claims about its signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedAuth {
    pub kind: AuthKind,
    pub access_key_id: String,
    pub scope: CredentialScope,
    /// `X-Amz-Date` as sent, `YYYYMMDDTHHMMSSZ`.
    pub amz_date: String,
    /// The request time in milliseconds since the epoch.
    pub request_time_ms: i64,
    pub signed_headers: Vec<String>,
    pub signature: String,
    pub security_token: Option<String>,
}

impl ParsedAuth {
    /// Every service but S3 signs a normalized, doubly encoded path.
    pub fn double_encodes_path(&self) -> bool {
        self.scope.service != "s3"
    }
}

/// The secret and, for temporary credentials, the session token a key must present.
pub struct KeySecret<'a> {
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
    /// When the credentials stop working (temporary credentials only), ms since the epoch.
    pub expires_ms: Option<i64>,
}

/// The HMAC signing key for a scope.
pub fn signing_key(secret: &str, scope: &CredentialScope) -> Vec<u8> {
    let mut k = hmac(format!("AWS4{secret}").as_bytes(), scope.date.as_bytes());
    k = hmac(&k, scope.region.as_bytes());
    k = hmac(&k, scope.service.as_bytes());
    hmac(&k, b"aws4_request")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The string to sign for a canonical request.
pub fn string_to_sign(amz_date: &str, scope: &CredentialScope, canonical_request: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{}\n{}",
        scope.to_scope_string(),
        sha256_hex(canonical_request.as_bytes())
    )
}

/// Computes the hex signature of a request (used by verification and by cairn's own signer).
pub fn compute_signature(
    secret: &str,
    auth: &ParsedAuth,
    parts: &RequestParts<'_>,
    payload_hash: &str,
) -> String {
    let creq = canonical_request(
        parts,
        &auth.signed_headers,
        payload_hash,
        &auth.kind,
        auth.double_encodes_path(),
    );
    let sts = string_to_sign(&auth.amz_date, &auth.scope, &creq);
    hex::encode(hmac(&signing_key(secret, &auth.scope), sts.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The payload hashes a request may have been signed with, in the order to try them.
fn payload_hash_candidates(
    auth: &ParsedAuth,
    parts: &RequestParts<'_>,
    body: &[u8],
) -> Vec<String> {
    if let Some(claimed) = parts
        .headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
    {
        return vec![claimed.to_owned()];
    }
    match auth.kind {
        AuthKind::Header => vec![sha256_hex(body)],
        // SDKs presign S3 with UNSIGNED-PAYLOAD and other services with the body's hash.
        AuthKind::Presigned { .. } => vec![UNSIGNED_PAYLOAD.to_owned(), sha256_hex(body)],
    }
}

/// Verifies a parsed signature against the key's secret, the body and the current time.
pub fn verify(
    auth: &ParsedAuth,
    parts: &RequestParts<'_>,
    key: &KeySecret<'_>,
    body: &[u8],
    now_ms: i64,
) -> Result<(), SigV4Error> {
    match (key.session_token, auth.security_token.as_deref()) {
        (None, None) => {}
        (Some(want), Some(got)) if constant_time_eq(want.as_bytes(), got.as_bytes()) => {}
        _ => return Err(SigV4Error::InvalidToken),
    }
    match auth.kind {
        AuthKind::Header => {
            if (now_ms - auth.request_time_ms).abs() > MAX_SKEW_MS {
                return Err(SigV4Error::Skewed {
                    amz_date: auth.amz_date.clone(),
                    now_ms,
                });
            }
        }
        AuthKind::Presigned { expires_s } => {
            if auth.request_time_ms - now_ms > MAX_SKEW_MS {
                return Err(SigV4Error::NotYetValid {
                    amz_date: auth.amz_date.clone(),
                    now_ms,
                });
            }
            if now_ms > auth.request_time_ms + expires_s * 1000 {
                return Err(SigV4Error::PresignExpired {
                    expires_ms: auth.request_time_ms + expires_s * 1000,
                    now_ms,
                    expires_s,
                });
            }
        }
    }
    let provided = hex::decode(&auth.signature).map_err(|_| SigV4Error::BadSignature {
        string_to_sign: String::new(),
        canonical_request: String::new(),
    })?;
    let candidates = payload_hash_candidates(auth, parts, body);
    let mut first_failure = None;
    for payload_hash in &candidates {
        let creq = canonical_request(
            parts,
            &auth.signed_headers,
            payload_hash,
            &auth.kind,
            auth.double_encodes_path(),
        );
        let sts = string_to_sign(&auth.amz_date, &auth.scope, &creq);
        let expected = hmac(
            &signing_key(key.secret_access_key, &auth.scope),
            sts.as_bytes(),
        );
        if constant_time_eq(&expected, &provided) {
            if let Some(exp) = key.expires_ms
                && now_ms >= exp
            {
                return Err(SigV4Error::ExpiredToken);
            }
            return Ok(());
        }
        first_failure.get_or_insert(SigV4Error::BadSignature {
            string_to_sign: sts,
            canonical_request: creq,
        });
    }
    Err(first_failure.unwrap_or(SigV4Error::BadSignature {
        string_to_sign: String::new(),
        canonical_request: String::new(),
    }))
}

/// Formats milliseconds as an `X-Amz-Date` (`YYYYMMDDTHHMMSSZ`).
pub fn amz_date(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests;
