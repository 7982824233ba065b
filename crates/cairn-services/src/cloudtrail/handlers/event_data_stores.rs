//! CloudTrail Lake's event data stores: Create/Get/List/Update/Delete/RestoreEventDataStore and
//! Start/StopEventDataStoreIngestion.
//!
//! A store ingests the journal's records from the moment ingestion starts (its ingestion
//! ranges are journal offsets), through `lake_ingest`. Deleting one puts it in
//! `PENDING_DELETION` for seven days, during which RestoreEventDataStore brings it back; after
//! that `lake_ingest` purges it with its events.

use cairn_model::{ids, timefmt};
use cairn_store::lake::EventDataStore;
use cairn_wire::AwsError;
use serde_json::{Map, Value, json};

use super::organization::{is_delegated_admin, organization_flag};
use super::selectors;
use super::tags::tags_of;
use super::trails::{bool_member, internal, str_member};
use crate::app::App;
use crate::cloudtrail::lake_keys;
use crate::recorder::CallContext;

/// Event data stores an account may have in a region.
const MAX_STORES: usize = 10;
/// How long a deleted store can be restored.
pub(in crate::cloudtrail) const PENDING_DELETION_MS: i64 = 7 * 86_400_000;
const DEFAULT_RETENTION_EXTENDABLE: i64 = 366;
const DEFAULT_RETENTION_FIXED: i64 = 2557;

pub(in crate::cloudtrail) const ENABLED: &str = "ENABLED";
const CREATED: &str = "CREATED";
pub(in crate::cloudtrail) const PENDING_DELETION: &str = "PENDING_DELETION";
const STOPPED_INGESTION: &str = "STOPPED_INGESTION";

fn invalid(msg: impl Into<String>) -> AwsError {
    AwsError::client("InvalidParameterException", msg)
}

fn not_found(what: &str) -> AwsError {
    AwsError::client(
        "EventDataStoreNotFoundException",
        format!("The specified event data store {what} was not found."),
    )
}

/// What a store's settings are, the API's members as last set.
fn settings(s: &EventDataStore) -> Map<String, Value> {
    match serde_json::from_str(&s.settings) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn setting_bool(m: &Map<String, Value>, name: &str, default: bool) -> bool {
    m.get(name).and_then(Value::as_bool).unwrap_or(default)
}

/// The store a request names by ARN or by the id its ARN ends with, in the caller's account.
pub(in crate::cloudtrail) fn find(
    app: &App,
    ctx: &CallContext,
    named: &str,
) -> Result<EventDataStore, AwsError> {
    let id = if let Some(rest) = named.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        match parts.as_slice() {
            [_, "cloudtrail", _, _, res] if res.starts_with("eventdatastore/") => {
                res.trim_start_matches("eventdatastore/").to_string()
            }
            _ => {
                return Err(AwsError::client(
                    "EventDataStoreARNInvalidException",
                    "The specified event data store ARN is not valid or does not map to an event data store in your account.",
                ));
            }
        }
    } else {
        named.to_string()
    };
    if id.is_empty() || id.len() > 256 {
        return Err(AwsError::client(
            "EventDataStoreARNInvalidException",
            "The specified event data store ARN is not valid or does not map to an event data store in your account.",
        ));
    }
    match app
        .lake
        .store_by_id(&id.to_ascii_lowercase())
        .map_err(internal)?
    {
        Some(s) if s.account == ctx.recipient_account || delegated_reach(app, ctx, &s)? => Ok(s),
        _ => Err(not_found(named)),
    }
}

