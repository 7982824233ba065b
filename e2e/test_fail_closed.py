"""Audit fails closed: when the journal cannot make a call's record durable, the call is
refused with 503 and leaves no trace. Each test arms an injected journal failure
(`cairn serve --test-faults`, `cairn fault journal-write`), makes a write with the real AWS CLI
or boto3 and gets 503; then restarts the instance (a failed journal refuses everything until
then) and checks, with the same clients, that the write did not happen and was not recorded,
while the same write made before the failure did and was."""

import json
import subprocess

import botocore.exceptions
import pytest

from conftest import CAIRN, documented_policy, lookup_all


@pytest.fixture
def lab(new_cairn):
    return new_cairn(["--test-faults"])


def arm_journal_failure(lab):
    # A cluster's nodes each write the journal: the fault is armed on every one of them.
    for data_dir in lab.data_dirs:
        p = subprocess.run([str(CAIRN), "fault", "journal-write", "--data-dir", str(data_dir)],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert "JournalWrite: armed" in p.stdout


def restart(lab):
    lab.stop()
    lab.start()


def assert_refused_503(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    err = e.value.response
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert err["Error"]["Code"] == "ServiceUnavailable"


def assert_cli_refused_503(lab, *args):
    rc, _, stderr = lab.aws(*args, check=False)
    assert rc != 0
    assert "ServiceUnavailable" in stderr and "could not be recorded" in stderr, stderr


def recorded_names(lab, source):
    ct = lab.client("cloudtrail")
    events = lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": source}])
    return sorted(e["EventName"] + ":" + json.dumps(json.loads(e["CloudTrailEvent"]).get("requestParameters"))
                  for e in events)


def body_files(lab):
    """Object bodies kept (files, or a cluster's object store's keys)."""
    return lab.stored_bodies()


def test_the_fault_needs_test_faults(new_cairn):
    plain = new_cairn()
    p = subprocess.run([str(CAIRN), "fault", "journal-write", "--data-dir", str(plain.data_dir)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert "--test-faults" in p.stderr
    # Nothing was armed: the next write goes through.
    plain.client("iam").create_user(UserName="after-refused-fault")


def test_s3_put_object_refused_leaves_no_object_and_no_body_file(lab):
    s3 = lab.client("s3")
    s3.create_bucket(Bucket="kept")
    s3.put_object(Bucket="kept", Key="kept.txt", Body=b"k" * 70_000)
    files = body_files(lab)
    arm_journal_failure(lab)
    assert_refused_503(lambda: s3.put_object(Bucket="kept", Key="refused.txt", Body=b"r" * 70_000))
    restart(lab)
    s3 = lab.client("s3")
    assert s3.get_object(Bucket="kept", Key="kept.txt")["Body"].read() == b"k" * 70_000
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket="kept", Key="refused.txt")
    assert e.value.response["Error"]["Code"] == "404"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="kept")["Contents"]] == ["kept.txt"]
    assert body_files(lab) == files, "the refused body's file is gone"
    names = recorded_names(lab, "s3.amazonaws.com")
    assert not any("refused.txt" in n for n in names)


def test_s3_overwrite_refused_keeps_the_old_body(lab):
    s3 = lab.client("s3")
    s3.create_bucket(Bucket="overwritten")
    s3.put_object(Bucket="overwritten", Key="k", Body=b"old" * 30_000)
    arm_journal_failure(lab)
    assert_refused_503(lambda: s3.put_object(Bucket="overwritten", Key="k", Body=b"new" * 30_000))
    restart(lab)
    assert lab.client("s3").get_object(Bucket="overwritten", Key="k")["Body"].read() == b"old" * 30_000


def test_s3_create_bucket_refused_with_the_cli(lab):
    lab.aws("s3api", "create-bucket", "--bucket", "kept-bucket")
    arm_journal_failure(lab)
    assert_cli_refused_503(lab, "s3api", "create-bucket", "--bucket", "refused-bucket")
    restart(lab)
    _, out, _ = lab.aws("s3api", "list-buckets")
    assert [b["Name"] for b in out["Buckets"]] == ["kept-bucket"]


def test_iam_create_user_refused_with_the_cli(lab):
    lab.aws("iam", "create-user", "--user-name", "kept")
    arm_journal_failure(lab)
    assert_cli_refused_503(lab, "iam", "create-user", "--user-name", "refused")
    restart(lab)
    rc, _, stderr = lab.aws("iam", "get-user", "--user-name", "refused", check=False)
    assert rc != 0 and "NoSuchEntity" in stderr
    _, out, _ = lab.aws("iam", "list-users")
    assert [u["UserName"] for u in out["Users"]] == ["kept"]
    names = recorded_names(lab, "iam.amazonaws.com")
    assert any(n.startswith("CreateUser:") and '"kept"' in n for n in names)
    assert not any(n.startswith("CreateUser:") and '"refused"' in n for n in names)


def test_kms_create_key_refused(lab):
    kms = lab.client("kms")
    kms.create_key(Description="kept")
    arm_journal_failure(lab)
    assert_refused_503(lambda: kms.create_key(Description="refused"))
    restart(lab)
    kms = lab.client("kms")
    keys = [kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["Description"] for k in kms.list_keys()["Keys"]]
    assert keys == ["kept"]
    assert not any('"refused"' in n for n in recorded_names(lab, "kms.amazonaws.com"))


def test_logs_create_log_group_refused(lab):
    logs = lab.client("logs")
    logs.create_log_group(logGroupName="kept")
    arm_journal_failure(lab)
    assert_refused_503(lambda: logs.create_log_group(logGroupName="refused"))
    restart(lab)
    logs = lab.client("logs")
    assert [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]] == ["kept"]
    assert not any('"refused"' in n for n in recorded_names(lab, "logs.amazonaws.com"))


