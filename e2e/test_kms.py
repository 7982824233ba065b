"""KMS with the real AWS CLI and boto3: symmetric keys, aliases, key policies, Encrypt/Decrypt
and data keys, AWS's errors, and every call recorded as a kms.amazonaws.com management event
with no secret in it."""

import base64
import gzip
import json

import botocore.exceptions
import pytest

from conftest import REAL_DATA, lookup_all


@pytest.fixture(scope="module")
def kms(cairn):
    return cairn.client("kms")


def error_of(call, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(*args, **kwargs)
    return e.value.response["Error"]["Code"], e.value.response["Error"].get("Message", "")


def test_key_lifecycle_with_the_cli(cairn, tmp_path):
    _, created, _ = cairn.aws("kms", "create-key", "--description", "lab key")
    meta = created["KeyMetadata"]
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    assert meta["Arn"] == f"arn:aws:kms:us-east-1:{account}:key/{meta['KeyId']}"
    assert (meta["KeyState"], meta["KeyUsage"], meta["KeySpec"], meta["Enabled"]) == \
        ("Enabled", "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", True)
    key_id = meta["KeyId"]
    cairn.aws("kms", "create-alias", "--alias-name", "alias/lab", "--target-key-id", key_id)
    _, aliases, _ = cairn.aws("kms", "list-aliases")
    assert any(a["AliasName"] == "alias/lab" and a["TargetKeyId"] == key_id and
               a["AliasArn"] == f"arn:aws:kms:us-east-1:{account}:alias/lab" for a in aliases["Aliases"])
    _, described, _ = cairn.aws("kms", "describe-key", "--key-id", "alias/lab")
    assert described["KeyMetadata"]["KeyId"] == key_id

    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"the launch codes")
    _, enc, _ = cairn.aws("kms", "encrypt", "--key-id", "alias/lab", "--plaintext", f"fileb://{secret}",
                          "--encryption-context", "purpose=lab")
    assert enc["KeyId"] == meta["Arn"] and enc["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    blob = tmp_path / "blob"
    blob.write_bytes(base64.b64decode(enc["CiphertextBlob"]))
    _, dec, _ = cairn.aws("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}", "--encryption-context", "purpose=lab")
    assert base64.b64decode(dec["Plaintext"]) == b"the launch codes"
    code, _, err = cairn.aws("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}", check=False)
    assert code != 0 and "InvalidCiphertextException" in err, "the context is part of the ciphertext"

    cairn.aws("kms", "disable-key", "--key-id", key_id)
    code, _, err = cairn.aws("kms", "encrypt", "--key-id", key_id, "--plaintext", f"fileb://{secret}", check=False)
    assert code != 0 and "DisabledException" in err and "is disabled" in err
    cairn.aws("kms", "enable-key", "--key-id", key_id)
    _, sched, _ = cairn.aws("kms", "schedule-key-deletion", "--key-id", key_id, "--pending-window-in-days", "7")
    assert sched["KeyState"] == "PendingDeletion" and sched["PendingWindowInDays"] == 7
    code, _, err = cairn.aws("kms", "encrypt", "--key-id", key_id, "--plaintext", f"fileb://{secret}", check=False)
    assert code != 0 and "KMSInvalidStateException" in err and "pending deletion" in err
    cairn.aws("kms", "cancel-key-deletion", "--key-id", key_id)
    _, described, _ = cairn.aws("kms", "describe-key", "--key-id", key_id)
    assert described["KeyMetadata"]["KeyState"] == "Disabled", "as AWS: a cancelled deletion leaves the key disabled"


def test_data_keys_and_errors_with_boto3(kms):
    key = kms.create_key()["KeyMetadata"]
    dk = kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256", EncryptionContext={"bucket": "b"})
    assert len(dk["Plaintext"]) == 32
    again = kms.decrypt(CiphertextBlob=dk["CiphertextBlob"], EncryptionContext={"bucket": "b"})
    assert again["Plaintext"] == dk["Plaintext"] and again["KeyId"] == key["Arn"]
    wo = kms.generate_data_key_without_plaintext(KeyId=key["Arn"], NumberOfBytes=64)
    assert "Plaintext" not in wo and len(kms.decrypt(CiphertextBlob=wo["CiphertextBlob"])["Plaintext"]) == 64
    assert error_of(kms.generate_data_key, KeyId=key["KeyId"])[0] == "ValidationException"
    other = kms.create_key()["KeyMetadata"]
    assert error_of(kms.decrypt, CiphertextBlob=dk["CiphertextBlob"], KeyId=other["KeyId"],
                    EncryptionContext={"bucket": "b"})[0] == "IncorrectKeyException"
    code, msg = error_of(kms.describe_key, KeyId="1234abcd-12ab-34cd-56ef-1234567890ab")
    assert code == "NotFoundException" and "does not exist" in msg
    code, msg = error_of(kms.describe_key, KeyId="alias/nope")
    assert code == "NotFoundException" and msg.endswith(":alias/nope is not found.")
    assert error_of(kms.decrypt, CiphertextBlob=b"not a ciphertext at all, not even close......")[0] == "InvalidCiphertextException"
    assert error_of(kms.create_alias, AliasName="alias/aws/mine", TargetKeyId=key["KeyId"])[0] == "NotAuthorizedException"
    kms.create_alias(AliasName="alias/dup", TargetKeyId=key["KeyId"])
    assert error_of(kms.create_alias, AliasName="alias/dup", TargetKeyId=key["KeyId"])[0] == "AlreadyExistsException"
    assert error_of(kms.schedule_key_deletion, KeyId=key["KeyId"], PendingWindowInDays=3)[0] == "ValidationException"
    code, msg = error_of(kms.sign, KeyId=key["KeyId"], Message=b"x", SigningAlgorithm="RSASSA_PSS_SHA_256")
    assert code == "UnsupportedOperationException" and "Sign" in msg
    keys = [k["KeyId"] for p in kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 1}) for k in p["Keys"]]
    assert key["KeyId"] in keys and other["KeyId"] in keys and len(keys) == len(set(keys))


