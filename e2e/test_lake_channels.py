"""CloudTrail Lake channels and cloudtrail-data's PutAuditEvents with boto3 and the real AWS CLI
v1: an event data store taking events from outside AWS (eventCategory ActivityAuditLog,
single-region), a channel to it, a resource policy letting a partner account deliver only with
an external id (`cloudtrail:ExternalId`), PutAuditEvents accepted with it and refused
(ChannelInsufficientPermission) without it, the owner held to it by a deny, bad events reported
one by one, GetChannel's IngestionStatus, Lake queries finding the accepted events by their
eventData, and the calls recorded as data events (shared with the owner)."""

import base64
import hashlib
import json

import botocore.exceptions
import pytest

from conftest import wait_for

EXTERNAL_ID = "partner-ext-7731"


def event_data(account, name, uid, **extra):
    data = {
        "version": "1.0",
        "userIdentity": {"type": "CustomUser", "principalId": "u-42", "details": {"team": "sre"}},
        "userAgent": "myapp/3.1",
        "eventSource": "myapp.example.com",
        "eventName": name,
        "eventTime": "2025-03-04T12:00:59Z",
        "UID": uid,
        "requestParameters": {"method": "password"},
        "sourceIPAddress": "198.51.100.2",
        "recipientAccountId": account,
    }
    data.update(extra)
    return json.dumps(data)


def run_query(ct, sql):
    qid = ct.start_query(QueryStatement=sql)["QueryId"]
    done = wait_for(lambda: (d := ct.describe_query(QueryId=qid))["QueryStatus"] in ("FINISHED", "FAILED") and d)
    assert done["QueryStatus"] == "FINISHED", done
    rows, kwargs = [], {}
    while True:
        page = ct.get_query_results(QueryId=qid, **kwargs)
        rows.extend(page["QueryResultRows"])
        if not page.get("NextToken"):
            break
        kwargs = {"NextToken": page["NextToken"]}
    return [{k: v for cell in row for k, v in cell.items()} for row in rows]


