//! Digest bookkeeping, as every backend keeps it: log files waiting for a digest, digest
//! chains, and digests decided but not yet written. What a digest contains and how it is
//! signed is `cairn-trail`'s business; the store only keeps the state so that every step
//! survives a crash.

/// The backfill chain's `range_from`.
pub const BACKFILL: i64 = -1;

/// A written log file that a digest will list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestFile {
    pub id: i64,
    pub trail_arn: String,
    pub region: String,
    pub range_from: i64,
    pub bucket: String,
    pub key: String,
    pub sha256: String,
    pub oldest_event: Option<String>,
    pub newest_event: Option<String>,
    pub planned_ms: i64,
}

/// Where a chain stands: the period its next digest starts, and the digest before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestChain {
    pub trail_arn: String,
    pub region: String,
    /// The logging range (its first journal offset), or [`BACKFILL`].
    pub range_from: i64,
    pub period_start_ms: i64,
    pub prev: Option<PreviousDigest>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviousDigest {
    pub bucket: String,
    pub key: String,
    pub hash: String,
    pub signature: String,
}

/// A digest ready to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestPlan {
    pub id: i64,
    pub trail_arn: String,
    pub bucket: String,
    pub key: String,
    pub body: Vec<u8>,
    pub signature: String,
    pub backfill_generated: Option<String>,
}

/// One decided digest: the chain's next state (None: the chain ends), the files it lists, what
/// to write, and its end time.
pub struct DecidedDigest<'a> {
    pub chain: &'a DigestChain,
    pub next: Option<&'a DigestChain>,
    pub covered: &'a [i64],
    pub plan: &'a DigestPlan,
    pub end_ms: i64,
}