/// The store as the API describes it.
pub(in crate::cloudtrail) fn describe(s: &EventDataStore) -> Map<String, Value> {
    let m = settings(s);
    let mut out = Map::new();
    out.insert("EventDataStoreArn".into(), json!(s.arn));
    out.insert("Name".into(), json!(s.name));
    out.insert("Status".into(), json!(s.status));
    for key in [
        "AdvancedEventSelectors",
        "MultiRegionEnabled",
        "OrganizationEnabled",
        "RetentionPeriod",
        "TerminationProtectionEnabled",
        "BillingMode",
        lake_keys::KEY_ARN,
    ] {
        if let Some(v) = m.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    out.insert(
        "CreatedTimestamp".into(),
        timefmt::epoch_seconds(s.created_ms),
    );
    out.insert(
        "UpdatedTimestamp".into(),
        timefmt::epoch_seconds(s.updated_ms),
    );
    out
}

fn default_selectors() -> Value {
    json!([{
        "Name": "Default management events",
        "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]
    }])
}

fn validate_name(name: &str) -> Result<(), AwsError> {
    let ok = (3..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "Event data store name must be 3 to 128 characters: letters, digits, periods, underscores and dashes.",
        ))
    }
}

fn billing_mode(input: &Value, current: Option<&str>) -> Result<String, AwsError> {
    match str_member(input, "BillingMode") {
        None => Ok(current
            .unwrap_or("EXTENDABLE_RETENTION_PRICING")
            .to_string()),
        Some(m @ ("EXTENDABLE_RETENTION_PRICING" | "FIXED_RETENTION_PRICING")) => Ok(m.to_string()),
        Some(other) => Err(invalid(format!(
            "Value '{other}' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [EXTENDABLE_RETENTION_PRICING, FIXED_RETENTION_PRICING]"
        ))),
    }
}

fn retention(input: &Value, mode: &str, current: Option<i64>) -> Result<i64, AwsError> {
    let max = if mode == "FIXED_RETENTION_PRICING" {
        DEFAULT_RETENTION_FIXED
    } else {
        3653
    };
    let days = match input.get("RetentionPeriod") {
        None | Some(Value::Null) => current.unwrap_or(if mode == "FIXED_RETENTION_PRICING" {
            DEFAULT_RETENTION_FIXED
        } else {
            DEFAULT_RETENTION_EXTENDABLE
        }),
        Some(v) => v
            .as_i64()
            .ok_or_else(|| invalid("RetentionPeriod must be a number of days."))?,
    };
    if !(7..=max).contains(&days) {
        return Err(invalid(format!(
            "RetentionPeriod must be between 7 and {max} days."
        )));
    }
    Ok(days)
}

/// Whether the caller reaches `s` as a CloudTrail delegated administrator of the organization
/// whose management account owns it (an organization store).
fn delegated_reach(app: &App, ctx: &CallContext, s: &EventDataStore) -> Result<bool, AwsError> {
    if !setting_bool(&settings(s), "OrganizationEnabled", false) {
        return Ok(false);
    }
    Ok(app
        .organizations
        .organization_of(&ctx.recipient_account)
        .map_err(internal)?
        .is_some_and(|o| {
            o.management_account == s.account && is_delegated_admin(&o, &ctx.recipient_account)
        }))
}

/// The stores the caller sees: its account's, and as a CloudTrail delegated administrator its
/// organization's stores.
fn reachable(app: &App, ctx: &CallContext) -> Result<Vec<EventDataStore>, AwsError> {
    let mut all = app.lake.stores(&ctx.recipient_account).map_err(internal)?;
    if let Some(org) = app
        .organizations
        .organization_of(&ctx.recipient_account)
        .map_err(internal)?
        .filter(|o| is_delegated_admin(o, &ctx.recipient_account))
    {
        for s in app.lake.stores(&org.management_account).map_err(internal)? {
            if setting_bool(&settings(&s), "OrganizationEnabled", false) {
                all.push(s);
            }
        }
    }
    Ok(all)
}

