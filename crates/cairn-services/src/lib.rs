//! cairn's AWS endpoint.
//!
//! - [`edge`]: one HTTP port for every service. It authenticates each request (SigV4), routes it
//!   by the credential scope's service and `X-Amz-Target`, runs the service front, has the
//!   [`recorder`] make the call's CloudTrail record durable, and only then answers.
//! - [`pipeline`]: the one path every call takes (route → resolve → authorize → run →
//!   record → answer), the [`pipeline::Service`] trait, the codecs and the registry.
//! - One module per service; each is a `Service`: an operation table, handlers, record
//!   shaping and a codec.

pub mod admin;
pub mod app;
pub mod authz;
pub mod cloudtrail;
pub mod edge;
pub mod iam;
pub mod kms;
pub mod params;
pub mod pipeline;
pub mod policy;
pub mod recorder;
pub mod s3;
pub mod sts;
pub mod testing;

pub use app::App;
