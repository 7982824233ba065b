"""`cairn import` with real CloudTrail data: every record loads, management records come back
from LookupEvents unchanged, imports are idempotent, malformed files get clear errors."""

import collections
import gzip
import json
import re
import subprocess
import urllib.error
import urllib.request

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.exceptions
import pytest

from conftest import CAIRN, REAL_DATA, lookup_all

RECORDS = REAL_DATA / "records.jsonl.gz"
pytestmark = pytest.mark.skipif(not RECORDS.exists(), reason=f"real data not found at {REAL_DATA}")


def category(rec):
    """Event-history category, as AWS decides it for records of every eventVersion."""
    c = rec.get("eventCategory")
    if c is not None:
        return c
    if rec.get("eventType") == "AwsCloudTrailInsight":
        return "Insight"
    if rec.get("eventType") == "AwsVpceEvent":
        return "NetworkActivity"
    if rec.get("managementEvent") in (False, "false"):
        return "Data"
    return "Management"


def canonical(text):
    return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))


def import_paths(c, *paths):
    return subprocess.run([str(CAIRN), *c.cli_args(), "import", "--data-dir", str(c.data_dir), *map(str, paths)], capture_output=True, text=True)


def signs_as_region(region):
    return bool(re.fullmatch(r"(?![0-9]+$)(?!-)[a-zA-Z0-9-]{1,63}(?<!-)", region))


def raw_lookup_all(c, region, **body):
    """LookupEvents for regions botocore refuses to sign for (anonymised data has some)."""
    env = c.env()
    creds = botocore.credentials.Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
    events, token = [], None
    while True:
        payload = dict(body, **({"NextToken": token} if token else {}))
        endpoint = c.endpoint  # once: a cluster's instance answers a different node each time
        req = botocore.awsrequest.AWSRequest(method="POST", url=endpoint + "/", data=json.dumps(payload).encode(), headers={
            "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"})
        botocore.auth.SigV4Auth(creds, "cloudtrail", region).add_auth(req)
        with urllib.request.urlopen(urllib.request.Request(endpoint + "/", data=req.body, headers=dict(req.headers.items()), method="POST")) as r:
            page = json.loads(r.read())
        events.extend(page["Events"])
        token = page.get("NextToken")
        if not token:
            return events


def test_every_real_record_imports_and_comes_back_unchanged(new_cairn):
    c = new_cairn(["--history-retention-days", "0"], start=False)
    c.data_dir.parent.mkdir(parents=True, exist_ok=True)
    p = import_paths(c, RECORDS)
    assert p.returncode == 0, p.stderr
    lines = gzip.open(RECORDS, "rt").read().splitlines()
    assert f"imported {len(lines)} records" in p.stdout

    expected = collections.defaultdict(collections.Counter)
    kinds = collections.Counter()
    for line in lines:
        rec = json.loads(line)
        cat = category(rec)
        kinds[cat] += 1
        region = rec.get("awsRegion") if isinstance(rec.get("awsRegion"), str) else "us-east-1"
        if cat in ("Management", "Insight"):
            expected[(region, cat)][canonical(line)] += 1
    assert kinds["Management"] > 20000 and kinds["Data"] > 0 and kinds["Insight"] > 0

    c.start()
    my_key = c.env()["AWS_ACCESS_KEY_ID"]
    for (region, cat), want in sorted(expected.items()):
        kwargs = {"EventCategory": "insight"} if cat == "Insight" else {}
        if signs_as_region(region):
            events = lookup_all(c.client(region=region), **kwargs)
        else:
            events = raw_lookup_all(c, region, **kwargs)
        got = collections.Counter(
            canonical(e["CloudTrailEvent"]) for e in events
            if json.loads(e["CloudTrailEvent"]).get("userIdentity", {}).get("accessKeyId") != my_key
        )
        assert got == want, f"{region}/{cat}: {sum(got.values())} events back, {sum(want.values())} expected"
        for e in events:
            rec = json.loads(e["CloudTrailEvent"])
            if "eventID" in rec:
                assert e["EventId"] == rec["eventID"]

    # Importing again changes nothing.
    c.stop()
    again = import_paths(c, RECORDS)
    assert again.returncode == 0, again.stderr
    assert "imported 0 records" in again.stdout and f"({len(lines)} already present)" in again.stdout


