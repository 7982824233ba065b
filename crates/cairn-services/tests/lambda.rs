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
