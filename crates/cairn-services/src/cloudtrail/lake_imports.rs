//! Running CloudTrail Lake's imports (StartImport), off the request path: the worker lists the
//! source bucket under the import's prefix once (the files CloudTrail writes there:
//! `AWSLogs/[o-…/]<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz`, digests and Insights
//! files left out), keeps that listing beside the import, then reads the files in its
//! order and appends their records to each destination store.
//!
//! Exactly once across crashes and restarts: a file's position is its place in the listing
//! (1-based), and the records of files `a..=b` go to the store's stream `import-<id>` as the
//! range `a..=b`, which the columnar engine commits in the same durable step as the records.
//! A resumed import starts after the committed position; a range already committed is skipped.
//! StopImport is seen between batches of files. Events older than the store's retention period
//! are left out (AWS copies none), as are files whose day folder is older.
//!
//! The bucket is read as AWS reads it: CloudTrail (`cloudtrail.amazonaws.com`) assumes the
//! import's `S3BucketAccessRoleArn` (so the role's trust policy decides), then lists and gets
//! objects through S3's API as that role session (so the role's permissions and the bucket
//! policy decide). A bucket configured as external is read with its configured credentials.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn_store::journal::{Consumer, Round};
use cairn_trail::sink::{ExternalBucket, ListPage, parse_list_page};
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::handlers::imports::{
    COMPLETED, FAILED, FILES_KIND, Failure, IN_PROGRESS, INITIALIZING, ImportDoc, ImportState,
    Listing, STATE_KIND, parse_location, prefixes, read_doc, read_state, status_of,
};
use super::s3_calls::{CLOUDTRAIL, get_object, list_objects};
use crate::app::App;
use crate::pipeline::Durability;
use crate::pipeline::internal::Internal;

/// The role session name CloudTrail's import sessions carry (cairn's name: AWS does not
/// document one).
pub const SESSION_NAME: &str = "CloudTrailLakeImport";
/// How long one round works on imports before it lets others run.
const ROUND_TIME: Duration = Duration::from_secs(2);
/// Files and records per append.
const BATCH_FILES: usize = 64;
const BATCH_RECORDS: usize = 50_000;

/// The consumer.
pub struct LakeImports {
    app: Arc<App>,
    /// How long an import whose round failed (its store's files cannot be written) rests
    /// before it is tried again, so a lasting failure does not spin.
    pub retry_after: Duration,
    resting: std::sync::Mutex<std::collections::HashMap<String, Instant>>,
    /// Role sessions assumed, by import and run, with when: reused for a while rather than
    /// assumed again every round.
    sessions: std::sync::Mutex<std::collections::HashMap<(String, u64), (String, Instant)>>,
}

/// How long an assumed role session is reused (STS gives an hour).
const SESSION_REUSE: Duration = Duration::from_secs(15 * 60);

/// Why a file or listing failed: the error's type and message.
type Failed = (String, String);

fn aws_failed(e: AwsError) -> Failed {
    (e.code.to_string(), e.message.to_string())
}

/// Where an import reads from.
enum Source {
    /// cairn's own S3, as the role session.
    Embedded {
        session: Box<Internal>,
        bucket: String,
        region: String,
    },
    External(ExternalBucket),
}

