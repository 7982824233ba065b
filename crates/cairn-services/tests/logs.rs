//! CloudWatch Logs in process (through the pipeline, as the root user): AWS's validation and
//! errors, PutLogEvents' rejected ranges and limits, GetLogEvents' tokens at the ends of a
//! stream, FilterLogEvents' pages, metric filter checks, and how calls are recorded. The same
//! behaviour with the real clients is in `e2e/test_logs.py`.

#![allow(clippy::unwrap_used)]

use cairn_model::{Clock, SystemClock};
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
