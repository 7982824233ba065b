"""Object Lock and MFA delete, with the real AWS CLI v1 and boto3 (issue 21, parts 1 and 2): a
trail delivering into a COMPLIANCE bucket whose log files nobody (root included) can delete or
weaken, with `aws cloudtrail validate-logs` passing; GOVERNANCE retention bypassed only with the
header and s3:BypassGovernanceRetention; legal holds; retention ending on the test clock; the
checksum S3 requires on locked writes; MFA delete with the root user's virtual MFA device
(assigned from the console, as in AWS; another user's device is refused); and the calls recorded
as AWS records them."""

import base64
import gzip
import hashlib
import hmac
import json
import struct
import uuid
from datetime import datetime, timedelta, timezone

import boto3
import botocore.config
import botocore.exceptions
import pytest

from conftest import Cairn, documented_policy, lookup_all
from root_mfa import assign_root_mfa, set_root_password

PROTECTED = "Access Denied because object protected by object lock."


@pytest.fixture(scope="module")
def lab(workdir):
    c = Cairn(workdir / "s3-object-lock", ["--delivery-interval", "1", "--digest-interval", "2", "--test-clock"])
    c.start()
    yield c
    c.stop()


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]


def locked_bucket(c, mode=None, days=1):
    """A new bucket with Object Lock (and so versioning), with a default retention if `mode`."""
    s3 = c.client("s3")
    b = f"lock-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=b, ObjectLockEnabledForBucket=True)
    if mode:
        s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": mode, "Days": days}}})
    return s3, b


def user_env(c, name, actions):
    iam = c.client("iam")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def s3_as(c, env, **config):
    return boto3.client("s3", endpoint_url=c.endpoint, region_name="us-east-1",
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                        config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 1}, **config))


def totp(seed_b32, step):
    key = base64.b32decode(seed_b32 + "=" * (-len(seed_b32) % 8))
    h = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    o = h[-1] & 15
    return "%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


def test_bucket_lock_configuration_and_its_errors(lab):
    s3 = lab.client("s3")
    plain = f"plain-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=plain)
    err = error_of(lambda: s3.get_object_lock_configuration(Bucket=plain))
    assert err["Code"] == "ObjectLockConfigurationNotFoundError"
    assert err["Message"] == "Object Lock configuration does not exist for this bucket"
    # Not on an unversioned bucket; once versioned, an existing bucket takes it.
    conf = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Years": 1}}}
    err = error_of(lambda: s3.put_object_lock_configuration(Bucket=plain, ObjectLockConfiguration=conf))
    assert err["Code"] == "InvalidBucketState"
    s3.put_bucket_versioning(Bucket=plain, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=plain, ObjectLockConfiguration=conf)
    got = s3.get_object_lock_configuration(Bucket=plain)["ObjectLockConfiguration"]
    assert got == conf
    # Versioning cannot be suspended under a lock.
    err = error_of(lambda: s3.put_bucket_versioning(Bucket=plain, VersioningConfiguration={"Status": "Suspended"}))
    assert err["Code"] == "InvalidBucketState"
    # Created locked: versioning on, lock enabled without a default (the CLI this time).
    b = f"made-{uuid.uuid4().hex[:8]}"
    lab.aws("s3api", "create-bucket", "--bucket", b, "--object-lock-enabled-for-bucket")
    _, v, _ = lab.aws("s3api", "get-bucket-versioning", "--bucket", b)
    assert v["Status"] == "Enabled"
    _, lc, _ = lab.aws("s3api", "get-object-lock-configuration", "--bucket", b)
    assert lc["ObjectLockConfiguration"] == {"ObjectLockEnabled": "Enabled"}
    # Both Days and Years, or a mode S3 does not know: malformed.
    bad = {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1, "Years": 1}}}
    assert error_of(lambda: s3.put_object_lock_configuration(Bucket=b, ObjectLockConfiguration=bad))["Code"] == "MalformedXML"
    # Lock parameters on a bucket without Object Lock.
    other = f"open-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=other)
    until = datetime.now(timezone.utc) + timedelta(days=1)
    err = error_of(lambda: s3.put_object(Bucket=other, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                                         ObjectLockRetainUntilDate=until))
    assert err["Code"] == "InvalidRequest"


