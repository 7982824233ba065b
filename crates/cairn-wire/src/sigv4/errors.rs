//! Why a signature was refused, and how each protocol's AWS services say so.

use thiserror::Error;

use crate::error::AwsError;
use crate::protocol::Protocol;

#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum SigV4Error {
    #[error("missing authentication token")]
    Missing,
    #[error("incomplete signature: {0}")]
    Incomplete(String),
    #[error("unsupported signing algorithm {0}")]
    UnsupportedAlgorithm(String),
    #[error("malformed presigned query: {0}")]
    QueryParams(String),
    #[error("malformed credential {0}")]
    MalformedCredential(String),
    #[error("credential scope terminator {0} is not aws4_request")]
    BadTerminator(String),
    #[error("bad X-Amz-Date {0}")]
    BadDate(String),
    #[error("credential scope date {scope_date} does not match {amz_date}")]
    ScopeDateMismatch {
        scope_date: String,
        amz_date: String,
    },
    #[error("unknown access key")]
    UnknownKey,
    /// The credentials could not be looked up (the identity store is unreachable): a
    /// temporary failure of the server, not a verdict on the key.
    #[error("the credentials could not be checked now")]
    Unavailable,
    #[error("signature does not match")]
    BadSignature {
        string_to_sign: String,
        canonical_request: String,
    },
    #[error("request time {amz_date} is too far from the server time")]
    Skewed { amz_date: String, now_ms: i64 },
    #[error("presigned request is not yet valid")]
    NotYetValid { amz_date: String, now_ms: i64 },
    #[error("presigned request has expired")]
    PresignExpired {
        expires_ms: i64,
        now_ms: i64,
        expires_s: i64,
    },
    #[error("the security token is invalid")]
    InvalidToken,
    #[error("the security token has expired")]
    ExpiredToken,
    #[error("host is not a signed header")]
    HostNotSigned,
    #[error("x-amz-content-sha256 is missing")]
    MissingContentSha256,
    #[error("x-amz-content-sha256 is not a hash or a payload marker: {0}")]
    InvalidContentSha256(String),
}

const HOST_NOT_SIGNED_MSG: &str =
    "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.";

const BAD_SIGNATURE_MSG: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const S3_BAD_SIGNATURE_MSG: &str = "The request signature we calculated does not match the signature you provided. Check your key and signing method.";

fn iso(ms: i64) -> String {
    super::amz_date(ms)
}

