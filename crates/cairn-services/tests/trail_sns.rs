//! A trail's SNS topic, in process: CreateTrail's check is decided by the real topic policy
//! (AWS's default policy is not enough; CloudTrail's statement is) and leaves no record; after
//! a delivery round, the notification round publishes through SNS's API as
//! cloudtrail.amazonaws.com for the trail, recorded as such; a deleted topic is the trail's
//! `LatestNotificationError` and the notice waits for a later round.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use cairn_services::cloudtrail::delivery::TrailWrites;
use cairn_services::cloudtrail::sns_notices::TrailNotices;
use cairn_services::testing::TestApp;
use cairn_store::objects::BucketConfig;
use cairn_trail::delivery::Delivery;
use cairn_trail::notify::{Notifications, NotifyReport};
use serde_json::{Value, json};

const BUCKET: &str = "ct-sns";

fn setup() -> (TestApp, String) {
    let t = TestApp::new().unwrap();
    let arn = format!("arn:aws:cloudtrail:us-east-1:{}:trail/told", t.account);
    t.app
        .objects
        .create_bucket(BUCKET, &t.account, "us-east-1", 1)
        .unwrap();
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": ["s3:GetBucketAcl", "s3:PutObject"],
         "Resource": [format!("arn:aws:s3:::{BUCKET}"), format!("arn:aws:s3:::{BUCKET}/*")]}]});
    t.app
        .objects
        .set_bucket_config(BUCKET, BucketConfig::Policy, Some(&policy.to_string()))
        .unwrap();
    (t, arn)
}

/// Runs `f` on a blocking thread of a runtime, as the server runs its rounds.
fn blocking<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move { tokio::task::spawn_blocking(f).await.unwrap() })
}

fn publishes_by_cloudtrail(t: &TestApp) -> Vec<Value> {
    t.records()
        .into_iter()
        .filter(|r| {
            r["eventName"] == "Publish"
                && r["userIdentity"]["invokedBy"] == "cloudtrail.amazonaws.com"
        })
        .collect()
}

#[test]
fn the_topic_policy_decides_and_notifications_are_published_as_cloudtrail() {
    let (t, trail_arn) = setup();
    t.call("sns", "CreateTopic", json!({"Name": "told"}))
        .unwrap();
    let topic = format!("arn:aws:sns:us-east-1:{}:told", t.account);
    let create = json!({"Name": "told", "S3BucketName": BUCKET, "SnsTopicName": "told"});
    // The default policy lets the account's own principals publish, not CloudTrail.
    let e = t
        .call("cloudtrail", "CreateTrail", create.clone())
        .unwrap_err();
    assert_eq!(e.code, "InsufficientSnsTopicPolicyException");
    assert_eq!(
        e.message,
        "SNS Topic does not exist or the topic policy is incorrect!"
    );
    let policy = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "SNS:Publish",
        "Resource": topic, "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}}]});
    t.call(
        "sns",
        "SetTopicAttributes",
        json!({"TopicArn": topic, "AttributeName": "Policy", "AttributeValue": policy.to_string()}),
    )
    .unwrap();
    let made = t.call("cloudtrail", "CreateTrail", create).unwrap();
    assert_eq!(made["SnsTopicARN"], topic);
    // The checks were judged, never made: no Publish is recorded for them.
    assert!(publishes_by_cloudtrail(&t).is_empty());
    t.call("cloudtrail", "StartLogging", json!({"Name": "told"}))
        .unwrap();

    let delivery = Arc::new(Delivery {
        journal: t.app.journal.clone(),
        trails: Arc::clone(&t.app.trails),
        organizations: Arc::clone(&t.app.organizations),
        sink: Arc::new(TrailWrites::new(Arc::clone(&t.app))),
        clock: Arc::clone(&t.app.clock),
        backoff: Default::default(),
        planned: Default::default(),
    });
    let notify = Arc::new(Notifications {
        trails: Arc::clone(&t.app.trails),
        notifier: Arc::new(TrailNotices::new(Arc::clone(&t.app))),
        clock: Arc::clone(&t.app.clock),
        backoff: Default::default(),
    });
    let d = Arc::clone(&delivery);
    assert_eq!(blocking(move || d.run_once().unwrap()).written_files, 1);
    let n = Arc::clone(&notify);
    let r = blocking(move || n.run_once().unwrap());
    assert_eq!(
        r,
        NotifyReport {
            sent: 1,
            failed: 0,
            dropped: 0
        }
    );
    let published = publishes_by_cloudtrail(&t);
    assert_eq!(published.len(), 1);
    assert_eq!(published[0]["userIdentity"]["type"], "AWSService");
    assert_eq!(published[0]["requestParameters"]["topicArn"], topic);
    let status = t
        .call("cloudtrail", "GetTrailStatus", json!({"Name": "told"}))
        .unwrap();
    assert!(status.get("LatestNotificationTime").is_some());
    assert!(status.get("LatestNotificationError").is_none());

    // The topic goes: the next file's notification fails, is reported, and stays owed.
    t.call("sns", "DeleteTopic", json!({"TopicArn": topic}))
        .unwrap();
    let d = Arc::clone(&delivery);
    assert_eq!(blocking(move || d.run_once().unwrap()).written_files, 1);
    let n = Arc::clone(&notify);
    assert_eq!(blocking(move || n.run_once().unwrap()).failed, 1);
    let status = t
        .call("cloudtrail", "GetTrailStatus", json!({"Name": "told"}))
        .unwrap();
    assert_eq!(status["LatestNotificationError"], "NotFound");
    assert_eq!(t.app.trails.pending_notices().unwrap().len(), 1);
}
