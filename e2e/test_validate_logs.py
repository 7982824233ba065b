"""Tamper-evident trails: signed, chained digests that the real `aws cloudtrail validate-logs`
accepts, across regions, a key prefix, a signing-key rotation and a StopLogging/StartLogging
restart. The labs run a test clock: tests advance it instead of waiting for deliveries and
digests, and validate up to the instance's time (`Cairn.now`), where its digests are stamped."""

import gzip
import json
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import Cairn, documented_policy, organization_policy, wait_for

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
# Short periods so that a test sees many digests and a key rotation in a few seconds of
# instance time, which the test clock makes pass at once.
FAST = ["--delivery-interval", "1", "--digest-interval", "2", "--signing-key-validity", "8", "--test-clock"]


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def workdir_of(c):
    return c.data_dir.parent


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


def validate(c, arn, start, region=None, end=None, extra=()):
    """Runs `aws cloudtrail validate-logs` from `start` to `end` (default: the instance's now)."""
    args = ["cloudtrail", "validate-logs", "--trail-arn", arn, "--start-time", iso(start),
            "--end-time", iso(end or c.now()), "--verbose", *extra]
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
    lab.advance(3, step=1)  # a digest period and a half, a delivery round each second
    activity(lab, REGIONS)
    lab.aws("cloudtrail", "stop-logging", "--name", "validated")
    lab.advance(2)
    lab.aws("cloudtrail", "start-logging", "--name", "validated")
    # Keep going until every region has digests signed by two different keys (a rotation).
    def rotated():
        activity(lab, REGIONS, 1)
        fps = {digest(lab, bucket, k)[0]["digestPublicKeyFingerprint"]
               for k in keys_of(lab, bucket, "/CloudTrail-Digest/us-east-1/")}
        return len(fps) >= 2
    lab.advance_until(rotated, step=2, limit=60)
    # Stopping ends each chain with a final digest that lists the last files; then the
    # bucket stays still while we compare.
    lab.aws("cloudtrail", "stop-logging", "--name", "validated")
    def settled():
        before = len(keys_of(lab, bucket))
        lab.advance(3)
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

        # cairn's validator agrees, line for line.
        end = lab.now()
        r = None if region == "us-east-1" else region
        code, out, err = validate(lab, arn, start, region=r, end=end)
        ccode, cout, cerr = cairn_validate(lab, arn, start, region=r, end=end)
        assert ccode == 0, cerr
        assert sorted(cout.splitlines()) == sorted(out.splitlines())
        assert sorted(cerr.splitlines()) == sorted(err.splitlines())

    # From a downloaded copy of the bucket: the same files valid, signatures read from the
    # bucket's metadata.
    local = workdir_of(lab) / "downloaded"
    lab.aws("s3", "sync", f"s3://{bucket}", str(local))
    code, out, err = cairn_validate(lab, arn, start, extra=["--local", str(local), "--s3-bucket", bucket,
                                                            "--s3-prefix", prefix])
    assert code == 0, err
    assert "signatures not checked" not in out
    # Fully offline, with the public keys saved beforehand: every signature but the newest of
    # each chain comes from the chain itself.
    _, keys, _ = lab.aws("cloudtrail", "list-public-keys", "--start-time", iso(start))
    keys_file = workdir_of(lab) / "public-keys.json"
    keys_file.write_text(json.dumps(keys))
    code, out, err = cairn_validate(lab, arn, start, extra=["--local", str(local), "--s3-bucket", bucket,
                                                            "--s3-prefix", prefix, "--offline",
                                                            "--public-keys", str(keys_file)])
    assert code == 0, err
    assert "2 digest signatures not checked" in out
    # A digest changed in the copy is caught offline too (by the next digest's record of it).
    first = sorted((local / prefix).rglob("*CloudTrail-Digest_us-east-1_*.json.gz"))[0]
    content = json.loads(gzip.decompress(first.read_bytes()))
    content["logFiles"] = []
    first.write_bytes(gzip.compress(json.dumps(content).encode()))
    code, out, err = cairn_validate(lab, arn, start, extra=["--local", str(local), "--s3-bucket", bucket,
                                                            "--s3-prefix", prefix, "--offline",
                                                            "--public-keys", str(keys_file)])
    assert code == 1 and "INVALID: signature verification failed" in err, err


