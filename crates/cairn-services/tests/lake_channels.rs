//! CloudTrail Lake channels over HTTP: CreateChannel's checks on its destinations, Get/List/
//! Update/DeleteChannel, channel resource policies, a store with a channel refusing deletion,
//! and cloudtrail-data's PutAuditEvents refusing what it must (unknown and malformed channels,
//! duplicate ids, a resource policy's deny without the external id) and reporting bad events
//! one by one. (Accepted events need the columnar engine: e2e/test_lake_channels.py.)

#![allow(clippy::unwrap_used)]

mod common;

use common::{Raw, Server, json_call, send};
use serde_json::{Value, json};

const PREFIX: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.";

async fn ct(s: &Server, op: &str, body: Value) -> (u16, Value) {
    let (status, _, body) = json_call(
        s,
        &s.key,
        Some("cloudtrail"),
        format!("{PREFIX}{op}"),
        body.to_string().as_bytes(),
    )
    .await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn put_audit_events(
    s: &Server,
    query: &str,
    body: Value,
) -> (u16, Vec<(String, String)>, Value) {
    let (status, headers, body) = send(
        s,
        &s.key,
        Raw {
            service: Some("cloudtrail-data"),
            method: "POST",
            path: "/PutAuditEvents",
            query: Some(query),
            headers: vec![("content-type", "application/json".into())],
            body: body.to_string().as_bytes(),
        },
    )
    .await;
    (
        status,
        headers,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

fn error_type(headers: &[(String, String)], body: &Value) -> String {
    let h = common::header(headers, "x-amzn-errortype");
    if !h.is_empty() {
        return h.split(':').next().unwrap().to_owned();
    }
    body["__type"].as_str().unwrap_or("").to_owned()
}

fn enc(s: &str) -> String {
    s.replace(':', "%3A").replace('/', "%2F")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_policies_and_put_audit_events() {
    let s = common::start().await;
    let activity = json!([{"Name": "activity", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["ActivityAuditLog"]}]}]);
    let (st, eds) = ct(&s, "CreateEventDataStore", json!({"Name": "ext", "AdvancedEventSelectors": activity, "MultiRegionEnabled": false, "TerminationProtectionEnabled": false})).await;
    assert_eq!(st, 200, "{eds}");
    let eds_arn = eds["EventDataStoreArn"].as_str().unwrap().to_owned();
    let (_, mgmt) = ct(
        &s,
        "CreateEventDataStore",
        json!({"Name": "mgmt", "MultiRegionEnabled": false}),
    )
    .await;
    let (_, multi) = ct(
        &s,
        "CreateEventDataStore",
        json!({"Name": "multi", "AdvancedEventSelectors": activity}),
    )
    .await;

    // Destinations must take activity events only, in one region.
    let (st, e) = ct(&s, "CreateChannel", json!({"Name": "chan1", "Source": "Custom", "Destinations": [{"Type": "EVENT_DATA_STORE", "Location": mgmt["EventDataStoreArn"]}]})).await;
    assert_eq!(
        (st, e["__type"].as_str().unwrap()),
        (400, "InvalidEventDataStoreCategoryException"),
        "{e}"
    );
    let (st, e) = ct(&s, "CreateChannel", json!({"Name": "chan1", "Source": "Custom", "Destinations": [{"Type": "EVENT_DATA_STORE", "Location": multi["EventDataStoreArn"]}]})).await;
    assert_eq!(
        (st, e["__type"].as_str().unwrap()),
        (400, "InvalidParameterException")
    );
    let (_, e) = ct(&s, "CreateChannel", json!({"Name": "chan1", "Source": "Custom", "Destinations": [{"Type": "EVENT_DATA_STORE", "Location": "arn:aws:cloudtrail:us-east-1:000000000000:eventdatastore/nope"}]})).await;
    assert_eq!(e["__type"], "EventDataStoreNotFoundException");

    let dest = json!([{"Type": "EVENT_DATA_STORE", "Location": eds_arn}]);
    let (st, ch) = ct(&s, "CreateChannel", json!({"Name": "chan1", "Source": "Custom", "Destinations": dest, "Tags": [{"Key": "team", "Value": "sre"}]})).await;
    assert_eq!(st, 200, "{ch}");
    let arn = ch["ChannelArn"].as_str().unwrap().to_owned();
    assert!(arn.starts_with("arn:aws:cloudtrail:us-east-1:"), "{arn}");
    assert!(arn.contains(":channel/"));
    assert_eq!(ch["Tags"][0]["Key"], "team");
    let (_, e) = ct(
        &s,
        "CreateChannel",
        json!({"Name": "chan1", "Source": "Custom", "Destinations": dest}),
    )
    .await;
    assert_eq!(e["__type"], "ChannelAlreadyExistsException");
    let (st, _) = ct(
        &s,
        "CreateChannel",
        json!({"Name": "okta", "Source": "Okta", "Destinations": dest}),
    )
    .await;
    assert_eq!(st, 200);
    let (_, e) = ct(
        &s,
        "CreateChannel",
        json!({"Name": "okta2", "Source": "Okta", "Destinations": dest}),
    )
    .await;
    assert_eq!(e["__type"], "ChannelAlreadyExistsException");

    let (_, got) = ct(&s, "GetChannel", json!({"Channel": arn})).await;
    assert_eq!(got["Name"], "chan1");
    assert_eq!(got["Source"], "Custom");
    assert_eq!(got["Destinations"], dest);
    assert_eq!(got["IngestionStatus"], json!({}));
    let (_, list) = ct(&s, "ListChannels", json!({"MaxResults": 1})).await;
    assert_eq!(list["Channels"].as_array().unwrap().len(), 1);
    let (_, rest) = ct(&s, "ListChannels", json!({"NextToken": list["NextToken"]})).await;
    assert_eq!(rest["Channels"].as_array().unwrap().len(), 1);
    let (_, up) = ct(
        &s,
        "UpdateChannel",
        json!({"Channel": arn, "Name": "chan1-renamed"}),
    )
    .await;
    assert_eq!(up["Name"], "chan1-renamed");
    // Tags on the channel's ARN.
    let (st, _) = ct(
        &s,
        "AddTags",
        json!({"ResourceId": arn, "TagsList": [{"Key": "team", "Value": "ops"}, {"Key": "env", "Value": "dev"}]}),
    )
    .await;
    assert_eq!(st, 200);
    let (st, _) = ct(
        &s,
        "RemoveTags",
        json!({"ResourceId": arn, "TagsList": [{"Key": "env"}]}),
    )
    .await;
    assert_eq!(st, 200);
    let (_, listed) = ct(&s, "ListTags", json!({"ResourceIdList": [arn]})).await;
    assert_eq!(
        listed["ResourceTagList"],
        json!([{"ResourceId": arn, "TagsList": [{"Key": "team", "Value": "ops"}]}])
    );
    let (_, e) = ct(&s, "GetChannel", json!({"Channel": "arn:aws:s3:::bucket"})).await;
    assert_eq!(e["__type"], "ChannelARNInvalidException");
    let (_, e) = ct(&s, "GetChannel", json!({"Channel": "0000-none"})).await;
    assert_eq!(e["__type"], "ChannelNotFoundException");

    // A store a channel delivers to is not deleted.
    let (_, e) = ct(
        &s,
        "DeleteEventDataStore",
        json!({"EventDataStore": eds_arn}),
    )
    .await;
    assert_eq!(e["__type"], "ChannelExistsForEDSException");

    // Resource policies.
    let (_, e) = ct(&s, "GetResourcePolicy", json!({"ResourceArn": arn})).await;
    assert_eq!(e["__type"], "ResourcePolicyNotFoundException");
    let (_, e) = ct(&s, "PutResourcePolicy", json!({"ResourceArn": arn, "ResourcePolicy": json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "cloudtrail:GetChannel", "Resource": arn}]}).to_string()})).await;
    assert_eq!(e["__type"], "ResourcePolicyNotValidException");
    let account = arn.split(':').nth(4).unwrap().to_owned();
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "WithExternalId", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
         "Action": "cloudtrail-data:PutAuditEvents", "Resource": arn,
         "Condition": {"StringEquals": {"cloudtrail:ExternalId": "ext-123"}}},
        {"Sid": "OnlyWithIt", "Effect": "Deny", "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
         "Action": "cloudtrail-data:PutAuditEvents", "Resource": arn,
         "Condition": {"StringNotEquals": {"cloudtrail:ExternalId": "ext-123"}}}
    ]}).to_string();
    let (st, put) = ct(
        &s,
        "PutResourcePolicy",
        json!({"ResourceArn": arn, "ResourcePolicy": policy}),
    )
    .await;
    assert_eq!(st, 200, "{put}");
    let (_, got) = ct(&s, "GetResourcePolicy", json!({"ResourceArn": arn})).await;
    assert_eq!(got["ResourcePolicy"], policy);
    let (_, e) = ct(&s, "GetResourcePolicy", json!({"ResourceArn": eds_arn})).await;
    assert_eq!(e["__type"], "ResourceTypeNotSupportedException");

    // PutAuditEvents.
    let bad_event = json!({"auditEvents": [
        {"id": "a", "eventData": "not json"},
        {"id": "b", "eventData": json!({"version": "1", "userIdentity": {"type": "U", "principalId": "p"}, "eventSource": "app", "eventName": "X", "eventTime": "2025-03-04T12:00:00Z", "UID": "u", "recipientAccountId": "999999999999"}).to_string()},
        {"id": "c", "eventData": json!({"version": "1"}).to_string()}
    ]});
    let q = format!("channelArn={}", enc(&arn));
    let (st, h, e) = put_audit_events(&s, &q, bad_event.clone()).await;
    assert_eq!(
        (st, error_type(&h, &e).as_str()),
        (400, "ChannelInsufficientPermission"),
        "{e}"
    );
    let q = format!("channelArn={}&externalId=ext-123", enc(&arn));
    let (st, _, out) = put_audit_events(&s, &q, bad_event).await;
    assert_eq!(st, 200, "{out}");
    assert_eq!(out["successful"], json!([]));
    let codes: Vec<&str> = out["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["errorCode"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["InvalidData", "InvalidRecipient", "FieldNotFound"]);
    let (_, got) = ct(&s, "GetChannel", json!({"Channel": arn})).await;
    assert_eq!(
        got["IngestionStatus"]["LatestIngestionErrorCode"],
        "InvalidData"
    );
    assert!(got["IngestionStatus"]["LatestIngestionAttemptTime"].is_number());

    let (st, h, e) = put_audit_events(
        &s,
        &q,
        json!({"auditEvents": [{"id": "a", "eventData": "{}"}, {"id": "a", "eventData": "{}"}]}),
    )
    .await;
    assert_eq!(
        (st, error_type(&h, &e).as_str()),
        (400, "DuplicatedAuditEventId")
    );
    let unknown = arn.rsplit_once('/').unwrap().0.to_owned() + "/0000-none";
    let (_, h, e) = put_audit_events(
        &s,
        &format!("channelArn={}", enc(&unknown)),
        json!({"auditEvents": [{"id": "a", "eventData": "{}"}]}),
    )
    .await;
    assert_eq!(error_type(&h, &e), "ChannelNotFound");
    // An ARN naming another region names no channel.
    let elsewhere = arn.replace(":us-east-1:", ":eu-west-1:");
    let (_, h, e) = put_audit_events(
        &s,
        &format!("channelArn={}", enc(&elsewhere)),
        json!({"auditEvents": [{"id": "a", "eventData": "{}"}]}),
    )
    .await;
    assert_eq!(error_type(&h, &e), "ChannelNotFound");
    let (_, h, e) = put_audit_events(
        &s,
        "channelArn=arn%3Aaws%3As3%3A%3A%3Ab",
        json!({"auditEvents": [{"id": "a", "eventData": "{}"}]}),
    )
    .await;
    assert_eq!(error_type(&h, &e), "InvalidChannelARN");

    // Deleting the channel takes its policy with it and frees the store.
    let (st, _) = ct(&s, "DeleteResourcePolicy", json!({"ResourceArn": arn})).await;
    assert_eq!(st, 200);
    let (_, e) = ct(&s, "DeleteResourcePolicy", json!({"ResourceArn": arn})).await;
    assert_eq!(e["__type"], "ResourcePolicyNotFoundException");
    for c in ct(&s, "ListChannels", json!({})).await.1["Channels"]
        .as_array()
        .unwrap()
    {
        let (st, _) = ct(&s, "DeleteChannel", json!({"Channel": c["ChannelArn"]})).await;
        assert_eq!(st, 200);
    }
    let (_, e) = ct(&s, "GetChannel", json!({"Channel": arn})).await;
    assert_eq!(e["__type"], "ChannelNotFoundException");
    let (st, e) = ct(
        &s,
        "DeleteEventDataStore",
        json!({"EventDataStore": eds_arn}),
    )
    .await;
    assert_eq!(st, 200, "{e}");
}