impl Source {
    /// The source; for cairn's own S3, the role session: `cached` (a session key assumed
    /// earlier in this run) while it is still valid, else a new one. Answers the session key.
    fn open(
        app: &App,
        d: &ImportDoc,
        bucket: &str,
        cached: Option<&str>,
    ) -> Result<(Source, Option<String>), Failed> {
        if let Some(ext) = app.external_buckets.get(bucket) {
            return Ok((Source::External(ext.clone()), None));
        }
        let source_arn = d.destinations.first().map(String::as_str);
        let embedded = |mut session: Internal| {
            session.cause = format!("import {}", d.id);
            Source::Embedded {
                session: Box::new(session),
                bucket: bucket.to_string(),
                region: d.bucket_region.clone(),
            }
        };
        if let Some(key) = cached
            && let Ok(session) = Internal::session(
                app,
                key,
                CLOUDTRAIL,
                &d.bucket_region,
                source_arn,
                Durability::Wait,
            )
        {
            return Ok((embedded(session), Some(key.to_string())));
        }
        let mut cloudtrail = Internal::service(
            CLOUDTRAIL,
            &d.account,
            &d.bucket_region,
            source_arn,
            Durability::Wait,
        );
        cloudtrail.cause = format!("import {}", d.id);
        let out = cloudtrail
            .call_json(
                app,
                "sts",
                "AssumeRole",
                json!({"RoleArn": d.role_arn, "RoleSessionName": SESSION_NAME}),
            )
            .map_err(aws_failed)?;
        let key = out
            .pointer("/ResponseElements/credentials/accessKeyId")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                (
                    "InternalError".to_string(),
                    "STS answered no credentials".to_string(),
                )
            })?;
        let session = Internal::session(
            app,
            key,
            CLOUDTRAIL,
            &d.bucket_region,
            source_arn,
            Durability::Wait,
        )
        .map_err(aws_failed)?;
        Ok((embedded(session), Some(key.to_string())))
    }

    fn list(&self, app: &App, prefix: &str, token: Option<&str>) -> Result<ListPage, Failed> {
        match self {
            Source::Embedded {
                session,
                bucket,
                region,
            } => {
                let answer = session
                    .call_wire(app, "s3", list_objects(bucket, region, prefix, token))
                    .map_err(aws_failed)?;
                Ok(parse_list_page(&String::from_utf8_lossy(&answer.body)))
            }
            Source::External(ext) => ext
                .list(prefix, token)
                .map_err(|e| (e.clone(), format!("listing the external bucket: {e}"))),
        }
    }

    fn get(&self, app: &App, key: &str) -> Result<Vec<u8>, Failed> {
        match self {
            Source::Embedded {
                session,
                bucket,
                region,
            } => session
                .call_wire(app, "s3", get_object(bucket, region, key))
                .map(|a| a.body.to_vec())
                .map_err(aws_failed),
            Source::External(ext) => ext
                .get(key)
                .map_err(|e| (e.clone(), format!("reading the external bucket: {e}"))),
        }
    }
}

/// Whether a key under the import's prefix is a trail log file to import: a `.json.gz` (or
/// `.json`) file in a `CloudTrail` folder — or anywhere under a prefix the caller named, except
/// CloudTrail's other folders (`CloudTrail-Digest`, `CloudTrail-Insight`).
pub fn is_log_file(prefix: &str, key: &str) -> bool {
    if !(key.ends_with(".json.gz") || key.ends_with(".json")) {
        return false;
    }
    let segments: Vec<&str> = key.split('/').collect();
    let folders = &segments[..segments.len().saturating_sub(1)];
    if folders.iter().any(|s| s.starts_with("CloudTrail-")) || key.contains("_CloudTrail-Digest_") {
        return false;
    }
    folders.contains(&"CloudTrail") || (!prefix.is_empty() && !folders.contains(&"AWSLogs"))
}

/// The day a key's folders name (`…/YYYY/MM/DD/…`), as milliseconds at its start.
pub fn day_of_key(key: &str) -> Option<i64> {
    let s: Vec<&str> = key.split('/').collect();
    s.windows(3).find_map(|w| {
        let digits = |t: &str, n: usize| t.len() == n && t.bytes().all(|b| b.is_ascii_digit());
        if !(digits(w[0], 4) && digits(w[1], 2) && digits(w[2], 2)) {
            return None;
        }
        let text = format!("\"{}-{}-{}T00:00:00Z\"", w[0], w[1], w[2]);
        cairn_model::timefmt::parse_event_time(&serde_json::from_str(&text).ok()?)
    })
}

