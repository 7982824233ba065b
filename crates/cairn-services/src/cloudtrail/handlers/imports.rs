//! CloudTrail Lake's imports of trail events from S3: StartImport, GetImport, ListImports,
//! StopImport, ListImportFailures.
//!
//! An import is two Lake documents, so that the caller and the worker never overwrite each
//! other: `import` (what StartImport asked, and the status the caller set: INITIALIZING when
//! started or retried, STOPPED when stopped; `run` counts the starts) and `import-state` (what
//! `lake_imports` did in a run: whether it listed the files (kept apart, `import-files`),
//! how far it got, statistics, failures, and IN_PROGRESS,
//! COMPLETED or FAILED). The status the API shows is the caller's STOPPED, else the worker's
//! for the current run, else INITIALIZING.

use cairn_model::{ids, timefmt};
use cairn_wire::AwsError;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::event_data_stores::{self, PENDING_DELETION};
use super::trails::{internal, str_member};
use crate::app::App;
use crate::recorder::CallContext;

pub(in crate::cloudtrail) const KIND: &str = "import";
pub(in crate::cloudtrail) const STATE_KIND: &str = "import-state";

pub(in crate::cloudtrail) const INITIALIZING: &str = "INITIALIZING";
pub(in crate::cloudtrail) const IN_PROGRESS: &str = "IN_PROGRESS";
pub(in crate::cloudtrail) const FAILED: &str = "FAILED";
pub(in crate::cloudtrail) const STOPPED: &str = "STOPPED";
pub(in crate::cloudtrail) const COMPLETED: &str = "COMPLETED";
const STATUSES: [&str; 5] = [INITIALIZING, IN_PROGRESS, FAILED, STOPPED, COMPLETED];

/// What StartImport asked (the `import` document).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(in crate::cloudtrail) struct ImportDoc {
    pub id: String,
    pub account: String,
    pub region: String,
    pub destinations: Vec<String>,
    /// `ImportSource.S3` as given.
    pub location_uri: String,
    pub bucket_region: String,
    pub role_arn: String,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    /// INITIALIZING (started or retried) or STOPPED.
    pub status: String,
    /// How many times it was started.
    pub run: u64,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A file the worker could not import.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(in crate::cloudtrail) struct Failure {
    pub location: String,
    pub error_type: String,
    pub message: String,
    pub at_ms: i64,
    /// Nothing of it was imported: a retry reads it again.
    pub retryable: bool,
}

/// What the worker did (the `import-state` document).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub(in crate::cloudtrail) struct ImportState {
    /// The run this state belongs to.
    pub run: u64,
    /// IN_PROGRESS, COMPLETED or FAILED.
    pub status: String,
    /// Whether the listing is done (the files are the `import-files` document: see
    /// [`Listing`]).
    pub listed: bool,
    /// How many files the listing holds.
    pub total: u64,
    /// Files done (read, failed or skipped), the positions committed.
    pub done: u64,
    pub files_completed: u64,
    pub events_completed: u64,
    pub prefixes_found: u64,
    pub prefixes_completed: u64,
    pub failures: Vec<Failure>,
    pub updated_ms: i64,
}

/// Every file an import reads, in the order of their positions (position = index + 1): the
/// `import-files` document, written once when listed (and when a retry adds the files that
/// failed, at the end), so a resumed import numbers each file as before.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub(in crate::cloudtrail) struct Listing {
    /// The run that last wrote it.
    pub run: u64,
    pub keys: Vec<String>,
}

pub(in crate::cloudtrail) const FILES_KIND: &str = "import-files";

/// The folders (key prefixes) the files are in, and how many of those are done (their files
/// all at positions up to `done`).
pub(in crate::cloudtrail) fn prefixes(keys: &[String], done: u64) -> (u64, u64) {
    let parent = |k: &str| k.rsplit_once('/').map_or("", |(p, _)| p).to_string();
    let mut all: std::collections::BTreeMap<String, bool> = Default::default();
    for (i, f) in keys.iter().enumerate() {
        let e = all.entry(parent(f)).or_insert(true);
        *e = *e && (i as u64) < done;
    }
    (
        all.len() as u64,
        all.values().filter(|d| **d).count() as u64,
    )
}

