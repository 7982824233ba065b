"""End-to-end harness: real `cairn serve` processes on 127.0.0.1, driven by the real AWS CLI v1
and boto3 from the project virtualenv."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import botocore.config
import botocore.exceptions
import pytest

ROOT = Path(__file__).resolve().parent.parent
CAIRN = Path(os.environ.get("CAIRN_BIN", ROOT / "target" / "debug" / "cairn"))
AWS = Path(os.environ.get("AWS_CLI", ROOT / ".venv" / "bin" / "aws"))


def _real_data():
    """The corpus of real CloudTrail records: $CAIRN_REAL_DATA, or ../shared beside the checkout."""
    if os.environ.get("CAIRN_REAL_DATA"):
        return Path(os.environ["CAIRN_REAL_DATA"])
    for base in [ROOT.parent, *ROOT.parents, Path("/work")]:
        candidate = base / "shared" / "data" / "cloudtrail-real"
        if (candidate / "records.jsonl.gz").exists():
            return candidate
    return ROOT.parent / "shared" / "data" / "cloudtrail-real"


REAL_DATA = _real_data()


def pytest_configure(config):
    # scripts/test runs the suite on two workers, then the tests marked `alone` by themselves:
    # they measure throughput or exhaust the machine's connections and file descriptors.
    config.addinivalue_line("markers", "alone: run by itself, not beside other tests")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cairn:
    """One cairn instance: a data directory and, while started, a `cairn serve` process."""

    def __init__(self, data_dir, extra_args=()):
        self.data_dir = Path(data_dir)
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self.log = None
        # How far this instance's test clock runs ahead of the wall clock, as `advance` reports.
        self.offset = 0

    def start(self):
        chosen = self.port is None
        for attempt in range(3):
            try:
                return self._start()
            except RuntimeError:
                # Another worker may have taken the free port between picking and binding it.
                if not chosen or attempt == 2:
                    raise
                self.port = None

    def _start(self):
        self.port = self.port or free_port()
        self.offset = 0  # a new process's test clock starts at the wall clock
        self.log = open(self.data_dir.parent / f"{self.data_dir.name}.log", "ab")
        self.proc = subprocess.Popen(
            [str(CAIRN), "serve", "--data-dir", str(self.data_dir), "--listen", f"127.0.0.1:{self.port}", *self.extra_args],
            stdout=self.log,
            stderr=self.log,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cairn serve exited with {self.proc.returncode}; see {self.log.name}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("cairn serve did not start listening")

    def advance(self, seconds, step=None):
        """Jumps this instance's test clock (`cairn serve --test-clock`) ahead and returns once the
        deliveries and digests that became due are written: what tests do instead of sleeping.
        With `step`, moves in jumps of `step` seconds, each running what became due, as time
        passing would (rather than one jump, which digests as one long period)."""
        if step:
            out = ""
            for _ in range(int(seconds) // int(step)):
                out = self.advance(step)
            return out
        p = subprocess.run([str(CAIRN), "clock", "advance", str(int(seconds)), "--data-dir", str(self.data_dir)],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise AssertionError(f"cairn clock advance failed: {p.stderr}")
        ahead = re.search(r"\(test clock (\d+) s ahead\)", p.stdout)
        if not ahead:
            raise AssertionError(f"cairn clock advance did not say how far ahead it is: {p.stdout}")
        self.offset = int(ahead.group(1))
        return p.stdout

    def advance_until(self, pred, step=1, limit=120):
        """Calls `pred` until it returns something truthy, which it returns, advancing the test
        clock `step` seconds after each miss; fails once `limit` seconds of instance time passed."""
        for _ in range(max(1, limit // step) + 1):
            v = pred()
            if v:
                return v
            self.advance(step)
        raise AssertionError(f"not reached within {limit} s of instance time")

    def now(self):
        """This instance's time: the wall clock plus how far its test clock was advanced. What
        to give validators as --end-time, since digests are stamped with the instance's time."""
        return datetime.now(timezone.utc) + timedelta(seconds=self.offset)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    @staticmethod
    def _exports(out):
        env = {}
        for line in out.splitlines():
            k, v = line.removeprefix("export ").split("=", 1)
            env[k] = v
        return env

    def env(self, account=None):
        """The variables `cairn env` prints (for `account`, else the first account), as a dict."""
        extra = ["--account", account] if account else []
        out = subprocess.run([str(CAIRN), "env", "--data-dir", str(self.data_dir), *extra], check=True,
                             capture_output=True, text=True).stdout
        return self._exports(out)

    def create_account(self):
        """A new account on this instance (`cairn accounts create`): its exports, as a dict."""
        out = subprocess.run([str(CAIRN), "accounts", "create", "--data-dir", str(self.data_dir)], check=True,
                             capture_output=True, text=True).stdout
        return self._exports(out)

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoints(self):
        """Every endpoint this instance answers on (a cluster's nodes each have one)."""
        return [f"http://127.0.0.1:{self.port}"]

    @property
    def data_dirs(self):
        """Every node's data directory (a cluster's nodes each have one)."""
        return [self.data_dir]

    def cli_args(self):
        """What `cairn` commands run on this instance's data directory need besides it."""
        return []

    def config_args(self, conf):
        """The arguments that give a `cairn` command configuration file `conf` (a cluster's
        nodes read it merged with the cluster's own)."""
        return ["--config", str(conf)]

    def lake_files(self, eds):
        """The folder of event data store `eds`'s files (Parquet, `_committed.json`)."""
        return self.data_dir / "lake" / eds

    def stored_bodies(self):
        """The names of the object bodies this instance keeps (files in its data directory)."""
        return sorted(p.name for p in (self.data_dir / "s3" / "blobs").rglob("*")
                      if p.is_file() and not p.name.startswith("small.db") and p.name != "master.key")

    def next_endpoint(self):
        """The endpoint the next client or CLI run talks to (a cluster spreads them)."""
        return self.endpoint

    def client(self, service="cloudtrail", region="us-east-1", config=None, account=None):
        e = self.env(account)
        base = botocore.config.Config(retries={"mode": "standard", "max_attempts": 1})
        config = base.merge(config) if config else base
        return boto3.client(
            service,
            endpoint_url=self.next_endpoint(),
            region_name=region,
            aws_access_key_id=e["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=e["AWS_SECRET_ACCESS_KEY"],
            config=config,
        )

    def aws(self, *args, region="us-east-1", env_overrides=None, check=True, account=None):
        """Runs the real AWS CLI against this instance; returns (returncode, parsed JSON or text, stderr)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(self.env(account))
        env.update({"AWS_DEFAULT_REGION": region, "AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "1",
                    "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
        env.update(env_overrides or {})
        p = subprocess.run([str(AWS), *args, "--output", "json"], env=env, capture_output=True, text=True)
        if check and p.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed ({p.returncode}): {p.stderr}")
        try:
            out = json.loads(p.stdout) if p.stdout.strip() else None
        except json.JSONDecodeError:
            out = p.stdout  # `aws s3 …` commands print text
        return p.returncode, out, p.stderr


@pytest.fixture(scope="session")
def workdir():
    d = Path(tempfile.mkdtemp(prefix="cairn-e2e-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def cairn(workdir, request):
    c = Cairn(workdir / request.module.__name__)
    c.start()
    yield c
    c.stop()


@pytest.fixture
def new_cairn(workdir, request):
    """A factory for fresh instances, each stopped at the end of the test."""
    made = []

    def make(extra_args=(), start=True):
        c = Cairn(workdir / f"{request.node.name}-{len(made)}", extra_args)
        made.append(c)
        return c.start() if start else c

    yield make
    for c in made:
        c.stop()


def lookup_all(client, **kwargs):
    """Every event a LookupEvents paginator yields, in order."""
    events = []
    for page in client.get_paginator("lookup_events").paginate(**kwargs):
        events.extend(page["Events"])
    return events


def documented_policy(bucket, account, prefix=None, trail_arn=None):
    """The bucket policy the CloudTrail User Guide documents for trail delivery; with
    `trail_arn`, its current form, which allows only that trail (`aws:SourceArn`)."""
    key = f"{prefix}/AWSLogs/{account}/*" if prefix else f"AWSLogs/{account}/*"
    source = {"aws:SourceArn": trail_arn} if trail_arn else {}
    acl = {"Sid": "AWSCloudTrailAclCheck20150319", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
           "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}"}
    if source:
        acl["Condition"] = {"StringEquals": source}
    return json.dumps({"Version": "2012-10-17", "Statement": [acl,
        {"Sid": "AWSCloudTrailWrite20150319", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/{key}",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", **source}}}]})


def organization_policy(bucket, management, org_id, trail_arn):
    """The bucket policy the CloudTrail User Guide documents for an organization trail: the
    management account's folder and the organization's."""
    source = {"aws:SourceArn": trail_arn}
    write = lambda sid, folder: {  # noqa: E731
        "Sid": sid, "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/AWSLogs/{folder}/*",
        "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", **source}}}
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "AWSCloudTrailAclCheck20150319", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}", "Condition": {"StringEquals": source}},
        write("AWSCloudTrailWrite20150319", management),
        write("AWSCloudTrailOrganizationWrite20150319", org_id)]})


def wait_for(pred, timeout=40, every=0.3):
    """Polls `pred` until it returns something truthy, which it returns."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(every)
    raise AssertionError("timed out waiting")


# The one-process instance, whatever `Cairn` is made to mean below.
SingleCairn = Cairn


_shared_infra = None


def shared_infra():
    """This test process's PostgreSQL server and object store, started at first use and stopped
    when the process ends: every cluster instance gets a database and a bucket prefix of its
    own on them (starting a server per instance would double the suite's time)."""
    global _shared_infra
    if _shared_infra is None:
        import atexit
        import itertools
        import cluster as cluster_mod

        base = Path(tempfile.mkdtemp(prefix="cairn-e2e-infra-"))
        postgres = cluster_mod.Postgres(base).start()
        store = cluster_mod.ObjectStore(base).start()

        stopped = []

        def stop():
            if stopped:
                return
            stopped.append(True)
            store.stop()
            try:
                postgres.stop()
            except (RuntimeError, OSError):
                pass
            postgres.remove()
            shutil.rmtree(base, ignore_errors=True)

        atexit.register(stop)
        _shared_infra = (postgres, store, itertools.count(), stop)
    return _shared_infra


def pytest_sessionfinish(session, exitstatus):
    # A test worker may end without running atexit handlers: stop the servers here.
    if _shared_infra is not None:
        _shared_infra[3]()


class ClusterCairn(SingleCairn):
    """With CAIRN_E2E_CLUSTER=1, every instance a test starts is two nodes of a cluster: a
    database of its own on this test process's PostgreSQL server, a prefix of its own in its
    object store (moto_server). The data directory is the first node's (what `cairn env`,
    `cairn clock advance` and the other data-directory commands use), and clients are spread
    over both nodes, a call to one, the next to the other."""

    def __init__(self, data_dir, extra_args=()):
        super().__init__(data_dir, extra_args)
        self.config = None
        self.partner = None
        self.turn = 0

    def _ensure_config(self):
        """The cluster's configuration file: a new database and bucket prefix the first time."""
        if self.config is None:
            postgres, store, numbers, _ = shared_infra()
            database = f"cairn_{next(numbers)}"
            postgres.query(f"CREATE DATABASE {database}")
            url = postgres.url.rsplit("/", 1)[0] + "/" + database
            self.data_dir.parent.mkdir(parents=True, exist_ok=True)
            self.config = self.data_dir.parent / f"{self.data_dir.name}-cluster.toml"
            self.cluster_top = f'database = "{url}"\n'
            self.cluster_tables = (
                f'[object_store]\nurl = "s3://{store.BUCKET}/{database}"\n'
                f'[[external_bucket]]\nname = "{store.BUCKET}"\nendpoint = "{store.endpoint}"\n'
                f'access_key_id = "AKIAMOTOEXAMPLE0001"\nsecret_access_key = "moto-secret"\n')
            self.config.write_text(self.cluster_top + self.cluster_tables)
            self.bodies = (store, database)
        return self.config

    def _merged(self, conf):
        """A test's own configuration file with the cluster's: its top-level settings after
        the cluster's database, its tables before the cluster's (TOML lets an array of tables
        such as [[external_bucket]] go on after other tables)."""
        self._ensure_config()
        conf = Path(conf)
        merged = self.data_dir.parent / f"{self.data_dir.name}-cluster-{conf.stem}.toml"
        merged.write_text(self.cluster_top + conf.read_text() + "\n" + self.cluster_tables)
        return merged

    def _launch_args(self):
        """The test's arguments, its --config (if any) merged with the cluster's."""
        args, out, merged = list(self.extra_args), [], False
        while args:
            a = args.pop(0)
            if a == "--config" and args:
                out += ["--config", str(self._merged(args.pop(0)))]
                merged = True
            elif a.startswith("--config="):
                out += ["--config", str(self._merged(a.split("=", 1)[1]))]
                merged = True
            else:
                out.append(a)
        return out if merged else ["--config", str(self._ensure_config()), *out]

    def _user_config(self):
        for i, a in enumerate(self.extra_args):
            if a == "--config" and i + 1 < len(self.extra_args):
                return self.extra_args[i + 1]
            if a.startswith("--config="):
                return a.split("=", 1)[1]
        return None

    def cli_args(self):
        user = self._user_config()
        return ["--config", str(self._merged(user) if user else self._ensure_config())]

    def config_args(self, conf):
        return ["--config", str(self._merged(conf))]

    def lake_files(self, eds):
        """A copy of the store's files as they are now in the cluster's object store. The
        store goes on ingesting (a query is a recorded call) and compacting meanwhile, so a
        file listed may be gone when fetched: the copy is taken again until one listing's
        files all arrive and the listing after it is the same."""
        store, prefix = self.bodies
        folder = self.data_dir.parent / f"{self.data_dir.name}-lake-copy" / eds
        mine = f"{prefix}/lake/{eds}/"
        for _ in range(20):
            shutil.rmtree(folder, ignore_errors=True)
            listed = sorted(k for k in store.keys() if k.startswith(mine))
            try:
                for k in listed:
                    dest = folder / k[len(mine):]
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    store.s3.download_file(store.BUCKET, k, str(dest))
            except botocore.exceptions.ClientError:
                time.sleep(0.2)
                continue
            if sorted(k for k in store.keys() if k.startswith(mine)) == listed:
                return folder
            time.sleep(0.2)
        raise AssertionError(f"the files of {eds} kept changing while they were copied")

    def _start(self):
        import cluster as cluster_mod

        self._ensure_config()
        launch = self._launch_args()
        user, self.extra_args = self.extra_args, launch
        try:
            super()._start()
        finally:
            self.extra_args = user
        if self.partner is None:
            self.partner = SingleCairn(self.data_dir.with_name(f"{self.data_dir.name}-node1"), launch)
            self.partner.data_dir.mkdir(parents=True, exist_ok=True)
            for k in cluster_mod.KEYS:
                dst = self.partner.data_dir / k
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(self.data_dir / k, dst)
            # The nodes behind one name serve one certificate (--tls-self-signed's CA and its
            # certificate, as an operator copies them).
            if (self.data_dir / "tls").is_dir():
                shutil.copytree(self.data_dir / "tls", self.partner.data_dir / "tls")
        self.partner.extra_args = launch
        self.partner.start()
        return self

    def stored_bodies(self):
        """The names of the object bodies this cluster keeps in its object store (its prefix,
        without the lake's files beside them)."""
        store, prefix = self.bodies
        return sorted(k.rsplit("/", 1)[1] for k in store.keys()
                      if k.startswith(prefix + "/") and len(k.split("/")) == 3 and len(k.split("/")[1]) == 2)

    @property
    def data_dirs(self):
        """Every node's data directory."""
        return [self.data_dir] + ([self.partner.data_dir] if self.partner else [])

    def stop(self):
        if self.partner:
            self.partner.stop()
        super().stop()

    def kill9(self):
        if self.partner and self.partner.proc:
            self.partner.kill9()
        super().kill9()

    def next_endpoint(self):
        """Alternates between the nodes: one client or CLI run on one, the next on the other.
        (`endpoint` stays the first node's, so that a request built from it and sent to it
        reaches the node it was signed for.)"""
        self.turn += 1
        port = self.partner.port if self.partner and self.partner.proc and self.turn % 2 == 0 else self.port
        tls = any(a.startswith("--tls-") for a in self.extra_args)
        return f"{'https' if tls else 'http'}://127.0.0.1:{port}"

    @property
    def endpoints(self):
        ports = [self.port] + ([self.partner.port] if self.partner and self.partner.proc else [])
        return [f"http://127.0.0.1:{p}" for p in ports]

    def aws(self, *args, env_overrides=None, **kwargs):
        env = {"AWS_ENDPOINT_URL": self.next_endpoint(), **(env_overrides or {})}
        return super().aws(*args, env_overrides=env, **kwargs)


if os.environ.get("CAIRN_E2E_CLUSTER"):
    Cairn = ClusterCairn  # noqa: F811 - every test's instances become clusters


def start_object_trail(ct, trail, logs, bucket):
    """A trail into `logs` that records the data events of `bucket`'s objects, logging."""
    ct.create_trail(Name=trail, S3BucketName=logs)
    ct.put_event_selectors(TrailName=trail, AdvancedEventSelectors=[{"Name": "objects", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{bucket}/"]}]}])
    ct.start_logging(Name=trail)
