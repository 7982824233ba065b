//! cairn's AWS services, one folder each (`cloudtrail`, `cloudtrail_data`, `s3`, `kms`, `logs`, `cloudwatch`, `iam`,
//! `sts`, `sqs`, `sns`, `lambda`, `events`, `organizations`), the standard [`registry`] that lists them, and the
//! recording [`gateway`] that forwards services cairn does not implement to an upstream
//! endpoint (one `Gateway` service per forwarded service, added to the registry by `serve`).
//!
//! Every service is a [`pipeline::Service`] in a folder with the same rooms: `mod.rs` (the
//! `Service` impl), `operations.rs` (the operation table), `resolve.rs` (what a call acts on,
//! the checks it needs), `handlers` (running each operation), `record.rs` (record shaping) and
//! `wire` (wire shapes, the codec); state lives in `cairn-store`, behind the application's
//! stores (`docs/adding-a-service.md`; `tests/layout.rs` checks the rooms). No service module
//! imports another; they reach each other through the pipeline's internal calls
//! (`tests/layout.rs` checks). Adding a service is a folder here plus one line in [`registry`].
//!
//! The house they live in — the edge, the pipeline, the application, authorization, the
//! recorder — is `cairn-edge`. Its modules are re-exported below so that services (and
//! callers) write `crate::pipeline::…`, `crate::app::…` as before; they are the house's, not
//! this crate's.

use std::sync::Arc;

// The house's modules (`cairn-edge`), re-exported.
pub use cairn_edge::{
    App, admin, app, authz, cluster, edge, members, params, pipeline, policy, recorder,
};

pub mod cloudtrail;
pub mod cloudtrail_data;
pub mod cloudwatch;
pub mod detections;
pub mod events;
pub mod gateway;
pub mod iam;
pub mod insights;
pub mod kms;
pub mod lambda;
pub mod logs;
pub mod organizations;
pub mod s3;
pub mod sns;
pub mod sqs;
pub mod sts;
pub mod testing;

use pipeline::Registry;

/// Every service cairn has: the registry `cairn serve`, the benchmarks and the tests build
/// their application with ([`App::build`]).
pub fn registry() -> Registry {
    Registry::new(vec![
        Arc::new(cloudtrail::CloudTrail),
        Arc::new(s3::S3),
        Arc::new(kms::Kms),
        Arc::new(logs::Logs),
        Arc::new(cloudwatch::CloudWatch),
        Arc::new(iam::Iam),
        Arc::new(sts::Sts),
        Arc::new(sqs::Sqs),
        Arc::new(sns::Sns),
        Arc::new(lambda::Lambda),
        Arc::new(events::Events),
        Arc::new(cloudtrail_data::CloudTrailData),
        Arc::new(organizations::Organizations),
    ])
    .with_public(vec![
        Arc::new(sns::public::Links),
        Arc::new(s3::preflight::Preflight),
    ])
}
