"""CloudTrail Lake imports: the real corpus written as AWS-layout trail delivery files
(AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz), imported with StartImport from a
cairn bucket (as the role CloudTrail assumes) and from an external bucket on moto_server, and
with `cairn import --event-data-store`; then Lake queries through StartQuery/GetQueryResults,
every count compared with DuckDB reading the same files."""

import gzip
import json
import os
import random
import re
import string
import subprocess
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from conftest import CAIRN, REAL_DATA, Cairn, free_port, wait_for
from test_external import start_moto, stop

REGION = "us-east-1"
# The stores keep ten years (the most EXTENDABLE_RETENTION_PRICING allows); older events of the
# corpus are not imported, as AWS imports none past a store's retention.
RETENTION = 3653


def delivery_files(out: Path):
    """The corpus grouped by account, region and day into delivery files; their keys."""
    groups = defaultdict(list)
    with gzip.open(REAL_DATA / "records.jsonl.gz", "rt") as f:
        for line in f:
            r = json.loads(line)
            account = r.get("recipientAccountId") or (r.get("userIdentity") or {}).get("accountId") or "000000000000"
            region = r.get("awsRegion") or "us-east-1"
            t = r.get("eventTime")
            # Records without a readable time go to a day within the stores' retention.
            day = t[:10] if isinstance(t, str) and re.match(r"\d{4}-\d{2}-\d{2}", t) else "2020-01-01"
            groups[(account, region, day)].append(r)
    rnd = random.Random(16)
    keys = []
    for (account, region, day), recs in sorted(groups.items()):
        y, m, d = day.split("-")
        stamp = f"{y}{m}{d}T0000Z"
        suffix = "".join(rnd.choices(string.ascii_letters + string.digits, k=16))
        key = f"AWSLogs/{account}/CloudTrail/{region}/{y}/{m}/{d}/{account}_CloudTrail_{region}_{stamp}_{suffix}.json.gz"
        p = out / key
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(gzip.compress(json.dumps({"Records": recs}).encode()))
        keys.append(key)
    # A digest beside them: an import skips it.
    digest = out / f"AWSLogs/{account}/CloudTrail-Digest/{region}/{y}/{m}/{d}/{account}_CloudTrail-Digest_{region}_x_{stamp}.json.gz"
    digest.parent.mkdir(parents=True, exist_ok=True)
    digest.write_bytes(gzip.compress(json.dumps({"awsAccountId": account, "logFiles": []}).encode()))
    return keys


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("delivery")
    keys = delivery_files(out)
    return out, keys


def nulls_last(row):
    return tuple((v is None, v or "") for v in row)


