"""IAM with the real AWS CLI and boto3: users, keys, groups, roles, policies, login profiles,
MFA devices and the account alias; and authorization on every call, denials recorded as AWS
records them."""

import base64
import gzip
import hashlib
import hmac
import json
import struct
import time
import zlib

import boto3
import botocore.config
import botocore.exceptions
import pytest

from conftest import REAL_DATA, lookup_all, wait_for


def allow(*actions, resource="*", condition=None):
    st = {"Effect": "Allow", "Action": list(actions), "Resource": resource}
    if condition:
        st["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})


def keys_env(key):
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            **({"AWS_SESSION_TOKEN": key["SessionToken"]} if "SessionToken" in key else {})}


def client_with(cairn, key, service="cloudtrail", region="us-east-1"):
    return boto3.client(service, endpoint_url=cairn.endpoint, region_name=region,
                        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                        aws_session_token=key.get("SessionToken"),
                        config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 1}))


def new_user(cairn, name, policy=None):
    cairn.aws("iam", "create-user", "--user-name", name)
    if policy:
        cairn.aws("iam", "put-user-policy", "--user-name", name, "--policy-name", "p", "--policy-document", policy)
    _, out, _ = cairn.aws("iam", "create-access-key", "--user-name", name)
    return out["AccessKey"]


def record_of(cairn, request_id, event_name, timeout=10):
    ct = cairn.client()

    def find():
        for e in lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": event_name}]):
            r = json.loads(e["CloudTrailEvent"])
            if r["requestID"] == request_id:
                return r
        return None
    return wait_for(find, timeout=timeout)


def totp(seed_b32, step):
    key = base64.b32decode(seed_b32 + "=" * (-len(seed_b32) % 8))
    h = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    o = h[-1] & 15
    return "%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


def real_records(name, pred=lambda r: True):
    with gzip.open(REAL_DATA / "records.jsonl.gz", "rt") as f:
        return [r for r in map(json.loads, f) if r.get("eventName") == name and pred(r)]


def shape(v):
    """A value's JSON type, for comparing value shapes."""
    return type(v).__name__


def test_user_lifecycle_with_the_cli(cairn):
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    _, out, _ = cairn.aws("iam", "create-user", "--user-name", "Richard", "--path", "/staff/")
    u = out["User"]
    assert u["Arn"] == f"arn:aws:iam::{account}:user/staff/Richard" and u["UserId"].startswith("AIDA")
    code, _, err = cairn.aws("iam", "create-user", "--user-name", "richard", check=False)
    assert code == 255 and "EntityAlreadyExists" in err
    code, _, err = cairn.aws("iam", "create-user", "--user-name", "bad name!", check=False)
    assert code != 0 and "ValidationError" in err
    for n in ["u1", "u2", "u3"]:
        cairn.aws("iam", "create-user", "--user-name", n)
    iam = cairn.client("iam")
    page = iam.list_users(MaxItems=2)
    assert page["IsTruncated"] and len(page["Users"]) == 2
    names = [u["UserName"] for p in iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 2}) for u in p["Users"]]
    assert names == ["Richard", "u1", "u2", "u3"]
    assert [u["UserName"] for u in iam.list_users(PathPrefix="/staff/")["Users"]] == ["Richard"]
    k1 = cairn.aws("iam", "create-access-key", "--user-name", "Richard")[1]["AccessKey"]
    assert k1["AccessKeyId"].startswith("AKIA") and len(k1["SecretAccessKey"]) == 40 and k1["Status"] == "Active"
    cairn.aws("iam", "create-access-key", "--user-name", "Richard")
    code, _, err = cairn.aws("iam", "create-access-key", "--user-name", "Richard", check=False)
    assert code != 0 and "LimitExceeded" in err
    listed = cairn.aws("iam", "list-access-keys", "--user-name", "Richard")[1]["AccessKeyMetadata"]
    assert len(listed) == 2 and all("SecretAccessKey" not in k for k in listed)
    code, _, err = cairn.aws("iam", "delete-user", "--user-name", "Richard", check=False)
    assert code != 0 and "DeleteConflict" in err and "access keys" in err
    cairn.aws("iam", "update-access-key", "--user-name", "Richard", "--access-key-id", k1["AccessKeyId"], "--status", "Inactive")
    # An inactive key no longer signs anything.
    code, _, err = cairn.aws("sts", "get-caller-identity", env_overrides=keys_env(k1), check=False)
    assert code != 0 and "InvalidClientTokenId" in err
    for k in listed:
        cairn.aws("iam", "delete-access-key", "--user-name", "Richard", "--access-key-id", k["AccessKeyId"])
    cairn.aws("iam", "update-user", "--user-name", "Richard", "--new-user-name", "Rick")
    assert cairn.aws("iam", "get-user", "--user-name", "Rick")[1]["User"]["Path"] == "/staff/"
    cairn.aws("iam", "delete-user", "--user-name", "Rick")
    code, _, err = cairn.aws("iam", "get-user", "--user-name", "Rick", check=False)
    assert code != 0 and "NoSuchEntity" in err and "The user with name Rick cannot be found." in err
    with pytest.raises(iam.exceptions.NoSuchEntityException) as e:
        iam.get_user(UserName="Rick")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_lookup_only_user_is_denied_create_trail_and_the_denial_is_in_history(cairn):
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    key = new_user(cairn, "auditor", allow("cloudtrail:LookupEvents"))
    env = keys_env(key)
    me = cairn.aws("sts", "get-caller-identity", env_overrides=env)[1]
    assert me["Arn"] == f"arn:aws:iam::{account}:user/auditor"
    code, out, _ = cairn.aws("cloudtrail", "lookup-events", "--max-results", "5", env_overrides=env)
    assert code == 0 and "Events" in out
    code, _, err = cairn.aws("cloudtrail", "create-trail", "--name", "sneaky", "--s3-bucket-name", "b",
                             env_overrides=env, check=False)
    assert code == 255 and "AccessDeniedException" in err
    assert (f"User: arn:aws:iam::{account}:user/auditor is not authorized to perform: cloudtrail:CreateTrail "
            f"on resource: arn:aws:cloudtrail:us-east-1:{account}:trail/sneaky") in err
    ct = client_with(cairn, key)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.create_trail(Name="sneaky2", S3BucketName="b")
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    denied = record_of(cairn, e.value.response["ResponseMetadata"]["RequestId"], "CreateTrail")
    assert denied["errorCode"] == "AccessDenied"
    assert denied["errorMessage"].startswith(f"User: arn:aws:iam::{account}:user/auditor is not authorized")
    assert denied["requestParameters"] is None and denied["responseElements"] is None
    ui = denied["userIdentity"]
    assert ui == {"type": "IAMUser", "principalId": ui["principalId"], "arn": f"arn:aws:iam::{account}:user/auditor",
                  "accountId": account, "accessKeyId": key["AccessKeyId"], "userName": "auditor"}
    # The user can read history (it was allowed), and the denial is there for it too.
    events = lookup_all(ct, LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "auditor"}])
    assert any(json.loads(e["CloudTrailEvent"]).get("errorCode") == "AccessDenied" for e in events)
    # IAM answers its own way: AccessDenied, HTTP 403, in the query protocol's XML.
    iam = client_with(cairn, key, "iam")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.list_users()
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    r = record_of(cairn, e.value.response["ResponseMetadata"]["RequestId"], "ListUsers")
    assert r["awsRegion"] == "us-east-1" and r["errorCode"] == "AccessDenied"