/// Whether a file of that day may hold events in `[start, end]`.
fn day_in_range(day: Option<i64>, start: Option<i64>, end: Option<i64>) -> bool {
    let Some(day) = day else { return true };
    start.is_none_or(|s| day + 86_400_000 > s) && end.is_none_or(|e| day <= e)
}

/// Whether a record's time is in `[start, end]` (every record when no range was given).
fn record_in_range(raw: &str, start: Option<i64>, end: Option<i64>) -> bool {
    if start.is_none() && end.is_none() {
        return true;
    }
    let t = serde_json::from_str::<Value>(raw).ok().and_then(|v| {
        v.get("eventTime")
            .and_then(cairn_model::timefmt::parse_event_time)
    });
    t.is_some_and(|t| start.is_none_or(|s| t >= s) && end.is_none_or(|e| t <= e))
}

/// The first day (as milliseconds at its start) a store with this retention period keeps on
/// `now_ms`: the days before it are dropped (`lake_ingest`), so an import leaves them out, as
/// AWS copies no event older than the store's retention period.
pub fn retained_from(settings: &str, now_ms: i64) -> Option<i64> {
    let days = serde_json::from_str::<Value>(settings)
        .ok()?
        .get("RetentionPeriod")?
        .as_i64()?;
    Some((now_ms - days * 86_400_000).div_euclid(86_400_000) * 86_400_000)
}

/// Whether a record is within retention: its time on or after `from` (records without a
/// readable time are kept: no retention pass drops them).
pub fn retained(raw: &str, from: Option<i64>) -> bool {
    let Some(from) = from else { return true };
    serde_json::from_str::<Value>(raw)
        .ok()
        .and_then(|v| {
            v.get("eventTime")
                .and_then(cairn_model::timefmt::parse_event_time)
        })
        .is_none_or(|t| t >= from)
}

impl LakeImports {
    pub fn new(app: Arc<App>) -> LakeImports {
        LakeImports {
            app,
            retry_after: Duration::from_secs(10),
            resting: Default::default(),
            sessions: Default::default(),
        }
    }

    fn save(&self, d: &ImportDoc, s: &mut ImportState) -> Result<(), String> {
        s.updated_ms = self.app.clock.now_millis();
        let body = serde_json::to_string(s).map_err(|e| e.to_string())?;
        self.app
            .lake
            .put_document(STATE_KIND, &d.id, &d.account, &body)
            .map_err(|e| e.to_string())
    }

    fn listing(&self, id: &str) -> Result<Listing, String> {
        Ok(self
            .app
            .lake
            .document(FILES_KIND, id)
            .map_err(|e| e.to_string())?
            .and_then(|b| serde_json::from_str(&b).ok())
            .unwrap_or_default())
    }

    fn write_listing(&self, d: &ImportDoc, l: &Listing) -> Result<(), String> {
        let body = serde_json::to_string(l).map_err(|e| e.to_string())?;
        self.app
            .lake
            .put_document(FILES_KIND, &d.id, &d.account, &body)
            .map_err(|e| e.to_string())
    }

    fn fail(
        &self,
        d: &ImportDoc,
        s: &mut ImportState,
        location: &str,
        why: Failed,
    ) -> Result<(), String> {
        s.failures.push(Failure {
            location: location.to_string(),
            error_type: why.0,
            message: why.1,
            at_ms: self.app.clock.now_millis(),
            retryable: true,
        });
        s.status = FAILED.into();
        self.save(d, s)
    }

    fn stopped(&self, id: &str) -> bool {
        read_doc(&self.app, id)
            .ok()
            .flatten()
            .is_none_or(|d| d.status == super::handlers::imports::STOPPED)
    }

