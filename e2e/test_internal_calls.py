"""Calls between services go through the same pipeline as a client's: S3 asks KMS for an SSE-KMS
object's data key on the caller's behalf. KMS records GenerateDataKey and Decrypt as AWS does
(the caller's identity, invokedBy s3.amazonaws.com), and both the key policy and the caller's
identity policies decide them.

CloudTrail calls S3 and KMS the same way, as the AWSService cloudtrail.amazonaws.com working for
a trail: CreateTrail's checks are decided by the real bucket and key policies (and leave no
record, as in AWS), and each delivery's GetBucketAcl, GenerateDataKey and PutObject are recorded
as AWS records them, in the next delivery's file."""

import gzip
import json
import re
import uuid
from pathlib import Path

import boto3
import botocore.config
import botocore.exceptions
import pytest

from conftest import REAL_DATA, Cairn, documented_policy, lookup_all, wait_for
from test_iam import new_user


def kms_records(cairn, key_arn, name):
    ct = cairn.client()
    out = []
    for e in lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}]):
        r = json.loads(e["CloudTrailEvent"])
        if any(x.get("ARN") == key_arn for x in r.get("resources", [])):
            out.append(r)
    return out


def user_client(cairn, key, service):
    return boto3.client(
        service,
        endpoint_url=cairn.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 1}),
    )


def test_s3_asks_kms_on_the_callers_behalf_and_kms_records_it(cairn):
    kms, s3 = cairn.client("kms"), cairn.client("s3")
    key = kms.create_key(Description="sse")["KeyMetadata"]
    bucket = f"via-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="doc", Body=b"sealed", ServerSideEncryption="aws:kms", SSEKMSKeyId=key["KeyId"])
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"sealed"

    made = wait_for(lambda: kms_records(cairn, key["Arn"], "GenerateDataKey") or None)
    opened = wait_for(lambda: kms_records(cairn, key["Arn"], "Decrypt") or None)
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    object_arn = f"arn:aws:s3:::{bucket}/doc"
    for r in (made[0], opened[0]):
        assert r["eventSource"] == "kms.amazonaws.com"
        assert r["userIdentity"]["type"] == "Root"
        assert r["userIdentity"]["arn"] == f"arn:aws:iam::{account}:root"
        assert r["userIdentity"]["invokedBy"] == "s3.amazonaws.com"
        assert r["sourceIPAddress"] == "s3.amazonaws.com" and r["userAgent"] == "s3.amazonaws.com"
        assert r["readOnly"] is True and r["managementEvent"] is True
        assert r["requestParameters"]["encryptionContext"] == {"aws:s3:arn": object_arn}
        assert "tlsDetails" not in r
        text = json.dumps(r)
        assert "plaintext" not in text.lower() and "ciphertextBlob" not in text
    assert made[0]["requestParameters"]["keySpec"] == "AES_256"
    assert made[0]["requestParameters"]["keyId"] == key["KeyId"]
    assert opened[0]["requestParameters"]["encryptionAlgorithm"] == "SYMMETRIC_DEFAULT"


