//! Audit fails closed: when a call's record cannot be made durable (here, an injected journal
//! failure between run and commit), the call answers 503 and leaves no trace, for a write in
//! each service. The same calls made before the failure keep their effect.

#![allow(clippy::unwrap_used)]

use cairn_model::AccountId;
use cairn_services::testing::TestApp;
use cairn_store::objects::BucketConfig;
use serde_json::{Value, json};

/// Makes the journal's next commit fail, then makes the call: it must be refused with 503.
fn refused(t: &TestApp, service: &str, op: &str, input: Value) {
    t.app.journal.fail_next_write();
    let e = t.call(service, op, input).unwrap_err();
    assert_eq!(
        (e.status, &*e.code),
        (503, "ServiceUnavailable"),
        "{service} {op}: {e:?}"
    );
}

fn account(t: &TestApp) -> AccountId {
    AccountId::parse(&t.account).unwrap()
}

fn event_names(t: &TestApp) -> Vec<String> {
    t.records()
        .iter()
        .map(|r| r["eventName"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn iam_create_user_refused_leaves_no_user() {
    let t = TestApp::new().unwrap();
    t.call("iam", "CreateUser", json!({"UserName": "kept"}))
        .unwrap();
    let generation = t.app.identity.generation();
    refused(&t, "iam", "CreateUser", json!({"UserName": "refused"}));
    assert!(t.app.identity.user(&account(&t), "refused").is_err());
    assert!(t.app.identity.user(&account(&t), "kept").is_ok());
    assert_eq!(
        t.app.identity.generation(),
        generation + 1,
        "a rolled-back change still moves caches on (they may have seen it)"
    );
    assert_eq!(event_names(&t), ["CreateUser"]);
}

#[test]
fn iam_delete_access_key_refused_keeps_the_key_working() {
    let t = TestApp::new().unwrap();
    t.call("iam", "CreateUser", json!({"UserName": "alice"}))
        .unwrap();
    let created = t
        .call("iam", "CreateAccessKey", json!({"UserName": "alice"}))
        .unwrap();
    let xml = created["Xml"].as_str().unwrap();
    let id = xml
        .split("<AccessKeyId>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_owned();
    // Authentication has cached the key.
    assert!(t.app.identity.key(&id).unwrap().is_some());
    refused(
        &t,
        "iam",
        "DeleteAccessKey",
        json!({"UserName": "alice", "AccessKeyId": id}),
    );
    let key = t.app.identity.key(&id).unwrap().expect("the key survives");
    assert!(key.active);
}

#[test]
fn sts_credentials_refused_are_never_issued() {
    let t = TestApp::new().unwrap();
    let account = account(&t);
    t.call("sts", "GetSessionToken", json!({})).unwrap();
    let issued = t.app.identity.temporary_keys(&account).unwrap();
    assert_eq!(issued.len(), 1);
    refused(&t, "sts", "GetSessionToken", json!({}));
    assert_eq!(
        t.app.identity.temporary_keys(&account).unwrap(),
        issued,
        "no credentials beyond the first"
    );
}

#[test]
fn kms_create_key_refused_leaves_no_key() {
    let t = TestApp::new().unwrap();
    t.call("kms", "CreateKey", json!({"Description": "kept"}))
        .unwrap();
    refused(&t, "kms", "CreateKey", json!({"Description": "refused"}));
    let keys = t.app.kms.list(&t.account, "us-east-1").unwrap();
    let descriptions: Vec<_> = keys.iter().map(|k| k.description.as_str()).collect();
    assert_eq!(descriptions, ["kept"]);
}

#[test]
fn cloudtrail_writes_refused_leave_trails_as_they_were() {
    let t = TestApp::new().unwrap();
    let account = t.account.clone();
    t.app
        .objects
        .create_bucket("trail-bucket", &account, "us-east-1", 1)
        .unwrap();
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::trail-bucket"},
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::trail-bucket/AWSLogs/{account}/*")}
        ]
    });
    t.app
        .objects
        .set_bucket_config(
            "trail-bucket",
            BucketConfig::Policy,
            Some(&policy.to_string()),
        )
        .unwrap();
    t.call(
        "cloudtrail",
        "CreateTrail",
        json!({"Name": "kept", "S3BucketName": "trail-bucket"}),
    )
    .unwrap();
    refused(
        &t,
        "cloudtrail",
        "CreateTrail",
        json!({"Name": "refused", "S3BucketName": "trail-bucket"}),
    );
    let names: Vec<_> = t
        .app
        .trails
        .list(&account)
        .unwrap()
        .into_iter()
        .map(|tr| tr.name)
        .collect();
    assert_eq!(names, ["kept"]);
}

#[test]
fn logs_create_log_group_refused_leaves_no_group() {
    let t = TestApp::new().unwrap();
    t.call("logs", "CreateLogGroup", json!({"logGroupName": "kept"}))
        .unwrap();
    refused(
        &t,
        "logs",
        "CreateLogGroup",
        json!({"logGroupName": "refused"}),
    );
    let groups = t.app.logs.groups(&t.account, "us-east-1").unwrap();
    let names: Vec<_> = groups.iter().map(|g| g.key.name.as_str()).collect();
    assert_eq!(names, ["kept"]);
}

#[test]
fn logs_put_log_events_refused_stores_no_event() {
    use cairn_store::logs::{EventQuery, GroupKey};
    let t = TestApp::new().unwrap();
    t.call("logs", "CreateLogGroup", json!({"logGroupName": "g"}))
        .unwrap();
    t.call(
        "logs",
        "CreateLogStream",
        json!({"logGroupName": "g", "logStreamName": "s"}),
    )
    .unwrap();
    let now = cairn_model::Clock::now_millis(&cairn_model::SystemClock);
    refused(
        &t,
        "logs",
        "PutLogEvents",
        json!({"logGroupName": "g", "logStreamName": "s",
               "logEvents": [{"timestamp": now, "message": "refused"}]}),
    );
    let key = GroupKey::new(&t.account, "us-east-1", "g");
    let q = EventQuery {
        limit: 10,
        ..EventQuery::default()
    };
    assert!(t.app.logs.events(&key, &q).unwrap().is_empty());
    let s = t.app.logs.stream(&key, "s").unwrap().unwrap();
    assert_eq!((s.last_event_ms, s.uploads), (None, 0));
}

#[test]
fn logs_put_resource_policy_refused_leaves_no_policy() {
    let t = TestApp::new().unwrap();
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"}, "Action": "logs:PutLogEvents", "Resource": "*"}]})
    .to_string();
    t.call(
        "logs",
        "PutResourcePolicy",
        json!({"policyName": "kept", "policyDocument": doc}),
    )
    .unwrap();
    refused(
        &t,
        "logs",
        "PutResourcePolicy",
        json!({"policyName": "refused", "policyDocument": doc}),
    );
    let names: Vec<String> = t
        .app
        .logs
        .resource_policies(&t.account, "us-east-1")
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["kept"]);
}

#[test]
fn sqs_send_message_refused_leaves_no_message() {
    let t = TestApp::new().unwrap();
    let url = t
        .call("sqs", "CreateQueue", json!({"QueueName": "q"}))
        .unwrap()["QueueUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    t.call(
        "sqs",
        "SendMessage",
        json!({"QueueUrl": url, "MessageBody": "kept"}),
    )
    .unwrap();
    refused(
        &t,
        "sqs",
        "SendMessage",
        json!({"QueueUrl": url, "MessageBody": "refused"}),
    );
    // The journal stays failed: read the store itself.
    let key = cairn_store::sqs::QueueKey::new(&t.account, "us-east-1", "q");
    let counts = t.app.sqs.counts(&key, i64::MAX, 0).unwrap();
    assert_eq!(counts.visible, 1, "only the kept message");
}

#[test]
fn sns_publish_refused_queues_no_delivery() {
    let t = TestApp::new().unwrap();
    t.call("sns", "CreateTopic", json!({"Name": "t"})).unwrap();
    let topic = format!("arn:aws:sns:us-east-1:{}:t", t.account);
    // A same-account queue is confirmed at once, so a Publish queues a delivery for it.
    t.call(
        "sns",
        "Subscribe",
        json!({"TopicArn": topic, "Protocol": "sqs",
               "Endpoint": format!("arn:aws:sqs:us-east-1:{}:q", t.account)}),
    )
    .unwrap();
    t.call(
        "sns",
        "Publish",
        json!({"TopicArn": topic, "Message": "kept"}),
    )
    .unwrap();
    assert_eq!(t.app.sns.pending().unwrap().len(), 1);
    // An injected journal failure stays: every call after it is refused.
    refused(
        &t,
        "sns",
        "Publish",
        json!({"TopicArn": topic, "Message": "refused"}),
    );
    refused(&t, "sns", "CreateTopic", json!({"Name": "refused"}));
    let pending = t.app.sns.pending().unwrap();
    assert_eq!(pending.len(), 1);
    assert!(pending[0].payload.contains("kept"));
    assert_eq!(t.app.sns.topics(&t.account, "us-east-1").unwrap().len(), 1);
}

#[test]
fn lambda_writes_refused_leave_functions_as_they_were() {
    let t = TestApp::new().unwrap();
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    t.call(
        "iam",
        "CreateRole",
        json!({"RoleName": "r", "AssumeRolePolicyDocument": trust.to_string()}),
    )
    .unwrap();
    // The smallest zip: an end-of-central-directory record alone.
    let mut zip = b"PK\x05\x06".to_vec();
    zip.extend([0u8; 18]);
    let create = |name: &str| {
        json!({"FunctionName": name, "Runtime": "python3.12", "Handler": "app.handler",
               "Role": format!("arn:aws:iam::{}:role/r", t.account),
               "Code": {"ZipFile": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &zip)}})
    };
    t.call("lambda", "CreateFunction", create("kept")).unwrap();
    refused(&t, "lambda", "CreateFunction", create("refused"));
    refused(
        &t,
        "lambda",
        "AddPermission",
        json!({"FunctionName": "kept", "StatementId": "s", "Action": "lambda:InvokeFunction",
               "Principal": "events.amazonaws.com"}),
    );
    refused(
        &t,
        "lambda",
        "Invoke",
        json!({"FunctionName": "kept", "InvocationType": "Event"}),
    );
    let arn = |n: &str| format!("arn:aws:lambda:us-east-1:{}:function:{n}", t.account);
    assert!(t.app.lambda.function(&arn("refused")).unwrap().is_none());
    assert!(t.app.lambda.code(&arn("refused")).unwrap().is_none());
    let kept = t.app.lambda.function(&arn("kept")).unwrap().unwrap();
    assert_eq!(kept.policy, None, "the refused statement was not added");
    assert!(
        t.app.lambda.queued().unwrap().is_empty(),
        "the refused invocation was not queued"
    );
}

#[test]
fn events_put_events_refused_leaves_no_event_on_the_bus() {
    let t = TestApp::new().unwrap();
    t.call(
        "events",
        "PutRule",
        json!({"Name": "kept", "EventPattern": "{\"source\":[\"app\"]}"}),
    )
    .unwrap();
    let entry = json!({"Source": "app", "DetailType": "d", "Detail": "{}"});
    t.call("events", "PutEvents", json!({"Entries": [entry]}))
        .unwrap();
    assert_eq!(t.app.events.bus_events_after(0, 10).unwrap().len(), 1);
    refused(&t, "events", "PutEvents", json!({"Entries": [entry]}));
    refused(
        &t,
        "events",
        "PutRule",
        json!({"Name": "refused", "EventPattern": "{\"source\":[\"app\"]}"}),
    );
    assert_eq!(t.app.events.bus_events_after(0, 10).unwrap().len(), 1);
    let rules = t
        .app
        .events
        .rules(&t.account, "us-east-1", "default")
        .unwrap();
    assert_eq!(
        rules.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["kept"]
    );
}

#[test]
fn channel_writes_refused_leave_no_channel_and_no_ingestion_status() {
    let t = TestApp::new().unwrap();
    let activity =
        json!([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["ActivityAuditLog"]}]}]);
    let eds = t
        .call(
            "cloudtrail",
            "CreateEventDataStore",
            json!({"Name": "ext", "AdvancedEventSelectors": activity, "MultiRegionEnabled": false}),
        )
        .unwrap();
    let dest = json!([{"Type": "EVENT_DATA_STORE", "Location": eds["EventDataStoreArn"]}]);
    let ch = t
        .call(
            "cloudtrail",
            "CreateChannel",
            json!({"Name": "kept", "Source": "Custom", "Destinations": dest}),
        )
        .unwrap();
    refused(
        &t,
        "cloudtrail",
        "CreateChannel",
        json!({"Name": "refused", "Source": "Custom", "Destinations": dest}),
    );
    let channels = t.app.lake.documents("channel", &t.account).unwrap();
    assert_eq!(channels.len(), 1);
    let arn = ch["ChannelArn"].as_str().unwrap();
    // Only a bad event: nothing reaches a store, only the channel's ingestion status is written.
    refused(
        &t,
        "cloudtrail-data",
        "PutAuditEvents",
        json!({"channelArn": arn, "auditEvents": [{"id": "a", "eventData": "not json"}]}),
    );
    assert!(t.app.lake.document("ingestion", arn).unwrap().is_none());
}
