//! CloudWatch Logs in process (through the pipeline, as the root user): AWS's validation and
//! errors, PutLogEvents' rejected ranges and limits, GetLogEvents' tokens at the ends of a
//! stream, FilterLogEvents' pages, metric filter checks, how calls are recorded, and the
//! account's resource policies deciding what an AWS service (EventBridge) may write. The same
//! behaviour with the real clients is in `e2e/test_logs.py`.

#![allow(clippy::unwrap_used)]

use cairn_model::{Clock, SystemClock};
use cairn_services::pipeline::Durability;
use cairn_services::pipeline::internal::Internal;
use cairn_services::testing::TestApp;
use serde_json::{Value, json};

fn err(r: Result<Value, cairn_wire::AwsError>) -> (String, String) {
    let e = r.unwrap_err();
    (e.code.to_string(), e.message)
}

fn setup() -> TestApp {
    let t = TestApp::new().unwrap();
    t.call("logs", "CreateLogGroup", json!({"logGroupName": "g"}))
        .unwrap();
    t.call(
        "logs",
        "CreateLogStream",
        json!({"logGroupName": "g", "logStreamName": "s"}),
    )
    .unwrap();
    t
}

fn put(t: &TestApp, events: Value) -> Result<Value, cairn_wire::AwsError> {
    t.call(
        "logs",
        "PutLogEvents",
        json!({"logGroupName": "g", "logStreamName": "s", "logEvents": events}),
    )
}

#[test]
fn names_and_missing_resources_answer_as_aws() {
    let t = setup();
    assert_eq!(
        err(t.call("logs", "CreateLogGroup", json!({"logGroupName": "g"}))),
        (
            "ResourceAlreadyExistsException".into(),
            "The specified log group already exists".into()
        )
    );
    let long = "a".repeat(513);
    assert_eq!(
        err(t.call("logs", "CreateLogGroup", json!({"logGroupName": long}))).1,
        "Invalid LogGroup or LogStream, both must have length less than or equal to 512."
    );
    assert_eq!(
        err(t.call("logs", "DeleteLogGroup", json!({"logGroupName": "nope"}))),
        (
            "ResourceNotFoundException".into(),
            "The specified log group does not exist.".into()
        )
    );
    assert_eq!(
        err(t.call(
            "logs",
            "DescribeLogStreams",
            json!({"logGroupName": "g", "logGroupIdentifier": "g"})
        )),
        (
            "ValidationException".into(),
            "LogGroup name and LogGroup ARN are mutually exclusive parameters.".into()
        )
    );
    assert_eq!(
        err(t.call(
            "logs",
            "DescribeLogStreams",
            json!({"logGroupName": "g", "orderBy": "LastEventTime", "logStreamNamePrefix": "s"})
        ))
        .1,
        "Cannot order by LastEventTime with a logStreamNamePrefix."
    );
    let arn = format!("arn:aws:logs:us-east-1:{}:log-group:g:*", t.account);
    let streams = t
        .call(
            "logs",
            "DescribeLogStreams",
            json!({"logGroupIdentifier": arn}),
        )
        .unwrap();
    assert_eq!(streams["logStreams"][0]["logStreamName"], "s");
    assert_eq!(
        err(t.call(
            "logs",
            "PutRetentionPolicy",
            json!({"logGroupName": "g", "retentionInDays": 2})
        ))
        .0,
        "InvalidParameterException"
    );
}