    /// The imports to work on, oldest first.
    fn due(&self) -> Result<Vec<ImportDoc>, String> {
        let mut accounts: Vec<String> = self
            .app
            .lake
            .all_stores()
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|s| s.account)
            .collect();
        accounts.sort();
        accounts.dedup();
        let mut out = Vec::new();
        for a in accounts {
            for (id, _) in self
                .app
                .lake
                .documents(super::handlers::imports::KIND, &a)
                .map_err(|e| e.to_string())?
            {
                let Some(d) = read_doc(&self.app, &id).map_err(|e| e.message.to_string())? else {
                    continue;
                };
                let s = read_state(&self.app, &id).map_err(|e| e.message.to_string())?;
                if matches!(status_of(&d, &s).as_str(), INITIALIZING | IN_PROGRESS) {
                    out.push(d);
                }
            }
        }
        out.sort_by_key(|d| d.created_ms);
        Ok(out)
    }

    /// Works on one import until it is done, stopped, or the round's time is up. What it
    /// appended.
    fn work(&self, d: &ImportDoc, deadline: Instant) -> Result<u64, String> {
        let mut s = read_state(&self.app, &d.id).map_err(|e| e.message.to_string())?;
        let Some((bucket, prefix)) = parse_location(&d.location_uri) else {
            let why = (
                "InvalidImportSource".to_string(),
                "not an s3:// location".to_string(),
            );
            return self.fail(d, &mut s, &d.location_uri, why).map(|_| 0);
        };
        let mut listing = self.listing(&d.id)?;
        if s.run != d.run {
            // A new run: the first, or a retry, which reads the files that failed again (at
            // new positions after the others). The listing says whether this run added them
            // already (a crash between the two writes).
            if s.listed && listing.run != d.run {
                let in_bucket = format!("s3://{bucket}/");
                let again: Vec<String> = s
                    .failures
                    .iter()
                    .filter(|f| f.retryable && f.location != d.location_uri)
                    .filter_map(|f| f.location.strip_prefix(&in_bucket).map(str::to_string))
                    .collect();
                listing.keys.extend(again);
                listing.run = d.run;
                self.write_listing(d, &listing)?;
            }
            s.failures.retain(|f| !f.retryable);
            s.total = listing.keys.len() as u64;
            s.run = d.run;
        }
        s.status = IN_PROGRESS.into();
        let run = (d.id.clone(), d.run);
        let cached = {
            let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
            sessions.retain(|_, (_, at)| at.elapsed() < SESSION_REUSE);
            sessions.get(&run).map(|(k, _)| k.clone())
        };
        let source = match Source::open(&self.app, d, &bucket, cached.as_deref()) {
            Ok((src, key)) => {
                if let Some(key) = key
                    && cached.as_deref() != Some(key.as_str())
                {
                    self.sessions
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(run, (key, Instant::now()));
                }
                src
            }
            Err(why) => return self.fail(d, &mut s, &d.location_uri, why).map(|_| 0),
        };
        if !s.listed {
            let mut files = Vec::new();
            let mut token: Option<String> = None;
            loop {
                match source.list(&self.app, &prefix, token.as_deref()) {
                    Ok(page) => {
                        files.extend(page.keys.into_iter().filter(|k| is_log_file(&prefix, k)));
                        match page.next {
                            Some(t) => token = Some(t),
                            None => break,
                        }
                    }
                    Err(why) => return self.fail(d, &mut s, &d.location_uri, why).map(|_| 0),
                }
            }
            files.sort();
            listing = Listing {
                run: d.run,
                keys: files,
            };
            self.write_listing(d, &listing)?;
            s.listed = true;
            s.total = listing.keys.len() as u64;
            (s.prefixes_found, s.prefixes_completed) = prefixes(&listing.keys, s.done);
            self.save(d, &mut s)?;
        }
        // The destinations' ids, and where their streams stand.
        let mut stores = Vec::new();
        let mut keep_from: Option<i64> = None;
        let now = self.app.clock.now_millis();
        for arn in &d.destinations {
            match self.app.lake.store(arn).map_err(|e| e.to_string())? {
                Some(st) if st.status != super::handlers::event_data_stores::PENDING_DELETION => {
                    if let Some(from) = retained_from(&st.settings, now) {
                        keep_from = Some(keep_from.map_or(from, |k: i64| k.min(from)));
                    }
                    // An encrypted store takes events only under its key: the import waits
                    // (and is tried again) while KMS refuses it.
                    super::lake_keys::open(&self.app, &st)
                        .map_err(|e| format!("{}: {}", e.code, e.message))?;
                    stores.push(st.id)
                }
                _ => {
                    let why = (
                        "EventDataStoreNotFound".to_string(),
                        format!("The event data store {arn} no longer exists."),
                    );
                    return self.fail(d, &mut s, arn, why).map(|_| 0);
                }
            }
        }
        let stream = format!("import-{}", d.id);
        let mut committed = u64::MAX;
        for id in &stores {
            let c = self
                .app
                .columnar
                .committed(id, &stream)
                .map_err(|e| e.to_string())?
                .unwrap_or(0);
            committed = committed.min(c);
        }
        if committed != u64::MAX && committed > s.done {
            // A crash after an append and before its statistics: those files are in.
            s.files_completed += committed - s.done;
            s.done = committed;
        }
        let mut appended = 0;
        let total = listing.keys.len() as u64;
        while s.done < total {
            if Instant::now() >= deadline || self.stopped(&d.id) {
                self.save(d, &mut s)?;
                return Ok(appended);
            }
            let first = s.done + 1;
            let mut records: Vec<String> = Vec::new();
            let mut last = s.done;
            let mut ok_files = 0;
            let mut failures = Vec::new();
            while last < total
                && ((last + 1 - first) as usize) < BATCH_FILES
                && records.len() < BATCH_RECORDS
            {
                let key = &listing.keys[last as usize];
                last += 1;
                let day = day_of_key(key);
                if !day_in_range(day, d.start_ms, d.end_ms)
                    || day.zip(keep_from).is_some_and(|(day, from)| day < from)
                {
                    ok_files += 1;
                    continue;
                }
                let location = format!("s3://{bucket}/{key}");
                match source.get(&self.app, key) {
                    Ok(bytes) => {
                        let (found, errors) =
                            cairn_import::read_records_in(std::path::Path::new(key), bytes);
                        let nothing = found.is_empty();
                        records.extend(found.into_iter().filter(|r| {
                            record_in_range(r, d.start_ms, d.end_ms) && retained(r, keep_from)
                        }));
                        if errors.is_empty() {
                            ok_files += 1;
                        } else {
                            let message = errors
                                .iter()
                                .map(|e| format!("{}{}", e.position, e.message))
                                .collect::<Vec<_>>()
                                .join("; ");
                            failures.push(Failure {
                                location: location.clone(),
                                error_type: "InvalidLogFile".into(),
                                message,
                                at_ms: self.app.clock.now_millis(),
                                retryable: nothing,
                            });
                        }
                    }
                    Err((kind, message)) => failures.push(Failure {
                        location,
                        error_type: kind,
                        message,
                        at_ms: self.app.clock.now_millis(),
                        retryable: true,
                    }),
                }
            }
            let mut rows = 0;
            for id in &stores {
                let done = self
                    .app
                    .columnar
                    .append(
                        id,
                        &stream,
                        first,
                        last,
                        &mut records.iter().map(|r| Cow::Borrowed(r.as_str()))
                            as &mut dyn Iterator<Item = Cow<'_, str>>,
                    )
                    .map_err(|e| e.to_string())?;
                rows = rows.max(done.rows);
            }
            appended += rows;
            s.done = last;
            s.files_completed += ok_files;
            s.events_completed += rows;
            s.failures.extend(failures);
            (s.prefixes_found, s.prefixes_completed) = prefixes(&listing.keys, s.done);
            self.save(d, &mut s)?;
        }
        s.status = if s.failures.is_empty() {
            COMPLETED
        } else {
            FAILED
        }
        .into();
        self.save(d, &mut s)?;
        tracing::info!(import = %d.id, files = listing.keys.len(), events = s.events_completed, failures = s.failures.len(), "import finished");
        Ok(appended)
    }
}

