//! SNS: topics, subscriptions, the delivery outbox and the signing certificate.
//!
//! [`SnsStore`] is the contract, in the service's own terms; [`SqliteSns`] is the embedded
//! backend, [`PgSns`] the shared one; the shared suite (`crate::suite::sns`) holds any backend to it. Topics are keyed
//! by ARN (which names account, region and topic), subscriptions by their ARN. The outbox
//! holds one row per message and subscription until it is delivered or given up: rows are
//! written in the Publish call's transaction, so a Publish that was answered has its
//! deliveries on disk. What the API validates is the service's; the store keeps and orders.

mod pg;
mod sqlite;

use std::collections::BTreeMap;

pub use pg::PgSns;
pub use sqlite::SqliteSns;

use crate::error::StoreError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topic {
    pub arn: String,
    pub account: String,
    pub region: String,
    pub name: String,
    pub created_ms: i64,
    /// The attributes set on it (Policy, DisplayName, DeliveryPolicy, …).
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    /// How many of its subscriptions were deleted (`SubscriptionsDeleted`).
    pub subscriptions_deleted: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    pub arn: String,
    pub topic_arn: String,
    /// The subscribing account.
    pub owner: String,
    pub protocol: String,
    pub endpoint: String,
    pub confirmed: bool,
    /// The confirmation token while pending.
    pub token: Option<String>,
    /// RawMessageDelivery, FilterPolicy, FilterPolicyScope, DeliveryPolicy, …
    pub attributes: BTreeMap<String, String>,
    pub created_ms: i64,
}

/// A delivery to make: a message for one subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDelivery {
    pub subscription_arn: String,
    pub topic_arn: String,
    /// What to deliver, as the service describes it.
    pub payload: String,
    /// When the first attempt is due.
    pub due_ms: i64,
}

/// A delivery in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub subscription_arn: String,
    pub topic_arn: String,
    pub payload: String,
    /// Attempts made so far.
    pub attempts: i64,
    pub next_ms: i64,
    pub created_ms: i64,
}

/// The key and self-signed certificate messages are signed with (PEM).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningCert {
    pub key_pem: String,
    pub cert_pem: String,
}

pub trait SnsStore: Send + Sync {
    /// Creates a topic; `false` when one with its ARN exists (nothing changes).
    fn create_topic(&self, t: &Topic) -> Result<bool, StoreError>;
    fn topic(&self, arn: &str) -> Result<Option<Topic>, StoreError>;
    /// The topics of an account in a region, by ARN.
    fn topics(&self, account: &str, region: &str) -> Result<Vec<Topic>, StoreError>;
    /// Replaces a topic's attributes, tags and counters; `false` when it does not exist.
    fn update_topic(&self, t: &Topic) -> Result<bool, StoreError>;
    /// Deletes a topic with its subscriptions and pending deliveries.
    fn delete_topic(&self, arn: &str) -> Result<bool, StoreError>;

    /// Creates or replaces a subscription.
    fn put_subscription(&self, s: &Subscription) -> Result<(), StoreError>;
    fn subscription(&self, arn: &str) -> Result<Option<Subscription>, StoreError>;
    /// The subscriptions of a topic, oldest first.
    fn subscriptions_of(&self, topic_arn: &str) -> Result<Vec<Subscription>, StoreError>;
    /// The subscriptions to topics of an account in a region, oldest first.
    fn subscriptions_in(
        &self,
        account: &str,
        region: &str,
    ) -> Result<Vec<Subscription>, StoreError>;
    /// Deletes a subscription and its pending deliveries, counting it on its topic.
    fn delete_subscription(&self, arn: &str) -> Result<bool, StoreError>;

    /// Adds deliveries to the outbox.
    fn enqueue(&self, deliveries: &[NewDelivery], now_ms: i64) -> Result<(), StoreError>;
    /// Deliveries due at `now_ms`, oldest first, at most `limit`.
    fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<Delivery>, StoreError>;
    /// Every delivery in the outbox (for tests and status).
    fn pending(&self) -> Result<Vec<Delivery>, StoreError>;
    /// Records a failed attempt and when to try again.
    fn retry_later(&self, id: i64, attempts: i64, next_ms: i64) -> Result<(), StoreError>;
    /// Removes a delivery (made, or given up).
    fn finish(&self, id: i64) -> Result<(), StoreError>;

    /// The signing certificate, if one was made.
    fn signing_cert(&self) -> Result<Option<SigningCert>, StoreError>;
    /// Keeps `c` unless one exists already; answers the one kept.
    fn keep_signing_cert(&self, c: &SigningCert) -> Result<SigningCert, StoreError>;
}
