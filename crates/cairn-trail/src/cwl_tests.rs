use std::sync::Mutex;

use cairn_model::ManualClock;
use serde_json::json;

use super::*;
use crate::testkit::ACCT;

/// A log group in memory. `lose_answer` makes the next write land but fail, as a crash right
/// after PutLogEvents would look to delivery; `refuse` makes writes fail outright.
#[derive(Default)]
struct Group {
    events: Mutex<Vec<CwlEvent>>,
    lose_answer: Mutex<bool>,
    refuse: Mutex<Option<String>>,
    puts: Mutex<Vec<usize>>,
}

impl CwlSink for Group {
    fn already_there(
        &self,
        _: &Trail,
        _: &str,
        from: i64,
        to: i64,
    ) -> Result<HashSet<String>, String> {
        Ok(self
            .events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.timestamp >= from && e.timestamp <= to)
            .map(|e| e.event_id.clone())
            .collect())
    }

    fn put(&self, _: &Trail, account: &str, events: &[CwlEvent]) -> Result<(), String> {
        assert!(events.iter().all(|e| e.account == account));
        if let Some(e) = self.refuse.lock().unwrap().clone() {
            return Err(e);
        }
        assert!(events.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
        self.events.lock().unwrap().extend_from_slice(events);
        self.puts.lock().unwrap().push(events.len());
        if std::mem::take(&mut *self.lose_answer.lock().unwrap()) {
            return Err("connection lost".into());
        }
        Ok(())
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    d: CwlDelivery,
    group: Arc<Group>,
    clock: ManualClock,
    arn: String,
}

fn fixture() -> Fixture {
    let crate::testkit::Stores {
        dir,
        journal,
        trails,
        organizations,
        arn,
        ..
    } = crate::testkit::stores(false);
    let mut t = trails.get(&arn).unwrap().unwrap();
    t.cw_log_group_arn = Some(format!("arn:aws:logs:us-east-1:{ACCT}:log-group:ct:*"));
    t.cw_role_arn = Some(format!("arn:aws:iam::{ACCT}:role/ct"));
    trails.put(&t).unwrap();
    trails.set_cwl_state(&arn, &CwlState::default()).unwrap();
    let clock = ManualClock::new(crate::testkit::START_MS);
    let group = Arc::new(Group::default());
    let d = CwlDelivery {
        journal,
        trails,
        organizations,
        sink: Arc::clone(&group) as Arc<dyn CwlSink>,
        clock: Arc::new(clock.clone()),
        backoff: Backoff::default(),
    };
    Fixture {
        _dir: dir,
        d,
        group,
        clock,
        arn,
    }
}

/// A record whose eventTime is `secs` seconds into 2015-08-01.
fn record(i: usize, secs: i64, pad: usize) -> Vec<u8> {
    let r = json!({"eventVersion":"1.11","eventID":format!("e{i}"),"eventName":"DescribeTrails",
                   "eventTime": timefmt::event_time(crate::testkit::START_MS + secs * 1000),
                   "eventSource":"cloudtrail.amazonaws.com","awsRegion":"us-east-1",
                   "eventCategory":"Management","readOnly":true,"requestParameters":{"pad":"x".repeat(pad)}});
    Entry {
        kind: EntryKind::Recorded,
        account: ACCT.into(),
        record: serde_json::to_vec(&r).unwrap(),
        served: None,
    }
    .encode()
}

fn append(f: &Fixture, records: Vec<Vec<u8>>) {
    f.d.journal.append(records).wait_blocking().unwrap();
}

fn ids(f: &Fixture) -> Vec<String> {
    let mut v: Vec<String> = f
        .group
        .events
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.event_id.clone())
        .collect();
    v.sort();
    v
}

