//! Validating a trail's digests and log files: what `aws cloudtrail validate-logs` checks, in
//! the same order and words, and more:
//!
//! - each digest's `previousDigestHashValue` and recorded signature against the digest it
//!   names (the CLI never checks the hash);
//! - digests cairn delivered that are gone (a run of deleted digests, the newest ones), when
//!   cairn's record of what it delivered is at hand;
//! - digests in the bucket that no chain reaches, or that cairn never delivered;
//! - log files inside a digested period that no digest lists.
//!
//! Log files are checked in parallel.

pub mod source;

use std::collections::BTreeSet;
use std::io::Read;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use cairn_model::timefmt::event_time;
use serde_json::Value;

use crate::digest::file::{self, DigestKey};
use source::ObjectSource;

/// The trail and source region whose digests are validated.
#[derive(Clone, Debug)]
pub struct Target {
    pub bucket: String,
    pub prefix: Option<String>,
    pub account: String,
    pub source_region: String,
    pub trail_name: String,
    pub home_region: String,
}

#[derive(Clone, Debug)]
pub struct PublicKey {
    pub fingerprint: String,
    pub der: Vec<u8>,
}

/// A digest cairn delivered, from its own record.
#[derive(Clone, Debug)]
pub struct Delivered {
    pub backfill: bool,
    pub bucket: String,
    pub key: String,
    pub end_ms: i64,
}

pub struct Options {
    pub start_ms: i64,
    pub end_ms: i64,
    /// Parallel log-file checks.
    pub jobs: usize,
    /// What cairn delivered for this trail and region, when known.
    pub delivered: Option<Vec<Delivered>>,
}

/// One line of output, as the CLI prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    /// Printed to stderr (INVALID results and gaps).
    pub error: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Count {
    pub valid: usize,
    pub invalid: usize,
}

#[derive(Debug, Default)]
pub struct Report {
    pub lines: Vec<Line>,
    pub digests: Count,
    pub backfill: Count,
    pub logs: Count,
    /// Digests whose signature could not be checked (a local folder holds no metadata and no
    /// later digest records it).
    pub unverified: usize,
    /// The span the valid digests cover, clipped to the request.
    pub found: Option<(i64, i64)>,
    /// Periods inside a chain that no digest covers.
    pub holes: usize,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.digests.invalid == 0
            && self.backfill.invalid == 0
            && self.logs.invalid == 0
            && self.holes == 0
    }
}

const REQUIRED: [&str; 6] = [
    "digestPublicKeyFingerprint",
    "digestS3Bucket",
    "digestS3Object",
    "previousDigestSignature",
    "digestEndTime",
    "digestStartTime",
];

/// `YYYYMMDDTHHMMSSZ` (digests) or `YYYYMMDDTHHMMZ` (log files) → epoch ms.
fn parse_stamp(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
    if b.len() < 14 || b[8] != b'T' || !s.ends_with('Z') {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi) = (num(9..11)?, num(11..13)?);
    let sec = if b.len() == 16 { num(13..15)? } else { 0 };
    let date = time::Date::from_calendar_date(
        i32::try_from(y).ok()?,
        time::Month::try_from(u8::try_from(mo).ok()?).ok()?,
        u8::try_from(d).ok()?,
    )
    .ok()?;
    let t = date
        .with_hms(
            u8::try_from(h).ok()?,
            u8::try_from(mi).ok()?,
            u8::try_from(sec).ok()?,
        )
        .ok()?
        .assume_utc();
    Some(t.unix_timestamp() * 1000)
}

fn parse_time(v: &Value) -> Option<i64> {
    cairn_model::timefmt::parse_event_time(v)
}

/// The stamp of a digest key (the CLI reads it at fixed offsets from the end).
fn digest_stamp(key: &str) -> Option<i64> {
    let n = key.len();
    let s = if key.ends_with("_backfill.json.gz") {
        key.get(n.checked_sub(33)?..n - 17)?
    } else {
        key.get(n.checked_sub(24)?..n - 8)?
    };
    parse_stamp(s)
}