def test_locked_writes_need_a_checksum_and_reads_show_the_lock(lab):
    s3, b = locked_bucket(lab, "GOVERNANCE")
    # A client that sends no checksum (nor Content-MD5) is refused, as S3 refuses it.
    env = lab.env()
    bare = s3_as(lab, env, request_checksum_calculation="when_required")
    err = error_of(lambda: bare.put_object(Bucket=b, Key="k", Body=b"no digest"))
    assert err["Code"] == "InvalidRequest"
    assert err["Message"] == ("Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests "
                              "with Object Lock parameters")
    md5 = base64.b64encode(hashlib.md5(b"digest").digest()).decode()
    bare.put_object(Bucket=b, Key="k", Body=b"digest", ContentMD5=md5)
    # The bucket's default retention applies; reads answer it.
    head = s3.head_object(Bucket=b, Key="k")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    assert head["ObjectLockRetainUntilDate"] > datetime.now(timezone.utc) + timedelta(hours=23)
    # Headers name their own retention and legal hold; the CLI sends its checksum itself.
    until = iso(datetime.now(timezone.utc) + timedelta(days=3))
    body = lab.data_dir.parent / "lock-body.txt"
    body.write_text("explicit")
    _, put, _ = lab.aws("s3api", "put-object", "--bucket", b, "--key", "e", "--body", str(body),
                        "--object-lock-mode", "COMPLIANCE", "--object-lock-retain-until-date", until,
                        "--object-lock-legal-hold-status", "ON")
    got = s3.get_object(Bucket=b, Key="e")
    assert got["ObjectLockMode"] == "COMPLIANCE" and got["ObjectLockLegalHoldStatus"] == "ON"
    assert got["ObjectLockRetainUntilDate"].strftime("%Y-%m-%dT%H:%M:%SZ") == until
    r = s3.get_object_retention(Bucket=b, Key="e", VersionId=put["VersionId"])["Retention"]
    assert r["Mode"] == "COMPLIANCE"
    assert s3.get_object_legal_hold(Bucket=b, Key="e")["LegalHold"] == {"Status": "ON"}
    # A copy takes the destination's lock, not its source's; a multipart upload the default.
    s3.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "e"})
    copy = s3.head_object(Bucket=b, Key="copy")
    assert copy["ObjectLockMode"] == "GOVERNANCE" and "ObjectLockLegalHoldStatus" not in copy
    up = s3.create_multipart_upload(Bucket=b, Key="mp")["UploadId"]
    part = s3.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=1, Body=b"p")
    s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3.head_object(Bucket=b, Key="mp")["ObjectLockMode"] == "GOVERNANCE"
    # A reader without s3:GetObjectRetention / s3:GetObjectLegalHold sees no lock headers.
    reader = s3_as(lab, user_env(lab, f"reader-{uuid.uuid4().hex[:6]}", ["s3:GetObject"]))
    assert "ObjectLockMode" not in reader.head_object(Bucket=b, Key="e")
    assert "ObjectLockLegalHoldStatus" not in reader.head_object(Bucket=b, Key="e")
    # No retention set on a version: S3's own error.
    s3b, nb = locked_bucket(lab)
    s3b.put_object(Bucket=nb, Key="free", Body=b"f")
    err = error_of(lambda: s3b.get_object_retention(Bucket=nb, Key="free"))
    assert err["Code"] == "NoSuchObjectLockConfiguration"


def without_checksums(client, operation):
    """The client, sending `operation` with no integrity check of its body at all (botocore
    always adds one where S3's model requires it): what a bare HTTP client would send."""
    def strip(request, **_):
        for h in list(request.headers):
            if h.lower() == "content-md5" or h.lower().startswith(("x-amz-checksum-", "x-amz-sdk-checksum")):
                del request.headers[h]
    client.meta.events.register(f"before-sign.s3.{operation}", strip)
    return client


