//! cairn's storage.
//!
//! - [`journal`]: the append-only, checksummed, group-committed segment log. Every recorded call
//!   and every imported record lands here first; it is the one source of truth.
//! - [`history`]: the event-history index behind LookupEvents, derived from the journal and
//!   rebuildable from it (SQLite, schema in `sql/history.sql`).
//! - [`identity`]: accounts and their credentials (SQLite, schema in `sql/identity.sql`).
//! - [`kms`]: KMS keys (material sealed at rest) and aliases (SQLite, schema in `sql/kms.sql`).
//! - [`db`]: SQLite databases whose writes commit with the durable record of the call that
//!   made them, shared by every store that keeps state.
//! - [`seal`]: AES-256-GCM sealing of small secrets under a master key file.

pub mod db;
pub mod error;
pub mod history;
pub mod identity;
pub mod journal;
pub mod kms;
pub mod objects;
pub mod seal;
pub mod trails;

pub use error::StoreError;
