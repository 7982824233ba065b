use std::collections::BTreeMap;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};

use cairn_model::ManualClock;
use cairn_store::journal::{Entry, EntryKind};
use cairn_store::objects::{ListQuery, ObjectStore};
use serde_json::{Value, json};

use super::*;
use crate::delivery::{BucketGate, Delivery};
use crate::sink::EmbeddedSink;

use crate::testkit::ACCT;
const HOUR: i64 = 3_600_000;

/// Lets CloudTrail write, except log files while `deny_logs` is set and digests while
/// `deny_digests` is.
struct Gate {
    deny_logs: AtomicBool,
    deny_digests: AtomicBool,
}
impl BucketGate for Gate {
    fn may_write(&self, _: Option<&str>, _: &Trail, key: &str) -> bool {
        let digest = key.contains("/CloudTrail-Digest/");
        !(self.deny_logs.load(Ordering::SeqCst) && key.contains("/CloudTrail/")
            || self.deny_digests.load(Ordering::SeqCst) && digest)
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    delivery: Delivery,
    digests: Digester,
    objects: Arc<dyn ObjectStore>,
    trails: Arc<dyn TrailStore>,
    clock: ManualClock,
    gate: Arc<Gate>,
    arn: String,
}

fn fixture(validation: bool) -> Fixture {
    let crate::testkit::Stores {
        dir,
        journal,
        trails,
        organizations,
        objects,
        arn,
    } = crate::testkit::stores(validation);
    let clock = ManualClock::new(crate::testkit::START_MS);
    let gate = Arc::new(Gate {
        deny_logs: AtomicBool::new(false),
        deny_digests: AtomicBool::new(false),
    });
    let sink: Arc<dyn LogSink> = Arc::new(EmbeddedSink {
        objects: Arc::clone(&objects),
        gate: Arc::clone(&gate) as Arc<dyn BucketGate>,
        clock: Arc::new(clock.clone()),
    });
    let keys = Arc::new(
        KeyRing::open(
            Arc::clone(&trails),
            Arc::new(clock.clone()),
            &dir.path().join("signing.key"),
        )
        .unwrap(),
    );
    let planned = Arc::new(crate::digest::planned::PlannedUpTo::default());
    Fixture {
        delivery: Delivery {
            journal: Arc::clone(&journal),
            trails: Arc::clone(&trails),
            organizations: Arc::clone(&organizations),
            sink: Arc::clone(&sink),
            clock: Arc::new(clock.clone()),
            backoff: Default::default(),
            planned: Arc::clone(&planned),
        },
        digests: Digester {
            trails: Arc::clone(&trails),
            organizations,
            keys,
            sink,
            clock: Arc::new(clock.clone()),
            journal,
            planned,
            interval_ms: HOUR,
        },
        _dir: dir,
        objects,
        trails,
        clock,
        gate,
        arn,
    }
}

impl Fixture {
    fn activity(&self, regions: &[&str]) {
        let batch = regions
            .iter()
            .enumerate()
            .map(|(i, region)| {
                let r = json!({"eventVersion":"1.11","eventID":format!("e{i}"),"eventTime":cairn_model::timefmt::event_time(self.clock.now_millis() - i as i64 * 1000),
                               "eventName":"DescribeTrails","eventSource":"cloudtrail.amazonaws.com",
                               "awsRegion":region,"eventCategory":"Management","readOnly":true});
                Entry {
                    kind: EntryKind::Recorded,
                    account: ACCT.into(),
                    record: serde_json::to_vec(&r).unwrap(),
                    served: None,
                }
                .encode()
            })
            .collect();
        self.delivery.journal.append(batch).wait_blocking().unwrap();
    }

    /// One delivery round followed by one digest round, as `cairn serve` runs them.
    fn round(&self) -> DigestReport {
        self.delivery.run_once().unwrap();
        self.digests.run_once().unwrap()
    }

    fn set_logging(&self, on: bool) {
        let mut t = self.trails.get(&self.arn).unwrap().unwrap();
        let head = self.delivery.journal.head();
        if on {
            t.logging_ranges.push((head, None));
        } else if let Some(last) = t.logging_ranges.last_mut() {
            last.1 = Some(head);
        }
        t.logging = on;
        self.trails.put(&t).unwrap();
    }

    fn keys(&self, part: &str) -> Vec<String> {
        let page = self
            .objects
            .list(&ListQuery {
                bucket: "logs".into(),
                max_keys: 1000,
                ..Default::default()
            })
            .unwrap();
        page.contents
            .iter()
            .map(|o| o.key.clone())
            .filter(|k| k.contains(part))
            .collect()
    }