pub fn create(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let name = str_member(input, "Name").unwrap_or("");
    validate_name(name)?;
    let (organization, owner) =
        organization_flag(app, ctx, input, "OrganizationEnabled")?.unwrap_or((false, None));
    // A delegated administrator's organization store belongs to the management account.
    let owner = owner.unwrap_or_else(|| ctx.recipient_account.clone());
    let selectors = match input.get("AdvancedEventSelectors") {
        None | Some(Value::Null) => default_selectors(),
        Some(v) => selectors::validate_store_selectors(v)?,
    };
    let mode = billing_mode(input, None)?;
    let days = retention(input, &mode, None)?;
    let tags = tags_of(input)?;
    let existing = app.lake.stores(&owner).map_err(internal)?;
    let here: Vec<&EventDataStore> = existing.iter().filter(|s| s.region == ctx.region).collect();
    if here.iter().any(|s| s.name == name) {
        return Err(AwsError::client(
            "EventDataStoreAlreadyExistsException",
            format!("An event data store with the name {name} already exists."),
        ));
    }
    if here.len() >= MAX_STORES {
        return Err(AwsError::client(
            "EventDataStoreMaxLimitExceededException",
            format!(
                "Your account has the maximum number of event data stores ({MAX_STORES}) in this Region."
            ),
        ));
    }
    let now = app.clock.now_millis();
    let id = ids::new_uuid();
    let start = bool_member(input, "StartIngestion")?.unwrap_or(true);
    let mut m = Map::new();
    m.insert("AdvancedEventSelectors".into(), selectors);
    m.insert(
        "MultiRegionEnabled".into(),
        json!(bool_member(input, "MultiRegionEnabled")?.unwrap_or(true)),
    );
    m.insert("OrganizationEnabled".into(), json!(organization));
    m.insert("BillingMode".into(), json!(mode));
    m.insert("RetentionPeriod".into(), json!(days));
    m.insert(
        "TerminationProtectionEnabled".into(),
        json!(bool_member(input, "TerminationProtectionEnabled")?.unwrap_or(true)),
    );
    let arn = format!(
        "arn:aws:cloudtrail:{}:{}:eventdatastore/{id}",
        ctx.region, owner
    );
    if let Some(key) = str_member(input, "KmsKeyId").filter(|k| !k.is_empty()) {
        lake_keys::seal(app, ctx, &arn, key, &mut m)?;
    }
    let store = EventDataStore {
        arn,
        id,
        account: owner,
        region: ctx.region.clone(),
        name: name.to_string(),
        status: if start { ENABLED } else { CREATED }.to_string(),
        settings: Value::Object(m).to_string(),
        created_ms: now,
        updated_ms: now,
        tags: tags.iter().cloned().collect(),
        ingest_ranges: if start {
            vec![(app.journal.head(), None)]
        } else {
            Vec::new()
        },
        deleted_ms: None,
    };
    app.lake.put_store(&store).map_err(internal)?;
    let mut out = describe(&store);
    out.insert(
        "TagsList".into(),
        Value::Array(
            tags.iter()
                .map(|(k, v)| json!({"Key": k, "Value": v}))
                .collect(),
        ),
    );
    Ok(Value::Object(out))
}

pub fn get(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let s = find(app, ctx, str_member(input, "EventDataStore").unwrap_or(""))?;
    let mut out = describe(&s);
    out.insert("FederationStatus".into(), json!("DISABLED"));
    Ok(Value::Object(out))
}

pub fn list(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let max = super::page_size(input, "MaxResults")?;
    let all: Vec<EventDataStore> = reachable(app, ctx)?
        .into_iter()
        .filter(|s| s.region == ctx.region)
        .collect();
    let start = match str_member(input, "NextToken") {
        None => 0,
        Some(t) => all.iter().position(|s| s.id == t).ok_or_else(|| {
            AwsError::client("InvalidNextTokenException", "The NextToken is not valid.")
        })?,
    };
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(max)
        .map(|s| {
            // The list's entries have fewer members than GetEventDataStore's answer.
            let mut d = describe(s);
            d.remove("KmsKeyId");
            d.remove("BillingMode");
            Value::Object(d)
        })
        .collect();
    let mut out = json!({ "EventDataStores": page });
    if let Some(next) = all.get(start + max) {
        out["NextToken"] = json!(next.id);
    }
    Ok(out)
}