/// A partner account's PutAuditEvents is recorded in its account and, as a data event on the
/// channel, shared with the channel's owner (refused calls too).
#[test]
fn partner_calls_are_shared_with_the_channel_owner() {
    use cairn_model::{Clock, Principal, SystemClock};
    use cairn_services::pipeline::Durability;
    use cairn_services::pipeline::internal::{Actor, Internal};
    use std::sync::Arc;

    let t = cairn_services::testing::TestApp::new().unwrap();
    let activity =
        json!([{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["ActivityAuditLog"]}]}]);
    let eds = t
        .call(
            "cloudtrail",
            "CreateEventDataStore",
            json!({"Name": "ext", "AdvancedEventSelectors": activity, "MultiRegionEnabled": false}),
        )
        .unwrap();
    let ch = t
        .call(
            "cloudtrail",
            "CreateChannel",
            json!({"Name": "chan", "Source": "Custom", "Destinations": [{"Type": "EVENT_DATA_STORE", "Location": eds["EventDataStoreArn"]}]}),
        )
        .unwrap();
    let (_, key) = t
        .stores
        .identity
        .create_account(SystemClock.now_millis())
        .unwrap();
    let partner = key.account.to_string();
    let internal = Internal {
        actor: Actor::Caller(Principal::Root {
            account: key.account.clone(),
            access_key_id: key.access_key_id.clone(),
            alias: None,
            session: None,
        }),
        account: partner.clone(),
        region: "us-east-1".to_owned(),
        source_arn: None,
        cause: "test".to_owned(),
        durability: Durability::Wait,
    };
    let app = Arc::clone(&t.app);
    let arn = ch["ChannelArn"].as_str().unwrap().to_owned();
    let e = t
        .run_blocking(move || {
            internal.call_json(
                &app,
                "cloudtrail-data",
                "PutAuditEvents",
                json!({"channelArn": arn, "auditEvents": [{"id": "a", "eventData": "{}"}]}),
            )
        })
        .unwrap()
        .unwrap_err();
    assert_eq!(e.code, "ChannelInsufficientPermission");
    let recorded: Vec<(String, String)> = t
        .records()
        .iter()
        .filter(|r| r["eventName"] == "PutAuditEvents")
        .map(|r| {
            (
                r["recipientAccountId"].as_str().unwrap().to_owned(),
                r["userIdentity"]["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        recorded,
        [
            (partner, "Root".to_owned()),
            (t.account.clone(), "AWSAccount".to_owned())
        ]
    );
}
