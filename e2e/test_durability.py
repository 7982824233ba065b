"""kill -9 under load, twenty times over: every call that got a 2xx is in event history after
restart, and nothing is recorded twice."""

import json
import threading
import time

import botocore.exceptions

from conftest import lookup_all

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


def test_kill_9_loses_nothing_acknowledged(new_cairn):
    region = "eu-south-2"
    c = new_cairn()
    acked = []
    for i in range(KILLS):
        if c.proc is None:
            c.start()
        stop = threading.Event()
        workers = [threading.Thread(target=hammer, args=(c, stop, acked, region)) for _ in range(4)]
        for w in workers:
            w.start()
        time.sleep(0.3 + (i % 5) * 0.1)
        c.kill9()
        stop.set()
        for w in workers:
            w.join()
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
