//! Notifications: queued with the written file, sent to the trail's topic listing the keys
//! delivery wrote, kept across failures (and a stop between writing and sending) until sent.

use std::sync::Mutex;

use cairn_model::ManualClock;
use cairn_store::journal::{Entry, EntryKind};
use cairn_store::objects::ObjectStore;
use serde_json::{Value, json};

use super::*;
use crate::delivery::{BucketGate, Delivery};
use crate::testkit::{ACCT, START_MS};

struct AllowAll;
impl BucketGate for AllowAll {
    fn may_write(&self, _: Option<&str>, _: &Trail, _: &str) -> bool {
        true
    }
}

/// A topic that keeps what it was sent, or refuses with `refuse`.
#[derive(Default)]
struct Topic {
    sent: Mutex<Vec<(String, Value)>>,
    refuse: Mutex<Option<String>>,
}

impl Notifier for Topic {
    fn publish(&self, trail: &Trail, message: &str) -> Result<(), String> {
        if let Some(e) = self.refuse.lock().unwrap().clone() {
            return Err(e);
        }
        let topic = trail.sns_topic_name.clone().unwrap_or_default();
        self.sent
            .lock()
            .unwrap()
            .push((topic, serde_json::from_str(message).unwrap()));
        Ok(())
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    delivery: Delivery,
    notify: Notifications,
    topic: Arc<Topic>,
    objects: Arc<dyn ObjectStore>,
    clock: ManualClock,
    arn: String,
}

fn fixture(topic_name: Option<&str>) -> Fixture {
    let s = crate::testkit::stores(false);
    let mut t = s.trails.get(&s.arn).unwrap().unwrap();
    t.sns_topic_name = topic_name.map(str::to_owned);
    s.trails.put(&t).unwrap();
    let clock = ManualClock::new(START_MS);
    let sink = crate::sink::EmbeddedSink {
        objects: Arc::clone(&s.objects),
        gate: Arc::new(AllowAll),
        clock: Arc::new(clock.clone()),
    };
    let topic = Arc::new(Topic::default());
    Fixture {
        delivery: Delivery {
            journal: s.journal,
            trails: Arc::clone(&s.trails),
            organizations: s.organizations,
            sink: Arc::new(sink),
            clock: Arc::new(clock.clone()),
            backoff: Default::default(),
            planned: Default::default(),
        },
        notify: Notifications {
            trails: s.trails,
            notifier: topic.clone(),
            clock: Arc::new(clock.clone()),
            backoff: Default::default(),
        },
        topic,
        objects: s.objects,
        clock,
        arn: s.arn,
        _dir: s.dir,
    }
}

fn append(f: &Fixture, regions: &[&str]) {
    let batch: Vec<Vec<u8>> = regions
        .iter()
        .enumerate()
        .map(|(i, region)| {
            let r = json!({"eventVersion":"1.11","eventID":format!("e{i}"),"eventName":"DescribeTrails",
                           "eventSource":"cloudtrail.amazonaws.com","awsRegion":region,
                           "eventCategory":"Management","readOnly":true});
            Entry {
                kind: EntryKind::Recorded,
                account: ACCT.into(),
                record: serde_json::to_vec(&r).unwrap(),
                served: None,
            }
            .encode()
        })
        .collect();
    f.delivery.journal.append(batch).wait_blocking().unwrap();
}

fn keys_in_bucket(f: &Fixture) -> Vec<String> {
    let page = f
        .objects
        .list(&cairn_store::objects::ListQuery {
            bucket: "logs".into(),
            max_keys: 1000,
            ..Default::default()
        })
        .unwrap();
    page.contents.iter().map(|o| o.key.clone()).collect()
}

#[test]
fn the_message_is_awss_compact_json() {
    assert_eq!(
        message("b", &["AWSLogs/1/CloudTrail/r/k.json.gz"]),
        r#"{"s3Bucket":"b","s3ObjectKey":["AWSLogs/1/CloudTrail/r/k.json.gz"]}"#
    );
}

#[test]
fn written_files_are_notified_once_even_after_a_stop_before_sending() {
    let f = fixture(Some("topic"));
    append(&f, &["us-east-1", "eu-west-1"]);
    assert_eq!(f.delivery.run_once().unwrap().written_files, 2);
    // Written but not sent yet (as if cairn stopped here): the notices wait in the store.
    assert_eq!(f.delivery.trails.pending_notices().unwrap().len(), 2);
    let r = f.notify.run_once().unwrap();
    assert_eq!((r.sent, r.failed, r.dropped), (1, 0, 0));
    let sent = f.topic.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "topic");
    assert_eq!(sent[0].1["s3Bucket"], "logs");
    let mut listed: Vec<String> = sent[0].1["s3ObjectKey"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    let mut written = keys_in_bucket(&f);
    written.sort();
    assert_eq!(listed, written);
    // Sent: not again.
    assert_eq!(f.notify.run_once().unwrap(), NotifyReport::default());
    assert_eq!(f.topic.sent.lock().unwrap().len(), 1);
    let st = f.delivery.trails.notify_status(&f.arn).unwrap();
    assert_eq!((st.latest_ms, st.latest_error), (Some(START_MS), None));
}

#[test]
fn a_refusing_topic_is_reported_and_retried_later() {
    let f = fixture(Some("topic"));
    append(&f, &["us-east-1"]);
    f.delivery.run_once().unwrap();
    *f.topic.refuse.lock().unwrap() = Some("NotFound".into());
    let r = f.notify.run_once().unwrap();
    assert_eq!((r.sent, r.failed), (0, 1));
    let st = f.delivery.trails.notify_status(&f.arn).unwrap();
    assert_eq!(st.latest_error.as_deref(), Some("NotFound"));
    assert_eq!((st.attempt_ms, st.latest_ms), (Some(START_MS), None));
    // The topic is back, but the trail waits out its backoff first.
    *f.topic.refuse.lock().unwrap() = None;
    assert_eq!(f.notify.run_once().unwrap().sent, 0);
    f.clock.advance_millis(10 * 60 * 1000);
    assert_eq!(f.notify.run_once().unwrap().sent, 1);
    let st = f.delivery.trails.notify_status(&f.arn).unwrap();
    assert_eq!(st.latest_error, None);
    assert_eq!(st.latest_ms, Some(START_MS + 10 * 60 * 1000));
    assert!(f.delivery.trails.pending_notices().unwrap().is_empty());
}

#[test]
fn no_topic_no_notices_and_a_cleared_topic_drops_them() {
    let f = fixture(None);
    append(&f, &["us-east-1"]);
    assert_eq!(f.delivery.run_once().unwrap().written_files, 1);
    assert!(f.delivery.trails.pending_notices().unwrap().is_empty());

    let f = fixture(Some("topic"));
    append(&f, &["us-east-1"]);
    f.delivery.run_once().unwrap();
    let mut t = f.delivery.trails.get(&f.arn).unwrap().unwrap();
    t.sns_topic_name = None;
    f.delivery.trails.put(&t).unwrap();
    let r = f.notify.run_once().unwrap();
    assert_eq!((r.sent, r.dropped), (0, 1));
    assert!(f.topic.sent.lock().unwrap().is_empty());
    assert!(f.delivery.trails.pending_notices().unwrap().is_empty());
}