    fn get(&self, key: &str) -> (Vec<u8>, BTreeMap<String, String>) {
        let v = self.objects.head_object("logs", key, None).unwrap();
        let body = self.objects.read_body(&v, None).unwrap();
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut raw)
            .unwrap();
        (raw, v.metadata.clone())
    }

    /// Checks every digest in the bucket the way validate-logs does, and that every log file is
    /// listed by exactly one digest with its true hash. Returns the digests, oldest first.
    fn verify_all(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut listed: BTreeMap<String, usize> = BTreeMap::new();
        for key in self.keys("/CloudTrail-Digest/") {
            let (raw, meta) = self.get(&key);
            let d: Value = serde_json::from_slice(&raw).unwrap();
            assert_eq!(d["digestS3Object"], key.as_str());
            assert_eq!(d["digestS3Bucket"], "logs");
            assert_eq!(meta["signature-algorithm"], "SHA256withRSA");
            let region = key.split('/').nth(4).unwrap();
            let fp = d["digestPublicKeyFingerprint"].as_str().unwrap();
            let pk = self
                .trails
                .signing_keys(region, 0, i64::MAX)
                .unwrap()
                .into_iter()
                .find(|k| k.fingerprint == fp)
                .expect("signed with a published key of the source region");
            let sts = file::string_to_sign(
                d["digestEndTime"].as_str().unwrap(),
                "logs",
                &key,
                &raw,
                d["previousDigestSignature"].as_str(),
            );
            assert!(
                file::verify(&pk.public_der, &sts, &meta["signature"]),
                "{key}"
            );
            if let Some(prev) = d["previousDigestS3Object"].as_str() {
                let (praw, pmeta) = self.get(prev);
                assert_eq!(d["previousDigestHashValue"], file::sha256_hex(&praw));
                assert_eq!(d["previousDigestSignature"], pmeta["signature"].as_str());
            }
            for f in d["logFiles"].as_array().unwrap() {
                let k = f["s3Object"].as_str().unwrap();
                let (lraw, _) = self.get(k);
                assert_eq!(f["hashValue"], file::sha256_hex(&lraw));
                *listed.entry(k.to_owned()).or_default() += 1;
            }
            out.push(d);
        }
        for k in self.keys("/CloudTrail/") {
            assert_eq!(listed.get(&k), Some(&1), "{k} listed once");
        }
        out
    }
}

#[test]
fn hourly_chained_digests_list_every_file_once() {
    let f = fixture(true);
    f.activity(&["us-east-1", "eu-west-1", "us-east-1"]);
    assert_eq!(f.round().decided, 0, "no period has ended yet");
    f.clock.advance_millis(20 * 60_000);
    f.activity(&["us-east-1"]);
    f.round();
    f.clock.advance_millis(HOUR);
    let r = f.round();
    assert_eq!((r.decided, r.written), (2, 2), "one digest per region");
    // An hour with no activity still gets its digests.
    f.clock.advance_millis(HOUR);
    assert_eq!(f.round().written, 2);
    let all = f.verify_all();
    assert_eq!(all.len(), 4);
    let home: Vec<&Value> = all
        .iter()
        .filter(|d| {
            d["digestS3Object"]
                .as_str()
                .unwrap()
                .contains("/CloudTrail-Digest/us-east-1/")
        })
        .collect();
    assert_eq!(
        home[0]["previousDigestSignature"],
        Value::Null,
        "starting digest"
    );
    assert_eq!(home[0]["logFiles"].as_array().unwrap().len(), 2);
    assert_eq!(home[1]["previousDigestS3Object"], home[0]["digestS3Object"]);
    assert_eq!(home[1]["digestStartTime"], home[0]["digestEndTime"]);
    assert_eq!(home[1]["logFiles"], json!([]));
    assert_eq!(home[1]["newestEventTime"], Value::Null);
    let key = home[0]["digestS3Object"].as_str().unwrap();
    assert!(key.starts_with(&format!(
        "pre/AWSLogs/{ACCT}/CloudTrail-Digest/us-east-1/2015/08/01/{ACCT}_CloudTrail-Digest_us-east-1_t_us-east-1_2015080"
    )));
    let status = f.trails.status(&f.arn).unwrap();
    assert_eq!(status.latest_digest_ms, Some(f.clock.now_millis()));
}