def test_key_policy_decides_even_for_root(kms):
    key = kms.create_key()["KeyMetadata"]
    account = key["AWSAccountId"]
    ct = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    policy = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
    assert policy["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{account}:root"}
    # A policy that would lock the caller out is refused unless the safety check is bypassed.
    nobody = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "kms:*", "Resource": "*"}]})
    code, msg = error_of(kms.put_key_policy, KeyId=key["KeyId"], PolicyName="default", Policy=nobody)
    assert code == "MalformedPolicyDocumentException" and "will not allow you to update the key policy" in msg
    no_decrypt = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": account}, "Action": "kms:Decrypt", "Resource": "*"}]})
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=no_decrypt)
    code, msg = error_of(kms.decrypt, CiphertextBlob=ct)
    assert code == "AccessDeniedException"
    assert msg == (f"User: arn:aws:iam::{account}:root is not authorized to perform: kms:Decrypt on resource: "
                   f"{key['Arn']} with an explicit deny in a resource-based policy")
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=json.dumps(policy))
    assert kms.decrypt(CiphertextBlob=ct)["Plaintext"] == b"x"


def test_kms_calls_are_recorded_without_secrets(cairn, kms):
    key = kms.create_key(Description="recorded")["KeyMetadata"]
    plaintext = b"do-not-record-me-" + b"z" * 20
    ct = kms.encrypt(KeyId=key["KeyId"], Plaintext=plaintext, EncryptionContext={"app": "lab"})["CiphertextBlob"]
    kms.decrypt(CiphertextBlob=ct, EncryptionContext={"app": "lab"})
    dk = kms.generate_data_key(KeyId=key["Arn"], KeySpec="AES_256", EncryptionContext={"app": "lab"})
    kms.describe_key(KeyId=key["KeyId"])
    ct_client = cairn.client()
    events = lookup_all(ct_client, LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": key["Arn"]}])
    records = {}
    for e in events:
        r = json.loads(e["CloudTrailEvent"])
        records.setdefault(r["eventName"], r)
    assert {"CreateKey", "Encrypt", "Decrypt", "GenerateDataKey", "DescribeKey"} <= set(records)
    for name, r in records.items():
        text = json.dumps(r)
        assert base64.b64encode(plaintext).decode() not in text and "do-not-record-me" not in text
        assert base64.b64encode(dk["Plaintext"]).decode() not in text and base64.b64encode(ct).decode() not in text
        assert r["eventSource"] == "kms.amazonaws.com" and r["eventCategory"] == "Management"
        assert r["managementEvent"] is True
        assert {"accountId": key["AWSAccountId"], "type": "AWS::KMS::Key", "ARN": key["Arn"]} in r["resources"]
    assert records["Encrypt"]["requestParameters"] == {"keyId": key["KeyId"], "encryptionContext": {"app": "lab"},
                                                       "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    assert records["Decrypt"]["requestParameters"] == {"encryptionContext": {"app": "lab"}, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    assert records["Encrypt"]["readOnly"] is True and records["Encrypt"]["responseElements"] is None
    assert records["CreateKey"]["readOnly"] is False
    assert records["CreateKey"]["responseElements"]["keyMetadata"]["keyId"] == key["KeyId"]

    # The same keys, with values of the same shapes, as real AWS records of these events.
    real = {}
    with gzip.open(REAL_DATA / "records.jsonl.gz", "rt") as f:
        for line in f:
            r = json.loads(line)
            if r.get("eventSource") == "kms.amazonaws.com" and r.get("eventVersion") == "1.08":
                real.setdefault(r["eventName"], r)
    for name in ["Encrypt", "Decrypt", "GenerateDataKey", "DescribeKey"]:
        ours, theirs = records[name], real[name]
        assert set(ours["requestParameters"]) == set(theirs["requestParameters"]), name
        assert ours["resources"][0].keys() == theirs["resources"][0].keys()
        for k in ["readOnly", "eventType", "managementEvent", "eventCategory", "responseElements"]:
            assert ours[k] == theirs[k], (name, k)


def test_key_management_calls_are_recorded(cairn, kms):
    """Aliases, enabling and disabling, deletion scheduling and key policies: each call a
    kms.amazonaws.com management event naming its key, write calls not read-only."""
    key = kms.create_key(Description="managed")["KeyMetadata"]
    alias = f"alias/rec-{key['KeyId'][:8]}"
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    kms.update_key_description(KeyId=key["KeyId"], Description="managed, renamed")
    kms.disable_key(KeyId=key["KeyId"])
    kms.enable_key(KeyId=key["KeyId"])
    policy = kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy)
    kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
    kms.cancel_key_deletion(KeyId=key["KeyId"])
    kms.delete_alias(AliasName=alias)
    assert alias not in [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        kms.describe_key(KeyId=alias)
    assert e.value.response["Error"]["Code"] == "NotFoundException"
    events = lookup_all(cairn.client(), LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": key["Arn"]}])
    records = {}
    for ev in events:
        r = json.loads(ev["CloudTrailEvent"])
        records.setdefault(r["eventName"], r)
    writes = {"CreateAlias", "UpdateKeyDescription", "DisableKey", "EnableKey", "PutKeyPolicy",
              "ScheduleKeyDeletion", "CancelKeyDeletion", "DeleteAlias"}
    assert writes | {"GetKeyPolicy"} <= set(records), set(records)
    for name in writes:
        assert records[name]["readOnly"] is False and records[name]["eventSource"] == "kms.amazonaws.com", name
    assert records["GetKeyPolicy"]["readOnly"] is True
    assert records["DeleteAlias"]["requestParameters"] == {"aliasName": alias}
    assert records["ScheduleKeyDeletion"]["requestParameters"] == {"keyId": key["KeyId"], "pendingWindowInDays": 7}


# --- KMS-encrypted trails and SSE-KMS objects ------------------------------------------------------

import uuid
from datetime import datetime, timedelta, timezone

from conftest import Cairn, documented_policy, wait_for


def trail_key_policy(account, deny_decrypt=False):
    """Root manages the key; CloudTrail may make data keys for this account's trails (AWS's
    documented statement); optionally nobody in the account may decrypt."""
    statements = [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "Allow CloudTrail to encrypt logs", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "kms:GenerateDataKey*", "Resource": "*",
         "Condition": {"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{account}:trail/*"}}},
    ]
    if deny_decrypt:
        statements.append({"Sid": "No reading", "Effect": "Deny", "Principal": {"AWS": account},
                           "Action": "kms:Decrypt", "Resource": "*"})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


@pytest.fixture(scope="module")
def kms_lab(workdir):
    # A test clock: tests advance it to the next delivery and digest instead of waiting.
    c = Cairn(workdir / "kms-lab", ["--delivery-interval", "1", "--digest-interval", "2", "--test-clock"])
    c.start()
    yield c
    c.stop()


def test_a_trail_with_a_kms_key(kms_lab, tmp_path):
    c = kms_lab
    account = c.env()["CAIRN_ACCOUNT_ID"]
    kms, s3, ct = c.client("kms"), c.client("s3"), c.client()
    start = datetime.now(timezone.utc) - timedelta(minutes=1)
    bucket = f"ct-kms-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=documented_policy(bucket, account))
    key = kms.create_key(Policy=trail_key_policy(account))["KeyMetadata"]
    kms.create_alias(AliasName="alias/ct-logs", TargetKeyId=key["KeyId"])

    bare = kms.create_key()["KeyMetadata"]  # the default policy does not let CloudTrail in
    code, err = error_of(ct.create_trail, Name="bare", S3BucketName=bucket, KmsKeyId=bare["KeyId"])
    assert code == "InsufficientEncryptionPolicyException"
    assert error_of(ct.create_trail, Name="nokey", S3BucketName=bucket, KmsKeyId="alias/none")[0] == "KmsKeyNotFoundException"

    _, trail, _ = c.aws("cloudtrail", "create-trail", "--name", "sealed", "--s3-bucket-name", bucket,
                        "--kms-key-id", "alias/ct-logs", "--enable-log-file-validation")
    assert trail["KmsKeyId"] == key["Arn"]
    assert ct.describe_trails(trailNameList=["sealed"])["trailList"][0]["KmsKeyId"] == key["Arn"]
    ct.start_logging(Name="sealed")
    for _ in range(3):
        ct.describe_trails()

    def logs():
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        return [k for k in keys if "/CloudTrail/" in k] and [k for k in keys if "/CloudTrail-Digest/" in k] and keys
    keys = c.advance_until(logs, limit=40)
    log = next(k for k in keys if "/CloudTrail/" in k)
    digest = next(k for k in keys if "/CloudTrail-Digest/" in k)
    head = s3.head_object(Bucket=bucket, Key=log)
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key["Arn"]
    assert s3.head_object(Bucket=bucket, Key=digest)["ServerSideEncryption"] == "AES256", "digests stay SSE-S3"
    records = json.loads(gzip.decompress(s3.get_object(Bucket=bucket, Key=log)["Body"].read()))["Records"]
    assert records

    # Without kms:Decrypt the file cannot be read; the bucket policy alone does not help.
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=trail_key_policy(account, deny_decrypt=True))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=bucket, Key=log)
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "kms:Decrypt" in e.value.response["Error"]["Message"]
    code, _, err = c.aws("s3", "cp", f"s3://{bucket}/{log}", str(tmp_path / "x.json.gz"), check=False)
    assert code != 0 and "AccessDenied" in err
    # CloudTrail keeps delivering: making data keys is still allowed.
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=trail_key_policy(account))
    assert json.loads(gzip.decompress(s3.get_object(Bucket=bucket, Key=log)["Body"].read()))["Records"] == records

    ct.stop_logging(Name="sealed")
    # The final digest is out once the bucket holds still.
    def settled():
        before = len(s3.list_objects_v2(Bucket=bucket).get("Contents", []))
        c.advance(3)
        return before == len(s3.list_objects_v2(Bucket=bucket).get("Contents", []))
    wait_for(settled, timeout=30, every=0)
    # Up to the instance's time, which the test clock has moved past the wall clock.
    code, out, err = c.aws("cloudtrail", "validate-logs", "--trail-arn", trail["TrailARN"],
                           "--start-time", start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                           "--end-time", c.now().strftime("%Y-%m-%dT%H:%M:%SZ"), check=False)
    assert code == 0, (out, err)
    assert "digest files valid" in out and "log files valid" in out and "INVALID" not in err
    # cairn's validator too: it reads the SSE-KMS log files through S3, which decrypts them.
    from test_validate_logs import cairn_validate
    code, out, err = cairn_validate(c, trail["TrailARN"], start)
    assert code == 0, (out, err)
    assert "INVALID" not in out + err and "log files valid" in out


