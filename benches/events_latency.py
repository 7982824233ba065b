"""Latency from an API call's answer to its event in an EventBridge target, against a real
`cairn serve` on the wall clock:

1. PutEvents: from the answer to the event in an SQS queue a rule targets;
2. a CloudTrail event: from an IAM CreateUser call's answer to its "AWS API Call via
   CloudTrail" event in the queue (the record routed from the journal to the default bus).

The queue is long-polled, so a sample includes one ReceiveMessage. Prints one JSON line per
measurement.

    .venv/bin/python benches/events_latency.py [--calls 200] [--bin target/release/cairn]
"""

import argparse
import json
import math
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import boto3
import botocore.config

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, math.ceil(p / 100 * len(xs)) - 1))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--bin", default=str(ROOT / "target" / "release" / "cairn"))
    a = ap.parse_args()
    data = Path(tempfile.mkdtemp(prefix="cairn-events-latency-"))
    port = free_port()
    proc = subprocess.Popen([a.bin, "serve", "--data-dir", str(data), "--listen", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        env = dict(line.removeprefix("export ").split("=", 1) for line in subprocess.run(
            [a.bin, "env", "--data-dir", str(data)], capture_output=True, text=True, check=True).stdout.splitlines())
        kw = dict(endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                  aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                  config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}))
        c = {n: boto3.client(n, **kw) for n in ("events", "sqs", "iam")}
        url = c["sqs"].create_queue(QueueName="events-latency")["QueueUrl"]
        arn = c["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        c["sqs"].set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage",
             "Resource": arn}]})})
        c["events"].put_rule(Name="put", EventPattern=json.dumps({"source": ["latency.probe"]}))
        c["events"].put_targets(Rule="put", Targets=[{"Id": "q", "Arn": arn}])
        c["events"].put_rule(Name="trail", EventPattern=json.dumps(
            {"source": ["aws.iam"], "detail-type": ["AWS API Call via CloudTrail"], "detail": {"eventName": ["CreateUser"]}}))
        c["events"].put_targets(Rule="trail", Targets=[{"Id": "q", "Arn": arn}])

        def arrival():
            t0 = time.time()
            while True:
                r = c["sqs"].receive_message(QueueUrl=url, WaitTimeSeconds=1)
                if r.get("Messages"):
                    c["sqs"].delete_message(QueueUrl=url, ReceiptHandle=r["Messages"][0]["ReceiptHandle"])
                    return
                if time.time() - t0 > 30:
                    raise SystemExit("no event within 30 s")

        for measure, call in [
            ("put_events_to_sqs", lambda i: c["events"].put_events(
                Entries=[{"Source": "latency.probe", "DetailType": "probe", "Detail": "{}"}])),
            ("api_call_to_sqs", lambda i: c["iam"].create_user(UserName=f"probe-{i}")),
        ]:
            lat = []
            for i in range(a.calls):
                call(i)
                t0 = time.time()
                arrival()
                lat.append((time.time() - t0) * 1000)
            print(json.dumps({"bench": "events-latency", "measure": measure, "samples": len(lat),
                              "p50_ms": round(percentile(lat, 50), 1), "p99_ms": round(percentile(lat, 99), 1),
                              "max_ms": round(max(lat), 1)}), flush=True)
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
