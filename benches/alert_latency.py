"""Latency along the alerting chain, against a real `cairn serve` on the wall clock:

1. from an API call's answer to its datapoint in GetMetricStatistics: the call is recorded,
   the trail delivers it to its CloudWatch Logs group, a metric filter publishes a datapoint;
2. from the end of an alarm's breaching period to an HTTP subscriber of the alarm's SNS topic
   holding the notification: the alarm is evaluated, its action publishes, SNS delivers.

Prints one JSON line per measurement.

    .venv/bin/python benches/alert_latency.py [--calls 100] [--cycles 10] [--bin target/release/cairn]
"""

import argparse
import json
import math
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import boto3
import botocore.config

ROOT = Path(__file__).resolve().parent.parent
ALARMS = 3  # alarms triggered together in each cycle (three samples per cycle)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, math.ceil(p / 100 * len(xs)) - 1))]


class Subscriber:
    """An HTTP endpoint that confirms its subscription and notes when each notification arrives."""

    def __init__(self):
        self.got = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                at = time.time()
                self.send_response(200)
                self.end_headers()
                if body["Type"] == "SubscriptionConfirmation":
                    urllib.request.urlopen(body["SubscribeURL"]).read()
                elif body["Type"] == "Notification":
                    outer.got.append((at, json.loads(body["Message"])))

            def log_message(self, *a):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--cycles", type=int, default=10)
    ap.add_argument("--bin", default=str(ROOT / "target" / "release" / "cairn"))
    a = ap.parse_args()
    data = Path(tempfile.mkdtemp(prefix="cairn-alert-latency-"))
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
        c = {n: boto3.client(n, **kw) for n in ("s3", "cloudtrail", "iam", "logs", "cloudwatch", "sns")}
        acct = env["CAIRN_ACCOUNT_ID"]
        bucket, group = "alert-latency", "alert-latency"
        c["s3"].create_bucket(Bucket=bucket)
        c["s3"].put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
             "Resource": f"arn:aws:s3:::{bucket}"},
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
             "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{acct}/*"}]}))
        c["logs"].create_log_group(logGroupName=group)
        c["iam"].create_role(RoleName="ct-logs", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
        c["iam"].put_role_policy(RoleName="ct-logs", PolicyName="logs", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                                                    "Resource": f"arn:aws:logs:us-east-1:{acct}:log-group:{group}:*"}]}))
        c["cloudtrail"].create_trail(Name="alerts", S3BucketName=bucket,
                                     CloudWatchLogsLogGroupArn=f"arn:aws:logs:us-east-1:{acct}:log-group:{group}:*",
                                     CloudWatchLogsRoleArn=f"arn:aws:iam::{acct}:role/ct-logs")
        c["cloudtrail"].start_logging(Name="alerts")
        # 1. call → datapoint: DescribeTrails calls, counted by their own filter.
        c["logs"].put_metric_filter(logGroupName=group, filterName="probe", filterPattern='{ $.eventName = "DescribeTrails" }',
                                    metricTransformations=[{"metricName": "Probe", "metricNamespace": "Lat", "metricValue": "1"}])

        def count(metric):
            now = datetime.now(timezone.utc)
            r = c["cloudwatch"].get_metric_statistics(Namespace="Lat", MetricName=metric, Statistics=["Sum"], Period=3600,
                                                      StartTime=now - timedelta(hours=2), EndTime=now + timedelta(hours=2))
            return sum(p["Sum"] for p in r["Datapoints"])

        lat = []
        for i in range(a.calls):
            c["cloudtrail"].describe_trails()
            t0 = time.time()
            while count("Probe") < i + 1:
                if time.time() - t0 > 30:
                    raise SystemExit(f"call {i}: no datapoint within 30 s")
                time.sleep(0.005)
            lat.append((time.time() - t0) * 1000)
        print(json.dumps({"bench": "alert-latency", "measure": "call_to_datapoint", "samples": len(lat),
                          "p50_ms": round(percentile(lat, 50), 1), "p99_ms": round(percentile(lat, 99), 1),
                          "max_ms": round(max(lat), 1)}), flush=True)

        # 2. end of a breaching period → HTTP subscriber: high-resolution alarms (10 s periods).
        sub = Subscriber()
        topic = c["sns"].create_topic(Name="alerts")["TopicArn"]
        c["sns"].subscribe(TopicArn=topic, Protocol="http", Endpoint=sub.url)
        names = [f"ListTrails{n}" for n in range(ALARMS)]
        c["logs"].put_metric_filter(logGroupName=group, filterName="trigger", filterPattern='{ $.eventName = "ListTrails" }',
                                    metricTransformations=[{"metricName": "Trigger", "metricNamespace": "Lat", "metricValue": "1"}])
        for n in names:
            c["cloudwatch"].put_metric_alarm(AlarmName=n, Namespace="Lat", MetricName="Trigger", Statistic="Sum", Period=10,
                                             EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
                                             TreatMissingData="notBreaching", AlarmActions=[topic])
        lat = []
        for cycle in range(a.cycles):
            # Call one second into a 10-second period, so that its datapoint is in well before
            # the period ends; the alarms breach on the evaluation at the period's end.
            now = time.time()
            start = math.floor(now / 10) * 10 + 11
            time.sleep(start - now)
            c["cloudtrail"].list_trails()
            period_end = start - 1 + 10
            before = len(sub.got)
            deadline = period_end + 15
            while len([g for g in sub.got[before:] if g[1]["NewStateValue"] == "ALARM"]) < ALARMS:
                if time.time() > deadline:
                    raise SystemExit(f"cycle {cycle}: notifications missing")
                time.sleep(0.01)
            lat += [(at - period_end) * 1000 for at, m in sub.got[before:] if m["NewStateValue"] == "ALARM"]
            # Back to OK before the next cycle: the evaluation range reaches a few periods back,
            # so the breaching datapoint keeps the alarms in ALARM for up to three periods.
            while any(x["StateValue"] != "OK" for x in
                      c["cloudwatch"].describe_alarms(AlarmNames=names)["MetricAlarms"]):
                if time.time() > period_end + 60:
                    raise SystemExit(f"cycle {cycle}: the alarms did not return to OK")
                time.sleep(0.5)
        print(json.dumps({"bench": "alert-latency", "measure": "period_end_to_subscriber", "samples": len(lat),
                          "p50_ms": round(percentile(lat, 50), 1), "p99_ms": round(percentile(lat, 99), 1),
                          "max_ms": round(max(lat), 1)}), flush=True)
    finally:
        proc.terminate()
        proc.wait()
        subprocess.run(["rm", "-rf", str(data)])


if __name__ == "__main__":
    main()
