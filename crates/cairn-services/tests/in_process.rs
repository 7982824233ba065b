//! Services called in process, without HTTP: the same pipeline authorizes, runs and records
//! each call.

#![allow(clippy::unwrap_used)]

use cairn_services::testing::TestApp;
use serde_json::json;

#[test]
fn kms_round_trip_in_process_is_authorized_and_recorded() {
    let t = TestApp::new().unwrap();
    let key = t
        .call("kms", "CreateKey", json!({"Description": "in process"}))
        .unwrap();
    let key_id = key["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
    let sealed = t
        .call(
            "kms",
            "Encrypt",
            json!({"KeyId": key_id, "Plaintext": "aGVsbG8=", "EncryptionContext": {"a": "b"}}),
        )
        .unwrap();
    let opened = t
        .call(
            "kms",
            "Decrypt",
            json!({"CiphertextBlob": sealed["CiphertextBlob"], "EncryptionContext": {"a": "b"}}),
        )
        .unwrap();
    assert_eq!(opened["Plaintext"], "aGVsbG8=");
    // A wrong context fails as KMS fails it, and that is recorded too.
    let e = t
        .call(
            "kms",
            "Decrypt",
            json!({"CiphertextBlob": sealed["CiphertextBlob"]}),
        )
        .unwrap_err();
    assert_eq!(e.code, "InvalidCiphertextException");
    let e = t.call("kms", "NoSuchOperation", json!({})).unwrap_err();
    assert_eq!(e.status, 500);

    let records = t.records();
    let names: Vec<_> = records
        .iter()
        .map(|r| r["eventName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["CreateKey", "Encrypt", "Decrypt", "Decrypt"]);
    for r in &records {
        assert_eq!(r["eventSource"], "kms.amazonaws.com");
        assert_eq!(r["userIdentity"]["type"], "Root");
        assert_eq!(r["recipientAccountId"], t.account.as_str());
        assert_eq!(r["sourceIPAddress"], "127.0.0.1");
        assert!(r["userIdentity"].get("invokedBy").is_none());
        assert!(
            !r.to_string().contains("aGVsbG8="),
            "no plaintext in records"
        );
    }
    assert_eq!(records[3]["errorCode"], "InvalidCiphertextException");
}

#[test]
fn cloudtrail_in_process_answers_its_own_errors() {
    let t = TestApp::new().unwrap();
    let e = t
        .call(
            "cloudtrail",
            "CreateTrail",
            json!({"Name": "lab-trail", "S3BucketName": "no-such-bucket"}),
        )
        .unwrap_err();
    assert_eq!(e.code, "S3BucketDoesNotExistException");
    let trails = t.call("cloudtrail", "DescribeTrails", json!({})).unwrap();
    assert_eq!(trails["trailList"], json!([]));
    let r = t.records();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0]["errorCode"], "S3BucketDoesNotExistException");
    assert_eq!(r[1]["eventName"], "DescribeTrails");
}

#[test]
fn s3_in_process_takes_requests_described_as_json() {
    let t = TestApp::new().unwrap();
    let created = t
        .call("s3", "CreateBucket", json!({"Bucket": "in-process"}))
        .unwrap();
    assert_eq!(created["Status"], 200);
    let put = t
        .call(
            "s3",
            "PutObject",
            json!({"Bucket": "in-process", "Key": "a/b.txt", "Body": "aGVsbG8=",
                   "Headers": {"content-type": "text/plain"}}),
        )
        .unwrap();
    assert_eq!(put["Status"], 200);
    assert!(put["Headers"]["etag"].as_str().unwrap().starts_with('"'));
    let got = t
        .call(
            "s3",
            "GetObject",
            json!({"Bucket": "in-process", "Key": "a/b.txt"}),
        )
        .unwrap();
    assert_eq!(got["Body"], "aGVsbG8=");
    assert_eq!(got["Headers"]["content-type"], "text/plain");
    let listed = t
        .call(
            "s3",
            "ListObjects",
            json!({"Bucket": "in-process", "Query": {"list-type": 2}}),
        )
        .unwrap();
    let xml = String::from_utf8(
        base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            listed["Body"].as_str().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(xml.contains("<Key>a/b.txt</Key>"), "{xml}");
    let e = t
        .call(
            "s3",
            "GetObject",
            json!({"Bucket": "in-process", "Key": "missing"}),
        )
        .unwrap_err();
    assert_eq!((e.status, &*e.code), (404, "NoSuchKey"));
    // A description that is not the operation named is refused, not guessed at.
    let e = t
        .call("s3", "GetObject", json!({"Bucket": "in-process"}))
        .unwrap_err();
    assert_eq!(e.status, 500);

    let records = t.records();
    let names: Vec<_> = records
        .iter()
        .map(|r| r["eventName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "CreateBucket",
            "PutObject",
            "GetObject",
            "ListObjects",
            "GetObject"
        ]
    );
    assert_eq!(records[1]["requestParameters"]["key"], "a/b.txt");
    assert_eq!(records[4]["errorCode"], "NoSuchKey");
    for r in &records {
        assert_eq!(r["eventSource"], "s3.amazonaws.com");
        assert_eq!(r["userIdentity"]["type"], "Root");
    }
}

#[test]
fn iam_and_sts_in_process_take_their_query_parameters() {
    let t = TestApp::new().unwrap();
    let created = t
        .call(
            "iam",
            "CreateUser",
            json!({"UserName": "alice", "Tags.member.1.Key": "team", "Tags.member.1.Value": "audit"}),
        )
        .unwrap();
    assert!(
        created["Xml"]
            .as_str()
            .unwrap()
            .contains("<UserName>alice</UserName>")
    );
    let e = t
        .call("iam", "GetUser", json!({"UserName": "bob"}))
        .unwrap_err();
    assert_eq!(e.code, "NoSuchEntity");
    let me = t.call("sts", "GetCallerIdentity", json!({})).unwrap();
    assert!(me["Xml"].as_str().unwrap().contains(&t.account));
    let records = t.records();
    let names: Vec<_> = records
        .iter()
        .map(|r| {
            (
                r["eventSource"].as_str().unwrap(),
                r["eventName"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("iam.amazonaws.com", "CreateUser"),
            ("iam.amazonaws.com", "GetUser"),
            ("sts.amazonaws.com", "GetCallerIdentity")
        ]
    );
    assert_eq!(records[0]["requestParameters"]["userName"], "alice");
    assert_eq!(records[1]["errorCode"], "NoSuchEntity");
}