impl Consumer for LakeImports {
    fn name(&self) -> &'static str {
        "lake-imports"
    }

    fn needs_from(&self) -> Result<u64, cairn_store::StoreError> {
        Ok(u64::MAX)
    }

    fn run_due(&self) -> Result<Round, String> {
        let deadline = Instant::now() + ROUND_TIME;
        let mut done = 0;
        let mut failed = None;
        for d in self.due()? {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let mut resting = self.resting.lock().unwrap_or_else(|p| p.into_inner());
            if resting.get(&d.id).is_some_and(|until| now < *until) {
                continue;
            }
            resting.remove(&d.id);
            drop(resting);
            match self.work(&d, deadline) {
                Ok(n) => done += n,
                Err(e) => {
                    tracing::warn!(import = %d.id, error = %e, "import round failed; it will be tried again");
                    self.resting
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(d.id.clone(), Instant::now() + self.retry_after);
                    failed = Some(e);
                }
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(Round { done }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_files_and_days() {
        let k = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/111122223333_CloudTrail_us-east-1_20240501T0000Z_abc.json.gz";
        assert!(is_log_file("", k));
        assert!(is_log_file("AWSLogs/", k));
        assert!(is_log_file(
            "",
            "AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2024/05/01/x.json.gz"
        ));
        assert!(!is_log_file(
            "",
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/111122223333_CloudTrail-Digest_us-east-1_x.json.gz"
        ));
        assert!(!is_log_file(
            "",
            "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2024/05/01/x.json.gz"
        ));
        assert!(!is_log_file("", "AWSLogs/111122223333/Config/x.json.gz"));
        assert!(!is_log_file("", "exports/x.json.gz"));
        assert!(is_log_file("exports/", "exports/x.json.gz"));
        assert!(!is_log_file("", "AWSLogs/1/CloudTrail/r/2024/05/01/x.txt"));
        assert_eq!(day_of_key(k), Some(1_714_521_600_000));
        assert_eq!(day_of_key("x/y.json"), None);
        let day = day_of_key(k);
        assert!(day_in_range(day, Some(1_714_521_600_000 + 5), None));
        assert!(!day_in_range(
            day,
            Some(1_714_521_600_000 + 86_400_000),
            None
        ));
        assert!(!day_in_range(day, None, Some(1_714_521_600_000 - 1)));
        let rec = r#"{"eventTime":"2024-05-01T10:00:00Z"}"#;
        assert!(record_in_range(rec, Some(1_714_521_600_000), None));
        assert!(!record_in_range(rec, None, Some(1_714_521_600_000)));
        assert!(record_in_range("{}", None, None));
    }

    #[test]
    fn retention_leaves_out_whole_days() {
        let now = 1_714_560_000_000; // 2024-05-01T10:40:00Z
        let from = retained_from(r#"{"RetentionPeriod":7}"#, now).unwrap();
        assert_eq!(from, 1_713_916_800_000); // 2024-04-24T00:00:00Z
        assert_eq!(retained_from("{}", now), None);
        assert!(retained(
            r#"{"eventTime":"2024-04-24T00:00:00Z"}"#,
            Some(from)
        ));
        assert!(!retained(
            r#"{"eventTime":"2024-04-23T23:59:59Z"}"#,
            Some(from)
        ));
        assert!(retained(r#"{"eventName":"no time"}"#, Some(from)));
        assert!(retained(r#"{"eventTime":"2000-01-01T00:00:00Z"}"#, None));
    }
}
