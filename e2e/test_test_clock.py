"""The test clock (`cairn serve --test-clock`): wall time that `cairn clock advance` jumps ahead,
running the trail deliveries and digests that become due before it returns — so tests and labs
see an hour of digests at once instead of waiting for them."""

import json
import subprocess
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import CAIRN, documented_policy, free_port


def keys_in(s3, bucket, part):
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        out += [o["Key"] for o in page.get("Contents", []) if f"/{part}/" in o["Key"]]
    return out


def test_advancing_the_clock_runs_what_became_due(new_cairn):
    # Real cadences (a minute for log files, an hour for digests): only the test clock makes
    # them come now.
    c = new_cairn(["--test-clock"])
    account = c.env()["CAIRN_ACCOUNT_ID"]
    s3, ct = c.client("s3"), c.client()
    bucket = f"clock-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=documented_policy(bucket, account))
    ct.create_trail(Name="hourly", S3BucketName=bucket, EnableLogFileValidation=True)
    ct.start_logging(Name="hourly")
    marker = ct.describe_trails()["ResponseMetadata"]["RequestId"]
    assert keys_in(s3, bucket, "CloudTrail") == []

    out = c.advance(61)
    assert "log files" in out
    logs = keys_in(s3, bucket, "CloudTrail")
    assert logs, "the minute's log files are written before advance returns"
    import gzip
    delivered = {r["requestID"] for k in logs
                 for r in json.loads(gzip.decompress(s3.get_object(Bucket=bucket, Key=k)["Body"].read()))["Records"]}
    assert marker in delivered

    assert keys_in(s3, bucket, "CloudTrail-Digest") == []
    c.advance(3600)
    digests = keys_in(s3, bucket, "CloudTrail-Digest")
    assert digests, "the hour's digest is written before advance returns"

    # Signatures are still judged by the wall clock (the AWS CLI signs with it), and new
    # events carry the test clock's time.
    rid = ct.describe_trails()["ResponseMetadata"]["RequestId"]
    ev = None
    for page in ct.get_paginator("lookup_events").paginate(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DescribeTrails"}]):
        for e in page["Events"]:
            r = json.loads(e["CloudTrailEvent"])
            if r["requestID"] == rid:
                ev = r
    assert ev is not None
    t = datetime.strptime(ev["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert t >= datetime.now(timezone.utc) + timedelta(minutes=60)


def test_the_clock_only_moves_on_instances_that_have_one(new_cairn):
    c = new_cairn()
    with pytest.raises(AssertionError) as e:
        c.advance(10)
    assert "--test-clock" in str(e.value)


def test_a_test_clock_is_refused_beyond_loopback(workdir):
    p = subprocess.run([str(CAIRN), "serve", "--data-dir", str(workdir / "clock-open"), "--listen",
                        f"0.0.0.0:{free_port()}", "--test-clock"], capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert "loopback" in p.stderr


def test_temporary_credentials_expire_by_the_test_clock(new_cairn):
    import boto3
    import botocore.exceptions
    c = new_cairn(["--test-clock"])
    creds = c.client("sts").get_session_token(DurationSeconds=900)["Credentials"]
    session = boto3.client("sts", endpoint_url=c.endpoint, region_name="us-east-1",
                           aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                           aws_session_token=creds["SessionToken"])
    assert session.get_caller_identity()["Account"] == c.env()["CAIRN_ACCOUNT_ID"]
    c.advance(901)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        session.get_caller_identity()
    assert e.value.response["Error"]["Code"] == "ExpiredToken"