def test_groups_and_managed_policies_grant_and_revoke(cairn):
    key = new_user(cairn, "grace")
    ct = client_with(cairn, key)
    with pytest.raises(botocore.exceptions.ClientError):
        ct.describe_trails()
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    cairn.aws("iam", "create-group", "--group-name", "readers")
    cairn.aws("iam", "add-user-to-group", "--group-name", "readers", "--user-name", "grace")
    pol = cairn.aws("iam", "create-policy", "--policy-name", "TrailReaders",
                    "--policy-document", allow("cloudtrail:Describe*"))[1]["Policy"]
    assert pol["Arn"] == f"arn:aws:iam::{account}:policy/TrailReaders" and pol["DefaultVersionId"] == "v1"
    cairn.aws("iam", "attach-group-policy", "--group-name", "readers", "--policy-arn", pol["Arn"])
    assert "trailList" in ct.describe_trails()
    assert cairn.aws("iam", "get-policy", "--policy-arn", pol["Arn"])[1]["Policy"]["AttachmentCount"] == 1
    # A new default version that no longer allows it takes effect at once.
    v2 = cairn.aws("iam", "create-policy-version", "--policy-arn", pol["Arn"], "--set-as-default",
                   "--policy-document", allow("cloudtrail:GetTrail"))[1]["PolicyVersion"]
    assert v2["VersionId"] == "v2" and v2["IsDefaultVersion"] is True
    with pytest.raises(botocore.exceptions.ClientError):
        ct.describe_trails()
    doc = cairn.aws("iam", "get-policy-version", "--policy-arn", pol["Arn"], "--version-id", "v1")[1]["PolicyVersion"]["Document"]
    assert doc["Statement"][0]["Action"] == ["cloudtrail:Describe*"]
    cairn.aws("iam", "set-default-policy-version", "--policy-arn", pol["Arn"], "--version-id", "v1")
    assert "trailList" in ct.describe_trails()
    code, _, err = cairn.aws("iam", "delete-policy", "--policy-arn", pol["Arn"], check=False)
    assert code != 0 and "DeleteConflict" in err
    entities = cairn.aws("iam", "list-entities-for-policy", "--policy-arn", pol["Arn"])[1]
    assert [g["GroupName"] for g in entities["PolicyGroups"]] == ["readers"]
    cairn.aws("iam", "detach-group-policy", "--group-name", "readers", "--policy-arn", pol["Arn"])
    with pytest.raises(botocore.exceptions.ClientError):
        ct.describe_trails()
    # An AWS managed policy by ARN.
    cairn.aws("iam", "attach-user-policy", "--user-name", "grace", "--policy-arn", "arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert "trailList" in ct.describe_trails()
    attached = cairn.aws("iam", "list-attached-user-policies", "--user-name", "grace")[1]["AttachedPolicies"]
    assert attached == [{"PolicyName": "ReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]
    with pytest.raises(botocore.exceptions.ClientError):
        ct.create_trail(Name="t", S3BucketName="b")
    # An explicit deny in the group beats the managed allow.
    cairn.aws("iam", "put-group-policy", "--group-name", "readers", "--policy-name", "no",
              "--policy-document", json.dumps({"Version": "2012-10-17", "Statement": [
                  {"Effect": "Deny", "Action": "cloudtrail:DescribeTrails", "Resource": "*"}]}))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.describe_trails()
    assert "explicit deny" in e.value.response["Error"]["Message"]
    code, _, err = cairn.aws("iam", "delete-group", "--group-name", "readers", check=False)
    assert code != 0 and "DeleteConflict" in err
    assert cairn.aws("iam", "list-groups-for-user", "--user-name", "grace")[1]["Groups"][0]["GroupName"] == "readers"
    assert cairn.aws("iam", "get-group-policy", "--group-name", "readers", "--policy-name", "no")[1]["PolicyDocument"]["Statement"][0]["Effect"] == "Deny"
    code, _, err = cairn.aws("iam", "put-user-policy", "--user-name", "grace", "--policy-name", "x",
                             "--policy-document", '{"Statement": [{"Effect": "Allow"}]}', check=False)
    assert code != 0 and "MalformedPolicyDocument" in err


def test_assume_role_with_mfa_and_the_session_identity_matches_real_records(cairn):
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    key = new_user(cairn, "mallory", allow("sts:AssumeRole"))
    seed_file = cairn.data_dir.parent / "mfa-seed.txt"
    dev = cairn.aws("iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", "mallory-phone",
                    "--outfile", str(seed_file), "--bootstrap-method", "Base32StringSeed")[1]["VirtualMFADevice"]
    serial = dev["SerialNumber"]
    assert serial == f"arn:aws:iam::{account}:mfa/mallory-phone"
    seed = seed_file.read_text().strip()
    # The QR code an authenticator app scans: a well-formed PNG of the right size.
    png_file = cairn.data_dir.parent / "mfa-qr.png"
    cairn.aws("iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", "mallory-tablet",
              "--outfile", str(png_file), "--bootstrap-method", "QRCodePNG")
    png = png_file.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    side = struct.unpack(">I", png[16:20])[0]
    idat_len = struct.unpack(">I", png[33:37])[0]
    assert png[37:41] == b"IDAT"
    assert len(zlib.decompress(png[41:41 + idat_len])) == side * (side + 1)
    step = int(time.time()) // 30
    code, _, err = cairn.aws("iam", "enable-mfa-device", "--user-name", "mallory", "--serial-number", serial,
                             "--authentication-code1", "123456", "--authentication-code2", "654321", check=False)
    assert code != 0 and "InvalidAuthenticationCode" in err
    cairn.aws("iam", "enable-mfa-device", "--user-name", "mallory", "--serial-number", serial,
              "--authentication-code1", totp(seed, step - 1), "--authentication-code2", totp(seed, step))
    assert cairn.aws("iam", "list-mfa-devices", "--user-name", "mallory")[1]["MFADevices"][0]["SerialNumber"] == serial
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole",
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]})
    role = cairn.aws("iam", "create-role", "--role-name", "Breakglass", "--assume-role-policy-document", trust)[1]["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    cairn.aws("iam", "put-role-policy", "--role-name", "Breakglass", "--policy-name", "read",
              "--policy-document", allow("cloudtrail:LookupEvents"))
    env = keys_env(key)
    code, _, err = cairn.aws("sts", "assume-role", "--role-arn", role["Arn"], "--role-session-name", "no-mfa",
                             env_overrides=env, check=False)
    assert code != 0 and "AccessDenied" in err and "sts:AssumeRole" in err
    _, out, _ = cairn.aws("sts", "assume-role", "--role-arn", role["Arn"], "--role-session-name", "incident-42",
                          "--serial-number", serial, "--token-code", totp(seed, step + 1), env_overrides=env)
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and creds["SessionToken"]
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account}:assumed-role/Breakglass/incident-42"
    # A code is good once.
    code, _, err = cairn.aws("sts", "assume-role", "--role-arn", role["Arn"], "--role-session-name", "again",
                             "--serial-number", serial, "--token-code", totp(seed, step + 1), env_overrides=env, check=False)
    assert code != 0 and "MultiFactorAuthentication failed" in err
    session = client_with(cairn, creds)
    rid = session.lookup_events(MaxResults=1)["ResponseMetadata"]["RequestId"]
    me = client_with(cairn, creds, "sts").get_caller_identity()
    assert me["Arn"] == out["AssumedRoleUser"]["Arn"] and me["UserId"] == out["AssumedRoleUser"]["AssumedRoleId"]
    with pytest.raises(botocore.exceptions.ClientError):
        session.describe_trails()
    ui = record_of(cairn, rid, "LookupEvents")["userIdentity"]
    assert ui["type"] == "AssumedRole" and ui["accessKeyId"] == creds["AccessKeyId"]
    assert ui["arn"] == out["AssumedRoleUser"]["Arn"] and ui["principalId"] == f"{role['RoleId']}:incident-42"
    issuer = ui["sessionContext"]["sessionIssuer"]
    assert issuer == {"type": "Role", "principalId": role["RoleId"], "arn": role["Arn"], "accountId": account, "userName": "Breakglass"}
    assert ui["sessionContext"]["attributes"]["mfaAuthenticated"] == "true"
    # Key for key, as AWS writes an AssumedRole identity.
    real = [r["userIdentity"] for r in real_records("GetCallerIdentity", lambda r: r["userIdentity"].get("type") == "AssumedRole")]
    real = [u for u in real if "invokedBy" not in u]
    assert real
    assert any(set(u) == set(ui) and set(u["sessionContext"]) == set(ui["sessionContext"])
               and set(u["sessionContext"]["sessionIssuer"]) == set(issuer)
               and set(u["sessionContext"]["attributes"]) == set(ui["sessionContext"]["attributes"]) for u in real)
    for u in real:
        for k, v in ui.items():
            if k in u:
                assert shape(u[k]) == shape(v), k


