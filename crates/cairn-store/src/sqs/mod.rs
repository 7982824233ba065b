//! SQS: queues (their settable attributes, tags, the last purge) and the messages in them.
//!
//! [`SqsStore`] is the contract, in the service's own terms; [`SqliteSqs`] is the embedded
//! backend and [`PgSqs`] the shared one; the shared suite (`crate::suite::sqs`) holds any backend to it. Queues are scoped
//! by a [`QueueKey`] (account, region, name). What the API validates (names, attribute
//! ranges, sizes) is the service's; the store keeps messages, hands out the visible ones and
//! moves them between queues. Times are the caller's clock (epoch milliseconds), so a test
//! clock drives visibility, delays and retention.

mod pg;
mod sqlite;

use std::collections::BTreeMap;

pub use pg::PgSqs;
pub use sqlite::SqliteSqs;

use crate::error::StoreError;

/// A queue's place: account, region and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct QueueKey {
    pub account: String,
    pub region: String,
    pub name: String,
}

impl QueueKey {
    pub fn new(account: &str, region: &str, name: &str) -> QueueKey {
        QueueKey {
            account: account.into(),
            region: region.into(),
            name: name.into(),
        }
    }

    /// `arn:aws:sqs:<region>:<account>:<name>`.
    pub fn arn(&self) -> String {
        format!("arn:aws:sqs:{}:{}:{}", self.region, self.account, self.name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queue {
    pub key: QueueKey,
    pub created_ms: i64,
    pub modified_ms: i64,
    /// The settable attributes as the service accepted them (`VisibilityTimeout`, `Policy`,
    /// `RedrivePolicy`, …), all strings as the API carries them.
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    /// When the queue was last purged.
    pub purged_ms: Option<i64>,
}

/// A message to put in a queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMessage {
    pub id: String,
    pub body: String,
    /// The message attributes as sent (a JSON object; the store does not look inside).
    pub attributes: String,
    pub md5_body: String,
    pub sender_id: String,
    pub sent_ms: i64,
    /// Not received before this time (the send time plus any delay).
    pub visible_ms: i64,
}

/// A stored message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Its place in the queue's order.
    pub seq: i64,
    pub id: String,
    pub body: String,
    pub attributes: String,
    pub md5_body: String,
    pub sender_id: String,
    pub sent_ms: i64,
    pub visible_ms: i64,
    pub receive_count: i64,
    pub first_receive_ms: Option<i64>,
    /// The handle its latest receive handed out.
    pub receipt: Option<String>,
    /// The queue it was moved from as a dead letter.
    pub source_arn: Option<String>,
}

/// A receive: at most `max` messages visible at `now_ms` and sent at or after `oldest_ms`
/// (retention), hidden until `visible_until_ms`, each given the handle `receipt(seq)` makes.
/// With `dead_letter`, a message already received `max_receives` times goes to that queue
/// instead (received 0 times there, visible at once, its source remembered).
pub struct Receive<'a> {
    pub now_ms: i64,
    pub oldest_ms: i64,
    pub max: usize,
    pub visible_until_ms: i64,
    pub receipt: &'a (dyn Fn(&Message) -> String + Sync),
    pub dead_letter: Option<DeadLetter<'a>>,
}

/// Where messages received too often go.
pub struct DeadLetter<'a> {
    pub queue: &'a QueueKey,
    pub max_receives: i64,
    /// The source queue's ARN, kept on moved messages.
    pub source_arn: &'a str,
}

/// How many messages a queue holds, by state, at a time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Ready to be received.
    pub visible: u64,
    /// Received and not yet visible again (in flight).
    pub in_flight: u64,
    /// Never received and still delayed.
    pub delayed: u64,
}

/// What a visibility change found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VisibilityChange {
    Changed,
    /// No message holds that handle.
    NoSuchReceipt,
    /// The message holding it is visible again (not in flight).
    NotInFlight,
}

/// SQS queues and messages.
pub trait SqsStore: Send + Sync {
    /// Creates a queue; `false` if one of that name exists.
    fn create_queue(&self, q: &Queue) -> Result<bool, StoreError>;

    /// A queue, `None` if there is none.
    fn queue(&self, key: &QueueKey) -> Result<Option<Queue>, StoreError>;

    /// An account's queues in a region, by name.
    fn queues(&self, account: &str, region: &str) -> Result<Vec<Queue>, StoreError>;

    /// Removes a queue with its messages; `false` if there was none.
    fn delete_queue(&self, key: &QueueKey) -> Result<bool, StoreError>;

    /// Replaces a queue's attributes and sets its modification time; `false` if there is no
    /// such queue.
    fn set_attributes(
        &self,
        key: &QueueKey,
        attributes: &BTreeMap<String, String>,
        modified_ms: i64,
    ) -> Result<bool, StoreError>;

    /// Replaces a queue's tags; `false` if there is no such queue.
    fn set_tags(&self, key: &QueueKey, tags: &BTreeMap<String, String>)
    -> Result<bool, StoreError>;

    /// Puts messages in an existing queue, in order.
    fn send(&self, key: &QueueKey, messages: &[NewMessage]) -> Result<(), StoreError>;

    /// Receives messages as `r` says (see [`Receive`]), oldest first. Writes nothing when no
    /// message is ready, so a long poll may call it again and again while others send.
    fn receive(&self, key: &QueueKey, r: &Receive<'_>) -> Result<Vec<Message>, StoreError>;

    /// Deletes the message holding `receipt`; `false` if none does.
    fn delete_message(&self, key: &QueueKey, receipt: &str) -> Result<bool, StoreError>;

    /// Makes the in-flight message holding `receipt` visible at `visible_ms`.
    fn change_visibility(
        &self,
        key: &QueueKey,
        receipt: &str,
        now_ms: i64,
        visible_ms: i64,
    ) -> Result<VisibilityChange, StoreError>;

    /// Deletes every message of a queue and notes the time; answers how many went.
    fn purge(&self, key: &QueueKey, now_ms: i64) -> Result<u64, StoreError>;

    /// A queue's messages by state at `now_ms`, leaving out those sent before `oldest_ms`.
    fn counts(&self, key: &QueueKey, now_ms: i64, oldest_ms: i64) -> Result<Counts, StoreError>;

    /// Moves on whenever messages are committed to any queue: a long poll waits for it.
    fn generation(&self) -> u64;
}
