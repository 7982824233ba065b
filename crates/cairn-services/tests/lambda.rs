//! Lambda in process: other services invoke functions through the pipeline's internal calls
//! as their service principal (EventBridge for a rule, SNS for a topic), and the function's
//! resource policy decides, with its `AWS:SourceArn`/`AWS:SourceAccount` conditions, exactly
//! as AddPermission wrote them; an accepted `Event` invocation is queued durably, and the
//! Invoke is recorded as a data event naming the function.

#![allow(clippy::unwrap_used)]

use base64::Engine;
use cairn_services::pipeline::Durability;
use cairn_services::pipeline::internal::Internal;
use cairn_services::testing::TestApp;
use cairn_wire::AwsError;
use serde_json::{Value, json};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The smallest zip: an end-of-central-directory record alone.
fn empty_zip() -> Vec<u8> {
    let mut z = b"PK\x05\x06".to_vec();
    z.extend([0u8; 18]);
    z
}

/// An internal call as `service` for `source`, on a blocking thread of a runtime, as the
/// services' delivery rounds make them.
fn invoke_as(
    t: &TestApp,
    service: &'static str,
    source: &str,
    function: &str,
) -> Result<Value, AwsError> {
    let internal = Internal::service(
        service,
        &t.account,
        "us-east-1",
        Some(source),
        Durability::Wait,
    );
    let app = t.app.clone();
    let input = json!({"FunctionName": function, "InvocationType": "Event", "Payload": B64.encode(b"{\"k\":1}")});
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        tokio::task::spawn_blocking(move || internal.call_json(&app, "lambda", "Invoke", input))
            .await
            .unwrap()
    })
}

fn function(t: &TestApp, name: &str) -> String {
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    t.call(
        "iam",
        "CreateRole",
        json!({"RoleName": format!("{name}-role"), "AssumeRolePolicyDocument": trust.to_string()}),
    )
    .unwrap();
    let out = t
        .call(
            "lambda",
            "CreateFunction",
            json!({"FunctionName": name, "Runtime": "python3.12", "Handler": "app.handler",
                   "Role": format!("arn:aws:iam::{}:role/{name}-role", t.account),
                   "Code": {"ZipFile": B64.encode(empty_zip())}}),
        )
        .unwrap();
    out["FunctionArn"].as_str().unwrap().to_owned()
}

#[test]
fn services_invoke_only_where_the_functions_policy_lets_them() {
    let t = TestApp::new().unwrap();
    let arn = function(&t, "on-stop");
    let rule = format!("arn:aws:events:us-east-1:{}:rule/stop-logging", t.account);
    let other_rule = format!("arn:aws:events:us-east-1:{}:rule/other", t.account);
    let topic = format!("arn:aws:sns:us-east-1:{}:alerts", t.account);

    // No statement: no service may invoke.
    let e = invoke_as(&t, "events.amazonaws.com", &rule, &arn).unwrap_err();
    assert_eq!((e.status, e.code.as_ref()), (403, "AccessDeniedException"));

    t.call(
        "lambda",
        "AddPermission",
        json!({"FunctionName": "on-stop", "StatementId": "ev", "Action": "lambda:InvokeFunction",
               "Principal": "events.amazonaws.com", "SourceArn": rule}),
    )
    .unwrap();
    t.call(
        "lambda",
        "AddPermission",
        json!({"FunctionName": "on-stop", "StatementId": "sns", "Action": "lambda:InvokeFunction",
               "Principal": "sns.amazonaws.com", "SourceAccount": t.account}),
    )
    .unwrap();

    let out = invoke_as(&t, "events.amazonaws.com", &rule, &arn).unwrap();
    assert_eq!(out["StatusCode"], 202);
    let e = invoke_as(&t, "events.amazonaws.com", &other_rule, &arn).unwrap_err();
    assert_eq!(
        e.code, "AccessDeniedException",
        "another rule is not allowed"
    );
    invoke_as(&t, "sns.amazonaws.com", &topic, "on-stop").unwrap();
    let e = invoke_as(&t, "logs.amazonaws.com", &topic, &arn).unwrap_err();
    assert_eq!(
        e.code, "AccessDeniedException",
        "a service no statement names"
    );

    let queued = t.app.lambda.queued().unwrap();
    assert_eq!(queued.len(), 2, "each accepted Event invocation is queued");
    assert!(
        queued
            .iter()
            .all(|q| q.function_arn == arn && q.payload == b"{\"k\":1}")
    );
    assert!(queued[0].context.contains(&rule));

    let invokes: Vec<Value> = t
        .records()
        .into_iter()
        .filter(|r| r["eventName"] == "Invoke")
        .collect();
    assert_eq!(
        invokes.len(),
        5,
        "allowed and refused invocations are recorded"
    );
    let r = &invokes[1];
    assert_eq!(r["eventCategory"], "Data");
    assert_eq!(r["managementEvent"], false);
    assert_eq!(r["userIdentity"]["type"], "AWSService");
    assert_eq!(r["userIdentity"]["invokedBy"], "events.amazonaws.com");
    assert_eq!(r["requestParameters"]["functionName"], arn.as_str());
    assert_eq!(r["requestParameters"]["sourceArn"], rule.as_str());
    assert!(r["requestParameters"].get("payload").is_none());
    assert_eq!(
        r["resources"],
        json!([{"accountId": t.account, "type": "AWS::Lambda::Function", "ARN": arn}])
    );
    assert_eq!(
        r["additionalEventData"]["functionVersion"],
        format!("{arn}:$LATEST")
    );
}

