"""Event-to-object latency of trail delivery: starts `cairn serve --delivery-interval 1`, makes
signed calls at a steady pace, and measures, for each call, the time until a log file holding
its record is listed in the trail's bucket. Prints one JSON line.

    .venv/bin/python benches/delivery_latency.py [--calls 200] [--interval 1]
"""

import argparse
import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import boto3
import botocore.config

ROOT = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--interval", type=int, default=1)
    ap.add_argument("--bin", default=str(ROOT / "target" / "release" / "cairn"))
    a = ap.parse_args()
    data = Path(tempfile.mkdtemp(prefix="cairn-latency-"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([a.bin, "serve", "--data-dir", str(data), "--listen", f"127.0.0.1:{port}",
                             "--delivery-interval", str(a.interval)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        env = dict(line.removeprefix("export ").split("=", 1) for line in
                   subprocess.run([a.bin, "env", "--data-dir", str(data)], capture_output=True, text=True, check=True).stdout.splitlines())
        kw = dict(endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1", aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                  aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}))
        s3, ct = boto3.client("s3", **kw), boto3.client("cloudtrail", **kw)
        acct, bucket = env["CAIRN_ACCOUNT_ID"], "latency-logs"
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}"},
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{acct}/*"}]}))
        ct.create_trail(Name="latency", S3BucketName=bucket)
        ct.start_logging(Name="latency")
        sent, seen = {}, {}
        done = threading.Event()

        def watch():
            known = set()
            while not done.is_set():
                for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                    for o in p.get("Contents", []):
                        if o["Key"] in known:
                            continue
                        known.add(o["Key"])
                        t = time.time()
                        for r in json.loads(gzip.decompress(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()))["Records"]:
                            seen.setdefault(r["requestID"], t)
                time.sleep(0.02)

        w = threading.Thread(target=watch)
        w.start()
        for _ in range(a.calls):
            t = time.time()
            sent[ct.describe_trails()["ResponseMetadata"]["RequestId"]] = t
            time.sleep(0.02)
        deadline = time.time() + a.interval * 5 + 10
        while not set(sent) <= set(seen) and time.time() < deadline:
            time.sleep(0.1)
        done.set()
        w.join()
        lat = sorted(seen[r] - sent[r] for r in sent if r in seen)
        pct = lambda p: lat[min(len(lat) - 1, round(p / 100 * (len(lat) - 1)))]
        print(json.dumps({"bench": "delivery_latency", "interval_s": a.interval, "calls": a.calls, "delivered": len(lat),
                          "p50_s": round(pct(50), 3), "p99_s": round(pct(99), 3), "max_s": round(lat[-1], 3)}))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
