//! The registry test: every operation of every service is in its table with its IAM actions
//! and category, and the endpoint serves exactly the operations the table says it serves
//! (an operation answered as "not supported" is marked unserved; every other is marked served).

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use cairn_model::EventCategory;
use cairn_services::pipeline::Access;
use common::{Raw, json_call, send};

#[test]
fn tables_are_complete_and_consistent() {
    let registry = cairn_services::registry();
    let names: Vec<_> = registry.iter().map(|s| s.signing_name()).collect();
    assert_eq!(
        names,
        [
            "cloudtrail",
            "s3",
            "kms",
            "logs",
            "monitoring",
            "iam",
            "sts",
            "sqs",
            "sns",
            "lambda",
            "events",
            "cloudtrail-data",
            "organizations"
        ]
    );
    for svc in registry.iter() {
        let ops = svc.operations();
        assert!(
            !ops.is_empty(),
            "{} lists no operations",
            svc.signing_name()
        );
        let unique: BTreeSet<_> = ops.iter().map(|o| o.name).collect();
        assert_eq!(
            unique.len(),
            ops.len(),
            "{} lists an operation twice",
            svc.signing_name()
        );
        for op in ops {
            let who = format!("{}:{}", svc.signing_name(), op.name);
            if op.access == Access::Open {
                assert!(op.actions.is_empty(), "{who} is open but lists actions");
            } else {
                assert!(!op.actions.is_empty(), "{who} lists no IAM action");
            }
            for a in &op.actions {
                let (prefix, action) = a.split_once(':').unwrap();
                // CloudWatch signs as `monitoring` but its IAM actions are `cloudwatch:…`.
                let iam_prefix = match svc.signing_name() {
                    "monitoring" => "cloudwatch",
                    other => other,
                };
                // `iam:PassRole` is the one other service's action a call may need: giving a
                // role to the service (a function's execution role).
                if a != "iam:PassRole" {
                    assert_eq!(prefix, iam_prefix, "{who}: {a}");
                }
                assert!(
                    action
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_uppercase()),
                    "{who}: {a}"
                );
            }
            assert!(
                matches!(op.category, EventCategory::Management | EventCategory::Data),
                "{who}"
            );
            // Only S3's object operations (and listings), Logs' log event reads and writes,
            // CloudWatch's metric data operations, SQS' message operations, SNS's
            // Publish(Batch), Lambda's invocations, EventBridge's PutEvents and CloudTrail Data's
            // PutAuditEvents are data events.
            if op.category == EventCategory::Data {
                assert!(
                    [
                        "s3",
                        "logs",
                        "monitoring",
                        "sqs",
                        "sns",
                        "lambda",
                        "events",
                        "cloudtrail-data"
                    ]
                    .contains(&svc.signing_name()),
                    "{who} is a data event"
                );
            }
        }
        assert!(
            ops.iter().any(|o| o.served),
            "{} serves nothing",
            svc.signing_name()
        );
    }
    let count = |s: &str| registry.get(s).unwrap().operations().len();
    // The full APIs of the JSON and query services (botocore's models): unserved operations
    // are listed so that they answer the service's own "not supported" error.
    assert_eq!(count("cloudtrail"), 60);
    assert_eq!(count("kms"), 56);
    assert_eq!(count("logs"), 118);
    assert_eq!(count("monitoring"), 59);
    assert_eq!(count("iam"), 210);
    assert_eq!(count("sts"), 15);
    assert_eq!(count("sqs"), 23);
    assert_eq!(count("sns"), 42);
    assert_eq!(count("lambda"), 91);
    assert_eq!(count("events"), 57);
    assert_eq!(count("cloudtrail-data"), 1);
    assert_eq!(count("organizations"), 63);
}

/// Whether an answer is the service's "cairn does not support {op} yet".
fn unsupported(body: &[u8], op: &str) -> bool {
    let text = String::from_utf8_lossy(body);
    text.contains("does not support") && text.contains(&format!("{op} yet"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_serves_what_the_tables_say() {
    let s = common::start().await;
    let registry = cairn_services::registry();
    for (service, prefix) in [
        (
            "cloudtrail",
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.",
        ),
        ("kms", "TrentService."),
        ("logs", "Logs_20140328."),
        ("monitoring", "GraniteServiceVersion20100801."),
        ("sqs", "AmazonSQS."),
        ("events", "AWSEvents."),
        ("organizations", "AWSOrganizationsV20161128."),
    ] {
        for op in registry.get(service).unwrap().operations() {
            let (status, _, body) = json_call(
                &s,
                &s.key,
                Some(service),
                format!("{prefix}{}", op.name),
                b"{}",
            )
            .await;
            assert_eq!(
                op.served,
                !unsupported(&body, op.name),
                "{service}:{} answered {status} {}",
                op.name,
                String::from_utf8_lossy(&body)
            );
        }
        let (status, _, body) = json_call(
            &s,
            &s.key,
            Some(service),
            format!("{prefix}NoSuchOperation"),
            b"{}",
        )
        .await;
        assert_eq!(status, 400);
        assert!(String::from_utf8_lossy(&body).contains("UnknownOperationException"));
    }
    for (service, version) in [
        ("iam", "2010-05-08"),
        ("sts", "2011-06-15"),
        ("sns", "2010-03-31"),
    ] {
        for op in registry.get(service).unwrap().operations() {
            let form = format!("Action={}&Version={version}", op.name);
            let (status, _, body) = send(
                &s,
                &s.key,
                Raw {
                    service: Some(service),
                    method: "POST",
                    path: "/",
                    query: None,
                    headers: vec![(
                        "content-type",
                        "application/x-www-form-urlencoded; charset=utf-8".into(),
                    )],
                    body: form.as_bytes(),
                },
            )
            .await;
            assert_eq!(
                op.served,
                !unsupported(&body, op.name),
                "{service}:{} answered {status} {}",
                op.name,
                String::from_utf8_lossy(&body)
            );
        }
    }
    // Lambda (REST-JSON): each operation at its route, every label `1` (a name and a number).
    for op in registry.get("lambda").unwrap().operations() {
        let route = cairn_services::lambda::route_of(op.name).unwrap();
        let (path, query) = route.uri.split_once('?').unwrap_or((route.uri, ""));
        let path: Vec<String> = path
            .split('/')
            .map(|seg| {
                if seg.starts_with('{') {
                    "1".to_owned()
                } else {
                    seg.to_owned()
                }
            })
            .collect();
        let path = path.join("/");
        let (status, _, body) = send(
            &s,
            &s.key,
            Raw {
                service: Some("lambda"),
                method: route.method,
                path: &path,
                query: (!query.is_empty()).then_some(query),
                headers: vec![("content-type", "application/json".into())],
                body: b"{}",
            },
        )
        .await;
        assert_eq!(
            op.served,
            !unsupported(&body, op.name),
            "lambda:{} answered {status} {}",
            op.name,
            String::from_utf8_lossy(&body)
        );
    }
}