def test_folders_import_recursively_and_malformed_files_get_clear_errors(new_cairn):
    c = new_cairn(["--history-retention-days", "0"], start=False)
    c.data_dir.parent.mkdir(parents=True, exist_ok=True)
    p = import_paths(c, REAL_DATA / "opensearch-catalog", REAL_DATA / "trailscraper", REAL_DATA / "plaso",
                     REAL_DATA / "cloud-custodian", REAL_DATA / "grycap-cloudtrail-tracker")
    assert p.returncode == 1, "a malformed file makes the exit status non-zero"
    assert re.search(r"samples-large\.json: line 85 column 6: malformed JSON", p.stderr), p.stderr
    m = re.search(r"imported (\d+) records", p.stdout)
    assert m and int(m.group(1)) > 15000, p.stdout
    c.start()
    client = c.client(region="eu-central-1")
    # trailscraper's delivery file (both .json and .json.gz copies: loaded once).
    original = json.load(open(REAL_DATA / "trailscraper" / "111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json"))["Records"]
    for rec in original[:5]:
        got = lookup_all(client, LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": rec["eventID"]}])
        assert len(got) == 1
        assert json.loads(got[0]["CloudTrailEvent"]) == rec
    # LookupEvents output (plaso) is unwrapped to its CloudTrailEvent.
    first = json.loads(open(REAL_DATA / "plaso" / "aws_cloudtrail.jsonl").readline())
    inner = json.loads(first["CloudTrailEvent"])
    got = lookup_all(c.client(region=inner["awsRegion"]), LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": inner["eventID"]}])
    assert [json.loads(e["CloudTrailEvent"]) for e in got] == [inner]


def test_data_events_never_appear_in_history(new_cairn, tmp_path):
    c = new_cairn(["--history-retention-days", "0"], start=False)
    c.data_dir.parent.mkdir(parents=True, exist_ok=True)
    data = {"eventVersion": "1.09", "eventID": "data-1", "eventTime": "2024-01-01T00:00:00Z", "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject", "awsRegion": "us-east-1", "eventCategory": "Data", "managementEvent": False, "readOnly": True}
    mgmt = dict(data, eventID="mgmt-1", eventName="ListBuckets", eventCategory="Management", managementEvent=True)
    f = tmp_path / "two.json"
    f.write_text(json.dumps({"Records": [data, mgmt]}))
    assert import_paths(c, f).returncode == 0
    c.start()
    client = c.client()
    assert lookup_all(client, LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": "data-1"}]) == []
    assert len(lookup_all(client, LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": "mgmt-1"}])) == 1


def test_import_into_a_running_instance_is_in_history_at_once(new_cairn, tmp_path):
    """With `cairn serve` holding the data directory, `cairn import` sends the records to it:
    each is in event history as soon as the import returns, byte for byte, once."""
    c = new_cairn(["--history-retention-days", "0"])
    chosen = []
    with gzip.open(RECORDS, "rt") as f:
        for line in f:
            rec = json.loads(line)
            region = rec.get("awsRegion", "")
            if category(rec) == "Management" and rec.get("eventID") and signs_as_region(region) and region == "us-east-1":
                chosen.append(line.rstrip("\n"))
            if len(chosen) == 300:
                break
    src = tmp_path / "live.jsonl"
    src.write_text("\n".join(chosen) + "\n")
    p = import_paths(c, src)
    assert p.returncode == 0, p.stderr
    assert f"imported {len(chosen)} records into account {c.env()['CAIRN_ACCOUNT_ID']} through the running instance at {c.endpoints[0]}" in p.stdout
    ct = c.client("cloudtrail")
    for raw in chosen[:: len(chosen) // 10]:
        eid = json.loads(raw)["eventID"]
        got = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventId", "AttributeValue": eid}])["Events"]
        assert [e["CloudTrailEvent"] for e in got] == [raw]
    again = import_paths(c, src)
    assert again.returncode == 0
    assert "imported 0 records" in again.stdout and f"({len(chosen)} already present)" in again.stdout
    # Another account of the instance, named with --account.
    other = c.create_account()
    p = subprocess.run([str(CAIRN), *c.cli_args(), "import", "--data-dir", str(c.data_dir), "--account", other["CAIRN_ACCOUNT_ID"], str(src)],
                       capture_output=True, text=True)
    assert p.returncode == 0 and f"imported {len(chosen)} records into account {other['CAIRN_ACCOUNT_ID']}" in p.stdout, p.stderr
    # Importing is the account owner's act: even an administrator user is refused.
    iam = c.client("iam")
    iam.create_user(UserName="admin")
    iam.attach_user_policy(UserName="admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    k = iam.create_access_key(UserName="admin")["AccessKey"]
    endpoint = c.endpoint  # once: a cluster's instance answers a different node each time
    req = botocore.awsrequest.AWSRequest(method="POST", url=endpoint + "/", data=json.dumps({"Records": ["{}"]}).encode(),
                                         headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Cairn.Import"})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(k["AccessKeyId"], k["SecretAccessKey"]), "cairn", "us-east-1").add_auth(req)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(endpoint + "/", data=req.body, headers=dict(req.headers.items()), method="POST"))
    assert refused.value.code == 403
    assert json.loads(refused.value.read())["__type"] == "AccessDeniedException"
