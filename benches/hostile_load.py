"""`cairn bench load` (signed DescribeTrails, recorded durably) against a fresh `cairn serve`,
alone and then while hostile clients press on the endpoint: 2,000 idle connections, 200
slowloris connections trickling a header byte every 0.5 s, and 16 unauthenticated uploads
declaring 64 MiB and trickling their bodies. With --baseline, the same load is run first
against another build (e.g. the previous main), side by side in the same run.

    python benches/hostile_load.py --cairn target/release/cairn [--baseline /tmp/old/cairn]
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))
from hostile import Attackers, close_all, open_idle  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary):
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="cairn-hostile-")
        self.port = free_port()

    def __enter__(self):
        self.log = open(os.path.join(self.dir, "serve.log"), "wb")
        self.proc = subprocess.Popen([self.binary, "serve", "--data-dir", f"{self.dir}/d",
                                      "--listen", f"127.0.0.1:{self.port}"], stdout=self.log, stderr=self.log)
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        out = subprocess.run([self.binary, "env", "--data-dir", f"{self.dir}/d"], check=True,
                             capture_output=True, text=True).stdout
        self.env = dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines())
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(30)

    def load(self, generator, label, seconds, connections):
        env = {**os.environ, **self.env}
        out = subprocess.run([generator, "bench", "load", "--connections", str(connections), "--duration",
                              str(seconds), "--label", label, "--server-pid", str(self.proc.pid), "--json"],
                             env=env, check=True, capture_output=True, text=True).stdout
        return json.loads(out)


def row(r):
    return (f"| {r['label']} | {r['calls_per_s']:,.0f} | {r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms | "
            f"{r.get('failed', 0)} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cairn", required=True, help="the cairn build to measure (release)")
    ap.add_argument("--baseline", help="another cairn build to measure side by side, unattacked")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    a = ap.parse_args()
    results = []
    # The load generator is always the measured build's, so only the server differs.
    for label, binary in ([("baseline", a.baseline)] if a.baseline else []) + [("cairn", a.cairn)]:
        with Server(binary) as s:
            s.load(a.cairn, "warm-up", 2, a.connections)
            results.append(s.load(a.cairn, f"{label}, alone", a.duration, a.connections))
            if label == "cairn":
                idle = open_idle(s.port, 2000)
                try:
                    with Attackers(s.port) as attack:
                        results.append(s.load(a.cairn, "cairn, under hostile load", a.duration, a.connections))
                    print(f"attackers: {attack.stats}", file=sys.stderr)
                finally:
                    close_all(idle)
    print("| server | calls/s | p50 | p99 | failed calls |")
    print("|---|---|---|---|---|")
    for r in results:
        print(row(r))
    alone = next(r for r in results if r["label"] == "cairn, alone")
    loaded = next(r for r in results if r["label"] == "cairn, under hostile load")
    print(f"\nunder hostile load: {loaded['calls_per_s'] / alone['calls_per_s']:.0%} of the throughput alone")
    if a.baseline:
        base = next(r for r in results if r["label"] == "baseline, alone")
        print(f"this build vs baseline, alone: {alone['calls_per_s'] / base['calls_per_s']:.1%}")


if __name__ == "__main__":
    main()
