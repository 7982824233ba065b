#!/usr/bin/env python3
"""How long trail delivery stops when the node running it is killed: two cairn nodes on one
PostgreSQL database (the script's own, default durability) and moto_server (e2e/cluster.py),
a trail delivering every second (`--delivery-interval 1`), signed calls made steadily to both
nodes; then, several times, `kill -9` of the node holding the delivery lease, timed to the next
log file the surviving node delivers.

For each kill it measures, from the kill:
  - lease expiry: when the dead node's last lease ran out (its `expires_ms`, which it can no
    longer renew; at most the lease's TTL, 5 s, after its last renewal);
  - lease moved: when the database first shows the survivor holding the lease;
  - delivered: when a log file not there just after the kill is first listed in the trail's
    bucket (listed through the survivor every 50 ms; the dead node can add nothing after the
    kill, so a new file is the survivor's), and that time less the lease expiry.
The killed node is started again (a new holder name) and the next kill takes whichever node
holds the lease then. Prints one JSON line per kill and a summary.

    .venv/bin/python benches/cluster_failover.py [--cairn target/release/cairn] [--kills 5]

Needs scripts/venv and scripts/postgres."""

import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "e2e"))


def parse_args():
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cairn", default=os.environ.get("CAIRN_BIN") or str(target / "release" / "cairn"))
    p.add_argument("--kills", type=int, default=int(os.environ.get("KILLS", 5)))
    p.add_argument("--delivery-interval", default="1")
    p.add_argument("--settle", type=float, default=8.0,
                   help="seconds between a node's restart and the next kill")
    return p.parse_args()


ARGS = parse_args()
os.environ["CAIRN_BIN"] = str(Path(ARGS.cairn).resolve())

import boto3  # noqa: E402
import botocore.config  # noqa: E402

from cluster import Cluster  # noqa: E402
from conftest import documented_policy, wait_for  # noqa: E402

CONSUMER = "trail-delivery"
CONFIG = botocore.config.Config(retries={"mode": "standard", "max_attempts": 1},
                                connect_timeout=1, read_timeout=10)


def client(node, env, service):
    return boto3.client(service, endpoint_url=node.endpoint, region_name="us-east-1",
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], config=CONFIG)


def lease(c):
    """(holder, expires_ms) of the delivery lease, as the database has it."""
    rows = c.postgres.query(f"SELECT holder, expires_ms FROM cairn_leases.consumer_leases WHERE name = '{CONSUMER}'")
    return (rows[0][0], int(rows[0][1])) if rows else (None, 0)


def log_files(s3, bucket):
    keys = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys |= {o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(".json.gz")
                 and "/CloudTrail-Digest/" not in o["Key"]}
    return keys


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    base = Path(tempfile.mkdtemp(prefix="cairn-failover-"))
    c = Cluster(base / "cluster")
    stop = threading.Event()
    results = []
    try:
        c.start()
        fast = ["--delivery-interval", ARGS.delivery_interval]
        a, b = c.node(fast), c.node(fast)
        env = a.env()
        account = env["CAIRN_ACCOUNT_ID"]
        bucket = f"failover-{uuid.uuid4().hex[:8]}"
        s3a = client(a, env, "s3")
        s3a.create_bucket(Bucket=bucket)
        s3a.put_bucket_policy(Bucket=bucket, Policy=documented_policy(bucket, account))
        ct = client(a, env, "cloudtrail")
        ct.create_trail(Name="failover", S3BucketName=bucket)
        ct.start_logging(Name="failover")

        made = {"ok": 0, "failed": 0}

        def load(i):
            # A steady trickle of signed calls to node i (whichever process runs it now).
            n = 0
            while not stop.is_set():
                node = c.nodes[i]
                try:
                    client(node, env, "cloudtrail").describe_trails(trailNameList=[f"f{i}-{n}"])
                    made["ok"] += 1
                except Exception:
                    made["failed"] += 1
                    time.sleep(0.05)
                n += 1
                time.sleep(0.02)

        workers = [threading.Thread(target=load, args=(i,), daemon=True) for i in (0, 1)]
        for w in workers:
            w.start()

        wait_for(lambda: c.lease_holder(CONSUMER), timeout=30, every=0.2)
        wait_for(lambda: log_files(s3a, bucket), timeout=60, every=0.5)
        time.sleep(2)
        for k in range(1, ARGS.kills + 1):
            victim = wait_for(lambda: c.lease_holder(CONSUMER), timeout=30, every=0.1)
            survivor = b if victim is a else a
            s3 = client(survivor, env, "s3")
            victim_name = c.node_name(victim)
            t_kill = time.time()
            victim.kill9()
            holder, expires_ms = lease(c)
            if holder != victim_name:
                raise RuntimeError(f"the lease moved before the kill ({holder} != {victim_name})")
            t_expiry = expires_ms / 1000
            before = log_files(s3, bucket)
            # Nothing the survivor delivered can be in that listing: it ended before the lease
            # could move.
            listed_before_expiry = time.time() < t_expiry
            survivor_name = c.node_name(survivor)
            t_moved = None
            t_delivered = None
            deadline = t_kill + 60
            while time.time() < deadline and t_delivered is None:
                if t_moved is None and lease(c)[0] == survivor_name:
                    t_moved = time.time()
                new = log_files(s3, bucket) - before
                if new:
                    t_delivered = time.time()
                    break
                time.sleep(0.05)
            if t_delivered is None:
                raise RuntimeError("no log file delivered within 60 s of the kill")
            if t_moved is None and lease(c)[0] == survivor_name:
                t_moved = t_delivered
            r = {"kill": k, "killed": victim_name, "survivor": survivor_name,
                 "lease_expiry_after_kill_s": round(t_expiry - t_kill, 2),
                 "lease_moved_after_kill_s": round(t_moved - t_kill, 2) if t_moved else None,
                 "delivered_after_kill_s": round(t_delivered - t_kill, 2),
                 "delivered_after_expiry_s": round(t_delivered - t_expiry, 2),
                 "baseline_listed_before_expiry": listed_before_expiry,
                 "new_files": sorted(k.rsplit("/", 1)[-1] for k in new)}
            print(json.dumps(r), flush=True)
            results.append(r)
            victim.start()
            time.sleep(ARGS.settle)
        stop.set()
        for w in workers:
            w.join(15)
        print(json.dumps({"calls_ok": made["ok"], "calls_failed": made["failed"]}), flush=True)
    finally:
        stop.set()
        c.stop()
        shutil.rmtree(base, ignore_errors=True)

    if results:
        def summary(key):
            v = [r[key] for r in results if r[key] is not None]
            return f"median {statistics.median(v):.2f} s, min {min(v):.2f}, max {max(v):.2f}"
        print()
        print("| kill | lease expiry after kill | lease moved after kill | log file delivered after kill | after expiry |")
        print("|---|---|---|---|---|")
        for r in results:
            print(f"| {r['kill']} | {r['lease_expiry_after_kill_s']:.2f} s | {r['lease_moved_after_kill_s']} s | "
                  f"**{r['delivered_after_kill_s']:.2f} s** | {r['delivered_after_expiry_s']:.2f} s |")
        for key in ("lease_expiry_after_kill_s", "lease_moved_after_kill_s", "delivered_after_kill_s",
                    "delivered_after_expiry_s"):
            print(f"{key}: {summary(key)}")


if __name__ == "__main__":
    main()
