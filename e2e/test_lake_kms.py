"""Event data stores encrypted with a KMS key, with boto3 and the AWS CLI against a real
`cairn serve`: the key policy decides whether CloudTrail may use the key, the store's files on
disk are Parquet that an independent reader (DuckDB) cannot open without the key, the people who
query need the key as well, the key cannot be changed once set, and a disabled key stops
ingestion and queries until it is enabled again, with no event lost. CloudTrail's KMS calls are
recorded as AWS records them."""

import json
import subprocess
import uuid

import boto3
import botocore.config
import botocore.exceptions
import duckdb
import pytest

from conftest import CAIRN, Cairn, lookup_all, wait_for
from test_iam import new_user
from test_lake import run_query
from test_lake_channels import event_data


@pytest.fixture(scope="module")
def lab(workdir):
    c = Cairn(workdir / "lake-kms", ["--test-clock"])
    c.start()
    yield c
    c.stop()


def store_key_policy(account):
    """Root (and through it IAM policies) manages the key; CloudTrail may make and open data
    keys for the account's event data stores, as AWS's documentation shows."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Allow CloudTrail to encrypt event data store", "Effect": "Allow",
         "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*",
         "Condition": {"StringLike": {
             "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{account}:eventdatastore/*"}}}]})


def error_of(call, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(**kw)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def by_cloudtrail(c, name, key_arn):
    """KMS records of `name` on `key_arn` made by CloudTrail (itself, or for a caller)."""
    out = []
    for e in lookup_all(c.client(), LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}]):
        r = json.loads(e["CloudTrailEvent"])
        if r["userIdentity"].get("invokedBy") == "cloudtrail.amazonaws.com" and any(
                x.get("ARN") == key_arn for x in r.get("resources", [])):
            out.append(r)
    return out


def count_of(ct, eds, where):
    _, rows, _ = run_query(ct, f"SELECT count(*) FROM {eds} WHERE {where}")
    return int(rows[0][0])


def test_an_encrypted_store_from_key_policy_to_disabled_key(lab):
    account = lab.env()["CAIRN_ACCOUNT_ID"]
    kms, ct, s3 = lab.client("kms"), lab.client(), lab.client("s3")
    key = kms.create_key(Description="lake")["KeyMetadata"]
    kms.create_alias(AliasName="alias/lake", TargetKeyId=key["KeyId"])

    # The default key policy does not let CloudTrail in.
    code, msg = error_of(ct.create_event_data_store, Name="sealed", KmsKeyId="alias/lake")
    assert code == "InsufficientEncryptionPolicyException", msg
    assert code == error_of(ct.create_event_data_store, Name="sealed", KmsKeyId=key["Arn"])[0]
    code, _ = error_of(ct.create_event_data_store, Name="sealed",
                       KmsKeyId="arn:aws:kms:us-east-1:%s:key/%s" % (account, uuid.uuid4()))
    assert code == "KmsKeyNotFoundException"
    assert not [s for s in ct.list_event_data_stores()["EventDataStores"] if s["Name"] == "sealed"]

    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=store_key_policy(account))
    store = ct.create_event_data_store(Name="sealed", KmsKeyId="alias/lake", TerminationProtectionEnabled=False)
    assert store["KmsKeyId"] == key["Arn"]
    arn = store["EventDataStoreArn"]
    eds = arn.split("/")[-1]
    assert ct.get_event_data_store(EventDataStore=eds)["KmsKeyId"] == key["Arn"]
    assert [s for s in ct.list_event_data_stores()["EventDataStores"] if s["EventDataStoreArn"] == arn]
    # The data key CloudTrail made, bound to the store, is recorded as AWS records it.
    made = wait_for(lambda: by_cloudtrail(lab, "GenerateDataKey", key["Arn"]) or None)
    assert made[0]["userIdentity"]["type"] == "AWSService"
    assert made[0]["requestParameters"]["encryptionContext"] == {"aws:cloudtrail:arn": arn}

    # Activity lands and is queryable, through CloudTrail's own unwrapping of the data key.
    bucket = f"kms-lake-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    wait_for(lambda: count_of(ct, eds, f"eventname = 'CreateBucket' AND element_at(requestparameters, 'bucketName') = '{bucket}'") == 1,
             timeout=30, every=0.5)
    opened = wait_for(lambda: by_cloudtrail(lab, "Decrypt", key["Arn"]) or None)
    assert any(r["userIdentity"]["type"] == "AWSService" for r in opened)
    # The person who queried unwrapped the key too (their identity, invoked by CloudTrail).
    assert any(r["userIdentity"]["type"] == "Root" for r in opened)

    # On disk: Parquet with encrypted footers, which DuckDB cannot read without the key.
    root = lab.lake_files(eds)
    files = sorted(root.rglob("*.parquet"))
    assert files
    for f in files:
        data = f.read_bytes()
        assert data[-4:] == b"PARE" and bucket.encode() not in data
    with pytest.raises(duckdb.Error):
        duckdb.sql(f"SELECT count(*) FROM read_parquet('{root}/**/*.parquet')").fetchall()
    # cairn's offline query cannot open it either, and says why.
    p = subprocess.run([str(CAIRN), *lab.cli_args(), "query", "--data-dir", str(lab.data_dir), "--event-data-store", eds,
                        f"SELECT count(*) FROM {eds}"], capture_output=True, text=True)
    assert p.returncode == 1 and "encrypted with a KMS key" in p.stderr

    # People who query need kms:Decrypt on the key as well.
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "cloudtrail:*", "Resource": "*"}]})
    k = new_user(lab, f"analyst-{uuid.uuid4().hex[:6]}", policy)
    cfg = botocore.config.Config(retries={"mode": "standard", "max_attempts": 1})
    analyst = boto3.client("cloudtrail", endpoint_url=lab.endpoint, region_name="us-east-1", config=cfg,
                           aws_access_key_id=k["AccessKeyId"], aws_secret_access_key=k["SecretAccessKey"])
    code, msg = error_of(analyst.start_query, QueryStatement=f"SELECT count(*) FROM {eds}")
    assert code == "InsufficientEncryptionPolicyException", msg
    # The store's key cannot be changed or removed once set; naming it again changes nothing.
    other = kms.create_key(Description="other")["KeyMetadata"]
    code, msg = error_of(ct.update_event_data_store, EventDataStore=eds, KmsKeyId=other["Arn"])
    assert code == "InvalidParameterException" and "cannot be removed or changed" in msg
    assert ct.update_event_data_store(EventDataStore=eds, KmsKeyId=key["Arn"])["KmsKeyId"] == key["Arn"]

    # A disabled key stops ingestion and queries once CloudTrail asks KMS again (it holds a
    # data key five minutes); events made meanwhile wait, and land once the key is back.
    kms.disable_key(KeyId=key["KeyId"])
    code, _ = error_of(ct.start_query, QueryStatement=f"SELECT count(*) FROM {eds}")
    assert code == "KmsException"
    lab.advance(6 * 60)
    waiting = f"kms-wait-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=waiting)
    lab.advance(5)
    assert lab.lake_files(eds).exists()
    before = sorted(p.name for p in lab.lake_files(eds).rglob("*.parquet"))
    lab.advance(5)
    assert sorted(p.name for p in lab.lake_files(eds).rglob("*.parquet")) == before, "nothing ingested under a disabled key"
    kms.enable_key(KeyId=key["KeyId"])
    lab.advance(61)  # past the retry wait for a refused key
    wait_for(lambda: count_of(ct, eds, f"element_at(requestparameters, 'bucketName') = '{waiting}'") == 1,
             timeout=30, every=0.5)

    # After a crash the key is asked for again; nothing is lost.
    lab.kill9()
    lab.start()
    ct = lab.client()
    wait_for(lambda: count_of(ct, eds, f"element_at(requestparameters, 'bucketName') IN ('{bucket}', '{waiting}')") == 2,
             timeout=30, every=0.5)


def test_the_cli_creates_an_encrypted_store(lab):
    account = lab.env()["CAIRN_ACCOUNT_ID"]
    _, key, _ = lab.aws("kms", "create-key", "--policy", store_key_policy(account))
    key = key["KeyMetadata"]
    _, store, _ = lab.aws("cloudtrail", "create-event-data-store", "--name", f"cli-{uuid.uuid4().hex[:6]}",
                          "--kms-key-id", key["KeyId"], "--no-termination-protection-enabled")
    assert store["KmsKeyId"] == key["Arn"]
    _, got, _ = lab.aws("cloudtrail", "get-event-data-store", "--event-data-store", store["EventDataStoreArn"])
    assert got["KmsKeyId"] == key["Arn"]
    _, other, _ = lab.aws("kms", "create-key", "--policy", store_key_policy(account))
    code, _, err = lab.aws("cloudtrail", "update-event-data-store", "--event-data-store",
                           store["EventDataStoreArn"], "--kms-key-id", other["KeyMetadata"]["KeyId"], check=False)
    assert code != 0 and "InvalidParameterException" in err


def test_events_from_a_channel_into_an_encrypted_store(lab):
    """PutAuditEvents into an encrypted store: taken while CloudTrail holds its key, queryable;
    refused with 503 and nothing taken while the key is disabled."""
    account = lab.env()["CAIRN_ACCOUNT_ID"]
    kms, ct, data = lab.client("kms"), lab.client(), lab.client("cloudtrail-data")
    key = kms.create_key(Policy=store_key_policy(account))["KeyMetadata"]
    activity = [{"Name": "events from outside AWS",
                 "FieldSelectors": [{"Field": "eventCategory", "Equals": ["ActivityAuditLog"]}]}]
    store = ct.create_event_data_store(Name=f"apps-{uuid.uuid4().hex[:6]}", AdvancedEventSelectors=activity,
                                       MultiRegionEnabled=False, TerminationProtectionEnabled=False,
                                       KmsKeyId=key["KeyId"])
    eds = store["EventDataStoreArn"].split("/")[-1]
    ch = ct.create_channel(Name=f"app-{uuid.uuid4().hex[:6]}", Source="Custom",
                           Destinations=[{"Type": "EVENT_DATA_STORE", "Location": store["EventDataStoreArn"]}])
    # CloudTrail asks KMS for the store's key as it ingests (a moment after the store exists).
    lab.advance(1)

    def put(uid):
        # Stamped with the instance's time: a store keeps events by their time (retention).
        now = lab.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        return data.put_audit_events(channelArn=ch["ChannelArn"], auditEvents=[
            {"id": uid, "eventData": event_data(account, "Login", uid, eventTime=now)}])

    assert wait_for(lambda: _accepted(put, "kms-1"), timeout=30, every=0.5)
    wait_for(lambda: count_of(ct, eds, "eventdata.uid = 'kms-1'") == 1, timeout=30, every=0.5)

    kms.disable_key(KeyId=key["KeyId"])
    lab.advance(6 * 60)  # CloudTrail asks KMS again, and is refused
    s3 = lab.client("s3")
    s3.list_buckets()  # a commit: the ingestion round that asks runs
    # Until CloudTrail has been refused the key, events are still taken: each try its own id.
    taken = []

    def refused():
        uid = f"kms-2-{len(taken)}"
        try:
            put(uid)
            taken.append(uid)
            return None
        except botocore.exceptions.ClientError as e:
            return e.response
    r = wait_for(refused, timeout=30, every=0.5)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 503
    kms.enable_key(KeyId=key["KeyId"])
    lab.advance(61)
    s3.list_buckets()
    assert wait_for(lambda: _accepted(put, "kms-3"), timeout=30, every=0.5)
    # The refused try left nothing behind.
    wait_for(lambda: count_of(ct, eds, "eventdata.uid LIKE 'kms-%'") == 2 + len(taken), timeout=30, every=0.5)


def _accepted(put, uid):
    try:
        return put(uid)["successful"]
    except botocore.exceptions.ClientError:
        return None
