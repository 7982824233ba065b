"""Lambda through cairn's API, against a real `cairn serve` on the wall clock:

1. call → warm handler: from the start of an IAM CreateUser call to the start of the handler a rule
   on its "AWS API Call via CloudTrail" event invokes (the record routed from the journal to the
   default bus, the rule's Lambda target queued as an asynchronous invocation, the warm process
   handed the event). The handler's first act is a UDP datagram to this script.
2. cold start: `Invoke` (RequestResponse) right after a configuration change (so no warm
   process may serve it), from the call to the handler's start, and the whole round trip.
3. warm `Invoke` throughput: `cairn bench load --invoke` calling a trivial handler over
   keep-alive connections for a while.

Functions run with the system Python and .lambda-python (scripts/venv), as the e2e tests run them.
Prints one JSON line per measurement.

    .venv/bin/python benches/lambda_latency.py [--calls 200] [--colds 20] [--connections 16] [--seconds 10]
"""

import argparse
import io
import json
import math
import os
import socket
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

import boto3
import botocore.config

ROOT = Path(__file__).resolve().parent.parent
PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else "python3"

PROBE = """
import os, socket, time
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
port = int(os.environ["PROBE_PORT"])

def handler(event, context):
    started = time.time()
    tag = event.get("detail", {}).get("requestParameters", {}).get("userName") or event.get("tag", "")
    sock.sendto(f"{started} {tag}".encode(), ("127.0.0.1", port))
    return 1
"""

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, math.ceil(p / 100 * len(xs)) - 1))]


def zipped(source):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("probe.py")
        info.external_attr = 0o644 << 16
        z.writestr(info, source)
    return buf.getvalue()


def summary(measure, xs, **extra):
    return json.dumps({"bench": "lambda", "measure": measure, "samples": len(xs),
                       "p50_ms": round(percentile(xs, 50), 1), "p99_ms": round(percentile(xs, 99), 1),
                       "max_ms": round(max(xs), 1), **extra})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--colds", type=int, default=20)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--bin", default=str(ROOT / "target" / "release" / "cairn"))
    a = ap.parse_args()
    data = Path(tempfile.mkdtemp(prefix="cairn-lambda-latency-"))
    port = free_port()
    proc = subprocess.Popen([a.bin, "serve", "--data-dir", str(data), "--listen", f"127.0.0.1:{port}",
                             "--lambda-python", PYTHON, "--lambda-python-path", str(ROOT / ".lambda-python")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    probe.settimeout(30)

    def started(tag):
        while True:
            msg, _ = probe.recvfrom(256)
            at, got = msg.decode().split(" ", 1)
            if got == tag:
                return float(at)

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
        c = {n: boto3.client(n, **kw) for n in ("events", "iam", "lambda")}
        role = c["iam"].create_role(RoleName="probe", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        variables = {"PROBE_PORT": str(probe.getsockname()[1])}
        for name in ("probe", "trivial"):
            c["lambda"].create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="probe.handler",
                                        Code={"ZipFile": zipped(PROBE)}, Timeout=30,
                                        Environment={"Variables": variables})
        fn = c["lambda"].get_function(FunctionName="probe")["Configuration"]["FunctionArn"]
        rule = c["events"].put_rule(Name="users", EventPattern=json.dumps(
            {"source": ["aws.iam"], "detail-type": ["AWS API Call via CloudTrail"], "detail": {"eventName": ["CreateUser"]}}))
        c["lambda"].add_permission(FunctionName="probe", StatementId="ev", Action="lambda:InvokeFunction",
                                   Principal="events.amazonaws.com", SourceArn=rule["RuleArn"])
        c["events"].put_targets(Rule="users", Targets=[{"Id": "fn", "Arn": fn}])

        # 1. call → warm handler (the first calls warm the process; they are not counted).
        lat = []
        for i in range(a.calls + 5):
            t0 = time.time()
            c["iam"].create_user(UserName=f"probe-{i}")
            at = started(f"probe-{i}")
            if i >= 5:
                lat.append((at - t0) * 1000)
        print(summary("api_call_to_warm_handler", lat), flush=True)

        # 2. cold starts: each configuration change retires the warm process.
        to_start, round_trip = [], []
        for i in range(a.colds):
            c["lambda"].update_function_configuration(FunctionName="probe", Description=f"cold {i}")
            t0 = time.time()
            c["lambda"].invoke(FunctionName="probe", Payload=json.dumps({"tag": f"cold-{i}"}).encode())
            t1 = time.time()
            at = started(f"cold-{i}")
            to_start.append((at - t0) * 1000)
            round_trip.append((t1 - t0) * 1000)
        print(summary("cold_invoke_to_handler", to_start), flush=True)
        print(summary("cold_invoke_round_trip", round_trip), flush=True)

        # 3. warm Invoke throughput: `cairn bench load --invoke` (keep-alive connections, each
        #    call signed; a boto3 client would measure itself).
        c["lambda"].update_function_configuration(FunctionName="trivial", Environment={"Variables": {"PROBE_PORT": "9"}})
        for _ in range(a.connections * 2):
            c["lambda"].invoke(FunctionName="trivial", Payload=b"{}")
        out = subprocess.run([a.bin, "bench", "load", "--invoke", "trivial", "--connections", str(a.connections),
                              "--duration", str(a.seconds), "--label", "cairn", "--server-pid", str(proc.pid), "--json"],
                             env={**os.environ, **env}, capture_output=True, text=True, check=True).stdout
        r = json.loads(out)
        print(json.dumps({"bench": "lambda", "measure": "warm_invoke_throughput", "connections": a.connections,
                          "seconds": a.seconds, "invocations_per_s": r["calls_per_s"], "failed": r["failed"],
                          "p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"]}), flush=True)
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
