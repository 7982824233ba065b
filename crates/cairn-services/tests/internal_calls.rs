//! CloudTrail's calls to S3 and KMS, in process: CreateTrail's checks are decided by the real
//! bucket and key policies through the pipeline and leave no record (AWS shows none), and a
//! delivery round's GetBucketAcl, GenerateDataKey and PutObject are recorded as AWS records
//! them, each round's records going to the next round's file.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use cairn_services::cloudtrail::delivery::TrailWrites;
use cairn_services::testing::TestApp;
use cairn_store::objects::{BucketConfig, ListQuery};
use cairn_store::trails::Trail;
use cairn_trail::delivery::{Delivery, RoundReport};
use cairn_trail::sink::{LogSink, TrailObject};
use serde_json::{Value, json};

const BUCKET: &str = "ct-internal";

fn trail_arn(t: &TestApp, name: &str) -> String {
    format!("arn:aws:cloudtrail:us-east-1:{}:trail/{name}", t.account)
}

/// A bucket with the User Guide's policy, for trails whose ARN matches `source`.
fn bucket_with_policy(t: &TestApp, source: &str) {
    if t.app.objects.bucket(BUCKET).unwrap().is_none() {
        t.app
            .objects
            .create_bucket(BUCKET, &t.account, "us-east-1", 1)
            .unwrap();
    }
    let condition = json!({"StringLike": {"aws:SourceArn": source}});
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": format!("arn:aws:s3:::{BUCKET}"), "Condition": condition},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{BUCKET}/AWSLogs/{}/*", t.account),
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"},
                       "StringLike": {"aws:SourceArn": source}}}]});
    t.app
        .objects
        .set_bucket_config(BUCKET, BucketConfig::Policy, Some(&policy.to_string()))
        .unwrap();
}

/// A key CloudTrail may make data keys under for this account's trails (AWS's documented
/// statement, which tests the encryption context and the trail as `aws:SourceArn`).
fn trail_key(t: &TestApp) -> (String, String) {
    let account = &t.account;
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
         "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "kms:GenerateDataKey*", "Resource": "*",
         "Condition": {"StringLike": {
             "kms:EncryptionContext:aws:cloudtrail:arn": format!("arn:aws:cloudtrail:*:{account}:trail/*"),
             "aws:SourceArn": format!("arn:aws:cloudtrail:*:{account}:trail/*")}}}]});
    let made = t
        .call("kms", "CreateKey", json!({"Policy": policy.to_string()}))
        .unwrap();
    let m = &made["KeyMetadata"];
    (
        m["KeyId"].as_str().unwrap().to_owned(),
        m["Arn"].as_str().unwrap().to_owned(),
    )
}

fn code_of(t: &TestApp, input: Value) -> String {
    t.call("cloudtrail", "CreateTrail", input)
        .unwrap_err()
        .code
        .to_string()
}

fn by_cloudtrail(records: &[Value]) -> Vec<&Value> {
    records
        .iter()
        .filter(|r| r["userIdentity"]["invokedBy"] == "cloudtrail.amazonaws.com")
        .collect()
}

