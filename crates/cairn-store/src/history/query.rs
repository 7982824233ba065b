//! What LookupEvents asks of event history and what it gets back: one optional attribute, a
//! time range, newest first, keyset pages.

/// The eight LookupEvents attribute keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupKey {
    EventId,
    EventName,
    ReadOnly,
    Username,
    ResourceType,
    ResourceName,
    EventSource,
    AccessKeyId,
}

impl LookupKey {
    pub fn parse(s: &str) -> Option<LookupKey> {
        Some(match s {
            "EventId" => LookupKey::EventId,
            "EventName" => LookupKey::EventName,
            "ReadOnly" => LookupKey::ReadOnly,
            "Username" => LookupKey::Username,
            "ResourceType" => LookupKey::ResourceType,
            "ResourceName" => LookupKey::ResourceName,
            "EventSource" => LookupKey::EventSource,
            "AccessKeyId" => LookupKey::AccessKeyId,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LookupKey::EventId => "EventId",
            LookupKey::EventName => "EventName",
            LookupKey::ReadOnly => "ReadOnly",
            LookupKey::Username => "Username",
            LookupKey::ResourceType => "ResourceType",
            LookupKey::ResourceName => "ResourceName",
            LookupKey::EventSource => "EventSource",
            LookupKey::AccessKeyId => "AccessKeyId",
        }
    }
}

/// Where the previous page ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageAfter {
    pub t: i64,
    pub seq: i64,
}

#[derive(Clone, Debug)]
pub struct LookupQuery {
    pub account: String,
    pub region: String,
    /// `Management` or `Insight`.
    pub category: &'static str,
    pub attribute: Option<(LookupKey, String)>,
    /// Inclusive bounds on eventTime, ms.
    pub start_ms: i64,
    pub end_ms: i64,
    pub limit: usize,
    pub after: Option<PageAfter>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShownResource {
    pub resource_type: Option<String>,
    pub resource_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexedEvent {
    /// The record's journal offset.
    pub seq: i64,
    pub t: i64,
    pub event_id: String,
    pub event_name: Option<String>,
    pub event_source: Option<String>,
    pub username: Option<String>,
    pub access_key_id: Option<String>,
    pub read_only: Option<String>,
    pub resources: Vec<ShownResource>,
}

#[derive(Clone, Debug, Default)]
pub struct LookupPage {
    pub events: Vec<IndexedEvent>,
    /// Set when more events follow this page.
    pub next: Option<PageAfter>,
}