fn iso_s3(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

impl SigV4Error {
    /// The error as the services of `protocol` report it. `access_key_id` is echoed by S3.
    pub fn to_aws_error(&self, protocol: Protocol, access_key_id: Option<&str>) -> AwsError {
        match protocol {
            Protocol::RestXml => self.s3_error(access_key_id),
            Protocol::Query { .. } | Protocol::Ec2 => self.query_error(),
            Protocol::Json11 | Protocol::Json10 | Protocol::RestJson | Protocol::RpcV2Cbor => {
                self.json_error()
            }
        }
    }

    fn skew_message(amz_date: &str, now_ms: i64) -> String {
        let req = super::parse::parse_amz_date(amz_date).unwrap_or(0);
        let limit = now_ms - super::MAX_SKEW_MS;
        if req < now_ms {
            format!(
                "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
                iso(limit),
                iso(now_ms)
            )
        } else {
            format!(
                "Signature not yet current: {amz_date} is still later than {} ({} + 15 min.)",
                iso(now_ms + super::MAX_SKEW_MS),
                iso(now_ms)
            )
        }
    }

    fn json_error(&self) -> AwsError {
        use SigV4Error::*;
        match self {
            Missing => AwsError::client(
                "MissingAuthenticationTokenException",
                "Request is missing Authentication Token",
            ),
            Incomplete(m) | QueryParams(m) => {
                AwsError::client("IncompleteSignatureException", m.clone())
            }
            UnsupportedAlgorithm(a) => AwsError::client(
                "IncompleteSignatureException",
                format!("Unsupported AWS 'algorithm': '{a}' (only AWS4-HMAC-SHA256 for now). "),
            ),
            MalformedCredential(c) => AwsError::client(
                "IncompleteSignatureException",
                format!(
                    "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{c}'"
                ),
            ),
            BadTerminator(t) => AwsError::client(
                "InvalidSignatureException",
                format!(
                    "Credential should be scoped with a valid terminator: 'aws4_request', not '{t}'. "
                ),
            ),
            BadDate(d) => AwsError::client(
                "IncompleteSignatureException",
                format!(
                    "Date must be in ISO-8601 'basic format'. Got '{d}'. See http://en.wikipedia.org/wiki/ISO_8601"
                ),
            ),
            ScopeDateMismatch {
                scope_date,
                amz_date,
            } => AwsError::client(
                "InvalidSignatureException",
                format!(
                    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope_date}' != '{}', from '{amz_date}'.",
                    amz_date.get(..8).unwrap_or("")
                ),
            ),
            UnknownKey => AwsError::client(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ),
            Unavailable => AwsError::new(
                503,
                "ServiceUnavailable",
                "The request has failed due to a temporary failure of the server.",
            ),
            InvalidToken => AwsError::client(
                "UnrecognizedClientException",
                "The security token included in the request is invalid",
            ),
            BadSignature { .. } => AwsError::client("InvalidSignatureException", BAD_SIGNATURE_MSG),
            Skewed { amz_date, now_ms } | NotYetValid { amz_date, now_ms } => AwsError::client(
                "InvalidSignatureException",
                Self::skew_message(amz_date, *now_ms),
            ),
            PresignExpired {
                expires_ms, now_ms, ..
            } => AwsError::client(
                "InvalidSignatureException",
                format!(
                    "Signature expired: {} is now earlier than {}",
                    iso(*expires_ms),
                    iso(*now_ms)
                ),
            ),
            ExpiredToken => AwsError::client(
                "ExpiredTokenException",
                "The security token included in the request is expired",
            ),
            HostNotSigned => AwsError::client("IncompleteSignatureException", HOST_NOT_SIGNED_MSG),
            // Only S3 reads the header; other services hash the body they receive.
            MissingContentSha256 | InvalidContentSha256(_) => {
                AwsError::client("InvalidSignatureException", BAD_SIGNATURE_MSG)
            }
        }
    }

    fn query_error(&self) -> AwsError {
        use SigV4Error::*;
        let j = self.json_error();
        match self {
            Missing => AwsError::new(
                403,
                "MissingAuthenticationToken",
                "Request is missing Authentication Token",
            ),
            Incomplete(_)
            | QueryParams(_)
            | UnsupportedAlgorithm(_)
            | MalformedCredential(_)
            | BadDate(_)
            | HostNotSigned => AwsError::client("IncompleteSignature", j.message),
            UnknownKey | InvalidToken => AwsError::new(403, "InvalidClientTokenId", j.message),
            Unavailable => j,
            BadTerminator(_)
            | ScopeDateMismatch { .. }
            | BadSignature { .. }
            | Skewed { .. }
            | NotYetValid { .. }
            | PresignExpired { .. }
            | MissingContentSha256
            | InvalidContentSha256(_) => AwsError::new(403, "SignatureDoesNotMatch", j.message),
            ExpiredToken => AwsError::new(403, "ExpiredToken", j.message),
        }
    }

    fn s3_error(&self, access_key_id: Option<&str>) -> AwsError {
        use SigV4Error::*;
        match self {
            Missing => AwsError::new(403, "AccessDenied", "Access Denied"),
            Incomplete(_) => AwsError::client(
                "AuthorizationHeaderMalformed",
                "The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.",
            ),
            UnsupportedAlgorithm(_) => {
                AwsError::client("InvalidArgument", "Unsupported Authorization Type")
            }
            QueryParams(m) => AwsError::client("AuthorizationQueryParametersError", m.clone()),
            MalformedCredential(c) => AwsError::client(
                "AuthorizationHeaderMalformed",
                format!(
                    "The authorization header is malformed; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\". Got '{c}'."
                ),
            ),
            BadTerminator(t) => AwsError::client(
                "AuthorizationHeaderMalformed",
                format!(
                    "The authorization header is malformed; incorrect terminal \"{t}\". This endpoint uses \"aws4_request\"."
                ),
            ),
            BadDate(d) => AwsError::new(
                403,
                "AccessDenied",
                format!("AWS authentication requires a valid Date or x-amz-date header ({d})"),
            ),
            ScopeDateMismatch { scope_date, .. } => AwsError::client(
                "AuthorizationHeaderMalformed",
                format!(
                    "The authorization header is malformed; Invalid credential date \"{scope_date}\". This date is not the same as X-Amz-Date."
                ),
            ),
            Unavailable => AwsError::new(
                503,
                "ServiceUnavailable",
                "Service is unable to handle request.",
            ),
            UnknownKey => {
                let e = AwsError::new(
                    403,
                    "InvalidAccessKeyId",
                    "The AWS Access Key Id you provided does not exist in our records.",
                );
                match access_key_id {
                    Some(k) => e.with_extra("AWSAccessKeyId", k),
                    None => e,
                }
            }
            InvalidToken => AwsError::client(
                "InvalidToken",
                "The provided token is malformed or otherwise invalid.",
            ),
            ExpiredToken => AwsError::client("ExpiredToken", "The provided token has expired."),
            HostNotSigned => AwsError::new(
                403,
                "AccessDenied",
                "There were headers present in the request which were not signed",
            )
            .with_extra("HeadersNotSigned", "host"),
            MissingContentSha256 => AwsError::client(
                "InvalidRequest",
                "Missing required header for this request: x-amz-content-sha256",
            ),
            InvalidContentSha256(v) => AwsError::client(
                "InvalidArgument",
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
            )
            .with_extra("ArgumentName", "x-amz-content-sha256")
            .with_extra("ArgumentValue", v.clone()),
            BadSignature {
                string_to_sign,
                canonical_request,
            } => {
                let mut e = AwsError::new(403, "SignatureDoesNotMatch", S3_BAD_SIGNATURE_MSG);
                if let Some(k) = access_key_id {
                    e = e.with_extra("AWSAccessKeyId", k);
                }
                e.with_extra("StringToSign", string_to_sign.clone())
                    .with_extra("CanonicalRequest", canonical_request.clone())
            }
            Skewed { amz_date, now_ms } | NotYetValid { amz_date, now_ms } => AwsError::new(
                403,
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
            )
            .with_extra("RequestTime", amz_date.clone())
            .with_extra("ServerTime", iso_s3(*now_ms))
            .with_extra("MaxAllowedSkewMilliseconds", "900000"),
            PresignExpired {
                expires_ms,
                now_ms,
                expires_s,
            } => AwsError::new(403, "AccessDenied", "Request has expired")
                .with_extra("X-Amz-Expires", expires_s.to_string())
                .with_extra("Expires", iso_s3(*expires_ms))
                .with_extra("ServerTime", iso_s3(*now_ms)),
        }
    }
}