#[test]
fn create_trail_checks_are_decided_by_policies_and_leave_no_record() {
    let t = TestApp::new().unwrap();
    let arn = trail_arn(&t, "checked");
    let create = |extra: Value| {
        let mut input = json!({"Name": "checked", "S3BucketName": BUCKET});
        if let (Value::Object(m), Value::Object(x)) = (&mut input, extra) {
            m.extend(x);
        }
        input
    };
    assert_eq!(
        code_of(&t, create(json!({}))),
        "S3BucketDoesNotExistException"
    );
    // A policy for another trail: aws:SourceArn reaches the bucket policy through the pipeline.
    bucket_with_policy(&t, &trail_arn(&t, "other"));
    let e = t
        .call("cloudtrail", "CreateTrail", create(json!({})))
        .unwrap_err();
    assert_eq!(e.code, "InsufficientS3BucketPolicyException");
    assert_eq!(
        e.message,
        format!("Incorrect S3 bucket policy is detected for bucket: {BUCKET}")
    );
    // The trail's own ARN: the ACL read and the write are allowed.
    bucket_with_policy(&t, &arn);
    let bare = t.call("kms", "CreateKey", json!({})).unwrap()["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let e = t
        .call(
            "cloudtrail",
            "CreateTrail",
            create(json!({"KmsKeyId": bare})),
        )
        .unwrap_err();
    assert_eq!(e.code, "InsufficientEncryptionPolicyException");
    assert!(
        e.message.starts_with(&format!(
            "Insufficient permissions to access S3 bucket {BUCKET} or KMS key arn:aws:kms:us-east-1:"
        )),
        "{}",
        e.message
    );
    assert_eq!(
        code_of(&t, create(json!({"KmsKeyId": "alias/none"}))),
        "KmsKeyNotFoundException"
    );
    let (key_id, key_arn) = trail_key(&t);
    let made = t
        .call(
            "cloudtrail",
            "CreateTrail",
            create(json!({"KmsKeyId": key_id})),
        )
        .unwrap();
    assert_eq!(made["KmsKeyId"], key_arn.as_str());

    // AWS shows no event for CreateTrail's checks: only the callers' own calls are recorded.
    let records = t.records();
    assert!(by_cloudtrail(&records).is_empty(), "{records:#?}");
    let names: Vec<_> = records
        .iter()
        .map(|r| r["eventName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "CreateTrail",
            "CreateTrail",
            "CreateKey",
            "CreateTrail",
            "CreateTrail",
            "CreateKey",
            "CreateTrail"
        ]
    );
}

/// Trail delivery into the embedded S3 as `cairn serve` wires it (one writer for every round:
/// it remembers when it last checked each bucket's ACL).
fn delivery(t: &TestApp) -> Arc<Delivery> {
    delivery_with(t, Arc::new(TrailWrites::new(Arc::clone(&t.app))))
}

fn delivery_with(t: &TestApp, sink: Arc<dyn LogSink>) -> Arc<Delivery> {
    Arc::new(Delivery {
        journal: t.app.journal.clone(),
        trails: Arc::clone(&t.app.trails),
        organizations: Arc::clone(&t.app.organizations),
        sink,
        clock: Arc::clone(&t.app.clock),
        backoff: Default::default(),
        planned: Default::default(),
    })
}

/// Runs one delivery round on a blocking thread of a runtime, as the server runs it.
fn round(delivery: &Arc<Delivery>) -> RoundReport {
    let delivery = Arc::clone(delivery);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        tokio::task::spawn_blocking(move || delivery.run_once())
            .await
            .unwrap()
    })
    .unwrap()
}

/// The real record with this eventID, if the corpus is at hand.
fn real_record(event_id: &str) -> Option<Value> {
    let path = std::env::var("CAIRN_REAL_DATA")
        .unwrap_or_else(|_| "/work/shared/data/cloudtrail-real".to_owned());
    let f = std::fs::File::open(format!("{path}/records.jsonl.gz")).ok()?;
    let lines = std::io::BufReader::new(flate2::read::GzDecoder::new(f)).lines();
    lines
        .map_while(Result::ok)
        .filter(|l| l.contains(event_id))
        .find_map(|l| serde_json::from_str(&l).ok())
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<_> = v
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    k.sort_unstable();
    k
}