def duck(root: Path, sql: str, keys=None):
    """Rows of `sql` over the records of the delivery files (a table `r` with one JSON column
    `j`), as tuples of strings (None for NULL)."""
    files = [str(root / k) for k in keys] if keys else [str(p) for p in root.glob("AWSLogs/*/CloudTrail/**/*.json.gz")]
    con = duckdb.connect()
    con.execute(f"CREATE TABLE files AS SELECT * FROM read_json({files!r}, columns={{'Records': 'JSON[]'}}, format='auto')")
    # What a store with RetentionPeriod=RETENTION keeps: days since the cutoff, and records
    # without a readable time.
    cutoff = datetime.fromtimestamp((time.time() - RETENTION * 86400) // 86400 * 86400, timezone.utc).date()
    con.execute("CREATE TABLE r AS SELECT j FROM (SELECT unnest(Records) AS j FROM files) "
                "WHERE TRY_CAST(json_extract_string(j, '$.eventTime') AS TIMESTAMP) IS NULL "
                f"OR CAST(TRY_CAST(json_extract_string(j, '$.eventTime') AS TIMESTAMP) AS DATE) >= DATE '{cutoff}'")
    return sorted((tuple(None if v is None else str(v) for v in row) for row in con.execute(sql).fetchall()), key=nulls_last)


def lake(ct, sql):
    """Rows of a Lake query (StartQuery, DescribeQuery until done, every GetQueryResults page)."""
    qid = ct.start_query(QueryStatement=sql)["QueryId"]
    status = wait_for(lambda: (s := ct.describe_query(QueryId=qid)["QueryStatus"]) in ("FINISHED", "FAILED", "CANCELLED", "TIMED_OUT") and s, timeout=120)
    assert status == "FINISHED", ct.describe_query(QueryId=qid)
    rows, token = [], None
    while True:
        page = ct.get_query_results(QueryId=qid, **({"NextToken": token} if token else {}))
        for row in page["QueryResultRows"]:
            rows.append(tuple(next(iter(cell.values())) for cell in row))
        token = page.get("NextToken")
        if not token:
            break
    return sorted(rows, key=nulls_last)


# Each Lake query and the DuckDB query that must answer the same.
QUERIES = [
    ("SELECT count(*) FROM {t}", "SELECT count(*) FROM r"),
    ("SELECT eventsource, count(*) FROM {t} GROUP BY eventsource",
     "SELECT json_extract_string(j, '$.eventSource') s, count(*) FROM r GROUP BY s"),
    ("SELECT useridentity.arn, count(*) FROM {t} WHERE errorcode IS NOT NULL GROUP BY useridentity.arn",
     "SELECT json_extract_string(j, '$.userIdentity.arn') a, count(*) FROM r WHERE json_extract_string(j, '$.errorCode') IS NOT NULL GROUP BY a"),
    ("SELECT useridentity.type, count(*) FROM {t} GROUP BY useridentity.type",
     "SELECT json_extract_string(j, '$.userIdentity.type') t, count(*) FROM r GROUP BY t"),
    ("SELECT element_at(requestparameters, 'bucketName'), count(*) FROM {t} WHERE element_at(requestparameters, 'bucketName') IS NOT NULL GROUP BY element_at(requestparameters, 'bucketName')",
     "SELECT json_extract_string(j, '$.requestParameters.bucketName') b, count(*) FROM r WHERE b IS NOT NULL GROUP BY b"),
]


def compare(ct, store_id, root, keys=None):
    for lake_sql, duck_sql in QUERIES:
        got = lake(ct, lake_sql.format(t=store_id))
        want = duck(root, duck_sql, keys)
        assert got == want, f"{lake_sql}: cairn {got[:10]} … DuckDB {want[:10]} …"


TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def reader_role(iam, bucket, name="lake-import"):
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
             "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}]}))
    return arn


def new_store(ct, name):
    s = ct.create_event_data_store(Name=name, StartIngestion=False, TerminationProtectionEnabled=False,
                                   MultiRegionEnabled=True, RetentionPeriod=RETENTION)
    return s["EventDataStoreArn"], s["EventDataStoreArn"].rsplit("/", 1)[1]


def finished(ct, import_id, timeout=600):
    return wait_for(lambda: (g := ct.get_import(ImportId=import_id))["ImportStatus"] in ("COMPLETED", "FAILED", "STOPPED") and g,
                    timeout=timeout, every=1)


def test_import_from_a_cairn_bucket_answers_as_duckdb(new_cairn, corpus):
    root, keys = corpus
    c = new_cairn()
    ct, s3, iam = c.client(), c.client("s3"), c.client("iam")
    s3.create_bucket(Bucket="trail-archive")
    for p in root.rglob("*.json.gz"):
        s3.put_object(Bucket="trail-archive", Key=str(p.relative_to(root)), Body=p.read_bytes())
    role = reader_role(iam, "trail-archive")
    arn, store_id = new_store(ct, "imported")

    # What AWS checks before it starts.
    with pytest.raises(ct.exceptions.InvalidImportSourceException):
        ct.start_import(Destinations=[arn], ImportSource={"S3": {"S3LocationUri": "https://trail-archive",
                        "S3BucketRegion": REGION, "S3BucketAccessRoleArn": role}})
    with pytest.raises(ct.exceptions.EventDataStoreNotFoundException):
        ct.start_import(Destinations=[arn[:-4] + "0000"], ImportSource={"S3": {"S3LocationUri": "s3://trail-archive",
                        "S3BucketRegion": REGION, "S3BucketAccessRoleArn": role}})
    with pytest.raises(ct.exceptions.ImportNotFoundException):
        ct.get_import(ImportId="00000000-0000-0000-0000-000000000000")

    started = ct.start_import(Destinations=[arn], ImportSource={"S3": {
        "S3LocationUri": "s3://trail-archive", "S3BucketRegion": REGION, "S3BucketAccessRoleArn": role}})
    assert started["ImportStatus"] == "INITIALIZING"
    assert started["Destinations"] == [arn]
    # One import at a time per account.
    with pytest.raises(ct.exceptions.AccountHasOngoingImportException):
        ct.start_import(Destinations=[arn], ImportSource={"S3": {
            "S3LocationUri": "s3://trail-archive", "S3BucketRegion": REGION, "S3BucketAccessRoleArn": role}})
    g = finished(ct, started["ImportId"])
    assert g["ImportStatus"] == "COMPLETED", (g, ct.list_import_failures(ImportId=started["ImportId"]))
    total = int(duck(root, "SELECT count(*) FROM r")[0][0])
    assert total < sum(len(json.loads(gzip.decompress((root / k).read_bytes()))["Records"]) for k in keys)
    stats = g["ImportStatistics"]
    assert stats["FilesCompleted"] == len(keys)
    assert stats["EventsCompleted"] == total
    assert stats["FailedEntries"] == 0
    assert stats["PrefixesFound"] == stats["PrefixesCompleted"] == len({k.rsplit("/", 1)[0] for k in keys})
    assert ct.list_import_failures(ImportId=started["ImportId"])["Failures"] == []
    listed = ct.list_imports(Destination=arn)["Imports"]
    assert [i["ImportId"] for i in listed] == [started["ImportId"]]
    assert listed[0]["ImportStatus"] == "COMPLETED"
    assert ct.list_imports(ImportStatus="FAILED")["Imports"] == []

    compare(ct, store_id, root)
    # Every sample query of docs/lake-sample-queries.md runs over the imported store (their rows
    # are checked against DuckDB in test_lake_samples.py).
    from test_lake_samples import SAMPLES
    answered = [title for title, sql, _ in SAMPLES if lake(ct, sql.replace("$EDS_ID", store_id))]
    assert len(answered) >= len(SAMPLES) - 3, answered

    # Retrying a finished import is refused; StopImport of a finished one changes nothing.
    with pytest.raises(ct.exceptions.InvalidParameterException):
        ct.start_import(ImportId=started["ImportId"])
    assert ct.stop_import(ImportId=started["ImportId"])["ImportStatus"] == "COMPLETED"

    # A restart of the server imports nothing twice.
    c.stop()
    c.start()
    ct = c.client()
    assert lake(ct, f"SELECT count(*) FROM {store_id}") == [(str(total),)]


def test_a_role_without_access_fails_each_file_and_a_retry_reads_them(new_cairn, corpus):
    root, keys = corpus
    c = new_cairn()
    ct, s3, iam = c.client(), c.client("s3"), c.client("iam")
    s3.create_bucket(Bucket="archive-two")
    few = keys[:5]
    for k in few:
        s3.put_object(Bucket="archive-two", Key=k, Body=(root / k).read_bytes())
    # The role does not trust CloudTrail: the import fails at its source.
    lambda_trust = TRUST.replace("cloudtrail.amazonaws.com", "lambda.amazonaws.com")
    arn_role = iam.create_role(RoleName="list-only", AssumeRolePolicyDocument=lambda_trust)["Role"]["Arn"]
    iam.put_role_policy(RoleName="list-only", PolicyName="list", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::archive-two"}]}))
    arn, store_id = new_store(ct, "retried")
    started = ct.start_import(Destinations=[arn], ImportSource={"S3": {
        "S3LocationUri": "s3://archive-two/AWSLogs/", "S3BucketRegion": REGION, "S3BucketAccessRoleArn": arn_role}})
    g = finished(ct, started["ImportId"])
    assert g["ImportStatus"] == "FAILED"
    [f] = ct.list_import_failures(ImportId=started["ImportId"])["Failures"]
    assert (f["Location"], f["ErrorType"]) == ("s3://archive-two/AWSLogs/", "AccessDenied"), f
    # Trusted now, the role may list the bucket but not read its objects.
    iam.update_assume_role_policy(RoleName="list-only", PolicyDocument=TRUST)
    ct.start_import(ImportId=started["ImportId"])
    g = finished(ct, started["ImportId"])
    assert g["ImportStatus"] == "FAILED"
    failures = ct.list_import_failures(ImportId=started["ImportId"])["Failures"]
    assert sorted(f["Location"] for f in failures) == sorted(f"s3://archive-two/{k}" for k in few)
    assert {f["ErrorType"] for f in failures} == {"AccessDenied"}
    assert all(f["Status"] == "FAILED" for f in failures)
    page = ct.list_import_failures(ImportId=started["ImportId"], MaxResults=2)
    assert len(page["Failures"]) == 2 and page["NextToken"]
    # Given read access, the retry reads the files that failed.
    iam.put_role_policy(RoleName="list-only", PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::archive-two/*"}]}))
    again = ct.start_import(ImportId=started["ImportId"])
    assert again["ImportStatus"] == "INITIALIZING"
    g = finished(ct, started["ImportId"])
    assert g["ImportStatus"] == "COMPLETED", ct.list_import_failures(ImportId=started["ImportId"])
    compare(ct, store_id, root, few)


def test_import_from_an_external_bucket(workdir, tmp_path, corpus):
    root, keys = corpus
    port = free_port()
    log = open(tmp_path / "moto.log", "ab")
    proc, peer = start_moto(port, log)
    try:
        peer.create_bucket(Bucket="ext-archive")
        some = keys[::7]
        for k in some:
            peer.put_object(Bucket="ext-archive", Key=k, Body=(root / k).read_bytes())
        conf = tmp_path / "cairn.toml"
        conf.write_text(f'[[external_bucket]]\nname = "ext-archive"\nendpoint = "http://127.0.0.1:{port}"\n'
                        'region = "us-east-1"\naccess_key_id = "AKIAMOTOEXAMPLE0001"\nsecret_access_key = "moto-secret"\n')
        c = Cairn(workdir / "lake-import-external", ["--config", str(conf)])
        c.start()
        try:
            ct = c.client()
            account = c.env()["CAIRN_ACCOUNT_ID"]
            arn, store_id = new_store(ct, "from-moto")
            started = ct.start_import(Destinations=[arn], ImportSource={"S3": {
                "S3LocationUri": "s3://ext-archive", "S3BucketRegion": REGION,
                "S3BucketAccessRoleArn": f"arn:aws:iam::{account}:role/unused-for-external"}})
            g = finished(ct, started["ImportId"])
            assert g["ImportStatus"] == "COMPLETED", ct.list_import_failures(ImportId=started["ImportId"])
            assert g["ImportStatistics"]["FilesCompleted"] == len(some)
            compare(ct, store_id, root, some)
        finally:
            c.stop()
    finally:
        stop(proc)


def test_event_time_range_limits_an_import(new_cairn, corpus):
    root, keys = corpus
    c = new_cairn()
    ct, s3, iam = c.client(), c.client("s3"), c.client("iam")
    s3.create_bucket(Bucket="archive-range")
    for k in keys:
        s3.put_object(Bucket="archive-range", Key=k, Body=(root / k).read_bytes())
    role = reader_role(iam, "archive-range")
    arn, store_id = new_store(ct, "ranged")
    start, end = datetime(2017, 1, 1, tzinfo=timezone.utc), datetime(2019, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
    started = ct.start_import(Destinations=[arn], StartEventTime=start, EndEventTime=end, ImportSource={"S3": {
        "S3LocationUri": "s3://archive-range", "S3BucketRegion": REGION, "S3BucketAccessRoleArn": role}})
    assert started["StartEventTime"] == start and started["EndEventTime"] == end
    g = finished(ct, started["ImportId"])
    assert g["ImportStatus"] == "COMPLETED"
    want = duck(root, "SELECT count(*) FROM r WHERE TRY_CAST(json_extract_string(j, '$.eventTime') AS TIMESTAMP) "
                      "BETWEEN TIMESTAMP '2017-01-01 00:00:00' AND TIMESTAMP '2019-12-31 23:59:59'")
    assert lake(ct, f"SELECT count(*) FROM {store_id}") == want
    assert int(want[0][0]) > 0


def test_cairn_import_into_an_event_data_store(new_cairn, corpus):
    root, keys = corpus
    c = new_cairn()
    ct = c.client()
    arn, store_id = new_store(ct, "from-files")
    if os.environ.get("CAIRN_E2E_CLUSTER"):
        # A cluster's event data stores take imports through StartImport (the tests above),
        # from any node: the command, which writes a store's files itself, refuses, running or
        # not, with the cluster's configuration or without.
        for running in (True, False):
            for extra in ([], c.cli_args()):
                p = subprocess.run([str(CAIRN), "import", "--data-dir", str(c.data_dir), *extra,
                                    "--event-data-store", store_id, str(root / "AWSLogs")], capture_output=True, text=True)
                assert p.returncode != 0
                assert ("StartImport" if extra else "node of a cluster") in p.stderr, p.stderr
            if running:
                c.stop()
        assert lake(c.start().client(), f"SELECT count(*) FROM {store_id}") == [("0",)]
        return
    # With the server running, the command refuses.
    p = subprocess.run([str(CAIRN), "import", "--data-dir", str(c.data_dir), "--event-data-store", store_id, str(root / "AWSLogs")],
                       capture_output=True, text=True)
    assert p.returncode != 0 and "stop it first" in p.stderr
    c.stop()
    for _ in range(2):  # the second run adds nothing
        p = subprocess.run([str(CAIRN), "import", "--data-dir", str(c.data_dir), "--event-data-store", arn, str(root / "AWSLogs")],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
    assert "imported 0 records" in p.stdout, p.stdout
    c.start()
    ct = c.client()
    compare(ct, store_id, root)


def test_stop_and_resume_import_nothing_twice(new_cairn, corpus):
    root, keys = corpus
    c = new_cairn()
    ct, s3, iam = c.client(), c.client("s3"), c.client("iam")
    s3.create_bucket(Bucket="archive-stop")
    for k in keys:
        s3.put_object(Bucket="archive-stop", Key=k, Body=(root / k).read_bytes())
    role = reader_role(iam, "archive-stop")
    arn, store_id = new_store(ct, "stopped")
    started = ct.start_import(Destinations=[arn], ImportSource={"S3": {
        "S3LocationUri": "s3://archive-stop", "S3BucketRegion": REGION, "S3BucketAccessRoleArn": role}})
    stopped = ct.stop_import(ImportId=started["ImportId"])
    assert stopped["ImportStatus"] in ("STOPPED", "COMPLETED")
    if stopped["ImportStatus"] == "STOPPED":
        assert ct.list_imports(ImportStatus="STOPPED")["Imports"][0]["ImportId"] == started["ImportId"]
        time.sleep(3)  # a batch under way when it was stopped ends; nothing more starts
        assert ct.get_import(ImportId=started["ImportId"])["ImportStatus"] == "STOPPED"
        # The server restarts meanwhile; the retry goes on from the committed file.
        c.stop()
        c.start()
        ct = c.client()
        assert ct.start_import(ImportId=started["ImportId"])["ImportStatus"] == "INITIALIZING"
    g = finished(ct, started["ImportId"])
    assert g["ImportStatus"] == "COMPLETED"
    total = duck(root, "SELECT count(*) FROM r")
    assert lake(ct, f"SELECT count(*) FROM {store_id}") == total
    assert g["ImportStatistics"]["EventsCompleted"] == int(total[0][0])
    assert g["ImportStatistics"]["FilesCompleted"] == len(keys)


def test_kill_9_during_an_import_adds_nothing_twice(new_cairn, corpus):
    root, keys = corpus
    c = new_cairn()
    ct, s3, iam = c.client(), c.client("s3"), c.client("iam")
    s3.create_bucket(Bucket="archive-crash")
    for k in keys:
        s3.put_object(Bucket="archive-crash", Key=k, Body=(root / k).read_bytes())
    role = reader_role(iam, "archive-crash")
    arn, store_id = new_store(ct, "crashed")
    started = ct.start_import(Destinations=[arn], ImportSource={"S3": {
        "S3LocationUri": "s3://archive-crash", "S3BucketRegion": REGION, "S3BucketAccessRoleArn": role}})
    wait_for(lambda: ct.get_import(ImportId=started["ImportId"])["ImportStatistics"]["FilesCompleted"] > 0, every=0.05)
    c.kill9()
    c.start()
    ct = c.client()
    g = finished(ct, started["ImportId"])
    assert g["ImportStatus"] == "COMPLETED"
    assert g["ImportStatistics"]["FilesCompleted"] == len(keys)
    assert lake(ct, f"SELECT count(*) FROM {store_id}") == duck(root, "SELECT count(*) FROM r")


def test_the_user_guide_example_with_the_aws_cli(new_cairn, corpus):
    root, keys = corpus
    c = new_cairn()
    account = c.env()["CAIRN_ACCOUNT_ID"]
    c.aws("s3", "mb", "s3://trail-archive")
    c.aws("s3", "cp", "--recursive", str(root / "AWSLogs"), "s3://trail-archive/AWSLogs")
    c.aws("iam", "create-role", "--role-name", "lake-import", "--assume-role-policy-document", TRUST)
    c.aws("iam", "put-role-policy", "--role-name", "lake-import", "--policy-name", "read", "--policy-document", json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                                                "Resource": ["arn:aws:s3:::trail-archive", "arn:aws:s3:::trail-archive/*"]}]}))
    _, eds, _ = c.aws("cloudtrail", "create-event-data-store", "--name", "history", "--no-start-ingestion",
                      "--no-termination-protection-enabled", "--retention-period", str(RETENTION))
    _, started, _ = c.aws("cloudtrail", "start-import", "--destinations", eds["EventDataStoreArn"], "--import-source",
                          f"S3={{S3LocationUri=s3://trail-archive,S3BucketRegion={REGION},"
                          f"S3BucketAccessRoleArn=arn:aws:iam::{account}:role/lake-import}}")
    got = wait_for(lambda: (g := c.aws("cloudtrail", "get-import", "--import-id", started["ImportId"])[1])["ImportStatus"] == "COMPLETED" and g,
                   timeout=300, every=1)
    assert got["ImportStatistics"]["FilesCompleted"] == len(keys)
    _, failures, _ = c.aws("cloudtrail", "list-import-failures", "--import-id", started["ImportId"])
    assert failures["Failures"] == []
    _, listed, _ = c.aws("cloudtrail", "list-imports")
    assert [i["ImportStatus"] for i in listed["Imports"]] == ["COMPLETED"]
    store_id = eds["EventDataStoreArn"].rsplit("/", 1)[1]
    _, q, _ = c.aws("cloudtrail", "start-query", "--query-statement", f"SELECT eventsource, count(*) FROM {store_id} GROUP BY eventsource")
    wait_for(lambda: c.aws("cloudtrail", "describe-query", "--query-id", q["QueryId"])[1]["QueryStatus"] == "FINISHED")
    _, res, _ = c.aws("cloudtrail", "get-query-results", "--query-id", q["QueryId"])
    rows = sorted((tuple(next(iter(cell.values())) for cell in row) for row in res["QueryResultRows"]), key=nulls_last)
    assert rows == duck(root, "SELECT json_extract_string(j, '$.eventSource') s, count(*) FROM r GROUP BY s")
