//! The web console's sign-in state: who is signed in (sessions), and the failed sign-ins the
//! brute-force throttle counts.
//!
//! [`ConsoleStore`] is the contract. A single node keeps this in its memory
//! ([`MemoryConsole`]): restarting it signs everyone out, as documented, and nothing is lost
//! that matters (sessions last hours; their credentials expire with them). Nodes of a cluster
//! share it in PostgreSQL ([`PgConsole`]), because a load balancer sends a browser's requests
//! to any node: a session started on one must open pages on every other, signing out on one
//! must end it everywhere, and failures must count against the cluster, not one node. The
//! shared suite (`crate::suite::console`) holds both to this contract.
//!
//! The session id is the cookie's value and the only secret a browser holds: the stores key
//! sessions by its SHA-256 ([`id_digest`]), so whoever reads the table (a database backup, an
//! operator) cannot sign in as anyone. What to count and for how long (the throttle's policy)
//! is the console's; the stores keep failure times and hand them back.

mod memory;
mod pg;

pub use memory::MemoryConsole;
pub use pg::PgConsole;

use crate::error::StoreError;

/// One signed-in person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleSession {
    /// The temporary credentials minted at sign-in; the principal is looked up from them on
    /// every request, so a deleted user or key ends the session.
    pub access_key_id: String,
    pub account: String,
    /// What the page header shows: the user name, or the account for root.
    pub display_name: String,
    /// Every form of this session carries it; a POST without it is refused.
    pub csrf: String,
    pub expires_ms: i64,
    /// The login profile requires a new password: until it is changed, the only page open
    /// is the one that changes it.
    pub must_change_password: bool,
}

/// Where console sessions and failed sign-ins are kept. Session ids are the cookie values
/// the console made; a store keeps only their digests.
pub trait ConsoleStore: Send + Sync + 'static {
    /// Keeps a new session under `id`.
    fn start_session(&self, id: &str, session: &ConsoleSession) -> Result<(), StoreError>;

    /// The session with this id if it is live at `now_ms` (expired: `None`).
    fn session(&self, id: &str, now_ms: i64) -> Result<Option<ConsoleSession>, StoreError>;

    /// Lifts the restriction to the password change page, once the password has changed.
    fn password_changed(&self, id: &str) -> Result<(), StoreError>;

    /// Ends a session; what it was (to delete its credentials), if it was there. Of two nodes
    /// ending the same session at once, one gets it.
    fn end_session(&self, id: &str) -> Result<Option<ConsoleSession>, StoreError>;

    /// Forgets sessions expired at `now_ms` (their credentials expired with them); how many.
    fn sweep_sessions(&self, now_ms: i64) -> Result<u64, StoreError>;

    /// Counts a failed sign-in at `at_ms` against every one of `keys`. Failures before
    /// `forget_before_ms` no longer count for anyone, and the store may drop them now (an
    /// attacker cycling through made-up names must not grow it forever).
    fn add_failure(
        &self,
        keys: &[String],
        at_ms: i64,
        forget_before_ms: i64,
    ) -> Result<(), StoreError>;

    /// When the failures counted against `key` at or after `since_ms` happened, oldest first.
    fn failures_since(&self, key: &str, since_ms: i64) -> Result<Vec<i64>, StoreError>;

    /// Forgets the failures counted against `key` (an identity that just signed in).
    fn clear_failures(&self, key: &str) -> Result<(), StoreError>;
}

/// The digest a session is kept under: SHA-256 of its id.
pub fn id_digest(id: &str) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, id.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}