def test_locked_parts_and_lock_calls_need_a_checksum_too(lab):
    s3, b = locked_bucket(lab, "GOVERNANCE")
    bare = s3_as(lab, lab.env(), request_checksum_calculation="when_required")
    # A part of an upload whose object takes the bucket's default retention needs one.
    up = s3.create_multipart_upload(Bucket=b, Key="mp")["UploadId"]
    err = error_of(lambda: bare.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=1, Body=b"no digest"))
    assert err["Code"] == "InvalidRequest"
    assert err["Message"] == ("Content-MD5 OR x-amz-checksum- HTTP header is required for Put Part requests "
                              "with Object Lock parameters")
    md5 = base64.b64encode(hashlib.md5(b"digest").digest()).decode()
    one = bare.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=1, Body=b"digest", ContentMD5=md5)
    two = bare.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=2, Body=b"crc", ChecksumAlgorithm="CRC32")
    parts = s3.list_parts(Bucket=b, Key="mp", UploadId=up)["Parts"]
    assert [(p["PartNumber"], p["ETag"]) for p in parts] == [(1, one["ETag"]), (2, two["ETag"])]
    s3.abort_multipart_upload(Bucket=b, Key="mp", UploadId=up)
    # Copying a part sends no body: nothing to check.
    s3.put_object(Bucket=b, Key="src", Body=b"source")
    up = s3.create_multipart_upload(Bucket=b, Key="copied")["UploadId"]
    part = bare.upload_part_copy(Bucket=b, Key="copied", UploadId=up, PartNumber=1,
                                 CopySource={"Bucket": b, "Key": "src"})["CopyPartResult"]
    s3.complete_multipart_upload(Bucket=b, Key="copied", UploadId=up,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3.get_object(Bucket=b, Key="copied")["Body"].read() == b"source"
    # An Object Lock bucket without a default retention: a part of an upload that asked for no
    # lock needs none; one whose upload named a lock does.
    s3n, nb = locked_bucket(lab)
    free = s3n.create_multipart_upload(Bucket=nb, Key="free")["UploadId"]
    bare.upload_part(Bucket=nb, Key="free", UploadId=free, PartNumber=1, Body=b"unlocked")
    held = s3n.create_multipart_upload(Bucket=nb, Key="held", ObjectLockLegalHoldStatus="ON")["UploadId"]
    err = error_of(lambda: bare.upload_part(Bucket=nb, Key="held", UploadId=held, PartNumber=1, Body=b"x"))
    assert err["Code"] == "InvalidRequest" and "Put Part requests" in err["Message"]
    # A missing upload is still NoSuchUpload.
    err = error_of(lambda: bare.upload_part(Bucket=nb, Key="held", UploadId="nope", PartNumber=1, Body=b"x"))
    assert err["Code"] == "NoSuchUpload"
    # The lock calls themselves always need one (httpChecksumRequired), with S3's words.
    vid = s3n.put_object(Bucket=nb, Key="v", Body=b"v")["VersionId"]
    missing = "Missing required header for this request: Content-MD5 OR x-amz-checksum-*"
    until = datetime.now(timezone.utc) + timedelta(days=1)
    for op, call in [
        ("PutObjectRetention", lambda c: c.put_object_retention(
            Bucket=nb, Key="v", VersionId=vid, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until})),
        ("PutObjectLegalHold", lambda c: c.put_object_legal_hold(
            Bucket=nb, Key="v", VersionId=vid, LegalHold={"Status": "ON"})),
        ("PutObjectLockConfiguration", lambda c: c.put_object_lock_configuration(
            Bucket=nb, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})),
    ]:
        client = without_checksums(s3_as(lab, lab.env()), op)
        err = error_of(lambda: call(client))
        assert (err["Code"], err["Message"]) == ("InvalidRequest", missing), op
        call(s3_as(lab, lab.env()))
    assert s3n.get_object_legal_hold(Bucket=nb, Key="v", VersionId=vid)["LegalHold"]["Status"] == "ON"
    assert s3n.get_object_retention(Bucket=nb, Key="v", VersionId=vid)["Retention"]["Mode"] == "GOVERNANCE"


