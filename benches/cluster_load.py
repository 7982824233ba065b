#!/usr/bin/env python3
"""Recorded calls per second of a cairn cluster on PostgreSQL, one node then two nodes on the
same database, side by side with the embedded mode in the same run.

Each round, in turn:
  1. embedded: `cairn serve --data-dir` on a fresh directory, loaded, stopped;
  2. a fresh cluster (PostgreSQL of the script's own, initdb in a temporary directory on a free
     127.0.0.1 port, default durability: fsync on, synchronous_commit on; moto_server as the
     object store; e2e/cluster.py), one node loaded, then a second node started on the same
     database and both loaded (connections assigned round-robin, `--endpoint` per node);
  3. everything stopped (also on error or Ctrl-C).

The load is `cairn bench load`: signed DescribeTrails over keep-alive connections. A call is
answered only once its record is committed (group-committed fsync in the embedded journal,
committed in PostgreSQL in a cluster): the script checks that the journal's head moved by at
least the number of calls answered. Prints one JSON line per measurement (and PostgreSQL's
settings once), then a table of the rounds.

    .venv/bin/python benches/cluster_load.py [--cairn target/release/cairn]
    ROUNDS=5 SECONDS_PER_RUN=10 CONNECTIONS=64 .venv/bin/python benches/cluster_load.py

Needs scripts/venv and scripts/postgres. CAIRN_BIN (or --cairn) is the release build to
measure; it is also the load generator."""

import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "e2e"))


def release_bin():
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "release" / "cairn"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cairn", default=os.environ.get("CAIRN_BIN") or str(release_bin()))
    p.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", 3)))
    p.add_argument("--seconds", type=int, default=int(os.environ.get("SECONDS_PER_RUN", 10)))
    p.add_argument("--connections", type=int, default=int(os.environ.get("CONNECTIONS", 64)))
    p.add_argument("--skip-embedded", action="store_true")
    p.add_argument("--pg-statements", action="store_true",
                   help="load pg_stat_statements and print the statements that took the most time")
    return p.parse_args()


ARGS = parse_args()
# e2e/conftest.py reads the binary from CAIRN_BIN when imported.
os.environ["CAIRN_BIN"] = str(Path(ARGS.cairn).resolve())

from cluster import Cluster, Postgres  # noqa: E402
from conftest import free_port  # noqa: E402

CAIRN = os.environ["CAIRN_BIN"]
PG_SETTINGS = ["fsync", "synchronous_commit", "wal_sync_method", "full_page_writes", "wal_level",
               "commit_delay", "shared_buffers", "max_connections", "server_version"]


class StatementsPostgres(Postgres):
    """The cluster's PostgreSQL with pg_stat_statements loaded (durability unchanged)."""

    def start(self):
        if not (self.dir / "data").exists():
            super().start()
            self.stop()
            with open(self.dir / "data" / "postgresql.auto.conf", "a") as f:
                f.write("shared_preload_libraries = 'pg_stat_statements'\n"
                        "pg_stat_statements.track = 'all'\n")
        return super().start()


def exports(text):
    env = {}
    for line in text.splitlines():
        k, v = line.removeprefix("export ").split("=", 1)
        env[k] = v
    return env


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    """CPU time (user + system) used so far by each of `pids` that still runs."""
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / TICK
    return out


def children(pid):
    """`pid` and its children (a PostgreSQL server's backends)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def machine_busy():
    """CPU seconds the whole machine spent busy so far (every process, every core)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in fields]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICK


class CpuMeter:
    """CPU time used by groups of processes over a measurement, per call answered: what the
    servers (and PostgreSQL) spend on each recorded call, beside what the load generator and
    the rest of the machine used meanwhile."""

    def __init__(self, groups):
        # groups: name -> function returning the pids to count now
        self.groups = groups
        self.start = {name: cpu_seconds(f()) for name, f in groups.items()}
        self.client = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.busy = machine_busy()
        self.t = time.time()

    def per_call(self, result):
        calls = max(result["ok"], 1)
        out = {}
        for name, f in self.groups.items():
            now = cpu_seconds(f())
            used = sum(v - self.start[name].get(pid, 0.0) for pid, v in now.items())
            out[f"cpu_us_per_call_{name}"] = round(used / calls * 1e6)
        client = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = (client.ru_utime - self.client.ru_utime) + (client.ru_stime - self.client.ru_stime)
        out["cpu_us_per_call_load_generator"] = round(used / calls * 1e6)
        elapsed = time.time() - self.t
        out["machine_busy_cores"] = round((machine_busy() - self.busy) / elapsed, 2)
        result.update(out)
        return result


