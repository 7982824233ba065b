//! The import worker (StartImport) against a columnar engine that fails part-way, as a crash
//! would: the import resumes after the last committed file and adds no record twice.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use cairn_services::cloudtrail::lake_imports::LakeImports;
use cairn_services::testing::TestApp;
use cairn_store::StoreError;
use cairn_store::journal::Consumer;
use cairn_store::lake::{Answer, Columnar, ColumnarAppend, KeyState, LakeKey, SqlError};
use serde_json::{Value, json};

/// Records by store, committed positions by (store, stream); appends fail while `broken`.
#[derive(Default)]
struct Memory {
    rows: Mutex<BTreeMap<String, Vec<String>>>,
    committed: Mutex<BTreeMap<(String, String), u64>>,
    broken_after: AtomicUsize,
    appends: AtomicUsize,
    broken: AtomicBool,
}

impl Columnar for Memory {
    fn append(
        &self,
        store: &str,
        stream: &str,
        first: u64,
        last: u64,
        records: &mut dyn Iterator<Item = Cow<'_, str>>,
    ) -> Result<ColumnarAppend, StoreError> {
        let n = self.appends.fetch_add(1, Ordering::SeqCst);
        if self.broken.load(Ordering::SeqCst) || n >= self.broken_after.load(Ordering::SeqCst) {
            self.broken.store(true, Ordering::SeqCst);
            return Err(StoreError::Invalid("the disk is gone".into()));
        }
        let key = (store.to_string(), stream.to_string());
        let mut committed = self.committed.lock().expect("lock");
        if committed.get(&key).is_some_and(|c| last <= *c) {
            return Ok(ColumnarAppend {
                already: true,
                ..ColumnarAppend::default()
            });
        }
        assert!(
            committed.get(&key).is_none_or(|c| first == c + 1),
            "ranges follow each other"
        );
        let recs: Vec<String> = records.map(|r| r.into_owned()).collect();
        let n = recs.len() as u64;
        self.rows
            .lock()
            .expect("lock")
            .entry(store.to_string())
            .or_default()
            .extend(recs);
        committed.insert(key, last);
        Ok(ColumnarAppend {
            rows: n,
            ..ColumnarAppend::default()
        })
    }
    fn append_next(
        &self,
        store: &str,
        stream: &str,
        count: u64,
        records: &mut dyn Iterator<Item = Cow<'_, str>>,
    ) -> Result<(u64, ColumnarAppend), StoreError> {
        // One caller at a time in these tests: the position read and taken need no lock.
        let first = self.committed(store, stream)?.unwrap_or(0) + 1;
        let done = self.append(store, stream, first, first + count - 1, records)?;
        Ok((first, done))
    }
    fn committed(&self, store: &str, stream: &str) -> Result<Option<u64>, StoreError> {
        Ok(self
            .committed
            .lock()
            .expect("lock")
            .get(&(store.to_string(), stream.to_string()))
            .copied())
    }
    fn tables_of(&self, _sql: &str) -> Result<Vec<String>, SqlError> {
        Err(SqlError::Invalid("no".into()))
    }
    fn check(&self, _sql: &str) -> Result<(), SqlError> {
        Err(SqlError::Invalid("no".into()))
    }
    fn run(&self, _sql: &str, _cancel: &AtomicBool) -> Result<Answer, SqlError> {
        Err(SqlError::Failed("no".into()))
    }
    fn remove(&self, _store: &str) -> Result<(), StoreError> {
        Ok(())
    }
    fn expire(&self, _store: &str, _before_ms: i64) -> Result<(), StoreError> {
        Ok(())
    }
    fn unlock(&self, _store: &str, _key: &LakeKey, _now_ms: i64) -> Result<(), StoreError> {
        Err(StoreError::Invalid("these imports use no KMS keys".into()))
    }
    fn lock(&self, _store: &str, _now_ms: i64) {}
    fn key_state(&self, _store: &str) -> KeyState {
        KeyState::Unset
    }
}

fn gz(records: &[Value]) -> String {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(json!({ "Records": records }).to_string().as_bytes())
        .expect("gzip");
    base64::engine::general_purpose::STANDARD.encode(e.finish().expect("gzip"))
}