def test_get_session_token_with_mfa(cairn):
    key = new_user(cairn, "sam", allow("iam:ListUsers", "cloudtrail:LookupEvents"))
    env = keys_env(key)
    seed_file = cairn.data_dir.parent / "sam-seed.txt"
    serial = cairn.aws("iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", "sam",
                       "--outfile", str(seed_file), "--bootstrap-method", "Base32StringSeed")[1]["VirtualMFADevice"]["SerialNumber"]
    seed = seed_file.read_text().strip()
    step = int(time.time()) // 30
    cairn.aws("iam", "enable-mfa-device", "--user-name", "sam", "--serial-number", serial,
              "--authentication-code1", totp(seed, step - 1), "--authentication-code2", totp(seed, step))
    plain = cairn.aws("sts", "get-session-token", "--duration-seconds", "900", env_overrides=env)[1]["Credentials"]
    # IAM refuses session credentials made without MFA.
    code, _, err = cairn.aws("iam", "list-users", env_overrides=keys_env(plain), check=False)
    assert code != 0 and "AccessDenied" in err
    with_mfa = cairn.aws("sts", "get-session-token", "--serial-number", serial, "--token-code", totp(seed, step + 1),
                         env_overrides=env)[1]["Credentials"]
    assert cairn.aws("iam", "list-users", env_overrides=keys_env(with_mfa))[0] == 0
    rid = client_with(cairn, with_mfa).lookup_events(MaxResults=1)["ResponseMetadata"]["RequestId"]
    ui = record_of(cairn, rid, "LookupEvents")["userIdentity"]
    assert ui["type"] == "IAMUser" and ui["accessKeyId"] == with_mfa["AccessKeyId"]
    assert ui["sessionContext"]["attributes"]["mfaAuthenticated"] == "true"
    code, _, err = cairn.aws("sts", "get-session-token", env_overrides=keys_env(with_mfa), check=False)
    assert code != 0 and "AccessDenied" in err


def test_conditions_decide_calls_end_to_end(cairn):
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "cloudtrail:DescribeTrails", "Resource": "*",
         "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}, "StringEquals": {"aws:RequestedRegion": "eu-west-1"}}},
        {"Effect": "Allow", "Action": "cloudtrail:ListTrails", "Resource": "*",
         "Condition": {"DateLessThan": {"aws:CurrentTime": "2001-01-01T00:00:00Z"}}},
        {"Effect": "Allow", "Action": "cloudtrail:GetTrail", "Resource": "arn:aws:cloudtrail:*:*:trail/${aws:username}-*"}]})
    key = new_user(cairn, "cora", policy)
    assert "trailList" in client_with(cairn, key, region="eu-west-1").describe_trails()
    with pytest.raises(botocore.exceptions.ClientError):
        client_with(cairn, key, region="us-west-2").describe_trails()
    with pytest.raises(botocore.exceptions.ClientError):
        client_with(cairn, key).list_trails()
    ct = client_with(cairn, key)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.get_trail(Name="cora-trail")
    assert e.value.response["Error"]["Code"] == "TrailNotFoundException"  # allowed, then not found
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.get_trail(Name="bob-trail")
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"