pub fn update(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let mut s = find(app, ctx, str_member(input, "EventDataStore").unwrap_or(""))?;
    if s.status == PENDING_DELETION {
        return Err(inactive(&s));
    }
    let organization = organization_flag(app, ctx, input, "OrganizationEnabled")?.map(|(o, _)| o);
    refuse_ongoing_import(app, &s)?;
    let mut m = settings(&s);
    if let Some(name) = str_member(input, "Name") {
        validate_name(name)?;
        let taken = app
            .lake
            .stores(&ctx.recipient_account)
            .map_err(internal)?
            .iter()
            .any(|o| o.region == s.region && o.name == name && o.arn != s.arn);
        if taken {
            return Err(AwsError::client(
                "EventDataStoreAlreadyExistsException",
                format!("An event data store with the name {name} already exists."),
            ));
        }
        s.name = name.to_string();
    }
    if let Some(v) = input.get("AdvancedEventSelectors").filter(|v| !v.is_null()) {
        m.insert(
            "AdvancedEventSelectors".into(),
            selectors::validate_store_selectors(v)?,
        );
    }
    let current_mode = m
        .get("BillingMode")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mode = billing_mode(input, current_mode.as_deref())?;
    if current_mode.as_deref() == Some("EXTENDABLE_RETENTION_PRICING")
        && mode == "FIXED_RETENTION_PRICING"
    {
        return Err(invalid(
            "You cannot change the billing mode from EXTENDABLE_RETENTION_PRICING to FIXED_RETENTION_PRICING.",
        ));
    }
    let days = retention(
        input,
        &mode,
        m.get("RetentionPeriod").and_then(Value::as_i64),
    )?;
    m.insert("BillingMode".into(), json!(mode));
    m.insert("RetentionPeriod".into(), json!(days));
    for key in ["MultiRegionEnabled", "TerminationProtectionEnabled"] {
        if let Some(b) = bool_member(input, key)? {
            m.insert(key.into(), json!(b));
        }
    }
    if let Some(o) = organization {
        m.insert("OrganizationEnabled".into(), json!(o));
    }
    if let Some(key) = str_member(input, "KmsKeyId") {
        match m.get(lake_keys::KEY_ARN).and_then(Value::as_str) {
            // Naming the key it has (by ARN or id) changes nothing.
            Some(arn) if arn == key || arn.ends_with(&format!("/{key}")) => {}
            Some(_) => {
                return Err(invalid(
                    "After you associate an event data store with a KMS key, the KMS key cannot be removed or changed.",
                ));
            }
            None if key.is_empty() => {}
            None => lake_keys::seal(app, ctx, &s.arn, key, &mut m)?,
        }
    }
    s.settings = Value::Object(m).to_string();
    s.updated_ms = app.clock.now_millis();
    app.lake.put_store(&s).map_err(internal)?;
    let mut out = describe(&s);
    out.insert("FederationStatus".into(), json!("DISABLED"));
    Ok(Value::Object(out))
}

fn inactive(s: &EventDataStore) -> AwsError {
    AwsError::client(
        "InactiveEventDataStoreException",
        format!("The event data store {} is inactive.", s.arn),
    )
}

/// Closes the open ingestion range at the journal's head.
fn stop_ranges(app: &App, s: &mut EventDataStore) {
    let head = app.journal.head();
    for r in &mut s.ingest_ranges {
        if r.1.is_none() {
            r.1 = Some(head);
        }
    }
}