def test_governance_is_bypassed_only_with_the_header_and_the_permission(lab):
    s3, b = locked_bucket(lab, "GOVERNANCE")
    vid = s3.put_object(Bucket=b, Key="g", Body=b"governed")["VersionId"]
    allowed = ["s3:GetObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectRetention",
               "s3:GetObjectRetention"]
    plain = s3_as(lab, user_env(lab, f"plain-{uuid.uuid4().hex[:6]}", allowed))
    bypass_env = user_env(lab, f"bypass-{uuid.uuid4().hex[:6]}", allowed + ["s3:BypassGovernanceRetention"])
    bypasser = s3_as(lab, bypass_env)
    # Nobody deletes it without the header, root included.
    for who in (s3, plain, bypasser):
        err = error_of(lambda: who.delete_object(Bucket=b, Key="g", VersionId=vid))
        assert (err["Code"], err["Message"]) == ("AccessDenied", PROTECTED)
    # The header without the permission is not enough.
    err = error_of(lambda: plain.delete_object(Bucket=b, Key="g", VersionId=vid, BypassGovernanceRetention=True))
    assert err["Code"] == "AccessDenied"
    # Retention is lengthened by anyone allowed, shortened only with a bypass.
    later = datetime.now(timezone.utc) + timedelta(days=5)
    plain.put_object_retention(Bucket=b, Key="g", VersionId=vid,
                               Retention={"Mode": "GOVERNANCE", "RetainUntilDate": later})
    sooner = datetime.now(timezone.utc) + timedelta(hours=1)
    err = error_of(lambda: plain.put_object_retention(Bucket=b, Key="g", VersionId=vid, BypassGovernanceRetention=True,
                                                      Retention={"Mode": "GOVERNANCE", "RetainUntilDate": sooner}))
    assert err["Code"] == "AccessDenied"
    bypasser.put_object_retention(Bucket=b, Key="g", VersionId=vid, BypassGovernanceRetention=True,
                                  Retention={"Mode": "GOVERNANCE", "RetainUntilDate": sooner})
    got = s3.get_object_retention(Bucket=b, Key="g", VersionId=vid)["Retention"]
    assert abs((got["RetainUntilDate"] - sooner).total_seconds()) < 1
    # With both, it goes (the CLI this time).
    lab.aws("s3api", "delete-object", "--bucket", b, "--key", "g", "--version-id", vid,
            "--bypass-governance-retention", env_overrides=bypass_env)
    assert error_of(lambda: s3.head_object(Bucket=b, Key="g", VersionId=vid))["Code"] in ("404", "NoSuchVersion")


def test_legal_hold_keeps_a_version_until_it_is_lifted(lab):
    s3, b = locked_bucket(lab)
    vid = s3.put_object(Bucket=b, Key="held", Body=b"h")["VersionId"]
    lab.aws("s3api", "put-object-legal-hold", "--bucket", b, "--key", "held", "--legal-hold", "Status=ON")
    err = error_of(lambda: s3.delete_object(Bucket=b, Key="held", VersionId=vid, BypassGovernanceRetention=True))
    assert (err["Code"], err["Message"]) == ("AccessDenied", PROTECTED)
    out = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "held", "VersionId": vid}]})
    assert out["Errors"] == [{"Key": "held", "VersionId": vid, "Code": "AccessDenied", "Message": PROTECTED}]
    # Deleting without a version id only hides it behind a delete marker, as in S3.
    marker = s3.delete_object(Bucket=b, Key="held")
    assert marker["DeleteMarker"] is True
    s3.delete_object(Bucket=b, Key="held", VersionId=marker["VersionId"])
    s3.put_object_legal_hold(Bucket=b, Key="held", LegalHold={"Status": "OFF"})
    assert s3.get_object_legal_hold(Bucket=b, Key="held")["LegalHold"]["Status"] == "OFF"
    s3.delete_object(Bucket=b, Key="held", VersionId=vid)
    assert s3.list_object_versions(Bucket=b).get("Versions", []) == []


def test_compliance_retention_ends_on_the_clock_and_then_the_version_goes(lab):
    s3, b = locked_bucket(lab, "COMPLIANCE", days=1)
    vid = s3.put_object(Bucket=b, Key="c", Body=b"c")["VersionId"]
    # Never shortened or removed, even by root with a bypass; lengthening is fine.
    sooner = datetime.now(timezone.utc) + timedelta(hours=1)
    err = error_of(lambda: s3.put_object_retention(Bucket=b, Key="c", VersionId=vid, BypassGovernanceRetention=True,
                                                   Retention={"Mode": "COMPLIANCE", "RetainUntilDate": sooner}))
    assert (err["Code"], err["Message"]) == ("AccessDenied", PROTECTED)
    err = error_of(lambda: s3.put_object_retention(Bucket=b, Key="c", VersionId=vid, BypassGovernanceRetention=True,
                                                   Retention={"Mode": "GOVERNANCE", "RetainUntilDate": sooner + timedelta(days=9)}))
    assert err["Code"] == "AccessDenied"
    later = lab.now() + timedelta(days=1, hours=1)
    s3.put_object_retention(Bucket=b, Key="c", VersionId=vid, Retention={"Mode": "COMPLIANCE", "RetainUntilDate": later})
    err = error_of(lambda: s3.delete_object(Bucket=b, Key="c", VersionId=vid, BypassGovernanceRetention=True))
    assert err["Code"] == "AccessDenied"
    lab.advance(int(timedelta(days=1, hours=2).total_seconds()))
    s3.delete_object(Bucket=b, Key="c", VersionId=vid)
    assert s3.list_object_versions(Bucket=b).get("Versions", []) == []


