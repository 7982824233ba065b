"""Event data stores whose Parquet files live in a bucket on an independent S3 server
(moto_server from PyPI), configured with `[lake]` in cairn's TOML file: ingestion, Lake queries
through boto3, `cairn query` from the command line, and DuckDB reading the very objects, all
agree; an outage of the S3 server loses and duplicates nothing; kill -9 during ingestion neither."""

import socket
import subprocess
import threading
from pathlib import Path

import duckdb

from conftest import CAIRN, Cairn, free_port, wait_for
from test_external import moto  # noqa: F401  (a fixture)
from test_lake import run_query

PREFIX = "cairn-lake"


class Cable:
    """A TCP relay between cairn and the S3 server that can be cut: while cut, every connection
    is accepted and dropped at once (the endpoint is down), and open ones are closed."""

    def __init__(self, target_port):
        self.target = target_port
        self.cut = False
        self.open = []
        self.server = socket.create_server(("127.0.0.1", free_port()))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if self.cut:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def set_cut(self, cut):
        self.cut = cut
        if cut:
            for sock in self.open:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.open = []

    def close(self):
        self.server.close()


def config(tmp_path, url):
    conf = tmp_path / "cairn.toml"
    conf.write_text(f'''
[[external_bucket]]
name = "audit-lake"
endpoint = "{url}"
region = "us-east-1"
access_key_id = "AKIAMOTOEXAMPLE0001"
secret_access_key = "moto-secret"

[lake]
bucket = "audit-lake"
prefix = "{PREFIX}"
''')
    return conf


def keys(peer, prefix):
    out = []
    for page in peer.get_paginator("list_objects_v2").paginate(Bucket="audit-lake", Prefix=prefix):
        out += [o["Key"] for o in page.get("Contents", [])]
    return out


def describe_calls(ct, n):
    return [ct.describe_trails()["ResponseMetadata"]["RequestId"] for _ in range(n)]


def ingested(ct, eds, acked):
    """The request ids of DescribeTrails in the store, once every acknowledged one is there."""
    _, rows, _ = run_query(ct, f"SELECT requestID FROM {eds} WHERE eventName = 'DescribeTrails'")
    got = [r[0] for r in rows]
    return got if set(acked) <= set(got) else None