#[test]
fn management_calls_carry_the_api_version_in_their_event_name() {
    let t = TestApp::new().unwrap();
    function(&t, "named");
    t.call("lambda", "GetFunction", json!({"FunctionName": "named"}))
        .unwrap();
    t.call(
        "lambda",
        "PutFunctionConcurrency",
        json!({"FunctionName": "named", "ReservedConcurrentExecutions": 2}),
    )
    .unwrap();
    t.call("lambda", "DeleteFunction", json!({"FunctionName": "named"}))
        .unwrap();
    let names: Vec<String> = t
        .records()
        .iter()
        .filter(|r| r["eventSource"] == "lambda.amazonaws.com")
        .map(|r| r["eventName"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "CreateFunction20150331",
            "GetFunction20150331v2",
            "PutFunctionConcurrency20171031",
            "DeleteFunction20150331"
        ]
    );
}

/// Runs one round of the asynchronous invocation worker, as the server runs it.
fn worker_round(t: &TestApp) -> u64 {
    let worker = cairn_services::lambda::Invoker::new(t.app.clone());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        tokio::task::spawn_blocking(move || worker.run_once())
            .await
            .unwrap()
    })
    .unwrap()
}

/// A function that cannot succeed (its zip holds no handler), whose role may send to SQS.
fn failing_function(t: &TestApp, name: &str) -> String {
    let arn = function(t, name);
    let allow = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]});
    t.call(
        "iam",
        "PutRolePolicy",
        json!({"RoleName": format!("{name}-role"), "PolicyName": "sqs", "PolicyDocument": allow.to_string()}),
    )
    .unwrap();
    arn
}

#[test]
fn failed_event_invocations_are_retried_then_sent_to_their_failure_destination() {
    let t = TestApp::new().unwrap();
    let arn = failing_function(&t, "fails");
    let url = t
        .call("sqs", "CreateQueue", json!({"QueueName": "failures"}))
        .unwrap()["QueueUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let queue = format!("arn:aws:sqs:us-east-1:{}:failures", t.account);
    t.call(
        "lambda",
        "PutFunctionEventInvokeConfig",
        json!({"FunctionName": "fails", "MaximumRetryAttempts": 1,
               "DestinationConfig": {"OnFailure": {"Destination": queue}}}),
    )
    .unwrap();
    let out = t
        .call(
            "lambda",
            "Invoke",
            json!({"FunctionName": "fails", "InvocationType": "Event", "Payload": B64.encode(b"{\"n\":7}")}),
        )
        .unwrap();
    assert_eq!(out["StatusCode"], 202);
    let request_id = t.app.lambda.queued().unwrap()[0].request_id.clone();

    // The first attempt fails: one retry is left, a minute later (AWS's first delay).
    let before = t.app.clock.now_millis();
    assert_eq!(worker_round(&t), 0);
    let q = t.app.lambda.queued().unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].attempts, 1);
    assert!(q[0].next_ms >= before + 60_000 && q[0].next_ms <= before + 61_000 + 5_000);

    // Due again (as if the minute passed): the retry fails too, and the record goes out.
    t.app.lambda.retry_later(q[0].id, 1, 0).unwrap();
    assert_eq!(worker_round(&t), 1);
    assert!(t.app.lambda.queued().unwrap().is_empty());
    let got = t
        .call("sqs", "ReceiveMessage", json!({"QueueUrl": url}))
        .unwrap();
    let body = got["Messages"][0]["Body"].as_str().unwrap();
    let record: Value = serde_json::from_str(body).unwrap();
    assert_eq!(record["version"], "1.0");
    let stamp = record["timestamp"].as_str().unwrap();
    assert!(stamp.len() == 24 && stamp.ends_with('Z') && stamp.as_bytes()[19] == b'.');
    assert_eq!(record["requestContext"]["requestId"], request_id.as_str());
    assert_eq!(
        record["requestContext"]["functionArn"],
        format!("{arn}:$LATEST")
    );
    assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 2);
    assert_eq!(record["requestPayload"], json!({"n": 7}));
    assert_eq!(record["responseContext"]["functionError"], "Unhandled");
    assert!(record["responsePayload"].get("errorMessage").is_some());

    // Lambda sent it as the function's role session.
    let send = t
        .records()
        .into_iter()
        .find(|r| r["eventName"] == "SendMessage")
        .unwrap();
    assert_eq!(send["userIdentity"]["type"], "AssumedRole");
    assert_eq!(send["userIdentity"]["invokedBy"], "lambda.amazonaws.com");
    assert_eq!(
        send["userIdentity"]["arn"],
        format!("arn:aws:sts::{}:assumed-role/fails-role/fails", t.account)
    );
}

#[test]
fn event_invocations_of_deleted_functions_are_dropped() {
    let t = TestApp::new().unwrap();
    function(&t, "gone");
    t.call(
        "lambda",
        "Invoke",
        json!({"FunctionName": "gone", "InvocationType": "Event"}),
    )
    .unwrap();
    assert_eq!(t.app.lambda.queued().unwrap().len(), 1);
    t.call("lambda", "DeleteFunction", json!({"FunctionName": "gone"}))
        .unwrap();
    assert!(t.app.lambda.queued().unwrap().is_empty());
    assert_eq!(worker_round(&t), 0);
}
