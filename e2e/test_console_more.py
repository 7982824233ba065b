"""The console's pages beyond trails in headless Chromium (Debian's, driven by Playwright): CloudWatch
alarms and an alarm's history, EventBridge rules with their pattern and targets, Lambda functions
and a test invocation from the page, and the CloudTrail Lake query editor running a sample query
and showing a bad query's error as AWS words it. The console's calls are recorded as console calls;
every page passes axe-core; a screenshot of each is kept under target/test-artifacts/console/."""

import json
import subprocess
import time

import pytest

from conftest import CAIRN, Cairn, wait_for
from test_console import ROOT_PASSWORD, browser, check_axe, elsewhere, node, shot, sign_in  # noqa: F401 (browser: a fixture)
from test_lambda import PACKAGES, PYTHON, TRUST, zip_of

GREETER = """
def handler(event, context):
    print("hello from the console test", event.get("who"))
    return {"greeting": "hello " + str(event.get("who")), "function": context.function_name}
"""


@pytest.fixture(scope="module")
def cairn(workdir):
    """An instance with a test clock (alarms evaluate on it) and Python for functions."""
    c = Cairn(workdir / "console_more", ["--test-clock", "--lambda-python", str(PYTHON),
                                         "--lambda-python-path", PACKAGES])
    c.start()
    yield c
    c.stop()


@pytest.fixture(scope="module")
def lab(cairn):
    """An alarm that went to ALARM, a rule with a target, a function, an event data store."""
    subprocess.run([str(CAIRN), "accounts", "set-password", "--data-dir", str(cairn.data_dir),
                    "--password", ROOT_PASSWORD], check=True, capture_output=True)
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    ct = cairn.client()
    eds = ct.create_event_data_store(Name="console-store", TerminationProtectionEnabled=False)[
        "EventDataStoreArn"].split("/")[-1]

    other = ct.create_event_data_store(Name="other-store", TerminationProtectionEnabled=False)[
        "EventDataStoreArn"].split("/")[-1]

    iam = cairn.client("iam")
    role = iam.create_role(RoleName="greeter-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    lam = cairn.client("lambda")
    fn = lam.create_function(FunctionName="greeter", Runtime="python3.12", Role=role, Handler="app.handler",
                             Description="Says hello", Code={"ZipFile": zip_of(GREETER)})["FunctionArn"]

    ev = cairn.client("events")
    pattern = {"source": ["aws.cloudtrail"], "detail": {"eventName": ["StopLogging"]}}
    ev.put_rule(Name="on-stop-logging", EventPattern=json.dumps(pattern), Description="CIS 4.5")
    ev.put_targets(Rule="on-stop-logging", Targets=[{"Id": "greet", "Arn": fn}])
    ev.create_event_bus(Name="audit")
    ev.put_rule(Name="audit-everything", EventBusName="audit", EventPattern=json.dumps({"source": [{"prefix": ""}]}))

    cw = cairn.client("cloudwatch")
    cw.put_metric_alarm(AlarmName="root-use", Namespace="CIS", MetricName="RootUse", Statistic="Sum",
                        Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
                        AlarmActions=[f"arn:aws:sns:us-east-1:{account}:alerts"], AlarmDescription="CIS 4.3")
    cw.put_metric_alarm(AlarmName="App/errors", Namespace="App", MetricName="Errors", Statistic="Maximum",
                        Period=60, EvaluationPeriods=2, Threshold=5, ComparisonOperator="GreaterThanThreshold")
    cw.put_metric_data(Namespace="CIS", MetricData=[{"MetricName": "RootUse", "Value": 1, "Timestamp": cairn.now()}])
    cairn.advance_until(lambda: cw.describe_alarms(AlarmNames=["root-use"])["MetricAlarms"][0]["StateValue"] == "ALARM",
                        step=20, limit=180)

    # The calls above are in the store before the editor queries it.
    def ingested():
        qid = ct.start_query(QueryStatement=f"SELECT count(*) FROM {eds} WHERE eventname = 'PutMetricAlarm'")["QueryId"]
        r = wait_for(lambda: (lambda r: r if r["QueryStatus"] not in ("QUEUED", "RUNNING") else None)(
            ct.get_query_results(QueryId=qid)), timeout=30, every=0.1)
        return r["QueryResultRows"] and r["QueryResultRows"][0][0] != {"_col0": "0"}
    wait_for(ingested, timeout=30, every=0.5)
    return {"account": account, "eds": eds, "other_eds": other, "function": fn}


def console_records(cairn, source):
    ct = cairn.client()
    events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": source}],
                              MaxResults=50)["Events"]
    return [r for r in (json.loads(e["CloudTrailEvent"]) for e in events)
            if r.get("sessionCredentialFromConsole") == "true"]


