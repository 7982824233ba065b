//! The house every AWS service in cairn lives in. It owns everything a call meets that is not
//! a service's own, and names no service:
//!
//! - [`edge`]: one HTTP port for every service. It authenticates each request (SigV4), reads
//!   its body within [`edge::Limits`], and hands the call to the service registered under the
//!   credential scope's service name.
//! - [`pipeline`]: the one path every call takes (route → resolve → authorize → run → record →
//!   answer), the [`pipeline::Service`] trait a service implements, the protocol codecs, the
//!   [`pipeline::Registry`] type and internal calls between services.
//! - [`app`]: the application (every store, behind its trait, and the registry of services)
//!   and the one place it is built; [`cluster`]: the same stores for a node of a cluster;
//!   [`commits`]: waking the consumers that react to calls after each journal commit.
//! - [`authz`]: identity policies, their cache and the request context policies see;
//!   [`policy`]: evaluating resource policies.
//! - [`recorder`]: turning a call into its CloudTrail record, made durable before the answer.
//! - [`admin`]: cairn's own `Cairn.*` calls (import, the test clock, fault injection).
//! - [`params`]: reading a JSON call's parameters, shared by the services.
//!
//! The services themselves, and the standard registry that lists them, are in `cairn-services`;
//! this crate must not depend on it (`cairn-services/tests/layout.rs` checks).

pub mod admin;
pub mod app;
pub mod authz;
pub mod cluster;
pub mod commits;
pub mod edge;
pub mod members;
pub mod params;
pub mod pipeline;
pub mod policy;
pub mod recorder;

pub use app::App;