def test_sse_kms_objects_and_bucket_default_encryption(kms_lab):
    c = kms_lab
    kms, s3 = c.client("kms"), c.client("s3")
    key = kms.create_key()["KeyMetadata"]
    bucket = f"kms-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    put = s3.put_object(Bucket=bucket, Key="a", Body=b"secret a", ServerSideEncryption="aws:kms", SSEKMSKeyId=key["Arn"])
    assert put["ServerSideEncryption"] == "aws:kms"
    got = s3.get_object(Bucket=bucket, Key="a")
    assert got["Body"].read() == b"secret a" and got["SSEKMSKeyId"] == key["Arn"]
    assert got["ServerSideEncryption"] == "aws:kms"
    assert s3.get_object(Bucket=bucket, Key="a", Range="bytes=2-4")["Body"].read() == b"cre"
    s3.copy_object(Bucket=bucket, Key="b", CopySource={"Bucket": bucket, "Key": "a"})
    assert s3.get_object(Bucket=bucket, Key="b")["Body"].read() == b"secret a"
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["KeyId"]}}]})
    s3.put_object(Bucket=bucket, Key="c", Body=b"by default")
    head = s3.head_object(Bucket=bucket, Key="c")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key["Arn"]
    assert s3.get_object(Bucket=bucket, Key="c")["Body"].read() == b"by default"
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c")
    assert e.value.response["Error"]["Code"] == "DisabledException"
    kms.enable_key(KeyId=key["KeyId"])
    code, msg = error_of(s3.put_object, Bucket=bucket, Key="d", Body=b"x", ServerSideEncryption="aws:kms",
                         SSEKMSKeyId="alias/missing")
    assert code == "NotFoundException"