def test_identity_policies_decide_kms_calls_made_through_s3(cairn):
    """The key's default policy delegates to the account's IAM: a user allowed s3:* but not
    kms:GenerateDataKey cannot write SSE-KMS objects under it, and cannot read them without
    kms:Decrypt; granting the KMS actions lets both through."""
    kms, s3 = cairn.client("kms"), cairn.client("s3")
    key = kms.create_key(Description="delegated")["KeyMetadata"]
    bucket = f"idp-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="by-root", Body=b"root's", ServerSideEncryption="aws:kms", SSEKMSKeyId=key["Arn"])
    s3_only = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    name = f"u{uuid.uuid4().hex[:6]}"
    access = new_user(cairn, name, s3_only)
    us3 = user_client(cairn, access, "s3")

    def attempt(call, **kw):
        for _ in range(50):
            try:
                return None, call(**kw)
            except botocore.exceptions.ClientError as e:
                if e.response["Error"]["Code"] != "InvalidAccessKeyId":
                    return e.response, None
        raise AssertionError("the new key never became usable")

    err, _ = attempt(us3.put_object, Bucket=bucket, Key="u", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=key["Arn"])
    assert err["Error"]["Code"] == "AccessDenied"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "kms:GenerateDataKey" in err["Error"]["Message"]
    err, _ = attempt(us3.get_object, Bucket=bucket, Key="by-root")
    assert err["Error"]["Code"] == "AccessDenied" and "kms:Decrypt" in err["Error"]["Message"]
    # Nothing was written by the refused PutObject.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket=bucket, Key="u")
    assert e.value.response["Error"]["Code"] == "404"

    with_kms = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": key["Arn"],
         "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}]})
    cairn.aws("iam", "put-user-policy", "--user-name", name, "--policy-name", "p", "--policy-document", with_kms)
    us3.put_object(Bucket=bucket, Key="u", Body=b"mine", ServerSideEncryption="aws:kms", SSEKMSKeyId=key["Arn"])
    assert us3.get_object(Bucket=bucket, Key="u")["Body"].read() == b"mine"
    assert us3.get_object(Bucket=bucket, Key="by-root")["Body"].read() == b"root's"
    # The grant holds only through S3: a direct Decrypt is not "via" S3.
    ukms = user_client(cairn, access, "kms")
    ct = kms.encrypt(KeyId=key["Arn"], Plaintext=b"direct")["CiphertextBlob"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ukms.decrypt(CiphertextBlob=ct)
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    denied = wait_for(lambda: [r for r in kms_records(cairn, key["Arn"], "GenerateDataKey")
                               if r.get("errorCode") == "AccessDenied"] or None)
    assert denied[0]["userIdentity"]["userName"] == name
    assert denied[0]["userIdentity"]["invokedBy"] == "s3.amazonaws.com"


# --- CloudTrail's own calls -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ct_lab(workdir):
    # A test clock: tests advance it to the next delivery instead of waiting.
    c = Cairn(workdir / "internal-ct-lab", ["--delivery-interval", "1", "--digest-interval", "3600", "--test-clock"])
    c.start()
    yield c
    c.stop()


def trail_key_policy(account, source_arn):
    """Root manages the key; CloudTrail may make data keys only for `source_arn`'s trail."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:GenerateDataKey*",
         "Resource": "*", "Condition": {
             "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{account}:trail/*"},
             "StringEquals": {"aws:SourceArn": source_arn}}}]})


def by_cloudtrail(client):
    """Every record CloudTrail's own calls made, from event history."""
    out = []
    for source in ("s3.amazonaws.com", "kms.amazonaws.com"):
        for e in lookup_all(client, LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": source}]):
            r = json.loads(e["CloudTrailEvent"])
            if r["userIdentity"].get("invokedBy") == "cloudtrail.amazonaws.com":
                out.append(r)
    return out


def real(event_id):
    with gzip.open(REAL_DATA / "records.jsonl.gz", "rt") as f:
        return next(r for r in map(json.loads, f) if r.get("eventID") == event_id)


def test_create_trail_checks_are_decided_by_the_real_policies(ct_lab):
    """CreateTrail asks S3 and KMS as cloudtrail.amazonaws.com for the trail: the bucket policy
    and key policy decide, `aws:SourceArn` included, with AWS's exceptions; AWS records none of
    these checks, and neither does cairn."""
    c = ct_lab
    account = c.env()["CAIRN_ACCOUNT_ID"]
    s3, kms, ct = c.client("s3"), c.client("kms"), c.client()
    bucket = f"chk-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    name = f"chk-{uuid.uuid4().hex[:6]}"
    arn = f"arn:aws:cloudtrail:us-east-1:{account}:trail/{name}"

    def create(*extra):
        return c.aws("cloudtrail", "create-trail", "--name", name, "--s3-bucket-name", bucket, *extra, check=False)

    rc, _, err = create()
    assert rc != 0 and "InsufficientS3BucketPolicyException" in err and f"for bucket: {bucket}" in err
    # The documented policy, for another trail: the trail's ARN reaches S3 as aws:SourceArn.
    s3.put_bucket_policy(Bucket=bucket, Policy=documented_policy(bucket, account, trail_arn=arn + "-other"))
    rc, _, err = create()
    assert rc != 0 and "InsufficientS3BucketPolicyException" in err
    # The ACL read allowed but the write explicitly denied: S3 judges the write too.
    policy = json.loads(documented_policy(bucket, account, trail_arn=arn))
    policy["Statement"].append({"Effect": "Deny", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                                "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    rc, _, err = create()
    assert rc != 0 and "InsufficientS3BucketPolicyException" in err
    s3.put_bucket_policy(Bucket=bucket, Policy=documented_policy(bucket, account, trail_arn=arn))

    other = kms.create_key(Policy=trail_key_policy(account, arn + "-other"))["KeyMetadata"]
    rc, _, err = create("--kms-key-id", other["KeyId"])
    assert rc != 0 and "InsufficientEncryptionPolicyException" in err and other["Arn"] in err
    rc, _, err = create("--kms-key-id", "alias/nothing-here")
    assert rc != 0 and "KmsKeyNotFoundException" in err
    mine = kms.create_key(Policy=trail_key_policy(account, arn))["KeyMetadata"]
    _, made, _ = c.aws("cloudtrail", "create-trail", "--name", name, "--s3-bucket-name", bucket,
                       "--kms-key-id", mine["KeyId"])
    assert made["KmsKeyId"] == mine["Arn"] and made["TrailARN"] == arn
    # UpdateTrail checks the same way.
    code = None
    try:
        ct.update_trail(Name=name, KmsKeyId=other["Arn"])
    except botocore.exceptions.ClientError as e:
        code = e.response["Error"]["Code"]
    assert code == "InsufficientEncryptionPolicyException"

    failed = wait_for(lambda: [r for r in (json.loads(e["CloudTrailEvent"]) for e in lookup_all(
        ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateTrail"}]))
        if r["requestParameters"]["name"] == name] or None)
    assert len(failed) == 6 and sum("errorCode" not in r for r in failed) == 1
    # No trail of CloudTrail's checks themselves: AWS shows none (the real CreateTrail of
    # 2014-09-26 in the corpus has no GetBucketAcl, PutObject or KMS call beside it).
    assert not [r for r in by_cloudtrail(ct) if bucket in json.dumps(r) or mine["Arn"] in json.dumps(r)
                or other["Arn"] in json.dumps(r)]
    ct.delete_trail(Name=name)


def test_cloudtrails_delivery_calls_are_recorded_as_aws_records_them(ct_lab, tmp_path):
    """A KMS-encrypted trail's first delivery makes a GetBucketAcl, a GenerateDataKey and a
    PutObject as cloudtrail.amazonaws.com; the management ones are in event history and in the
    trail's next log file (not the file they were made for), field by field as AWS's own."""
    c = ct_lab
    account = c.env()["CAIRN_ACCOUNT_ID"]
    s3, kms, ct = c.client("s3"), c.client("kms"), c.client()
    bucket = f"own-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    name = f"own-{uuid.uuid4().hex[:6]}"
    arn = f"arn:aws:cloudtrail:us-east-1:{account}:trail/{name}"
    s3.put_bucket_policy(Bucket=bucket, Policy=documented_policy(bucket, account, trail_arn=arn))
    key = kms.create_key(Policy=trail_key_policy(account, arn))["KeyMetadata"]
    ct.create_trail(Name=name, S3BucketName=bucket, KmsKeyId=key["Arn"])
    ct.start_logging(Name=name)

    def delivered():
        out = []
        for o in sorted(s3.list_objects_v2(Bucket=bucket).get("Contents", []), key=lambda o: o["Key"]):
            body = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
            out.append((o["Key"], json.loads(gzip.decompress(body))["Records"]))
        return out

    def own_in_files():
        files = delivered()
        own = [(k, r) for k, recs in files for r in recs if r["userIdentity"].get("invokedBy") == "cloudtrail.amazonaws.com"]
        return (files, own) if {r["eventName"] for _, r in own} >= {"GetBucketAcl", "GenerateDataKey"} else None

    files, own = c.advance_until(own_in_files, limit=20)
    acl = next(r for _, r in own if r["eventName"] == "GetBucketAcl")
    carrying, data_key = next((k, r) for k, r in own if r["eventName"] == "GenerateDataKey")
    prefix = f"arn:aws:s3:::{bucket}/"
    made_for = data_key["requestParameters"]["encryptionContext"]["aws:s3:arn"][len(prefix):]
    # A data key's record lands in a later file than the one it was made for.
    assert made_for in {k for k, _ in files} and carrying != made_for
    head = s3.head_object(Bucket=bucket, Key=made_for)
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key["Arn"]

    real_acl = real("8e6ffb2a-af42-47e6-9da9-8d90adbdc937")
    real_key = real("139bde74-a3a8-4016-be18-e72c16f0cf3b")
    for mine, theirs in ((acl, real_acl), (data_key, real_key)):
        assert set(mine) == set(theirs), set(mine) ^ set(theirs)
        for f in ("userIdentity", "sourceIPAddress", "userAgent", "readOnly", "eventType", "managementEvent",
                  "eventCategory", "responseElements"):
            assert mine[f] == theirs[f], f
        assert set(mine["requestParameters"]) == set(theirs["requestParameters"])
        assert mine["recipientAccountId"] == account and "errorCode" not in mine
    assert set(acl["additionalEventData"]) == set(real_acl["additionalEventData"]) - {"CipherSuite"}
    assert re.fullmatch(r"[A-Z0-9]{16}", acl["requestID"])
    assert acl["requestParameters"] == {"bucketName": bucket, "Host": f"{bucket}.s3.us-east-1.amazonaws.com", "acl": ""}
    assert data_key["requestParameters"] == {"keyId": key["Arn"], "keySpec": "AES_256", "encryptionContext": {
        "aws:cloudtrail:arn": arn, "aws:s3:arn": f"{prefix}{made_for}"}}
    assert data_key["resources"] == [{"accountId": account, "type": "AWS::KMS::Key", "ARN": key["Arn"]}]
    # The same records in event history, unchanged.
    for r in (acl, data_key):
        found = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": r["eventID"]}])["Events"]
        assert [json.loads(e["CloudTrailEvent"]) for e in found] == [r]
    # PutObject is a data event: never in event history, and no trail here selects it.
    assert not [r for r in by_cloudtrail(ct) if r["eventName"] == "PutObject"]
    assert "PutObject" not in {r["eventName"] for _, r in own}
    ct.delete_trail(Name=name)


def test_no_service_module_reaches_into_another():
    """The layout test's list of crossings is empty, and the sources agree."""
    src = Path(__file__).resolve().parent.parent / "crates" / "cairn-services" / "src"
    layout = (src.parent / "tests" / "layout.rs").read_text()
    assert re.search(r"const NOT_YET: \[\(&str, &str\); 0\] = \[\];", layout)
    services = ["cloudtrail", "s3", "kms", "logs", "iam", "sts"]
    crossings = []
    for service in services:
        for f in (src / service).rglob("*.rs"):
            text = f.read_text()
            for other in services:
                if other != service and re.search(rf"crate::{other}\b", text):
                    crossings.append((str(f.relative_to(src)), other))
    assert crossings == []
