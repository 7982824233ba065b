//! EventBridge's router in process: events put on a bus and recorded calls reach an SQS
//! target through a rule, in AWS's envelope; a router started over an existing journal
//! routes only what comes after; nothing is routed twice by a second router over the same
//! stores (the cursor moved with the deliveries); calls made while no rule watched never reach
//! a rule put or enabled later.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use cairn_services::events::routing::Router;
use cairn_services::testing::TestApp;
use cairn_store::journal::Consumer;
use serde_json::{Value, json};

/// A queue EventBridge may send to, and a rule with `pattern` targeting it: the queue URL.
fn queue_and_rule(t: &TestApp, rule: &str, pattern: Value) -> String {
    let url = t
        .call("sqs", "CreateQueue", json!({"QueueName": rule}))
        .unwrap()["QueueUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let arn = format!("arn:aws:sqs:us-east-1:{}:{rule}", t.account);
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": arn}]});
    t.call(
        "sqs",
        "SetQueueAttributes",
        json!({"QueueUrl": url, "Attributes": {"Policy": policy.to_string()}}),
    )
    .unwrap();
    t.call(
        "events",
        "PutRule",
        json!({"Name": rule, "EventPattern": pattern.to_string()}),
    )
    .unwrap();
    t.call(
        "events",
        "PutTargets",
        json!({"Rule": rule, "Targets": [{"Id": "q", "Arn": arn}]}),
    )
    .unwrap();
    url
}

fn bodies(t: &TestApp, url: &str) -> Vec<Value> {
    let got = t
        .call(
            "sqs",
            "ReceiveMessage",
            json!({"QueueUrl": url, "MaxNumberOfMessages": 10}),
        )
        .unwrap();
    got["Messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|m| serde_json::from_str(m["Body"].as_str().unwrap()).unwrap())
        .collect()
}

fn round(t: &TestApp, router: &Arc<Router>) -> u64 {
    let r = Arc::clone(router);
    t.run_blocking(move || r.run_due().unwrap().done).unwrap()
}

#[test]
fn put_events_and_recorded_calls_reach_their_targets_once() {
    let t = TestApp::new().unwrap();
    // A call before the router first ran is history: it never reaches a rule.
    t.call("iam", "CreateUser", json!({"UserName": "before"}))
        .unwrap();
    let router = Arc::new(Router::new(Arc::clone(&t.app), "http://127.0.0.1:4566").unwrap());
    let shop = queue_and_rule(&t, "shop", json!({"source": ["my.shop"]}));
    let users = queue_and_rule(
        &t,
        "users",
        json!({"source": ["aws.iam"], "detail-type": ["AWS API Call via CloudTrail"],
               "detail": {"eventName": ["CreateUser"]}}),
    );
    let put = t
        .call(
            "events",
            "PutEvents",
            json!({"Entries": [{"Source": "my.shop", "DetailType": "Order", "Detail": "{\"n\":1}"}]}),
        )
        .unwrap();
    t.call("iam", "CreateUser", json!({"UserName": "after"}))
        .unwrap();
    assert!(round(&t, &router) >= 2);

    let shop_events = bodies(&t, &shop);
    assert_eq!(shop_events.len(), 1);
    assert_eq!(shop_events[0]["id"], put["Entries"][0]["EventId"]);
    assert_eq!(shop_events[0]["detail"], json!({"n": 1}));
    let user_events = bodies(&t, &users);
    let names: Vec<_> = user_events
        .iter()
        .map(|e| e["detail"]["requestParameters"]["userName"].clone())
        .collect();
    assert_eq!(names, [json!("after")]);
    assert_eq!(user_events[0]["source"], "aws.iam");

    // A second router over the same stores (a restart) finds nothing left to route.
    let again = Arc::new(Router::new(Arc::clone(&t.app), "http://127.0.0.1:4566").unwrap());
    round(&t, &again);
    assert!(bodies(&t, &shop).is_empty());
    assert!(t.app.events.pending().unwrap().is_empty());
}

#[test]
fn calls_made_while_no_rule_watched_never_reach_a_later_rule() {
    let t = TestApp::new().unwrap();
    let router = Arc::new(Router::new(Arc::clone(&t.app), "http://127.0.0.1:4566").unwrap());
    round(&t, &router);
    // With no rule, the router leaves these unread (it does not write its cursor per call)...
    t.call("iam", "CreateUser", json!({"UserName": "unwatched"}))
        .unwrap();
    round(&t, &router);
    t.call("iam", "CreateUser", json!({"UserName": "still-unwatched"}))
        .unwrap();
    // ...and the first rule skips them: only calls after it reach it.
    let users = queue_and_rule(
        &t,
        "users",
        json!({"source": ["aws.iam"], "detail": {"eventName": ["CreateUser"]}}),
    );
    t.call("iam", "CreateUser", json!({"UserName": "watched"}))
        .unwrap();
    round(&t, &router);
    let names: Vec<_> = bodies(&t, &users)
        .iter()
        .map(|e| e["detail"]["requestParameters"]["userName"].clone())
        .collect();
    assert_eq!(names, [json!("watched")]);
    // Disabled, then enabled again: what happened in between is not judged either.
    t.call("events", "DisableRule", json!({"Name": "users"}))
        .unwrap();
    t.call("iam", "CreateUser", json!({"UserName": "while-disabled"}))
        .unwrap();
    round(&t, &router);
    t.call("events", "EnableRule", json!({"Name": "users"}))
        .unwrap();
    t.call("iam", "CreateUser", json!({"UserName": "enabled-again"}))
        .unwrap();
    round(&t, &router);
    let names: Vec<_> = bodies(&t, &users)
        .iter()
        .map(|e| e["detail"]["requestParameters"]["userName"].clone())
        .collect();
    assert_eq!(names, [json!("enabled-again")]);
}