pub(in crate::cloudtrail) fn read_doc(app: &App, id: &str) -> Result<Option<ImportDoc>, AwsError> {
    Ok(app
        .lake
        .document(KIND, id)
        .map_err(internal)?
        .and_then(|b| serde_json::from_str(&b).ok()))
}

pub(in crate::cloudtrail) fn read_state(app: &App, id: &str) -> Result<ImportState, AwsError> {
    Ok(app
        .lake
        .document(STATE_KIND, id)
        .map_err(internal)?
        .and_then(|b| serde_json::from_str(&b).ok())
        .unwrap_or_default())
}

pub(in crate::cloudtrail) fn write_doc(app: &App, d: &ImportDoc) -> Result<(), AwsError> {
    let body = serde_json::to_string(d).map_err(internal)?;
    app.lake
        .put_document(KIND, &d.id, &d.account, &body)
        .map_err(internal)
}

/// The status the API shows.
pub(in crate::cloudtrail) fn status_of(d: &ImportDoc, s: &ImportState) -> String {
    if d.status == STOPPED {
        STOPPED.into()
    } else if s.run == d.run && !s.status.is_empty() {
        s.status.clone()
    } else {
        INITIALIZING.into()
    }
}

fn not_found(id: &str) -> AwsError {
    AwsError::client(
        "ImportNotFoundException",
        format!("The import {id} was not found."),
    )
}

fn invalid(msg: impl Into<String>) -> AwsError {
    AwsError::client("InvalidParameterException", msg)
}

fn invalid_source(msg: impl Into<String>) -> AwsError {
    AwsError::client("InvalidImportSourceException", msg)
}

/// The import a request names, in the caller's account.
fn find(app: &App, ctx: &CallContext, input: &Value) -> Result<ImportDoc, AwsError> {
    let id = str_member(input, "ImportId").unwrap_or("");
    match read_doc(app, id)? {
        Some(d) if d.account == ctx.recipient_account => Ok(d),
        _ => Err(not_found(id)),
    }
}

/// `s3://bucket[/prefix]` into the bucket and the key prefix.
pub(in crate::cloudtrail) fn parse_location(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b));
    ok.then(|| (bucket.to_string(), prefix.to_string()))
}

fn source(d: &ImportDoc) -> Value {
    json!({"S3": {
        "S3LocationUri": d.location_uri,
        "S3BucketRegion": d.bucket_region,
        "S3BucketAccessRoleArn": d.role_arn,
    }})
}

fn statistics(s: &ImportState) -> Value {
    json!({
        "PrefixesFound": s.prefixes_found,
        "PrefixesCompleted": s.prefixes_completed,
        "FilesCompleted": s.files_completed,
        "EventsCompleted": s.events_completed,
        "FailedEntries": s.failures.len(),
    })
}

/// The import as StartImport, GetImport and StopImport describe it.
fn describe(d: &ImportDoc, s: &ImportState, with_stats: bool) -> Value {
    let mut out = json!({
        "ImportId": d.id,
        "Destinations": d.destinations,
        "ImportSource": source(d),
        "ImportStatus": status_of(d, s),
        "CreatedTimestamp": timefmt::epoch_seconds(d.created_ms),
        "UpdatedTimestamp": timefmt::epoch_seconds(d.updated_ms.max(if s.run == d.run { s.updated_ms } else { 0 })),
    });
    if let Some(t) = d.start_ms {
        out["StartEventTime"] = timefmt::epoch_seconds(t);
    }
    if let Some(t) = d.end_ms {
        out["EndEventTime"] = timefmt::epoch_seconds(t);
    }
    if with_stats {
        out["ImportStatistics"] = statistics(s);
    }
    out
}