def test_alarms_rules_functions_and_lake_pages(cairn, browser, lab):  # noqa: F811 (browser: a fixture)
    base = elsewhere(cairn)
    # axe is injected by the test; the pages' CSP would refuse it.
    ctx = browser.new_context(bypass_csp=True)
    page = ctx.new_page()
    sign_in(page, cairn, lab["account"], "", ROOT_PASSWORD)
    assert page.url.endswith("/console/cloudtrail"), page.content()[:2000]

    # Alarms: the list with state, metric, threshold and actions; the alarm's history.
    page.click("nav >> text=Alarms")
    row = page.inner_text("#alarms tbody tr:has-text('root-use')")
    assert "root-use" in row and "ALARM" in row and "CIS RootUse" in row and "Sum >= 1" in row, row
    assert "1 action(s)" in row
    check_axe(page, "alarms")
    shot(page, "alarms")
    page.click("#alarms >> text=root-use")
    main = page.inner_text("main")
    assert "Threshold Crossed" in main and f"arn:aws:sns:us-east-1:{lab['account']}:alerts" in main
    history = page.inner_text("#history")
    assert "Alarm updated from INSUFFICIENT_DATA to ALARM" in history and 'Alarm "root-use" created' in history
    check_axe(page, "alarm")
    shot(page, "alarm")
    page.click("nav >> text=Alarms")
    page.click("#alarms >> text=App/errors")
    assert "Maximum > 5 for 2 datapoint(s) of 60 s" in page.inner_text("main")
    page.goto(f"{base}/console/cloudwatch/alarms/root-use")
    page.click("text=Disable actions")
    assert "Enable actions" in page.inner_text("main")
    assert cairn.client("cloudwatch").describe_alarms(AlarmNames=["root-use"])["MetricAlarms"][0]["ActionsEnabled"] is False

    # Rules: the default bus's rules; the rule's pattern pretty-printed and its target.
    page.click("nav >> text=Rules")
    assert "on-stop-logging" in page.inner_text("#rules") and "Enabled" in page.inner_text("#rules")
    check_axe(page, "rules")
    shot(page, "rules")
    page.click("#rules >> text=on-stop-logging")
    assert page.inner_text("#pattern") == json.dumps(
        {"source": ["aws.cloudtrail"], "detail": {"eventName": ["StopLogging"]}}, indent=2)
    assert lab["function"] in page.inner_text("#targets")
    check_axe(page, "rule")
    shot(page, "rule")
    page.goto(f"{base}/console/events/rules")
    page.select_option("#bus", "audit")
    page.click("text=Show rules")
    assert "audit-everything" in page.inner_text("#rules") and "on-stop-logging" not in page.inner_text("#rules")
    page.click("#rules >> text=audit-everything")
    assert '"prefix": ""' in page.inner_text("#pattern")

    # Functions: the list, the configuration, a test invocation's result and log tail.
    page.click("nav >> text=Functions")
    assert "greeter" in page.inner_text("#functions") and "python3.12" in page.inner_text("#functions")
    check_axe(page, "functions")
    shot(page, "functions")
    page.click("#functions >> text=greeter")
    assert "app.handler" in page.inner_text("main")
    page.fill("#event", '{"who": "<b>console</b>"}')
    page.click("#invoke")
    page.wait_for_selector("#result", timeout=60000)
    assert json.loads(page.inner_text("#payload")) == {"greeting": "hello <b>console</b>", "function": "greeter"}
    log = page.inner_text("#log")
    assert "hello from the console test <b>console</b>" in log and "REPORT RequestId" in log, log
    assert "succeeded" in page.inner_text("#result")
    check_axe(page, "function")
    shot(page, "function")
    page.fill("#event", "{not json")
    page.click("#invoke")
    assert "not valid JSON" in page.inner_text("[role=alert]")

    # Lake: a sample query with the store's id, run from the editor, its rows and statistics.
    page.click("nav >> text=Query editor")
    assert lab["eds"] in page.inner_text("#store")
    page.click("text=Open “Events by region” in the editor")
    assert f"FROM {lab['eds']}" in page.input_value("#sql")
    page.click("#query-form button[type=submit]")
    assert "Finished" in page.inner_text("#query-stats"), page.inner_text("main")
    headers = page.locator("#query-results thead th").all_inner_texts()
    assert headers == ["awsregion", "events"]
    cells = page.locator("#query-results tbody tr").first.locator("td").all_inner_texts()
    assert cells[0] == "us-east-1" and int(cells[1]) > 0
    check_axe(page, "lake")
    shot(page, "lake")
    # Picking another store puts its id in the query and the samples (the page's script).
    page.select_option("#store", lab["other_eds"])
    assert f"FROM {lab['other_eds']}" in page.input_value("#sql")
    assert lab["other_eds"] in page.locator(".samples pre").first.text_content()
    page.select_option("#store", lab["eds"])
    page.fill("#sql", f"SELEC * FROM {lab['eds']}")
    page.click("#query-form button[type=submit]")
    assert "InvalidQueryStatementException" in page.inner_text("[role=alert]")
    ctx.close()

    # Each page's calls were made as the console's, with the session's identity.
    for source, names in [("monitoring.amazonaws.com", {"DescribeAlarms", "DescribeAlarmHistory", "DisableAlarmActions"}),
                          ("events.amazonaws.com", {"ListRules", "DescribeRule", "ListTargetsByRule"}),
                          ("lambda.amazonaws.com", {"ListFunctions20150331", "GetFunction20150331v2"}),
                          ("cloudtrail.amazonaws.com", {"ListEventDataStores", "StartQuery", "GetQueryResults"})]:
        recs = console_records(cairn, source)
        assert names <= {r["eventName"] for r in recs}, (source, sorted({r["eventName"] for r in recs}))
        assert all(r["userIdentity"]["type"] == "Root" and r["userAgent"] == "console.amazonaws.com" for r in recs)


def test_a_user_without_the_permissions_sees_awss_access_denied(cairn, browser, lab):  # noqa: F811
    iam = cairn.client("iam")
    iam.create_user(UserName="viewer")
    iam.create_login_profile(UserName="viewer", Password="Viewer-Passw0rd!")
    ctx = browser.new_context()
    page = ctx.new_page()
    sign_in(page, cairn, lab["account"], "viewer", "Viewer-Passw0rd!")
    assert page.url.endswith("/console/cloudtrail"), page.content()[:2000]
    for i, (path, action) in enumerate([("/console/cloudwatch/alarms", "cloudwatch:DescribeAlarms"),
                                        ("/console/events/rules", "events:ListEventBuses"),
                                        ("/console/lambda/functions", "lambda:ListFunctions"),
                                        ("/console/cloudtrail/lake", "cloudtrail:ListEventDataStores")]):
        page.goto(node(cairn, i + 1) + path)
        alert = page.inner_text("[role=alert]")
        assert "AccessDenied" in alert and action in alert, (path, alert)
    ctx.close()