#[test]
fn each_record_becomes_one_event_with_its_time_in_order() {
    let f = fixture();
    // Out of time order in the journal: the batch is sorted.
    append(&f, vec![record(0, 5, 0), record(1, 3, 0), record(2, 4, 0)]);
    let r = f.d.run_once().unwrap();
    assert_eq!((r.batches, r.events, r.failed), (1, 3, 0));
    let got = f.group.events.lock().unwrap().clone();
    let order: Vec<&str> = got.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(order, ["e1", "e2", "e0"]);
    assert_eq!(got[0].timestamp, crate::testkit::START_MS + 3000);
    // The message is the record exactly as journaled (and as the log file has it).
    let raw = f.d.journal.read_from(0, 1 << 20).unwrap().0;
    let first = Entry::decode(raw[0].0, &raw[0].1).unwrap().record;
    assert_eq!(got[2].message.as_bytes(), &first[..]);
    // Nothing new: nothing written again.
    assert_eq!(f.d.run_once().unwrap().events, 0);
    assert_eq!(ids(&f).len(), 3);
}

#[test]
fn a_write_that_landed_but_was_not_acknowledged_is_not_repeated() {
    let f = fixture();
    append(&f, (0..5).map(|i| record(i, i as i64, 0)).collect());
    *f.group.lose_answer.lock().unwrap() = true;
    let r = f.d.run_once().unwrap();
    assert_eq!(r.failed, 1);
    let st = f.d.trails.cwl_state(&f.arn).unwrap().unwrap();
    assert!(st.in_flight);
    assert_eq!(st.latest_error.as_deref(), Some("connection lost"));
    append(&f, vec![record(5, 5, 0)]);
    f.clock.advance_millis(10 * 60 * 1000);
    let r = f.d.run_once().unwrap();
    assert_eq!(r.failed, 0);
    assert_eq!(ids(&f), ["e0", "e1", "e2", "e3", "e4", "e5"]);
    let st = f.d.trails.cwl_state(&f.arn).unwrap().unwrap();
    assert!(!st.in_flight);
    assert_eq!(st.latest_error, None);
    assert_eq!(st.latest_ms, Some(f.clock.now_millis()));
}

#[test]
fn failures_are_reported_and_delivery_resumes_when_fixed() {
    let f = fixture();
    append(&f, vec![record(0, 0, 0)]);
    *f.group.refuse.lock().unwrap() = Some("AccessDeniedException".into());
    f.d.run_once().unwrap();
    let st = f.d.trails.cwl_state(&f.arn).unwrap().unwrap();
    assert_eq!(st.latest_error.as_deref(), Some("AccessDeniedException"));
    assert_eq!(st.cursor, 0);
    assert!(ids(&f).is_empty());
    *f.group.refuse.lock().unwrap() = None;
    // Backoff: not retried at once.
    assert_eq!(f.d.run_once().unwrap().events, 0);
    f.clock.advance_millis(10 * 60 * 1000);
    assert_eq!(f.d.run_once().unwrap().events, 1);
    assert_eq!(ids(&f), ["e0"]);
}

#[test]
fn batches_keep_within_put_log_events_limits() {
    let f = fixture();
    // 30 records of ~100 KB: at most 10 fit in a megabyte.
    append(&f, (0..30).map(|i| record(i, i as i64, 100_000)).collect());
    // Two records a day apart never share a batch.
    append(&f, vec![record(30, 40, 0), record(31, 40 + 86_400, 0)]);
    let r = f.d.run_once().unwrap();
    assert_eq!(r.events, 32);
    let puts = f.group.puts.lock().unwrap().clone();
    // Ten big records fill a megabyte; the small one the day before joins the last ten.
    assert_eq!(puts, [10, 10, 11, 1]);
    assert_eq!(ids(&f).len(), 32);
}

#[test]
fn oversized_records_and_trails_without_a_group_are_skipped() {
    let f = fixture();
    append(&f, vec![record(0, 0, MAX_EVENT_BYTES), record(1, 1, 0)]);
    f.d.run_once().unwrap();
    assert_eq!(ids(&f), ["e1"]);
    let mut t = f.d.trails.get(&f.arn).unwrap().unwrap();
    t.cw_log_group_arn = None;
    f.d.trails.put(&t).unwrap();
    append(&f, vec![record(2, 2, 0)]);
    assert_eq!(f.d.run_once().unwrap().events, 0);
}
