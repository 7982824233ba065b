#!/usr/bin/env python3
"""Lake beside DuckDB, on one synthesized corpus of gzip'd CloudTrail delivery files.

(a) ingest: `cairn bench lake` (log files -> Parquet, partitioned by day) against DuckDB's
    read_json of the same files written to Parquet (events/s each);
(b) Lake sample queries: `cairn query --event-data-store` over cairn's Parquet files against
    DuckDB over the very same files (p50 of LAKE_RUNS runs each);
(c) from a folder of logs to the first answer: `cairn query --from` with an empty cache (it
    converts, then answers) against DuckDB reading the raw files; then cairn again (cached copy).

Environment: LAKE_EVENTS (default 1000000), LAKE_PER_FILE (50000), LAKE_RUNS (5),
CAIRN_BIN (target/release/cairn), BENCH_OUT (target/bench), LAKE_SKIP_RAW=1 to leave out
DuckDB's reads of the raw files (its ingest in (a) and its first answer in (c): about 15 minutes
at 10M events). Prints JSON lines, then a summary.
"""

import csv
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import duckdb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EVENTS = int(os.environ.get("LAKE_EVENTS", "1000000"))
PER_FILE = int(os.environ.get("LAKE_PER_FILE", "50000"))
RUNS = int(os.environ.get("LAKE_RUNS", "5"))
BIN = os.environ.get("CAIRN_BIN", os.path.join(ROOT, "target/release/cairn"))
OUT = os.environ.get("BENCH_OUT", os.path.join(ROOT, "target/bench"))
STORE_ID = "0e94c3a4-1d1d-4d73-b8a7-a3f4da4e4b11"
THREADS = os.cpu_count() or 2

work = os.path.join(OUT, f"lake-{EVENTS}")
corpus = os.path.join(work, "corpus")
data = os.path.join(work, "data")
store = os.path.join(data, "lake", STORE_ID)
records = os.path.join(ROOT, "..", "shared", "data", "cloudtrail-real", "records.jsonl.gz")


def emit(obj):
    print(json.dumps(obj), flush=True)


def duck():
    con = duckdb.connect()
    con.execute(f"SET threads={THREADS}")
    return con


# Records as JSON values: DuckDB's struct detection refuses real records (members spelled in two
# cases, such as principalId and principalid, in one struct).
RAW = (
    f"read_json('{corpus}/*.json.gz', maximum_object_size=2000000000, columns={{'Records': 'JSON[]'}})"
)
FIELDS = ["eventVersion", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
          "userAgent", "errorCode", "errorMessage", "requestID", "eventID", "eventType",
          "recipientAccountId", "eventCategory"]
NESTED = ["userIdentity", "requestParameters", "responseElements", "additionalEventData",
          "resources", "tlsDetails"]
COLUMNS = ", ".join(
    [f"r->>'{f}' AS {f.lower()}" for f in FIELDS]
    + [f"r->'{f}' AS {f.lower()}" for f in NESTED]
    + ["CAST(r->>'readOnly' AS BOOLEAN) AS readonly", "r AS eventjson"])

# ---- (a) ingest -------------------------------------------------------------------------------
os.makedirs(work, exist_ok=True)
r = subprocess.run(
    [BIN, "bench", "lake", "--events", str(EVENTS), "--per-file", str(PER_FILE),
     "--records", records, "--corpus", corpus, "--store", store, "--json"],
    check=True, capture_output=True, text=True)
cairn_ingest = json.loads(r.stdout.strip().splitlines()[-1])
emit({**cairn_ingest, "bench": "lake_ingest", "engine": "cairn"})

