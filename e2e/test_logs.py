"""CloudWatch Logs with the real AWS CLI and boto3: groups, retention, streams, PutLogEvents with
AWS's batch rules, GetLogEvents forward and backward, FilterLogEvents with JSON and term patterns,
metric filters and TestMetricFilter on a real CloudTrail record, account resource policies
(PutResourcePolicy, DescribeResourcePolicies, DeleteResourcePolicy) with their quota, AWS's errors, and each call
recorded as a logs.amazonaws.com event with the caller's identity (management events in event
history; the log event calls are data events, which event history does not show)."""

import gzip
import json
import time

import botocore.exceptions
import pytest

from conftest import REAL_DATA, lookup_all

CIS_ROOT = ('{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
            '&& $.eventType != "AwsServiceEvent" }')


@pytest.fixture(scope="module")
def logs(cairn):
    return cairn.client("logs")


def error_of(call, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(*args, **kwargs)
    return e.value.response["Error"]["Code"], e.value.response["Error"].get("Message", "")


def now_ms(cairn):
    return int(cairn.now().timestamp() * 1000)


def test_groups_streams_and_events_with_the_cli(cairn):
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    cairn.aws("logs", "create-log-group", "--log-group-name", "/cli/app")
    code, _, err = cairn.aws("logs", "create-log-group", "--log-group-name", "/cli/app", check=False)
    assert code != 0 and "ResourceAlreadyExistsException" in err and "The specified log group already exists" in err
    cairn.aws("logs", "put-retention-policy", "--log-group-name", "/cli/app", "--retention-in-days", "30")
    code, _, err = cairn.aws("logs", "put-retention-policy", "--log-group-name", "/cli/app",
                             "--retention-in-days", "8", check=False)
    assert code != 0 and "InvalidParameterException" in err
    _, groups, _ = cairn.aws("logs", "describe-log-groups", "--log-group-name-prefix", "/cli/")
    [g] = groups["logGroups"]
    assert g["logGroupName"] == "/cli/app" and g["retentionInDays"] == 30
    assert g["arn"] == f"arn:aws:logs:us-east-1:{account}:log-group:/cli/app:*"
    assert g["logGroupArn"] == f"arn:aws:logs:us-east-1:{account}:log-group:/cli/app"
    assert g["metricFilterCount"] == 0 and g["arn"].split(":")[6] == "/cli/app"

    cairn.aws("logs", "create-log-stream", "--log-group-name", "/cli/app", "--log-stream-name", "web-1")
    now = now_ms(cairn)
    events = [
        {"timestamp": now - 15 * 86400 * 1000, "message": "too old"},
        {"timestamp": now - 1000, "message": "ERROR disk full"},
        {"timestamp": now, "message": "INFO all good"},
        {"timestamp": now + 3 * 3600 * 1000, "message": "too new"},
    ]
    _, put, _ = cairn.aws("logs", "put-log-events", "--log-group-name", "/cli/app", "--log-stream-name", "web-1",
                          "--log-events", json.dumps(events))
    assert put["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 0, "tooNewLogEventStartIndex": 3}
    assert len(put["nextSequenceToken"]) == 56
    _, got, _ = cairn.aws("logs", "get-log-events", "--log-group-name", "/cli/app", "--log-stream-name", "web-1",
                          "--start-from-head")
    assert [e["message"] for e in got["events"]] == ["ERROR disk full", "INFO all good"]
    assert got["nextForwardToken"].startswith("f/") and got["nextBackwardToken"].startswith("b/")
    assert all(e["ingestionTime"] >= now - 5000 for e in got["events"])
    _, found, _ = cairn.aws("logs", "filter-log-events", "--log-group-name", "/cli/app", "--filter-pattern", "ERROR")
    assert [(e["logStreamName"], e["message"]) for e in found["events"]] == [("web-1", "ERROR disk full")]
    assert found["searchedLogStreams"] == []
    _, streams, _ = cairn.aws("logs", "describe-log-streams", "--log-group-name", "/cli/app")
    [s] = streams["logStreams"]
    assert (s["firstEventTimestamp"], s["lastEventTimestamp"], s["storedBytes"]) == (now - 1000, now, 0)
    assert s["arn"] == f"arn:aws:logs:us-east-1:{account}:log-group:/cli/app:log-stream:web-1"
    assert "lastIngestionTime" in s

    code, _, err = cairn.aws("logs", "get-log-events", "--log-group-name", "/cli/nope",
                             "--log-stream-name", "x", check=False)
    assert code != 0 and "ResourceNotFoundException" in err and "The specified log group does not exist." in err
    cairn.aws("logs", "delete-log-stream", "--log-group-name", "/cli/app", "--log-stream-name", "web-1")
    cairn.aws("logs", "delete-retention-policy", "--log-group-name", "/cli/app")
    _, groups, _ = cairn.aws("logs", "describe-log-groups", "--log-group-name-prefix", "/cli/")
    assert "retentionInDays" not in groups["logGroups"][0]
    cairn.aws("logs", "delete-log-group", "--log-group-name", "/cli/app")
    _, groups, _ = cairn.aws("logs", "describe-log-groups", "--log-group-name-prefix", "/cli/")
    assert groups["logGroups"] == []


def test_describe_groups_pages_and_patterns(logs):
    for n in ["a", "b", "c", "d", "e"]:
        logs.create_log_group(logGroupName=f"/page/{n}-Data")
    names, token = [], None
    while True:
        kw = {"logGroupNamePrefix": "/page/", "limit": 2}
        if token:
            kw["nextToken"] = token
        page = logs.describe_log_groups(**kw)
        assert len(page["logGroups"]) <= 2
        names += [g["logGroupName"] for g in page["logGroups"]]
        token = page.get("nextToken")
        if not token:
            break
    assert names == [f"/page/{n}-Data" for n in "abcde"]
    brief = logs.describe_log_groups(logGroupNamePattern="c-Dat")["logGroups"]
    assert brief == [{"logGroupName": "/page/c-Data", "creationTime": brief[0]["creationTime"],
                      "arn": brief[0]["arn"]}]
    assert logs.describe_log_groups(logGroupNamePattern="c-dat")["logGroups"] == [], "case-sensitive"
    assert error_of(logs.describe_log_groups, logGroupNamePrefix="/p", logGroupNamePattern="x") == (
        "InvalidParameterException",
        "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
    assert error_of(logs.describe_log_groups, nextToken="garbage") == (
        "InvalidParameterException", "The specified nextToken is invalid.")
    code, msg = error_of(logs.create_log_group, logGroupName="bad name")
    assert code == "InvalidParameterException" and "regular expression pattern" in msg


def test_put_and_get_events_with_boto3(logs, cairn):
    logs.create_log_group(logGroupName="sdk")
    logs.create_log_stream(logGroupName="sdk", logStreamName="s")
    assert error_of(logs.create_log_stream, logGroupName="sdk", logStreamName="s") == (
        "ResourceAlreadyExistsException", "The specified log stream already exists")
    assert error_of(logs.put_log_events, logGroupName="sdk", logStreamName="nope",
                    logEvents=[{"timestamp": now_ms(cairn), "message": "m"}]) == (
        "ResourceNotFoundException", "The specified log stream does not exist.")
    base = now_ms(cairn) - 60_000
    assert error_of(logs.put_log_events, logGroupName="sdk", logStreamName="s",
                    logEvents=[{"timestamp": base + 1, "message": "b"}, {"timestamp": base, "message": "a"}]) == (
        "InvalidParameterException",
        "Log events in a single PutLogEvents request must be in chronological order.")
    code, msg = error_of(logs.put_log_events, logGroupName="sdk", logStreamName="s",
                         logEvents=[{"timestamp": base, "message": "x" * 200_000}] * 6)
    assert code == "InvalidParameterException" and "Upload too large" in msg
    for i in range(0, 10, 5):
        r = logs.put_log_events(logGroupName="sdk", logStreamName="s", sequenceToken="ignored",
                                logEvents=[{"timestamp": base + j, "message": f"m{j}"} for j in range(i, i + 5)])
        assert "rejectedLogEventsInfo" not in r
    # Default: the latest events; then backward through the older ones.
    latest = logs.get_log_events(logGroupName="sdk", logStreamName="s", limit=4)
    assert [e["message"] for e in latest["events"]] == ["m6", "m7", "m8", "m9"]
    back = logs.get_log_events(logGroupName="sdk", logStreamName="s", limit=4, nextToken=latest["nextBackwardToken"])
    assert [e["message"] for e in back["events"]] == ["m2", "m3", "m4", "m5"]
    # Forward from the head until the token repeats.
    seen, token = [], None
    while True:
        kw = {"logGroupName": "sdk", "logStreamName": "s", "limit": 3, "startFromHead": True}
        if token:
            kw["nextToken"] = token
        page = logs.get_log_events(**kw)
        seen += [e["message"] for e in page["events"]]
        if page["nextForwardToken"] == token:
            break
        token = page["nextForwardToken"]
    assert seen == [f"m{j}" for j in range(10)]
    window = logs.get_log_events(logGroupName="sdk", logStreamName="s", startTime=base + 2, endTime=base + 4,
                                 startFromHead=True)
    assert [e["message"] for e in window["events"]] == ["m2", "m3"], "start inclusive, end exclusive"
    assert error_of(logs.get_log_events, logGroupName="sdk", logStreamName="s", nextToken="f/123") == (
        "InvalidParameterException", "The specified nextToken is invalid.")


def test_filter_events_with_patterns_and_pages(logs, cairn):
    logs.create_log_group(logGroupName="filter")
    now = now_ms(cairn) - 10_000
    for stream in ["api-1", "api-2", "worker"]:
        logs.create_log_stream(logGroupName="filter", logStreamName=stream)
    logs.put_log_events(logGroupName="filter", logStreamName="api-1", logEvents=[
        {"timestamp": now, "message": json.dumps({"status": 500, "path": "/a"})},
        {"timestamp": now + 2, "message": json.dumps({"status": 200, "path": "/b"})}])
    logs.put_log_events(logGroupName="filter", logStreamName="api-2", logEvents=[
        {"timestamp": now + 1, "message": json.dumps({"status": 503, "path": "/c"})}])
    logs.put_log_events(logGroupName="filter", logStreamName="worker", logEvents=[
        {"timestamp": now + 3, "message": "ERROR job failed"}, {"timestamp": now + 4, "message": "INFO job done"}])
    r = logs.filter_log_events(logGroupName="filter", filterPattern="{ $.status >= 500 }")
    assert [(e["logStreamName"], json.loads(e["message"])["path"]) for e in r["events"]] == [
        ("api-1", "/a"), ("api-2", "/c")]
    assert all(len(e["eventId"]) == 56 for e in r["events"])
    r = logs.filter_log_events(logGroupName="filter", filterPattern="?ERROR ?503", logStreamNamePrefix="wor")
    assert [e["message"] for e in r["events"]] == ["ERROR job failed"]
    r = logs.filter_log_events(logGroupName="filter", logStreamNames=["api-2", "worker"], startTime=now + 1,
                               endTime=now + 4)
    assert [e["logStreamName"] for e in r["events"]] == ["api-2", "worker"]
    # Pages across streams, with the paginator the CLI and SDKs use.
    pages = list(logs.get_paginator("filter_log_events").paginate(logGroupName="filter", PaginationConfig={"PageSize": 2}))
    assert [e["timestamp"] - now for p in pages for e in p["events"]] == [0, 1, 2, 3, 4]
    assert error_of(logs.filter_log_events, logGroupName="filter", filterPattern="{ $.status = }") == (
        "InvalidParameterException", "Invalid metric filter pattern")
    code, msg = error_of(logs.filter_log_events, logGroupName="filter", limit=10001)
    assert code == "InvalidParameterException" and msg == (
        "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 10000")


def real_root_record():
    with gzip.open(REAL_DATA / "records.jsonl.gz", "rt") as f:
        for line in f:
            r = json.loads(line)
            u = r.get("userIdentity", {})
            # Records old enough to have no eventType never match `$.eventType != …`.
            if u.get("type") == "Root" and "invokedBy" not in u and r.get("eventType") == "AwsApiCall":
                return line.strip()
    pytest.skip("no root record in the corpus")


def test_metric_filters_and_test_metric_filter(cairn, logs):
    cairn.aws("logs", "create-log-group", "--log-group-name", "ct")
    cairn.aws("logs", "put-metric-filter", "--log-group-name", "ct", "--filter-name", "root",
              "--filter-pattern", CIS_ROOT, "--metric-transformations",
              "metricName=RootUse,metricNamespace=CIS,metricValue=1")
    _, d, _ = cairn.aws("logs", "describe-metric-filters", "--log-group-name", "ct")
    [f] = d["metricFilters"]
    assert (f["filterName"], f["filterPattern"], f["logGroupName"]) == ("root", CIS_ROOT, "ct")
    assert f["metricTransformations"] == [{"metricName": "RootUse", "metricNamespace": "CIS", "metricValue": "1"}]
    assert logs.describe_log_groups(logGroupNamePrefix="ct")["logGroups"][0]["metricFilterCount"] == 1
    assert logs.describe_metric_filters(metricName="RootUse", metricNamespace="CIS")["metricFilters"][0]["filterName"] == "root"
    code, _, err = cairn.aws("logs", "put-metric-filter", "--log-group-name", "ct", "--filter-name", "bad",
                             "--filter-pattern", "{ $.a = ", "--metric-transformations",
                             "metricName=M,metricNamespace=N,metricValue=1", check=False)
    assert code != 0 and "InvalidParameterException" in err and "Invalid metric filter pattern" in err
    assert error_of(logs.put_metric_filter, logGroupName="nope", filterName="f", filterPattern="",
                    metricTransformations=[{"metricName": "M", "metricNamespace": "N", "metricValue": "1"}]) == (
        "ResourceNotFoundException", "The specified log group does not exist.")
    root = real_root_record()
    _, t, _ = cairn.aws("logs", "test-metric-filter", "--filter-pattern", CIS_ROOT,
                        "--log-event-messages", '{"userIdentity": {"type": "IAMUser"}}', root)
    assert [(m["eventNumber"], m["eventMessage"]) for m in t["matches"]] == [(1, root)]
    t = logs.test_metric_filter(filterPattern="[ip, user, status=4*]",
                                logEventMessages=["1.2.3.4 bob 404", "1.2.3.4 amy 200"])
    assert t["matches"] == [{"eventNumber": 0, "eventMessage": "1.2.3.4 bob 404",
                             "extractedValues": {"$ip": "1.2.3.4", "$user": "bob", "$status": "404"}}]
    assert error_of(logs.test_metric_filter, filterPattern="{ $.x = ", logEventMessages=["a"]) == (
        "InvalidParameterException", "Invalid metric filter pattern")
    cairn.aws("logs", "delete-metric-filter", "--log-group-name", "ct", "--filter-name", "root")
    assert logs.describe_metric_filters(logGroupName="ct")["metricFilters"] == []
    assert error_of(logs.delete_metric_filter, logGroupName="ct", filterName="root")[0] == "ResourceNotFoundException"


def test_tags(logs, cairn):
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    logs.create_log_group(logGroupName="tagged", tags={"team": "sec"})
    arn = f"arn:aws:logs:us-east-1:{account}:log-group:tagged"
    logs.tag_resource(resourceArn=arn, tags={"env": "lab"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "sec", "env": "lab"}
    logs.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert logs.list_tags_log_group(logGroupName="tagged")["tags"] == {"env": "lab"}


def test_calls_are_recorded_with_the_callers_identity(cairn, logs):
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    logs.create_log_group(logGroupName="audited")
    logs.create_log_stream(logGroupName="audited", logStreamName="s")
    logs.put_log_events(logGroupName="audited", logStreamName="s",
                        logEvents=[{"timestamp": now_ms(cairn), "message": "secret payload"}])
    logs.describe_log_streams(logGroupName="audited")
    error_of(logs.create_log_group, logGroupName="audited")
    ct = cairn.client("cloudtrail")

    def records():
        evs = lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "logs.amazonaws.com"}])
        return [json.loads(e["CloudTrailEvent"]) for e in evs]

    deadline = time.time() + 20
    while True:
        rs = [r for r in records() if (r.get("requestParameters") or {}).get("logGroupName") == "audited"]
        if len(rs) >= 4 or time.time() > deadline:
            break
        time.sleep(0.3)
    by_name = {}
    for r in rs:
        by_name.setdefault(r["eventName"], []).append(r)
    assert set(by_name) == {"CreateLogGroup", "CreateLogStream", "DescribeLogStreams"}, \
        "PutLogEvents is a data event: not in event history"
    create_ok = [r for r in by_name["CreateLogGroup"] if "errorCode" not in r]
    failed = [r for r in by_name["CreateLogGroup"] if "errorCode" in r]
    assert len(create_ok) == 1 and failed[0]["errorCode"] == "ResourceAlreadyExistsException"
    for r in rs:
        assert r["userIdentity"]["type"] == "Root"
        assert r["userIdentity"]["arn"] == f"arn:aws:iam::{account}:root"
        assert r["eventSource"] == "logs.amazonaws.com" and r["eventCategory"] == "Management"
        assert r["responseElements"] is None
    assert by_name["DescribeLogStreams"][0]["readOnly"] is True
    assert create_ok[0]["readOnly"] is False
    assert by_name["CreateLogStream"][0]["requestParameters"] == {"logGroupName": "audited", "logStreamName": "s"}


def events_policy(resource, sid="events"):
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": sid, "Effect": "Allow",
        "Principal": {"Service": ["events.amazonaws.com", "delivery.logs.amazonaws.com"]},
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": resource}]})


def test_resource_policies_with_the_cli(cairn):
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    document = events_policy(f"arn:aws:logs:us-east-1:{account}:log-group:/aws/events/*:*")
    _, put, _ = cairn.aws("logs", "put-resource-policy", "--policy-name", "cli-events",
                          "--policy-document", document)
    p = put["resourcePolicy"]
    assert (p["policyName"], p["policyDocument"], p["policyScope"]) == ("cli-events", document, "ACCOUNT")
    assert abs(p["lastUpdatedTime"] - now_ms(cairn)) < 60_000
    assert "resourceArn" not in p and "revisionId" not in p, "only resource-scoped policies have them"
    _, listed, _ = cairn.aws("logs", "describe-resource-policies")
    assert [q["policyName"] for q in listed["resourcePolicies"]] == ["cli-events"]
    assert listed["resourcePolicies"][0] == p

    # A put of the same name replaces the document.
    replaced = events_policy(f"arn:aws:logs:us-east-1:{account}:log-group:other:*", sid="other")
    cairn.aws("logs", "put-resource-policy", "--policy-name", "cli-events", "--policy-document", replaced)
    _, listed, _ = cairn.aws("logs", "describe-resource-policies")
    assert [(q["policyName"], q["policyDocument"]) for q in listed["resourcePolicies"]] == [("cli-events", replaced)]

    code, _, err = cairn.aws("logs", "put-resource-policy", "--policy-name", "bad",
                             "--policy-document", "{not json", check=False)
    assert code != 0 and "InvalidParameterException" in err
    cairn.aws("logs", "delete-resource-policy", "--policy-name", "cli-events")
    code, _, err = cairn.aws("logs", "delete-resource-policy", "--policy-name", "cli-events", check=False)
    assert code != 0 and "ResourceNotFoundException" in err and "Policy with name [cli-events] does not exist" in err
    _, listed, _ = cairn.aws("logs", "describe-resource-policies")
    assert listed["resourcePolicies"] == []


def test_resource_policies_with_boto3_limits_and_errors(logs, cairn):
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    doc = events_policy(f"arn:aws:logs:us-east-1:{account}:log-group:g:*")
    for i in range(10):
        logs.put_resource_policy(policyName=f"p{i}", policyDocument=doc)
    assert error_of(logs.put_resource_policy, policyName="p10", policyDocument=doc) == \
        ("LimitExceededException", "Resource limit exceeded.")
    # At the limit, an existing policy can still be replaced.
    logs.put_resource_policy(policyName="p3", policyDocument=events_policy("*", sid="all"))

    pages = list(logs.get_paginator("describe_resource_policies").paginate(PaginationConfig={"PageSize": 4}))
    assert [len(pg["resourcePolicies"]) for pg in pages] == [4, 4, 2]
    names = [q["policyName"] for pg in pages for q in pg["resourcePolicies"]]
    assert names == [f"p{i}" for i in range(10)]
    assert error_of(logs.describe_resource_policies, nextToken="not-a-token")[0] == "InvalidParameterException"
    # Per region: another region has none of them.
    assert cairn.client("logs", region="eu-west-1").describe_resource_policies()["resourcePolicies"] == []

    no_principal = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}]})
    for bad in ["not json", "[]", no_principal]:
        assert error_of(logs.put_resource_policy, policyName="p1", policyDocument=bad) == \
            ("InvalidParameterException", "Could not convert to persistable policy.")
    code, message = error_of(logs.put_resource_policy, policyName="p1", policyDocument="x" * 51201)
    assert code == "InvalidParameterException" and \
        "Member must have length less than or equal to 51200" in message
    assert error_of(logs.put_resource_policy, policyName="p1", policyDocument=doc,
                    resourceArn=f"arn:aws:logs:us-east-1:{account}:log-group:g")[0] == "UnsupportedOperationException"
    assert error_of(logs.describe_resource_policies, policyScope="RESOURCE")[0] == "UnsupportedOperationException"
    assert error_of(logs.delete_resource_policy, policyName="nope") == \
        ("ResourceNotFoundException", "Policy with name [nope] does not exist")
    for i in range(10):
        logs.delete_resource_policy(policyName=f"p{i}")
    assert logs.describe_resource_policies()["resourcePolicies"] == []

    # Each call is recorded as a management event with its parameters.
    def recorded():
        trail = cairn.client("cloudtrail")
        found = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName",
                                                       "AttributeValue": "DeleteResourcePolicy"}])["Events"]
        return [json.loads(e["CloudTrailEvent"]) for e in found]
    deadline = time.time() + 10
    while len(recorded()) < 11 and time.time() < deadline:
        time.sleep(0.3)
    records = recorded()
    missing = [r for r in records if r.get("errorCode")]
    assert missing[0]["errorCode"] == "ResourceNotFoundException"
    assert missing[0]["requestParameters"] == {"policyName": "nope"}
    assert all(r["eventSource"] == "logs.amazonaws.com" and r["readOnly"] is False for r in records)


def test_retention_is_enforced_on_the_instance_clock(new_cairn):
    c = new_cairn(["--test-clock"])
    logs = c.client("logs")
    logs.create_log_group(logGroupName="short")
    logs.create_log_stream(logGroupName="short", logStreamName="s")
    logs.put_retention_policy(logGroupName="short", retentionInDays=1)
    logs.put_log_events(logGroupName="short", logStreamName="s",
                        logEvents=[{"timestamp": now_ms(c) - 1000, "message": "soon gone"}])
    assert len(logs.get_log_events(logGroupName="short", logStreamName="s")["events"]) == 1
    c.advance(2 * 86400)
    assert logs.get_log_events(logGroupName="short", logStreamName="s")["events"] == []
    assert logs.filter_log_events(logGroupName="short")["events"] == []
    # And an event older than the retention is rejected as expired.
    r = logs.put_log_events(logGroupName="short", logStreamName="s",
                            logEvents=[{"timestamp": now_ms(c) - 2 * 86400 * 1000, "message": "x"},
                                       {"timestamp": now_ms(c), "message": "y"}])
    assert r["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 0}
