"""`cairn migrate`: an embedded instance copied into a cluster keeps working there. An IAM user's
key, KMS ciphertext, object versions, event history and a validating trail made on the embedded
instance are all served by the cluster's nodes after the move, the trail keeps delivering and
chaining digests that `aws cloudtrail validate-logs` accepts across the move, and an event data
store keeps its events and goes on ingesting, each event once."""

import io
import json
import re
import subprocess
import time
import uuid
import zipfile
from datetime import datetime, timedelta, timezone

import boto3
import botocore.config

from cluster import Cluster, KEYS
from test_detections import findings
from conftest import CAIRN, Cairn, documented_policy, lookup_all, wait_for
from test_lake import run_query
from test_validate_logs import keys_of, validate

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
HELLO = "def handler(event, context):\n    return {'moved': True}\n"

FAST = ["--delivery-interval", "1", "--digest-interval", "2"]


def zip_of(source):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("app.py")
        info.external_attr = 0o644 << 16
        z.writestr(info, source)
    return buf.getvalue()


def user_client(c, service, key):
    return boto3.client(service, endpoint_url=c.endpoint, region_name="us-east-1",
                        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                        config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 1}))


def migrate(data_dir, *args):
    return subprocess.run([str(CAIRN), "migrate", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, timeout=300)


def test_migrate_moves_an_embedded_instance_into_a_cluster(workdir):
    start = datetime.now(timezone.utc) - timedelta(minutes=1)
    embedded = Cairn(workdir / "migrate-embedded", [*FAST, "--test-clock"])
    embedded.start()
    try:
        account = embedded.env()["CAIRN_ACCOUNT_ID"]
        iam = embedded.client("iam")
        iam.create_user(UserName="mover")
        key = iam.create_access_key(UserName="mover")["AccessKey"]
        kms = embedded.client("kms")
        key_id = kms.create_key(Description="moves along")["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(KeyId=key_id, Plaintext=b"sealed before the move")["CiphertextBlob"]

        s3 = embedded.client("s3")
        data = f"data-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(Bucket=data)
        s3.put_bucket_versioning(Bucket=data, VersioningConfiguration={"Status": "Enabled"})
        v1 = s3.put_object(Bucket=data, Key="doc.txt", Body=b"first", Metadata={"n": "1"})["VersionId"]
        big = b"x" * (300 * 1024)  # a body in a file of its own, beside the small packed ones
        v2 = s3.put_object(Bucket=data, Key="doc.txt", Body=big, Metadata={"n": "2"},
                           ContentType="text/plain")["VersionId"]

        # The other stores, one thing each.
        policy = iam.create_policy(PolicyName="readers", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}))
        iam.attach_user_policy(UserName="mover", PolicyArn=policy["Policy"]["Arn"])
        role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        lam = embedded.client("lambda")
        lam.create_function(FunctionName="hello", Runtime="python3.12", Role=role, Handler="app.handler",
                            Code={"ZipFile": zip_of(HELLO)})
        sqs = embedded.client("sqs")
        queue = sqs.create_queue(QueueName="waiting")["QueueUrl"]
        sqs.send_message(QueueUrl=queue, MessageBody="sent before the move")
        topic = embedded.client("sns").create_topic(Name="moving-topic")["TopicArn"]
        logs = embedded.client("logs")
        logs.create_log_group(logGroupName="/moving")
        logs.create_log_stream(logGroupName="/moving", logStreamName="s")
        logs.put_log_events(logGroupName="/moving", logStreamName="s",
                            logEvents=[{"timestamp": int(time.time() * 1000), "message": "logged before"}])
        embedded.client("cloudwatch").put_metric_alarm(
            AlarmName="moving-alarm", Namespace="Cairn/Test", MetricName="M", Statistic="Sum", Period=60,
            EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold")
        embedded.client("events").put_rule(Name="moving-rule",
                                           EventPattern=json.dumps({"source": ["aws.s3"]}))

        s3.put_object(Bucket=data, Key="secret.txt", Body=b"under a KMS key", ServerSideEncryption="aws:kms",
                      SSEKMSKeyId=key_id)

        trail_bucket = f"trail-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(Bucket=trail_bucket)
        s3.put_bucket_policy(Bucket=trail_bucket, Policy=documented_policy(trail_bucket, account))
        ct = embedded.client()
        # An event data store ingesting the journal, with events before the move.
        eds = ct.create_event_data_store(Name="moving-lake", TerminationProtectionEnabled=False)[
            "EventDataStoreArn"].split("/")[-1]
        iam.create_user(UserName="lake-before")
        lake_before = wait_for(lambda: run_query(
            ct, f"SELECT eventID FROM {eds} WHERE eventName = 'CreateUser'")[1] or None, timeout=60, every=0.5)
        arn = ct.create_trail(Name="moving", S3BucketName=trail_bucket,
                              EnableLogFileValidation=True)["TrailARN"]
        ct.start_logging(Name="moving")
        ct.describe_trails()
        embedded.advance_until(lambda: keys_of(embedded, trail_bucket, "/CloudTrail-Digest/"), step=1, limit=30)
        embedded.advance(2, step=1)
        old_digests = keys_of(embedded, trail_bucket, "/CloudTrail-Digest/")
        old_logs = keys_of(embedded, trail_bucket, "/CloudTrail/")
        assert old_digests and old_logs
        created = lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateUser"}])
        assert len(created) == 2
        # Findings of the detection engine (root's calls fire CIS 4.3), up to the last call.
        findings_before = wait_for(lambda: [f for f in findings(embedded) if f["eventName"] == "DescribeTrails"]
                                   and findings(embedded))
        ahead = embedded.offset
    finally:
        embedded.stop()
    # The nodes run on the wall clock, which must first reach the time the instance stopped at.
    caught_up = time.time() + ahead + 1

    cluster = Cluster(workdir / "migrate-cluster").start()
    try:
        # What migrate cannot move yet is refused before anything is written: a store ingesting
        # into a bucket of the instance's own ([lake]), whose files count the old journal.
        own_lake = workdir / "migrate-lake.toml"
        own_lake.write_text(
            f'[[external_bucket]]\nname = "{cluster.store.BUCKET}"\nendpoint = "{cluster.store.endpoint}"\n'
            f'access_key_id = "AKIAMOTOEXAMPLE0001"\nsecret_access_key = "moto-secret"\n'
            f'[lake]\nbucket = "{cluster.store.BUCKET}"\nprefix = "own-lake"\n')
        laker = Cairn(workdir / "migrate-lake", ["--config", str(own_lake)]).start()
        try:
            laker.client().create_event_data_store(Name="events")
        finally:
            laker.stop()
        refused = migrate(laker.data_dir, "--config", str(cluster.config))
        assert refused.returncode != 0, refused.stdout
        assert "does not copy event data stores whose files are in a bucket" in refused.stderr, refused.stderr
        assert "nothing was migrated" in refused.stderr, refused.stderr

        done = migrate(embedded.data_dir, "--config", str(cluster.config))
        assert done.returncode == 0, done.stderr
        for k in KEYS:
            assert str(embedded.data_dir / k) in done.stdout, done.stdout
        assert "journal entries" in done.stdout
        assert re.search(r"[1-9]\d*  event data store files", done.stdout), done.stdout
        # Twice is refused: the directory is a node's now. Another instance is refused too: a
        # migration is never merged into a cluster in use.
        again = migrate(embedded.data_dir, "--config", str(cluster.config))
        assert again.returncode != 0 and "already a cluster node" in again.stderr, again.stderr
        other = Cairn(workdir / "migrate-other").start()
        other.stop()
        refused = migrate(other.data_dir, "--config", str(cluster.config))
        assert refused.returncode != 0 and "already has data" in refused.stderr, refused.stderr

        # Served embedded again, the old stores would fork the data: refused.
        stale = subprocess.run([str(CAIRN), "serve", "--data-dir", str(embedded.data_dir), "--listen", "127.0.0.1:0"],
                               capture_output=True, text=True, timeout=60)
        assert stale.returncode != 0 and "was migrated into a cluster" in stale.stderr, stale.stderr

        time.sleep(max(0.0, caught_up - time.time()))
        first = Cairn(embedded.data_dir, ["--config", str(cluster.config), *FAST])
        cluster.nodes.append(first)
        first.start()
        second = cluster.node(FAST)

        # IAM: the user's own key works on a node that never saw it made.
        me = user_client(second, "sts", key).get_caller_identity()
        assert me["Arn"] == f"arn:aws:iam::{account}:user/mover"
        # KMS: the same key decrypts what it encrypted before the move.
        plain = second.client("kms").decrypt(CiphertextBlob=blob)
        assert plain["Plaintext"] == b"sealed before the move" and plain["KeyId"].endswith(key_id)
        # S3: both versions, bodies and metadata.
        s3 = second.client("s3")
        got1 = s3.get_object(Bucket=data, Key="doc.txt", VersionId=v1)
        assert got1["Body"].read() == b"first" and got1["Metadata"] == {"n": "1"}
        got2 = s3.get_object(Bucket=data, Key="doc.txt")
        assert got2["VersionId"] == v2 and got2["Body"].read() == big
        assert got2["Metadata"] == {"n": "2"} and got2["ContentType"] == "text/plain"
        secret = s3.get_object(Bucket=data, Key="secret.txt")
        assert secret["Body"].read() == b"under a KMS key" and secret["ServerSideEncryption"] == "aws:kms"
        assert set(old_logs) <= set(keys_of(second, trail_bucket))
        # Event history: the events from before the move.
        ct = second.client()
        found = lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateUser"}])
        assert [e["EventId"] for e in found] == [e["EventId"] for e in created]

        # The event data store: its events from before, once each, and new ones ingested after
        # them (its position in the journal translated to the cluster's).
        assert run_query(ct, f"SELECT eventID FROM {eds} WHERE eventName = 'CreateUser'")[1] == lake_before
        second.client("iam").create_user(UserName="lake-after")
        wait_for(lambda: len(run_query(ct, f"SELECT eventID FROM {eds} WHERE eventName = 'CreateUser'")[1]) == 2,
                 timeout=60, every=0.5)
        _, twice, _ = run_query(ct, f"SELECT eventID, count(*) FROM {eds} GROUP BY eventID HAVING count(*) > 1")
        assert twice == []
        _, users, _ = run_query(ct, f"SELECT element_at(requestParameters, 'userName') FROM {eds} "
                                    "WHERE eventName = 'CreateUser' ORDER BY eventTime")
        assert users == [["lake-before"], ["lake-after"]]

        # Findings: those from before the move, and new ones after them, no call judged twice.
        wait_for(lambda: [f for f in findings(first) if f["eventName"] == "CreateUser"
                          and f["eventTime"] > findings_before[-1]["eventTime"]], timeout=60)
        after = findings(first)
        assert after[:len(findings_before)] == findings_before
        judged = [(f["ruleId"], f["eventId"]) for f in after]
        assert len(judged) == len(set(judged))

        # The other stores.
        attached = second.client("iam").list_attached_user_policies(UserName="mover")["AttachedPolicies"]
        assert [a["PolicyName"] for a in attached] == ["readers"]
        out = second.client("lambda").invoke(FunctionName="hello", Payload=b"{}")
        assert json.loads(out["Payload"].read()) == {"moved": True}
        sqs = second.client("sqs")
        queue = sqs.get_queue_url(QueueName="waiting")["QueueUrl"]
        got = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"]
        assert [m["Body"] for m in got] == ["sent before the move"]
        assert topic in [t["TopicArn"] for t in second.client("sns").list_topics()["Topics"]]
        events = second.client("logs").get_log_events(logGroupName="/moving", logStreamName="s")["events"]
        assert [e["message"] for e in events] == ["logged before"]
        alarms = second.client("cloudwatch").describe_alarms(AlarmNames=["moving-alarm"])["MetricAlarms"]
        assert len(alarms) == 1
        rule = second.client("events").describe_rule(Name="moving-rule")
        assert json.loads(rule["EventPattern"]) == {"source": ["aws.s3"]}

        # The trail keeps logging, delivering and chaining digests on the cluster.
        assert ct.get_trail_status(Name="moving")["IsLogging"] is True
        first.client().describe_trails()

        def new_digests():
            ct.list_trails()
            now = keys_of(second, trail_bucket, "/CloudTrail-Digest/")
            fresh = [k for k in now if k not in old_digests]
            return len(fresh) >= 2 and fresh
        wait_for(new_digests, timeout=60, every=1)
        code, out, err = validate(second, arn, start)
        assert code == 0, (out, err)
        assert "INVALID" not in err, err
        valid = re.search(r"(\d+)/(\d+) digest files valid", out)
        assert valid and valid.group(1) == valid.group(2), out
        assert int(valid.group(1)) >= len(old_digests) + 2, out
        logs = re.search(r"(\d+)/(\d+) log files valid", out)
        assert logs and logs.group(1) == logs.group(2) and int(logs.group(1)) > len(old_logs), out
    finally:
        cluster.stop()


def test_migrate_help_and_missing_settings(tmp_path):
    out = subprocess.run([str(CAIRN), "migrate", "--help"], capture_output=True, text=True, check=True).stdout
    for flag in ["--data-dir", "--database", "--object-store", "--config"]:
        assert flag in out
    assert "Not copied yet" in out
    assert "migrate" in subprocess.run([str(CAIRN), "--help"], capture_output=True, text=True, check=True).stdout
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    p = migrate(tmp_path / "none", "--config", str(empty))
    assert p.returncode != 0 and "needs the cluster's database" in p.stderr, p.stderr
    bucket = tmp_path / "bucket.toml"
    bucket.write_text('[[external_bucket]]\nname = "b"\nendpoint = "127.0.0.1:1"\n'
                      'access_key_id = "AKIAEXAMPLE"\nsecret_access_key = "s"\n')
    p = migrate(tmp_path / "none", "--config", str(bucket), "--database", "postgres://x@127.0.0.1:1/x",
                "--object-store", "s3://b")
    assert p.returncode != 0 and "no embedded cairn instance" in p.stderr, p.stderr
