"""CloudTrail Lake with boto3 and the AWS CLI against a real `cairn serve`: event data stores take
the calls as they happen, queries answer in Lake's shape, and the answers equal what DuckDB (an
independent reader) finds in the trail's delivered log files. kill -9 during ingestion loses and
duplicates nothing."""

import gzip
import json
import time
import uuid

import botocore.exceptions
import duckdb
import pytest

from conftest import Cairn, documented_policy, wait_for


@pytest.fixture(scope="module")
def lab(workdir):
    c = Cairn(workdir / "lake-lab", ["--delivery-interval", "1", "--test-clock"])
    c.start()
    yield c
    c.stop()


def account_of(c):
    return c.env()["CAIRN_ACCOUNT_ID"]


def run_query(ct, sql, page=1000):
    """StartQuery, poll DescribeQuery, then every page of GetQueryResults: (columns, rows)."""
    qid = ct.start_query(QueryStatement=sql)["QueryId"]
    d = wait_for(lambda: (lambda d: d if d["QueryStatus"] not in ("QUEUED", "RUNNING") else None)(
        ct.describe_query(QueryId=qid)), timeout=60, every=0.1)
    assert d["QueryStatus"] == "FINISHED", d
    rows, columns, token = [], None, None
    while True:
        kw = {"QueryId": qid, "MaxQueryResults": page}
        if token:
            kw["NextToken"] = token
        r = ct.get_query_results(**kw)
        assert r["QueryStatus"] == "FINISHED"
        for row in r["QueryResultRows"]:
            # Each row is a list of one-entry maps, every value a string.
            assert all(len(cell) == 1 for cell in row)
            names = [next(iter(cell)) for cell in row]
            columns = columns or names
            assert names == columns
            rows.append([next(iter(cell.values())) for cell in row])
        token = r.get("NextToken")
        if not token:
            assert len(rows) == r["QueryStatistics"]["TotalResultsCount"]
            return columns, rows, d


def make_trail(c, name):
    account = account_of(c)
    bucket = f"lake-{uuid.uuid4().hex[:10]}"
    s3 = c.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=documented_policy(bucket, account))
    ct = c.client()
    ct.create_trail(Name=name, S3BucketName=bucket, IsMultiRegionTrail=True)
    ct.start_logging(Name=name)
    return bucket


