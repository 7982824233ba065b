"""CloudTrail Lake saving query results to S3 (StartQuery's DeliveryS3Uri), against a real
`cairn serve` with boto3 and the AWS CLI: gzip'd CSV result files and a signed
`result_sign.json` under AWSLogs/<account>/CloudTrail-Lake/Query/<date>/<query id>/, checked by
an independent verifier written from AWS's documentation of the sign file (SHA-256 of each
file, SHA256withRSA over the hashes joined by spaces, the key found with ListPublicKeys by its
fingerprint). The bucket's policy decides whether CloudTrail may write there."""

import base64
import binascii
import csv
import gzip
import hashlib
import io
import json
import uuid
from datetime import datetime, timedelta, timezone

import botocore.exceptions
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import load_der_public_key

from conftest import Cairn, wait_for


@pytest.fixture(scope="module")
def lab(workdir):
    c = Cairn(workdir / "lake-delivery", ["--test-clock"])
    c.start()
    yield c
    c.stop()


def results_policy(bucket, store_arn):
    """The bucket policy AWS documents for saving Lake query results."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AWSCloudTrailLake1", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": ["s3:PutObject*", "s3:Abort*"],
             "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
             "Condition": {"StringEquals": {"AWS:SourceArn": store_arn}}},
            {"Sid": "AWSCloudTrailLake2", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "s3:GetBucketAcl",
             "Resource": f"arn:aws:s3:::{bucket}",
             "Condition": {"StringEquals": {"AWS:SourceArn": store_arn}}},
        ],
    })


def finished(ct, qid):
    return wait_for(lambda: (lambda d: d if d["QueryStatus"] not in ("QUEUED", "RUNNING") else None)(
        ct.describe_query(QueryId=qid)), timeout=60, every=0.1)


def verify(ct, s3, bucket, folder):
    """AWS's documented validation of saved query results; returns the result files' text."""
    sign = json.loads(s3.get_object(Bucket=bucket, Key=folder + "result_sign.json")["Body"].read())
    assert sign["version"] == "1.0"
    assert sign["hashAlgorithm"] == "SHA-256"
    assert sign["signatureAlgorithm"] == "SHA256withRSA"
    assert sign["files"], sign
    texts = []
    for f in sign["files"]:
        body = s3.get_object(Bucket=bucket, Key=folder + f["fileName"])["Body"].read()
        assert hashlib.sha256(body).hexdigest() == f["fileHashValue"], f["fileName"]
        texts.append(gzip.decompress(body).decode())
    done = datetime.strptime(sign["queryCompleteTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    keys = ct.list_public_keys(StartTime=done - timedelta(hours=1), EndTime=done + timedelta(hours=1))["PublicKeyList"]
    key = next(k for k in keys if k["Fingerprint"] == sign["publicKeyFingerprint"])
    public = load_der_public_key(key["Value"] if isinstance(key["Value"], bytes) else base64.b64decode(key["Value"]))
    to_sign = " ".join(f["fileHashValue"] for f in sign["files"]).encode()
    public.verify(binascii.unhexlify(sign["hashSignature"]), to_sign, PKCS1v15(), hashes.SHA256())
    return sign, texts


def query_rows(ct, qid):
    rows, token = [], None
    while True:
        kw = {"QueryId": qid, "MaxQueryResults": 1000}
        if token:
            kw["NextToken"] = token
        r = ct.get_query_results(**kw)
        for row in r["QueryResultRows"]:
            rows.append([(next(iter(c)), next(iter(c.values()))) for c in row])
        token = r.get("NextToken")
        if not token:
            return rows


def test_saved_results_are_signed_csv_equal_to_the_query_results(lab):
    ct, s3, iam = lab.client(), lab.client("s3"), lab.client("iam")
    account = lab.env()["CAIRN_ACCOUNT_ID"]
    store = ct.create_event_data_store(Name=f"saved-{uuid.uuid4().hex[:6]}")
    eds = store["EventDataStoreArn"]
    bucket = f"lake-results-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=results_policy(bucket, eds))
    for i in range(5):
        iam.create_user(UserName=f"saved-{i}-{uuid.uuid4().hex[:4]}")
    table = eds.split("/")[-1]
    sql = (f"SELECT eventName, useridentity.arn AS who, element_at(requestParameters, 'userName') AS name, "
           f"errorCode FROM {table} WHERE eventName = 'CreateUser' ORDER BY eventTime")
    wait_for(lambda: len(query_rows(ct, finished(ct, ct.start_query(QueryStatement=sql)["QueryId"])["QueryId"])) >= 5,
             timeout=60, every=0.2)

    qid = ct.start_query(QueryStatement=sql, DeliveryS3Uri=f"s3://{bucket}/saved/")["QueryId"]
    d = finished(ct, qid)
    assert d["QueryStatus"] == "FINISHED", d
    assert d["DeliveryS3Uri"] == f"s3://{bucket}/saved/"
    assert d["DeliveryStatus"] == "SUCCESS", d

    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="saved/")["Contents"]]
    folder = next(k for k in keys if k.endswith("result_sign.json"))[: -len("result_sign.json")]
    assert folder.startswith(f"saved/AWSLogs/{account}/CloudTrail-Lake/Query/")
    assert folder.endswith(f"/{qid}/")
    assert sorted(keys) == sorted([folder + "result_1.csv.gz", folder + "result_sign.json"])
    sign, texts = verify(ct, s3, bucket, folder)
    # The folder is dated by the query's completion.
    assert folder.split("/")[5:8] == sign["queryCompleteTime"][:10].split("-")
    assert sign["region"] == "us-east-1"
    assert [f["fileName"] for f in sign["files"]] == ["result_1.csv.gz"]

    # The CSV holds exactly the rows GetQueryResults answers, under the same labels.
    api = query_rows(ct, qid)
    table_rows = list(csv.reader(io.StringIO(texts[0])))
    assert table_rows[0] == [name for name, _ in api[0]] == ["eventName", "who", "name", "errorCode"]
    assert table_rows[1:] == [[value or "" for _, value in row] for row in api]
    assert len(table_rows) - 1 >= 5

    # CloudTrail's writes are S3's own calls, made as cloudtrail.amazonaws.com for the store.
    obj = s3.head_object(Bucket=bucket, Key=folder + "result_1.csv.gz")
    assert obj["ContentLength"] > 0

    # A changed result file no longer matches its sign file; a changed sign file fails its signature.
    # One compressed body for both steps: gzip stamps the current second into its header.
    forged_body = gzip.compress(b"eventName\nforged\n", mtime=0)
    s3.put_object(Bucket=bucket, Key=folder + "result_1.csv.gz", Body=forged_body)
    with pytest.raises(AssertionError):
        verify(ct, s3, bucket, folder)
    forged = dict(sign, files=[dict(sign["files"][0], fileHashValue=hashlib.sha256(
        forged_body).hexdigest())])
    s3.put_object(Bucket=bucket, Key=folder + "result_sign.json", Body=json.dumps(forged).encode())
    with pytest.raises(InvalidSignature):
        verify(ct, s3, bucket, folder)


def test_the_cli_saves_results_and_describes_their_delivery(lab):
    ct, s3 = lab.client(), lab.client("s3")
    eds = ct.create_event_data_store(Name=f"cli-saved-{uuid.uuid4().hex[:6]}")["EventDataStoreArn"]
    bucket = f"lake-cli-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=results_policy(bucket, eds))
    table = eds.split("/")[-1]
    _, out, _ = lab.aws("cloudtrail", "start-query", "--query-statement",
                  f"SELECT eventName FROM {table} WHERE eventName = 'NoSuchThing'",
                  "--delivery-s3-uri", f"s3://{bucket}")
    qid = out["QueryId"]
    finished(ct, qid)
    _, d, _ = lab.aws("cloudtrail", "describe-query", "--query-id", qid)
    assert d["DeliveryStatus"] == "SUCCESS", d
    assert d["DeliveryS3Uri"] == f"s3://{bucket}"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    folder = next(k for k in keys if k.endswith("result_sign.json"))[: -len("result_sign.json")]
    assert folder.startswith("AWSLogs/")
    _, texts = verify(ct, s3, bucket, folder)
    # No rows: the file still holds the header.
    assert texts == ["eventName\n"]


def test_a_bucket_must_exist_and_let_cloudtrail_write(lab):
    ct, s3 = lab.client(), lab.client("s3")
    eds = ct.create_event_data_store(Name=f"refused-{uuid.uuid4().hex[:6]}")["EventDataStoreArn"]
    table = eds.split("/")[-1]
    sql = f"SELECT eventName FROM {table}"

    def refused(uri):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            ct.start_query(QueryStatement=sql, DeliveryS3Uri=uri)
        return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]

    assert refused(f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}") == ("S3BucketDoesNotExistException", 400)
    bare = f"lake-bare-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bare)
    assert refused(f"s3://{bare}/x") == ("InsufficientS3BucketPolicyException", 400)
    # A policy for another store does not admit this one.
    s3.put_bucket_policy(Bucket=bare, Policy=results_policy(bare, eds + "-other"))
    assert refused(f"s3://{bare}/x") == ("InsufficientS3BucketPolicyException", 400)
    assert refused("s3://UPPER-case") == ("InvalidParameterException", 400)
    # Nothing was queued by the refused calls.
    listed = ct.list_queries(EventDataStore=eds)["Queries"]
    assert listed == []
