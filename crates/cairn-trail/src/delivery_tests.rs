use std::io::Read;

use cairn_model::ManualClock;
use serde_json::json;

use super::*;
use cairn_store::objects::ObjectStore;

use crate::testkit::ACCT;

struct AllowAll;
impl BucketGate for AllowAll {
    fn may_write(&self, _: Option<&str>, _: &Trail, _: &str) -> bool {
        true
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    d: Delivery,
    objects: Arc<dyn ObjectStore>,
    clock: ManualClock,
}

fn fixture() -> Fixture {
    let crate::testkit::Stores {
        dir,
        journal,
        trails,
        organizations,
        objects,
        ..
    } = crate::testkit::stores(false);
    let clock = ManualClock::new(crate::testkit::START_MS);
    let sink = crate::sink::EmbeddedSink {
        objects: Arc::clone(&objects),
        gate: Arc::new(AllowAll),
        clock: Arc::new(clock.clone()),
    };
    let d = Delivery {
        journal,
        trails,
        organizations,
        sink: Arc::new(sink),
        clock: Arc::new(clock.clone()),
        backoff: Default::default(),
        planned: Default::default(),
    };
    Fixture {
        _dir: dir,
        d,
        objects,
        clock,
    }
}

fn record(i: usize, region: &str) -> Vec<u8> {
    let r = json!({"eventVersion":"1.11","eventID":format!("e{i}"),"eventName":"DescribeTrails","eventSource":"cloudtrail.amazonaws.com",
                   "awsRegion":region,"eventCategory":"Management","readOnly":true,"requestParameters":null});
    Entry {
        kind: EntryKind::Recorded,
        account: ACCT.into(),
        record: serde_json::to_vec(&r).unwrap(),
        served: None,
    }
    .encode()
}

fn delivered(f: &Fixture) -> Vec<(String, Vec<Value>)> {
    let page = f
        .objects
        .list(&cairn_store::objects::ListQuery {
            bucket: "logs".into(),
            max_keys: 1000,
            ..Default::default()
        })
        .unwrap();
    page.contents
        .iter()
        .map(|o| {
            let body = f.objects.read_body(o, None).unwrap();
            let mut s = String::new();
            flate2::read::GzDecoder::new(&body[..])
                .read_to_string(&mut s)
                .unwrap();
            let v: Value = serde_json::from_str(&s).unwrap();
            (o.key.clone(), v["Records"].as_array().unwrap().clone())
        })
        .collect()
}

#[test]
fn delivers_each_event_once_per_region_at_aws_keys() {
    let f = fixture();
    let batch: Vec<Vec<u8>> = (0..6)
        .map(|i| record(i, ["us-east-1", "eu-west-1", "ap-south-1"][i % 3]))
        .collect();
    f.d.journal.append(batch).wait_blocking().unwrap();
    let r = f.d.run_once().unwrap();
    assert_eq!(
        (r.planned_files, r.written_files, r.written_records),
        (3, 3, 6)
    );
    let files = delivered(&f);
    assert_eq!(files.len(), 3);
    for (key, records) in &files {
        let region = records[0]["awsRegion"].as_str().unwrap();
        let prefix = format!(
            "pre/AWSLogs/{ACCT}/CloudTrail/{region}/2015/08/01/{ACCT}_CloudTrail_{region}_20150801T0205Z_"
        );
        assert!(
            key.starts_with(&prefix) && key.ends_with(".json.gz"),
            "{key}"
        );
        assert_eq!(records.len(), 2);
    }
    // Nothing new: nothing more.
    assert_eq!(f.d.run_once().unwrap(), RoundReport::default());
    let status =
        f.d.trails
            .status(&format!("arn:aws:cloudtrail:us-east-1:{ACCT}:trail/t"))
            .unwrap();
    assert_eq!(status.latest_delivery_ms, Some(1_438_394_700_000));
}

#[test]
fn failed_writes_are_retried_under_the_same_key_and_lose_nothing() {
    let f = fixture();
    f.d.journal
        .append((0..4).map(|i| record(i, "us-east-1")).collect())
        .wait_blocking()
        .unwrap();
    f.objects.delete_bucket("logs").unwrap();
    let r = f.d.run_once().unwrap();
    assert_eq!(
        (r.planned_files, r.written_files, r.failed_files),
        (1, 0, 1)
    );
    let arn = format!("arn:aws:cloudtrail:us-east-1:{ACCT}:trail/t");
    assert_eq!(
        f.d.trails
            .status(&arn)
            .unwrap()
            .latest_delivery_error
            .as_deref(),
        Some("NoSuchBucket")
    );
    let planned_key = f.d.trails.pending_plans().unwrap()[0].key.clone();
    // Backoff: the trail is not tried again before its first retry delay.
    f.clock.advance_millis(crate::backoff::FIRST_RETRY_MS - 1);
    let r = f.d.run_once().unwrap();
    assert_eq!((r.failed_files, r.deferred_files), (0, 1));
    // More activity while the bucket is missing: once due, one failure stops the trail's
    // other files for the round.
    f.d.journal
        .append(vec![record(9, "us-east-1")])
        .wait_blocking()
        .unwrap();
    f.clock.advance_millis(1);
    let r = f.d.run_once().unwrap();
    assert_eq!(
        (r.planned_files, r.failed_files, r.deferred_files),
        (1, 1, 1)
    );
    f.clock.advance_millis(120_000);
    f.objects
        .create_bucket("logs", ACCT, "us-east-1", 0)
        .unwrap();
    let r = f.d.run_once().unwrap();
    assert_eq!(r.written_records, 5);
    let files = delivered(&f);
    assert!(
        files.iter().any(|(k, _)| k == &planned_key),
        "the retried file keeps its planned key"
    );
    let mut ids: Vec<String> = files
        .iter()
        .flat_map(|(_, rs)| rs.iter().map(|r| r["eventID"].as_str().unwrap().to_owned()))
        .collect();
    ids.sort();
    assert_eq!(ids, vec!["e0", "e1", "e2", "e3", "e9"]);
    assert_eq!(f.d.trails.status(&arn).unwrap().latest_delivery_error, None);
}

#[test]
fn stopped_trails_and_imported_records_are_not_delivered() {
    let f = fixture();
    let arn = format!("arn:aws:cloudtrail:us-east-1:{ACCT}:trail/t");
    f.d.journal
        .append(vec![record(0, "us-east-1")])
        .wait_blocking()
        .unwrap();
    let mut t = f.d.trails.get(&arn).unwrap().unwrap();
    t.logging_ranges = vec![(0, Some(f.d.journal.head()))];
    f.d.trails.put(&t).unwrap();
    f.d.journal
        .append(vec![record(1, "us-east-1")])
        .wait_blocking()
        .unwrap();
    let imported = Entry {
        kind: EntryKind::Imported,
        account: ACCT.into(),
        record: b"{\"awsRegion\":\"us-east-1\",\"eventCategory\":\"Management\"}".to_vec(),
        served: None,
    };
    f.d.journal
        .append(vec![imported.encode()])
        .wait_blocking()
        .unwrap();
    f.d.run_once().unwrap();
    let ids: Vec<String> = delivered(&f)
        .iter()
        .flat_map(|(_, rs)| {
            rs.iter()
                .map(|r| r["eventID"].as_str().unwrap_or("").to_owned())
        })
        .collect();
    assert_eq!(
        ids,
        vec!["e0"],
        "events from before StopLogging are delivered, later ones are not"
    );
}

fn record_of(i: usize, account: &str) -> Vec<u8> {
    let r = json!({"eventVersion":"1.11","eventID":format!("e{i}"),"eventName":"DescribeTrails","eventSource":"cloudtrail.amazonaws.com",
                   "awsRegion":"us-east-1","eventCategory":"Management","readOnly":true,"recipientAccountId":account});
    Entry {
        kind: EntryKind::Recorded,
        account: account.into(),
        record: serde_json::to_vec(&r).unwrap(),
        served: None,
    }
    .encode()
}

#[test]
fn an_organization_trail_delivers_each_member_account_apart() {
    use cairn_store::organizations::{Member, Organization};
    let f = fixture();
    let member = |id: &str| Member {
        id: id.into(),
        ..Member::default()
    };
    f.d.organizations
        .save(&Organization {
            id: "o-exampleorg1".into(),
            management_account: ACCT.into(),
            feature_set: "ALL".into(),
            accounts: vec![member(ACCT), member("222222222222")],
            ..Organization::default()
        })
        .unwrap();
    let arn = format!("arn:aws:cloudtrail:us-east-1:{ACCT}:trail/t");
    let mut t = f.d.trails.get(&arn).unwrap().unwrap();
    t.organization = true;
    f.d.trails.put(&t).unwrap();
    let batch = vec![
        record_of(0, ACCT),
        record_of(1, "222222222222"),
        record_of(2, "222222222222"),
        record_of(3, "333333333333"),
    ];
    f.d.journal.append(batch).wait_blocking().unwrap();
    let r = f.d.run_once().unwrap();
    assert_eq!(
        (r.written_files, r.written_records),
        (2, 3),
        "the outsider's record is not taken"
    );
    for (key, records) in delivered(&f) {
        let account = records[0]["recipientAccountId"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            records
                .iter()
                .all(|r| r["recipientAccountId"] == account.as_str())
        );
        let prefix = format!(
            "pre/AWSLogs/o-exampleorg1/{account}/CloudTrail/us-east-1/2015/08/01/{account}_CloudTrail_us-east-1_"
        );
        assert!(key.starts_with(&prefix), "{key}");
    }
    // A plain trail again: its own account's records only, at the plain keys.
    t.organization = false;
    f.d.trails.put(&t).unwrap();
    f.d.journal
        .append(vec![record_of(4, ACCT), record_of(5, "222222222222")])
        .wait_blocking()
        .unwrap();
    let r = f.d.run_once().unwrap();
    assert_eq!((r.written_files, r.written_records), (1, 1));
}