/// Whether a store's selectors take CloudTrail events (management, data or network activity
/// events), the only ones an import brings.
fn takes_cloudtrail_events(settings: &str) -> bool {
    let v: Value = serde_json::from_str(settings).unwrap_or(Value::Null);
    let Some(selectors) = v.get("AdvancedEventSelectors").and_then(Value::as_array) else {
        return true;
    };
    selectors.iter().all(|sel| {
        sel.get("FieldSelectors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|f| f.get("Field").and_then(Value::as_str) == Some("eventCategory"))
            .all(|f| {
                f.get("Equals")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .all(|c| matches!(c, "Management" | "Data" | "NetworkActivity"))
            })
    })
}

fn time_member(input: &Value, name: &str) -> Result<Option<i64>, AwsError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => timefmt::from_epoch_seconds(v)
            .map(Some)
            .ok_or_else(|| invalid(format!("{name} is not a valid timestamp."))),
    }
}

fn ongoing(app: &App, ctx: &CallContext) -> Result<Option<String>, AwsError> {
    for (id, _) in app
        .lake
        .documents(KIND, &ctx.recipient_account)
        .map_err(internal)?
    {
        if let Some(d) = read_doc(app, &id)? {
            let s = read_state(app, &id)?;
            if matches!(status_of(&d, &s).as_str(), INITIALIZING | IN_PROGRESS) {
                return Ok(Some(id));
            }
        }
    }
    Ok(None)
}

/// Whether an import into the store `arn` is under way.
pub(in crate::cloudtrail) fn ongoing_into(
    app: &App,
    account: &str,
    arn: &str,
) -> Result<bool, AwsError> {
    for (id, _) in app.lake.documents(KIND, account).map_err(internal)? {
        if let Some(d) = read_doc(app, &id)?
            && d.destinations.iter().any(|a| a == arn)
            && matches!(
                status_of(&d, &read_state(app, &id)?).as_str(),
                INITIALIZING | IN_PROGRESS
            )
        {
            return Ok(true);
        }
    }
    Ok(false)
}

fn refuse_ongoing(app: &App, ctx: &CallContext) -> Result<(), AwsError> {
    if let Some(id) = ongoing(app, ctx)? {
        return Err(AwsError::client(
            "AccountHasOngoingImportException",
            format!("The import {id} is still in progress; wait for it to finish or stop it."),
        ));
    }
    Ok(())
}

pub fn start(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let now = app.clock.now_millis();
    if let Some(id) = str_member(input, "ImportId") {
        // A retry: the import starts again from where it stopped, and files that failed are
        // read again.
        let mut d = find(app, ctx, input)?;
        let s = read_state(app, id)?;
        let status = status_of(&d, &s);
        if status != FAILED && status != STOPPED {
            return Err(invalid(format!(
                "The import {id} is {status}; only a FAILED or STOPPED import can be started again."
            )));
        }
        refuse_ongoing(app, ctx)?;
        d.status = INITIALIZING.into();
        d.run += 1;
        d.updated_ms = now;
        write_doc(app, &d)?;
        return Ok(describe(&d, &ImportState::default(), false));
    }
    let destinations: Vec<String> = match input.get("Destinations") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| invalid("Destinations must be event data store ARNs."))?,
        _ => return Err(invalid("Destinations is required for a new import.")),
    };
    if destinations.len() != 1 {
        return Err(invalid(
            "Destinations must name exactly one event data store.",
        ));
    }
    let Some(s3) = input.pointer("/ImportSource/S3") else {
        return Err(invalid("ImportSource is required for a new import."));
    };
    let member = |name: &str| -> Result<String, AwsError> {
        s3.get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .ok_or_else(|| invalid(format!("ImportSource.S3.{name} is required.")))
    };
    let (uri, bucket_region, role_arn) = (
        member("S3LocationUri")?,
        member("S3BucketRegion")?,
        member("S3BucketAccessRoleArn")?,
    );
    if parse_location(&uri).is_none() {
        return Err(invalid_source(format!(
            "The S3 location {uri} is not valid: it must be s3://<bucket>[/<prefix>]."
        )));
    }
    let role_ok = role_arn
        .strip_prefix("arn:aws:iam::")
        .and_then(|r| r.split_once(":role/"))
        .is_some_and(|(acct, name)| {
            acct.len() == 12 && acct.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty()
        });
    if !role_ok {
        return Err(invalid_source(format!(
            "The role {role_arn} is not a valid IAM role ARN."
        )));
    }
    let (start_ms, end_ms) = (
        time_member(input, "StartEventTime")?,
        time_member(input, "EndEventTime")?,
    );
    if let (Some(a), Some(b)) = (start_ms, end_ms)
        && a > b
    {
        return Err(invalid("StartEventTime must not be after EndEventTime."));
    }
    let mut arns = Vec::new();
    for named in &destinations {
        let s = event_data_stores::find(app, ctx, named)?;
        if s.status == PENDING_DELETION {
            return Err(AwsError::client(
                "InactiveEventDataStoreException",
                format!("The event data store {} is inactive.", s.arn),
            ));
        }
        if !matches!(
            s.status.as_str(),
            "ENABLED" | "CREATED" | "STOPPED_INGESTION"
        ) {
            return Err(AwsError::client(
                "InvalidEventDataStoreStatusException",
                format!("The event data store {} is {}.", s.arn, s.status),
            ));
        }
        if !takes_cloudtrail_events(&s.settings) {
            return Err(AwsError::client(
                "InvalidEventDataStoreCategoryException",
                format!(
                    "The event data store {} does not collect CloudTrail events; trail events can be imported only into an event data store for CloudTrail events.",
                    s.arn
                ),
            ));
        }
        arns.push(s.arn);
    }
    refuse_ongoing(app, ctx)?;
    let d = ImportDoc {
        id: ids::new_uuid(),
        account: ctx.recipient_account.clone(),
        region: ctx.region.clone(),
        destinations: arns,
        location_uri: uri,
        bucket_region,
        role_arn,
        start_ms,
        end_ms,
        status: INITIALIZING.into(),
        run: 1,
        created_ms: now,
        updated_ms: now,
    };
    write_doc(app, &d)?;
    Ok(describe(&d, &ImportState::default(), false))
}

