"""Server access logging, with the real AWS CLI v1 and boto3 (issue 21, part 5): the logging
configuration and S3's errors for it, and access log objects delivered on the test clock into the
target bucket, under S3's key names, by the logging service the target bucket's policy lets in —
with the issue's "done" test: the GETs of a trail's log files appear in the trail bucket's access
log, field by field (a ranged GET with S3's 206, the bytes it sent and the object's whole size;
total and turn-around times in milliseconds)."""

import json
import re
import uuid

import botocore.exceptions
import pytest

from conftest import Cairn, documented_policy

# A log line's fields: bracketed time, quoted strings, or runs of non-spaces.
FIELD = re.compile(r'\[[^\]]*\]|"(?:[^"\\]|\\.)*"|\S+')
NAMES = ["owner", "bucket", "time", "ip", "requester", "request_id", "operation", "key", "uri", "status",
         "error", "bytes_sent", "object_size", "total_time", "turnaround", "referer", "user_agent",
         "version_id", "host_id", "signature", "cipher", "auth", "host", "tls", "access_point", "acl_required"]
SIMPLE_KEY = re.compile(r"^access/\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9A-F]{16}$")


@pytest.fixture(scope="module")
def lab(workdir):
    c = Cairn(workdir / "s3-access-logs", ["--test-clock"])
    c.start()
    yield c
    c.stop()