def load(label, endpoints, env, pid=None):
    """One `cairn bench load` run over `endpoints`; its JSON result."""
    cmd = [CAIRN, "bench", "load", "--label", label, "--connections", str(ARGS.connections),
           "--duration", str(ARGS.seconds), "--json"]
    for e in endpoints:
        cmd += ["--endpoint", e]
    if pid:
        cmd += ["--server-pid", str(pid)]
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    run_env.update(env)
    p = subprocess.run(cmd, env=run_env, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"bench load {label} failed: {p.stdout}{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def wait_port(port, proc, log):
    deadline = time.time() + 60
    import socket
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"cairn serve exited; see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("cairn serve did not start listening")


def embedded(round_no, base):
    data = base / f"embedded{round_no}"
    port = free_port()
    log = open(base / f"embedded{round_no}.log", "ab")
    proc = subprocess.Popen([CAIRN, "serve", "--data-dir", str(data), "--listen", f"127.0.0.1:{port}"],
                            stdout=log, stderr=log)
    try:
        wait_port(port, proc, log.name)
        env = exports(subprocess.run([CAIRN, "env", "--data-dir", str(data)], check=True,
                                     capture_output=True, text=True).stdout)
        meter = CpuMeter({"server": lambda: [proc.pid]})
        return meter.per_call(load("embedded", [f"http://127.0.0.1:{port}"], env, proc.pid))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(data, ignore_errors=True)


def journal_head(cluster):
    return int(cluster.postgres.query("SELECT next_pos FROM cairn_journal.journal_head")[0][0])


def checked(result, cluster, before):
    """The result, with how far the journal's head moved: at least one entry per call answered
    (each call's record is committed before its answer)."""
    moved = journal_head(cluster) - before
    result["journal_entries"] = moved
    if moved < result["ok"]:
        raise RuntimeError(f"{result['label']}: {result['ok']} calls answered but the journal moved by {moved}")
    return result


def clustered(round_no, base, printed):
    c = Cluster(base / f"cluster{round_no}")
    if ARGS.pg_statements:
        c.postgres = StatementsPostgres(c.base)
    results = []
    try:
        c.start()
        if not printed:
            values = {s: c.postgres.query(f"SHOW {s}")[0][0] for s in PG_SETTINGS}
            print(json.dumps({"postgres": values}), flush=True)
        if ARGS.pg_statements:
            c.postgres.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        first = c.node()
        env = first.env()
        postmaster = int((c.postgres.dir / "data" / "postmaster.pid").read_text().split()[0])
        postgres = lambda: children(postmaster)  # noqa: E731
        # A second node's start (migrations checked, keys compared) is not part of the load.
        before = journal_head(c)
        meter = CpuMeter({"server": lambda: [first.proc.pid], "postgres": postgres})
        one = load("cluster-1-node", [first.endpoint], env, first.proc.pid)
        results.append(checked(meter.per_call(one), c, before))
        second = c.node()
        if ARGS.pg_statements:
            c.postgres.query("SELECT pg_stat_statements_reset()")
        before = journal_head(c)
        meter = CpuMeter({"server": lambda: [first.proc.pid, second.proc.pid], "postgres": postgres})
        two = load("cluster-2-nodes", [first.endpoint, second.endpoint], env, first.proc.pid)
        results.append(checked(meter.per_call(two), c, before))
        if ARGS.pg_statements:
            top = c.postgres.query(
                "SELECT calls, round(total_exec_time::numeric, 1), round(mean_exec_time::numeric, 3), "
                "left(regexp_replace(query, '\\s+', ' ', 'g'), 160) FROM pg_stat_statements "
                "ORDER BY total_exec_time DESC LIMIT 15")
            print(json.dumps({"round": round_no, "pg_stat_statements_2_nodes": top}), flush=True)
    finally:
        c.stop()
    return results


def main():
    # A SIGTERM stops everything started, as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not Path(CAIRN).exists():
        sys.exit(f"{CAIRN} not found: cargo build --release -p cairn (or --cairn PATH)")
    base = Path(tempfile.mkdtemp(prefix="cairn-cluster-load-"))
    rows = []
    printed = False
    try:
        for r in range(1, ARGS.rounds + 1):
            row = {}
            if not ARGS.skip_embedded:
                e = embedded(r, base)
                e["round"] = r
                print(json.dumps(e), flush=True)
                row["embedded"] = e
            for res in clustered(r, base, printed):
                printed = True
                res["round"] = r
                print(json.dumps(res), flush=True)
                row[res["label"]] = res
            rows.append(row)
    finally:
        shutil.rmtree(base, ignore_errors=True)

    def cell(res):
        return f"{res['calls_per_s']:,.0f} (p99 {res['p99_ms']:.1f} ms)" if res else "–"

    print()
    print("| round | embedded | cluster, 1 node | cluster, 2 nodes | 1 node / embedded | 2 nodes / embedded | 2 nodes / 1 node |")
    print("|---|---|---|---|---|---|---|")
    ratios = {"1/e": [], "2/e": [], "2/1": []}
    for i, row in enumerate(rows, 1):
        e, one, two = row.get("embedded"), row["cluster-1-node"], row["cluster-2-nodes"]

        def ratio(a, b, k):
            if not a or not b:
                return "–"
            v = a["calls_per_s"] / b["calls_per_s"]
            ratios[k].append(v)
            return f"{v:.0%}"
        print(f"| {i} | {cell(e)} | {cell(one)} | {cell(two)} | {ratio(one, e, '1/e')} | {ratio(two, e, '2/e')} | {ratio(two, one, '2/1')} |")
    print()
    print("CPU per recorded call (µs; median of the rounds): server · PostgreSQL · load generator; "
          "machine busy (cores of 2)")
    for label in ("embedded", "cluster-1-node", "cluster-2-nodes"):
        rs = [row[label] for row in rows if label in row]
        if not rs:
            continue

        def med_of(key):
            v = [r[key] for r in rs if key in r]
            return statistics.median(v) if v else None
        pg = med_of("cpu_us_per_call_postgres")
        print(f"  {label}: {med_of('cpu_us_per_call_server'):.0f} · {pg if pg is None else round(pg)} · "
              f"{med_of('cpu_us_per_call_load_generator'):.0f}; busy {med_of('machine_busy_cores'):.2f}")
    med = {k: statistics.median(v) for k, v in ratios.items() if v}
    for label in ("embedded", "cluster-1-node", "cluster-2-nodes"):
        vals = [row[label]["calls_per_s"] for row in rows if label in row]
        if vals:
            print(f"median {label}: {statistics.median(vals):,.0f} calls/s")
    print("median ratios: " + ", ".join(f"{k} {v:.0%}" for k, v in med.items()))


if __name__ == "__main__":
    main()
