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
