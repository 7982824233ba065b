//! SQS in process: a queue policy is a resource policy, so that an AWS service acting on its
//! own (SNS, EventBridge: `Internal::service`, `aws:SourceArn` the topic or rule) may send
//! where the policy lets it and nowhere else, recorded as `AWSService` calls invoked by it.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use cairn_services::pipeline::Durability;
use cairn_services::pipeline::internal::Internal;
use cairn_services::testing::TestApp;
use cairn_wire::AwsError;
use serde_json::{Value, json};

/// SendMessage as `sns.amazonaws.com` for `topic`, as SNS delivering to a subscribed queue.
fn send_as_sns(t: &TestApp, topic: &str, url: &str) -> Result<Value, AwsError> {
    let internal = Internal::service(
        "sns.amazonaws.com",
        &t.account,
        "us-east-1",
        Some(topic),
        Durability::Wait,
    );
    let app = Arc::clone(&t.app);
    let input = json!({"QueueUrl": url, "MessageBody": "{\"Type\":\"Notification\"}"});
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        tokio::task::spawn_blocking(move || internal.call_json(&app, "sqs", "SendMessage", input))
            .await
            .unwrap()
    })
}

#[test]
fn a_queue_policy_lets_sns_send_for_its_topic_only() {
    let t = TestApp::new().unwrap();
    let url = t
        .call("sqs", "CreateQueue", json!({"QueueName": "alerts"}))
        .unwrap()["QueueUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let topic = format!("arn:aws:sns:us-east-1:{}:alarms", t.account);
    let other = format!("arn:aws:sns:us-east-1:{}:other", t.account);
    let e = send_as_sns(&t, &topic, &url).unwrap_err();
    assert_eq!(
        e.code, "AccessDeniedException",
        "no policy: a service may not send"
    );

    let policy = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": format!("arn:aws:sqs:us-east-1:{}:alerts", t.account),
        "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}]});
    t.call(
        "sqs",
        "SetQueueAttributes",
        json!({"QueueUrl": url, "Attributes": {"Policy": policy.to_string()}}),
    )
    .unwrap();
    let sent = send_as_sns(&t, &topic, &url).unwrap();
    assert_eq!(sent["MessageId"].as_str().unwrap().len(), 36);
    assert!(
        send_as_sns(&t, &other, &url).is_err(),
        "another topic is not allowed"
    );

    let got = t
        .call(
            "sqs",
            "ReceiveMessage",
            json!({"QueueUrl": url, "AttributeNames": ["SenderId"]}),
        )
        .unwrap();
    assert_eq!(got["Messages"][0]["Body"], "{\"Type\":\"Notification\"}");

    let sends: Vec<Value> = t
        .records()
        .into_iter()
        .filter(|r| r["eventName"] == "SendMessage" && r.get("errorCode").is_none())
        .collect();
    assert_eq!(sends.len(), 1);
    let r = &sends[0];
    assert_eq!(r["userIdentity"]["type"], "AWSService");
    assert_eq!(r["userIdentity"]["invokedBy"], "sns.amazonaws.com");
    assert_eq!(r["eventCategory"], "Data");
    assert_eq!(
        r["requestParameters"]["messageBody"],
        "HIDDEN_DUE_TO_SECURITY_REASONS"
    );
}