def test_event_data_store_files_live_in_the_bucket(workdir, tmp_path, moto):  # noqa: F811
    _, url, peer = moto
    peer.create_bucket(Bucket="audit-lake")
    cable = Cable(int(url.rsplit(":", 1)[1]))
    conf = config(tmp_path, cable.url)
    c = Cairn(workdir / "lake-bucket", ["--config", str(conf), "--test-clock"])
    c.start()
    try:
        ct = c.client()
        eds = ct.create_event_data_store(Name="in-bucket", TerminationProtectionEnabled=False)[
            "EventDataStoreArn"].split("/")[-1]
        acked = describe_calls(ct, 8)
        c.client("s3").list_buckets()
        got = wait_for(lambda: ingested(ct, eds, acked), timeout=60, every=0.5)
        assert len(got) == len(set(got))

        # The files are in the bucket, Hive style, and none in the data directory.
        stored = keys(peer, f"{PREFIX}/{eds}/")
        parquet = [k for k in stored if k.endswith(".parquet")]
        assert f"{PREFIX}/{eds}/_committed.json" in stored
        assert parquet and all(k.split("/")[2].startswith("eventdate=") for k in parquet), stored
        local = c.data_dir / "lake" / eds
        assert not local.exists() or not any(local.rglob("*.parquet"))

        # DuckDB reads the very objects and finds what Lake's API answers.
        dl = tmp_path / "objects"
        for k in parquet:
            dest = dl / k
            dest.parent.mkdir(parents=True, exist_ok=True)
            peer.download_file("audit-lake", k, str(dest))
        # (The store goes on taking events meanwhile, the queries' own among them: compare the
        # calls made before.)
        everything = duckdb.sql(f"""SELECT eventid, eventname, requestid FROM
                                    read_parquet('{dl}/{PREFIX}/{eds}/*/*.parquet', hive_partitioning = true)""").fetchall()
        direct = sorted((e, n) for e, n, r in everything if r in acked)
        assert len(direct) == len(acked)
        _, rows, described = run_query(ct, f"SELECT eventID, eventName FROM {eds} WHERE eventName = 'DescribeTrails'")
        assert sorted(map(tuple, rows)) == direct
        assert described["QueryStatistics"]["EventsScanned"] >= len(everything)
        assert described["QueryStatistics"]["BytesScanned"] > 0

        # `cairn query` with the same configuration reads the same bucket, while cairn serve runs.
        out = subprocess.run([str(CAIRN), *c.config_args(conf), "query", "--data-dir", str(c.data_dir),
                              "--event-data-store", eds, "--format", "csv",
                              f"SELECT count(*) AS n FROM {eds} WHERE eventName = 'DescribeTrails'"],
                             capture_output=True, text=True, check=True)
        assert out.stdout.splitlines() == ["n", str(len(direct))]

        # The S3 endpoint goes down: calls are still acknowledged (the journal has them), and
        # ingestion fails, says so, and loses nothing; once it is back, the store holds each of
        # them exactly once.
        # Ingestion runs on whichever node holds its lease: on a cluster, either node's log
        # may say so.
        logs = [Path(n.log.name) for n in (c, getattr(c, "partner", None)) if n is not None and n.log]

        def said():
            return sum(log.read_text(errors="replace").count("lake bucket:") for log in logs)
        failures = said()
        cable.set_cut(True)
        during = describe_calls(ct, 6)
        wait_for(lambda: said() > failures, timeout=60, every=0.2)
        cable.set_cut(False)
        acked += during
        got = wait_for(lambda: ingested(ct, eds, acked), timeout=90, every=0.5)
        assert len(got) == len(set(got)), "an event was ingested twice"
        _, dup, _ = run_query(ct, f"SELECT eventID, count(*) FROM {eds} GROUP BY eventID HAVING count(*) > 1")
        assert dup == []
        assert not any(k.endswith(".tmp") for k in keys(peer, PREFIX))
        staging = c.data_dir / "lake" / "staging"
        # The queries above are recorded calls too, which ingestion may be staging right now:
        # what must not stay behind is a staged file once ingestion is done with it.
        wait_for(lambda: not staging.exists() or not [p for p in staging.rglob("*") if p.is_file()],
                 timeout=60, every=0.5)
    finally:
        c.stop()
        cable.close()


def test_kill_9_during_ingestion_into_a_bucket_keeps_every_event_exactly_once(workdir, tmp_path, moto):  # noqa: F811
    from test_durability import kill_under_load

    _, url, peer = moto
    peer.create_bucket(Bucket="audit-lake")
    conf = config(tmp_path, url)
    c = Cairn(workdir / "lake-bucket-kill", ["--config", str(conf)])
    c.start()
    try:
        ct = c.client()
        eds = ct.create_event_data_store(Name="crashy", TerminationProtectionEnabled=False)[
            "EventDataStoreArn"].split("/")[-1]
        acked = kill_under_load(c, "us-east-1", workers=3, pause=lambda i: 0.4 + (i % 3) * 0.3)
        c.start()
        ct = c.client()
        got = wait_for(lambda: ingested(ct, eds, acked), timeout=90, every=0.5)
        assert len(got) == len(set(got)), "an event was ingested twice"
        _, dup, _ = run_query(ct, f"SELECT eventID, count(*) FROM {eds} GROUP BY eventID HAVING count(*) > 1")
        assert dup == []
        assert len(acked) > 50
        assert keys(peer, f"{PREFIX}/{eds}/eventdate=")
    finally:
        c.stop()