#[test]
fn stopping_ends_the_chain_and_restarting_begins_another() {
    let f = fixture(true);
    f.activity(&["us-east-1"]);
    f.round();
    f.clock.advance_millis(HOUR + 1000);
    f.round();
    f.activity(&["us-east-1"]);
    f.set_logging(false);
    f.clock.advance_millis(5_000);
    let r = f.round();
    assert_eq!(r.written, 1, "the final digest");
    assert!(f.trails.digest_chains(&f.arn).unwrap().is_empty());
    f.clock.advance_millis(HOUR);
    assert_eq!(f.round().written, 0, "no digests while stopped");
    f.set_logging(true);
    f.activity(&["us-east-1"]);
    f.round();
    f.clock.advance_millis(HOUR);
    assert_eq!(f.round().written, 1);
    let all = f.verify_all();
    assert_eq!(all.len(), 3);
    assert_eq!(all[1]["logFiles"].as_array().unwrap().len(), 1);
    assert_eq!(all[2]["previousDigestS3Object"], Value::Null, "a new chain");
    let keys = f.keys("/CloudTrail-Digest/");
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "keys sort in chain order");
}

#[test]
fn files_written_after_their_digest_go_to_the_backfill_chain() {
    let f = fixture(true);
    f.gate.deny_logs.store(true, Ordering::SeqCst);
    f.activity(&["us-east-1"]);
    f.round();
    f.clock.advance_millis(HOUR);
    let r = f.round();
    assert_eq!(
        r.written, 1,
        "the period's digest goes out without the file"
    );
    f.gate.deny_logs.store(false, Ordering::SeqCst);
    f.clock.advance_millis(60_000);
    let r = f.round();
    assert_eq!(r.written, 1);
    let backfill = f.keys("_backfill.json.gz");
    assert_eq!(backfill.len(), 1);
    let (_, meta) = f.get(&backfill[0]);
    assert!(meta.contains_key("backfill-generation-timestamp"));
    let all = f.verify_all();
    assert_eq!(all.len(), 2);
}

#[test]
fn a_period_ends_only_once_delivery_has_planned_what_the_journal_held() {
    let f = fixture(true);
    f.activity(&["us-east-1"]);
    f.round();
    let first = f.keys("/CloudTrail/");
    assert_eq!(first.len(), 1);
    // Activity, then the period ends before delivery has planned it (delivery runs on its own
    // cadence, maybe on another node): the digester must not close the period yet.
    f.activity(&["us-east-1"]);
    f.clock.advance_millis(HOUR);
    assert_eq!(f.digests.run_once().unwrap().decided, 0);
    assert!(f.keys("/CloudTrail-Digest/").is_empty());
    // Delivery catches up; the next digest round decides the period, listing every file.
    f.round();
    let digests = f.keys("/CloudTrail-Digest/");
    assert_eq!(digests.len(), 1);
    let (raw, _) = f.get(&digests[0]);
    let d: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(
        d["logFiles"][0]["s3Object"],
        first[0].as_str(),
        "the file planned in the period"
    );
    assert_eq!(d["logFiles"].as_array().unwrap().len(), 1);
    f.clock.advance_millis(HOUR);
    f.round();
    let all = f.verify_all();
    assert_eq!(
        all.len(),
        2,
        "the file planned after the period's end is in the next one"
    );
    assert!(f.keys("_backfill").is_empty());
}

#[test]
fn a_refused_digest_shows_in_the_status_and_is_written_later() {
    let f = fixture(true);
    f.gate.deny_digests.store(true, Ordering::SeqCst);
    f.activity(&["us-east-1"]);
    f.round();
    f.clock.advance_millis(HOUR);
    let r = f.round();
    assert_eq!(r.written, 0);
    let status = f.trails.status(&f.arn).unwrap();
    assert_eq!(status.latest_digest_error.as_deref(), Some("AccessDenied"));
    assert!(f.keys("/CloudTrail-Digest/").is_empty());
    f.gate.deny_digests.store(false, Ordering::SeqCst);
    f.clock.advance_millis(60_000);
    assert_eq!(f.round().written, 1);
    let status = f.trails.status(&f.arn).unwrap();
    assert_eq!(status.latest_digest_error, None);
    assert!(status.latest_digest_ms.is_some());
    assert_eq!(f.verify_all().len(), 1);
}

#[test]
fn no_digests_without_validation() {
    let f = fixture(false);
    f.activity(&["us-east-1"]);
    f.round();
    f.clock.advance_millis(3 * HOUR);
    assert_eq!(f.round(), DigestReport::default());
    assert!(f.keys("/CloudTrail-Digest/").is_empty());
    assert_eq!(f.keys("/CloudTrail/").len(), 1);
}

