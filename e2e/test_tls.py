"""HTTPS on cairn's own endpoint: `--tls-self-signed` (a local CA that `cairn env` points
AWS_CA_BUNDLE at) and `--tls-cert`/`--tls-key`, exercised with the real AWS CLI and boto3."""

import json
import socket
import ssl
import subprocess

import boto3
import botocore.config
import botocore.exceptions
import pytest

from conftest import CAIRN


def tls_client(c, service, verify=None):
    e = c.env()
    return boto3.client(
        service,
        endpoint_url=e["AWS_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id=e["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=e["AWS_SECRET_ACCESS_KEY"],
        verify=verify if verify is not None else e["AWS_CA_BUNDLE"],
        config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 1}),
    )


def test_self_signed_endpoint_serves_the_cli_and_boto3(new_cairn, tmp_path):
    c = new_cairn(["--tls-self-signed"])
    e = c.env()
    assert e["AWS_ENDPOINT_URL"] == f"https://127.0.0.1:{c.port}"
    assert e["AWS_CA_BUNDLE"].endswith("/tls/ca.pem")

    # The AWS CLI, trusting the CA through AWS_CA_BUNDLE from `cairn env`.
    _, who, _ = c.aws("sts", "get-caller-identity")
    assert who["Account"] == e["CAIRN_ACCOUNT_ID"]
    src = tmp_path / "hello.txt"
    src.write_bytes(b"over TLS\n" * 10000)
    c.aws("s3", "mb", "s3://tls-bucket")
    c.aws("s3", "cp", str(src), "s3://tls-bucket/hello.txt")
    back = tmp_path / "back.txt"
    c.aws("s3", "cp", "s3://tls-bucket/hello.txt", str(back))
    assert back.read_bytes() == src.read_bytes()

    # boto3: the calls above are recorded with their true identity.
    ct = tls_client(c, "cloudtrail")
    events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateBucket"}])["Events"]
    assert len(events) == 1
    record = json.loads(events[0]["CloudTrailEvent"])
    assert record["userIdentity"]["type"] == "Root"
    # Calls over HTTPS carry tlsDetails as AWS writes them.
    # (The host the CLI called: a cluster's instance spreads its calls over its nodes.)
    called = record["tlsDetails"]["clientProvidedHostHeader"]
    assert called in [e.split("://")[1] for e in c.endpoints]
    assert record["tlsDetails"] == {
        "tlsVersion": "TLSv1.3",
        "cipherSuite": record["tlsDetails"]["cipherSuite"],
        "clientProvidedHostHeader": called,
    }
    assert record["tlsDetails"]["cipherSuite"] in (
        "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")
    assert list(record)[-1] == "tlsDetails"

    # A client that does not trust the local CA refuses the endpoint.
    with pytest.raises(botocore.exceptions.SSLError):
        tls_client(c, "sts", verify=True).get_caller_identity()

    # Plain HTTP to the HTTPS port is not served, and the server carries on.
    with socket.create_connection(("127.0.0.1", c.port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(5)
        try:
            reply = s.recv(1024)
        except (ConnectionResetError, socket.timeout):
            reply = b""
        assert not reply.startswith(b"HTTP/1.1 200")
    assert tls_client(c, "sts").get_caller_identity()["Account"] == e["CAIRN_ACCOUNT_ID"]


def test_plain_http_calls_carry_no_tls_details(cairn):
    cairn.client("sts").get_caller_identity()
    ct = cairn.client("cloudtrail")
    ct.describe_trails()
    events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DescribeTrails"}])["Events"]
    assert events
    assert "tlsDetails" not in json.loads(events[0]["CloudTrailEvent"])


def test_self_signed_ca_survives_a_restart(new_cairn):
    c = new_cairn(["--tls-self-signed"])
    ca_before = open(c.env()["AWS_CA_BUNDLE"], "rb").read()
    c.stop()
    c.start()
    assert open(c.env()["AWS_CA_BUNDLE"], "rb").read() == ca_before
    assert tls_client(c, "sts").get_caller_identity()["Arn"].endswith(":root")


def test_certificate_and_key_from_files(new_cairn, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)
    c = new_cairn(["--tls-cert", str(cert), "--tls-key", str(key)])
    e = c.env()
    assert e["AWS_ENDPOINT_URL"].startswith("https://")
    assert "AWS_CA_BUNDLE" not in e  # the operator's certificate: trust is theirs to arrange
    _, who, _ = c.aws("sts", "get-caller-identity", env_overrides={"AWS_CA_BUNDLE": str(cert)})
    assert who["Arn"].endswith(":root")
    assert tls_client(c, "kms", verify=str(cert)).list_keys()["Keys"] == []
    # The peer sees TLS 1.2 or later.
    ctx = ssl.create_default_context(cafile=str(cert))
    with socket.create_connection(("127.0.0.1", c.port)) as raw, ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
        assert s.version() in ("TLSv1.2", "TLSv1.3")


@pytest.mark.parametrize("args, phrase", [
    (["--tls-cert", "/nonexistent.pem"], "--tls-key"),
    (["--tls-self-signed", "--tls-cert", "a", "--tls-key", "b"], "cannot be used with"),
])
def test_tls_flags_are_checked(tmp_path, args, phrase):
    p = subprocess.run([str(CAIRN), "serve", "--data-dir", str(tmp_path / "d"), "--listen", "127.0.0.1:0", *args],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2
    assert phrase in p.stderr


def test_unreadable_certificate_is_a_clear_startup_error(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    p = subprocess.run([str(CAIRN), "serve", "--data-dir", str(tmp_path / "d"), "--listen", "127.0.0.1:0",
                        "--tls-cert", str(bad), "--tls-key", str(bad)], capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert "bad.pem" in p.stderr and "PEM certificate" in p.stderr