def test_mfa_delete_with_the_root_users_virtual_mfa_device(lab):
    s3 = lab.client("s3")
    b = f"mfa-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=b)
    account = lab.env()["CAIRN_ACCOUNT_ID"]
    # Root's device, assigned from the console (IAM's API cannot give root a device).
    set_root_password(lab)
    serial, seed, step = assign_root_mfa(lab.endpoint, account, f"root-{uuid.uuid4().hex[:6]}",
                                         lab.now().timestamp())
    assert serial.startswith(f"arn:aws:iam::{account}:mfa/root-")
    used = [step]
    # An IAM user's enabled device of the same account.
    iam = lab.client("iam")
    holder = f"mfa-holder-{uuid.uuid4().hex[:6]}"
    iam.create_user(UserName=holder)
    dev = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"vault-{uuid.uuid4().hex[:6]}")["VirtualMFADevice"]
    user_seed, user_serial = dev["Base32StringSeed"].decode(), dev["SerialNumber"]
    iam.enable_mfa_device(UserName=holder, SerialNumber=user_serial,
                          AuthenticationCode1=totp(user_seed, step - 1), AuthenticationCode2=totp(user_seed, step))

    def code():
        """The next code root's device shows: each is good once, so the clock moves on as needed."""
        while True:
            now = int(lab.now().timestamp()) // 30
            for s in (now - 1, now, now + 1):
                if s > used[-1]:
                    used.append(s)
                    return f"{serial} {totp(seed, s)}"
            lab.advance(30)

    enable = {"Status": "Enabled", "MFADelete": "Enabled"}
    # Without a code, with a wrong one, or by anyone but root: refused.
    err = error_of(lambda: s3.put_bucket_versioning(Bucket=b, VersioningConfiguration=enable))
    assert err["Code"] == "AccessDenied"
    err = error_of(lambda: s3.put_bucket_versioning(Bucket=b, VersioningConfiguration=enable, MFA=f"{serial} 000000"))
    assert err["Code"] == "AccessDenied"
    # Another user's device, with a good code from it: S3 takes only the root user's.
    user_code = f"{user_serial} {totp(user_seed, int(lab.now().timestamp()) // 30 + 1)}"
    err = error_of(lambda: s3.put_bucket_versioning(Bucket=b, VersioningConfiguration=enable, MFA=user_code))
    assert (err["Code"], err["Message"]) == ("AccessDenied", "Access Denied")
    admin = s3_as(lab, user_env(lab, f"admin-{uuid.uuid4().hex[:6]}", ["s3:*"]))
    err = error_of(lambda: admin.put_bucket_versioning(Bucket=b, VersioningConfiguration=enable, MFA=code()))
    assert err["Code"] == "InvalidRequest"
    # Root with a code turns it on (the CLI this time).
    lab.aws("s3api", "put-bucket-versioning", "--bucket", b, "--mfa", code(),
            "--versioning-configuration", "Status=Enabled,MFADelete=Enabled")
    got = s3.get_bucket_versioning(Bucket=b)
    assert (got["Status"], got["MFADelete"]) == ("Enabled", "Enabled")
    vid = s3.put_object(Bucket=b, Key="k", Body=b"v")["VersionId"]
    # Deleting a version or changing versioning now takes a code; a delete marker does not.
    err = error_of(lambda: s3.delete_object(Bucket=b, Key="k", VersionId=vid))
    assert (err["Code"], err["Message"]) == ("AccessDenied", "Mfa Authentication must be used for this request")
    err = error_of(lambda: s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "k", "VersionId": vid}]}))
    assert err["Code"] == "AccessDenied"
    err = error_of(lambda: s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"}))
    assert err["Code"] == "AccessDenied"
    err = error_of(lambda: s3.delete_object(Bucket=b, Key="k", VersionId=vid, MFA="no-space"))
    assert err["Code"] == "InvalidArgument"
    marker = s3.delete_object(Bucket=b, Key="k")
    assert marker["DeleteMarker"] is True
    s3.delete_object(Bucket=b, Key="k", VersionId=marker["VersionId"], MFA=code())
    # A code is spent once it is used.
    spent = code()
    s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "k", "VersionId": vid}]}, MFA=spent)
    err = error_of(lambda: s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled",
                                                                                        "MFADelete": "Disabled"},
                                                    MFA=spent))
    assert err["Code"] == "AccessDenied"
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled", "MFADelete": "Disabled"},
                             MFA=code())
    assert s3.get_bucket_versioning(Bucket=b)["MFADelete"] == "Disabled"
    # Recorded as AWS records it: the document, never the code.
    def recorded():
        events = lookup_all(lab.client(), LookupAttributes=[{"AttributeKey": "EventName",
                                                             "AttributeValue": "PutBucketVersioning"}])
        mine = [json.loads(e["CloudTrailEvent"]) for e in events]
        return [r for r in mine if r["requestParameters"].get("bucketName") == b]
    records = lab.advance_until(lambda: len(recorded()) >= 8 and recorded(), step=1, limit=30)
    ok = [r for r in records if "errorCode" not in r]
    assert {r["requestParameters"]["VersioningConfiguration"]["MfaDelete"] for r in ok} == {"Enabled", "Disabled"}
    assert all(r["requestParameters"]["VersioningConfiguration"]["xmlns"] == "http://s3.amazonaws.com/doc/2006-03-01/"
               for r in ok)
    assert not any(totp(seed, s) in json.dumps(r) for r in records for s in used)