def test_bucket_policy_grants_another_principal(cairn):
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    key = new_user(cairn, "reader")
    root_s3 = cairn.client("s3")
    root_s3.create_bucket(Bucket="shared-bucket")
    root_s3.put_object(Bucket="shared-bucket", Key="public/a.txt", Body=b"hello")
    root_s3.put_object(Bucket="shared-bucket", Key="private/b.txt", Body=b"secret")
    s3 = client_with(cairn, key, "s3")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="shared-bucket", Key="public/a.txt")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    root_s3.put_bucket_policy(Bucket="shared-bucket", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:user/reader"}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::shared-bucket/public/*"},
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:user/reader"}, "Action": "s3:ListBucket",
         "Resource": "arn:aws:s3:::shared-bucket", "Condition": {"StringLike": {"s3:prefix": "public/*"}}}]}))
    assert s3.get_object(Bucket="shared-bucket", Key="public/a.txt")["Body"].read() == b"hello"
    with pytest.raises(botocore.exceptions.ClientError):
        s3.get_object(Bucket="shared-bucket", Key="private/b.txt")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="shared-bucket", Prefix="public/")["Contents"]] == ["public/a.txt"]
    with pytest.raises(botocore.exceptions.ClientError):
        s3.list_objects_v2(Bucket="shared-bucket", Prefix="private/")
    with pytest.raises(botocore.exceptions.ClientError):
        s3.put_object(Bucket="shared-bucket", Key="public/c.txt", Body=b"x")


def test_login_profiles_alias_and_secrets_stay_out_of_records(cairn):
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    cairn.aws("iam", "create-user", "--user-name", "console-user")
    _, out, _ = cairn.aws("iam", "create-login-profile", "--user-name", "console-user", "--password", "Tr0ub4dor&3-long",
                          "--password-reset-required")
    assert out["LoginProfile"]["PasswordResetRequired"] is True
    code, _, err = cairn.aws("iam", "create-login-profile", "--user-name", "console-user", "--password", "x", check=False)
    assert code != 0
    cairn.aws("iam", "update-login-profile", "--user-name", "console-user", "--no-password-reset-required")
    assert cairn.aws("iam", "get-login-profile", "--user-name", "console-user")[1]["LoginProfile"]["PasswordResetRequired"] is False
    cairn.aws("iam", "delete-login-profile", "--user-name", "console-user")
    code, _, err = cairn.aws("iam", "get-login-profile", "--user-name", "console-user", check=False)
    assert code != 0 and "NoSuchEntity" in err
    key = cairn.aws("iam", "create-access-key", "--user-name", "console-user")[1]["AccessKey"]
    ct = cairn.client()
    for name in ["CreateLoginProfile", "UpdateLoginProfile", "CreateAccessKey"]:
        for e in lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}]):
            text = e["CloudTrailEvent"]
            assert "Tr0ub4dor" not in text and key["SecretAccessKey"] not in text
    cairn.aws("iam", "create-account-alias", "--account-alias", "lab-corp")
    assert cairn.aws("iam", "list-account-aliases")[1]["AccountAliases"] == ["lab-corp"]
    rid = cairn.client("sts").get_caller_identity()["ResponseMetadata"]["RequestId"]
    assert record_of(cairn, rid, "GetCallerIdentity")["userIdentity"]["userName"] == "lab-corp"
    cairn.aws("iam", "delete-account-alias", "--account-alias", "lab-corp")
    assert cairn.aws("iam", "list-account-aliases")[1]["AccountAliases"] == []
    del account