pub fn get(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let d = find(app, ctx, input)?;
    let s = read_state(app, &d.id)?;
    Ok(describe(&d, &s, true))
}

pub fn stop(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let mut d = find(app, ctx, input)?;
    let s = read_state(app, &d.id)?;
    if matches!(status_of(&d, &s).as_str(), INITIALIZING | IN_PROGRESS) {
        d.status = STOPPED.into();
        d.updated_ms = app.clock.now_millis();
        write_doc(app, &d)?;
    }
    Ok(describe(&d, &s, true))
}

fn max_results(input: &Value) -> Result<usize, AwsError> {
    match input.get("MaxResults") {
        None | Some(Value::Null) => Ok(1000),
        Some(v) => match v.as_i64() {
            Some(n @ 1..=1000) => Ok(n as usize),
            _ => Err(invalid("MaxResults must be between 1 and 1000.")),
        },
    }
}

/// Where a page starts: the NextToken is the position, signed to what is listed.
fn page_start(app: &App, input: &Value, scope: &str) -> Result<usize, AwsError> {
    match str_member(input, "NextToken") {
        None => Ok(0),
        Some(t) => crate::cloudtrail::token::open(&app.token_key, scope.as_bytes(), t)
            .and_then(|p| usize::try_from(p.t).ok())
            .ok_or_else(|| {
                AwsError::client("InvalidNextTokenException", "The NextToken is not valid.")
            }),
    }
}

fn page_token(app: &App, scope: &str, next: usize) -> String {
    crate::cloudtrail::token::issue(
        &app.token_key,
        scope.as_bytes(),
        cairn_store::history::PageAfter {
            t: i64::try_from(next).unwrap_or(i64::MAX),
            seq: 0,
        },
    )
}