def test_a_trail_delivers_into_a_compliance_bucket_whose_logs_nobody_can_remove(lab):
    """Issue 21's done test: log files and digests land in an Object Lock bucket with a default
    COMPLIANCE retention, nobody (root included) can delete them or weaken their retention, and
    `aws cloudtrail validate-logs` passes."""
    start = datetime.now(timezone.utc) - timedelta(minutes=1)
    account = lab.env()["CAIRN_ACCOUNT_ID"]
    s3, b = locked_bucket(lab, "COMPLIANCE", days=30)
    s3.put_bucket_policy(Bucket=b, Policy=documented_policy(b, account))
    name = f"worm-{uuid.uuid4().hex[:6]}"
    _, trail, _ = lab.aws("cloudtrail", "create-trail", "--name", name, "--s3-bucket-name", b,
                          "--enable-log-file-validation")
    arn = trail["TrailARN"]
    ct = lab.client("cloudtrail")
    ct.put_event_selectors(TrailName=name, AdvancedEventSelectors=[
        {"Name": "management", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
        {"Name": "lock data", "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "eventName", "Equals": ["PutObjectRetention", "GetObjectRetention", "PutObjectLegalHold",
                                              "GetObjectLegalHold"]}]}])
    ct.start_logging(Name=name)

    def delivered(part):
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=b).get("Contents", []) if part in o["Key"]]
        return keys or None
    lab.advance_until(lambda: (ct.describe_trails(), delivered("/CloudTrail/"))[1], step=1, limit=30)
    lab.advance_until(lambda: delivered("/CloudTrail-Digest/"), step=1, limit=30)
    status = ct.get_trail_status(Name=name)
    assert "LatestDeliveryError" not in status and "LatestDigestDeliveryError" not in status

    for key in delivered("/CloudTrail/")[:1] + delivered("/CloudTrail-Digest/")[:1]:
        head = s3.head_object(Bucket=b, Key=key)
        assert head["ObjectLockMode"] == "COMPLIANCE"
        assert head["ObjectLockRetainUntilDate"] > lab.now() + timedelta(days=29)
        vid = head["VersionId"]
        # Root cannot remove it, bypass or not, one by one or in bulk, nor weaken its retention.
        err = error_of(lambda: s3.delete_object(Bucket=b, Key=key, VersionId=vid, BypassGovernanceRetention=True))
        assert (err["Code"], err["Message"]) == ("AccessDenied", PROTECTED)
        code, _, stderr = lab.aws("s3api", "delete-object", "--bucket", b, "--key", key, "--version-id", vid,
                                  check=False)
        assert code != 0 and "AccessDenied" in stderr
        out = s3.delete_objects(Bucket=b, BypassGovernanceRetention=True,
                                Delete={"Objects": [{"Key": key, "VersionId": vid}]})
        assert [e["Code"] for e in out["Errors"]] == ["AccessDenied"]
        sooner = lab.now() + timedelta(days=1)
        for mode in ("COMPLIANCE", "GOVERNANCE"):
            err = error_of(lambda: s3.put_object_retention(Bucket=b, Key=key, VersionId=vid,
                                                           BypassGovernanceRetention=True,
                                                           Retention={"Mode": mode, "RetainUntilDate": sooner}))
            assert err["Code"] == "AccessDenied"
        # A delete marker hides it (as in S3) and goes again: the file itself never left.
        marker = s3.delete_object(Bucket=b, Key=key)["VersionId"]
        s3.delete_object(Bucket=b, Key=key, VersionId=marker)
        assert s3.head_object(Bucket=b, Key=key)["VersionId"] == vid

    # Some lock calls the trail records as S3 data events.
    some = delivered("/CloudTrail/")[0]
    s3.get_object_retention(Bucket=b, Key=some)
    lab.aws("s3api", "put-object-legal-hold", "--bucket", b, "--key", some, "--legal-hold", "Status=ON")
    s3.get_object_lock_configuration(Bucket=b)

    def records():
        out = []
        for k in delivered("/CloudTrail/"):
            out += json.loads(gzip.decompress(s3.get_object(Bucket=b, Key=k)["Body"].read()))["Records"]
        names = {r["eventName"]: r for r in out}
        return names if {"PutObjectLegalHold", "GetBucketObjectLockConfiguration"} <= set(names) else None
    got = lab.advance_until(records, step=1, limit=30)
    hold = got["PutObjectLegalHold"]
    assert hold["eventCategory"] == "Data" and hold["managementEvent"] is False and hold["readOnly"] is False
    assert hold["requestParameters"]["legal-hold"] == "" and hold["requestParameters"]["key"] == some
    assert hold["requestParameters"]["LegalHold"]["Status"] == "ON"
    assert got["GetObjectRetention"]["readOnly"] is True
    conf = got["GetBucketObjectLockConfiguration"]
    assert conf["managementEvent"] is True and conf["requestParameters"]["object-lock"] == ""

    # Everything the trail wrote validates with the real CLI.
    ct.stop_logging(Name=name)
    lab.advance(3, step=1)
    code, out, err = lab.aws("cloudtrail", "validate-logs", "--trail-arn", arn, "--start-time", iso(start),
                             "--end-time", iso(lab.now()), "--verbose", check=False)
    assert code == 0, (out, err)
    assert "INVALID" not in err and "INVALID" not in str(out)
    assert "digest files valid" in str(out) and "log files valid" in str(out)

    # Writing the key again makes a new version on top; the delivered one stays as it was.
    key = delivered("/CloudTrail/")[0]
    original = s3.head_object(Bucket=b, Key=key)
    body = s3.get_object(Bucket=b, Key=key, VersionId=original["VersionId"])["Body"].read()
    forged = s3.put_object(Bucket=b, Key=key, Body=b"forged")["VersionId"]
    assert forged != original["VersionId"]
    assert s3.get_object(Bucket=b, Key=key, VersionId=original["VersionId"])["Body"].read() == body
    err = error_of(lambda: s3.delete_object(Bucket=b, Key=key, VersionId=original["VersionId"]))
    assert err["Code"] == "AccessDenied"


def test_lock_configuration_calls_are_recorded_as_management_events(lab):
    s3, b = locked_bucket(lab, "GOVERNANCE", days=2)
    error_of(lambda: s3.get_object_lock_configuration(Bucket=f"nope-{uuid.uuid4().hex[:8]}"))

    def recorded():
        events = lookup_all(lab.client(), LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": b}])
        by = {e["EventName"]: json.loads(e["CloudTrailEvent"]) for e in events}
        return by if "PutBucketObjectLockConfiguration" in by and "CreateBucket" in by else None
    got = lab.advance_until(recorded, step=1, limit=30)
    put = got["PutBucketObjectLockConfiguration"]
    assert put["eventSource"] == "s3.amazonaws.com" and put["readOnly"] is False
    assert put["requestParameters"]["object-lock"] == ""
    assert put["requestParameters"]["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 2}},
        "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}
    assert [r["type"] for r in put["resources"]] == ["AWS::S3::Bucket"]
