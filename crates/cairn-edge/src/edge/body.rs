//! Reading a request body under the edge's limits: a size ceiling, a silence timeout, and,
//! while the signature is unchecked, a share of the budget for unverified bytes.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use cairn_wire::AwsError;
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::limits::BudgetHold;

/// Why a body could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    TooLarge,
    /// The client went silent for longer than the timeout.
    Silent,
    /// The HTTP framing was broken (a bad chunk size, a connection closed mid-body).
    Malformed,
    /// Too many unverified bytes are held by all connections together.
    Busy,
}

impl BodyError {
    pub fn to_aws_error(&self) -> AwsError {
        match self {
            BodyError::TooLarge => AwsError::new(
                413,
                "RequestEntityTooLarge",
                "The request body is too large.",
            ),
            BodyError::Silent => AwsError::client(
                "RequestTimeout",
                "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.",
            ),
            BodyError::Malformed => {
                AwsError::client("IncompleteBody", "The request body terminated unexpectedly")
            }
            BodyError::Busy => AwsError::new(503, "SlowDown", "Please reduce your request rate."),
        }
    }
}

/// The `Content-Length` a request declares, if any.
pub fn declared_length(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Reads the whole body. Each frame must come within `silence`; with a `hold`, every byte
/// is taken from the unverified budget first.
pub async fn read(
    mut body: Incoming,
    headers: &http::HeaderMap,
    limit: usize,
    silence: Duration,
    mut hold: Option<&mut BudgetHold>,
) -> Result<Bytes, BodyError> {
    let declared = declared_length(headers);
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    // An authenticated sender's declared length is reserved at once (no copies as the body
    // grows); an unverified one gets room only for what it actually sends.
    let reserve = if hold.is_some() { 64 * 1024 } else { limit };
    let mut buf = BytesMut::with_capacity(declared.map_or(0, |n| n as usize).min(reserve));
    let mut first: Option<Bytes> = None;
    loop {
        let frame = match tokio::time::timeout(silence, body.frame()).await {
            Err(_) => return Err(BodyError::Silent),
            Ok(None) => break,
            Ok(Some(Err(_))) => return Err(BodyError::Malformed),
            Ok(Some(Ok(f))) => f,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let total = buf.len() + first.as_ref().map_or(0, Bytes::len) + data.len();
        if total > limit {
            return Err(BodyError::TooLarge);
        }
        if let Some(h) = hold.as_deref_mut()
            && !h.take(data.len())
        {
            return Err(BodyError::Busy);
        }
        // A body that arrives in one frame is passed on without a copy.
        match first.take() {
            None if buf.is_empty() => first = Some(data),
            None => buf.extend_from_slice(&data),
            Some(f) => {
                buf.extend_from_slice(&f);
                buf.extend_from_slice(&data);
            }
        }
    }
    Ok(match first {
        Some(f) => f,
        None => buf.freeze(),
    })
}