pub fn list(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let max = max_results(input)?;
    let destination = match str_member(input, "Destination") {
        Some(named) => Some(event_data_stores::find(app, ctx, named)?.arn),
        None => None,
    };
    let status = str_member(input, "ImportStatus");
    if let Some(st) = status
        && !STATUSES.contains(&st)
    {
        return Err(invalid(format!("The import status {st} is not valid.")));
    }
    let mut all = Vec::new();
    for (id, _) in app
        .lake
        .documents(KIND, &ctx.recipient_account)
        .map_err(internal)?
    {
        let Some(d) = read_doc(app, &id)? else {
            continue;
        };
        if d.region != ctx.region {
            continue;
        }
        let s = read_state(app, &id)?;
        let st = status_of(&d, &s);
        if destination
            .as_ref()
            .is_some_and(|a| !d.destinations.contains(a))
            || status.is_some_and(|want| want != st)
        {
            continue;
        }
        all.push((d, s, st));
    }
    all.sort_by(|a, b| (b.0.created_ms, &a.0.id).cmp(&(a.0.created_ms, &b.0.id)));
    let scope = format!(
        "imports:{}:{}:{}",
        ctx.recipient_account,
        destination.as_deref().unwrap_or(""),
        status.unwrap_or("")
    );
    let from = page_start(app, input, &scope)?;
    let page: Vec<Value> = all
        .iter()
        .skip(from)
        .take(max)
        .map(|(d, s, st)| {
            json!({
                "ImportId": d.id,
                "ImportStatus": st,
                "Destinations": d.destinations,
                "CreatedTimestamp": timefmt::epoch_seconds(d.created_ms),
                "UpdatedTimestamp": timefmt::epoch_seconds(d.updated_ms.max(if s.run == d.run { s.updated_ms } else { 0 })),
            })
        })
        .collect();
    let mut out = json!({ "Imports": page });
    if from + max < all.len() {
        out["NextToken"] = json!(page_token(app, &scope, from + max));
    }
    Ok(out)
}

pub fn failures(app: &App, ctx: &CallContext, input: &Value) -> Result<Value, AwsError> {
    let d = find(app, ctx, input)?;
    let s = read_state(app, &d.id)?;
    let max = max_results(input)?;
    let scope = format!("import-failures:{}", d.id);
    let from = page_start(app, input, &scope)?;
    let page: Vec<Value> = s
        .failures
        .iter()
        .skip(from)
        .take(max)
        .map(|f| {
            json!({
                "Location": f.location,
                "Status": "FAILED",
                "ErrorType": f.error_type,
                "ErrorMessage": f.message,
                "LastUpdatedTime": timefmt::epoch_seconds(f.at_ms),
            })
        })
        .collect();
    let mut out = json!({ "Failures": page });
    if from + max < s.failures.len() {
        out["NextToken"] = json!(page_token(app, &scope, from + max));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_and_categories() {
        assert_eq!(
            parse_location("s3://my-bucket/AWSLogs/1/"),
            Some(("my-bucket".into(), "AWSLogs/1/".into()))
        );
        assert_eq!(
            parse_location("s3://my-bucket"),
            Some(("my-bucket".into(), String::new()))
        );
        assert_eq!(parse_location("https://my-bucket"), None);
        assert_eq!(parse_location("s3://B"), None);
        assert!(takes_cloudtrail_events("{}"));
        assert!(takes_cloudtrail_events(
            r#"{"AdvancedEventSelectors":[{"FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]}]}]}"#
        ));
        assert!(!takes_cloudtrail_events(
            r#"{"AdvancedEventSelectors":[{"FieldSelectors":[{"Field":"eventCategory","Equals":["ActivityAuditLog"]}]}]}"#
        ));
    }

    #[test]
    fn prefixes_count_folders() {
        let keys: Vec<String> = vec!["a/1".into(), "a/2".into(), "b/1".into()];
        assert_eq!(prefixes(&keys, 2), (2, 1));
        assert_eq!(prefixes(&keys, 3), (2, 2));
        assert_eq!(prefixes(&[], 0), (0, 0));
    }

    #[test]
    fn status_follows_the_run() {
        let mut d = ImportDoc {
            id: "x".into(),
            account: "1".into(),
            region: "r".into(),
            destinations: vec![],
            location_uri: String::new(),
            bucket_region: String::new(),
            role_arn: String::new(),
            start_ms: None,
            end_ms: None,
            status: INITIALIZING.into(),
            run: 2,
            created_ms: 0,
            updated_ms: 0,
        };
        let mut s = ImportState {
            run: 1,
            status: FAILED.into(),
            ..ImportState::default()
        };
        assert_eq!(status_of(&d, &s), INITIALIZING);
        s.run = 2;
        s.status = IN_PROGRESS.into();
        assert_eq!(status_of(&d, &s), IN_PROGRESS);
        d.status = STOPPED.into();
        assert_eq!(status_of(&d, &s), STOPPED);
    }
}
