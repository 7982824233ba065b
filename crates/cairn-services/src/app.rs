//! Everything a request handler may touch, shared by all connections.

use std::collections::BTreeMap;
use std::sync::Arc;

use cairn_model::Clock;
use cairn_store::history::HistoryIndex;
use cairn_store::identity::IdentityStore;
use cairn_store::journal::Journal;
use cairn_store::kms::KmsStore;
use cairn_store::objects::ObjectStore;
use cairn_store::trails::TrailStore;
use cairn_trail::keys::KeyRing;
use cairn_trail::sink::ExternalBucket;

pub struct App {
    pub journal: Journal,
    pub history: Arc<HistoryIndex>,
    pub identity: Arc<IdentityStore>,
    /// The embedded S3 store.
    pub objects: Arc<ObjectStore>,
    pub trails: Arc<TrailStore>,
    /// Buckets on other S3-compatible endpoints, by name; trails deliver there instead.
    pub external_buckets: Arc<BTreeMap<String, ExternalBucket>>,
    /// Digest signing keys, per region.
    pub keys: Arc<KeyRing>,
    /// KMS keys and aliases.
    pub kms: Arc<KmsStore>,
    pub clock: Arc<dyn Clock>,
    /// How far back event history reaches; `None` keeps everything.
    pub history_retention_ms: Option<i64>,
    /// Makes pagination tokens tamper-proof.
    pub token_key: Vec<u8>,
    /// Principals' parsed identity policies.
    pub grants: crate::authz::GrantCache,
}
