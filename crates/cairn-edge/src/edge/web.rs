//! The door for pages served to browsers on the same port as the APIs (the web console).
//!
//! Browsers send no SigV4 signature, so such requests never reach authentication: the edge
//! offers each unsigned request to the web front first, and the front answers those whose path
//! it claims. A signed request always goes to its service, so an S3 bucket that happens to be
//! named like a console path is still reached by its clients.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;

/// What the web front is told about the connection a request came on.
#[derive(Clone, Debug)]
pub struct WebPeer {
    pub addr: SocketAddr,
    /// Whether the connection is HTTPS (cookies are then marked `Secure`).
    pub https: bool,
}

/// An answer being worked out.
pub type WebAnswer = Pin<Box<dyn Future<Output = Response<Full<Bytes>>> + Send>>;

/// Pages for browsers, served beside the APIs.
pub trait WebFront: Send + Sync + 'static {
    /// Whether an unsigned request for this path is the front's.
    fn claims(&self, path: &str) -> bool;

    /// Answers a claimed request, its body already read (within the API body limit).
    fn serve(&self, req: Request<Bytes>, peer: WebPeer) -> WebAnswer;
}

/// Whether a request carries a signature of any kind (header or presigned query), and so is
/// an API call whatever its path.
pub fn is_signed(headers: &http::HeaderMap, query: Option<&str>) -> bool {
    let query = query.unwrap_or("");
    headers.contains_key(http::header::AUTHORIZATION)
        || query.contains("X-Amz-Signature")
        || query.contains("Signature=")
}