def test_log_files_follow_the_buckets_default_kms_encryption(kms_lab):
    """A trail without a KMS key delivering to a bucket whose default encryption is SSE-KMS:
    S3 encrypts each log file under the bucket's key on CloudTrail's behalf (digests stay
    SSE-S3), and a key that does not let CloudTrail make data keys stops delivery, visibly."""
    c = kms_lab
    account = c.env()["CAIRN_ACCOUNT_ID"]
    kms, s3, ct = c.client("kms"), c.client("s3"), c.client()
    allows_cloudtrail = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:GenerateDataKey*", "Resource": "*"}]})
    good = kms.create_key(Policy=allows_cloudtrail)["KeyMetadata"]
    bare = kms.create_key()["KeyMetadata"]
    buckets = {}
    for name, key in (("good", good), ("bare", bare)):
        b = buckets[name] = f"dflt-{name}-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(Bucket=b)
        s3.put_bucket_policy(Bucket=b, Policy=documented_policy(b, account))
        s3.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["KeyId"]}}]})
        ct.create_trail(Name=f"dflt-{name}", S3BucketName=b, EnableLogFileValidation=True)
        ct.start_logging(Name=f"dflt-{name}")
    ct.describe_trails()

    def files():
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=buckets["good"]).get("Contents", [])]
        return ([k for k in keys if "/CloudTrail/" in k] and [k for k in keys if "/CloudTrail-Digest/" in k]) and keys
    keys = c.advance_until(files, limit=40)
    log = next(k for k in keys if "/CloudTrail/" in k)
    head = s3.head_object(Bucket=buckets["good"], Key=log)
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == good["Arn"]
    assert json.loads(gzip.decompress(s3.get_object(Bucket=buckets["good"], Key=log)["Body"].read()))["Records"]
    digest = next(k for k in keys if "/CloudTrail-Digest/" in k)
    assert s3.head_object(Bucket=buckets["good"], Key=digest)["ServerSideEncryption"] == "AES256"

    status = c.advance_until(lambda: (s := ct.get_trail_status(Name="dflt-bare")).get("LatestDeliveryError") and s,
                             limit=40)
    assert status["LatestDeliveryError"].startswith("KMS: ")
    assert not [o for o in s3.list_objects_v2(Bucket=buckets["bare"]).get("Contents", []) if "/CloudTrail/" in o["Key"]]
    for name in buckets:
        ct.delete_trail(Name=f"dflt-{name}")
