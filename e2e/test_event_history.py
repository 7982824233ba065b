"""Event history end to end: every call is recorded with the caller's true identity and found
by LookupEvents, through the AWS CLI and boto3."""

import json
import uuid

import botocore.exceptions
import pytest

from conftest import lookup_all

ATTRIBUTES = ["EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId"]


def failing_get_trail(cairn, region):
    """Calls GetTrail for a trail that does not exist; returns (trail name, request id)."""
    name = f"trail-{uuid.uuid4().hex[:12]}"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cairn.client(region=region).get_trail(Name=name)
    assert e.value.response["Error"]["Code"] == "TrailNotFoundException"
    return name, e.value.response["ResponseMetadata"]["RequestId"]


def find(events, request_id):
    hits = [e for e in events if json.loads(e["CloudTrailEvent"])["requestID"] == request_id]
    assert len(hits) <= 1
    return hits[0] if hits else None


def epoch(event):
    """EventTime as epoch seconds: the CLI prints the wire number, boto3 parses a datetime."""
    t = event["EventTime"]
    return t if isinstance(t, (int, float)) else t.timestamp()


def attribute_value(event, key, trail):
    return {
        "EventId": event["EventId"], "EventName": "GetTrail", "ReadOnly": "true", "Username": "root",
        "ResourceType": "AWS::CloudTrail::Trail", "ResourceName": trail,
        "EventSource": "cloudtrail.amazonaws.com", "AccessKeyId": event["AccessKeyId"],
    }[key]