def test_change_password_with_the_cli(cairn):
    """ChangePassword as the user: the IAMUserChangePassword managed policy allows it on the
    user's own ARN; it clears a required reset; its record has no parameters, as AWS's."""
    cairn.aws("iam", "create-user", "--user-name", "pw-changer")
    cairn.aws("iam", "create-login-profile", "--user-name", "pw-changer", "--password", "First-Passw0rd!",
              "--password-reset-required")
    key = cairn.aws("iam", "create-access-key", "--user-name", "pw-changer")[1]["AccessKey"]
    env = keys_env(key)
    # Without a policy the user may not.
    code, _, err = cairn.aws("iam", "change-password", "--old-password", "First-Passw0rd!",
                             "--new-password", "Second-Passw0rd!", env_overrides=env, check=False)
    assert code != 0 and "AccessDenied" in err and "iam:ChangePassword" in err
    cairn.aws("iam", "attach-user-policy", "--user-name", "pw-changer",
              "--policy-arn", "arn:aws:iam::aws:policy/IAMUserChangePassword")
    code, _, err = cairn.aws("iam", "change-password", "--old-password", "wrong-old-one",
                             "--new-password", "Second-Passw0rd!", env_overrides=env, check=False)
    assert code != 0 and "AccessDenied" in err and "The old password was incorrect." in err
    code, _, err = cairn.aws("iam", "change-password", "--old-password", "First-Passw0rd!",
                             "--new-password", "short", env_overrides=env, check=False)
    assert code != 0 and "PasswordPolicyViolation" in err
    code, out, err = cairn.aws("iam", "change-password", "--old-password", "First-Passw0rd!",
                               "--new-password", "Second-Passw0rd!", env_overrides=env)
    assert code == 0, err
    profile = cairn.aws("iam", "get-login-profile", "--user-name", "pw-changer")[1]["LoginProfile"]
    assert profile["PasswordResetRequired"] is False
    # The old password no longer works; the new one does.
    code, _, err = cairn.aws("iam", "change-password", "--old-password", "First-Passw0rd!",
                             "--new-password", "Third-Passw0rd!", env_overrides=env, check=False)
    assert code != 0 and "The old password was incorrect." in err
    # The root user has no login profile to change this way.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cairn.client("iam").change_password(OldPassword="a-long-password", NewPassword="b-long-password")
    assert e.value.response["Error"]["Code"] == "InvalidUserType"

    events = [json.loads(e["CloudTrailEvent"]) for e in lookup_all(
        cairn.client(), LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ChangePassword"}])]
    ok = [r for r in events if r["userIdentity"].get("userName") == "pw-changer" and "errorCode" not in r]
    assert len(ok) == 1
    real = real_records("ChangePassword")[0]
    assert ok[0]["requestParameters"] is None and real["requestParameters"] is None
    assert ok[0]["responseElements"] is None and real["responseElements"] is None
    assert ok[0]["eventSource"] == "iam.amazonaws.com" and ok[0]["awsRegion"] == "us-east-1"
    assert ok[0]["readOnly"] is False
    wrong = [r for r in events if r.get("errorCode") == "AccessDenied" and "old password" in r.get("errorMessage", "")]
    assert wrong and wrong[0]["requestParameters"] is None
    for r in events:
        text = json.dumps(r)
        assert "Passw0rd" not in text and "wrong-old-one" not in text


@pytest.mark.parametrize("event_name", ["CreateUser", "CreateAccessKey", "AttachUserPolicy", "PutUserPolicy",
                                        "CreateLoginProfile", "AssumeRole", "GetCallerIdentity"])
def test_records_have_the_keys_and_shapes_of_real_ones(cairn, event_name):
    """Each record has the same set of top-level keys, requestParameters keys and
    responseElements keys as a real AWS record of the same call, with values of the same types."""
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    user = f"shape-{event_name.lower()}"
    cairn.aws("iam", "create-user", "--user-name", user)
    iam = cairn.client("iam")
    if event_name == "CreateUser":
        rid = iam.create_user(UserName=user + "-2")["ResponseMetadata"]["RequestId"]
    elif event_name == "CreateAccessKey":
        rid = iam.create_access_key(UserName=user)["ResponseMetadata"]["RequestId"]
    elif event_name == "AttachUserPolicy":
        rid = iam.attach_user_policy(UserName=user, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")["ResponseMetadata"]["RequestId"]
    elif event_name == "PutUserPolicy":
        rid = iam.put_user_policy(UserName=user, PolicyName="TestUserDenyAll", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Sid": "TestUserDenyAll", "Effect": "Deny", "Action": ["*"], "Resource": ["*"]}]}))["ResponseMetadata"]["RequestId"]
    elif event_name == "CreateLoginProfile":
        rid = iam.create_login_profile(UserName=user, Password="Correct-Horse-9", PasswordResetRequired=False)["ResponseMetadata"]["RequestId"]
    elif event_name == "AssumeRole":
        key = iam.create_access_key(UserName=user)["AccessKey"]
        iam.put_user_policy(UserName=user, PolicyName="assume", PolicyDocument=allow("sts:AssumeRole"))
        trust = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}]})
        role = iam.create_role(RoleName="shape-role", AssumeRolePolicyDocument=trust)["Role"]
        rid = client_with(cairn, key, "sts").assume_role(RoleArn=role["Arn"], RoleSessionName="shape-session",
                                                       DurationSeconds=900)["ResponseMetadata"]["RequestId"]
    else:
        rid = cairn.client("sts").get_caller_identity()["ResponseMetadata"]["RequestId"]
    mine = record_of(cairn, rid, event_name)
    real = [r for r in real_records(event_name) if r.get("userIdentity", {}).get("type") in ("IAMUser", "Root", "AssumedRole")]
    assert real, event_name
    # AWS adds tlsDetails (HTTPS) and sessionCredentialFromConsole (console sessions); cairn's
    # endpoint is plain HTTP and has no console.
    optional = {"tlsDetails", "sessionCredentialFromConsole", "sharedEventID", "errorCode", "errorMessage"}

    def same(r):
        return set(r) - optional == set(mine) - optional

    match = [r for r in real if same(r)]
    assert match, (event_name, sorted(set(mine)), [sorted(set(r)) for r in real])

    def keys(v):
        return set(v) if isinstance(v, dict) else v

    # Real records of one call differ in which optional parameters the caller gave; compare
    # with one that was given the same ones.
    alike = [r for r in match if keys(r["requestParameters"]) == keys(mine["requestParameters"])]
    assert alike, (event_name, mine["requestParameters"], [r["requestParameters"] for r in match])
    ref = alike[0]
    for k in set(mine) & set(ref):
        if k not in ("userIdentity",):
            assert shape(mine[k]) == shape(ref[k]), k
    for part in ["requestParameters", "responseElements"]:
        a, b = mine[part], ref[part]
        if isinstance(b, dict):
            assert set(a) == set(b), (part, sorted(a), sorted(b))
            for k in b:
                assert shape(a[k]) == shape(b[k]), (part, k)
                if isinstance(b[k], dict):
                    assert set(a[k]) == set(b[k]) - {"sessionToken"} | ({"sessionToken"} & set(a[k])), (part, k)
        else:
            assert a == b, part


def test_accounts_are_separate_and_roles_cross_them_through_trust_policies(cairn):
    a = cairn.env()["CAIRN_ACCOUNT_ID"]
    b_env = cairn.create_account()
    b = b_env["CAIRN_ACCOUNT_ID"]
    assert b != a and len(b) == 12
    assert cairn.aws("sts", "get-caller-identity", account=b)[1]["Arn"] == f"arn:aws:iam::{b}:root"
    # B's IAM and trails are B's own.
    cairn.aws("iam", "create-user", "--user-name", "only-in-b", account=b)
    assert "only-in-b" not in [u["UserName"] for u in cairn.client("iam").list_users()["Users"]]
    # B trusts account A to assume a role; A's user needs its own permission too.
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": a}, "Action": "sts:AssumeRole"}]})
    role = cairn.aws("iam", "create-role", "--role-name", "Auditor", "--assume-role-policy-document", trust,
                     account=b)[1]["Role"]
    cairn.aws("iam", "put-role-policy", "--role-name", "Auditor", "--policy-name", "read",
              "--policy-document", allow("cloudtrail:LookupEvents"), account=b)
    key = new_user(cairn, "crosser")
    sts = client_with(cairn, key, "sts")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.assume_role(RoleArn=role["Arn"], RoleSessionName="x-acct")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    cairn.aws("iam", "put-user-policy", "--user-name", "crosser", "--policy-name", "assume",
              "--policy-document", allow("sts:AssumeRole", resource=role["Arn"]))
    assumed = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="x-acct")
    creds = assumed["Credentials"]
    # Recorded in both accounts with one sharedEventID; B sees the caller as an AWSAccount.
    arid = assumed["ResponseMetadata"]["RequestId"]
    mine = record_of(cairn, arid, "AssumeRole")
    history_b = cairn.client(account=b)
    theirs = wait_for(lambda: [json.loads(e["CloudTrailEvent"]) for e in lookup_all(history_b,
                      LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}])
                      if json.loads(e["CloudTrailEvent"])["requestID"] == arid])[0]
    assert mine["sharedEventID"] == theirs["sharedEventID"] and mine["eventID"] != theirs["eventID"]
    assert mine["recipientAccountId"] == a and theirs["recipientAccountId"] == b
    assert mine["userIdentity"]["type"] == "IAMUser"
    assert theirs["userIdentity"] == {"type": "AWSAccount", "principalId": mine["userIdentity"]["principalId"], "accountId": a}
    session = client_with(cairn, creds)
    rid = session.lookup_events(MaxResults=1)["ResponseMetadata"]["RequestId"]
    # The session acts in account B: its calls are in B's history, not A's.
    ct_b = cairn.client(account=b)
    found = wait_for(lambda: [e for e in lookup_all(ct_b, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "LookupEvents"}])
                              if json.loads(e["CloudTrailEvent"])["requestID"] == rid])
    r = json.loads(found[0]["CloudTrailEvent"])
    assert r["recipientAccountId"] == b and r["userIdentity"]["accountId"] == b
    assert r["userIdentity"]["arn"] == f"arn:aws:sts::{b}:assumed-role/Auditor/x-acct"
    assert not [e for e in lookup_all(cairn.client(), LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "LookupEvents"}])
                if json.loads(e["CloudTrailEvent"])["requestID"] == rid]
    # B's trails are not A's.
    cairn.aws("s3", "mb", "s3://bucket-of-b", account=b)
    cairn.aws("s3api", "put-bucket-policy", "--bucket", "bucket-of-b", "--policy",
              __import__("conftest").documented_policy("bucket-of-b", b), account=b)
    cairn.aws("cloudtrail", "create-trail", "--name", "b-trail", "--s3-bucket-name", "bucket-of-b", account=b)
    assert "b-trail" not in [t["Name"] for t in cairn.client().describe_trails()["trailList"]]
    assert ["b-trail"] == [t["Name"] for t in cairn.client(account=b).describe_trails()["trailList"]]
    # A cannot read B's bucket without B's bucket policy saying so.
    with pytest.raises(botocore.exceptions.ClientError):
        cairn.client("s3").list_objects_v2(Bucket="bucket-of-b")