/// gunzip exactly one member; anything after it is an error, as the CLI reports it.
fn gunzip_one(body: &[u8]) -> Result<Vec<u8>, &'static str> {
    // The bufread decoder stops exactly at the member's end, so what follows stays visible.
    let mut d = flate2::bufread::GzDecoder::new(body);
    let mut out = Vec::with_capacity(body.len() * 8);
    d.read_to_end(&mut out).map_err(|_| "invalid format")?;
    let rest = d.into_inner();
    if rest.is_empty() {
        Ok(out)
    } else {
        Err("unexpected data after end of compressed stream")
    }
}

#[derive(Clone)]
struct ValidDigest {
    key: String,
    json: Value,
    /// The signature as the digest's metadata (or the next digest) gives it.
    signature: Option<String>,
    start_ms: i64,
    end_ms: i64,
}

enum Step {
    Valid(Box<ValidDigest>),
    Message(Line),
    /// A digest whose successor names it but does not begin where it ends: a period no digest
    /// covers inside one chain, which CloudTrail never writes.
    Hole(Line),
}

enum DigestFailure {
    Missing,
    Invalid(String),
}

#[derive(Clone)]
struct LogRef {
    bucket: String,
    key: String,
    hash: String,
}

pub struct Validator<'a> {
    pub source: &'a dyn ObjectSource,
    pub target: Target,
    pub keys: Vec<PublicKey>,
    pub options: Options,
}

/// Digests fetched ahead of the walk, in parallel: the walk itself must go one digest at a
/// time, but which digests it will read is known from the listing.
type Prefetched = std::collections::BTreeMap<String, Result<ReadDigest, DigestFailure>>;

/// A digest read and checked on its own.
struct ReadDigest {
    hash: String,
    json: Value,
    start_ms: i64,
    end_ms: i64,
    signature: Option<String>,
    public_der: Vec<u8>,
    to_sign: String,
}

/// A log file's bytes hashed ahead, or why they could not be.
type LogHashes = std::collections::BTreeMap<String, Result<String, String>>;

/// Runs `f` over `items` on up to `jobs` threads; results in input order.
fn parallel<T: Sync, R: Send>(items: &[T], jobs: usize, f: &(dyn Fn(&T) -> R + Sync)) -> Vec<R> {
    let slots: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1).min(items.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(r);
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .filter_map(|m| m.into_inner().ok().flatten())
        .collect()
}