#[test]
fn deliveries_record_cloudtrails_own_calls_in_the_next_round() {
    let t = TestApp::new().unwrap();
    let arn = trail_arn(&t, "sealed");
    bucket_with_policy(&t, &arn);
    let (key_id, key_arn) = trail_key(&t);
    t.call(
        "cloudtrail",
        "CreateTrail",
        json!({"Name": "sealed", "S3BucketName": BUCKET, "KmsKeyId": key_id}),
    )
    .unwrap();
    t.call("cloudtrail", "StartLogging", json!({"Name": "sealed"}))
        .unwrap();
    let before = t.records().len();

    let delivery = delivery(&t);
    let first = round(&delivery);
    assert_eq!((first.written_files, first.failed_files), (1, 0));
    let records = t.records();
    let own: Vec<_> = records[before..].iter().collect();
    let names: Vec<_> = own
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r["eventSource"].as_str().unwrap(),
                r["eventName"].as_str().unwrap()
            )
        })
        .collect();
    // In AWS's order: the ACL check, the data key, the write.
    assert_eq!(
        names,
        [
            "s3.amazonaws.com:GetBucketAcl",
            "kms.amazonaws.com:GenerateDataKey",
            "s3.amazonaws.com:PutObject"
        ]
    );
    for r in &own {
        assert_eq!(
            r["userIdentity"],
            json!({"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"})
        );
        assert_eq!(r["sourceIPAddress"], "cloudtrail.amazonaws.com");
        assert_eq!(r["userAgent"], "cloudtrail.amazonaws.com");
        assert_eq!(r["recipientAccountId"], t.account.as_str());
        assert!(r.get("sharedEventID").is_some() && r.get("tlsDetails").is_none());
        assert!(r.get("errorCode").is_none(), "{r:#}");
    }
    let (acl, data_key, put) = (own[0], own[1], own[2]);
    let object = put["requestParameters"]["key"].as_str().unwrap();
    assert_eq!(
        data_key["requestParameters"],
        json!({"keyId": key_arn, "keySpec": "AES_256", "encryptionContext": {
            "aws:cloudtrail:arn": arn, "aws:s3:arn": format!("arn:aws:s3:::{BUCKET}/{object}")}})
    );
    assert_eq!(
        data_key["resources"],
        json!([{"accountId": t.account, "type": "AWS::KMS::Key", "ARN": key_arn}])
    );
    assert_eq!(data_key["readOnly"], true);
    assert_eq!(data_key["managementEvent"], true);
    assert_eq!(acl["requestParameters"]["acl"], "");
    assert_eq!(
        acl["requestParameters"]["Host"],
        format!("{BUCKET}.s3.us-east-1.amazonaws.com")
    );
    assert_eq!(put["eventCategory"], "Data");
    assert_eq!(
        put["requestParameters"]["x-amz-acl"],
        "bucket-owner-full-control"
    );
    assert_eq!(
        put["responseElements"]["x-amz-server-side-encryption-aws-kms-key-id"],
        key_arn.as_str()
    );

    // Field by field against AWS's own records of CloudTrail's calls (opensearch-catalog
    // samples-large.json), where the corpus is at hand.
    if let (Some(real_acl), Some(real_key)) = (
        real_record("8e6ffb2a-af42-47e6-9da9-8d90adbdc937"),
        real_record("139bde74-a3a8-4016-be18-e72c16f0cf3b"),
    ) {
        assert_eq!(keys(acl), keys(&real_acl));
        assert_eq!(keys(data_key), keys(&real_key));
        for f in [
            "userIdentity",
            "sourceIPAddress",
            "userAgent",
            "readOnly",
            "eventType",
        ] {
            assert_eq!(acl[f], real_acl[f], "{f}");
            assert_eq!(data_key[f], real_key[f], "{f}");
        }
        assert_eq!(
            keys(&acl["requestParameters"]),
            keys(&real_acl["requestParameters"])
        );
        assert_eq!(
            keys(&data_key["requestParameters"]),
            keys(&real_key["requestParameters"])
        );
        assert_eq!(
            keys(&data_key["requestParameters"]["encryptionContext"]),
            keys(&real_key["requestParameters"]["encryptionContext"])
        );
        // CipherSuite is TLS's; the embedded S3 is spoken to over plain HTTP.
        let mut real_extra = keys(&real_acl["additionalEventData"]);
        real_extra.retain(|k| *k != "CipherSuite");
        assert_eq!(keys(&acl["additionalEventData"]), real_extra);
    }

    // The round's own management records (the ACL check and the data key) go to the next
    // round's file, not this one's; the data event goes to no trail (none selects it). Each
    // later round carries the previous round's data key, one file a round: no tight loop.
    let second = round(&delivery);
    assert_eq!((second.written_files, second.written_records), (1, 2));
    let third = round(&delivery);
    assert_eq!((third.written_files, third.written_records), (1, 1));
    let after = t.records().len();
    assert_eq!(by_cloudtrail(&t.records()).len(), 3 + 2 + 2);
    assert_eq!(after, before + 7);
}