def test_channels_and_put_audit_events(cairn):
    owner = cairn.client("cloudtrail")
    account = cairn.client("sts").get_caller_identity()["Account"]
    partner_account = cairn.create_account()["CAIRN_ACCOUNT_ID"]
    partner_data = cairn.client("cloudtrail-data", account=partner_account)
    owner_data = cairn.client("cloudtrail-data")

    activity = [{"Name": "events from outside AWS",
                 "FieldSelectors": [{"Field": "eventCategory", "Equals": ["ActivityAuditLog"]}]}]
    eds = owner.create_event_data_store(Name="external-events", AdvancedEventSelectors=activity,
                                        MultiRegionEnabled=False, TerminationProtectionEnabled=False)
    eds_arn = eds["EventDataStoreArn"]
    eds_id = eds_arn.rsplit("/", 1)[1]
    # A store of the data events on channels: PutAuditEvents calls themselves.
    calls = owner.create_event_data_store(
        Name="channel-calls", TerminationProtectionEnabled=False,
        AdvancedEventSelectors=[{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                                    {"Field": "resources.type", "Equals": ["AWS::CloudTrail::Channel"]}]}])

    # Destinations must be stores that take only ActivityAuditLog events.
    mgmt = owner.create_event_data_store(Name="management", MultiRegionEnabled=False,
                                         TerminationProtectionEnabled=False)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        owner.create_channel(Name="wrong-store", Source="Custom",
                             Destinations=[{"Type": "EVENT_DATA_STORE", "Location": mgmt["EventDataStoreArn"]}])
    assert e.value.response["Error"]["Code"] == "InvalidEventDataStoreCategoryException"

    ch = owner.create_channel(Name="my-app", Source="Custom",
                              Destinations=[{"Type": "EVENT_DATA_STORE", "Location": eds_arn}],
                              Tags=[{"Key": "team", "Value": "sre"}])
    arn = ch["ChannelArn"]
    assert arn.startswith(f"arn:aws:cloudtrail:us-east-1:{account}:channel/")
    assert [c["ChannelArn"] for c in owner.list_channels()["Channels"]] == [arn]
    got = owner.get_channel(Channel=arn)
    assert got["Source"] == "Custom" and got["Destinations"] == ch["Destinations"]
    assert got["SourceConfig"]["ApplyToAllRegions"] is False

    # The store is in use by the channel.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        owner.delete_event_data_store(EventDataStore=eds_arn)
    assert e.value.response["Error"]["Code"] == "ChannelExistsForEDSException"

    # Without a policy only the owner delivers.
    one = [{"id": "p-0", "eventData": event_data(account, "Login", "r-0")}]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        partner_data.put_audit_events(channelArn=arn, externalId=EXTERNAL_ID, auditEvents=one)
    assert e.value.response["Error"]["Code"] == "ChannelInsufficientPermission"

    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "ChannelPolicy", "Effect": "Allow",
        "Principal": {"AWS": [f"arn:aws:iam::{partner_account}:root"]},
        "Action": "cloudtrail-data:PutAuditEvents", "Resource": arn,
        "Condition": {"StringEquals": {"cloudtrail:ExternalId": EXTERNAL_ID}}}]})
    assert owner.put_resource_policy(ResourceArn=arn, ResourcePolicy=policy)["ResourcePolicy"] == policy
    assert owner.get_resource_policy(ResourceArn=arn)["ResourcePolicy"] == policy

    # The partner: refused without the external id, or with another.
    for ext in (None, "wrong-id"):
        kwargs = {"externalId": ext} if ext else {}
        with pytest.raises(botocore.exceptions.ClientError) as e:
            partner_data.put_audit_events(channelArn=arn, auditEvents=one, **kwargs)
        assert e.value.response["Error"]["Code"] == "ChannelInsufficientPermission"

    login = event_data(account, "Login", "r-1")
    events = [
        {"id": "ok-1", "eventData": login,
         "eventDataChecksum": base64.b64encode(hashlib.sha256(login.encode()).digest()).decode()},
        {"id": "ok-2", "eventData": event_data(account, "Logout", "r-2")},
        {"id": "bad-sum", "eventData": login, "eventDataChecksum": "AAAA"},
        {"id": "bad-json", "eventData": "{not json"},
        {"id": "no-name", "eventData": json.dumps({k: v for k, v in json.loads(login).items() if k != "eventName"})},
        {"id": "other-account", "eventData": event_data(partner_account, "Login", "r-3")},
        {"id": "too-long", "eventData": event_data(account, "x" * 1025, "r-4")},
    ]
    out = partner_data.put_audit_events(channelArn=arn, externalId=EXTERNAL_ID, auditEvents=events)
    assert [s["id"] for s in out["successful"]] == ["ok-1", "ok-2"]
    assert all(len(s["eventID"]) == 36 for s in out["successful"])
    assert {f["id"]: f["errorCode"] for f in out["failed"]} == {
        "bad-sum": "InvalidChecksum", "bad-json": "InvalidData", "no-name": "FieldNotFound",
        "other-account": "InvalidRecipient", "too-long": "FieldTooLong"}

    # Duplicate ids refuse the whole request.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        partner_data.put_audit_events(channelArn=arn, externalId=EXTERNAL_ID, auditEvents=one + one)
    assert e.value.response["Error"]["Code"] == "DuplicatedAuditEventId"

    # The owner delivers without an external id (the policy does not deny it), by channel id.
    mine = owner_data.put_audit_events(channelArn=arn.rsplit("/", 1)[1],
                                       auditEvents=[{"id": "own-1", "eventData": event_data(account, "Audit", "r-5")}])
    assert [s["id"] for s in mine["successful"]] == ["own-1"]

    # A channel takes events at its own region's endpoint only.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cairn.client("cloudtrail-data", region="eu-west-1").put_audit_events(channelArn=arn, auditEvents=one)
    assert e.value.response["Error"]["Code"] == "ChannelNotFound"

    # The AWS CLI, once.
    cli_events = json.dumps([{"id": "cli-1", "eventData": event_data(account, "CliEvent", "r-6")}])
    _, cli, _ = cairn.aws("cloudtrail-data", "put-audit-events", "--channel-arn", arn,
                          "--external-id", EXTERNAL_ID, "--audit-events", cli_events, account=partner_account)
    assert [s["id"] for s in cli["successful"]] == ["cli-1"] and cli["failed"] == []

    status = owner.get_channel(Channel=arn)["IngestionStatus"]
    assert status["LatestIngestionSuccessEventID"] == cli["successful"][0]["eventID"]
    assert status["LatestIngestionErrorCode"] == "InvalidChecksum"
    assert status["LatestIngestionSuccessTime"] and status["LatestIngestionAttemptTime"]

    # Lake finds them.
    rows = run_query(owner, f"SELECT eventid, eventtype, json_extract_scalar(eventjson, '$.eventData.eventName') AS name, "
                            f"eventdata.eventname AS column_name, eventdata.useridentity.principalid AS who, "
                            f"metadata.channelarn AS channel "
                            f"FROM {eds_id} WHERE eventcategory = 'ActivityAuditLog' ORDER BY name")
    assert [r["name"] for r in rows] == ["Audit", "CliEvent", "Login", "Logout"]
    assert [r["column_name"] for r in rows] == ["Audit", "CliEvent", "Login", "Logout"]
    assert {(r["eventtype"], r["who"], r["channel"]) for r in rows} == {("ActivityLog", "u-42", arn)}
    accepted = {s["eventID"] for s in out["successful"] + mine["successful"] + cli["successful"]}
    assert {r["eventid"] for r in rows} == accepted
    rows = run_query(owner, f"SELECT count(*) AS n FROM {eds_id} "
                            f"WHERE json_extract_scalar(eventjson, '$.eventData.eventName') = 'Login'")
    assert rows == [{"n": "1"}]

    # The calls are data events of cloudtrail-data.amazonaws.com on the channel; the partner's
    # reach the owner too, its identity shown as an AWSAccount.
    def recorded():
        rows = run_query(owner, "SELECT eventsource, eventcategory, errorcode, "
                                "json_extract_scalar(eventjson, '$.userIdentity.type') AS who, "
                                "json_extract_scalar(eventjson, '$.resources[0].ARN') AS channel "
                                f"FROM {calls['EventDataStoreArn'].rsplit('/', 1)[1]} "
                                "WHERE eventname = 'PutAuditEvents'")
        return len(rows) >= 7 and rows
    rows = wait_for(recorded, timeout=60, every=1)
    assert {(r["eventsource"], r["eventcategory"], r["channel"]) for r in rows} == {
        ("cloudtrail-data.amazonaws.com", "Data", arn)}
    assert {r["who"] for r in rows} == {"Root", "AWSAccount"}
    assert any(r.get("errorcode") == "ChannelInsufficientPermission" and r["who"] == "AWSAccount" for r in rows)

    # The owner too can be held to the external id: a deny unless it is given.
    deny = json.loads(policy)
    deny["Statement"].append({
        "Sid": "OwnerOnlyWithIt", "Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "cloudtrail-data:PutAuditEvents", "Resource": arn,
        "Condition": {"StringNotEquals": {"cloudtrail:ExternalId": EXTERNAL_ID}}})
    owner.put_resource_policy(ResourceArn=arn, ResourcePolicy=json.dumps(deny))
    late = [{"id": "own-2", "eventData": event_data(account, "Late", "r-7")}]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        owner_data.put_audit_events(channelArn=arn, auditEvents=late)
    assert e.value.response["Error"]["Code"] == "ChannelInsufficientPermission"
    ok = owner_data.put_audit_events(channelArn=arn, externalId=EXTERNAL_ID, auditEvents=late)
    assert [s["id"] for s in ok["successful"]] == ["own-2"]

    # Deleting the channel frees the store; its policy goes with it.
    owner.delete_channel(Channel=arn)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        owner.get_channel(Channel=arn)
    assert e.value.response["Error"]["Code"] == "ChannelNotFoundException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        partner_data.put_audit_events(channelArn=arn, externalId=EXTERNAL_ID, auditEvents=one)
    assert e.value.response["Error"]["Code"] == "ChannelNotFound"
    owner.delete_event_data_store(EventDataStore=eds_arn)
