"""Trails that deliver, the classic exercise end to end with the real AWS CLI: a bucket with
AWS's documented policy, a multi-region trail, activity in three regions, log files in AWS's
exact layout whose records equal event history's; data events by selector; DuckDB reads the
files."""

import gzip
import json
import re
import uuid
import zlib
from datetime import datetime, timezone

import pytest

from conftest import REAL_DATA, documented_policy, lookup_all, wait_for

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-1"]


@pytest.fixture(scope="module")
def lab(workdir):
    from conftest import Cairn
    c = Cairn(workdir / "delivery-lab", ["--delivery-interval", "1", "--test-clock"])
    c.start()
    yield c
    c.stop()


def account_of(c):
    rid = c.client().describe_trails()["ResponseMetadata"]["RequestId"]
    for e in lookup_all(c.client(), LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DescribeTrails"}]):
        rec = json.loads(e["CloudTrailEvent"])
        if rec["requestID"] == rid:
            return rec["recipientAccountId"]
    raise AssertionError("own call not found")


def download_all(c, bucket, dest):
    c.aws("s3", "cp", f"s3://{bucket}", str(dest), "--recursive")
    files = sorted(p for p in dest.rglob("*.json.gz"))
    return files


def test_classic_exercise(lab, tmp_path):
    account = account_of(lab)
    bucket = f"ct-{uuid.uuid4().hex[:10]}"
    prefix = "team/ct"
    lab.aws("s3", "mb", f"s3://{bucket}")
    trail_arn = f"arn:aws:cloudtrail:us-east-1:{account}:trail/lab-trail"
    lab.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", documented_policy(bucket, account, prefix, trail_arn))
    lab.aws("cloudtrail", "create-trail", "--name", "lab-trail", "--s3-bucket-name", bucket, "--s3-key-prefix", prefix, "--is-multi-region-trail")
    started_after = datetime.now(timezone.utc).replace(microsecond=0)
    lab.aws("cloudtrail", "start-logging", "--name", "lab-trail")
    started_before = datetime.now(timezone.utc)
    request_ids = {}
    for r in REGIONS:
        for _ in range(3):
            rid = lab.client(region=r).describe_trails()["ResponseMetadata"]["RequestId"]
            request_ids[rid] = r
        lab.client("s3", region=r).list_buckets()
    # Everything is delivered within an interval or two.
    def all_delivered():
        files = download_all(lab, bucket, tmp_path / "dl")
        got = {}
        for f in files:
            for rec in json.loads(gzip.open(f).read())["Records"]:
                got[rec["requestID"]] = (f, rec)
        # CloudTrail's check of the bucket before its first file arrives in a later one.
        checked = any(rec["eventName"] == "GetBucketAcl" for _, rec in got.values())
        return (files, got) if set(request_ids) <= set(got) and checked else None
    files, got = wait_for(all_delivered)
    # AWS's exact layout and names.
    pattern = re.compile(rf"^{prefix}/AWSLogs/{account}/CloudTrail/(?P<region>[a-z0-9-]+)/(?P<y>\d{{4}})/(?P<m>\d\d)/(?P<d>\d\d)/"
                         rf"{account}_CloudTrail_(?P=region)_(?P=y)(?P=m)(?P=d)T\d{{4}}Z_[A-Za-z0-9]{{16}}\.json\.gz$")
    _, listing, _ = lab.aws("s3", "ls", f"s3://{bucket}", "--recursive")
    keys = [line.split()[-1] for line in listing.splitlines()]
    assert keys and all(pattern.match(k) for k in keys), keys
    regions_seen = {pattern.match(k).group("region") for k in keys}
    assert set(REGIONS) <= regions_seen
    # Each file holds only its region's records, in one gzip member.
    for f in files:
        region = f.name.split("_")[2]
        data = f.read_bytes()
        assert data[:2] == b"\x1f\x8b"
        member = zlib.decompressobj(wbits=31)
        body = member.decompress(data)
        assert member.eof and member.unused_data == b"", "a single gzip member"
        for rec in json.loads(body)["Records"]:
            assert rec["awsRegion"] == region
    # Every delivered record equals, as JSON, what LookupEvents returns for it (all of them:
    # the CLI's calls, S3 bucket calls, CloudTrail's own bucket check); none twice.
    records = [rec for f in files for rec in json.loads(gzip.open(f).read())["Records"]]
    for rec in records:
        assert rec["managementEvent"] is True
        found = lab.client(region=rec["awsRegion"]).lookup_events(
            LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": rec["eventID"]}])["Events"]
        assert [json.loads(e["CloudTrailEvent"]) for e in found] == [rec], rec["eventName"]
    assert {"StartLogging", "ListBuckets", "GetBucketAcl", "DescribeTrails"} <= {r["eventName"] for r in records}
    ids = [rec["eventID"] for rec in records]
    assert len(ids) == len(set(ids)), "each event in exactly one log file"
    status = lab.client().get_trail_status(Name="lab-trail")
    assert status["IsLogging"] and "LatestDeliveryTime" in status and "LatestDeliveryError" not in status
    # True times: logging started between the calls around start-logging; files since then.
    assert started_after <= status["StartLoggingTime"] <= started_before
    assert status["StartLoggingTime"] <= status["LatestDeliveryTime"] <= datetime.now(timezone.utc)
    # The string-typed members, as AWS fills them: ISO times, "" for what never happened.
    iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
    assert iso.match(status["LatestDeliveryAttemptTime"]) and iso.match(status["LatestDeliveryAttemptSucceeded"])
    assert iso.match(status["TimeLoggingStarted"]) and status["TimeLoggingStopped"] == ""
    assert status["LatestNotificationAttemptTime"] == "" and status["LatestNotificationAttemptSucceeded"] == ""

    # DuckDB, a real third-party consumer, reads the files and counts the same events.
    import duckdb
    n = duckdb.sql(f"SELECT count(*) FROM (SELECT unnest(Records) FROM read_json('{tmp_path}/dl/**/*.json.gz'))").fetchall()[0][0]
    assert n == len(ids)

    # After StopLogging nothing more is delivered; what came just before it still is.
    just_before = lab.client(region="eu-west-1").describe_trails()["ResponseMetadata"]["RequestId"]
    stopped_after = datetime.now(timezone.utc).replace(microsecond=0)
    lab.aws("cloudtrail", "stop-logging", "--name", "lab-trail")
    stopped_before = datetime.now(timezone.utc)
    late = lab.client(region="eu-west-1").describe_trails()["ResponseMetadata"]["RequestId"]
    lab.advance(2)  # a delivery round has run since
    final = download_all(lab, bucket, tmp_path / "dl2")
    delivered = {rec["requestID"] for f in final for rec in json.loads(gzip.open(f).read())["Records"]}
    assert just_before in delivered
    assert late not in delivered
    status = lab.client().get_trail_status(Name="lab-trail")
    assert not status["IsLogging"] and stopped_after <= status["StopLoggingTime"] <= stopped_before
    assert iso.match(status["TimeLoggingStopped"])
    lab.aws("cloudtrail", "delete-trail", "--name", "lab-trail")


def test_data_events_by_advanced_selector(lab, tmp_path):
    account = account_of(lab)
    logs = f"logs-{uuid.uuid4().hex[:8]}"
    data = f"data-{uuid.uuid4().hex[:8]}"
    s3 = lab.client("s3")
    s3.create_bucket(Bucket=logs)
    s3.create_bucket(Bucket=data)
    s3.put_bucket_policy(Bucket=logs, Policy=documented_policy(logs, account))
    ct = lab.client()
    ct.create_trail(Name="data-trail", S3BucketName=logs)
    ct.put_event_selectors(TrailName="data-trail", AdvancedEventSelectors=[{"Name": "watched objects", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{data}/watched/"]}]}])
    ct.start_logging(Name="data-trail")
    s3.put_object(Bucket=data, Key="watched/a.txt", Body=b"a")
    s3.get_object(Bucket=data, Key="watched/a.txt")["Body"].read()
    s3.put_object(Bucket=data, Key="ignored/b.txt", Body=b"b")
    ct.describe_trails()

    def delivered():
        names = sorted((r["eventName"], r.get("requestParameters", {}).get("key")) for r in records_in(s3, logs))
        return names if ("GetObject", "watched/a.txt") in names else None
    names = wait_for(delivered)
    assert names == [("GetObject", "watched/a.txt"), ("PutObject", "watched/a.txt")], "only selected data events, no management events"
    # Nor in a later file: the unselected calls were made before the selected ones showed.
    lab.advance(2)  # a delivery round has run since
    assert delivered() == names

    # Each data event has the shape of AWS's documented S3 data event (reference: the GetObject
    # example in CloudTrail's record contents).
    documented = {"eventVersion": "1.11", "userIdentity": {}, "eventTime": "", "eventSource": "s3.amazonaws.com",
                  "eventName": "GetObject", "awsRegion": "", "sourceIPAddress": "", "userAgent": "",
                  "requestParameters": {"bucketName": "", "Host": "", "key": ""}, "responseElements": None,
                  "additionalEventData": {"SignatureVersion": "SigV4", "CipherSuite": "", "bytesTransferredIn": 0,
                                          "AuthenticationMethod": "AuthHeader", "x-amz-id-2": "", "bytesTransferredOut": 0},
                  "requestID": "", "eventID": "", "readOnly": True,
                  "resources": [{"type": "AWS::S3::Object", "ARN": ""}, {"accountId": "", "type": "AWS::S3::Bucket", "ARN": ""}],
                  "eventType": "AwsApiCall", "managementEvent": False, "recipientAccountId": "", "eventCategory": "Data",
                  "tlsDetails": {}}
    for mine in records_in(s3, logs):
        # TLS belongs to HTTPS (tlsDetails, CipherSuite); the embedded S3 speaks plain HTTP.
        assert set(mine) == set(documented) - {"tlsDetails"}, set(mine) ^ set(documented)
        assert set(mine["additionalEventData"]) == set(documented["additionalEventData"]) - {"CipherSuite"}
        assert set(mine["requestParameters"]) == set(documented["requestParameters"])
        assert [set(r) for r in mine["resources"]] == [set(r) for r in documented["resources"]]
        assert [r["type"] for r in mine["resources"]] == ["AWS::S3::Object", "AWS::S3::Bucket"]
        assert mine["resources"][0]["ARN"] == f"arn:aws:s3:::{data}/watched/a.txt"
        assert mine["userIdentity"]["type"] == "Root" and mine["userIdentity"]["accountId"] == account
        assert mine["eventCategory"] == "Data" and mine["managementEvent"] is False
        assert mine["readOnly"] is (mine["eventName"] == "GetObject")
        assert mine["additionalEventData"]["bytesTransferredIn" if mine["eventName"] == "PutObject" else "bytesTransferredOut"] == 1
    history = lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "s3.amazonaws.com"}])
    assert not any(e["EventName"] in ("PutObject", "GetObject") for e in history)
    ct.delete_trail(Name="data-trail")


def test_cloudtrails_own_writes_are_awsservice_data_events(lab):
    """A trail selecting data events on another trail's bucket sees CloudTrail's own PutObject
    of each log file, by the AWSService cloudtrail.amazonaws.com, as AWS records it."""
    account = account_of(lab)
    watched = f"watched-{uuid.uuid4().hex[:8]}"
    audit = f"audit-{uuid.uuid4().hex[:8]}"
    s3 = lab.client("s3")
    for b in (watched, audit):
        s3.create_bucket(Bucket=b)
        s3.put_bucket_policy(Bucket=b, Policy=documented_policy(b, account))
    ct = lab.client()
    ct.create_trail(Name="writer", S3BucketName=watched)
    ct.create_trail(Name="watcher", S3BucketName=audit)
    ct.put_event_selectors(TrailName="watcher", AdvancedEventSelectors=[{"Name": "writes to the log bucket", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{watched}/"]}]}])
    ct.start_logging(Name="watcher")
    ct.start_logging(Name="writer")
    ct.describe_trails()
    written = wait_for(lambda: [o["Key"] for o in s3.list_objects_v2(Bucket=watched).get("Contents", [])])

    def seen():
        recs = []
        for o in s3.list_objects_v2(Bucket=audit).get("Contents", []):
            recs += json.loads(gzip.decompress(s3.get_object(Bucket=audit, Key=o["Key"])["Body"].read()))["Records"]
        puts = [r for r in recs if r["eventName"] == "PutObject" and r["requestParameters"]["key"] in written]
        return puts or None
    put = wait_for(seen)[0]
    assert put["userIdentity"] == {"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"}
    assert put["sourceIPAddress"] == "cloudtrail.amazonaws.com" and put["userAgent"] == "cloudtrail.amazonaws.com"
    assert put["eventCategory"] == "Data" and put["managementEvent"] is False and put["recipientAccountId"] == account
    assert put["requestParameters"]["bucketName"] == watched
    assert put["requestParameters"]["x-amz-acl"] == "bucket-owner-full-control"
    assert {r["type"] for r in put["resources"]} == {"AWS::S3::Object", "AWS::S3::Bucket"}
    # The same identity shape as AWS's records of CloudTrail's own S3 calls.
    with gzip.open(REAL_DATA / "records.jsonl.gz", "rt") as f:
        real = next(r for r in map(json.loads, f) if r.get("userIdentity", {}).get("invokedBy") == "cloudtrail.amazonaws.com"
                    and r.get("eventSource") == "s3.amazonaws.com")
    assert set(put["userIdentity"]) == set(real["userIdentity"])
    assert put["sourceIPAddress"] == real["sourceIPAddress"] and put["userAgent"] == real["userAgent"]
    history = lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "PutObject"}])
    assert not history

    # Before delivering, CloudTrail checks the bucket's ACL: a read-only management event, in
    # event history and in the writer trail's own log files, made once (not before every file).
    def acl_checks():
        got = [json.loads(e["CloudTrailEvent"]) for e in lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetBucketAcl"}])]
        return [r for r in got if r["requestParameters"]["bucketName"] == watched] or None
    check = wait_for(acl_checks)[0]
    with gzip.open(REAL_DATA / "records.jsonl.gz", "rt") as f:
        real_check = next(r for r in map(json.loads, f) if r.get("eventName") == "GetBucketAcl"
                          and r.get("userIdentity", {}).get("invokedBy") == "cloudtrail.amazonaws.com")
    assert set(check) == set(real_check), set(check) ^ set(real_check)
    assert check["userIdentity"] == real_check["userIdentity"]
    assert set(check["requestParameters"]) == set(real_check["requestParameters"]) and check["requestParameters"]["acl"] == ""
    # CipherSuite is TLS's; the embedded S3 is spoken to over plain HTTP.
    assert set(check["additionalEventData"]) == set(real_check["additionalEventData"]) - {"CipherSuite"}
    assert check["readOnly"] is True and check["managementEvent"] is True and check["recipientAccountId"] == account
    assert check["resources"] == [{"accountId": account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{watched}"}]
    assert "errorCode" not in check

    def delivered_check():
        recs = []
        for o in s3.list_objects_v2(Bucket=watched).get("Contents", []):
            recs += json.loads(gzip.decompress(s3.get_object(Bucket=watched, Key=o["Key"])["Body"].read()))["Records"]
        return [r for r in recs if r["eventID"] == check["eventID"]] or None
    assert wait_for(delivered_check) == [check]
    ct.describe_trails()
    lab.advance(2)  # a delivery round has run since
    assert len(acl_checks()) == 1
    for t in ("writer", "watcher"):
        ct.delete_trail(Name=t)


def test_delivery_errors_show_in_status_and_nothing_is_lost(lab):
    account = account_of(lab)
    b = f"gone-{uuid.uuid4().hex[:8]}"
    s3 = lab.client("s3")
    s3.create_bucket(Bucket=b)
    s3.put_bucket_policy(Bucket=b, Policy=documented_policy(b, account))
    ct = lab.client(region="us-east-2")
    ct.create_trail(Name="fragile", S3BucketName=b)
    ct.start_logging(Name="fragile")
    s3.delete_bucket_policy(Bucket=b)
    rid = ct.describe_trails()["ResponseMetadata"]["RequestId"]
    st = wait_for(lambda: (s := ct.get_trail_status(Name="fragile")).get("LatestDeliveryError") and s)
    assert st["LatestDeliveryError"] == "AccessDenied"
    s3.put_bucket_policy(Bucket=b, Policy=documented_policy(b, account))

    def found():
        for o in s3.list_objects_v2(Bucket=b).get("Contents", []):
            for r in json.loads(gzip.decompress(s3.get_object(Bucket=b, Key=o["Key"])["Body"].read()))["Records"]:
                if r["requestID"] == rid:
                    return True
        return False
    wait_for(found)
    assert "LatestDeliveryError" not in ct.get_trail_status(Name="fragile")
    ct.stop_logging(Name="fragile")
    ct.delete_trail(Name="fragile")


def records_in(s3, bucket):
    recs = []
    for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in p.get("Contents", []):
            recs += json.loads(gzip.decompress(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()))["Records"]
    return recs


def test_every_selector_operator_decides_delivery(lab):
    """Every advanced operator (in one selector, whose field selectors must all match) and the
    basic selectors' ReadWriteType, DataResources and ExcludeManagementEventSources, judged by
    what the trails deliver."""
    account = account_of(lab)
    s3, ct, kms = lab.client("s3"), lab.client(), lab.client("kms")
    data = f"ops-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=data)
    logs, trail_arn = {}, {}
    for t in ("advanced", "basic"):
        logs[t] = f"{t}-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(Bucket=logs[t])
        s3.put_bucket_policy(Bucket=logs[t], Policy=documented_policy(logs[t], account))
        trail_arn[t] = ct.create_trail(Name=f"ops-{t}", S3BucketName=logs[t])["TrailARN"]
    arn = f"arn:aws:s3:::{data}"
    ct.put_event_selectors(TrailName="ops-advanced", AdvancedEventSelectors=[{"Name": "all six", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": "readOnly", "Equals": ["false"]},
        {"Field": "resources.ARN", "StartsWith": [f"{arn}/"], "NotStartsWith": [f"{arn}/skip/"],
         "EndsWith": [".txt"], "NotEndsWith": [".tmp.txt"], "NotEquals": [f"{arn}/keep/no.txt"]}]}])
    ct.put_event_selectors(TrailName="ops-basic", EventSelectors=[{
        "ReadWriteType": "WriteOnly", "IncludeManagementEvents": True,
        "ExcludeManagementEventSources": ["kms.amazonaws.com"],
        "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"{arn}/keep/"]}]}])
    for t in ("advanced", "basic"):
        ct.start_logging(Name=f"ops-{t}")

    def put(key):
        return s3.put_object(Bucket=data, Key=key, Body=b"x")["ResponseMetadata"]["RequestId"]
    rid = {k: put(k) for k in ["keep/a.txt", "skip/a.txt", "keep/b.tmp.txt", "keep/c.bin", "keep/no.txt"]}
    rid["get keep/a.txt"] = s3.get_object(Bucket=data, Key="keep/a.txt")["ResponseMetadata"]["RequestId"]
    rid["read"] = ct.describe_trails()["ResponseMetadata"]["RequestId"]
    rid["kms write"] = kms.create_key()["ResponseMetadata"]["RequestId"]
    rid["write"] = ct.add_tags(ResourceId=trail_arn["basic"], TagsList=[{"Key": "k", "Value": "v"}])["ResponseMetadata"]["RequestId"]
    expected = {
        "advanced": {"keep/a.txt"},
        "basic": {"keep/a.txt", "keep/b.tmp.txt", "keep/c.bin", "keep/no.txt", "write"},
    }

    def got(t):
        seen = {r["requestID"] for r in records_in(s3, logs[t])}
        return {name for name, r in rid.items() if r in seen}
    wait_for(lambda: all(got(t) >= expected[t] for t in expected))
    lab.advance(2)  # a delivery round has run since
    for t in expected:
        assert got(t) == expected[t], t
    for t in ("advanced", "basic"):
        ct.delete_trail(Name=f"ops-{t}")
