"""ListPublicKeys as AWS answers it, read the way `aws cloudtrail validate-logs` reads it: a
PKCS#1 DER RSA key in base64, fingerprint = hex MD5 of the DER, a 30-day validity window."""

import base64
import datetime
import hashlib

import botocore.exceptions
import pytest
import rsa


def test_keys_load_as_the_cli_loads_them(cairn):
    _, out, _ = cairn.aws("cloudtrail", "list-public-keys")
    keys = out["PublicKeyList"]
    assert len(keys) == 1
    k = keys[0]
    der = base64.b64decode(k["Value"])
    assert k["Value"].startswith("MIIBCgKCAQEA"), "PKCS#1 RSAPublicKey, not SubjectPublicKeyInfo"
    pub = rsa.PublicKey.load_pkcs1(der, "DER")
    assert pub.n.bit_length() == 2048
    assert k["Fingerprint"] == hashlib.md5(der).hexdigest()
    assert k["ValidityEndTime"] - k["ValidityStartTime"] == 30 * 86400
    again = cairn.aws("cloudtrail", "list-public-keys")[1]["PublicKeyList"]
    assert again == keys, "the same key until rotation"
    other = cairn.aws("cloudtrail", "list-public-keys", region="eu-west-1")[1]["PublicKeyList"]
    assert other[0]["Fingerprint"] != k["Fingerprint"], "keys are per region"


def test_time_ranges(cairn):
    ct = cairn.client(region="ap-south-1")
    now = datetime.datetime.now(datetime.timezone.utc)
    keys = ct.list_public_keys(StartTime=now - datetime.timedelta(days=1), EndTime=now)["PublicKeyList"]
    assert len(keys) == 1 and isinstance(keys[0]["Value"], bytes)
    assert ct.list_public_keys(StartTime=now - datetime.timedelta(days=400), EndTime=now - datetime.timedelta(days=300))["PublicKeyList"] == []
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ct.list_public_keys(StartTime=now, EndTime=now - datetime.timedelta(days=1))
    assert e.value.response["Error"]["Code"] == "InvalidTimeRangeException"