def test_the_rest_of_the_iam_api_with_boto3(cairn):
    """Every other supported IAM operation once, through boto3, with AWS's answers and errors."""
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    iam = cairn.client("iam")
    iam.create_user(UserName="rest-user", Tags=[{"Key": "team", "Value": "audit"}])
    assert iam.get_user(UserName="rest-user")["User"]["Tags"] == [{"Key": "team", "Value": "audit"}]
    key = iam.create_access_key(UserName="rest-user")["AccessKey"]
    client_with(cairn, key, "sts").get_caller_identity()
    last = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert last["UserName"] == "rest-user"
    assert last["AccessKeyLastUsed"]["ServiceName"] == "sts" and last["AccessKeyLastUsed"]["Region"] == "us-east-1"
    assert "LastUsedDate" in last["AccessKeyLastUsed"]
    # Groups: inline policies listed, members listed, removal.
    iam.create_group(GroupName="rest-group", Path="/teams/")
    iam.add_user_to_group(GroupName="rest-group", UserName="rest-user")
    group = iam.get_group(GroupName="rest-group")
    assert group["Group"]["Arn"] == f"arn:aws:iam::{account}:group/teams/rest-group"
    assert [u["UserName"] for u in group["Users"]] == ["rest-user"]
    iam.put_group_policy(GroupName="rest-group", PolicyName="g1", PolicyDocument=allow("s3:ListAllMyBuckets"))
    assert iam.list_group_policies(GroupName="rest-group")["PolicyNames"] == ["g1"]
    iam.delete_group_policy(GroupName="rest-group", PolicyName="g1")
    iam.remove_user_from_group(GroupName="rest-group", UserName="rest-user")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.remove_user_from_group(GroupName="rest-group", UserName="rest-user")
    assert "rest-group" in [g["GroupName"] for g in iam.list_groups(PathPrefix="/teams/")["Groups"]]
    iam.delete_group(GroupName="rest-group")
    # Roles: trust policy updates, inline and attached policies, listing, deletion conflicts.
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName="rest-role", AssumeRolePolicyDocument=json.dumps(trust), Description="d", MaxSessionDuration=7200)["Role"]
    assert role["MaxSessionDuration"] == 7200 and role["RoleId"].startswith("AROA")
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException):
        iam.update_assume_role_policy(RoleName="rest-role", PolicyDocument=allow("sts:AssumeRole"))
    trust["Statement"][0]["Principal"] = {"AWS": account}
    iam.update_assume_role_policy(RoleName="rest-role", PolicyDocument=json.dumps(trust))
    assert iam.get_role(RoleName="rest-role")["Role"]["AssumeRolePolicyDocument"] == trust
    iam.put_role_policy(RoleName="rest-role", PolicyName="r1", PolicyDocument=allow("kms:ListKeys"))
    assert iam.get_role_policy(RoleName="rest-role", PolicyName="r1")["PolicyDocument"]["Statement"][0]["Action"] == ["kms:ListKeys"]
    assert iam.list_role_policies(RoleName="rest-role")["PolicyNames"] == ["r1"]
    iam.attach_role_policy(RoleName="rest-role", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    assert [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName="rest-role")["AttachedPolicies"]] == ["IAMReadOnlyAccess"]
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_role(RoleName="rest-role")
    iam.detach_role_policy(RoleName="rest-role", PolicyArn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    iam.delete_role_policy(RoleName="rest-role", PolicyName="r1")
    assert "rest-role" in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    iam.delete_role(RoleName="rest-role")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName="rest-role")
    # Managed policies: scopes, versions, deletion.
    aws_names = [p["PolicyName"] for p in iam.list_policies(Scope="AWS")["Policies"]]
    assert "AdministratorAccess" in aws_names and "ReadOnlyAccess" in aws_names
    pol = iam.create_policy(PolicyName="rest-policy", PolicyDocument=allow("s3:GetObject"), Description="x")["Policy"]
    local = [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]]
    assert "rest-policy" in local and not set(local) & set(aws_names)
    assert "rest-policy" not in [p["PolicyName"] for p in iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"]]
    iam.create_policy_version(PolicyArn=pol["Arn"], PolicyDocument=allow("s3:PutObject"))
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=pol["Arn"])["Versions"]] == ["v2", "v1"]
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_policy(PolicyArn=pol["Arn"])
    iam.delete_policy_version(PolicyArn=pol["Arn"], VersionId="v2")
    iam.attach_user_policy(UserName="rest-user", PolicyArn=pol["Arn"])
    iam.detach_user_policy(UserName="rest-user", PolicyArn=pol["Arn"])
    iam.delete_policy(PolicyArn=pol["Arn"])
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_policy(PolicyArn=pol["Arn"])
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.attach_user_policy(UserName="rest-user", PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy")
    # User policies listed; MFA devices listed by status, deactivated and deleted.
    iam.put_user_policy(UserName="rest-user", PolicyName="u1", PolicyDocument=allow("s3:GetObject"))
    assert iam.list_user_policies(UserName="rest-user")["PolicyNames"] == ["u1"]
    iam.delete_user_policy(UserName="rest-user", PolicyName="u1")
    dev = iam.create_virtual_mfa_device(VirtualMFADeviceName="rest-device")["VirtualMFADevice"]
    seed = dev["Base32StringSeed"].decode()
    step = int(time.time()) // 30
    iam.enable_mfa_device(UserName="rest-user", SerialNumber=dev["SerialNumber"],
                          AuthenticationCode1=totp(seed, step - 1), AuthenticationCode2=totp(seed, step))
    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert [d["User"]["UserName"] for d in assigned if d["SerialNumber"] == dev["SerialNumber"]] == ["rest-user"]
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_user(UserName="rest-user")
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_virtual_mfa_device(SerialNumber=dev["SerialNumber"])
    iam.deactivate_mfa_device(UserName="rest-user", SerialNumber=dev["SerialNumber"])
    assert dev["SerialNumber"] in [d["SerialNumber"] for d in iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]]
    iam.delete_virtual_mfa_device(SerialNumber=dev["SerialNumber"])
    iam.delete_access_key(UserName="rest-user", AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName="rest-user")
    # Operations cairn lacks say so; unknown ones are InvalidAction.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.create_saml_provider(SAMLMetadataDocument="x" * 1000, Name="idp")
    assert e.value.response["Error"]["Code"] == "NotImplemented"


