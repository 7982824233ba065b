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


def start_moto(port, log):
    """Starts moto_server on `port`; returns the process and an S3 client for it, once it answers."""
    p = subprocess.Popen([str(MOTO), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIAMOTOEXAMPLE0001", aws_secret_access_key="moto-secret")
    deadline = time.time() + 30
    while True:
        try:
            client.list_buckets()
            return p, client
        except Exception:
            if time.time() > deadline:
                p.kill()
                raise
            time.sleep(0.2)


def stop(p):
    if p.poll() is None:
        os.kill(p.pid, signal.SIGCONT)
        p.terminate()
        p.wait()


@pytest.fixture
def moto(tmp_path):
    port = free_port()
    log = open(tmp_path / "moto.log", "ab")
    p, client = start_moto(port, log)
    yield p, f"http://127.0.0.1:{port}", client
    stop(p)


def records_in(client, bucket):
    """The records of every log file in `bucket`."""
    recs = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            assert o["Key"].endswith(".json.gz")
            if "/CloudTrail-Digest/" in o["Key"]:
                continue  # a digest, not a log file (written once its interval passed)
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


def test_delivery_to_an_external_bucket_survives_a_restart_of_its_server(workdir, tmp_path):
    """moto_server stopped (its in-memory objects gone with it) and started again on the same
    port: delivery reports the outage, keeps the events, and once the bucket is back delivers
    each of them exactly once over both lives of the server."""
    port = free_port()
    log = open(tmp_path / "moto.log", "ab")
    proc, peer = start_moto(port, log)
    peer.create_bucket(Bucket="ext-logs")
    conf = tmp_path / "cairn.toml"
    conf.write_text(f'[[external_bucket]]\nname = "ext-logs"\nendpoint = "http://127.0.0.1:{port}"\n'
                    'access_key_id = "AKIAMOTOEXAMPLE0001"\nsecret_access_key = "moto-secret"\n')
    c = Cairn(workdir / "external-restart", ["--config", str(conf), "--delivery-interval", "1", "--test-clock"])
    c.start()
    try:
        ct = c.client()
        ct.create_trail(Name="to-moto", S3BucketName="ext-logs")
        ct.start_logging(Name="to-moto")
        before = [ct.describe_trails()["ResponseMetadata"]["RequestId"] for _ in range(5)]
        c.advance_until(lambda: set(before) <= {r["requestID"] for r in records_in(peer, "ext-logs")}, limit=40)
        # No call to cairn from here to the stop: nothing more is on its way to the first server
        # once a delivery round has run since.
        c.advance(2)
        first_life = records_in(peer, "ext-logs")
        stop(proc)

        during = [ct.describe_trails()["ResponseMetadata"]["RequestId"] for _ in range(5)]
        status = c.advance_until(lambda: (s := ct.get_trail_status(Name="to-moto")).get("LatestDeliveryError") and s,
                                 limit=30)
        assert status["LatestDeliveryError"]
        assert status["LatestDeliveryAttemptTime"] > status["LatestDeliveryAttemptSucceeded"]

        proc, peer = start_moto(port, log)
        peer.create_bucket(Bucket="ext-logs")
        after = [ct.describe_trails()["ResponseMetadata"]["RequestId"]]
        # Retries back off by the instance's clock: advancing it brings the next attempt.
        c.advance_until(lambda: set(during + after) <= {r["requestID"] for r in records_in(peer, "ext-logs")},
                        step=2, limit=60)
        c.advance_until(lambda: "LatestDeliveryError" not in ct.get_trail_status(Name="to-moto"), limit=40)
        second_life = records_in(peer, "ext-logs")
        ids = [r["eventID"] for r in first_life + second_life]
        assert len(ids) == len(set(ids)), "no event delivered twice across the restart"
        delivered = {r["requestID"] for r in first_life + second_life}
        assert set(before + during + after) <= delivered
        assert not set(before) & {r["requestID"] for r in second_life}
    finally:
        c.stop()
        stop(proc)


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


def make_tls_files(d):
    """A private CA and a certificate it signs for 127.0.0.1 (cryptography, from PyPI)."""
    import datetime
    import ipaddress
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cairn test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    paths = {n: d / f"{n}.pem" for n in ("ca", "cert", "key")}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return paths


def test_delivery_to_an_https_bucket_with_a_private_ca(workdir, tmp_path):
    tls = make_tls_files(tmp_path)
    port = free_port()
    log = open(tmp_path / "moto-tls.log", "wb")
    p = subprocess.Popen([str(MOTO), "-H", "127.0.0.1", "-p", str(port), "-c", str(tls["cert"]), "-k", str(tls["key"])],
                         stdout=log, stderr=log)
    url = f"https://127.0.0.1:{port}"
    peer = boto3.client("s3", endpoint_url=url, region_name="us-east-1", verify=str(tls["ca"]),
                        aws_access_key_id="AKIAMOTOEXAMPLE0001", aws_secret_access_key="moto-secret")
    try:
        def up():
            try:
                return peer.list_buckets() is not None
            except Exception:
                return False
        wait_for(up, timeout=30)
        peer.create_bucket(Bucket="tls-logs")
        conf = tmp_path / "cairn.toml"
        body = f'''
[[external_bucket]]
name = "tls-logs"
endpoint = "{url}"
ca_file = "{tls["ca"]}"
access_key_id = "AKIAMOTOEXAMPLE0001"
secret_access_key = "moto-secret"
'''
        conf.write_text(body)
        c = Cairn(workdir / "external-tls", ["--config", str(conf), "--delivery-interval", "1", "--digest-interval", "2",
                                             "--test-clock"])
        c.start()
        try:
            ct = c.client()
            start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
            arn = ct.create_trail(Name="to-tls", S3BucketName="tls-logs", EnableLogFileValidation=True)["TrailARN"]
            ct.start_logging(Name="to-tls")
            acked = [ct.describe_trails()["ResponseMetadata"]["RequestId"] for _ in range(3)]
            c.advance_until(lambda: set(acked) <= {r["requestID"] for r in records_in(peer, "tls-logs")}, limit=40)
            c.advance_until(lambda: [o for o in peer.list_objects_v2(Bucket="tls-logs").get("Contents", [])
                                     if "/CloudTrail-Digest/" in o["Key"]], limit=40)
            ct.stop_logging(Name="to-tls")
            c.advance(3)  # the final digest is written
            # cairn validate-logs reads the same bucket over HTTPS, trusting the private CA.
            from conftest import CAIRN
            keys_file = tmp_path / "keys.json"
            keys_file.write_text(json.dumps(c.aws("cloudtrail", "list-public-keys")[1]))
            env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
            env.update({"AWS_ACCESS_KEY_ID": "AKIAMOTOEXAMPLE0001", "AWS_SECRET_ACCESS_KEY": "moto-secret"})
            # Up to the instance's time, which the test clock has moved past the wall clock.
            end = c.now().strftime("%Y-%m-%dT%H:%M:%SZ")
            args = [str(CAIRN), "validate-logs", "--data-dir", str(c.data_dir), "--trail-arn", arn, "--start-time", start,
                    "--end-time", end, "--endpoint-url", url, "--public-keys", str(keys_file), "--s3-bucket", "tls-logs"]
            ok = subprocess.run([*args, "--ca-bundle", str(tls["ca"])], env=env, capture_output=True, text=True)
            assert ok.returncode == 0, ok.stdout + ok.stderr
            untrusted = subprocess.run(args, env=env, capture_output=True, text=True)
            assert untrusted.returncode == 255 and "certificate" in untrusted.stderr, untrusted.stderr
        finally:
            c.stop()
        # Without the private CA, the same endpoint is not trusted: the trail cannot be made,
        # and the error says why.
        conf.write_text(body.replace(f'ca_file = "{tls["ca"]}"\n', ""))
        c2 = Cairn(workdir / "external-tls-untrusted", ["--config", str(conf), "--delivery-interval", "1"])
        c2.start()
        try:
            with pytest.raises(Exception) as e:
                c2.client().create_trail(Name="untrusted", S3BucketName="tls-logs")
            assert "S3BucketDoesNotExistException" in str(e.value) and "certificate" in str(e.value)
        finally:
            c2.stop()
    finally:
        p.terminate()
        p.wait()


def test_cairn_validate_logs_checks_a_trail_held_by_another_s3(workdir, tmp_path, moto):
    """Digests and log files delivered to moto_server, validated there by `cairn validate-logs`
    (S3 calls to moto, public keys from `aws cloudtrail list-public-keys`), tampering caught."""
    from datetime import datetime, timedelta, timezone
    from conftest import CAIRN
    _, url, peer = moto
    peer.create_bucket(Bucket="ext-val")
    conf = tmp_path / "cairn.toml"
    conf.write_text(f'[[external_bucket]]\nname = "ext-val"\nendpoint = "{url}"\n'
                    'access_key_id = "AKIAMOTOEXAMPLE0001"\nsecret_access_key = "moto-secret"\n')
    c = Cairn(workdir / "external-validate", ["--config", str(conf), "--delivery-interval", "1", "--digest-interval", "2",
                                              "--test-clock"])
    c.start()
    try:
        start = (datetime.now(timezone.utc) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        ct = c.client()
        arn = ct.create_trail(Name="checked", S3BucketName="ext-val", EnableLogFileValidation=True)["TrailARN"]
        ct.start_logging(Name="checked")

        def digests():
            ct.describe_trails()
            keys = [o["Key"] for p in peer.get_paginator("list_objects_v2").paginate(Bucket="ext-val") for o in p.get("Contents", [])]
            listed = [k for k in keys if "/CloudTrail-Digest/" in k]
            return len(listed) >= 3 and listed
        c.advance_until(digests, step=2, limit=60)
        ct.stop_logging(Name="checked")
        c.advance(3)  # the final digest is written
        _, keys_json, _ = c.aws("cloudtrail", "list-public-keys")
        keys_file = tmp_path / "keys.json"
        keys_file.write_text(json.dumps(keys_json))

        def validate():
            env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
            env.update({"AWS_ACCESS_KEY_ID": "AKIAMOTOEXAMPLE0001", "AWS_SECRET_ACCESS_KEY": "moto-secret"})
            # Up to the instance's time, which the test clock has moved past the wall clock.
            end = c.now().strftime("%Y-%m-%dT%H:%M:%SZ")
            p = subprocess.run([str(CAIRN), "validate-logs", "--data-dir", str(c.data_dir), "--trail-arn", arn,
                                "--start-time", start, "--end-time", end, "--endpoint-url", url, "--public-keys", str(keys_file),
                                "--s3-bucket", "ext-val", "--verbose"], env=env, capture_output=True, text=True)
            return p.returncode, p.stdout + p.stderr
        code, out = validate()
        assert code == 0, out
        import re
        counts = re.search(r"(\d+)/(\d+) digest files valid", out)
        assert counts and counts.group(1) == counts.group(2) and int(counts.group(1)) >= 3, out
        assert re.search(r"(\d+)/\1 log files valid", out), out
        log = next(k for p in peer.get_paginator("list_objects_v2").paginate(Bucket="ext-val")
                   for o in p.get("Contents", []) if "/CloudTrail/" in (k := o["Key"]))
        peer.put_object(Bucket="ext-val", Key=log, Body=gzip.compress(b'{"Records":[]}'))
        code, out = validate()
        assert code == 1 and f"s3://ext-val/{log}\tINVALID: hash value doesn't match" in out, out
    finally:
        c.stop()