mod validation {
    use super::*;
    use crate::validate::source::{Fetched, ObjectSource};
    use crate::validate::{Delivered, Options, PublicKey, Report, Target, Validator};
    use cairn_store::objects::NewObject;

    struct Embedded<'a>(&'a dyn ObjectStore);

    impl ObjectSource for Embedded<'_> {
        fn list(&self, bucket: &str, prefix: &str, marker: &str) -> Result<Vec<String>, String> {
            let page = self
                .0
                .list(&ListQuery {
                    bucket: bucket.into(),
                    prefix: prefix.into(),
                    after: Some(marker.into()),
                    max_keys: 100_000,
                    ..Default::default()
                })
                .map_err(|e| e.to_string())?;
            Ok(page.contents.into_iter().map(|o| o.key).collect())
        }
        fn get(&self, bucket: &str, key: &str) -> Result<Option<Fetched>, String> {
            match self.0.head_object(bucket, key, None) {
                Ok(v) => Ok(Some(Fetched {
                    body: self.0.read_body(&v, None).map_err(|e| e.to_string())?,
                    signature: v.metadata.get("signature").cloned(),
                })),
                Err(_) => Ok(None),
            }
        }
    }

    /// A trail with three regular digests per region, the middle hour busy.
    fn history() -> Fixture {
        let f = fixture(true);
        for _ in 0..4 {
            f.activity(&["us-east-1", "us-east-1"]);
            f.round();
            f.clock.advance_millis(HOUR);
            f.round();
        }
        f
    }

    fn validate(f: &Fixture, with_record: bool) -> Report {
        let keys = f
            .trails
            .signing_keys("us-east-1", 0, i64::MAX)
            .unwrap()
            .into_iter()
            .map(|k| PublicKey {
                fingerprint: k.fingerprint,
                der: k.public_der,
            })
            .collect();
        let delivered = f
            .trails
            .digests_delivered(&f.arn, "us-east-1")
            .unwrap()
            .into_iter()
            .map(|(backfill, bucket, key, end_ms)| Delivered {
                backfill,
                bucket,
                key,
                end_ms,
            })
            .collect();
        let source = Embedded(&*f.objects);
        Validator {
            source: &source,
            target: Target {
                bucket: "logs".into(),
                prefix: Some("pre".into()),
                account: ACCT.into(),
                source_region: "us-east-1".into(),
                trail_name: "t".into(),
                home_region: "us-east-1".into(),
            },
            keys,
            options: Options {
                start_ms: 1_438_394_700_000 - HOUR,
                end_ms: f.clock.now_millis(),
                jobs: 4,
                delivered: with_record.then_some(delivered),
            },
        }
        .run(&|_, _| {})
        .unwrap()
    }

    fn invalid_lines(r: &Report) -> Vec<String> {
        r.lines
            .iter()
            .filter(|l| l.text.contains("INVALID"))
            .map(|l| l.text.clone())
            .collect()
    }

    fn digests(f: &Fixture) -> Vec<String> {
        f.keys("/CloudTrail-Digest/us-east-1/")
    }

    fn replace(f: &Fixture, key: &str, body: &[u8], signature: Option<&str>) {
        let mut metadata = BTreeMap::new();
        if let Some(s) = signature {
            metadata.insert("signature".to_owned(), s.to_owned());
        }
        f.objects
            .put_object(
                "logs",
                key,
                body,
                &NewObject {
                    content_type: None,
                    metadata,
                    sse: None,
                    data_key: None,
                    durable: false,
                    condition: None,
                },
                0,
            )
            .unwrap();
    }

    #[test]
    fn an_untouched_trail_is_valid() {
        let f = history();
        let r = validate(&f, true);
        assert!(r.ok(), "{:#?}", r.lines);
        assert_eq!(r.digests.valid, 4);
        assert_eq!(r.logs.valid, 4);
        assert_eq!(r.unverified, 0);
    }

    #[test]
    fn a_changed_log_file_fails_its_hash() {
        let f = history();
        let log = f.keys("/CloudTrail/us-east-1/")[1].clone();
        replace(&f, &log, &crate::logfile::gzip(b"{\"Records\":[]}"), None);
        let r = validate(&f, true);
        assert_eq!(r.logs.invalid, 1);
        assert!(invalid_lines(&r)[0].ends_with("INVALID: hash value doesn't match"));
    }

    #[test]
    fn a_record_appended_after_the_gzip_member_is_caught() {
        let f = history();
        let log = f.keys("/CloudTrail/us-east-1/")[0].clone();
        let (raw, _) = f.get(&log);
        let mut body = crate::logfile::gzip(&raw);
        body.extend(crate::logfile::gzip(b"{\"eventName\":\"Forged\"}"));
        replace(&f, &log, &body, None);
        let r = validate(&f, true);
        assert_eq!(
            invalid_lines(&r),
            vec![format!(
                "Log file\ts3://logs/{log}\tINVALID: unexpected data after end of compressed stream"
            )]
        );
    }

    #[test]
    fn a_changed_digest_fails_its_signature() {
        let f = history();
        let d = digests(&f)[1].clone();
        let (raw, meta) = f.get(&d);
        let text = String::from_utf8(raw)
            .unwrap()
            .replace("\"logFiles\":[", "\"logFiles\":[ ");
        replace(
            &f,
            &d,
            &crate::logfile::gzip(text.as_bytes()),
            Some(&meta["signature"]),
        );
        let r = validate(&f, true);
        assert!(!r.ok());
        assert!(
            invalid_lines(&r)
                .iter()
                .any(|l| l.contains(&d) && l.ends_with("INVALID: signature verification failed")),
            "{:#?}",
            r.lines
        );
    }

    #[test]
    fn two_consecutive_deleted_digests_are_both_reported() {
        let f = history();
        let all = digests(&f);
        f.objects.delete_object("logs", &all[1], 0).unwrap();
        f.objects.delete_object("logs", &all[2], 0).unwrap();
        let r = validate(&f, true);
        let bad = invalid_lines(&r);
        assert!(bad.iter().any(|l| l.contains(&all[1])), "{bad:#?}");
        assert!(bad.iter().any(|l| l.contains(&all[2])), "{bad:#?}");
        assert_eq!(r.digests.invalid, 2);
        // Without cairn's record only the first is seen, as with the AWS CLI.
        assert_eq!(validate(&f, false).digests.invalid, 1);
    }

    #[test]
    fn deleted_newest_digests_are_reported() {
        let f = history();
        let all = digests(&f);
        f.objects.delete_object("logs", &all[3], 0).unwrap();
        assert!(validate(&f, false).ok(), "invisible without cairn's record");
        let r = validate(&f, true);
        assert_eq!(r.digests.invalid, 1);
        assert!(invalid_lines(&r)[0].contains("not found (cairn delivered it)"));
    }

    #[test]
    fn a_backfill_chain_validates() {
        let f = fixture(true);
        f.gate.deny_logs.store(true, Ordering::SeqCst);
        f.activity(&["us-east-1"]);
        f.round();
        f.clock.advance_millis(HOUR);
        f.round();
        f.gate.deny_logs.store(false, Ordering::SeqCst);
        f.clock.advance_millis(60_000);
        f.round();
        let r = validate(&f, true);
        assert!(r.ok(), "{:#?}", r.lines);
        assert_eq!((r.digests.valid, r.backfill.valid, r.logs.valid), (1, 1, 1));
        assert!(
            r.lines
                .iter()
                .any(|l| l.text.starts_with("(backfill) Digest file\t")
                    && l.text.ends_with("\tvalid")),
            "{:#?}",
            r.lines
        );
    }

    #[test]
    fn a_log_file_no_digest_lists_is_reported() {
        let f = history();
        let real = f.keys("/CloudTrail/us-east-1/")[1].clone();
        // A file at a key CloudTrail could have used, inside a digested period.
        let planted = format!("{}XXXXXXXXXXXXXXXX.json.gz", &real[..real.len() - 24]);
        let (raw, _) = f.get(&real);
        replace(&f, &planted, &crate::logfile::gzip(&raw), None);
        let r = validate(&f, true);
        assert_eq!(
            invalid_lines(&r),
            vec![format!(
                "Log file\ts3://logs/{planted}\tINVALID: not listed by any digest"
            )]
        );
    }

    #[test]
    fn a_digest_outside_the_chain_is_reported() {
        let f = history();
        let all = digests(&f);
        // A copy of a real digest under another name inside the chain's span: valid JSON and
        // signature metadata, but no digest points to it.
        let (raw, meta) = f.get(&all[1]);
        // (One second later than the real one: a name CloudTrail could have written.)
        let stray = all[1].replace("00Z.json.gz", "01Z.json.gz");
        assert_ne!(stray, all[1]);
        replace(
            &f,
            &stray,
            &crate::logfile::gzip(&raw),
            Some(&meta["signature"]),
        );
        let without_record = validate(&f, false);
        assert_eq!(
            invalid_lines(&without_record),
            vec![format!(
                "Digest file\ts3://logs/{stray}\tINVALID: not part of the digest chain"
            )]
        );
        assert_eq!(without_record.digests.invalid, 1);
        // With cairn's record it is reported once, however many reasons there are.
        assert_eq!(invalid_lines(&validate(&f, true)).len(), 1);
    }

    /// Rewrites digest `key` as `text`, signed with the region's real key (an attacker who
    /// holds it, or a broken signer): returns the new signature.
    fn rewrite_signed(f: &Fixture, key: &str, text: &str) -> String {
        let v: Value = serde_json::from_str(text).unwrap();
        let signer = f.digests.keys.current("us-east-1").unwrap();
        let sts = file::string_to_sign(
            v["digestEndTime"].as_str().unwrap(),
            "logs",
            key,
            text.as_bytes(),
            v["previousDigestSignature"].as_str(),
        );
        let sig = file::sign(&signer.private, &sts);
        replace(f, key, &crate::logfile::gzip(text.as_bytes()), Some(&sig));
        sig
    }

    #[test]
    fn a_validly_resigned_change_breaks_the_hash_its_successor_recorded() {
        let f = history();
        let all = digests(&f);
        let (raw, _) = f.get(&all[1]);
        let text = String::from_utf8(raw)
            .unwrap()
            .replace("\"logFiles\":[", "\"logFiles\":[ ");
        rewrite_signed(&f, &all[1], &text);
        let r = validate(&f, true);
        assert_eq!(
            invalid_lines(&r),
            vec![format!(
                "Digest file\ts3://logs/{}\tINVALID: hash value doesn't match the one recorded in s3://logs/{}",
                all[1], all[2]
            )]
        );
    }

    #[test]
    fn a_hole_between_chained_digests_is_reported() {
        let f = history();
        let all = digests(&f);
        // The second digest claims to end ten minutes early; every later digest is re-signed
        // to record its predecessor faithfully, so only the hole remains.
        let (raw, _) = f.get(&all[1]);
        let mut v: Value = serde_json::from_slice(&raw).unwrap();
        let end = v["digestEndTime"].as_str().unwrap().to_owned();
        let end_ms = cairn_model::timefmt::parse_event_time(&v["digestEndTime"]).unwrap();
        let early = cairn_model::timefmt::event_time(end_ms - 600_000);
        v["digestEndTime"] = early.clone().into();
        let mut text = serde_json::to_string(&v).unwrap();
        let mut sig = rewrite_signed(&f, &all[1], &text);
        for next in &all[2..] {
            let (raw, _) = f.get(next);
            let mut n: Value = serde_json::from_slice(&raw).unwrap();
            n["previousDigestHashValue"] = file::sha256_hex(text.as_bytes()).into();
            n["previousDigestSignature"] = sig.clone().into();
            text = serde_json::to_string(&n).unwrap();
            sig = rewrite_signed(&f, next, &text);
        }
        let r = validate(&f, false);
        assert_eq!(r.digests.valid, 4, "{:#?}", r.lines);
        assert!(
            r.lines
                .iter()
                .any(|l| l.error && l.text == format!("No digest covers {early} to {end}")),
            "{:#?}",
            r.lines
        );
        assert!(!r.ok());
    }

    #[test]
    fn a_digest_resigned_with_a_foreign_key_fails() {
        let f = history();
        let d = digests(&f)[2].clone();
        let (raw, _) = f.get(&d);
        let v: Value = serde_json::from_slice(&raw).unwrap();
        let foreign = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
        let sts = file::string_to_sign(
            v["digestEndTime"].as_str().unwrap(),
            "logs",
            &d,
            &raw,
            v["previousDigestSignature"].as_str(),
        );
        replace(
            &f,
            &d,
            &crate::logfile::gzip(&raw),
            Some(&file::sign(
                &file::key_pair(
                    rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_der(&foreign)
                        .unwrap()
                        .as_bytes(),
                )
                .unwrap(),
                &sts,
            )),
        );
        let r = validate(&f, true);
        assert!(
            invalid_lines(&r).iter().any(|l| l
                == &format!("Digest file\ts3://logs/{d}\tINVALID: signature verification failed"))
        );
    }
}
