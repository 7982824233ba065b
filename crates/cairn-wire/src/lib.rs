//! AWS on the wire: verifying SigV4 signatures, telling which service and protocol a request
//! speaks, and answering errors in the exact shape each protocol's clients parse.

pub mod chunked;
pub mod client;
pub mod error;
pub mod http1;
pub mod post_form;
pub mod protocol;
pub mod s3_address;
pub mod sigv2;
pub mod sigv4;
pub mod tls;
pub mod xml;

pub use error::AwsError;
pub use protocol::Protocol;