pub fn delete(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let mut s = find(app, ctx, str_member(input, "EventDataStore").unwrap_or(""))?;
    if s.status == PENDING_DELETION {
        return Err(inactive(&s));
    }
    if setting_bool(&settings(&s), "TerminationProtectionEnabled", true) {
        return Err(AwsError::client(
            "EventDataStoreTerminationProtectedException",
            "Termination protection is enabled for the event data store; disable it with UpdateEventDataStore before deleting it.",
        ));
    }
    refuse_ongoing_import(app, &s)?;
    if has_channel(app, &s)? {
        return Err(AwsError::client(
            "ChannelExistsForEDSException",
            "A channel delivers to this event data store; delete the channel first.",
        ));
    }
    stop_ranges(app, &mut s);
    let now = app.clock.now_millis();
    s.status = PENDING_DELETION.into();
    s.deleted_ms = Some(now);
    s.updated_ms = now;
    app.lake.put_store(&s).map_err(internal)?;
    Ok(json!({}))
}

/// An import into the store that is still under way refuses changes to it.
fn refuse_ongoing_import(app: &App, s: &EventDataStore) -> Result<(), AwsError> {
    if super::imports::ongoing_into(app, &s.account, &s.arn)? {
        return Err(AwsError::client(
            "EventDataStoreHasOngoingImportException",
            format!(
                "An import into the event data store {} is in progress; stop it or wait for it to finish.",
                s.arn
            ),
        ));
    }
    Ok(())
}

/// Whether a channel names the store as a destination.
fn has_channel(app: &App, s: &EventDataStore) -> Result<bool, AwsError> {
    Ok(app
        .lake
        .documents("channel", &s.account)
        .map_err(internal)?
        .iter()
        .any(|(_, body)| body.contains(&s.arn)))
}

pub fn restore(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let mut s = find(app, ctx, str_member(input, "EventDataStore").unwrap_or(""))?;
    if s.status != PENDING_DELETION {
        return Err(AwsError::client(
            "InvalidEventDataStoreStatusException",
            format!(
                "The event data store {} is not pending deletion; only such stores can be restored.",
                s.arn
            ),
        ));
    }
    let live = app
        .lake
        .stores(&ctx.recipient_account)
        .map_err(internal)?
        .iter()
        .filter(|o| o.region == s.region && o.status != PENDING_DELETION)
        .count();
    if live >= MAX_STORES {
        return Err(AwsError::client(
            "EventDataStoreMaxLimitExceededException",
            format!(
                "Your account has the maximum number of event data stores ({MAX_STORES}) in this Region."
            ),
        ));
    }
    s.status = ENABLED.into();
    s.deleted_ms = None;
    s.updated_ms = app.clock.now_millis();
    s.ingest_ranges.push((app.journal.head(), None));
    app.lake.put_store(&s).map_err(internal)?;
    Ok(Value::Object(describe(&s)))
}

pub fn start_ingestion(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let mut s = find(app, ctx, str_member(input, "EventDataStore").unwrap_or(""))?;
    if s.status != STOPPED_INGESTION && s.status != CREATED {
        return Err(AwsError::client(
            "InvalidEventDataStoreStatusException",
            format!(
                "The event data store {} is {}; ingestion starts only from STOPPED_INGESTION or CREATED.",
                s.arn, s.status
            ),
        ));
    }
    s.status = ENABLED.into();
    s.updated_ms = app.clock.now_millis();
    s.ingest_ranges.push((app.journal.head(), None));
    app.lake.put_store(&s).map_err(internal)?;
    Ok(json!({}))
}

pub fn stop_ingestion(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let mut s = find(app, ctx, str_member(input, "EventDataStore").unwrap_or(""))?;
    if s.status != ENABLED {
        return Err(AwsError::client(
            "InvalidEventDataStoreStatusException",
            format!(
                "The event data store {} is {}; only an ENABLED store stops ingesting.",
                s.arn, s.status
            ),
        ));
    }
    stop_ranges(app, &mut s);
    s.status = STOPPED_INGESTION.into();
    s.updated_ms = app.clock.now_millis();
    app.lake.put_store(&s).map_err(internal)?;
    Ok(json!({}))
}
