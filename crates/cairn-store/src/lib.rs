//! cairn's storage: one trait per store, its embedded implementation beside it, and one test
//! suite that every backend passes (the shape of Quickwit's metastore; DESIGN.md decision 5).
//!
//! Each store's `mod.rs` holds its contract (the trait and the types it hands out) and its
//! backend lives in a submodule named after the engine:
//!
//! - [`journal`]: the durable, ordered source of truth ([`journal::Journal`]); embedded as
//!   [`journal::SegmentJournal`], cairn's checksummed, group-committed segment log.
//! - [`console`]: the web console's sessions and failed sign-ins ([`console::ConsoleStore`];
//!   [`console::MemoryConsole`] on a single node, [`console::PgConsole`] shared by a cluster).
//! - [`detections`]: the rule engine's findings and its cursor into the journal
//!   ([`detections::DetectionsStore`]; SQLite and PostgreSQL).
//! - [`events`]: EventBridge buses, rules, targets, events put on buses and the outbox of
//!   target deliveries ([`events::EventsStore`]; [`events::SqliteEvents`]).
//! - [`history`]: the event-history index behind LookupEvents, derived from the journal and
//!   rebuildable from it ([`history::HistoryIndex`]; [`history::SqliteHistory`]).
//! - [`labs`]: each account's progress through cairn's labs ([`labs::LabsStore`]; SQLite
//!   and PostgreSQL).
//! - [`identity`]: accounts, IAM entities and access keys ([`identity::IdentityStore`];
//!   [`identity::SqliteIdentity`]).
//! - [`organizations`]: AWS Organizations, each organization one document, and its members
//!   ([`organizations::OrganizationsStore`]; SQLite and PostgreSQL).
//! - [`kms`]: KMS keys (material sealed at rest) and aliases ([`kms::KmsStore`];
//!   [`kms::SqliteKms`], and [`kms::PgKms`] on PostgreSQL).
//! - [`lake`]: CloudTrail Lake's event data stores, queries and their results, imports and
//!   channels ([`lake::LakeStore`]; [`lake::SqliteLake`]), and the contract of the columnar
//!   engine that holds their events ([`lake::Columnar`], implemented by cairn-lake).
//! - [`lambda`]: Lambda functions, their code and the queue of asynchronous invocations
//!   ([`lambda::LambdaStore`]; [`lambda::SqliteLambda`]).
//! - [`logs`]: CloudWatch Logs groups, streams, events and metric filters
//!   ([`logs::LogsStore`]; [`logs::SqliteLogs`], and [`logs::PgLogs`] on PostgreSQL).
//! - [`metrics`]: CloudWatch metrics, metric alarms and pending alarm actions
//!   ([`metrics::MetricsStore`]; [`metrics::SqliteMetrics`]).
//! - [`sns`]: SNS topics, subscriptions, the durable delivery outbox and the signing
//!   certificate ([`sns::SnsStore`]; [`sns::SqliteSns`]).
//! - [`objects`]: the S3 store ([`objects::ObjectStore`]; [`objects::SqliteObjects`], metadata
//!   in SQLite and bodies as files, and [`objects::PgObjects`], metadata on PostgreSQL and
//!   bodies behind [`objects::Bodies`]).
//! - [`sqs`]: SQS queues and their messages ([`sqs::SqsStore`]; [`sqs::SqliteSqs`]).
//! - [`trails`]: trails, delivery plans, signing keys, digest state ([`trails::TrailStore`];
//!   [`trails::SqliteTrails`]).
//! - `suite` (feature `suite`, and in tests): the shared test suite and the embedded
//!   backend's fixture.
//! - [`db`]: SQLite databases whose writes commit with the durable record of the call that
//!   made them, and the call scope the pipeline enters around a call.
//! - [`pg`]: PostgreSQL connections and versioned migrations, for the stores of several nodes
//!   sharing one database (under way: see the module).
//! - [`error`]: the backend-neutral [`StoreError`].
//! - [`migrate`]: copying an embedded instance's SQLite stores into a cluster's schemas
//!   (`cairn migrate`).
//! - [`seal`]: AES-256-GCM sealing of small secrets under a master key file.
//!
//! SQL schemas are in `sql/*.sql`, one per store; PostgreSQL's migrations in `sql/pg/`.

#[macro_use]
mod forward;

pub mod console;
pub mod db;
pub mod detections;
pub mod error;
pub mod events;
pub mod history;
pub mod identity;
pub mod journal;
pub mod kms;
pub mod labs;
pub mod lake;
pub mod lambda;
pub mod logs;
pub mod metrics;
pub mod migrate;
pub mod objects;
pub mod organizations;
pub mod pg;
pub mod seal;
pub mod sns;
pub mod sqs;
mod string_map;
#[cfg(any(test, feature = "suite"))]
pub mod suite;
pub mod trails;

pub use error::StoreError;