impl Validator<'_> {
    fn s3(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.target.bucket)
    }

    /// `[prefix/]AWSLogs/<account>/<kind>/<source region>`
    fn area(&self, kind: &str) -> String {
        let t = &self.target;
        let p = t
            .prefix
            .as_deref()
            .filter(|p| !p.is_empty())
            .map(|p| format!("{p}/"))
            .unwrap_or_default();
        format!("{p}AWSLogs/{}/{kind}/{}", t.account, t.source_region)
    }

    fn digest_prefix(&self) -> String {
        self.area("CloudTrail-Digest")
    }

    /// Lists the digest keys in range, as the CLI filters them: (standard, backfill).
    fn list_digests(&self) -> Result<(Vec<String>, Vec<String>), String> {
        let t = &self.target;
        let prefix = self.digest_prefix();
        let marker = DigestKey {
            prefix: t.prefix.as_deref(),
            organization: None,
            account: &t.account,
            source_region: &t.source_region,
            trail_name: &t.trail_name,
            home_region: &t.home_region,
            end_ms: self.options.start_ms - 60_000,
            backfill: false,
        }
        .render();
        let name_start = format!(
            "{}_CloudTrail-Digest_{}_{}_{}_",
            t.account, t.source_region, t.trail_name, t.home_region
        );
        let mut standard = Vec::new();
        let mut backfill = Vec::new();
        for key in self.source.list(&t.bucket, &prefix, &marker)? {
            let file_name = key.rsplit('/').next().unwrap_or("");
            if !key.ends_with(".json.gz") || !file_name.starts_with(&name_start) {
                continue;
            }
            let Some(stamp) = digest_stamp(&key) else {
                continue;
            };
            if stamp < self.options.start_ms {
                continue;
            }
            if stamp > self.options.end_ms + 3_600_000 {
                break;
            }
            if key.ends_with("_backfill.json.gz") {
                backfill.push(key);
            } else {
                standard.push(key);
            }
        }
        Ok((standard, backfill))
    }

    /// Reads and checks a digest on its own: format, location, key, and its signature when the
    /// object carries one. Independent of other digests, so it runs in parallel.
    fn read_digest(
        &self,
        key: &str,
        fetched: Result<Option<source::Fetched>, String>,
    ) -> Result<ReadDigest, DigestFailure> {
        let bucket = &self.target.bucket;
        let fetched = fetched
            .map_err(DigestFailure::Invalid)?
            .ok_or(DigestFailure::Missing)?;
        let invalid = |why: &str| DigestFailure::Invalid(why.to_owned());
        let raw = gunzip_one(&fetched.body).map_err(|_| invalid("invalid format"))?;
        let json: Value = serde_json::from_slice(&raw).map_err(|_| invalid("invalid format"))?;
        if !json.is_object() || REQUIRED.iter().any(|k| json.get(k).is_none()) {
            return Err(invalid("invalid format"));
        }
        if json["digestS3Bucket"].as_str() != Some(bucket.as_str())
            || json["digestS3Object"].as_str() != Some(key)
        {
            return Err(invalid("has been moved from its original location"));
        }
        let fp = json["digestPublicKeyFingerprint"].as_str().unwrap_or("");
        let Some(pk) = self.keys.iter().find(|k| k.fingerprint == fp) else {
            return Err(DigestFailure::Invalid(format!(
                "public key not found in region {} for fingerprint {fp}",
                self.target.home_region
            )));
        };
        let (start_ms, end_ms) = match (
            parse_time(&json["digestStartTime"]),
            parse_time(&json["digestEndTime"]),
        ) {
            (Some(s), Some(e)) => (s, e),
            _ => return Err(invalid("invalid format")),
        };
        let to_sign = file::string_to_sign(
            json["digestEndTime"].as_str().unwrap_or(""),
            bucket,
            key,
            &raw,
            json["previousDigestSignature"].as_str(),
        );
        if let Some(sig) = &fetched.signature
            && !file::verify(&pk.der, &to_sign, sig)
        {
            return Err(invalid("signature verification failed"));
        }
        Ok(ReadDigest {
            hash: file::sha256_hex(&raw),
            json,
            start_ms,
            end_ms,
            signature: fetched.signature,
            public_der: pk.der.clone(),
            to_sign,
        })
    }

    /// Checks a digest in its chain: what the later digest that names it records (its hash and
    /// signature), and its signature from there when the object carries none.
    fn check_digest(
        &self,
        key: &str,
        successor: Option<&ValidDigest>,
        prefetched: &mut Prefetched,
    ) -> Result<ValidDigest, DigestFailure> {
        let bucket = &self.target.bucket;
        let read = match prefetched.remove(key) {
            Some(r) => r,
            None => self.read_digest(key, self.source.get(bucket, key)),
        }?;
        let named_by_successor = successor.filter(|s| {
            s.json["previousDigestS3Object"].as_str() == Some(key)
                && s.json["previousDigestS3Bucket"].as_str() == Some(bucket.as_str())
        });
        let recorded_signature = named_by_successor
            .and_then(|s| s.json["previousDigestSignature"].as_str())
            .map(str::to_owned);
        if read.signature.is_none()
            && let Some(sig) = &recorded_signature
            && !file::verify(&read.public_der, &read.to_sign, sig)
        {
            return Err(DigestFailure::Invalid(
                "signature verification failed".into(),
            ));
        }
        if let Some(s) = named_by_successor {
            if let Some(h) = s.json["previousDigestHashValue"].as_str()
                && h != read.hash
            {
                return Err(DigestFailure::Invalid(format!(
                    "hash value doesn't match the one recorded in {}",
                    self.s3(&s.key)
                )));
            }
            if let (Some(own), Some(rec)) = (&read.signature, &recorded_signature)
                && own != rec
            {
                return Err(DigestFailure::Invalid(format!(
                    "signature doesn't match the one recorded in {}",
                    self.s3(&s.key)
                )));
            }
        }
        Ok(ValidDigest {
            key: key.to_owned(),
            json: read.json,
            signature: read.signature.or(recorded_signature),
            start_ms: read.start_ms,
            end_ms: read.end_ms,
        })
    }

    /// Walks one chain newest first, as the CLI does. Returns the steps and the keys visited.
    fn walk(
        &self,
        mut listed: Vec<String>,
        backfill: bool,
        prefetched: &mut Prefetched,
    ) -> (Vec<Step>, BTreeSet<String>) {
        let tag = if backfill { "(backfill) " } else { "" };
        let mut steps = Vec::new();
        let mut visited = BTreeSet::new();
        let pop_older = |listed: &mut Vec<String>, than: &str| -> Option<String> {
            let limit = digest_stamp(than)?;
            while let Some(k) = listed.pop() {
                if digest_stamp(&k).is_some_and(|s| s < limit) {
                    return Some(k);
                }
            }
            None
        };
        let mut current = listed.pop();
        let mut last_start = current.as_deref().and_then(digest_stamp).unwrap_or(0);
        let mut successor: Option<Box<ValidDigest>> = None;
        while let Some(key) = current.take() {
            if self.options.start_ms > last_start {
                break;
            }
            visited.insert(key.clone());
            match self.check_digest(&key, successor.as_deref(), prefetched) {
                Ok(d) => {
                    last_start = d.start_ms;
                    let prev_key = d.json["previousDigestS3Object"].as_str().map(str::to_owned);
                    let prev_bucket = d.json["previousDigestS3Bucket"].as_str().map(str::to_owned);
                    if let Some(s) = &successor
                        && s.json["previousDigestS3Object"].as_str() == Some(key.as_str())
                        && s.start_ms != d.end_ms
                    {
                        steps.push(Step::Hole(Line {
                            text: format!(
                                "{tag}No digest covers {} to {}",
                                event_time(d.end_ms),
                                event_time(s.start_ms)
                            ),
                            error: true,
                        }));
                    }
                    let d = Box::new(d);
                    match (prev_bucket, prev_key) {
                        (Some(b), Some(k)) if b == self.target.bucket => current = Some(k),
                        _ => {
                            current = pop_older(&mut listed, &key);
                            if let Some(next) = &current {
                                steps.push(Step::Message(Line {
                                    text: format!(
                                        "{tag}No log files were delivered by CloudTrail between {} and {}",
                                        event_time(digest_stamp(next).unwrap_or(0)),
                                        event_time(last_start)
                                    ),
                                    error: true,
                                }));
                            }
                        }
                    }
                    steps.push(Step::Valid(Box::clone(&d)));
                    successor = Some(d);
                }
                Err(failure) => {
                    let why = match failure {
                        DigestFailure::Missing => "not found".to_owned(),
                        DigestFailure::Invalid(w) => w,
                    };
                    steps.push(Step::Message(Line {
                        text: format!("{tag}Digest file\t{}\tINVALID: {why}", self.s3(&key)),
                        error: true,
                    }));
                    current = pop_older(&mut listed, &key);
                    successor = None;
                }
            }
        }
        (steps, visited)
    }

    /// Runs every check. `progress(done, total)` is called as log files are checked.
    pub fn run(&self, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<Report, String> {
        // The two listings are independent: make them at once.
        let (digests, log_keys) = std::thread::scope(|s| {
            let logs = s.spawn(|| self.list_logs());
            let digests = self.list_digests();
            (
                digests,
                logs.join().unwrap_or_else(|_| Err("listing failed".into())),
            )
        });
        let ((standard, backfill), log_keys) = (digests?, log_keys?);
        let mut report = Report::default();
        let mut all_steps: Vec<(bool, Step)> = Vec::new();
        let mut visited = BTreeSet::new();
        // One parallel wave reads every listed digest and every log file of the period (their
        // keys are known from the listings); the walk and the log checks then mostly compute.
        let window = (
            self.options.start_ms - 7_200_000,
            self.options.end_ms + 7_200_000,
        );
        let wave: Vec<(bool, &String)> = standard
            .iter()
            .chain(&backfill)
            .map(|k| (true, k))
            .chain(
                log_keys
                    .iter()
                    .filter(|k| log_stamp(k).is_some_and(|t| t >= window.0 && t <= window.1))
                    .map(|k| (false, k)),
            )
            .collect();
        enum Read {
            Digest(Result<ReadDigest, DigestFailure>),
            Log(Result<String, String>),
        }
        let bucket = &self.target.bucket;
        let read = parallel(&wave, self.options.jobs, &|(is_digest, k)| {
            if *is_digest {
                Read::Digest(self.read_digest(k, self.source.get(bucket, k)))
            } else {
                Read::Log(self.hash_log(bucket, k))
            }
        });
        let mut prefetched = Prefetched::new();
        let mut hashes = LogHashes::new();
        for ((_, k), r) in wave.iter().zip(read) {
            match r {
                Read::Digest(d) => {
                    prefetched.insert((*k).clone(), d);
                }
                Read::Log(h) => {
                    hashes.insert((*k).clone(), h);
                }
            }
        }
        for (is_backfill, list) in [(false, standard.clone()), (true, backfill.clone())] {
            let (steps, seen) = self.walk(list, is_backfill, &mut prefetched);
            visited.extend(seen);
            all_steps.extend(steps.into_iter().map(|s| (is_backfill, s)));
        }

        // Digests no chain reaches, and (with cairn's record) digests cairn never delivered or
        // that are gone.
        let listed: BTreeSet<&String> = standard.iter().chain(&backfill).collect();
        let mut extra: Vec<(bool, Line)> = Vec::new();
        let visited_span = visited
            .iter()
            .filter_map(|k| digest_stamp(k))
            .fold((i64::MAX, i64::MIN), |(lo, hi), s| (lo.min(s), hi.max(s)));
        for k in &listed {
            if !visited.contains(*k)
                && digest_stamp(k).is_some_and(|s| s >= visited_span.0 && s <= visited_span.1)
            {
                extra.push((
                    k.ends_with("_backfill.json.gz"),
                    Line {
                        text: format!(
                            "Digest file\t{}\tINVALID: not part of the digest chain",
                            self.s3(k)
                        ),
                        error: true,
                    },
                ));
            }
        }
        if let Some(delivered) = &self.options.delivered {
            let known: BTreeSet<&str> = delivered
                .iter()
                .filter(|d| d.bucket == self.target.bucket)
                .map(|d| d.key.as_str())
                .collect();
            for d in delivered {
                let in_range = d.end_ms >= self.options.start_ms
                    && d.end_ms <= self.options.end_ms + 3_600_000;
                if in_range && d.bucket == self.target.bucket && !listed.contains(&d.key) {
                    let tag = if d.backfill { "(backfill) " } else { "" };
                    extra.push((
                        d.backfill,
                        Line {
                            text: format!(
                                "{tag}Digest file\t{}\tINVALID: not found (cairn delivered it)",
                                self.s3(&d.key)
                            ),
                            error: true,
                        },
                    ));
                }
            }
            for k in &listed {
                if !known.contains(k.as_str()) {
                    extra.push((
                        k.ends_with("_backfill.json.gz"),
                        Line {
                            text: format!(
                                "Digest file\t{}\tINVALID: not delivered by cairn",
                                self.s3(k)
                            ),
                            error: true,
                        },
                    ));
                }
            }
        }
        // A digest reported twice (missing from the chain and from cairn's record) counts once.
        let mut reported: BTreeSet<String> = all_steps
            .iter()
            .filter_map(|(_, s)| match s {
                Step::Message(l) if l.text.contains("\tINVALID") => {
                    l.text.split('\t').nth(1).map(str::to_owned)
                }
                _ => None,
            })
            .collect();
        extra.retain(|(_, l)| {
            l.text
                .split('\t')
                .nth(1)
                .is_some_and(|loc| reported.insert(loc.to_owned()))
        });

        // Log files of valid digests, checked in parallel.
        let mut logs: Vec<LogRef> = Vec::new();
        let mut listed_logs: BTreeSet<String> = BTreeSet::new();
        for (_, s) in &all_steps {
            if let Step::Valid(d) = s {
                for f in d.json["logFiles"].as_array().into_iter().flatten() {
                    let r = LogRef {
                        bucket: f["s3Bucket"].as_str().unwrap_or("").to_owned(),
                        key: f["s3Object"].as_str().unwrap_or("").to_owned(),
                        hash: f["hashValue"].as_str().unwrap_or("").to_owned(),
                    };
                    listed_logs.insert(r.key.clone());
                    logs.push(r);
                }
            }
        }
        let results = self.check_logs(&logs, &hashes, progress);

        // Assemble the output in walk order: each digest, then its log files.
        let mut next_log = 0;
        for (is_backfill, step) in all_steps {
            match step {
                Step::Hole(line) => {
                    report.holes += 1;
                    report.lines.push(line);
                }
                Step::Message(line) => {
                    if line.text.contains("\tINVALID") {
                        if is_backfill {
                            report.backfill.invalid += 1;
                        } else {
                            report.digests.invalid += 1;
                        }
                    }
                    report.lines.push(line);
                }
                Step::Valid(d) => {
                    if is_backfill {
                        report.backfill.valid += 1;
                    } else {
                        report.digests.valid += 1;
                    }
                    if d.signature.is_none() {
                        report.unverified += 1;
                    }
                    let lo = d.start_ms.max(self.options.start_ms);
                    let hi = d.end_ms.min(self.options.end_ms);
                    report.found = Some(match report.found {
                        None => (lo, hi),
                        Some((a, b)) => (a.min(lo), b.max(hi)),
                    });
                    let tag = if is_backfill { "(backfill) " } else { "" };
                    let how = if d.signature.is_none() {
                        "valid (signature not checked: no metadata and no later digest records it)"
                    } else {
                        "valid"
                    };
                    report.lines.push(Line {
                        text: format!("{tag}Digest file\t{}\t{how}", self.s3(&d.key)),
                        error: false,
                    });
                    let n = d.json["logFiles"].as_array().map_or(0, Vec::len);
                    for i in next_log..next_log + n {
                        let (log, result) = (&logs[i], &results[i]);
                        let loc = format!("s3://{}/{}", log.bucket, log.key);
                        match result {
                            Ok(()) => {
                                report.logs.valid += 1;
                                report.lines.push(Line {
                                    text: format!("Log file\t{loc}\tvalid"),
                                    error: false,
                                });
                            }
                            Err(why) => {
                                report.logs.invalid += 1;
                                report.lines.push(Line {
                                    text: format!("Log file\t{loc}\tINVALID: {why}"),
                                    error: true,
                                });
                            }
                        }
                    }
                    next_log += n;
                }
            }
        }
        for (is_backfill, line) in extra {
            if is_backfill {
                report.backfill.invalid += 1;
            } else {
                report.digests.invalid += 1;
            }
            report.lines.push(line);
        }
        self.uncovered_logs(&mut report, &listed_logs, &log_keys);
        Ok(report)
    }

    fn check_logs(
        &self,
        logs: &[LogRef],
        hashes: &LogHashes,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Vec<Result<(), String>> {
        let done = AtomicUsize::new(0);
        let total = logs.len() as u64;
        parallel(logs, self.options.jobs, &|log: &LogRef| {
            let hashed = match hashes.get(&log.key) {
                Some(h) if log.bucket == self.target.bucket => h.clone(),
                _ => self.hash_log(&log.bucket, &log.key),
            };
            progress(done.fetch_add(1, Ordering::Relaxed) as u64 + 1, total);
            match hashed {
                Ok(h) if h == log.hash => Ok(()),
                Ok(_) => Err("hash value doesn't match".into()),
                Err(e) => Err(e),
            }
        })
    }

    /// The hex SHA-256 of a log file's uncompressed bytes, or why there is none.
    fn hash_log(&self, bucket: &str, key: &str) -> Result<String, String> {
        let fetched = match self.source.get(bucket, key) {
            Ok(Some(f)) => f,
            Ok(None) => return Err("not found".into()),
            Err(e) => return Err(e),
        };
        let raw = gunzip_one(&fetched.body).map_err(str::to_owned)?;
        Ok(file::sha256_hex(&raw))
    }

    fn logs_prefix(&self) -> String {
        format!("{}/", self.area("CloudTrail"))
    }

    fn list_logs(&self) -> Result<Vec<String>, String> {
        let prefix = self.logs_prefix();
        self.source.list(&self.target.bucket, &prefix, &prefix)
    }

    /// Log files inside a validly digested period that no digest lists.
    fn uncovered_logs(&self, report: &mut Report, listed: &BTreeSet<String>, keys: &[String]) {
        let Some((lo, hi)) = report.found else {
            return;
        };
        if report.digests.invalid + report.backfill.invalid > 0 {
            // Files of an invalid or missing digest are unknown; do not guess.
            return;
        }
        for key in keys {
            if listed.contains(key) {
                continue;
            }
            let Some(stamp) = log_stamp(key) else {
                continue;
            };
            // Only files planned inside the span the valid digests cover; a file of the last
            // minute may still be waiting for its digest.
            if stamp < lo || stamp + 60_000 > hi {
                continue;
            }
            report.logs.invalid += 1;
            report.lines.push(Line {
                text: format!(
                    "Log file\t{}\tINVALID: not listed by any digest",
                    self.s3(key)
                ),
                error: true,
            });
        }
    }
}

/// The stamp of a log file key: `<acct>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<unique>.json.gz`.
fn log_stamp(key: &str) -> Option<i64> {
    key.rsplit('/')
        .next()
        .and_then(|name| name.split('_').nth(3))
        .and_then(parse_stamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps() {
        assert_eq!(parse_stamp("20240501T010131Z"), Some(1_714_525_291_000));
        assert_eq!(parse_stamp("20240501T0101Z"), Some(1_714_525_260_000));
        assert_eq!(parse_stamp("2024050xT010131Z"), None);
        assert_eq!(
            digest_stamp("a/1_CloudTrail-Digest_r_n_r_20240501T010131Z.json.gz"),
            Some(1_714_525_291_000)
        );
        assert_eq!(
            digest_stamp("a/1_CloudTrail-Digest_r_n_r_20240501T010131Z_backfill.json.gz"),
            Some(1_714_525_291_000)
        );
    }

    #[test]
    fn one_gzip_member_only() {
        let one = crate::logfile::gzip(b"abc");
        assert_eq!(gunzip_one(&one).unwrap(), b"abc");
        let mut two = one.clone();
        two.extend(crate::logfile::gzip(b"def"));
        assert_eq!(
            gunzip_one(&two),
            Err("unexpected data after end of compressed stream")
        );
        assert_eq!(gunzip_one(b"junk"), Err("invalid format"));
    }
}