def logging_policy(target, account, source):
    """What AWS documents for a target bucket: the logging service may write under the prefix,
    for the source bucket of this account."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "S3ServerAccessLogsPolicy", "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{target}/access/*",
        "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{source}"},
                      "StringEquals": {"aws:SourceAccount": account}}}]})


def parse(body):
    out = []
    for line in body.decode().splitlines():
        fields = FIELD.findall(line)
        assert len(fields) == len(NAMES), line
        out.append(dict(zip(NAMES, fields)))
    return out


def delivered(s3, target, prefix="access/"):
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=target, Prefix=prefix).get("Contents", [])]
    lines = [line for k in keys for line in parse(s3.get_object(Bucket=target, Key=k)["Body"].read())]
    return keys, lines


def code_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_logging_configuration_and_s3s_errors(lab):
    s3 = lab.client("s3")
    src, dst = f"src-{uuid.uuid4().hex[:8]}", f"dst-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=src)
    s3.create_bucket(Bucket=dst)
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=src)
    on = {"LoggingEnabled": {"TargetBucket": "no-such-target-bucket", "TargetPrefix": "access/"}}
    assert code_of(lambda: s3.put_bucket_logging(Bucket=src, BucketLoggingStatus=on)) == ("InvalidTargetBucketForLogging", 400)
    west = f"west-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=west, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    on["LoggingEnabled"]["TargetBucket"] = west
    assert code_of(lambda: s3.put_bucket_logging(Bucket=src, BucketLoggingStatus=on)) == ("CrossLocationLoggingProhibitted", 403)
    assert code_of(lambda: s3.put_bucket_logging(Bucket="no-such-source-bucket", BucketLoggingStatus=on)) == ("NoSuchBucket", 404)
    # The CLI, as the user guide writes it; a partitioned key format read back.
    lab.aws("s3api", "put-bucket-logging", "--bucket", src, "--bucket-logging-status", json.dumps(
        {"LoggingEnabled": {"TargetBucket": dst, "TargetPrefix": "access/",
                            "TargetObjectKeyFormat": {"PartitionedPrefix": {"PartitionDateSource": "EventTime"}}}}))
    _, got, _ = lab.aws("s3api", "get-bucket-logging", "--bucket", src)
    assert got["LoggingEnabled"] == {"TargetBucket": dst, "TargetPrefix": "access/",
                                     "TargetObjectKeyFormat": {"PartitionedPrefix": {"PartitionDateSource": "EventTime"}}}
    s3.put_bucket_logging(Bucket=src, BucketLoggingStatus={})
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=src)
    # Recorded as management events, the document as JSON.
    events = lab.client().lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "PutBucketLogging"}])["Events"]
    records = [json.loads(e["CloudTrailEvent"]) for e in events]
    mine = [r for r in records if r["requestParameters"].get("bucketName") == src and "errorCode" not in r]
    assert mine and all(r["managementEvent"] for r in mine)
    assert any(r["requestParameters"]["BucketLoggingStatus"].get("LoggingEnabled", {}).get("TargetBucket") == dst for r in mine)


def test_access_logs_written_for_gets_of_log_files(lab):
    """Issue 21's "done" test: a trail's bucket logs its accesses; reading its log files appears
    in the delivered access log, with who read what, the status and the bytes."""
    account = lab.env()["CAIRN_ACCOUNT_ID"]
    s3, ct = lab.client("s3"), lab.client()
    trail_bucket, log_bucket = f"trail-{uuid.uuid4().hex[:8]}", f"access-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=trail_bucket)
    s3.create_bucket(Bucket=log_bucket)
    s3.put_bucket_policy(Bucket=trail_bucket, Policy=documented_policy(trail_bucket, account))
    s3.put_bucket_policy(Bucket=log_bucket, Policy=logging_policy(log_bucket, account, trail_bucket))
    s3.put_bucket_logging(Bucket=trail_bucket, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": log_bucket, "TargetPrefix": "access/"}})
    trail = f"logged-{uuid.uuid4().hex[:6]}"
    ct.create_trail(Name=trail, S3BucketName=trail_bucket)
    ct.start_logging(Name=trail)
    lab.advance(61)
    files = [o for o in s3.list_objects_v2(Bucket=trail_bucket, Prefix="AWSLogs/")["Contents"]]
    assert files
    reads = []
    for f in files[:2]:
        got = s3.get_object(Bucket=trail_bucket, Key=f["Key"])
        got["Body"].read()
        reads.append((f["Key"], got["ResponseMetadata"]["RequestId"], got["ContentLength"]))
    # A range of the first file: S3 answers 206 with those bytes.
    first_key, first_size = files[0]["Key"], files[0]["Size"]
    ranged = s3.get_object(Bucket=trail_bucket, Key=first_key, Range="bytes=0-9")
    assert ranged["ResponseMetadata"]["HTTPStatusCode"] == 206 and ranged["Body"].read()
    assert ranged["ContentRange"] == f"bytes 0-9/{first_size}"
    missing = code_of(lambda: s3.get_object(Bucket=trail_bucket, Key="AWSLogs/none.json.gz"))
    assert missing == ("NoSuchKey", 404)
    lab.advance(61)
    keys, lines = delivered(s3, log_bucket)
    assert keys and all(SIMPLE_KEY.match(k) for k in keys), keys
    owner = s3.get_bucket_acl(Bucket=trail_bucket)["Owner"]["ID"]
    root = f"arn:aws:iam::{account}:root"
    for key, request_id, size in reads:
        line = next(line for line in lines if line["request_id"] == request_id)
        assert line["operation"] == "REST.GET.OBJECT"
        assert line["key"] == key and line["bucket"] == trail_bucket and line["owner"] == owner
        assert line["requester"] == root
        assert line["status"] == "200" and line["error"] == "-"
        assert line["bytes_sent"] == str(size) and line["object_size"] == str(size)
        assert line["uri"] == f'"GET /{trail_bucket}/{key} HTTP/1.1"'
        assert line["signature"] == "SigV4" and line["auth"] == "AuthHeader"
        assert line["ip"] == "127.0.0.1" and line["user_agent"].startswith('"Boto3/')
        assert re.fullmatch(r"\[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000\]", line["time"])
        # Milliseconds in flight, and spent on the request after its last byte: integers.
        assert re.fullmatch(r"\d+", line["total_time"]) and re.fullmatch(r"\d+", line["turnaround"]), line
        assert int(line["turnaround"]) <= int(line["total_time"])
    part = next(line for line in lines if line["request_id"] == ranged["ResponseMetadata"]["RequestId"])
    assert (part["status"], part["bytes_sent"], part["object_size"]) == ("206", "10", str(first_size))
    assert part["key"] == first_key and part["operation"] == "REST.GET.OBJECT"
    assert re.fullmatch(r"\d+", part["total_time"]) and re.fullmatch(r"\d+", part["turnaround"])
    failed = next(line for line in lines if line["key"] == "AWSLogs/none.json.gz")
    assert (failed["status"], failed["error"], failed["requester"]) == ("404", "NoSuchKey", root)
    assert failed["object_size"] == "-" and re.fullmatch(r"\d+", failed["total_time"])
    # CloudTrail's own writes are logged too, as the service that made them.
    assert any(line["operation"] == "REST.PUT.OBJECT" and line["requester"] == "svc:cloudtrail.amazonaws.com"
               for line in lines)
    ct.stop_logging(Name=trail)


def test_a_target_bucket_without_the_logging_services_permission_gets_nothing(lab):
    s3 = lab.client("s3")
    src, dst = f"src-{uuid.uuid4().hex[:8]}", f"dst-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=src)
    s3.create_bucket(Bucket=dst)
    s3.put_bucket_logging(Bucket=src, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": dst, "TargetPrefix": "access/"}})
    s3.put_object(Bucket=src, Key="k", Body=b"v")
    lab.advance(61)
    assert s3.list_objects_v2(Bucket=dst).get("KeyCount") == 0
    # With the policy AWS documents, the next calls are delivered (the earlier ones are not
    # delivered again: delivery is best effort, as S3's is).
    account = lab.env()["CAIRN_ACCOUNT_ID"]
    s3.put_bucket_policy(Bucket=dst, Policy=logging_policy(dst, account, src))
    s3.head_object(Bucket=src, Key="k")
    lab.advance(61)
    _, lines = delivered(s3, dst)
    assert [line["operation"] for line in lines] == ["REST.HEAD.OBJECT"]


def test_partitioned_keys_and_lifecycle_lines(lab):
    """Partitioned key names; and what lifecycle rules do is logged as S3 logs it
    (`S3.EXPIRE.OBJECT`, requester AmazonS3)."""
    account = lab.env()["CAIRN_ACCOUNT_ID"]
    s3 = lab.client("s3")
    src, dst = f"src-{uuid.uuid4().hex[:8]}", f"dst-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=src)
    s3.create_bucket(Bucket=dst)
    s3.put_bucket_policy(Bucket=dst, Policy=logging_policy(dst, account, src))
    lab.aws("s3api", "put-bucket-logging", "--bucket", src, "--bucket-logging-status", json.dumps(
        {"LoggingEnabled": {"TargetBucket": dst, "TargetPrefix": "access/",
                            "TargetObjectKeyFormat": {"PartitionedPrefix": {"PartitionDateSource": "DeliveryTime"}}}}))
    s3.put_object(Bucket=src, Key="tmp/x", Body=b"12345")
    s3.put_bucket_lifecycle_configuration(Bucket=src, LifecycleConfiguration={"Rules": [
        {"ID": "tmp", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled", "Expiration": {"Days": 1}}]})
    lab.advance(61)
    keys, lines = delivered(s3, dst)
    assert keys and all(re.match(rf"^access/{account}/us-east-1/{src}/\d{{4}}/\d{{2}}/\d{{2}}/\d{{4}}-\d{{2}}-\d{{2}}-\d{{2}}-\d{{2}}-\d{{2}}-[0-9A-F]{{16}}$", k)
                        for k in keys), keys
    put = next(line for line in lines if line["operation"] == "REST.PUT.OBJECT")
    assert put["key"] == "tmp/x" and put["object_size"] == "5"
    lab.advance(2 * 86_400)
    _, lines = delivered(s3, dst)
    expired = [line for line in lines if line["operation"] == "S3.EXPIRE.OBJECT"]
    assert [(line["key"], line["requester"]) for line in expired] == [("tmp/x", "AmazonS3")]
    assert s3.list_objects_v2(Bucket=src).get("KeyCount") == 0
