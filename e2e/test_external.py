"""Delivery to a bucket on another, independent S3 server (moto's moto_server from PyPI):
configured in cairn's TOML file, surviving that server's outage, every event delivered once."""

import gzip
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import boto3
import pytest

from conftest import ROOT, Cairn, free_port, lookup_all, wait_for

MOTO = ROOT / ".venv" / "bin" / "moto_server"


@pytest.fixture
def moto(tmp_path):
    port = free_port()
    log = open(tmp_path / "moto.log", "wb")
    p = subprocess.Popen([str(MOTO), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIAMOTOEXAMPLE0001", aws_secret_access_key="moto-secret")
    deadline = time.time() + 30
    while True:
        try:
            client.list_buckets()
            break
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    yield p, url, client
    if p.poll() is None:
        os.kill(p.pid, signal.SIGCONT)
        p.terminate()
        p.wait()


def records_in(client, bucket):
    recs = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            assert o["Key"].endswith(".json.gz")
            recs += json.loads(gzip.decompress(client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()))["Records"]
    return recs


def test_delivery_to_an_external_bucket_survives_its_outage(workdir, tmp_path, moto):
    proc, url, peer = moto
    peer.create_bucket(Bucket="ext-logs")
    conf = tmp_path / "cairn.toml"
    conf.write_text(f'''
[[external_bucket]]
name = "ext-logs"
endpoint = "{url}"
region = "us-east-1"
access_key_id = "AKIAMOTOEXAMPLE0001"
secret_access_key = "moto-secret"
''')
    c = Cairn(workdir / "external", ["--config", str(conf), "--delivery-interval", "1"])
    c.start()
    try:
        ct = c.client()
        assert ct.create_trail(Name="to-moto", S3BucketName="ext-logs")["S3BucketName"] == "ext-logs"
        ct.start_logging(Name="to-moto")
        acked = [ct.describe_trails()["ResponseMetadata"]["RequestId"] for _ in range(5)]
        wait_for(lambda: set(acked) <= {r["requestID"] for r in records_in(peer, "ext-logs")})
        account = c.env()["CAIRN_ACCOUNT_ID"]
        keys = [o["Key"] for o in peer.list_objects_v2(Bucket="ext-logs")["Contents"]]
        assert all(k.startswith(f"AWSLogs/{account}/CloudTrail/us-east-1/") for k in keys), keys

        # The peer stops answering: delivery fails, says so, and keeps the events.
        os.kill(proc.pid, signal.SIGSTOP)
        during = [ct.describe_trails()["ResponseMetadata"]["RequestId"] for _ in range(5)]
        status = wait_for(lambda: (s := ct.get_trail_status(Name="to-moto")).get("LatestDeliveryError") and s, timeout=30)
        assert status["LatestDeliveryError"]
        os.kill(proc.pid, signal.SIGCONT)
        acked += during + [ct.describe_trails()["ResponseMetadata"]["RequestId"]]
        wait_for(lambda: set(acked) <= {r["requestID"] for r in records_in(peer, "ext-logs")})
        recs = records_in(peer, "ext-logs")
        ids = [r["eventID"] for r in recs]
        assert len(ids) == len(set(ids)), "every event delivered exactly once"
        wait_for(lambda: "LatestDeliveryError" not in ct.get_trail_status(Name="to-moto"))
        # Each delivered record is the one event history holds.
        history = {json.loads(e["CloudTrailEvent"])["requestID"]: json.loads(e["CloudTrailEvent"])
                   for e in lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DescribeTrails"}])}
        for r in recs:
            if r["eventName"] == "DescribeTrails":
                assert history[r["requestID"]] == r
    finally:
        c.stop()


def test_trail_on_a_missing_external_bucket_is_refused(workdir, tmp_path, moto):
    _, url, _ = moto
    conf = tmp_path / "cairn.toml"
    conf.write_text(f'[[external_bucket]]\nname = "not-there"\nendpoint = "{url}"\naccess_key_id = "A"\nsecret_access_key = "s"\n')
    c = Cairn(workdir / "external-missing", ["--config", str(conf)])
    c.start()
    try:
        import botocore.exceptions
        with pytest.raises(botocore.exceptions.ClientError) as e:
            c.client().create_trail(Name="nowhere", S3BucketName="not-there")
        assert e.value.response["Error"]["Code"] == "S3BucketDoesNotExistException"
    finally:
        c.stop()