def test_sqs_send_message_refused(lab):
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName="kept")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="kept")
    arm_journal_failure(lab)
    assert_refused_503(lambda: sqs.send_message(QueueUrl=url, MessageBody="refused"))
    restart(lab)
    sqs = lab.client("sqs")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == ["kept"]


def test_lambda_create_function_refused(lab):
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    return event\n")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role = lab.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    lam = lab.client("lambda")

    def create(name):
        return lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                                   Code={"ZipFile": buf.getvalue()})

    create("kept")
    arm_journal_failure(lab)
    assert_refused_503(lambda: create("refused"))
    restart(lab)
    lam = lab.client("lambda")
    assert [f["FunctionName"] for f in lam.list_functions()["Functions"]] == ["kept"]
    assert not any('"refused"' in n for n in recorded_names(lab, "lambda.amazonaws.com"))


def test_events_put_rule_refused(lab):
    ev = lab.client("events")
    ev.put_rule(Name="kept", EventPattern='{"source":["app"]}')
    arm_journal_failure(lab)
    assert_refused_503(lambda: ev.put_rule(Name="refused", EventPattern='{"source":["app"]}'))
    restart(lab)
    ev = lab.client("events")
    assert [r["Name"] for r in ev.list_rules()["Rules"]] == ["kept"]


def test_sts_get_session_token_refused(lab):
    sts = lab.client("sts")
    sts.get_session_token()
    arm_journal_failure(lab)
    assert_refused_503(sts.get_session_token)
    restart(lab)
    names = recorded_names(lab, "sts.amazonaws.com")
    assert [n.split(":")[0] for n in names].count("GetSessionToken") == 1


def test_cloudtrail_create_trail_refused_with_the_cli(lab):
    account = lab.env()["AWS_ACCESS_KEY_ID"] and lab.client("sts").get_caller_identity()["Account"]
    lab.aws("s3api", "create-bucket", "--bucket", "trail-logs")
    lab.aws("s3api", "put-bucket-policy", "--bucket", "trail-logs", "--policy", documented_policy("trail-logs", account))
    lab.aws("cloudtrail", "create-trail", "--name", "kept", "--s3-bucket-name", "trail-logs")
    arm_journal_failure(lab)
    assert_cli_refused_503(lab, "cloudtrail", "create-trail", "--name", "refused", "--s3-bucket-name", "trail-logs")
    restart(lab)
    _, out, _ = lab.aws("cloudtrail", "describe-trails")
    assert [t["Name"] for t in out["trailList"]] == ["kept"]
    assert not any('"refused"' in n for n in recorded_names(lab, "cloudtrail.amazonaws.com"))


def test_lake_channel_writes_refused(lab):
    ct = lab.client("cloudtrail")
    eds = ct.create_event_data_store(
        Name="external", MultiRegionEnabled=False,
        AdvancedEventSelectors=[{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["ActivityAuditLog"]}]}])
    dest = [{"Type": "EVENT_DATA_STORE", "Location": eds["EventDataStoreArn"]}]
    arn = ct.create_channel(Name="kept", Source="Custom", Destinations=dest)["ChannelArn"]
    arm_journal_failure(lab)
    assert_refused_503(lambda: ct.create_channel(Name="refused", Source="Custom", Destinations=dest))
    restart(lab)
    arm_journal_failure(lab)
    data = lab.client("cloudtrail-data")
    # A bad event only: nothing reaches the store; the refused call leaves no ingestion status.
    assert_refused_503(lambda: data.put_audit_events(channelArn=arn, auditEvents=[{"id": "a", "eventData": "{}"}]))
    restart(lab)
    ct = lab.client("cloudtrail")
    assert [c["Name"] for c in ct.list_channels()["Channels"]] == ["kept"]
    assert ct.get_channel(Channel=arn)["IngestionStatus"] == {}
