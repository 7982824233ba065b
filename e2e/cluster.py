"""A cairn cluster for end-to-end tests: a PostgreSQL server of the test's own (Debian's package,
initdb in a temporary directory, a free port on 127.0.0.1, stopped at the end), moto_server as
the S3-compatible object store, and `cairn serve --database … --object-store …` nodes, each with
a directory of its own holding the cluster's master keys."""

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import boto3

from conftest import ROOT, SingleCairn as Cairn, free_port

MOTO = ROOT / ".venv" / "bin" / "moto_server"
KEYS = ["kms.key", "signing.key", "identity.key", "s3/blobs/master.key"]


def _postgres_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run scripts/postgres")
    return Path(found[-1]).parent


class Postgres:
    """A PostgreSQL server of the test's own; as the postgres user when the tests run as root
    (initdb refuses root)."""

    def __init__(self, base):
        # Its own temporary directory: the postgres user must reach it, and may not reach the
        # test's (private) work directory.
        self.dir = Path(tempfile.mkdtemp(prefix="cairn-pg-"))
        self.bin = _postgres_bin()
        self.port = free_port()
        self.user = None
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            self.user = (pw.pw_uid, pw.pw_gid)

    def _run(self, tool, *args):
        def drop():
            if self.user:
                os.setgid(self.user[1])
                os.setuid(self.user[0])
        p = subprocess.run([str(self.bin / tool), *args], cwd=self.dir, preexec_fn=drop, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"{tool} failed: {p.stdout}{p.stderr}")

    def start(self):
        if not (self.dir / "data").exists():
            if self.user:
                os.chown(self.dir, *self.user)
                # The postgres user must reach its directory through the test's own (mkdtemp
                # makes them 0700): let others traverse, not list, up to the temporary root.
                for parent in self.dir.parents:
                    if parent == Path(tempfile.gettempdir()) or parent == Path("/"):
                        break
                    mode = parent.stat().st_mode
                    if not mode & 0o001:
                        os.chmod(parent, (mode & 0o7777) | 0o001)
            self._run("initdb", "-D", "data", "-U", "cairn", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c max_connections=1000"
        self._run("pg_ctl", "-D", "data", "-l", "postgres.log", "-o", options, "-w", "-t", "60", "start")
        return self

    def stop(self, mode="fast"):
        self._run("pg_ctl", "-D", "data", "-m", mode, "-w", "stop")

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def url(self):
        return f"postgres://cairn@127.0.0.1:{self.port}/postgres"

    def query(self, sql):
        """Rows of `sql` (psql's unaligned output, one list of fields per row)."""
        p = subprocess.run([str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "cairn",
                            "-d", "postgres", "-tA", "-F", "\t", "-c", sql], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"psql failed: {p.stderr}")
        return [line.split("\t") for line in p.stdout.splitlines() if line]


class ObjectStore:
    """moto_server as the cluster's S3-compatible object store, with the bodies' bucket made."""

    BUCKET = "cairn-bodies"

    def __init__(self, base):
        self.port = free_port()
        self.log = open(Path(base) / "moto.log", "ab")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([str(MOTO), "-H", "127.0.0.1", "-p", str(self.port)], stdout=self.log, stderr=self.log)
        self.s3 = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                               aws_access_key_id="AKIAMOTOEXAMPLE0001", aws_secret_access_key="moto-secret")
        deadline = time.time() + 30
        while True:
            try:
                self.s3.list_buckets()
                break
            except Exception:
                if time.time() > deadline:
                    self.stop()
                    raise
                time.sleep(0.2)
        self.s3.create_bucket(Bucket=self.BUCKET)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def keys(self):
        out = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.BUCKET):
            out += [o["Key"] for o in page.get("Contents", [])]
        return out


class Outage:
    """A TCP relay in front of a server, which a test can take down (connections refused, open
    ones cut) and bring back on the same port, while the server behind it keeps its state."""

    def __init__(self, target_port):
        self.target = target_port
        self.port = free_port()
        self.listener = None
        self.conns = []
        self.lock = threading.Lock()

    def up(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(128)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()
        return self

    def down(self):
        listener, self.listener = self.listener, None
        if listener:
            # Wakes the thread blocked in accept (closing alone leaves the socket listening).
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()
            self.conns = []

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class Cluster:
    """PostgreSQL, the object store, and cairn nodes sharing them."""

    def __init__(self, base):
        self.base = Path(base)
        self.base.mkdir(parents=True, exist_ok=True)
        self.postgres = Postgres(self.base)
        self.store = ObjectStore(self.base)
        self.nodes = []
        self.config = self.base / "cluster.toml"

    def start(self):
        self.postgres.start()
        self.store.start()
        # Nodes reach the object store through a relay that a test can take down.
        self.store_link = Outage(self.store.port).up()
        self.config.write_text(
            f'database = "{self.postgres.url}"\n'
            f'[object_store]\nurl = "s3://{ObjectStore.BUCKET}/cluster"\n'
            f'[[external_bucket]]\nname = "{ObjectStore.BUCKET}"\nendpoint = "http://127.0.0.1:{self.store_link.port}"\n'
            f'access_key_id = "AKIAMOTOEXAMPLE0001"\nsecret_access_key = "moto-secret"\n')
        return self

    def node(self, extra_args=()):
        """A new node; every node after the first is given the first one's master keys, as an
        operator copies them."""
        n = Cairn(self.base / f"node{len(self.nodes)}", ["--config", str(self.config), *extra_args])
        n.data_dir.mkdir(parents=True, exist_ok=True)
        if self.nodes:
            for k in KEYS:
                src = self.nodes[0].data_dir / k
                dst = n.data_dir / k
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
        self.nodes.append(n)
        return n.start()

    def node_name(self, node):
        """The name a node holds leases under (it prints it when it starts)."""
        text = open(node.log.name, errors="replace").read()
        names = re.findall(r"cluster:\s+node (\S+) on", text)
        return names[-1] if names else None

    def lease_holder(self, consumer):
        """The node whose lease on `consumer` has not expired, or None."""
        rows = self.postgres.query(
            "SELECT holder FROM cairn_leases.consumer_leases WHERE name = '%s' "
            "AND expires_ms > (extract(epoch from clock_timestamp()) * 1000)::bigint" % consumer)
        if not rows:
            return None
        return next((n for n in self.nodes if n.proc and self.node_name(n) == rows[0][0]), None)

    def lease_epoch(self, consumer):
        """The epoch of `consumer`'s lease (it grows with each new holder, or incarnation of
        one), or 0 before anyone held it."""
        rows = self.postgres.query(
            "SELECT epoch FROM cairn_leases.consumer_leases WHERE name = '%s'" % consumer)
        return int(rows[0][0]) if rows else 0

    def stop(self):
        for n in self.nodes:
            n.stop()
        # Whatever was started: the relay exists once the object store answered.
        if getattr(self, "store_link", None):
            self.store_link.down()
        self.store.stop()
        try:
            self.postgres.stop()
        except RuntimeError:
            pass
        self.postgres.remove()