def activity(c, tag):
    """Calls of several services and principals, some refused, in two regions."""
    s3 = c.client("s3")
    iam = c.client("iam")
    s3.create_bucket(Bucket=f"{tag}-data")
    s3.list_buckets()
    iam.create_user(UserName=f"{tag}-alice")
    key = iam.create_access_key(UserName=f"{tag}-alice")["AccessKey"]
    for region in ("us-east-1", "eu-west-1"):
        c.client(region=region).describe_trails()
        c.client("kms", region=region).list_keys()
    # Alice has no policy: her calls are refused, recorded with an errorCode.
    import boto3
    alice = boto3.client("iam", endpoint_url=c.endpoint, region_name="us-east-1",
                         aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    time.sleep(0.2)
    for _ in range(3):
        with pytest.raises(botocore.exceptions.ClientError):
            alice.list_users()


def delivered_files(c, bucket, dest):
    c.aws("s3", "cp", f"s3://{bucket}", str(dest), "--recursive")
    return sorted(p for p in dest.rglob("*.json.gz") if "CloudTrail-Digest" not in str(p))


def test_queries_answer_what_duckdb_finds_in_the_delivered_files(lab, tmp_path):
    ct = lab.client()
    store = ct.create_event_data_store(Name="everything", TerminationProtectionEnabled=False)
    assert store["Status"] == "ENABLED" and store["MultiRegionEnabled"] is True
    assert store["AdvancedEventSelectors"] == [{"Name": "Default management events", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Management"]}]}]
    eds = store["EventDataStoreArn"].split("/")[-1]
    bucket = make_trail(lab, "lake-trail")
    activity(lab, f"q{uuid.uuid4().hex[:6]}")
    lab.advance(2)  # a delivery round has run
    files = delivered_files(lab, bucket, tmp_path / "dl")
    assert files
    delivered = {r["eventID"] for f in files for r in json.loads(gzip.open(f).read())["Records"]}
    glob = f"{tmp_path}/dl/**/*.json.gz"
    reference = duckdb.sql(f"""
        SELECT CAST(r.eventID AS VARCHAR), r.eventName, r.eventSource, r.awsRegion, r.userIdentity.arn, r.errorCode,
               strftime(CAST(r.eventTime AS TIMESTAMP), '%Y-%m-%d %H:%M:%S.000')
        FROM (SELECT unnest(Records) AS r FROM read_json('{glob}', maximum_object_size=100000000))
    """).fetchall()
    want = {tuple(row) for row in reference}
    assert len(want) == len(delivered)

    # Every delivered event is in the store (ingestion follows commits).
    def ingested():
        _, rows, _ = run_query(ct, f"SELECT eventID FROM {eds}")
        return delivered <= {r[0] for r in rows}
    wait_for(ingested, timeout=30, every=0.5)

    columns, rows, described = run_query(
        ct, f"SELECT eventID, eventName, eventSource, awsRegion, userIdentity.arn, errorCode, eventTime "
            f"FROM {eds} ORDER BY eventTime, eventID", page=7)
    assert columns == ["eventID", "eventName", "eventSource", "awsRegion", "arn", "errorCode", "eventTime"]
    got = {tuple(r) for r in rows if r[0] in delivered}
    assert got == want
    assert len({r[0] for r in rows}) == len(rows), "each event once"
    stats = described["QueryStatistics"]
    assert stats["EventsMatched"] == len(rows) and stats["EventsScanned"] >= len(rows) and stats["BytesScanned"] > 0

    # An aggregate over the same events, both ways.
    ids = ",".join(f"'{i}'" for i in sorted(delivered))
    _, counts, _ = run_query(ct, f"SELECT eventSource, count(*) AS n FROM {eds} WHERE eventID IN ({ids}) "
                                 f"GROUP BY eventSource ORDER BY eventSource")
    ref = duckdb.sql(f"""SELECT r.eventSource, count(*) FROM (SELECT unnest(Records) AS r FROM read_json('{glob}'))
                         GROUP BY 1 ORDER BY 1""").fetchall()
    assert [(s, int(n)) for s, n in counts] == [(s, n) for s, n in ref]
    errors = [r for r in rows if r[5] is not None and r[0] in delivered]
    assert len(errors) >= 3 and all(r[5] == "AccessDenied" for r in errors)

    # The store's files are plain Parquet: DuckDB reads the folder as docs/lake-files.md shows
    # and finds the same events.
    folder = lab.lake_files(eds)
    direct = [r[0] for r in duckdb.sql(f"""SELECT eventid
                            FROM read_parquet('{folder}/*/*.parquet', hive_partitioning = true)""").fetchall()]
    assert len(direct) == len(set(direct)), "each event once in the folder"
    assert delivered <= set(direct)
    arns = duckdb.sql(f"""SELECT DISTINCT useridentity.arn FROM read_parquet('{folder}/*/*.parquet')
                          WHERE requestparameters['bucketName'] IS NOT NULL""").fetchall()
    assert arns

    # Struct members and map lookups, as Lake writes them.
    _, made, _ = run_query(ct, f"SELECT element_at(requestParameters, 'bucketName'), useridentity.type "
                               f"FROM {eds} WHERE eventName = 'CreateBucket' AND eventID IN ({ids})")
    assert made and all(r[0].endswith("-data") or r[0].startswith("lake-") for r in made)
    ref = duckdb.sql(f"""SELECT count(*) FROM (SELECT unnest(Records) AS r FROM read_json('{glob}'))
                         WHERE r.eventName = 'CreateBucket'""").fetchall()[0][0]
    assert len(made) == ref


def test_the_cli_drives_the_event_data_store_lifecycle(lab):
    _, store, _ = lab.aws("cloudtrail", "create-event-data-store", "--name", "cycle", "--retention-period", "30")
    arn = store["EventDataStoreArn"]
    assert store["RetentionPeriod"] == 30 and store["TerminationProtectionEnabled"] is True
    rc, _, err = lab.aws("cloudtrail", "create-event-data-store", "--name", "cycle", check=False)
    assert rc != 0 and "EventDataStoreAlreadyExistsException" in err
    rc, _, err = lab.aws("cloudtrail", "create-event-data-store", "--name", "fixed", "--billing-mode",
                           "FIXED_RETENTION_PRICING", "--retention-period", "3000", check=False)
    assert rc != 0 and "InvalidParameterException" in err
    rc, _, err = lab.aws("cloudtrail", "delete-event-data-store", "--event-data-store", arn, check=False)
    assert rc != 0 and "EventDataStoreTerminationProtectedException" in err
    _, listed, _ = lab.aws("cloudtrail", "list-event-data-stores")
    assert arn in [s["EventDataStoreArn"] for s in listed["EventDataStores"]]

    # Stopped, it takes nothing; started again, it does.
    lab.aws("cloudtrail", "stop-event-data-store-ingestion", "--event-data-store", arn)
    _, got, _ = lab.aws("cloudtrail", "get-event-data-store", "--event-data-store", arn)
    assert got["Status"] == "STOPPED_INGESTION"
    rc, _, err = lab.aws("cloudtrail", "stop-event-data-store-ingestion", "--event-data-store", arn, check=False)
    assert rc != 0 and "InvalidEventDataStoreStatusException" in err
    marker = lab.client(region="ap-south-1").describe_trails()["ResponseMetadata"]["RequestId"]
    lab.aws("cloudtrail", "start-event-data-store-ingestion", "--event-data-store", arn)
    after = lab.client(region="ap-south-1").describe_trails()["ResponseMetadata"]["RequestId"]
    eds = arn.split("/")[-1]
    ct = lab.client()

    def seen():
        _, rows, _ = run_query(ct, f"SELECT requestID FROM {eds} WHERE awsRegion = 'ap-south-1'")
        return {r[0] for r in rows} if after in {r[0] for r in rows} else None
    ids = wait_for(seen, timeout=30, every=0.5)
    assert marker not in ids

    # Deleted, it waits seven days for a restore; then it is gone.
    lab.aws("cloudtrail", "update-event-data-store", "--event-data-store", arn, "--no-termination-protection-enabled")
    lab.aws("cloudtrail", "delete-event-data-store", "--event-data-store", arn)
    _, got, _ = lab.aws("cloudtrail", "get-event-data-store", "--event-data-store", eds)
    assert got["Status"] == "PENDING_DELETION"
    rc, _, err = lab.aws("cloudtrail", "start-query", "--query-statement", f"SELECT count(*) FROM {eds}", check=False)
    assert rc != 0 and "InactiveEventDataStoreException" in err
    _, restored, _ = lab.aws("cloudtrail", "restore-event-data-store", "--event-data-store", arn)
    assert restored["Status"] == "ENABLED"
    rc, _, err = lab.aws("cloudtrail", "restore-event-data-store", "--event-data-store", arn, check=False)
    assert rc != 0 and "InvalidEventDataStoreStatusException" in err
    lab.aws("cloudtrail", "delete-event-data-store", "--event-data-store", arn)
    lab.advance(7 * 86400 + 60)
    rc, _, err = lab.aws("cloudtrail", "get-event-data-store", "--event-data-store", arn, check=False)
    assert rc != 0 and "EventDataStoreNotFoundException" in err


def test_statements_are_checked_and_queries_managed(lab):
    ct = lab.client()
    eds = ct.create_event_data_store(Name="checks", TerminationProtectionEnabled=False)["EventDataStoreArn"].split("/")[-1]
    for bad in (f"DELETE FROM {eds}", f"SELECT nope FROM {eds}", f"SELEC * FROM {eds}", "SELECT 1"):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            ct.start_query(QueryStatement=bad)
        assert e.value.response["Error"]["Code"] == "InvalidQueryStatementException", bad
    missing = str(uuid.uuid4())
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.start_query(QueryStatement=f"SELECT count(*) FROM {missing}")
    assert e.value.response["Error"]["Code"] == "EventDataStoreNotFoundException"
    _, rows, _ = run_query(ct, f"SELECT count(*) FROM {eds}")
    qid = ct.list_queries(EventDataStore=eds)["Queries"][0]["QueryId"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.cancel_query(QueryId=qid)
    assert e.value.response["Error"]["Code"] == "InactiveQueryException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.get_query_results(QueryId=qid, NextToken="forged")
    assert e.value.response["Error"]["Code"] == "InvalidNextTokenException"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.describe_query(QueryId=str(uuid.uuid4()))
    assert e.value.response["Error"]["Code"] == "QueryIdNotFoundException"
    finished = ct.list_queries(EventDataStore=eds, QueryStatus="FINISHED")["Queries"]
    assert qid in [q["QueryId"] for q in finished]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.list_queries(EventDataStore=eds, QueryStatus="NOPE")
    assert e.value.response["Error"]["Code"] == "InvalidQueryStatusException"
    # The calls themselves are recorded like any other CloudTrail call.
    _, rows, _ = run_query(ct, f"SELECT eventName FROM {eds} WHERE eventSource = 'cloudtrail.amazonaws.com' "
                               f"AND eventName IN ('StartQuery', 'GetQueryResults')")
    assert {"StartQuery"} <= {r[0] for r in rows}


def test_kill_9_during_ingestion_keeps_every_event_exactly_once(new_cairn):
    from test_durability import kill_under_load

    c = new_cairn()
    ct = c.client()
    eds = ct.create_event_data_store(Name="crashy", TerminationProtectionEnabled=False)["EventDataStoreArn"].split("/")[-1]
    acked = kill_under_load(c, "us-east-1", workers=3, pause=lambda i: 0.4 + (i % 3) * 0.3)
    c.start()
    ct = c.client()

    def complete():
        _, rows, _ = run_query(ct, f"SELECT requestID FROM {eds} WHERE eventName = 'DescribeTrails'")
        got = [r[0] for r in rows]
        return got if set(acked) <= set(got) else None
    got = wait_for(complete, timeout=60, every=0.5)
    assert len(got) == len(set(got)), "an event was ingested twice"
    _, dup, _ = run_query(ct, f"SELECT eventID, count(*) FROM {eds} GROUP BY eventID HAVING count(*) > 1")
    assert dup == []
    assert len(acked) > 50


def test_events_past_the_retention_period_go(lab):
    ct = lab.client()
    eds = ct.create_event_data_store(Name="week", RetentionPeriod=7, TerminationProtectionEnabled=False)[
        "EventDataStoreArn"].split("/")[-1]
    old = lab.client(region="sa-east-1").describe_trails()["ResponseMetadata"]["RequestId"]

    def has(request_id):
        _, rows, _ = run_query(ct, f"SELECT requestID FROM {eds} WHERE requestID = '{request_id}'")
        return bool(rows)
    wait_for(lambda: has(old), timeout=30, every=0.5)
    lab.advance(8 * 86400)
    new = lab.client(region="sa-east-1").describe_trails()["ResponseMetadata"]["RequestId"]
    wait_for(lambda: has(new), timeout=30, every=0.5)
    assert not has(old), "an event older than the retention period is still there"


def test_an_organization_event_data_store_takes_every_member_account(new_cairn):
    c = new_cairn(["--test-clock"])
    c.aws("organizations", "create-organization")
    member = c.aws("organizations", "create-account", "--email", "m@example.com", "--account-name", "m")[1][
        "CreateAccountStatus"]["AccountId"]
    outsider = c.create_account()["CAIRN_ACCOUNT_ID"]
    rc, _, err = c.aws("cloudtrail", "create-event-data-store", "--name", "mine", "--organization-enabled",
                       account=member, check=False)
    assert rc != 0 and "NotOrganizationMasterAccountException" in err, err
    rc, _, err = c.aws("cloudtrail", "create-event-data-store", "--name", "mine", "--organization-enabled",
                       account=outsider, check=False)
    assert rc != 0 and "OrganizationsNotInUseException" in err, err
    _, org_store, _ = c.aws("cloudtrail", "create-event-data-store", "--name", "org", "--organization-enabled")
    assert org_store["OrganizationEnabled"] is True
    _, own_store, _ = c.aws("cloudtrail", "create-event-data-store", "--name", "own")
    assert own_store["OrganizationEnabled"] is False

    ids = {who: c.client(account=acct).describe_trails()["ResponseMetadata"]["RequestId"]
           for who, acct in (("management", None), ("member", member), ("outsider", outsider))}
    ct = c.client()

    def found(store):
        eds = store["EventDataStoreArn"].split("/")[-1]
        _, rows, _ = run_query(ct, f"SELECT requestID, recipientAccountId FROM {eds} WHERE eventName = 'DescribeTrails'")
        return dict(rows)
    by_org = wait_for(lambda: (lambda f: f if ids["member"] in f and ids["management"] in f else None)(
        found(org_store)), timeout=30, every=0.5)
    assert by_org[ids["member"]] == member and ids["outsider"] not in by_org
    own = wait_for(lambda: (lambda f: f if ids["management"] in f else None)(found(own_store)), timeout=30, every=0.5)
    assert ids["member"] not in own and ids["outsider"] not in own

    # Turned off, it takes the management account's events only from then on.
    c.aws("cloudtrail", "update-event-data-store", "--event-data-store", org_store["EventDataStoreArn"],
          "--no-organization-enabled")
    _, got, _ = c.aws("cloudtrail", "get-event-data-store", "--event-data-store", org_store["EventDataStoreArn"])
    assert got["OrganizationEnabled"] is False
    later_member = c.client(account=member).describe_trails()["ResponseMetadata"]["RequestId"]
    later = c.client().describe_trails()["ResponseMetadata"]["RequestId"]
    after = wait_for(lambda: (lambda f: f if later in f else None)(found(org_store)), timeout=30, every=0.5)
    assert later_member not in after and ids["member"] in after


def test_a_cloudtrail_delegated_administrator_makes_and_queries_an_organization_store(new_cairn):
    c = new_cairn(["--test-clock"])
    management = c.env()["CAIRN_ACCOUNT_ID"]
    c.aws("organizations", "create-organization")
    admin, other = (c.aws("organizations", "create-account", "--email", f"{n}@example.com", "--account-name", n)[1][
        "CreateAccountStatus"]["AccountId"] for n in ("security", "workloads"))
    c.aws("cloudtrail", "register-organization-delegated-admin", "--member-account-id", admin)
    rc, _, err = c.aws("cloudtrail", "create-event-data-store", "--name", "org", "--organization-enabled",
                       account=other, check=False)
    assert rc != 0 and "NotOrganizationMasterAccountException" in err, err
    _, store, _ = c.aws("cloudtrail", "create-event-data-store", "--name", "org", "--organization-enabled",
                        account=admin)
    # The management account owns it; both it and the delegated administrator see it.
    assert store["EventDataStoreArn"].split(":")[4] == management and store["OrganizationEnabled"] is True
    for who in (None, admin):
        _, listed, _ = c.aws("cloudtrail", "list-event-data-stores", account=who)
        assert store["EventDataStoreArn"] in [s["EventDataStoreArn"] for s in listed["EventDataStores"]]
    _, listed, _ = c.aws("cloudtrail", "list-event-data-stores", account=other)
    assert listed["EventDataStores"] == []
    rc, _, err = c.aws("cloudtrail", "get-event-data-store", "--event-data-store", store["EventDataStoreArn"],
                       account=other, check=False)
    assert rc != 0 and "EventDataStoreNotFoundException" in err, err

    marker = c.client(account=other).describe_trails()["ResponseMetadata"]["RequestId"]
    ct = c.client(account=admin)
    eds = store["EventDataStoreArn"].split("/")[-1]

    def seen():
        qid = ct.start_query(QueryStatement=f"SELECT requestID, recipientAccountId FROM {eds}",
                             EventDataStoreOwnerAccountId=management)["QueryId"]
        d = wait_for(lambda: (lambda d: d if d["QueryStatus"] not in ("QUEUED", "RUNNING") else None)(
            ct.describe_query(QueryId=qid)), timeout=60, every=0.1)
        assert d["QueryStatus"] == "FINISHED", d
        rows = ct.get_query_results(QueryId=qid)["QueryResultRows"]
        found = {r[0]["requestID"]: r[1]["recipientAccountId"] for r in rows}
        return found if marker in found else None
    assert wait_for(seen, timeout=30, every=0.5)[marker] == other
