"""kill -9 under load, twenty times over: every call that got a 2xx is in event history after
restart, and nothing is recorded twice."""

import json
import socket
import threading
import time
from datetime import datetime, timedelta, timezone

import os

import botocore.exceptions
import pytest

from conftest import documented_policy, lookup_all

KILLS = 20


def hammer(c, stop, acked, region):
    client = c.client(region=region)
    while not stop.is_set():
        try:
            r = client.describe_trails()
            acked.append(r["ResponseMetadata"]["RequestId"])
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
            # The server died mid-call: not acknowledged, so no promise to keep.
            pass


def kill_under_load(c, region, workers, pause):
    """KILLS rounds of: start if down, load from `workers` threads for pause(i) s, kill -9.
    Returns the request ids of every call that got a 2xx."""
    acked = []
    for i in range(KILLS):
        if c.proc is None:
            c.start()
        stop = threading.Event()
        threads = [threading.Thread(target=hammer, args=(c, stop, acked, region)) for _ in range(workers)]
        for t in threads:
            t.start()
        time.sleep(pause(i))
        c.kill9()
        stop.set()
        for t in threads:
            t.join()
    return acked


def test_kill_9_loses_nothing_acknowledged(new_cairn):
    region = "eu-south-2"
    c = new_cairn()
    acked = kill_under_load(c, region, workers=4, pause=lambda i: 0.3 + (i % 5) * 0.1)
    c.start()
    events = lookup_all(c.client(region=region), LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DescribeTrails"}])
    recorded = [json.loads(e["CloudTrailEvent"]) for e in events]
    request_ids = [r["requestID"] for r in recorded]
    event_ids = [r["eventID"] for r in recorded]
    assert len(acked) > KILLS * 10, "the load generator made progress"
    assert len(event_ids) == len(set(event_ids)), "no event recorded twice"
    assert len(request_ids) == len(set(request_ids))
    missing = set(acked) - set(request_ids)
    assert not missing, f"{len(missing)} acknowledged calls missing after kill -9"


def test_kill_9_keeps_every_acknowledged_small_object_whole(new_cairn):
    """Small bodies are kept in the metadata's database, committed with the row naming them:
    every PUT answered 200 before kill -9 reads back whole, overwrites included."""
    c = new_cairn()
    s3 = c.client("s3")
    s3.create_bucket(Bucket="kept")
    acked = {}
    in_flight = {}
    lock = threading.Lock()
    stop = threading.Event()

    def put(worker):
        client = c.client("s3")
        n = 0
        while not stop.is_set():
            key = f"w{worker}/{n % 40}"
            body = os.urandom(100 + (n * 37) % 8000)
            in_flight[worker] = (key, body)
            try:
                client.put_object(Bucket="kept", Key=key, Body=body)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
                continue
            with lock:
                acked[key] = body
            n += 1

    threads = [threading.Thread(target=put, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    c.kill9()
    stop.set()
    for t in threads:
        t.join()
    c.start()
    s3 = c.client("s3")
    assert len(acked) > 20, "the load generator made progress"
    landed = {key: body for key, body in in_flight.values()}
    for key, body in acked.items():
        got = s3.get_object(Bucket="kept", Key=key)["Body"].read()
        # The PUT in flight at the kill may have landed (unacknowledged); otherwise the last
        # acknowledged body is there, byte for byte.
        assert got == body or got == landed.get(key), key


def test_a_killed_instances_functions_directory_is_swept_by_the_next_start(new_cairn):
    """Functions run in a work directory under the temporary directory, outside the data
    directory; a graceful stop removes it, and one left by kill -9 is removed when cairn next
    starts (its in-use lock died with the process)."""
    import glob
    import tempfile

    def work_roots(pid):
        return glob.glob(os.path.join(tempfile.gettempdir(), f"cairn-functions-{pid}-*"))

    c = new_cairn()
    first = c.proc.pid
    assert len(work_roots(first)) == 1
    c.kill9()
    assert len(work_roots(first)) == 1, "kill -9 leaves it behind"
    c.start()
    second = c.proc.pid
    assert work_roots(first) == [], "the next start sweeps it"
    assert len(work_roots(second)) == 1
    c.stop()
    assert work_roots(second) == [], "a graceful stop removes its own"


def test_kill_9_during_delivery_delivers_every_event_exactly_once(new_cairn):
    """Trail delivery across twenty crashes: every acknowledged call ends up in exactly one log
    file, and no record is in two."""
    import gzip
    import uuid

    c = new_cairn(["--delivery-interval", "1"])
    region = "us-east-1"
    s3 = c.client("s3")
    bucket = f"crash-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=documented_policy(bucket, c.env()["CAIRN_ACCOUNT_ID"]))
    c.client().create_trail(Name="crash-trail", S3BucketName=bucket)
    c.client().start_logging(Name="crash-trail")
    # Pauses long enough that delivery rounds run (and get cut short) between kills.
    acked = kill_under_load(c, region, workers=3, pause=lambda i: 0.6 + (i % 4) * 0.4)
    last_life = datetime.now(timezone.utc) - timedelta(seconds=1)
    c.start()
    s3 = c.client("s3")
    # Delivery ran between the kills, not only after the last start.
    listed = [o for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket) for o in p.get("Contents", [])]
    assert len([o for o in listed if o["LastModified"] < last_life]) >= KILLS // 4, "files delivered between kills"

    def delivered():
        recs = []
        for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for o in p.get("Contents", []):
                recs += json.loads(gzip.decompress(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()))["Records"]
        return recs

    deadline = time.time() + 30
    while True:
        recs = delivered()
        got = {r["requestID"] for r in recs}
        if set(acked) <= got or time.time() > deadline:
            break
        time.sleep(0.5)
    missing = set(acked) - got
    assert not missing, f"{len(missing)} acknowledged calls never delivered"
    event_ids = [r["eventID"] for r in recs]
    assert len(event_ids) == len(set(event_ids)), "a record was delivered twice"
    assert len(acked) > KILLS * 5


@pytest.mark.skipif(bool(os.environ.get("CAIRN_E2E_CLUSTER")),
                    reason="the embedded journal's disk; a cluster's journal failing is test_fail_closed's and test_cluster's")
def test_audit_fails_closed_when_the_journal_cannot_write(workdir):
    """With the disk refusing writes (a file-size limit), calls are refused with 503 rather than
    served unrecorded; after a restart every call that was answered 2xx is in event history."""
    import subprocess
    from conftest import CAIRN, Cairn, free_port

    c = Cairn(workdir / "fail-closed")
    c.start()  # create the account and a journal with room to spare
    c.stop()
    port = free_port()
    limited = subprocess.Popen(
        ["bash", "-c", f"trap '' XFSZ; ulimit -f 1024; exec {CAIRN} serve --data-dir {c.data_dir} --listen 127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        c.port = port
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        client = c.client(region="eu-west-2")
        acked, refused = [], []
        big = "x" * 2000  # bulky user agents make records of a few KB
        client.meta.events.register("before-sign.*.*", lambda request, **_: request.headers.__setitem__("User-Agent", big))
        for _ in range(3000):
            try:
                acked.append(client.describe_trails()["ResponseMetadata"]["RequestId"])
            except botocore.exceptions.ClientError as e:
                assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 503
                assert e.response["Error"]["Code"] == "ServiceUnavailable"
                refused.append(e)
                if len(refused) >= 5:
                    break
        assert refused, "the journal never filled up"
        assert len(refused) == 5, "once refused, calls stay refused"
    finally:
        limited.kill()
        limited.wait()
    c.start()
    events = lookup_all(c.client(region="eu-west-2"), LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DescribeTrails"}])
    recorded = {json.loads(e["CloudTrailEvent"])["requestID"] for e in events}
    assert set(acked) <= recorded
    c.stop()
