"""Validation speed: `cairn validate-logs` against `aws cloudtrail validate-logs` on the same
trail, same run. Starts `cairn serve` with 1-second delivery and short digest periods (several log files per
digest, as an hour of AWS's files), makes a
multi-region trail with log file validation, keeps three regions busy for the requested number
of digest periods, stops logging, then validates every region with both tools and prints one
JSON line (wall time, files checked, files/s, ratio).

    .venv/bin/python benches/validate_logs.py [--periods 24] [--bin target/release/cairn]
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import botocore.config

ROOT = Path(__file__).resolve().parent.parent
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--periods", type=int, default=24)
    # Several log files per digest, as in AWS (an hour of 5-minute files), compressed in time.
    ap.add_argument("--digest-interval", type=int, default=4)
    ap.add_argument("--threads", type=int, default=6)
    # A busy account's pace, not a load test: the files stay the size real trails deliver.
    ap.add_argument("--rate", type=float, default=60, help="API calls per second, all regions")
    ap.add_argument("--bin", default=str(ROOT / "target" / "release" / "cairn"))
    ap.add_argument("--aws", default=str(ROOT / ".venv" / "bin" / "aws"))
    a = ap.parse_args()
    data = Path(tempfile.mkdtemp(prefix="cairn-validate-bench-"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([a.bin, "serve", "--data-dir", str(data), "--listen", f"127.0.0.1:{port}",
                             "--delivery-interval", "1", "--digest-interval", str(a.digest_interval)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        env = dict(line.removeprefix("export ").split("=", 1) for line in
                   subprocess.run([a.bin, "env", "--data-dir", str(data)], capture_output=True, text=True,
                                  check=True).stdout.splitlines())
        cfg = botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"})

        def client(service, region="us-east-1"):
            return boto3.client(service, endpoint_url=env["AWS_ENDPOINT_URL"], region_name=region,
                                aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], config=cfg)

        account = env["CAIRN_ACCOUNT_ID"]
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        s3, ct = client("s3"), client("cloudtrail")
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
             "Resource": f"arn:aws:s3:::{bucket}"},
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
             "Resource": f"arn:aws:s3:::{bucket}/bench/AWSLogs/{account}/*",
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}]}))
        arn = ct.create_trail(Name="bench", S3BucketName=bucket, S3KeyPrefix="bench", IsMultiRegionTrail=True,
                              EnableLogFileValidation=True)["TrailARN"]
        start = datetime.now(timezone.utc) - timedelta(minutes=1)
        ct.start_logging(Name="bench")

        stop = time.time() + a.periods * a.digest_interval + 1
        calls = [0]

        pause = a.threads / a.rate

        def busy(region):
            c = client("cloudtrail", region)
            while time.time() < stop:
                t0 = time.time()
                c.describe_trails()
                calls[0] += 1
                time.sleep(max(0.0, pause - (time.time() - t0)))
        threads = [threading.Thread(target=busy, args=(REGIONS[i % len(REGIONS)],)) for i in range(a.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ct.stop_logging(Name="bench")
        # Let the final digests out, then hold still.
        def count():
            n = 0
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                n += len(page.get("Contents", []))
            return n
        before = -1
        while (now := count()) != before:
            before = now
            time.sleep(2.5)

        end = iso(datetime.now(timezone.utc))
        run_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        run_env.update(env)
        run_env.update({"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
        results = {}
        for tool in ["aws", "cairn"]:
            wall, files, ok = 0.0, 0, True
            for region in REGIONS:
                if tool == "aws":
                    cmd = [a.aws, "cloudtrail", "validate-logs"]
                else:
                    cmd = [a.bin, "validate-logs", "--data-dir", str(data)]
                cmd += ["--trail-arn", arn, "--start-time", iso(start), "--end-time", end, "--region", region, "--verbose"]
                t0 = time.perf_counter()
                p = subprocess.run(cmd, env=run_env, capture_output=True, text=True)
                wall += time.perf_counter() - t0
                ok = ok and p.returncode == 0
                files += sum(1 for line in p.stdout.splitlines() if line.startswith(("Digest file", "Log file")))
            results[tool] = {"wall_s": round(wall, 3), "files": files, "files_per_s": round(files / wall, 1), "all_valid": ok}
        if os.environ.get("BENCH_HOLD"):
            print(json.dumps({"data": str(data), "arn": arn, "start": iso(start), "end": end, "env": env}), flush=True)
            time.sleep(float(os.environ["BENCH_HOLD"]))
        print(json.dumps({"bench": "validate-logs", "periods": a.periods, "digest_interval_s": a.digest_interval, "regions": len(REGIONS), "calls": calls[0], "rate": a.rate,
                          "aws_cli": results["aws"], "cairn": results["cairn"],
                          "ratio": round(results["aws"]["wall_s"] / results["cairn"]["wall_s"], 1)}))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