SKIP_RAW = os.environ.get("LAKE_SKIP_RAW") == "1"
duck_ingest = None
if not SKIP_RAW:
    duck_parquet = os.path.join(work, "duckdb.parquet")
    con = duck()
    t = time.perf_counter()
    con.execute(
        f"COPY (SELECT {COLUMNS} FROM (SELECT unnest(Records) AS r FROM {RAW})) "
        f"TO '{duck_parquet}' (FORMAT parquet, COMPRESSION zstd)")
    secs = time.perf_counter() - t
    duck_rows = con.execute(f"SELECT count(*) FROM '{duck_parquet}'").fetchone()[0]
    con.close()
    duck_ingest = {"events": duck_rows, "seconds": secs, "events_per_sec": duck_rows / secs,
                   "parquet_bytes": os.path.getsize(duck_parquet)}
    emit({"bench": "lake_ingest", "engine": "duckdb", **duck_ingest})
    os.remove(duck_parquet)

# ---- (b) Lake sample queries ------------------------------------------------------------------
PARQUET = f"read_parquet('{store}/**/*.parquet', hive_partitioning=true)"
con = duck()
ip = con.execute(f"SELECT sourceipaddress FROM {PARQUET} GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
key = con.execute(
    f"SELECT useridentity.accesskeyid FROM {PARQUET} WHERE useridentity.accesskeyid LIKE 'AKIA%' "
    "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
con.close()
WINDOW = "eventtime > '2019-01-01 00:00:00' AND eventtime < '2019-04-01 00:00:00'"

# (name, cairn's Lake SQL with {T}, DuckDB's with {T}); after the community samples.
QUERIES = [
    ("top event names",
     "SELECT eventname, count(*) AS n FROM {T} GROUP BY eventname ORDER BY n DESC LIMIT 10",
     None),
    ("top errors",
     "SELECT errorcode, errormessage, count(*) AS eventcount FROM {T} WHERE " + WINDOW +
     " AND (errorcode IS NOT NULL OR errormessage IS NOT NULL) GROUP BY errorcode, errormessage"
     " ORDER BY eventcount DESC LIMIT 10",
     None),
    ("errors by user",
     "SELECT useridentity.arn, errorcode, count(*) AS n FROM {T} WHERE errorcode IS NOT NULL"
     " GROUP BY useridentity.arn, errorcode ORDER BY n DESC LIMIT 20",
     None),
    ("console logins without MFA",
     "SELECT * FROM {T} WHERE eventsource = 'signin.amazonaws.com' AND eventname = 'ConsoleLogin'"
     " AND element_at(additionaleventdata, 'MFAUsed') = 'No'",
     "SELECT * FROM {T} WHERE eventsource = 'signin.amazonaws.com' AND eventname = 'ConsoleLogin'"
     " AND map_extract_value(additionaleventdata, 'MFAUsed') = 'No'"),
    ("activity by IP",
     "SELECT useridentity.accountid FROM {T} WHERE sourceipaddress = '" + ip + "' AND " + WINDOW +
     " AND useridentity.accountid != '555555555555' GROUP BY useridentity.accountid",
     None),
    ("events by region",
     "SELECT awsregion, eventsource, count(*) AS apicount FROM {T} WHERE " + WINDOW +
     " GROUP BY awsregion, eventsource ORDER BY apicount DESC",
     None),
    ("access key activity",
     "SELECT eventsource, eventname, sourceipaddress, eventtime, errorcode FROM {T}"
     " WHERE useridentity.accesskeyid = '" + key + "' AND " + WINDOW + " ORDER BY eventtime",
     None),
    ("top IAM actions by principal",
     "SELECT count(*) AS apicount, eventname, recipientaccountid, useridentity.principalid FROM {T}"
     " WHERE useridentity.principalid IS NOT NULL AND eventtime >= '2019-01-08 00:00:00'"
     " AND eventsource = 'iam.amazonaws.com'"
     " GROUP BY eventname, recipientaccountid, useridentity.principalid ORDER BY apicount DESC",
     None),
    ("events by weekday",
     "SELECT day_of_week(eventtime) AS weekday, count(*) AS eventcount FROM {T} WHERE " + WINDOW +
     " GROUP BY day_of_week(eventtime) ORDER BY day_of_week(eventtime)",
     "SELECT isodow(eventtime) AS weekday, count(*) AS eventcount FROM {T} WHERE " + WINDOW +
     " GROUP BY isodow(eventtime) ORDER BY isodow(eventtime)"),
]


def cairn_query(sql, env=None, extra=()):
    t = time.perf_counter()
    r = subprocess.run([BIN, "query", *extra, "--format", "csv", sql],
                       capture_output=True, text=True, env=env)
    secs = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"cairn query failed: {r.stderr}\n{sql}")
    rows = list(csv.reader(io.StringIO(r.stdout)))
    return secs, len(rows) - 1, r.stderr


store_args = ("--data-dir", data, "--event-data-store", STORE_ID)
results = []
for name, lake_sql, duck_sql in QUERIES:
    c_sql = lake_sql.replace("{T}", STORE_ID)
    d_sql = (duck_sql or lake_sql).replace("{T}", PARQUET)
    c_times, d_times = [], []
    c_rows = d_rows = None
    for _ in range(RUNS):
        secs, c_rows, _ = cairn_query(c_sql, extra=store_args)
        c_times.append(secs)
        con = duck()
        t = time.perf_counter()
        d_rows = len(con.execute(d_sql).fetchall())
        d_times.append(time.perf_counter() - t)
        con.close()
    row = {"bench": "lake_query", "query": name, "cairn_p50_s": statistics.median(c_times),
           "duckdb_p50_s": statistics.median(d_times), "cairn_rows": c_rows, "duckdb_rows": d_rows}
    emit(row)
    results.append(row)

# ---- (c) from a folder of logs to the first answer --------------------------------------------
first_sql = "SELECT eventname, count(*) AS n FROM events GROUP BY eventname ORDER BY n DESC LIMIT 10"
cache = tempfile.mkdtemp(prefix="cairn-cache-")
env = dict(os.environ, XDG_CACHE_HOME=cache)
cold, cold_rows, _ = cairn_query(first_sql, env=env, extra=("--from", corpus))
warm, _, _ = cairn_query(first_sql, env=env, extra=("--from", corpus))
shutil.rmtree(cache)
duck_raw = d_rows = None
if not SKIP_RAW:
    con = duck()
    t = time.perf_counter()
    d_rows = len(con.execute(
        f"SELECT r->>'eventName', count(*) AS n FROM (SELECT unnest(Records) AS r FROM {RAW}) "
        "GROUP BY 1 ORDER BY n DESC LIMIT 10").fetchall())
    duck_raw = time.perf_counter() - t
    con.close()
e2e = {"bench": "lake_first_answer", "cairn_cold_s": cold, "cairn_cached_s": warm,
       "duckdb_raw_s": duck_raw, "rows": [cold_rows, d_rows]}
emit(e2e)

# ---- summary ----------------------------------------------------------------------------------
print(f"\n{EVENTS} events in {cairn_ingest['files']} files, {THREADS} threads", file=sys.stderr)
if duck_ingest:
    print(f"ingest: cairn {cairn_ingest['events_per_sec']:.0f} ev/s, duckdb {duck_ingest['events_per_sec']:.0f} ev/s "
          f"(x{cairn_ingest['events_per_sec'] / duck_ingest['events_per_sec']:.2f})", file=sys.stderr)
else:
    print(f"ingest: cairn {cairn_ingest['events_per_sec']:.0f} ev/s", file=sys.stderr)
for r in results:
    print(f"{r['query']:32} cairn {r['cairn_p50_s'] * 1000:8.1f} ms  duckdb {r['duckdb_p50_s'] * 1000:8.1f} ms"
          f"  x{r['cairn_p50_s'] / r['duckdb_p50_s']:.2f}  rows {r['cairn_rows']}/{r['duckdb_rows']}", file=sys.stderr)
raw = f"; duckdb {duck_raw:.2f} s" if duck_raw is not None else ""
print(f"first answer from raw logs: cairn {cold:.2f} s cold, {warm:.2f} s cached{raw}", file=sys.stderr)
