"""Several cairn nodes on one PostgreSQL database and one S3-compatible object store
(moto_server), driven by boto3 and the AWS CLI: any node serves any call, a user made on one
node signs calls on another, an object written through one is read through another (its body
sealed in the object store), every call is in event history once and found at once from every
node, trail delivery runs on one node at a time and moves to another when its node is killed,
each event delivered exactly once, and the digests validate with `aws cloudtrail validate-logs`.

Nodes run on the wall clock (a test clock is one node's, not the cluster's), with one-second
deliveries: tests poll for what the consumers do."""

import gzip
import json
import re
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import boto3
import botocore.config
import botocore.exceptions
import pytest

from cluster import Cluster
from conftest import documented_policy, lookup_all, wait_for

FAST = ["--delivery-interval", "1", "--digest-interval", "2"]


@pytest.fixture(scope="module")
def cluster(workdir):
    c = Cluster(workdir / "cluster").start()
    try:
        c.node(FAST)
        c.node(FAST)
        yield c
    finally:
        c.stop()


def client_as(node, service, key_id, secret):
    return boto3.client(service, endpoint_url=node.endpoint, region_name="us-east-1",
                        aws_access_key_id=key_id, aws_secret_access_key=secret,
                        config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 1}))


def test_a_user_made_on_one_node_signs_calls_on_another_and_loses_its_key_everywhere(cluster):
    a, b = cluster.nodes[:2]
    iam = a.client("iam")
    iam.create_user(UserName="alice")
    iam.put_user_policy(UserName="alice", PolicyName="s3", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:*", "cloudtrail:LookupEvents"], "Resource": "*"}]}))
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    s3_b = client_as(b, "s3", key["AccessKeyId"], key["SecretAccessKey"])
    s3_b.create_bucket(Bucket="shared-bucket")
    secret_text = b"written through node b " + uuid.uuid4().hex.encode()
    s3_b.put_object(Bucket="shared-bucket", Key="note.txt", Body=secret_text)

    # Read back through the other node, as root.
    got = a.client("s3").get_object(Bucket="shared-bucket", Key="note.txt")["Body"].read()
    assert got == secret_text
    # The object store holds the body sealed: never the plaintext.
    store = cluster.store.s3
    bodies = [store.get_object(Bucket=cluster.store.BUCKET, Key=k)["Body"].read() for k in cluster.store.keys()
              if "/lake/" not in k]
    assert bodies and all(secret_text not in body for body in bodies)
    assert any(body.startswith(b"CAIRNSSE") for body in bodies)

    # The call made on b is in history on a, with alice's identity, at once.
    events = lookup_all(a.client(), LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateBucket"}])
    mine = [json.loads(e["CloudTrailEvent"]) for e in events]
    assert [r["userIdentity"]["arn"] for r in mine if r["requestParameters"]["bucketName"] == "shared-bucket"] == \
        [f"arn:aws:iam::{a.env()['CAIRN_ACCOUNT_ID']}:user/alice"]

    # A key deleted on one node is refused by the other on the next call.
    iam.delete_access_key(UserName="alice", AccessKeyId=key["AccessKeyId"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3_b.list_objects_v2(Bucket="shared-bucket")
    assert e.value.response["Error"]["Code"] == "InvalidAccessKeyId"


def test_each_call_is_in_history_once_and_found_from_every_node_at_once(cluster):
    a, b = cluster.nodes[:2]
    marker = uuid.uuid4().hex[:8]
    names = [f"h{marker}{i}" for i in range(10)]
    for i, name in enumerate(names):
        node = a if i % 2 == 0 else b
        node.client().describe_trails(trailNameList=[name])
        # Found at once on the other node, with no wait for anyone's indexing.
        other = b if node is a else a
        found = [json.loads(e["CloudTrailEvent"]) for e in
                 other.client().lookup_events(LookupAttributes=[{"AttributeKey": "EventName",
                                                                 "AttributeValue": "DescribeTrails"}],
                                             MaxResults=50)["Events"]]
        assert any(r["requestParameters"].get("trailNameList") == [name] for r in found), name
    for node in (a, b):
        events = [json.loads(e["CloudTrailEvent"]) for e in lookup_all(
            node.client(), LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DescribeTrails"}])]
        seen = [r["requestParameters"]["trailNameList"][0] for r in events
                if (r.get("requestParameters") or {}).get("trailNameList", [""])[0].startswith(f"h{marker}")]
        assert sorted(seen) == sorted(names)
        assert len({r["eventID"] for r in events}) == len(events)


def delivered(s3, bucket):
    """Every record in the trail's delivered log files, and the digest file keys."""
    records, digests = [], []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            if "/CloudTrail-Digest/" in o["Key"]:
                digests.append(o["Key"])
            elif o["Key"].endswith(".json.gz"):
                body = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
                records += json.loads(gzip.decompress(body))["Records"]
    return records, digests


def markers_in(records, marker):
    return [r["requestParameters"]["trailNameList"][0] for r in records
            if r.get("eventName") == "DescribeTrails"
            and (r.get("requestParameters") or {}).get("trailNameList", [""])[0].startswith(marker)]


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_delivery_runs_on_one_node_moves_when_it_is_killed_and_stays_exactly_once(cluster):
    a, b = cluster.nodes[:2]
    account = a.env()["CAIRN_ACCOUNT_ID"]
    bucket = f"cluster-trail-{uuid.uuid4().hex[:8]}"
    a.aws("s3", "mb", f"s3://{bucket}")
    a.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", documented_policy(bucket, account))
    _, trail, _ = b.aws("cloudtrail", "create-trail", "--name", "clustered", "--s3-bucket-name", bucket,
                        "--enable-log-file-validation")
    start = datetime.now(timezone.utc) - timedelta(minutes=1)
    a.aws("cloudtrail", "start-logging", "--name", "clustered")

    marker = f"d{uuid.uuid4().hex[:6]}"
    names = []

    def calls(nodes, n):
        for i in range(n):
            name = f"{marker}-{len(names)}"
            names.append(name)
            nodes[i % len(nodes)].client().describe_trails(trailNameList=[name])

    calls([a, b], 20)
    s3 = a.client("s3")
    wait_for(lambda: len(markers_in(delivered(s3, bucket)[0], marker)) >= len(names), timeout=60, every=0.5)

    # Whichever node runs delivery dies mid-stream; the other takes over within seconds.
    dead = cluster.lease_holder("trail-delivery")
    assert dead is not None, "one node holds trail delivery's lease"
    alive = b if dead is a else a
    dead.kill9()
    calls([alive], 20)
    s3 = alive.client("s3")
    wait_for(lambda: len(markers_in(delivered(s3, bucket)[0], marker)) >= len(names), timeout=60, every=0.5)
    assert cluster.lease_holder("trail-delivery") is alive

    # The dead node comes back; the work stays where it is, and nothing is delivered twice.
    dead.start()
    calls([a, b], 10)
    wait_for(lambda: len(markers_in(delivered(s3, bucket)[0], marker)) >= len(names), timeout=60, every=0.5)
    records, _ = delivered(s3, bucket)
    got = markers_in(records, marker)
    assert sorted(got) == sorted(names), "every call delivered exactly once"
    assert len({r["eventID"] for r in records}) == len(records)

    # Digests chain across the move: validate-logs accepts every file.
    def validated():
        end = datetime.now(timezone.utc)
        code, out, err = alive.aws("cloudtrail", "validate-logs", "--trail-arn", trail["TrailARN"],
                                   "--start-time", iso(start), "--end-time", iso(end), "--verbose",
                                   check=False)
        text = out if isinstance(out, str) else json.dumps(out)
        m = re.search(r"(\d+)/(\d+) log files valid", text)
        d = re.search(r"(\d+)/(\d+) digest files valid", text)
        if code == 0 and m and d and m.group(1) == m.group(2) and int(m.group(2)) > 0 \
                and d.group(1) == d.group(2) and "invalid" not in text.lower().replace("0 invalid", ""):
            return text
        return None

    text = wait_for(validated, timeout=60, every=2)
    assert "INVALID" not in text


def test_twenty_kills_under_load_lose_nothing_and_deliver_everything_once(workdir):
    """kill -9 one node or the other under a steady load, twenty times: every acknowledged call
    is in event history exactly once and in the delivered log files exactly once, a call cut
    off mid-flight at most once, the leases move between the nodes, and the digests validate."""
    import threading

    c = Cluster(workdir / "kill-loop").start()
    try:
        a = c.node(FAST)
        b = c.node(FAST)
        account = a.env()["CAIRN_ACCOUNT_ID"]
        bucket = f"kill-loop-{uuid.uuid4().hex[:8]}"
        a.aws("s3", "mb", f"s3://{bucket}")
        a.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", documented_policy(bucket, account))
        _, trail, _ = a.aws("cloudtrail", "create-trail", "--name", "enduring", "--s3-bucket-name", bucket,
                            "--enable-log-file-validation")
        start = datetime.now(timezone.utc) - timedelta(minutes=1)
        a.aws("cloudtrail", "start-logging", "--name", "enduring")
        env = a.env()
        marker = f"k{uuid.uuid4().hex[:6]}"
        acknowledged, attempted = [], []
        stop = threading.Event()

        def load(node_index):
            cfg = botocore.config.Config(retries={"mode": "standard", "max_attempts": 1},
                                         connect_timeout=1, read_timeout=10)
            i = 0
            while not stop.is_set():
                node = c.nodes[node_index]
                name = f"{marker}-{node_index}-{i}"
                i += 1
                attempted.append(name)
                try:
                    boto3.client("cloudtrail", endpoint_url=node.endpoint, region_name="us-east-1",
                                 aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                 aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                 config=cfg).describe_trails(trailNameList=[name])
                    acknowledged.append(name)
                except Exception:
                    time.sleep(0.05)

        workers = [threading.Thread(target=load, args=(i,), daemon=True) for i in (0, 1)]
        for w in workers:
            w.start()
        holders, epochs = set(), set()
        for kill in range(20):
            time.sleep(0.3)
            holder = c.lease_holder("trail-delivery")
            if holder is not None:
                holders.add(c.node_name(holder))
            victim = holder if holder is not None and kill % 2 == 0 else c.nodes[kill % 2]
            was = c.node_name(victim)
            epoch = c.lease_epoch("trail-delivery")
            victim.kill9()
            if victim is holder and kill % 4 == 0:
                # Left dead: the other node takes the lease once the dead holder's expires.
                moved = wait_for(lambda: (lambda h: h is not None and c.node_name(h) != was and h)(
                    c.lease_holder("trail-delivery")), timeout=30, every=0.2)
                holders.add(c.node_name(moved))
                victim.start()
            else:
                time.sleep(0.2)
                victim.start()
                if victim is holder:
                    # Restarted at once under its own name (its directory's node.id), it takes
                    # its lease back without waiting for it to expire, as a new incarnation.
                    wait_for(lambda: c.lease_epoch("trail-delivery") > epoch
                             and c.lease_holder("trail-delivery") is not None, timeout=30, every=0.2)
            epochs.add(c.lease_epoch("trail-delivery"))
        time.sleep(1)
        stop.set()
        for w in workers:
            w.join(30)
        assert len(acknowledged) > 100, len(acknowledged)

        # Every acknowledged call in history exactly once; a cut-off one at most once.
        events = [json.loads(e["CloudTrailEvent"]) for e in lookup_all(
            b.client(), LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DescribeTrails"}])]
        in_history = [r["requestParameters"]["trailNameList"][0] for r in events
                      if (r.get("requestParameters") or {}).get("trailNameList", [""])[0].startswith(marker)]
        counts = {n: in_history.count(n) for n in set(in_history)}
        assert all(counts.get(n) == 1 for n in acknowledged), "acknowledged calls each in history once"
        assert all(v == 1 for v in counts.values()), "nothing twice"
        assert set(counts) <= set(attempted)

        # Delivered exactly once, whoever delivered it.
        s3 = a.client("s3")
        wait_for(lambda: set(acknowledged) <= set(markers_in(delivered(s3, bucket)[0], marker)),
                 timeout=90, every=1)
        delivered_names = markers_in(delivered(s3, bucket)[0], marker)
        assert sorted(delivered_names) == sorted(set(delivered_names)), "no event delivered twice"
        assert set(delivered_names) == set(counts), "delivered what history holds"
        # The lease moved with the kills: to the other node while its holder stayed dead, to
        # each new incarnation of a restarted holder (a new epoch each time).
        assert holders == {c.node_name(n) for n in c.nodes}, holders
        assert len(epochs) >= 5, epochs

        def validated():
            code, out, err = a.aws("cloudtrail", "validate-logs", "--trail-arn", trail["TrailARN"],
                                   "--start-time", iso(start), "--end-time", iso(datetime.now(timezone.utc)),
                                   check=False)
            text = out if isinstance(out, str) else json.dumps(out)
            m = re.search(r"(\d+)/(\d+) log files valid", text)
            d = re.search(r"(\d+)/(\d+) digest files valid", text)
            ok = code == 0 and m and d and m.group(1) == m.group(2) and d.group(1) == d.group(2)
            return text if ok else None

        wait_for(validated, timeout=60, every=2)
    finally:
        c.stop()


def test_an_object_store_outage_refuses_object_calls_and_delays_delivery_without_loss(cluster):
    """The object store unreachable for a while: object calls fail with S3's InternalError and
    leave nothing behind, other calls go on, and trail delivery waits and then delivers every
    event once."""
    a, b = cluster.nodes[:2]
    for n in cluster.nodes:
        if n.proc is None:
            n.start()
    account = a.env()["CAIRN_ACCOUNT_ID"]
    bucket = f"outage-{uuid.uuid4().hex[:8]}"
    a.aws("s3", "mb", f"s3://{bucket}")
    a.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", documented_policy(bucket, account))
    a.aws("cloudtrail", "create-trail", "--name", "patient", "--s3-bucket-name", bucket)
    a.aws("cloudtrail", "start-logging", "--name", "patient")
    s3 = b.client("s3")
    s3.put_object(Bucket=bucket, Key="before.txt", Body=b"before")
    marker = f"o{uuid.uuid4().hex[:6]}"
    names = [f"{marker}-{i}" for i in range(6)]

    cluster.store_link.down()
    try:
        for node in (a, b):
            with pytest.raises(botocore.exceptions.ClientError) as e:
                node.client("s3").put_object(Bucket=bucket, Key="during.txt", Body=b"during")
            assert e.value.response["Error"]["Code"] == "InternalError"
            assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
            with pytest.raises(botocore.exceptions.ClientError) as e:
                node.client("s3").get_object(Bucket=bucket, Key="before.txt")
            assert e.value.response["Error"]["Code"] == "InternalError"
        # Everything that keeps no object body goes on.
        for i, name in enumerate(names):
            (a if i % 2 else b).client().describe_trails(trailNameList=[name])
        a.client("iam").list_users()
        time.sleep(3)  # deliveries come due and fail meanwhile
    finally:
        cluster.store_link.up()

    assert s3.get_object(Bucket=bucket, Key="before.txt")["Body"].read() == b"before"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket=bucket, Key="during.txt")
    assert e.value.response["Error"]["Code"] == "404"
    wait_for(lambda: set(names) <= set(markers_in(delivered(s3, bucket)[0], marker)), timeout=90, every=1)
    got = markers_in(delivered(s3, bucket)[0], marker)
    assert sorted(got) == sorted(names), "each event delivered once"


def test_the_test_clock_is_the_clusters_and_its_rounds_run_where_it_is_advanced(workdir):
    """`--test-clock` on cluster nodes: advancing it on one node moves time for every node, and
    the work that became due is done before the advance answers, whichever node held it."""
    c = Cluster(workdir / "clocked").start()
    try:
        a = c.node(FAST + ["--test-clock"])
        b = c.node(FAST + ["--test-clock"])
        account = a.env()["CAIRN_ACCOUNT_ID"]
        bucket = f"clocked-{uuid.uuid4().hex[:8]}"
        a.aws("s3", "mb", f"s3://{bucket}")
        a.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", documented_policy(bucket, account))
        a.aws("cloudtrail", "create-trail", "--name", "clocked", "--s3-bucket-name", bucket,
              "--enable-log-file-validation")
        a.aws("cloudtrail", "start-logging", "--name", "clocked")
        marker = f"c{uuid.uuid4().hex[:6]}"
        names = [f"{marker}-{i}" for i in range(6)]
        for i, name in enumerate(names):
            (a if i % 2 else b).client().describe_trails(trailNameList=[name])
        # Advanced through b, whichever node holds delivery: the files are there when it answers.
        b.advance(7200)
        b.advance(4)  # the digest period that began with the jump ends
        s3 = a.client("s3")
        records, digests = delivered(s3, bucket)
        assert sorted(markers_in(records, marker)) == sorted(names)
        assert digests, "a digest period passed"
        # Both nodes now stamp calls two hours ahead.
        for node in (a, b):
            node.client().describe_trails(trailNameList=[f"{marker}-late"])
        late = [json.loads(e["CloudTrailEvent"]) for e in a.client().lookup_events(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DescribeTrails"}],
            MaxResults=2)["Events"]]
        ahead = datetime.now(timezone.utc) + timedelta(hours=2)
        for r in late:
            t = datetime.strptime(r["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            assert abs((t - ahead).total_seconds()) < 120, r["eventTime"]
    finally:
        c.stop()


def test_a_postgresql_restart_refuses_calls_meanwhile_and_loses_none_acknowledged(workdir):
    """PostgreSQL restarts under load: calls made while it is down are refused (never
    acknowledged without their record), the nodes reconnect on their own, and every
    acknowledged call is in history and delivered exactly once."""
    c = Cluster(workdir / "pg-restart").start()
    try:
        a = c.node(FAST)
        b = c.node(FAST)
        account = a.env()["CAIRN_ACCOUNT_ID"]
        bucket = f"pg-restart-{uuid.uuid4().hex[:8]}"
        a.aws("s3", "mb", f"s3://{bucket}")
        a.aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", documented_policy(bucket, account))
        a.aws("cloudtrail", "create-trail", "--name", "steady", "--s3-bucket-name", bucket)
        a.aws("cloudtrail", "start-logging", "--name", "steady")
        marker = f"p{uuid.uuid4().hex[:6]}"
        acknowledged, refused = [], []
        cfg = botocore.config.Config(retries={"mode": "standard", "max_attempts": 1}, read_timeout=40)
        env = a.env()

        def call(node, name):
            try:
                boto3.client("cloudtrail", endpoint_url=node.endpoint, region_name="us-east-1",
                             aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                             aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                             config=cfg).describe_trails(trailNameList=[name])
                acknowledged.append(name)
            except botocore.exceptions.ClientError as e:
                refused.append((name, e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]))

        for i in range(10):
            call((a, b)[i % 2], f"{marker}-before-{i}")
        c.postgres.stop()
        for i in range(4):
            call((a, b)[i % 2], f"{marker}-down-{i}")
        assert len(refused) == 4 and all(r[1] >= 500 for r in refused), refused
        c.postgres.start()
        # Back on their own: the first calls after the restart may still meet a dead connection.
        probes = iter(range(1000))

        def probe(node):
            name = f"{marker}-probe-{next(probes)}"
            call(node, name)
            return name in acknowledged

        wait_for(lambda: probe(a), timeout=30, every=0.5)
        wait_for(lambda: probe(b), timeout=30, every=0.5)
        for i in range(10):
            call((a, b)[i % 2], f"{marker}-after-{i}")
        assert all(f"{marker}-after-{i}" in acknowledged for i in range(10))

        events = [json.loads(e["CloudTrailEvent"]) for e in lookup_all(
            b.client(), LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DescribeTrails"}])]
        seen = [r["requestParameters"]["trailNameList"][0] for r in events
                if (r.get("requestParameters") or {}).get("trailNameList", [""])[0].startswith(marker)]
        assert sorted(seen) == sorted(set(seen)), "nothing twice"
        assert set(acknowledged) <= set(seen), ("every acknowledged call is in history", sorted(set(acknowledged) - set(seen)))
        assert not any(r[0] in seen for r in refused), ("no refused call is", [r for r in refused if r[0] in seen])
        s3 = a.client("s3")
        wait_for(lambda: set(acknowledged) <= set(markers_in(delivered(s3, bucket)[0], marker)), timeout=60, every=1)
        got = markers_in(delivered(s3, bucket)[0], marker)
        assert sorted(got) == sorted(set(got)) and set(got) == set(seen)
    finally:
        c.stop()


def test_a_node_refuses_to_start_beside_a_copy_of_itself_or_on_a_newer_schema(workdir):
    """Two running nodes may not share a name (a copied directory keeps the original's
    node.id), and a node refuses a database a newer cairn migrated past what it knows."""
    import shutil

    from conftest import Cairn

    c = Cluster(workdir / "refusals").start()
    try:
        a = c.node()
        copy = workdir / "refusals" / "copy-of-node0"
        shutil.copytree(a.data_dir, copy, ignore=shutil.ignore_patterns("LOCK"))
        twin = Cairn(copy, ["--config", str(c.config)])
        with pytest.raises(RuntimeError):
            twin.start()
        said = open(twin.log.name).read()
        assert "another running node is named" in said and "node.id" in said, said
        # The original still serves.
        a.client().describe_trails()

        a.stop()
        c.postgres.query("INSERT INTO cairn_identity.schema_migrations (store, version) VALUES ('identity', 999)")
        a.proc = None
        with pytest.raises(RuntimeError):
            a.start()
        said = open(a.log.name).read()
        assert "identity schema is at version 999, newer than this cairn knows" in said, said
    finally:
        c.stop()


def test_a_channels_events_sent_through_both_nodes_land_once_in_one_store(cluster):
    """PutAuditEvents answered by both nodes at once, while the lake's ingestion (on a third
    writer's schedule, the lease holder's) moves the same store's journal position: every
    event lands once, none lost to another node's append, and a query from either node counts
    them all."""
    a, b = cluster.nodes[:2]
    owner = a.client("cloudtrail")
    account = a.client("sts").get_caller_identity()["Account"]
    eds_arn = owner.create_event_data_store(
        Name=f"app-{uuid.uuid4().hex[:6]}", MultiRegionEnabled=False, TerminationProtectionEnabled=False,
        AdvancedEventSelectors=[{"FieldSelectors": [{"Field": "eventCategory",
                                                    "Equals": ["ActivityAuditLog"]}]}])["EventDataStoreArn"]
    eds = eds_arn.rsplit("/", 1)[1]
    channel = owner.create_channel(Name=f"app-{uuid.uuid4().hex[:6]}", Source="Custom",
                                   Destinations=[{"Type": "EVENT_DATA_STORE", "Location": eds_arn}])["ChannelArn"]
    marker = uuid.uuid4().hex[:8]
    calls, per_call = 15, 4

    def send(node, thread):
        data = node.client("cloudtrail-data")
        for i in range(calls):
            events = [{"id": f"{thread}-{i}-{k}", "eventData": json.dumps({
                "version": "1.0", "userIdentity": {"type": "CustomUser", "principalId": "u-1", "details": {}},
                "eventSource": "app.example.com", "eventName": marker, "UID": f"{marker}-{thread}-{i}-{k}",
                "eventTime": "2026-11-05T10:00:00Z", "recipientAccountId": account})}
                for k in range(per_call)]
            got = data.put_audit_events(channelArn=channel, auditEvents=events)
            assert not got["failed"] and len(got["successful"]) == per_call

    threads = [threading.Thread(target=send, args=(node, t)) for t, node in enumerate([a, b, a, b])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    want = 4 * calls * per_call

    def counted(node):
        ct = node.client("cloudtrail")
        qid = ct.start_query(QueryStatement=f"SELECT count(*), count(DISTINCT eventid) FROM {eds} "
                                            f"WHERE eventdata.eventname = '{marker}'")["QueryId"]
        done = wait_for(lambda: (d := ct.describe_query(QueryId=qid))["QueryStatus"] in
                        ("FINISHED", "FAILED") and d, timeout=60)
        assert done["QueryStatus"] == "FINISHED", done
        row = ct.get_query_results(QueryId=qid)["QueryResultRows"][0]
        return tuple(int(next(iter(cell.values()))) for cell in row)

    assert counted(a) == (want, want)
    assert counted(b) == (want, want)
