"""Tamper-evident trails: signed, chained digests that the real `aws cloudtrail validate-logs`
accepts, across regions, a key prefix, a signing-key rotation and a StopLogging/StartLogging
restart."""

import gzip
import json
import re
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import Cairn, documented_policy, wait_for

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
# Short periods so that a test sees many digests and a key rotation in seconds.
FAST = ["--delivery-interval", "1", "--digest-interval", "2", "--signing-key-validity", "8"]


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def account_of(c):
    return c.env()["CAIRN_ACCOUNT_ID"]


def make_trail(c, name, bucket, *, prefix=None, multi_region=False, region="us-east-1"):
    account = account_of(c)
    c.aws("s3", "mb", f"s3://{bucket}")
    c.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", documented_policy(bucket, account, prefix))
    args = ["cloudtrail", "create-trail", "--name", name, "--s3-bucket-name", bucket, "--enable-log-file-validation"]
    if prefix:
        args += ["--s3-key-prefix", prefix]
    if multi_region:
        args.append("--is-multi-region-trail")
    _, trail, _ = c.aws(*args, region=region)
    c.aws("cloudtrail", "start-logging", "--name", name, region=region)
    return trail["TrailARN"]


def activity(c, regions, n=2):
    for r in regions:
        for _ in range(n):
            c.client(region=r).describe_trails()


def keys_of(c, bucket, part=""):
    s3 = c.client("s3")
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        out += [o["Key"] for o in page.get("Contents", []) if part in o["Key"]]
    return out


def digest(c, bucket, key):
    obj = c.client("s3").get_object(Bucket=bucket, Key=key)
    return json.loads(gzip.decompress(obj["Body"].read())), obj["Metadata"]


def validate(c, arn, start, region=None, extra=()):
    args = ["cloudtrail", "validate-logs", "--trail-arn", arn, "--start-time", iso(start), "--verbose", *extra]
    env_region = region or "us-east-1"
    if region:
        args += ["--region", region]
    code, out, err = c.aws(*args, region=env_region, check=False)
    return code, out if isinstance(out, str) else json.dumps(out), err


@pytest.fixture(scope="module")
def lab(workdir):
    c = Cairn(workdir / "validate-lab", FAST)
    c.start()
    yield c
    c.stop()


def test_validate_logs_accepts_a_multi_region_trail_across_rotation_and_restart(lab):
    start = datetime.now(timezone.utc) - timedelta(minutes=1)
    bucket = f"ct-{uuid.uuid4().hex[:10]}"
    prefix = "team/ct"
    arn = make_trail(lab, "validated", bucket, prefix=prefix, multi_region=True)
    activity(lab, REGIONS)
    time.sleep(3)
    activity(lab, REGIONS)
    lab.aws("cloudtrail", "stop-logging", "--name", "validated")
    time.sleep(2)
    lab.aws("cloudtrail", "start-logging", "--name", "validated")
    # Keep going until every region has digests signed by two different keys (a rotation).
    def rotated():
        activity(lab, REGIONS, 1)
        fps = {digest(lab, bucket, k)[0]["digestPublicKeyFingerprint"]
               for k in keys_of(lab, bucket, "/CloudTrail-Digest/us-east-1/")}
        return len(fps) >= 2
    wait_for(rotated, timeout=60, every=1)
    # Stopping ends each chain with a final digest that lists the last files; then the
    # bucket stays still while we compare.
    lab.aws("cloudtrail", "stop-logging", "--name", "validated")
    def settled():
        before = len(keys_of(lab, bucket))
        time.sleep(2.5)
        return len(keys_of(lab, bucket)) == before
    wait_for(settled, timeout=30, every=0)

    status = lab.client().get_trail_status(Name="validated")
    assert "LatestDigestDeliveryTime" in status and "LatestDigestDeliveryError" not in status
    trail = lab.client().describe_trails(trailNameList=[arn])["trailList"][0]
    assert trail["LogFileValidationEnabled"] is True

    account = account_of(lab)
    pattern = re.compile(rf"^{prefix}/AWSLogs/{account}/CloudTrail-Digest/(?P<r>[a-z0-9-]+)/\d{{4}}/\d\d/\d\d/"
                         rf"{account}_CloudTrail-Digest_(?P=r)_validated_us-east-1_\d{{8}}T\d{{6}}Z\.json\.gz$")
    for region in REGIONS:
        digest_keys = keys_of(lab, bucket, f"/CloudTrail-Digest/{region}/")
        assert digest_keys and all(pattern.match(k) for k in digest_keys), digest_keys
        digests = [digest(lab, bucket, k) for k in digest_keys]
        for d, meta in digests:
            assert set(meta) == {"signature", "signature-algorithm"}
            assert meta["signature-algorithm"] == "SHA256withRSA" and len(meta["signature"]) == 512
        starting = [d for d, _ in digests if d["previousDigestSignature"] is None]
        assert len(starting) == 2, "one chain before the restart, one after"
        listed = sum(len(d["logFiles"]) for d, _ in digests)
        assert listed > 0
        # Every log file the trail delivered is listed by exactly one digest.
        listed_keys = [f["s3Object"] for d, _ in digests for f in d["logFiles"]]
        assert sorted(listed_keys) == sorted(keys_of(lab, bucket, f"/CloudTrail/{region}/"))

        code, out, err = validate(lab, arn, start, region=None if region == "us-east-1" else region)
        assert code == 0, (out, err)
        assert "INVALID" not in err, err
        valid_digests = out.count("Digest file\ts3://")
        valid_logs = out.count("Log file\ts3://")
        assert valid_digests == len(digests), (region, out)
        assert valid_logs == listed
        assert f"{len(digests)}/{len(digests)} digest files valid" in out
        assert f"{listed}/{listed} log files valid" in out
        # The restart shows as a gap, which the CLI reports but does not count as invalid.
        assert "No log files were delivered by CloudTrail between" in err


def test_validate_logs_with_no_digests_in_range_says_so(lab):
    bucket = f"ct-{uuid.uuid4().hex[:10]}"
    arn = make_trail(lab, "young", bucket)
    # Before the trail existed: keys cover the range (end + 2 h reaches today), digests do not.
    code, out, _ = validate(lab, arn, datetime.now(timezone.utc) - timedelta(hours=1),
                            extra=["--end-time", iso(datetime.now(timezone.utc) - timedelta(minutes=30))])
    assert code == 0
    assert "No digests found" in out
    lab.aws("cloudtrail", "delete-trail", "--name", "young")