def test_record_has_true_identity_and_request_id(cairn):
    env = cairn.env()
    trail, rid = failing_get_trail(cairn, "us-west-2")
    events = lookup_all(cairn.client(region="us-west-2"), LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": trail}])
    assert len(events) == 1
    ev = events[0]
    rec = json.loads(ev["CloudTrailEvent"])
    assert rec["requestID"] == rid
    assert rec["eventID"] == ev["EventId"]
    assert rec["userIdentity"]["type"] == "Root"
    account = rec["recipientAccountId"]
    assert len(account) == 12 and account.isdigit()
    assert rec["userIdentity"]["arn"] == f"arn:aws:iam::{account}:root"
    assert rec["userIdentity"]["accountId"] == account
    assert rec["userIdentity"]["principalId"] == account
    assert rec["userIdentity"]["accessKeyId"] == env["AWS_ACCESS_KEY_ID"]
    assert rec["eventSource"] == "cloudtrail.amazonaws.com"
    assert rec["eventName"] == "GetTrail"
    assert rec["awsRegion"] == "us-west-2"
    assert rec["eventVersion"] == "1.11"
    assert rec["sourceIPAddress"] == "127.0.0.1"
    assert rec["userAgent"].startswith("Boto3/")
    assert rec["errorCode"] == "TrailNotFoundException"
    assert rec["errorMessage"] == f"Unknown trail: {trail} for the user: {account}"
    assert rec["requestParameters"] == {"name": trail}
    assert rec["responseElements"] is None
    assert rec["readOnly"] is True
    assert rec["eventType"] == "AwsApiCall"
    assert rec["managementEvent"] is True
    assert rec["eventCategory"] == "Management"
    assert ev["Resources"] == [{"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": trail}]
    assert ev["ReadOnly"] == "true" and ev["Username"] == "root"
    # The same event is invisible from another region.
    other = lookup_all(cairn.client(region="eu-central-1"), LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": trail}])
    assert other == []


@pytest.mark.parametrize("client_kind", ["cli", "boto3"])
def test_found_by_each_of_the_eight_attributes(cairn, client_kind):
    region = "eu-west-1" if client_kind == "cli" else "ap-southeast-2"
    trail, rid = failing_get_trail(cairn, region)
    first = lookup_all(cairn.client(region=region), LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": trail}])[0]
    for key in ATTRIBUTES:
        value = attribute_value(first, key, trail)
        if client_kind == "cli":
            _, out, _ = cairn.aws("cloudtrail", "lookup-events", "--lookup-attributes", f"AttributeKey={key},AttributeValue={value}", region=region)
            events = out["Events"]
        else:
            events = lookup_all(cairn.client(region=region), LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}])
        hit = find(events, rid)
        assert hit is not None, f"not found by {key}={value}"
        assert epoch(hit) == epoch(first)
        assert {**hit, "EventTime": None} == {**first, "EventTime": None}


def test_cli_call_is_in_history_at_once(cairn):
    _, out, _ = cairn.aws("cloudtrail", "describe-trails", region="ca-central-1")
    assert out == {"trailList": []}
    _, out, _ = cairn.aws("cloudtrail", "lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue=DescribeTrails", region="ca-central-1")
    assert len(out["Events"]) == 1
    rec = json.loads(out["Events"][0]["CloudTrailEvent"])
    assert rec["userAgent"].startswith("aws-cli/1.46.3")
    assert rec["awsRegion"] == "ca-central-1"
    assert rec["readOnly"] is True and rec["requestParameters"] is None


def test_paginator_yields_each_event_once_newest_first(cairn):
    region = "sa-east-1"
    client = cairn.client(region=region)
    request_ids = [client.describe_trails()["ResponseMetadata"]["RequestId"] for _ in range(530)]
    events = lookup_all(client, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DescribeTrails"}],
                        PaginationConfig={"PageSize": 50})
    got = [json.loads(e["CloudTrailEvent"])["requestID"] for e in events]
    assert len(got) == len(set(got)) == 530
    assert got == list(reversed(request_ids)), "newest first, each exactly once"
    times = [e["EventTime"] for e in events]
    assert times == sorted(times, reverse=True)


def test_time_range_and_max_results(cairn):
    region = "eu-north-1"
    client = cairn.client(region=region)
    for _ in range(3):
        client.describe_trails()
    page = client.lookup_events(MaxResults=2)
    assert len(page["Events"]) == 2 and "NextToken" in page
    t = page["Events"][0]["EventTime"]
    inside = lookup_all(client, StartTime=t, EndTime=t)
    assert inside and all(e["EventTime"] == t for e in inside)
    import datetime
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    assert lookup_all(client, StartTime=future) == []


@pytest.mark.parametrize("kwargs,code", [
    ({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "A"}, {"AttributeKey": "EventName", "AttributeValue": "B"}]}, "InvalidLookupAttributesException"),
    ({"LookupAttributes": [{"AttributeKey": "Bogus", "AttributeValue": "A"}]}, "InvalidLookupAttributesException"),
    ({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "x" * 2001}]}, "InvalidLookupAttributesException"),
    ({"StartTime": 1714608000, "EndTime": 1714521600}, "InvalidTimeRangeException"),
    ({"MaxResults": 51}, "InvalidMaxResultsException"),
    ({"NextToken": "not-a-token"}, "InvalidNextTokenException"),
    ({"EventCategory": "data"}, "InvalidEventCategoryException"),
])
def test_invalid_requests_get_aws_errors_and_are_recorded(cairn, kwargs, code):
    client = cairn.client(region="us-east-2")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.lookup_events(**kwargs)
    assert e.value.response["Error"]["Code"] == code
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    rid = e.value.response["ResponseMetadata"]["RequestId"]
    events = lookup_all(client, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "LookupEvents"}])
    rec = json.loads(find(events, rid)["CloudTrailEvent"])
    assert rec["errorCode"] == code


def test_next_token_is_bound_to_its_query(cairn):
    client = cairn.client(region="us-east-2")
    for _ in range(3):
        client.describe_trails()
    page = client.lookup_events(MaxResults=1, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DescribeTrails"}])
    token = page["NextToken"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.lookup_events(MaxResults=1, NextToken=token, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetTrail"}])
    assert e.value.response["Error"]["Code"] == "InvalidNextTokenException"
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.lookup_events(MaxResults=1, NextToken=tampered, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DescribeTrails"}])
    assert e.value.response["Error"]["Code"] == "InvalidNextTokenException"
    ok = client.lookup_events(MaxResults=1, NextToken=token, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DescribeTrails"}])
    assert ok["Events"][0]["EventId"] != page["Events"][0]["EventId"]


def test_unsupported_operations_say_so(cairn):
    rc, _, err = cairn.aws("cloudtrail", "create-dashboard", "--name", "board", check=False)
    assert rc != 0
    assert "UnsupportedOperationException" in err and "CreateDashboard" in err