#[test]
fn put_log_events_rejects_ranges_and_enforces_limits() {
    let t = setup();
    let now = SystemClock.now_millis();
    let day = 86_400_000;
    let r = put(
        &t,
        json!([
            {"timestamp": now - 20 * day, "message": "old"},
            {"timestamp": now - 15 * day, "message": "old"},
            {"timestamp": now, "message": "ok"},
            {"timestamp": now + 3 * 3_600_000, "message": "new"},
            {"timestamp": now + 4 * 3_600_000, "message": "new"},
        ]),
    )
    .unwrap();
    assert_eq!(
        r["rejectedLogEventsInfo"],
        json!({"tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 3})
    );
    assert_eq!(r["nextSequenceToken"].as_str().unwrap().len(), 56);
    assert_eq!(
        err(put(&t, json!([]))).1,
        "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
    let many: Vec<Value> = (0..10_001)
        .map(|_| json!({"timestamp": now, "message": "m"}))
        .collect();
    assert!(
        err(put(&t, json!(many)))
            .1
            .contains("less than or equal to 10000")
    );
    // 1,048,576 bytes counting 26 per event: exactly at the limit passes, one more fails.
    let at_limit = vec![json!({"timestamp": now, "message": "x".repeat(262_144 - 26)}); 4];
    put(&t, json!(at_limit)).unwrap();
    let mut over = at_limit.clone();
    over.push(json!({"timestamp": now, "message": "y"}));
    assert_eq!(
        err(put(&t, json!(over))).1,
        "Upload too large: 1048603 bytes exceeds limit of 1048576"
    );
    assert_eq!(
        err(put(
            &t,
            json!([{"timestamp": now - 2 * day + 1, "message": "a"}, {"timestamp": now, "message": "b"}])
        ))
        .1,
        "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
    );
}

#[test]
fn get_log_events_tokens_repeat_at_the_ends() {
    let t = setup();
    let now = SystemClock.now_millis() - 1000;
    let events: Vec<Value> = (0..5)
        .map(|i| json!({"timestamp": now + i, "message": format!("m{i}")}))
        .collect();
    put(&t, json!(events)).unwrap();
    let get = |extra: Value| {
        let mut input = json!({"logGroupName": "g", "logStreamName": "s"});
        for (k, v) in extra.as_object().unwrap() {
            input[k] = v.clone();
        }
        t.call("logs", "GetLogEvents", input).unwrap()
    };
    let msgs = |v: &Value| -> Vec<String> {
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = get(json!({"startFromHead": true}));
    assert_eq!(msgs(&all), ["m0", "m1", "m2", "m3", "m4"]);
    let end = get(json!({"nextToken": all["nextForwardToken"]}));
    assert!(msgs(&end).is_empty());
    assert_eq!(end["nextForwardToken"], all["nextForwardToken"]);
    let back = get(json!({"nextToken": all["nextBackwardToken"]}));
    assert!(msgs(&back).is_empty());
    assert_eq!(back["nextBackwardToken"], all["nextBackwardToken"]);
    // From the head going back, then forward again: the first event is not skipped.
    let again = get(json!({"nextToken": back["nextForwardToken"], "limit": 2}));
    assert_eq!(msgs(&again), ["m0", "m1"]);
}

#[test]
fn metric_filters_check_transformations() {
    let t = setup();
    let put = |pattern: &str, tr: Value| {
        t.call(
            "logs",
            "PutMetricFilter",
            json!({"logGroupName": "g", "filterName": "f", "filterPattern": pattern,
                   "metricTransformations": tr}),
        )
    };
    let one = json!([{"metricName": "M", "metricNamespace": "N", "metricValue": "1"}]);
    put("ERROR", one.clone()).unwrap();
    assert_eq!(
        err(put("ERROR", json!([one[0], one[0]]))).1,
        "1 validation error detected: Value at 'metricTransformations' failed to satisfy constraint: Member must have length less than or equal to 1"
    );
    assert_eq!(
        err(put(
            "ERROR",
            json!([{"metricName": "M", "metricNamespace": "N", "metricValue": "1",
                    "dimensions": {"d": "$.x"}}])
        ))
        .1,
        "The specified filter pattern does not support dimensions"
    );
    put(
        "{ $.latency = * }",
        json!([{"metricName": "M", "metricNamespace": "N", "metricValue": "$.latency",
                "dimensions": {"path": "$.path"}, "unit": "Milliseconds"}]),
    )
    .unwrap();
    let d = t
        .call(
            "logs",
            "DescribeMetricFilters",
            json!({"logGroupName": "g"}),
        )
        .unwrap();
    assert_eq!(d["metricFilters"][0]["filterPattern"], "{ $.latency = * }");
    assert_eq!(
        d["metricFilters"][0]["metricTransformations"][0]["unit"],
        "Milliseconds"
    );
}

#[test]
fn calls_are_recorded_as_aws_records_them() {
    let t = setup();
    put(
        &t,
        json!([{"timestamp": SystemClock.now_millis(), "message": "log data"}]),
    )
    .unwrap();
    let records = t.records();
    let of = |name: &str| {
        records
            .iter()
            .find(|r| r["eventName"] == name)
            .unwrap()
            .clone()
    };
    let create = of("CreateLogStream");
    assert_eq!(create["eventSource"], "logs.amazonaws.com");
    assert_eq!(create["eventCategory"], "Management");
    assert_eq!(create["readOnly"], false);
    assert_eq!(
        create["requestParameters"],
        json!({"logGroupName": "g", "logStreamName": "s"})
    );
    assert_eq!(create["responseElements"], Value::Null);
    let data = of("PutLogEvents");
    assert_eq!(data["eventCategory"], "Data");
    assert!(
        !data.to_string().contains("log data"),
        "no log data in a record"
    );
    assert_eq!(data["resources"][0]["type"], "AWS::Logs::LogGroup");
}

/// CreateLogStream as an AWS service (`events.amazonaws.com` for a rule), as EventBridge
/// delivering to a log group target.
fn create_stream_as(
    t: &TestApp,
    service: &'static str,
    source_arn: &str,
    group: &str,
    stream: &str,
) -> Result<Value, cairn_wire::AwsError> {
    let internal = Internal::service(
        service,
        &t.account,
        "us-east-1",
        Some(source_arn),
        Durability::Wait,
    );
    let app = std::sync::Arc::clone(&t.app);
    let input = json!({"logGroupName": group, "logStreamName": stream});
    t.run_blocking(move || internal.call_json(&app, "logs", "CreateLogStream", input))
        .unwrap()
}

fn put_policy(t: &TestApp, name: &str, statements: Value) {
    let doc = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    t.call(
        "logs",
        "PutResourcePolicy",
        json!({"policyName": name, "policyDocument": doc}),
    )
    .unwrap();
}

#[test]
fn account_resource_policies_decide_what_a_service_may_write() {
    let t = TestApp::new().unwrap();
    for g in ["/aws/events/a", "/aws/events/b", "private"] {
        t.call("logs", "CreateLogGroup", json!({"logGroupName": g}))
            .unwrap();
    }
    let rule = format!("arn:aws:events:us-east-1:{}:rule/r1", t.account);
    let other_rule = format!("arn:aws:events:us-east-1:{}:rule/r2", t.account);
    let events = "events.amazonaws.com";
    let denied =
        |r: Result<Value, cairn_wire::AwsError>| r.unwrap_err().code == "AccessDeniedException";

    assert!(
        denied(create_stream_as(&t, events, &rule, "/aws/events/a", "s0")),
        "no policy: a service may not write"
    );
    put_policy(
        &t,
        "events",
        json!([{"Effect": "Allow", "Principal": {"Service": ["events.amazonaws.com"]},
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": format!("arn:aws:logs:us-east-1:{}:log-group:/aws/events/*:*", t.account),
                "Condition": {"ArnLike": {"aws:SourceArn": rule},
                              "StringEquals": {"aws:SourceAccount": t.account}}}]),
    );
    create_stream_as(&t, events, &rule, "/aws/events/a", "s1").unwrap();
    assert!(
        denied(create_stream_as(&t, events, &rule, "private", "s1")),
        "a group the policy does not name"
    );
    assert!(
        denied(create_stream_as(
            &t,
            events,
            &other_rule,
            "/aws/events/a",
            "s2"
        )),
        "aws:SourceArn names another rule"
    );
    assert!(
        denied(create_stream_as(
            &t,
            "sns.amazonaws.com",
            &rule,
            "/aws/events/a",
            "s3"
        )),
        "another service"
    );

    // A deny in any policy denies; the statements of every policy are judged together.
    put_policy(
        &t,
        "no-b",
        json!([{"Effect": "Deny", "Principal": "*", "Action": "logs:*",
                "Resource": format!("arn:aws:logs:us-east-1:{}:log-group:/aws/events/b:*", t.account)}]),
    );
    assert!(denied(create_stream_as(
        &t,
        events,
        &rule,
        "/aws/events/b",
        "s4"
    )));
    create_stream_as(&t, events, &rule, "/aws/events/a", "s5").unwrap();
    // Resource policies are not enforced for the account's own principals (AWS: "will not be
    // enforced" for IAM users, roles or accounts): the root user still writes to b.
    t.call(
        "logs",
        "CreateLogStream",
        json!({"logGroupName": "/aws/events/b", "logStreamName": "root"}),
    )
    .unwrap();
    // Lambda writes its functions' output without any policy.
    create_stream_as(
        &t,
        "lambda.amazonaws.com",
        "arn:aws:lambda:us-east-1:111122223333:function:f",
        "private",
        "2026/01/01/[$LATEST]0",
    )
    .unwrap();

    t.call(
        "logs",
        "DeleteResourcePolicy",
        json!({"policyName": "events"}),
    )
    .unwrap();
    assert!(
        denied(create_stream_as(&t, events, &rule, "/aws/events/a", "s6")),
        "a deleted policy allows nothing"
    );

    // Recorded as AWS records EventBridge's writes: AWSService, with the account it acts for.
    let records = t.records();
    let written = records
        .iter()
        .find(|r| {
            r["eventName"] == "CreateLogStream"
                && r["requestParameters"]["logStreamName"] == "s1"
                && r.get("errorCode").is_none()
        })
        .unwrap();
    assert_eq!(
        written["userIdentity"],
        json!({"type": "AWSService", "invokedBy": "events.amazonaws.com"})
    );
    assert_eq!(
        written["requestParameters"],
        json!({"forAccount": t.account, "logGroupName": "/aws/events/a", "logStreamName": "s1"})
    );
    assert!(written["sharedEventID"].is_string());
    // A refusal is recorded, without parameters as every refused call.
    let refused = records
        .iter()
        .find(|r| r["eventName"] == "CreateLogStream" && r.get("errorCode").is_some())
        .unwrap();
    assert_eq!(refused["errorCode"], "AccessDenied");
    assert_eq!(refused["userIdentity"]["invokedBy"], "events.amazonaws.com");
    assert!(refused["requestParameters"].is_null());
}
