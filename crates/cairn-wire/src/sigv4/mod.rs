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
    hex::encode(signed(secret, auth, parts, payload_hash).2)
}

/// The canonical request, the string to sign, and the signature over it.
fn signed(
    secret: &str,
    auth: &ParsedAuth,
    parts: &RequestParts<'_>,
    payload_hash: &str,
) -> (String, String, Vec<u8>) {
    let creq = canonical_request(
        parts,
        &auth.signed_headers,
        payload_hash,
        &auth.kind,
        auth.double_encodes_path(),
    );
    let sts = string_to_sign(&auth.amz_date, &auth.scope, &creq);
    let mac = hmac(&signing_key(secret, &auth.scope), sts.as_bytes());
    (creq, sts, mac)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The values S3 takes in `x-amz-content-sha256` besides a hex SHA-256.
const S3_PAYLOAD_MARKERS: &[&str] = &[
    UNSIGNED_PAYLOAD,
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
];

fn is_sha256_hex(v: &str) -> bool {
    v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Where the last line of a request's canonical request (its payload hash) comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayloadHash {
    /// S3: the value the client declared in `x-amz-content-sha256` (a hex hash, which the
    /// body is checked against, or a marker such as `UNSIGNED-PAYLOAD`).
    Declared(String),
    /// The SHA-256 of the body as received. Every service but S3 hashes what it receives,
    /// whatever a header claims, so a signature always covers the body that is acted on.
    OfBody,
}

impl PayloadHash {
    /// Decides, from the headers alone, what the payload hash is; S3 requests say so in
    /// `x-amz-content-sha256`, which header-signed S3 requests must carry.
    pub fn of_request(auth: &ParsedAuth, parts: &RequestParts<'_>) -> Result<Self, SigV4Error> {
        if auth.scope.service != "s3" {
            return Ok(PayloadHash::OfBody);
        }
        let declared = parts.headers.get("x-amz-content-sha256");
        let declared = match declared {
            None => {
                return match auth.kind {
                    AuthKind::Header => Err(SigV4Error::MissingContentSha256),
                    // SDKs presign S3 URLs without a payload hash.
                    AuthKind::Presigned { .. } => {
                        Ok(PayloadHash::Declared(UNSIGNED_PAYLOAD.to_owned()))
                    }
                };
            }
            Some(v) => v
                .to_str()
                .map_err(|_| SigV4Error::InvalidContentSha256(String::new()))?,
        };
        if is_sha256_hex(declared) || S3_PAYLOAD_MARKERS.contains(&declared) {
            Ok(PayloadHash::Declared(declared.to_owned()))
        } else {
            Err(SigV4Error::InvalidContentSha256(declared.to_owned()))
        }
    }

    /// Whether checking the signature needs the body first.
    pub fn needs_body(&self) -> bool {
        matches!(self, PayloadHash::OfBody)
    }

    /// The canonical request's payload line, given the body when [`Self::needs_body`].
    pub fn resolve(&self, body: &[u8]) -> String {
        match self {
            PayloadHash::Declared(v) => v.clone(),
            PayloadHash::OfBody => sha256_hex(body),
        }
    }
}

/// Checks what can be checked before the body is read: the session token, the request time
/// and that `host` is signed.
pub fn check_claims(auth: &ParsedAuth, key: &KeySecret<'_>, now_ms: i64) -> Result<(), SigV4Error> {
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
    Ok(())
}

/// Checks the signature itself, over the given payload hash, then the key's expiry.
pub fn check_signature(
    auth: &ParsedAuth,
    parts: &RequestParts<'_>,
    key: &KeySecret<'_>,
    payload_hash: &str,
    now_ms: i64,
) -> Result<(), SigV4Error> {
    let bad = |sts: String, creq: String| SigV4Error::BadSignature {
        string_to_sign: sts,
        canonical_request: creq,
    };
    let provided = hex::decode(&auth.signature).map_err(|_| bad(String::new(), String::new()))?;
    let (creq, sts, expected) = signed(key.secret_access_key, auth, parts, payload_hash);
    if !constant_time_eq(&expected, &provided) {
        return Err(bad(sts, creq));
    }
    if let Some(exp) = key.expires_ms
        && now_ms >= exp
    {
        return Err(SigV4Error::ExpiredToken);
    }
    Ok(())
}

/// Verifies a parsed signature against the key's secret, the body and the current time, all
/// at once (for callers that already hold the whole body).
pub fn verify(
    auth: &ParsedAuth,
    parts: &RequestParts<'_>,
    key: &KeySecret<'_>,
    body: &[u8],
    now_ms: i64,
) -> Result<(), SigV4Error> {
    let payload = PayloadHash::of_request(auth, parts)?;
    check_claims(auth, key, now_ms)?;
    check_signature(auth, parts, key, &payload.resolve(body), now_ms)
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
