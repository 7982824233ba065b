"""A cairn cluster for end-to-end tests: a PostgreSQL server of the test's own (Debian's package,
initdb in a temporary directory, a free port on 127.0.0.1, stopped at the end), moto_server as
the S3-compatible object store, and `cairn serve --database … --object-store …` nodes, each with
a directory of its own holding the cluster's master keys."""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import boto3

from conftest import ROOT, Cairn, free_port

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
        self.dir = Path(base) / "postgres"
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
            self.dir.mkdir(parents=True, exist_ok=True)
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
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c max_connections=300"
        self._run("pg_ctl", "-D", "data", "-l", "postgres.log", "-o", options, "-w", "-t", "60", "start")
        return self

    def stop(self, mode="fast"):
        self._run("pg_ctl", "-D", "data", "-m", mode, "-w", "stop")

    @property
    def url(self):
        return f"postgres://cairn@127.0.0.1:{self.port}/postgres"


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
        self.config.write_text(
            f'database = "{self.postgres.url}"\n'
            f'[object_store]\nurl = "s3://{ObjectStore.BUCKET}/cluster"\n'
            f'[[external_bucket]]\nname = "{ObjectStore.BUCKET}"\nendpoint = "{self.store.endpoint}"\n'
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

    def stop(self):
        for n in self.nodes:
            n.stop()
        self.store.stop()
        try:
            self.postgres.stop()
        except RuntimeError:
            pass
