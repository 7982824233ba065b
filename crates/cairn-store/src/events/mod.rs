//! EventBridge: event buses, rules, targets, the stream of events put on buses, the outbox of
//! target deliveries and the routing consumer's cursors.
//!
//! [`EventsStore`] is the contract, in the service's own terms; [`SqliteEvents`] is the
//! embedded backend, [`PgEvents`] the one of nodes sharing PostgreSQL; the shared suite (`crate::suite::events`) holds any backend to it.
//! Buses and rules are keyed by ARN (which names account, region, bus and rule); the default
//! bus of an account and region is the service's to answer, it has no row. Events put on a
//! bus are written in the PutEvents call's transaction, so an answered call's events are on
//! disk; the router moves a cursor and writes the deliveries the events matched in one
//! transaction ([`EventsStore::advance`]), so a crash between the two never loses a match.
//! What the API validates is the service's; the store keeps and orders.

mod pg;
mod sqlite;

use std::collections::BTreeMap;

pub use pg::PgEvents;
pub use sqlite::SqliteEvents;

use crate::error::StoreError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventBus {
    pub arn: String,
    pub account: String,
    pub region: String,
    pub name: String,
    pub description: Option<String>,
    pub created_ms: i64,
    pub modified_ms: i64,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub arn: String,
    pub account: String,
    pub region: String,
    /// The name of its event bus.
    pub bus: String,
    pub name: String,
    pub event_pattern: Option<String>,
    pub schedule: Option<String>,
    /// `ENABLED`, `DISABLED` or `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS`.
    pub state: String,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    /// The account that made it.
    pub created_by: String,
    pub created_ms: i64,
    /// When a scheduled rule fires next.
    pub next_fire_ms: Option<i64>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub rule_arn: String,
    pub id: String,
    pub arn: String,
    /// The `Target` structure as put (JSON): input shaping, retry policy, dead-letter
    /// queue, SQS parameters.
    pub spec: String,
}

/// An event to put on a bus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewBusEvent {
    pub account: String,
    pub region: String,
    pub bus: String,
    /// The event as targets get it (JSON).
    pub event: String,
}

/// An event on a bus, in the order events were put.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusEvent {
    pub seq: i64,
    pub account: String,
    pub region: String,
    pub bus: String,
    pub event: String,
    pub created_ms: i64,
}

/// A delivery to make: one event for one target of one rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDelivery {
    pub rule_arn: String,
    /// The target's `Target` structure when the event matched (JSON).
    pub target: String,
    pub event: String,
    /// What the target gets (the event, or its shaped input).
    pub input: String,
    pub event_ms: i64,
    /// When the first attempt is due.
    pub due_ms: i64,
}

/// A delivery in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub rule_arn: String,
    pub target: String,
    pub event: String,
    pub input: String,
    pub event_ms: i64,
    /// Attempts made so far.
    pub attempts: i64,
    pub next_ms: i64,
    pub created_ms: i64,
    pub last_error: Option<String>,
}

pub trait EventsStore: Send + Sync {
    /// Creates a bus; `false` when one with its ARN exists (nothing changes).
    fn create_bus(&self, b: &EventBus) -> Result<bool, StoreError>;
    fn bus(&self, arn: &str) -> Result<Option<EventBus>, StoreError>;
    /// The custom buses of an account in a region, by name.
    fn buses(&self, account: &str, region: &str) -> Result<Vec<EventBus>, StoreError>;
    /// Replaces a bus's description, modification time and tags; `false` when it does not
    /// exist.
    fn update_bus(&self, b: &EventBus) -> Result<bool, StoreError>;
    /// Deletes a bus with its rules and their targets; `false` when it did not exist.
    fn delete_bus(&self, arn: &str) -> Result<bool, StoreError>;

    /// Creates or replaces a rule (by ARN).
    fn put_rule(&self, r: &Rule) -> Result<(), StoreError>;
    fn rule(&self, arn: &str) -> Result<Option<Rule>, StoreError>;
    /// The rules of a bus, by name.
    fn rules(&self, account: &str, region: &str, bus: &str) -> Result<Vec<Rule>, StoreError>;
    /// Deletes a rule with its targets; `false` when it did not exist.
    fn delete_rule(&self, arn: &str) -> Result<bool, StoreError>;
    /// Replaces the tags of a bus or rule; `false` when no bus or rule has the ARN.
    fn set_tags(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<bool, StoreError>;
    /// Whether any rule with an event pattern is enabled, anywhere: when none is, no event
    /// can match and routing has nothing to read.
    fn any_pattern_rule(&self) -> Result<bool, StoreError>;
    /// Enabled scheduled rules due to fire at `now_ms`, earliest first.
    fn schedules_due(&self, now_ms: i64) -> Result<Vec<Rule>, StoreError>;

    /// Creates or replaces targets of a rule (by id).
    fn put_targets(&self, targets: &[Target]) -> Result<(), StoreError>;
    /// The targets of a rule, by id.
    fn targets(&self, rule_arn: &str) -> Result<Vec<Target>, StoreError>;
    /// Removes targets of a rule by id; how many there were.
    fn remove_targets(&self, rule_arn: &str, ids: &[String]) -> Result<usize, StoreError>;
    /// The ARNs of the rules with a target of ARN `target_arn`, among those of `rules_prefix`
    /// (a bus's rule ARN prefix), by ARN.
    fn rules_with_target(
        &self,
        rules_prefix: &str,
        target_arn: &str,
    ) -> Result<Vec<String>, StoreError>;

    /// Puts events on buses (in the calling call's transaction); [`EventsStore::events_put`]
    /// is notified once they are committed.
    fn put_bus_events(&self, events: &[NewBusEvent], now_ms: i64) -> Result<(), StoreError>;
    /// Events after `seq`, in order, at most `limit`.
    fn bus_events_after(&self, seq: i64, limit: usize) -> Result<Vec<BusEvent>, StoreError>;
    /// Notified whenever events put on buses are committed: the router waits on it.
    fn events_put(&self) -> std::sync::Arc<tokio::sync::Notify>;
    /// Forgets the events up to `seq` (routed).
    fn forget_bus_events(&self, through_seq: i64) -> Result<(), StoreError>;

    /// Where cursor `name` stands (`None` before it first moved).
    fn cursor(&self, name: &str) -> Result<Option<i64>, StoreError>;
    /// Moves cursor `name` to `position` and adds `deliveries` to the outbox, together.
    fn advance(
        &self,
        name: &str,
        position: i64,
        deliveries: &[NewDelivery],
        now_ms: i64,
    ) -> Result<(), StoreError>;
    /// A scheduled rule fired: sets its next firing and adds its deliveries, together.
    fn fired(
        &self,
        rule_arn: &str,
        next_fire_ms: i64,
        deliveries: &[NewDelivery],
        now_ms: i64,
    ) -> Result<(), StoreError>;

    /// Deliveries due at `now_ms`, oldest first, at most `limit`.
    fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<Delivery>, StoreError>;
    /// Every delivery in the outbox (for tests and status).
    fn pending(&self) -> Result<Vec<Delivery>, StoreError>;
    /// Records a failed attempt, why, and when to try again.
    fn retry_later(
        &self,
        id: i64,
        attempts: i64,
        next_ms: i64,
        error: &str,
    ) -> Result<(), StoreError>;
    /// Removes a delivery (made, or given up).
    fn finish(&self, id: i64) -> Result<(), StoreError>;
}