def test_validate_logs_with_no_digests_in_range_says_so(lab):
    bucket = f"ct-{uuid.uuid4().hex[:10]}"
    arn = make_trail(lab, "young", bucket)
    # Before the trail existed: keys cover the range (end + 2 h reaches today), digests do not.
    code, out, _ = validate(lab, arn, datetime.now(timezone.utc) - timedelta(hours=1),
                            end=datetime.now(timezone.utc) - timedelta(minutes=30))
    assert code == 0
    assert "No digests found" in out
    lab.aws("cloudtrail", "delete-trail", "--name", "young")


# --- cairn validate-logs, and tampering caught by both validators --------------------------------

def cairn_validate(c, arn, start, region=None, end=None, extra=()):
    """Runs `cairn validate-logs` with the instance's settings from `start` to `end` (default: the
    instance's now); returns (code, stdout, stderr)."""
    from conftest import CAIRN
    import os
    import subprocess
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(c.env())
    args = [str(CAIRN), "validate-logs", "--data-dir", str(c.data_dir), "--trail-arn", arn,
            "--start-time", iso(start), "--end-time", iso(end or c.now()), "--verbose", *extra]
    if region:
        args += ["--region", region]
    p = subprocess.run(args, env=env, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


TAMPER_CASES = ["log-changed", "log-deleted", "digest-changed", "digest-deleted", "foreign-key",
                "appended", "two-deleted", "newest-deleted", "untouched"]


@pytest.fixture(scope="module")
def tamper_lab(workdir):
    """One trail per tampering case, each with a chain of several digests listing log files,
    logging stopped so the bucket holds still."""
    c = Cairn(workdir / "tamper-lab", FAST)
    c.start()
    start = datetime.now(timezone.utc) - timedelta(minutes=1)
    trails = {}
    for i, case in enumerate(TAMPER_CASES):
        region = "us-east-1" if i < 4 else "us-west-2"
        bucket = f"ct-{case}-{uuid.uuid4().hex[:6]}"
        trails[case] = (make_trail(c, f"t-{case}", bucket, region=region), bucket, region)

    def enough():
        activity(c, ["us-east-1", "us-west-2"], 1)
        for arn, bucket, region in trails.values():
            digests = [digest(c, bucket, k)[0] for k in keys_of(c, bucket, "/CloudTrail-Digest/")]
            if len(digests) < 5 or sum(1 for d in digests if d["logFiles"]) < 3:
                return False
        return True
    c.advance_until(enough, step=2, limit=90)
    for case, (arn, bucket, region) in trails.items():
        c.aws("cloudtrail", "stop-logging", "--name", arn, region=region)

    def settled():
        before = [len(keys_of(c, b)) for _, b, _ in trails.values()]
        c.advance(3)
        return before == [len(keys_of(c, b)) for _, b, _ in trails.values()]
    wait_for(settled, timeout=30, every=0)
    yield c, start, trails
    c.stop()


def both(c, arn, start, region):
    """(aws exit, aws stdout, aws stderr, cairn exit, cairn stdout, cairn stderr), both up to the
    instance's now"""
    end = c.now()
    # Every delivery and digest due by `end` written first (a cluster's may lag a little
    # behind), so that the two validators, run one after the other, see the same files.
    c.advance(2)
    code, out, err = validate(c, arn, start, region=region, end=end)
    ccode, cout, cerr = cairn_validate(c, arn, start, region=region, end=end)
    return code, out, err, ccode, cout, cerr


def middle_digest(c, bucket):
    keys = keys_of(c, bucket, "/CloudTrail-Digest/")
    # A digest with log files, with digests before and after it.
    for k in keys[1:-1]:
        if digest(c, bucket, k)[0]["logFiles"]:
            return k, keys
    raise AssertionError("no middle digest with log files")


def put_raw(c, bucket, key, body, metadata):
    c.client("s3").put_object(Bucket=bucket, Key=key, Body=body, Metadata=metadata)


def test_both_validators_accept_untampered_trails(tamper_lab):
    c, start, trails = tamper_lab
    arn, bucket, region = trails["untouched"]
    code, out, err, ccode, cout, cerr = both(c, arn, start, region)
    assert code == 0 and ccode == 0, (err, cerr)
    # cairn prints what the CLI prints, line for line.
    assert sorted(out.splitlines()) == sorted(cout.splitlines()), (out, cout)


def test_a_changed_log_file_is_caught(tamper_lab):
    c, start, trails = tamper_lab
    arn, bucket, region = trails["log-changed"]
    d, _ = middle_digest(c, bucket)
    log = digest(c, bucket, d)[0]["logFiles"][0]["s3Object"]
    body = json.loads(gzip.decompress(c.client("s3").get_object(Bucket=bucket, Key=log)["Body"].read()))
    body["Records"][0]["sourceIPAddress"] = "203.0.113.66"
    put_raw(c, bucket, log, gzip.compress(json.dumps(body).encode()), {})
    code, _, err, ccode, _, cerr = both(c, arn, start, region)
    line = f"Log file\ts3://{bucket}/{log}\tINVALID: hash value doesn't match"
    assert code == 1 and line in err, err
    assert ccode == 1 and line in cerr, cerr


def test_a_deleted_log_file_is_caught(tamper_lab):
    c, start, trails = tamper_lab
    arn, bucket, region = trails["log-deleted"]
    d, _ = middle_digest(c, bucket)
    log = digest(c, bucket, d)[0]["logFiles"][0]["s3Object"]
    c.client("s3").delete_object(Bucket=bucket, Key=log)
    code, _, err, ccode, _, cerr = both(c, arn, start, region)
    line = f"Log file\ts3://{bucket}/{log}\tINVALID: not found"
    assert code == 1 and line in err, err
    assert ccode == 1 and line in cerr, cerr


def test_a_changed_digest_is_caught(tamper_lab):
    c, start, trails = tamper_lab
    arn, bucket, region = trails["digest-changed"]
    d, _ = middle_digest(c, bucket)
    content, meta = digest(c, bucket, d)
    content["logFiles"] = content["logFiles"][1:]  # hide a log file
    put_raw(c, bucket, d, gzip.compress(json.dumps(content).encode()), meta)
    code, _, err, ccode, _, cerr = both(c, arn, start, region)
    line = f"Digest file\ts3://{bucket}/{d}\tINVALID: signature verification failed"
    assert code == 1 and line in err, err
    assert ccode == 1 and line in cerr, cerr


def test_a_digest_deleted_in_the_middle_is_caught(tamper_lab):
    c, start, trails = tamper_lab
    arn, bucket, region = trails["digest-deleted"]
    d, _ = middle_digest(c, bucket)
    c.client("s3").delete_object(Bucket=bucket, Key=d)
    code, _, err, ccode, _, cerr = both(c, arn, start, region)
    line = f"Digest file\ts3://{bucket}/{d}\tINVALID: not found"
    assert code == 1 and line in err, err
    assert ccode == 1 and line in cerr, cerr


def test_a_digest_resigned_with_a_foreign_key_is_caught(tamper_lab):
    import hashlib
    import rsa  # the package the AWS CLI verifies with
    c, start, trails = tamper_lab
    arn, bucket, region = trails["foreign-key"]
    d, _ = middle_digest(c, bucket)
    raw = gzip.decompress(c.client("s3").get_object(Bucket=bucket, Key=d)["Body"].read())
    content = json.loads(raw)
    prev = content["previousDigestSignature"] or "null"
    to_sign = f"{content['digestEndTime']}\n{bucket}/{d}\n{hashlib.sha256(raw).hexdigest()}\n{prev}"
    _, private = rsa.newkeys(1024)
    signature = rsa.sign(to_sign.encode(), private, "SHA-256").hex()
    put_raw(c, bucket, d, gzip.compress(raw), {"signature": signature, "signature-algorithm": "SHA256withRSA"})
    code, _, err, ccode, _, cerr = both(c, arn, start, region)
    line = f"Digest file\ts3://{bucket}/{d}\tINVALID: signature verification failed"
    assert code == 1 and line in err, err
    assert ccode == 1 and line in cerr, cerr


def test_a_record_appended_after_the_gzip_member_is_caught(tamper_lab):
    c, start, trails = tamper_lab
    arn, bucket, region = trails["appended"]
    d, _ = middle_digest(c, bucket)
    log = digest(c, bucket, d)[0]["logFiles"][0]["s3Object"]
    original = c.client("s3").get_object(Bucket=bucket, Key=log)["Body"].read()
    forged = gzip.compress(json.dumps({"Records": [{"eventName": "DeleteTrail"}]}).encode())
    put_raw(c, bucket, log, original + forged, {})
    code, _, err, ccode, _, cerr = both(c, arn, start, region)
    line = f"Log file\ts3://{bucket}/{log}\tINVALID: unexpected data after end of compressed stream"
    assert code == 1 and line in err, err
    assert ccode == 1 and line in cerr, cerr


def test_two_consecutive_deleted_digests_only_cairn_reports_both(tamper_lab):
    c, start, trails = tamper_lab
    arn, bucket, region = trails["two-deleted"]
    keys = keys_of(c, bucket, "/CloudTrail-Digest/")
    gone = keys[1:3]
    for k in gone:
        c.client("s3").delete_object(Bucket=bucket, Key=k)
    code, _, err, ccode, _, cerr = both(c, arn, start, region)
    assert code == 1
    assert err.count("INVALID: not found") == 1, "the AWS CLI sees only one of the two"
    assert ccode == 1
    for k in gone:
        assert f"s3://{bucket}/{k}\tINVALID: not found" in cerr, cerr


def test_deleted_newest_digests_only_cairn_reports(tamper_lab):
    c, start, trails = tamper_lab
    arn, bucket, region = trails["newest-deleted"]
    keys = keys_of(c, bucket, "/CloudTrail-Digest/")
    gone = keys[-2:]
    for k in gone:
        c.client("s3").delete_object(Bucket=bucket, Key=k)
    code, out, err, ccode, cout, cerr = both(c, arn, start, region)
    assert code == 0 and "INVALID" not in err, "the AWS CLI cannot tell"
    assert ccode == 1
    for k in gone:
        assert f"s3://{bucket}/{k}\tINVALID: not found (cairn delivered it)" in cerr, cerr


def test_turning_validation_off_and_on_starts_a_new_chain(lab):
    start = datetime.now(timezone.utc) - timedelta(minutes=1)
    bucket = f"ct-{uuid.uuid4().hex[:10]}"
    arn = make_trail(lab, "toggled", bucket)
    activity(lab, ["us-east-1"])
    lab.advance_until(lambda: len(keys_of(lab, bucket, "/CloudTrail-Digest/")) >= 2, step=2, limit=30)
    lab.aws("cloudtrail", "update-trail", "--name", "toggled", "--no-enable-log-file-validation")
    lab.aws("cloudtrail", "update-trail", "--name", "toggled", "--enable-log-file-validation")
    before = len(keys_of(lab, bucket, "/CloudTrail-Digest/"))
    activity(lab, ["us-east-1"])
    lab.advance_until(lambda: len(keys_of(lab, bucket, "/CloudTrail-Digest/")) >= before + 2, step=2, limit=30)
    lab.aws("cloudtrail", "stop-logging", "--name", "toggled")
    lab.advance(3)
    starting = [k for k in keys_of(lab, bucket, "/CloudTrail-Digest/") if digest(lab, bucket, k)[0]["previousDigestSignature"] is None]
    assert len(starting) == 2
    code, out, err = validate(lab, arn, start)
    assert code == 0 and "INVALID" not in err, (out, err)
    ccode, _, cerr = cairn_validate(lab, arn, start)
    assert ccode == 0, cerr
    lab.aws("cloudtrail", "delete-trail", "--name", "toggled")


def test_cairn_validate_logs_says_what_is_wrong_with_its_arguments(workdir):
    """Errors, not validation results: exit 255 and a sentence, as the AWS CLI exits 255."""
    c = Cairn(workdir / "validate-args", FAST)
    c.start()
    try:
        start = datetime.now(timezone.utc) - timedelta(minutes=5)
        account = c.env()["CAIRN_ACCOUNT_ID"]
        code, _, err = cairn_validate(c, "arn:aws:s3:::not-a-trail", start)
        assert code == 255 and "Invalid trail ARN provided: arn:aws:s3:::not-a-trail" in err, err
        code, _, err = cairn_validate(c, f"arn:aws:cloudtrail:us-east-1:{account}:trail/never-made", start)
        assert code == 255 and f"A trail could not be found for arn:aws:cloudtrail:us-east-1:{account}:trail/never-made" in err, err
        code, _, err = cairn_validate(c, f"arn:aws:cloudtrail:us-east-1:{account}:trail/never-made", start,
                                      extra=["--local", str(workdir / "nowhere"), "--offline", "--s3-bucket", "b",
                                             "--public-keys", str(workdir / "no-such-keys.json")])
        assert code == 255 and "no-such-keys.json" in err, err
    finally:
        c.stop()


# --- organization trails -----------------------------------------------------------------------

def test_an_organization_trail_keeps_each_account_apart_and_validate_logs_checks_a_member(new_cairn):
    c = new_cairn(FAST)
    start = datetime.now(timezone.utc) - timedelta(minutes=1)
    management = account_of(c)
    org_id = c.aws("organizations", "create-organization", "--feature-set", "ALL")[1]["Organization"]["Id"]
    member = c.aws("organizations", "create-account", "--email", "member@example.com",
                   "--account-name", "member")[1]["CreateAccountStatus"]["AccountId"]
    bucket = f"org-{uuid.uuid4().hex[:10]}"
    arn = f"arn:aws:cloudtrail:us-east-1:{management}:trail/org-trail"
    c.aws("s3", "mb", f"s3://{bucket}")
    c.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", organization_policy(bucket, management, org_id, arn))

    # Only the organization's management account makes an organization trail.
    rc, _, err = c.aws("cloudtrail", "create-trail", "--name", "mine", "--s3-bucket-name", bucket,
                       "--is-organization-trail", account=member, check=False)
    assert rc != 0 and "NotOrganizationMasterAccountException" in err, err
    _, trail, _ = c.aws("cloudtrail", "create-trail", "--name", "org-trail", "--s3-bucket-name", bucket,
                        "--is-organization-trail", "--is-multi-region-trail", "--enable-log-file-validation")
    assert trail["IsOrganizationTrail"] is True and trail["TrailARN"] == arn
    c.aws("cloudtrail", "start-logging", "--name", "org-trail")
    # Members see it as a read-only shadow.
    _, out, _ = c.aws("cloudtrail", "describe-trails", account=member)
    assert [(t["TrailARN"], t["IsOrganizationTrail"]) for t in out["trailList"]] == [(arn, True)]
    _, out, _ = c.aws("cloudtrail", "list-trails", region="eu-west-1", account=member)
    assert [t["TrailARN"] for t in out["Trails"]] == [arn]
    _, out, _ = c.aws("cloudtrail", "get-trail-status", "--name", arn, account=member)
    assert out["IsLogging"] is True
    for change in (["stop-logging", "--name", arn], ["delete-trail", "--name", arn],
                   ["add-tags", "--resource-id", arn, "--tags-list", "Key=k,Value=v"]):
        rc, _, err = c.aws("cloudtrail", *change, account=member, check=False)
        assert rc != 0 and "NotOrganizationMasterAccountException" in err, (change, err)
    # Not the management account's own trails.
    own_bucket = f"own-{uuid.uuid4().hex[:10]}"
    c.aws("s3", "mb", f"s3://{own_bucket}")
    c.aws("s3api", "put-bucket-policy", "--bucket", own_bucket, "--policy", documented_policy(own_bucket, management))
    c.aws("cloudtrail", "create-trail", "--name", "management-only", "--s3-bucket-name", own_bucket)
    _, out, _ = c.aws("cloudtrail", "describe-trails", account=member)
    assert [t["Name"] for t in out["trailList"]] == ["org-trail"]

    def both_accounts_call():
        for region in ("us-east-1", "eu-west-1"):
            c.aws("cloudtrail", "list-trails", region=region)
            c.aws("cloudtrail", "list-trails", region=region, account=member)
    both_accounts_call()
    c.advance(3, step=1)
    both_accounts_call()
    c.advance(3, step=1)
    c.aws("cloudtrail", "stop-logging", "--name", "org-trail")

    def settled():
        before = len(keys_of(c, bucket))
        c.advance(3)
        return len(keys_of(c, bucket)) == before
    wait_for(settled, timeout=30, every=0)

    # Each account's records in its own files, under the organization's folder.
    assert not [k for k in keys_of(c, bucket) if not k.startswith(f"AWSLogs/{org_id}/")]
    for account in (management, member):
        for region in ("us-east-1", "eu-west-1"):
            logs = keys_of(c, bucket, f"AWSLogs/{org_id}/{account}/CloudTrail/{region}/")
            assert logs, (account, region)
            for k in logs:
                assert k.split("/")[-1].startswith(f"{account}_CloudTrail_{region}_"), k
                body = c.client("s3").get_object(Bucket=bucket, Key=k)["Body"].read()
                records = json.loads(gzip.decompress(body))["Records"]
                assert {r["recipientAccountId"] for r in records} == {account}
                assert {r["awsRegion"] for r in records} == {region}
            digests = keys_of(c, bucket, f"AWSLogs/{org_id}/{account}/CloudTrail-Digest/{region}/")
            assert digests, (account, region)
            for k in digests:
                d, _ = digest(c, bucket, k)
                assert d["awsAccountId"] == account
                assert all(f["s3Object"].startswith(f"AWSLogs/{org_id}/{account}/") for f in d["logFiles"])

    # The real CLI validates a member's files (it asks Organizations for the organization's id).
    rc, _, err = validate(c, arn, start)
    assert rc != 0 and "--account-id" in err, err
    member_logs = keys_of(c, bucket, f"AWSLogs/{org_id}/{member}/CloudTrail/us-east-1/")
    code, out, err = validate(c, arn, start, extra=["--account-id", member])
    assert code == 0 and "INVALID" not in err, (out, err)
    assert f"{len(member_logs)}/{len(member_logs)} log files valid" in out, out
    code, out, err = validate(c, arn, start, region="eu-west-1", extra=["--account-id", management])
    assert code == 0 and "INVALID" not in err, (out, err)

    # A member's file changed after delivery is caught.
    victim = member_logs[0]
    obj = c.client("s3").get_object(Bucket=bucket, Key=victim)
    records = json.loads(gzip.decompress(obj["Body"].read()))
    records["Records"][0]["sourceIPAddress"] = "203.0.113.9"
    c.client("s3").put_object(Bucket=bucket, Key=victim, Body=gzip.compress(json.dumps(records).encode()))
    code, out, err = validate(c, arn, start, extra=["--account-id", member])
    assert code == 1, (out, err)
    assert f"Log file\ts3://{bucket}/{victim}\tINVALID: hash value doesn't match" in err, err