def iam_denied(fn, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(**kw)
    return e.value.response["Error"]["Code"] == "AccessDenied" and e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_self_service_policies_act_on_the_user_not_the_policy_or_device(cairn):
    """AWS's documented self-service statements: attaching and detaching are judged on the user
    (the policy is the iam:PolicyARN condition key), enabling an MFA device on its user, making
    a virtual device on the device."""
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AttachReadOnlyToSelf", "Effect": "Allow", "Action": ["iam:AttachUserPolicy", "iam:DetachUserPolicy"],
         "Resource": "arn:aws:iam::*:user/${aws:username}",
         "Condition": {"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/ReadOnlyAccess"}}},
        {"Sid": "AllowManageOwnVirtualMFADevice", "Effect": "Allow", "Action": "iam:CreateVirtualMFADevice",
         "Resource": "arn:aws:iam::*:mfa/*"},
        {"Sid": "AllowManageOwnUserMFA", "Effect": "Allow",
         "Action": ["iam:EnableMFADevice", "iam:ListMFADevices", "iam:ResyncMFADevice"],
         "Resource": "arn:aws:iam::*:user/${aws:username}"}]})
    key = new_user(cairn, "self-served", policy)
    cairn.aws("iam", "create-user", "--user-name", "someone-else")
    iam = client_with(cairn, key, "iam")
    read_only = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    iam.attach_user_policy(UserName="self-served", PolicyArn=read_only)
    assert [p["PolicyArn"] for p in cairn.client("iam").list_attached_user_policies(UserName="self-served")["AttachedPolicies"]] == [read_only]
    assert iam_denied(iam.attach_user_policy, UserName="self-served", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    assert iam_denied(iam.attach_user_policy, UserName="someone-else", PolicyArn=read_only)
    iam.detach_user_policy(UserName="self-served", PolicyArn=read_only)

    dev = iam.create_virtual_mfa_device(VirtualMFADeviceName="self-served")["VirtualMFADevice"]
    seed = dev["Base32StringSeed"].decode()
    step = int(time.time()) // 30
    iam.enable_mfa_device(UserName="self-served", SerialNumber=dev["SerialNumber"],
                          AuthenticationCode1=totp(seed, step - 1), AuthenticationCode2=totp(seed, step))
    assert [d["SerialNumber"] for d in iam.list_mfa_devices(UserName="self-served")["MFADevices"]] == [dev["SerialNumber"]]
    other = cairn.client("iam").create_virtual_mfa_device(VirtualMFADeviceName="someone-else")["VirtualMFADevice"]
    assert iam_denied(iam.enable_mfa_device, UserName="someone-else", SerialNumber=other["SerialNumber"],
                      AuthenticationCode1="123456", AuthenticationCode2="654321")
    assert iam_denied(iam.list_mfa_devices, UserName="someone-else")


def test_assume_role_durations_external_id_chaining_and_refusals(cairn):
    """DurationSeconds within the role's MaxSessionDuration (one hour when chaining roles),
    ExternalId checked by the trust policy, and a refusal recorded as AWS records it."""
    acct = cairn.env()["CAIRN_ACCOUNT_ID"]
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct}:root"},
                        "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "ext-123"}}}]})
    root_iam = cairn.client("iam")
    role_arn = root_iam.create_role(RoleName="partner", AssumeRolePolicyDocument=trust, MaxSessionDuration=7200)["Role"]["Arn"]
    root_iam.put_role_policy(RoleName="partner", PolicyName="chain", PolicyDocument=allow("sts:AssumeRole", resource=role_arn))
    sts = client_with(cairn, new_user(cairn, "assumer", allow("sts:AssumeRole", resource=role_arn)), "sts")

    def code_of(fn, **kw):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            fn(**kw)
        return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]
    assert code_of(sts.assume_role, RoleArn=role_arn, RoleSessionName="s1")[0] == "AccessDenied"
    assert code_of(sts.assume_role, RoleArn=role_arn, RoleSessionName="s1", ExternalId="wrong")[0] == "AccessDenied"
    before = time.time()
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", ExternalId="ext-123", DurationSeconds=7200)["Credentials"]
    assert before + 7200 - 5 <= creds["Expiration"].timestamp() <= time.time() + 7200 + 1
    short = sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", ExternalId="ext-123", DurationSeconds=900)["Credentials"]
    assert short["Expiration"].timestamp() <= time.time() + 900 + 1
    assert code_of(sts.assume_role, RoleArn=role_arn, RoleSessionName="s1", ExternalId="ext-123", DurationSeconds=7201) == \
        ("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    assert code_of(sts.assume_role, RoleArn=role_arn, RoleSessionName="bad name!", ExternalId="ext-123")[0] == "ValidationError"
    # Chaining: the role's session assumes the role again, for at most an hour.
    chained = client_with(cairn, {"AccessKeyId": creds["AccessKeyId"], "SecretAccessKey": creds["SecretAccessKey"],
                                  "SessionToken": creds["SessionToken"]}, "sts")
    assert code_of(chained.assume_role, RoleArn=role_arn, RoleSessionName="c1", ExternalId="ext-123", DurationSeconds=7200) == \
        ("ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
    assert chained.assume_role(RoleArn=role_arn, RoleSessionName="c1", ExternalId="ext-123")["AssumedRoleUser"]["Arn"].endswith(":assumed-role/partner/c1")

    # A stranger's refusal: recorded with the caller's identity, without parameters, as AWS does.
    stranger = client_with(cairn, new_user(cairn, "stranger"), "sts")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        stranger.assume_role(RoleArn=role_arn, RoleSessionName="s1", ExternalId="ext-123")
    rec = record_of(cairn, e.value.response["ResponseMetadata"]["RequestId"], "AssumeRole")
    real = real_records("AssumeRole", lambda r: r.get("errorCode") == "AccessDenied")[0]
    assert set(rec) == set(real) - {"tlsDetails"}
    assert rec["requestParameters"] is None and rec["responseElements"] is None
    assert rec["errorMessage"] == f"User: arn:aws:iam::{acct}:user/stranger is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    assert rec["userIdentity"]["type"] == "IAMUser" and rec["userIdentity"]["userName"] == "stranger"


def test_iam_is_global_codes_stay_secret_and_kms_delegates_to_identity_policies(cairn):
    """IAM called through another region is recorded in us-east-1 as iam.amazonaws.com; MFA codes
    never reach records; a KMS key whose policy delegates to the account is usable by exactly
    the users whose identity policies allow it, refusals recorded with the user's identity."""
    iam_eu = cairn.client("iam", region="eu-central-1")
    iam_eu.create_user(UserName="global-user")
    iam_eu.put_user_policy(UserName="global-user", PolicyName="inline", PolicyDocument=allow("s3:ListAllMyBuckets"))
    got = iam_eu.get_user_policy(UserName="global-user", PolicyName="inline")
    assert got["PolicyDocument"]["Statement"][0]["Action"] == ["s3:ListAllMyBuckets"]
    rid = iam_eu.get_user(UserName="global-user")["ResponseMetadata"]["RequestId"]
    rec = record_of(cairn, rid, "GetUser")
    assert rec["awsRegion"] == "us-east-1" and rec["eventSource"] == "iam.amazonaws.com"
    iam_eu.create_group(GroupName="global-group")
    iam_eu.attach_group_policy(GroupName="global-group", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert [p["PolicyName"] for p in iam_eu.list_attached_group_policies(GroupName="global-group")["AttachedPolicies"]] == ["ReadOnlyAccess"]

    # MFA codes are secrets: neither EnableMFADevice's nor GetSessionToken's reach a record.
    dev = iam_eu.create_virtual_mfa_device(VirtualMFADeviceName="global-user")["VirtualMFADevice"]
    seed = dev["Base32StringSeed"].decode()
    step = int(time.time()) // 30
    codes = (totp(seed, step - 1), totp(seed, step))
    rid = iam_eu.enable_mfa_device(UserName="global-user", SerialNumber=dev["SerialNumber"],
                                   AuthenticationCode1=codes[0], AuthenticationCode2=codes[1])["ResponseMetadata"]["RequestId"]
    enabled = record_of(cairn, rid, "EnableMFADevice")
    assert not any(c in json.dumps(enabled) for c in codes), enabled["requestParameters"]
    key = iam_eu.create_access_key(UserName="global-user")["AccessKey"]
    iam_eu.put_user_policy(UserName="global-user", PolicyName="sts", PolicyDocument=allow("sts:GetSessionToken"))
    token = totp(seed, step + 1)
    rid = client_with(cairn, key, "sts").get_session_token(SerialNumber=dev["SerialNumber"], TokenCode=token)["ResponseMetadata"]["RequestId"]
    assert token not in json.dumps(record_of(cairn, rid, "GetSessionToken"))

    # KMS: the default key policy delegates to the account; identity policies decide.
    kms_key = cairn.client("kms").create_key()["KeyMetadata"]
    user_kms = client_with(cairn, new_user(cairn, "kms-user", allow("kms:Encrypt", "kms:Decrypt", resource=kms_key["Arn"])), "kms")
    blob = user_kms.encrypt(KeyId=kms_key["KeyId"], Plaintext=b"ok")["CiphertextBlob"]
    assert user_kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"ok"
    outsider = client_with(cairn, new_user(cairn, "kms-outsider"), "kms")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        outsider.encrypt(KeyId=kms_key["KeyId"], Plaintext=b"no")
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"
    refused = record_of(cairn, e.value.response["ResponseMetadata"]["RequestId"], "Encrypt")
    assert refused["errorCode"] == "AccessDenied" and refused["userIdentity"]["userName"] == "kms-outsider"
    assert refused["eventSource"] == "kms.amazonaws.com"


def test_principal_keys_name_the_role_behind_a_session_and_s3_refusals_are_recorded(cairn):
    """aws:PrincipalArn is the role's ARN for its sessions (so bucket policies can name roles),
    aws:PrincipalType AssumedRole; an S3 refusal is recorded with the caller's identity."""
    acct = cairn.env()["CAIRN_ACCOUNT_ID"]
    iam, s3 = cairn.client("iam"), cairn.client("s3")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct}:root"}, "Action": "sts:AssumeRole"}]})
    role_arn = iam.create_role(RoleName="reader", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.put_role_policy(RoleName="reader", PolicyName="get", PolicyDocument=allow("s3:GetObject", "s3:PutObject", resource="*"))
    bucket = f"principal-{int(time.time() * 1000)}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    # Only the role (whatever the session) may put; everyone else is denied explicitly.
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"ArnNotEquals": {"aws:PrincipalArn": role_arn}}}, {
        "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"StringNotEquals": {"aws:PrincipalType": "AssumedRole"}}}]}))
    sts = client_with(cairn, new_user(cairn, "role-taker", allow("sts:AssumeRole", resource=role_arn)), "sts")
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="any-session")["Credentials"]
    as_role = client_with(cairn, {"AccessKeyId": creds["AccessKeyId"], "SecretAccessKey": creds["SecretAccessKey"],
                                  "SessionToken": creds["SessionToken"]}, "s3")
    as_role.put_object(Bucket=bucket, Key="by-role", Body=b"y")
    assert as_role.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket=bucket, Key="by-root", Body=b"z")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    # A refused bucket call (a management event) is in history with the caller's identity.
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:GetBucketLocation", "Resource": f"arn:aws:s3:::{bucket}"}]}))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_bucket_location(Bucket=bucket)
    rec = record_of(cairn, e.value.response["ResponseMetadata"]["RequestId"], "GetBucketLocation")
    assert rec["errorCode"] == "AccessDenied" and rec["errorMessage"] == "Access Denied"
    assert rec["userIdentity"]["type"] == "Root" and rec["requestParameters"]["bucketName"] == bucket
