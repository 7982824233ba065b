//! The lifecycle worker: on the clock (cairn's, so a test clock's jump runs it), applies the
//! rules of every bucket with a lifecycle configuration, as S3 does: an expired current
//! version is deleted (unversioned bucket) or hidden behind a delete marker (versioned),
//! expired noncurrent versions and expired object delete markers are removed for good (a
//! version Object Lock keeps stays), multipart uploads left incomplete too long are aborted.
//!
//! Lifecycle actions are not API calls: CloudTrail records none of them (AWS's record of a
//! lifecycle expiration is the server access log line, `S3.EXPIRE.OBJECT` or
//! `S3.CREATE.DELETEMARKER`, requester `AmazonS3`), so the worker changes the store directly
//! and writes those lines to the bucket's access log target when logging is on. Every action
//! is idempotent (a version already gone, a current version already a delete marker), and
//! on a cluster the worker runs on the node holding its lease.

use std::sync::Arc;

use cairn_store::StoreError;
use cairn_store::journal::{Consumer, Round};
use cairn_store::objects::{
    Bucket, BucketConfig, ObjectVersion, ObjectsError, UploadsQuery, VersionsQuery,
};

use super::access_log::{self, LoggingConfig};
use super::lifecycle::{Action, Rule, due_for_key, parse_configuration, upload_due};
use crate::app::App;

/// Versions listed per page.
const PAGE: usize = 1000;

pub struct LifecycleWork {
    pub app: Arc<App>,
}

fn store(e: ObjectsError) -> StoreError {
    match e {
        ObjectsError::Store(s) => s,
        other => StoreError::Invalid(other.to_string()),
    }
}

/// What one bucket's pass did: access log lines of its actions.
struct Pass<'a> {
    app: &'a App,
    bucket: &'a Bucket,
    versioned: bool,
    rules: Vec<Rule>,
    now: i64,
    lines: Vec<String>,
    done: u64,
}

impl Pass<'_> {
    fn line(&mut self, op: &str, key: &str, version: Option<&str>) {
        self.lines.push(access_log::lifecycle_line(
            &super::handlers::canonical_id(&self.bucket.account),
            &self.bucket.name,
            self.now,
            op,
            key,
            version,
            &super::wire::new_request_id(),
        ));
    }

    /// Applies what is due for one key, given its versions newest first.
    fn key(&mut self, versions: &[ObjectVersion]) -> Result<(), StoreError> {
        let Some(first) = versions.first() else {
            return Ok(());
        };
        let (bucket, key) = (self.bucket.name.clone(), first.key.clone());
        let s = &self.app.objects;
        for action in due_for_key(&self.rules, versions, self.now) {
            match action {
                Action::ExpireCurrent => {
                    let marker = s.delete_object(&bucket, &key, self.now).map_err(store)?;
                    match (self.versioned, marker) {
                        (true, Some(m)) => {
                            self.line("S3.CREATE.DELETEMARKER", &key, Some(&m.version_id))
                        }
                        _ => self.line("S3.EXPIRE.OBJECT", &key, None),
                    }
                }
                Action::RemoveNoncurrent(v) | Action::RemoveDeleteMarker(v) => {
                    // Object Lock outranks lifecycle: a locked version stays (S3 skips it).
                    let mut unlocked = super::handlers::lock_guard(self.now);
                    match s.delete_version_guarded(&bucket, &key, &v, &mut unlocked) {
                        Ok(Some(_)) => {}
                        Ok(None) | Err(ObjectsError::Refused(_)) => continue,
                        Err(e) => return Err(store(e)),
                    }
                    self.line("S3.EXPIRE.OBJECT", &key, Some(&v));
                }
            }
            self.done += 1;
        }
        Ok(())
    }

    /// Aborts the bucket's multipart uploads started longer ago than a rule allows.
    fn uploads(&mut self) -> Result<(), StoreError> {
        let s = &self.app.objects;
        let mut q = UploadsQuery {
            bucket: self.bucket.name.clone(),
            max_uploads: PAGE,
            ..UploadsQuery::default()
        };
        loop {
            let page = s.list_uploads(&q).map_err(store)?;
            for u in &page.uploads {
                if !upload_due(&self.rules, &u.key, u.initiated_ms, self.now) {
                    continue;
                }
                match s.abort_upload(&self.bucket.name, &u.key, &u.upload_id) {
                    Ok(()) => {
                        self.line("S3.ABORT.MULTIPART_UPLOAD", &u.key, None);
                        self.done += 1;
                    }
                    // Completed or aborted meanwhile.
                    Err(ObjectsError::NoSuchUpload) => {}
                    Err(e) => return Err(store(e)),
                }
            }
            if !page.truncated {
                return Ok(());
            }
            q.key_marker = page.next_key_marker;
            q.upload_id_marker = page.next_upload_id_marker;
        }
    }

    /// Every version of the bucket, key by key (a key's versions may straddle pages).
    fn run(&mut self) -> Result<(), StoreError> {
        let mut q = VersionsQuery {
            bucket: self.bucket.name.clone(),
            max_keys: PAGE,
            ..VersionsQuery::default()
        };
        let mut pending: Vec<ObjectVersion> = Vec::new();
        loop {
            let page = self.app.objects.list_versions(&q).map_err(store)?;
            for v in page.versions {
                if pending.first().is_some_and(|p| p.key != v.key) {
                    let done = std::mem::take(&mut pending);
                    self.key(&done)?;
                }
                pending.push(v);
            }
            if !page.truncated {
                break;
            }
            q.key_marker = page.next_key_marker;
            q.version_marker = page.next_version_marker;
        }
        self.key(&pending)
    }
}

impl LifecycleWork {
    fn round(&self) -> Result<u64, StoreError> {
        let app = &self.app;
        let now = app.clock.now_millis();
        let mut done = 0;
        for bucket in app
            .objects
            .buckets_with(BucketConfig::Lifecycle)
            .map_err(store)?
        {
            let Some(rules) = bucket
                .config(BucketConfig::Lifecycle)
                .and_then(|doc| parse_configuration(doc.as_bytes()).ok())
            else {
                continue;
            };
            let mut pass = Pass {
                app,
                bucket: &bucket,
                versioned: bucket.versioning.is_some(),
                rules,
                now,
                lines: Vec::new(),
                done: 0,
            };
            pass.run()?;
            pass.uploads()?;
            done += pass.done;
            let logging: Option<LoggingConfig> = bucket
                .config(BucketConfig::Logging)
                .and_then(|j| serde_json::from_str(j).ok());
            if let Some(cfg) = logging {
                super::access_logs::deliver(app, &bucket, &cfg, &pass.lines, now, now);
            }
        }
        Ok(done)
    }
}

impl Consumer for LifecycleWork {
    fn name(&self) -> &'static str {
        "s3-lifecycle"
    }

    fn needs_from(&self) -> Result<u64, StoreError> {
        Ok(u64::MAX)
    }

    fn run_due(&self) -> Result<Round, String> {
        self.round()
            .map(|done| Round { done })
            .map_err(|e| e.to_string())
    }
}
