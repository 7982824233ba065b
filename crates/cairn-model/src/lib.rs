//! cairn's domain model: the CloudTrail record as AWS writes it, the identities that appear in
//! `userIdentity`, accounts and regions, identifiers, and the injected clock.
//!
//! Nothing here does I/O; every other crate builds on these types.

pub mod account;
pub mod clock;
pub mod identity;
pub mod ids;
pub mod record;
pub mod summary;
pub mod timefmt;

pub use account::{AccountId, Region};
pub use clock::{Clock, ManualClock, SharedOffset, SystemClock, TestClock};
pub use identity::Principal;
pub use record::{ApiCallRecord, EventCategory, RecordResource, TlsDetails};
pub use summary::EventSummary;