/// CloudTrail's writer, made to fail once right after its write went through: as if cairn
/// stopped between writing a log file and marking it written.
struct CrashAfterWrite {
    inner: TrailWrites,
    crash: AtomicBool,
}

impl LogSink for CrashAfterWrite {
    fn put(&self, trail: &Trail, obj: &TrailObject<'_>) -> Result<(), String> {
        self.inner.put(trail, obj)?;
        if self.crash.swap(false, Ordering::SeqCst) {
            return Err("stopped before the file was marked written".to_owned());
        }
        Ok(())
    }
}

/// The event IDs of every log file in the bucket, by key.
fn delivered(t: &TestApp) -> Vec<(String, Vec<String>)> {
    let listed = t
        .app
        .objects
        .list(&ListQuery {
            bucket: BUCKET.to_owned(),
            prefix: String::new(),
            delimiter: None,
            after: None,
            max_keys: 1000,
        })
        .unwrap();
    listed
        .contents
        .into_iter()
        .filter(|o| o.key.contains("/CloudTrail/"))
        .map(|o| {
            let gz = t.app.objects.read_body(&o, None).unwrap();
            let mut json = String::new();
            flate2::read::GzDecoder::new(&gz[..])
                .read_to_string(&mut json)
                .unwrap();
            let body: Value = serde_json::from_str(&json).unwrap();
            let ids = body["Records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["eventID"].as_str().unwrap().to_owned())
                .collect();
            (o.key, ids)
        })
        .collect()
}

#[test]
fn a_write_interrupted_before_its_bookkeeping_is_made_again_and_events_stay_exactly_once() {
    let t = TestApp::new().unwrap();
    let arn = trail_arn(&t, "steady");
    bucket_with_policy(&t, &arn);
    t.call(
        "cloudtrail",
        "CreateTrail",
        json!({"Name": "steady", "S3BucketName": BUCKET}),
    )
    .unwrap();
    t.call("cloudtrail", "StartLogging", json!({"Name": "steady"}))
        .unwrap();
    let crashing = delivery_with(
        &t,
        Arc::new(CrashAfterWrite {
            inner: TrailWrites::new(Arc::clone(&t.app)),
            crash: AtomicBool::new(true),
        }),
    );
    let first = round(&crashing);
    assert_eq!((first.written_files, first.failed_files), (0, 1));
    let before = delivered(&t);
    assert_eq!(before.len(), 1);
    // Its records (the ACL check, the write) are durable: they were recorded before the write
    // answered, whatever happened after.
    let own = by_cloudtrail(&t.records()).len();
    assert_eq!(own, 2);

    // After a restart, the pending file is written again under the same key with the same
    // events, and that second write is recorded like the first (AWS records every PutObject).
    let restarted = delivery(&t);
    let second = round(&restarted);
    assert_eq!(second.failed_files, 0);
    let after = delivered(&t);
    let again = after.iter().find(|(k, _)| *k == before[0].0).unwrap();
    assert_eq!(again.1, before[0].1);
    let mut ids: Vec<_> = after.iter().flat_map(|(_, ids)| ids.clone()).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "each event in exactly one log file");
    let puts = t
        .records()
        .iter()
        .filter(|r| r["eventName"] == "PutObject")
        .count();
    assert_eq!(puts, 1 + second.written_files);
}