#[test]
fn a_broken_append_resumes_after_the_committed_file() {
    let memory = Arc::new(Memory::default());
    // Two batches of 64 files go through, the third fails.
    memory.broken_after.store(2, Ordering::SeqCst);
    let columnar: Arc<dyn Columnar> = memory.clone();
    let t = TestApp::with(|o| o.columnar = Some(columnar)).unwrap();
    t.call("s3", "CreateBucket", json!({"Bucket": "archive"}))
        .unwrap();
    let files = 200;
    for i in 0..files {
        let recs: Vec<Value> = (0..3)
            .map(|j| json!({"eventVersion": "1.08", "eventID": format!("{i}-{j}"), "eventTime": "2024-05-01T10:00:00Z", "eventName": "X"}))
            .collect();
        let key = format!(
            "AWSLogs/{}/CloudTrail/us-east-1/2024/05/01/{}_CloudTrail_us-east-1_20240501T1000Z_{i:04}.json.gz",
            t.account, t.account
        );
        t.call(
            "s3",
            "PutObject",
            json!({"Bucket": "archive", "Key": key, "Body": gz(&recs)}),
        )
        .unwrap();
    }
    // A digest and a file that is not a trail's are left alone.
    t.call("s3", "PutObject", json!({"Bucket": "archive", "Key": format!("AWSLogs/{}/CloudTrail-Digest/us-east-1/2024/05/01/d.json.gz", t.account), "Body": gz(&[])})).unwrap();
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    t.call(
        "iam",
        "CreateRole",
        json!({"RoleName": "reader", "AssumeRolePolicyDocument": trust.to_string()}),
    )
    .unwrap();
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["arn:aws:s3:::archive", "arn:aws:s3:::archive/*"]}]});
    t.call(
        "iam",
        "PutRolePolicy",
        json!({"RoleName": "reader", "PolicyName": "read", "PolicyDocument": policy.to_string()}),
    )
    .unwrap();
    let eds = t
        .call(
            "cloudtrail",
            "CreateEventDataStore",
            json!({"Name": "target", "StartIngestion": false, "TerminationProtectionEnabled": false, "RetentionPeriod": 3653}),
        )
        .unwrap();
    let arn = eds["EventDataStoreArn"].as_str().unwrap().to_string();
    let started = t
        .call(
            "cloudtrail",
            "StartImport",
            json!({"Destinations": [arn], "ImportSource": {"S3": {
                "S3LocationUri": "s3://archive", "S3BucketRegion": "us-east-1",
                "S3BucketAccessRoleArn": format!("arn:aws:iam::{}:role/reader", t.account)}}}),
        )
        .unwrap();
    let id = started["ImportId"].as_str().unwrap().to_string();
    // While it runs, the store cannot be changed or deleted.
    for op in ["UpdateEventDataStore", "DeleteEventDataStore"] {
        let e = t
            .call(
                "cloudtrail",
                op,
                json!({"EventDataStore": arn, "RetentionPeriod": 30}),
            )
            .unwrap_err();
        assert_eq!(e.code, "EventDataStoreHasOngoingImportException", "{op}");
    }
    let mut worker = LakeImports::new(Arc::clone(&t.app));
    worker.retry_after = std::time::Duration::ZERO;
    let worker = Arc::new(worker);
    let round = {
        let w = Arc::clone(&worker);
        move || w.run_due()
    };
    assert!(
        t.run_blocking(round.clone()).unwrap().is_err(),
        "the third append fails"
    );
    let get = |t: &TestApp| {
        t.call("cloudtrail", "GetImport", json!({"ImportId": id}))
            .unwrap()
    };
    let g = get(&t);
    assert_eq!(g["ImportStatus"], "IN_PROGRESS");
    assert_eq!(g["ImportStatistics"]["FilesCompleted"], 128);
    assert_eq!(g["ImportStatistics"]["EventsCompleted"], 384);
    // The disk comes back: the import goes on from file 129.
    memory.broken.store(false, Ordering::SeqCst);
    memory.broken_after.store(usize::MAX, Ordering::SeqCst);
    for _ in 0..10 {
        if get(&t)["ImportStatus"] == "COMPLETED" {
            break;
        }
        t.run_blocking(round.clone()).unwrap().unwrap();
    }
    let g = get(&t);
    assert_eq!(g["ImportStatus"], "COMPLETED", "{g}");
    assert_eq!(g["ImportStatistics"]["FilesCompleted"], files);
    assert_eq!(g["ImportStatistics"]["EventsCompleted"], files * 3);
    assert_eq!(g["ImportStatistics"]["PrefixesFound"], 1);
    let rows = memory.rows.lock().unwrap();
    let mut ids: Vec<String> = rows
        .values()
        .flatten()
        .map(|r| {
            serde_json::from_str::<Value>(r).unwrap()["eventID"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), files as usize * 3);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), files as usize * 3, "no record twice");
    // The worker's reads went to S3 as the role session CloudTrail assumed.
    let gets: Vec<Value> = t
        .records()
        .into_iter()
        .filter(|r| r["eventName"] == "GetObject")
        .collect();
    assert!(!gets.is_empty());
    // One role session for the run, reused across its rounds.
    let assumed = t
        .records()
        .into_iter()
        .filter(|r| {
            r["eventName"] == "AssumeRole"
                && r["userIdentity"]["invokedBy"] == "cloudtrail.amazonaws.com"
        })
        .count();
    assert_eq!(assumed, 1);
    assert!(
        gets.iter()
            .all(|r| r["userIdentity"]["type"] == "AssumedRole"
                && r["userIdentity"]["invokedBy"] == "cloudtrail.amazonaws.com"),
        "{}",
        gets[0]
    );
}
