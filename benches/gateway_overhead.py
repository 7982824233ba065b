"""What the recording gateway costs: the same calls to moto_server directly and through
`cairn serve --upstream` (authenticated, authorized, forwarded, recorded durably), side by side
in one run.

1. Latency: calls made one at a time, alternating direct and through cairn (so drift in the
   machine's load falls on both alike); p50 and p99 of each, and cairn's added p50.
2. Throughput: `--threads` clients calling as fast as they can for `--seconds`, direct, then
   through cairn, then again each (two rounds, interleaved); calls/s of each.

3. A streamed body: API Gateway ImportRestApi of an `--import-mib` MiB definition, alternating
   direct and through cairn (whose body flows to moto as it arrives, its signature checked at
   the end): seconds of each, and cairn's peak resident memory (VmHWM) before and after, which
   shows the body is never held whole.

Two operations: SSM GetParameter (JSON 1.1) and EC2 DescribeSecurityGroups (EC2's XML). Clients
are boto3, the same for both paths. Prints one JSON line per measurement.

    .venv/bin/python benches/gateway_overhead.py [--calls 400] [--threads 4] [--seconds 10]
        [--import-mib 64] [--imports 5] [--only-import] [--bin target/release/cairn]
"""

import argparse
import json
import math
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import boto3
import botocore.config

ROOT = Path(__file__).resolve().parent.parent
MOTO = ROOT / ".venv" / "bin" / "moto_server"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port):
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, math.ceil(p / 100 * len(xs)) - 1))]


CONFIG = botocore.config.Config(retries={"total_max_attempts": 1}, max_pool_connections=64)


def clients(endpoint, key, secret):
    kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
              aws_secret_access_key=secret, config=CONFIG)
    return boto3.client("ssm", **kw), boto3.client("ec2", **kw)


OPS = {
    "ssm GetParameter": lambda ssm, ec2: ssm.get_parameter(Name="/bench/param"),
    "ec2 DescribeSecurityGroups": lambda ssm, ec2: ec2.describe_security_groups(GroupNames=["bench"]),
}


def latency(paths, op, calls):
    times = {name: [] for name in paths}
    for _ in range(calls):
        for name, (ssm, ec2) in paths.items():
            t = time.perf_counter()
            OPS[op](ssm, ec2)
            times[name].append((time.perf_counter() - t) * 1000)
    return times


def throughput(make, op, threads, seconds):
    done = [0] * threads
    stop = time.perf_counter() + seconds

    def run(i):
        ssm, ec2 = make()
        while time.perf_counter() < stop:
            OPS[op](ssm, ec2)
            done[i] += 1

    ts = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(done) / (time.perf_counter() - t0)


def definition(mib):
    """An OpenAPI 3 document of about `mib` MiB: 16 paths with long descriptions."""
    pad = mib * 1024 * 1024 // 16
    doc = {"openapi": "3.0.1", "info": {"title": "bench-import", "description": "bench", "version": "1"},
           "paths": {f"/p{i}": {"get": {"description": "x" * pad, "responses": {"200": {"description": "ok"}}}}
                     for i in range(16)}}
    return json.dumps(doc).encode()


def peak_rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def streamed_import(paths, cairn_pid, mib, imports):
    body = definition(mib)
    before = peak_rss_mib(cairn_pid)
    times = {name: [] for name in paths}
    for _ in range(imports):
        for name, gw in paths.items():
            t = time.perf_counter()
            api = gw.import_rest_api(body=body)
            times[name].append(time.perf_counter() - t)
            gw.delete_rest_api(restApiId=api["id"])
    for name, v in times.items():
        print(json.dumps({"bench": "gateway streamed body", "op": "apigateway ImportRestApi", "path": name,
                          "body_mib": round(len(body) / 2**20, 1), "imports": len(v),
                          "p50_s": round(percentile(v, 50), 3), "max_s": round(max(v), 3)}), flush=True)
    print(json.dumps({"bench": "gateway streamed body", "cairn_peak_rss_mib_before": before,
                      "cairn_peak_rss_mib_after": peak_rss_mib(cairn_pid)}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=400)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--import-mib", type=int, default=64)
    ap.add_argument("--imports", type=int, default=5)
    ap.add_argument("--only-import", action="store_true")
    ap.add_argument("--bin", default=str(ROOT / "target" / "release" / "cairn"))
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cairn-gateway-bench-"))
    moto_port, cairn_port = free_port(), free_port()
    moto = subprocess.Popen([str(MOTO), "-H", "127.0.0.1", "-p", str(moto_port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    upstream = f"http://127.0.0.1:{moto_port}"
    cairn = subprocess.Popen([a.bin, "serve", "--data-dir", str(work / "data"), "--listen", f"127.0.0.1:{cairn_port}",
                              "--upstream", upstream], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(moto_port)
        wait_port(cairn_port)
        env = dict(line.removeprefix("export ").split("=", 1) for line in subprocess.run(
            [a.bin, "env", "--data-dir", str(work / "data")], capture_output=True, text=True, check=True).stdout.splitlines())

        def direct():
            return clients(upstream, "test", "test")

        def through():
            return clients(env["AWS_ENDPOINT_URL"], env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])

        big = botocore.config.Config(retries={"total_max_attempts": 1}, read_timeout=300)
        gw = {"direct": boto3.client("apigateway", endpoint_url=upstream, region_name="us-east-1",
                                     aws_access_key_id="test", aws_secret_access_key="test", config=big),
              "through cairn": boto3.client("apigateway", endpoint_url=env["AWS_ENDPOINT_URL"],
                                            region_name="us-east-1", aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], config=big)}
        streamed_import(gw, cairn.pid, a.import_mib, a.imports)
        if a.only_import:
            return
        ssm, ec2 = direct()
        ssm.put_parameter(Name="/bench/param", Value="v", Type="String")
        ec2.create_security_group(GroupName="bench", Description="bench")
        paths = {"direct": direct(), "through cairn": through()}
        for op in OPS:
            latency(paths, op, 20)  # warm both paths' connections
            times = latency(paths, op, a.calls)
            p50 = {k: percentile(v, 50) for k, v in times.items()}
            for name, v in times.items():
                print(json.dumps({"bench": "gateway latency", "op": op, "path": name, "calls": len(v),
                                  "p50_ms": round(p50[name], 3), "p99_ms": round(percentile(v, 99), 3)}), flush=True)
            print(json.dumps({"bench": "gateway latency", "op": op,
                              "added_p50_ms": round(p50["through cairn"] - p50["direct"], 3)}), flush=True)
            rates = {"direct": [], "through cairn": []}
            for _ in range(2):
                rates["direct"].append(throughput(direct, op, a.threads, a.seconds))
                rates["through cairn"].append(throughput(through, op, a.threads, a.seconds))
            d, c = (sum(rates[k]) / 2 for k in ("direct", "through cairn"))
            print(json.dumps({"bench": "gateway throughput", "op": op, "threads": a.threads,
                              "direct_calls_per_s": [round(x, 1) for x in rates["direct"]],
                              "through_cairn_calls_per_s": [round(x, 1) for x in rates["through cairn"]],
                              "share_of_upstream_lost": round(1 - c / d, 3)}), flush=True)
    finally:
        cairn.terminate()
        moto.terminate()
        cairn.wait()
        moto.wait()


if __name__ == "__main__":
    main()
