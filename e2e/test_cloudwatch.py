"""CloudWatch with the real AWS CLI and boto3: metric data published and read back per period and
unit, metrics listed, metric alarms created, described, evaluated on the test clock exactly as AWS
documents (INSUFFICIENT_DATA at creation, ALARM on the next evaluation after a breaching period, its
StateReason and StateReasonData, history items, TreatMissingData), SetAlarmState, deletion, AWS's
errors, the same calls in Smithy RPC v2 CBOR (the protocol other SDKs send) and in query (form in,
XML out, as older SDKs and tools send), and each call recorded as a monitoring.amazonaws.com
event."""

import copy
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
import botocore.exceptions
import botocore.session
import pytest
import requests

from alerting import queue_for
from conftest import Cairn, lookup_all


@pytest.fixture(scope="module")
def cairn(workdir):
    """This module's instance keeps a test clock, which alarm evaluation follows."""
    c = Cairn(workdir / "cloudwatch", ["--test-clock"])
    c.start()
    yield c
    c.stop()


@pytest.fixture(scope="module")
def cw(cairn):
    return cairn.client("cloudwatch")


def error_of(call, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(*args, **kwargs)
    err = e.value.response["Error"]
    return err["Code"], err.get("Message", ""), e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def minute_floor(t):
    return t.replace(second=0, microsecond=0)


def test_metric_data_with_the_cli_and_statistics_per_period_and_unit(cairn, cw):
    now = cairn.now()
    t0 = minute_floor(now) - timedelta(minutes=10)
    # The CLI's scalar flags, and a full MetricData document.
    cairn.aws("cloudwatch", "put-metric-data", "--namespace", "App", "--metric-name", "Latency",
              "--value", "10", "--unit", "Milliseconds", "--timestamp", t0.isoformat(),
              "--dimensions", "Service=web,Stage=prod")
    data = [
        {"MetricName": "Latency", "Dimensions": [{"Name": "Stage", "Value": "prod"}, {"Name": "Service", "Value": "web"}],
         "Timestamp": (t0 + timedelta(seconds=20)).isoformat(), "Value": 30, "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": [{"Name": "Service", "Value": "web"}, {"Name": "Stage", "Value": "prod"}],
         "Timestamp": (t0 + timedelta(minutes=1)).isoformat(),
         "StatisticValues": {"SampleCount": 4, "Sum": 100, "Minimum": 5, "Maximum": 50}, "Unit": "Milliseconds"},
        {"MetricName": "Latency", "Dimensions": [{"Name": "Service", "Value": "web"}, {"Name": "Stage", "Value": "prod"}],
         "Timestamp": (t0 + timedelta(minutes=1)).isoformat(), "Value": 7, "Unit": "Seconds"},
    ]
    cairn.aws("cloudwatch", "put-metric-data", "--namespace", "App", "--metric-data", json.dumps(data))
    dims = [{"Name": "Service", "Value": "web"}, {"Name": "Stage", "Value": "prod"}]
    r = cw.get_metric_statistics(Namespace="App", MetricName="Latency", Dimensions=dims,
                                 StartTime=t0, EndTime=t0 + timedelta(minutes=5), Period=60,
                                 Statistics=["Sum", "Average", "SampleCount", "Minimum", "Maximum"])
    assert r["Label"] == "Latency"
    points = sorted(r["Datapoints"], key=lambda p: (p["Timestamp"], p["Unit"]))
    assert [(p["Timestamp"], p["Unit"]) for p in points] == [
        (t0, "Milliseconds"), (t0 + timedelta(minutes=1), "Milliseconds"), (t0 + timedelta(minutes=1), "Seconds")]
    first, second, third = points
    assert (first["Sum"], first["Average"], first["SampleCount"], first["Minimum"], first["Maximum"]) == (40, 20, 2, 10, 30)
    assert (second["Sum"], second["SampleCount"], second["Minimum"], second["Maximum"], second["Average"]) == (100, 4, 5, 50, 25)
    assert third["Sum"] == 7
    # Units apart: asking for one unit leaves the other out.
    only = cw.get_metric_statistics(Namespace="App", MetricName="Latency", Dimensions=dims, StartTime=t0,
                                    EndTime=t0 + timedelta(minutes=5), Period=300, Statistics=["Sum"], Unit="Seconds")
    assert [(p["Sum"], p["Unit"]) for p in only["Datapoints"]] == [(7, "Seconds")]
    # Extended statistics need raw values (a statistic set has none).
    ext = cw.get_metric_statistics(Namespace="App", MetricName="Latency", Dimensions=dims, StartTime=t0,
                                   EndTime=t0 + timedelta(minutes=1), Period=60, ExtendedStatistics=["p50", "p100"],
                                   Unit="Milliseconds")
    [p] = ext["Datapoints"]
    assert p["ExtendedStatistics"]["p100"] == 30
    # Another dimension set is another metric.
    other = cw.get_metric_statistics(Namespace="App", MetricName="Latency", Dimensions=dims[:1], StartTime=t0,
                                     EndTime=t0 + timedelta(minutes=5), Period=60, Statistics=["Sum"])
    assert other["Datapoints"] == []
    # GetMetricData: one value per period, newest first by default.
    md = cw.get_metric_data(StartTime=t0, EndTime=t0 + timedelta(minutes=5), MetricDataQueries=[{
        "Id": "m1", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Latency", "Dimensions": dims},
                                   "Period": 60, "Stat": "Sum", "Unit": "Milliseconds"}}])
    [res] = md["MetricDataResults"]
    assert res["Id"] == "m1" and res["StatusCode"] == "Complete"
    assert res["Timestamps"] == [t0 + timedelta(minutes=1), t0] and res["Values"] == [100, 40]


def test_list_metrics_filters_by_namespace_name_and_dimensions(cairn, cw):
    now = cairn.now()
    for name, dims in [("Errors", [{"Name": "Service", "Value": "api"}]), ("Errors", [{"Name": "Service", "Value": "db"}]),
                       ("Calls", [])]:
        cw.put_metric_data(Namespace="ListNs", MetricData=[{"MetricName": name, "Dimensions": dims, "Value": 1,
                                                             "Timestamp": now}])
    all_ = cw.list_metrics(Namespace="ListNs")["Metrics"]
    assert sorted((m["MetricName"], json.dumps(m["Dimensions"])) for m in all_) == [
        ("Calls", "[]"), ("Errors", json.dumps([{"Name": "Service", "Value": "api"}])),
        ("Errors", json.dumps([{"Name": "Service", "Value": "db"}]))]
    assert len(cw.list_metrics(Namespace="ListNs", MetricName="Errors")["Metrics"]) == 2
    by_value = cw.list_metrics(Namespace="ListNs", Dimensions=[{"Name": "Service", "Value": "db"}])["Metrics"]
    assert [m["Dimensions"] for m in by_value] == [[{"Name": "Service", "Value": "db"}]]
    by_name = cw.list_metrics(Namespace="ListNs", Dimensions=[{"Name": "Service"}])["Metrics"]
    assert len(by_name) == 2
    _, out, _ = cairn.aws("cloudwatch", "list-metrics", "--namespace", "ListNs", "--metric-name", "Calls")
    assert out["Metrics"] == [{"Namespace": "ListNs", "MetricName": "Calls", "Dimensions": []}]


def test_metric_data_errors_are_aws_errors(cairn, cw):
    now = cairn.now()
    code, msg, status = error_of(cw.put_metric_data, Namespace="AWS/EC2", MetricData=[{"MetricName": "m", "Value": 1}])
    assert (code, status) == ("InvalidParameterValue", 400) and "AWS/EC2" in msg
    code, msg, _ = error_of(cw.put_metric_data, Namespace="N", MetricData=[{
        "MetricName": "m", "Value": 1, "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}}])
    assert code == "InvalidParameterCombination"
    assert msg == ("The parameters MetricData.member.1.Value and MetricData.member.1.StatisticValues are mutually "
                   "exclusive and you have specified both.")
    code, msg, _ = error_of(cw.get_metric_statistics, Namespace="N", MetricName="m", StartTime=now, EndTime=now,
                            Period=60, Statistics=["Sum"])
    assert (code, msg) == ("InvalidParameterValue", "The parameter StartTime must be less than the parameter EndTime.")
    code, msg, _ = error_of(cw.get_metric_statistics, Namespace="N", MetricName="m", StartTime=now - timedelta(days=1),
                            EndTime=now, Period=1, Statistics=["Sum"])
    assert code == "InvalidParameterCombination"
    assert msg == ("You have requested up to 86400 datapoints, which exceeds the limit of 1440. You may reduce the "
                   "datapoints requested by increasing Period, or decreasing the time range.")
    code, _, _ = error_of(cw.put_metric_data, Namespace="N", MetricData=[{"MetricName": "m", "Value": 1,
                                                                          "Timestamp": now - timedelta(days=15)}])
    assert code == "InvalidParameterValue"
    # Nothing of a refused call is kept.
    assert cw.list_metrics(Namespace="N")["Metrics"] == []


def alarm_of(cw, name):
    [a] = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return a


def test_an_alarm_evaluates_on_the_test_clock_as_aws_documents(cairn, cw):
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    cairn.aws("cloudwatch", "put-metric-alarm", "--alarm-name", "root-use", "--namespace", "CIS",
              "--metric-name", "RootUse", "--statistic", "Sum", "--period", "60", "--evaluation-periods", "1",
              "--threshold", "1", "--comparison-operator", "GreaterThanOrEqualToThreshold",
              "--alarm-actions", f"arn:aws:sns:us-east-1:{account}:alerts", "--alarm-description", "CIS 4.3")
    a = alarm_of(cw, "root-use")
    assert a["StateValue"] == "INSUFFICIENT_DATA"
    assert a["StateReason"] == "Unchecked: Initial alarm creation" and "StateReasonData" not in a
    assert a["AlarmArn"] == f"arn:aws:cloudwatch:us-east-1:{account}:alarm:root-use"
    assert a["ActionsEnabled"] is True and a["AlarmActions"] == [f"arn:aws:sns:us-east-1:{account}:alerts"]
    assert (a["Statistic"], a["Period"], a["EvaluationPeriods"], a["Threshold"]) == ("Sum", 60, 1, 1.0)
    assert a["OKActions"] == [] and a["Dimensions"] == []
    # A breaching datapoint now; the evaluation at the next minute's start sees it.
    now = cairn.now()
    cw.put_metric_data(Namespace="CIS", MetricData=[{"MetricName": "RootUse", "Value": 1, "Timestamp": now}])
    a = cairn.advance_until(lambda: (x := alarm_of(cw, "root-use"))["StateValue"] == "ALARM" and x, step=20, limit=180)
    stamp = minute_floor(now).strftime("%d/%m/%y %H:%M:%S")
    # The wording of AWS's 2025 recordings (ALERTING.md 4.5).
    assert a["StateReason"] == (f"Threshold Crossed: 1 datapoint [1.0 ({stamp})] was greater than or equal to the "
                                "threshold (1.0).")
    data = json.loads(a["StateReasonData"])
    assert data["version"] == "1.0" and data["statistic"] == "Sum" and data["period"] == 60
    assert data["recentDatapoints"] == [1.0] and data["threshold"] == 1.0
    assert data["evaluatedDatapoints"][0]["value"] == 1.0
    # With TreatMissingData missing, the empty minutes after it bring INSUFFICIENT_DATA (not OK).
    a = cairn.advance_until(lambda: (x := alarm_of(cw, "root-use"))["StateValue"] == "INSUFFICIENT_DATA" and x,
                            step=30, limit=300)
    assert a["StateReason"] == ("Insufficient Data: no datapoints were received for 1 period and 1 missing datapoint "
                                "was treated as [Missing].")
    assert json.loads(a["StateReasonData"])["recentDatapoints"] == []
    hist = cw.describe_alarm_history(AlarmName="root-use", HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in hist] == ["Alarm updated from ALARM to INSUFFICIENT_DATA",
                                                   "Alarm updated from INSUFFICIENT_DATA to ALARM"]
    item = json.loads(hist[1]["HistoryData"])
    assert item["oldState"]["stateValue"] == "INSUFFICIENT_DATA" and item["newState"]["stateValue"] == "ALARM"
    created = cw.describe_alarm_history(AlarmName="root-use", HistoryItemType="ConfigurationUpdate")
    assert [h["HistorySummary"] for h in created["AlarmHistoryItems"]] == ['Alarm "root-use" created']


def test_not_breaching_missing_data_brings_ok_and_updates_keep_the_state(cairn, cw):
    cw.put_metric_alarm(AlarmName="errors-high", Namespace="App2", MetricName="Errors", Statistic="Maximum",
                        Period=60, EvaluationPeriods=2, DatapointsToAlarm=1, Threshold=5,
                        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching")
    cw.put_metric_data(Namespace="App2", MetricData=[{"MetricName": "Errors", "Value": 9, "Timestamp": cairn.now()}])
    cairn.advance_until(lambda: alarm_of(cw, "errors-high")["StateValue"] == "ALARM", step=20, limit=180)
    # Updating the configuration keeps the state [AWS: "update keeps the state"].
    cw.put_metric_alarm(AlarmName="errors-high", Namespace="App2", MetricName="Errors", Statistic="Maximum",
                        Period=60, EvaluationPeriods=2, DatapointsToAlarm=1, Threshold=6,
                        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching")
    a = alarm_of(cw, "errors-high")
    assert a["StateValue"] == "ALARM" and a["Threshold"] == 6.0
    a = cairn.advance_until(lambda: (x := alarm_of(cw, "errors-high"))["StateValue"] == "OK" and x, step=30, limit=400)
    # Two periods without data, both filled as not breaching.
    assert a["StateReason"] == ("Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints "
                                "were treated as [NonBreaching].")


def test_set_alarm_state_delete_and_actions_switches(cairn, cw):
    cw.put_metric_alarm(AlarmName="manual", Namespace="M", MetricName="x", Statistic="Sum", Period=300,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    cairn.aws("cloudwatch", "set-alarm-state", "--alarm-name", "manual", "--state-value", "ALARM",
              "--state-reason", "testing the wiring", "--state-reason-data", '{"source":"test"}')
    a = alarm_of(cw, "manual")
    assert (a["StateValue"], a["StateReason"], json.loads(a["StateReasonData"])) == (
        "ALARM", "testing the wiring", {"source": "test"})
    code, msg, status = error_of(cw.set_alarm_state, AlarmName="nope", StateValue="OK", StateReason="r")
    assert (code, status) == ("ResourceNotFound", 404)
    code, _, status = error_of(cw.set_alarm_state, AlarmName="manual", StateValue="OK", StateReason="r",
                               StateReasonData="not json")
    assert (code, status) == ("InvalidFormat", 400)
    code, _, status = error_of(cw.put_metric_alarm, AlarmName="bad", Namespace="M", MetricName="x", Statistic="Sum",
                               Period=60, EvaluationPeriods=1, DatapointsToAlarm=2, Threshold=1,
                               ComparisonOperator="GreaterThanThreshold")
    assert (code, status) == ("ValidationError", 400)
    cw.disable_alarm_actions(AlarmNames=["manual"])
    assert alarm_of(cw, "manual")["ActionsEnabled"] is False
    cw.enable_alarm_actions(AlarmNames=["manual"])
    assert alarm_of(cw, "manual")["ActionsEnabled"] is True
    by_state = cw.describe_alarms(StateValue="ALARM", AlarmNamePrefix="man")["MetricAlarms"]
    assert [x["AlarmName"] for x in by_state] == ["manual"]
    for_metric = cw.describe_alarms_for_metric(Namespace="M", MetricName="x")["MetricAlarms"]
    assert [x["AlarmName"] for x in for_metric] == ["manual"]
    cw.delete_alarms(AlarmNames=["manual"])
    assert cw.describe_alarms(AlarmNames=["manual"])["MetricAlarms"] == []
    code, _, status = error_of(cw.delete_alarms, AlarmNames=["manual"])
    assert (code, status) == ("ResourceNotFound", 404)


def test_describe_alarms_pages(cairn, cw):
    for i in range(5):
        cw.put_metric_alarm(AlarmName=f"page-{i}", Namespace="P", MetricName="x", Statistic="Sum", Period=60,
                            EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    names = []
    for page in cw.get_paginator("describe_alarms").paginate(AlarmNamePrefix="page-", PaginationConfig={"PageSize": 2}):
        assert len(page["MetricAlarms"]) <= 2
        names += [a["AlarmName"] for a in page["MetricAlarms"]]
    assert names == [f"page-{i}" for i in range(5)]


def client_speaking(cairn, root, protocol):
    """A CloudWatch client that speaks only `protocol`: botocore's own model with that protocol
    as its only one, written into its own data path under `root`."""
    loader = botocore.session.get_session().get_component("data_loader")
    model = copy.deepcopy(loader.load_service_model("cloudwatch", "service-2"))
    model["metadata"]["protocols"] = [protocol]
    model["metadata"]["protocol"] = protocol
    version = loader.determine_latest_version("cloudwatch", "service-2")
    (root / "cloudwatch" / version).mkdir(parents=True)
    (root / "cloudwatch" / version / "service-2.json").write_text(json.dumps(model))
    session = botocore.session.get_session()
    session.set_config_variable("data_path", str(root))
    e = cairn.env()
    client = boto3.Session(botocore_session=session).client(
        "cloudwatch", endpoint_url=cairn.endpoint, region_name="us-east-1",
        aws_access_key_id=e["AWS_ACCESS_KEY_ID"], aws_secret_access_key=e["AWS_SECRET_ACCESS_KEY"],
        config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 1}))
    assert client.meta.service_model.resolved_protocol == protocol
    return client


@pytest.fixture(scope="module")
def cbor_cw(cairn, tmp_path_factory):
    """A CloudWatch client that speaks Smithy RPC v2 CBOR, as the SDKs for Java, Go and others do."""
    return client_speaking(cairn, tmp_path_factory.mktemp("models"), "smithy-rpc-v2-cbor")


@pytest.fixture(scope="module")
def query_cw(cairn, tmp_path_factory):
    """A CloudWatch client that speaks the query protocol (form in, XML out), as older SDKs and
    tools do."""
    return client_speaking(cairn, tmp_path_factory.mktemp("models"), "query")


def test_the_same_calls_in_cbor(cairn, cbor_cw):
    now = cairn.now()
    cbor_cw.put_metric_data(Namespace="Cbor", MetricData=[{"MetricName": "m", "Value": 2.5, "Timestamp": now}])
    r = cbor_cw.get_metric_statistics(Namespace="Cbor", MetricName="m", StartTime=now - timedelta(minutes=5),
                                      EndTime=now + timedelta(minutes=5), Period=600, Statistics=["Sum"])
    [p] = r["Datapoints"]
    assert p["Sum"] == 2.5 and isinstance(p["Timestamp"], datetime)
    cbor_cw.put_metric_alarm(AlarmName="cbor-alarm", Namespace="Cbor", MetricName="m", Statistic="Sum", Period=60,
                             EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    [a] = cbor_cw.describe_alarms(AlarmNames=["cbor-alarm"])["MetricAlarms"]
    assert a["StateValue"] == "INSUFFICIENT_DATA" and isinstance(a["StateUpdatedTimestamp"], datetime)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cbor_cw.set_alarm_state(AlarmName="no-such", StateValue="OK", StateReason="r")
    assert e.value.response["Error"]["Code"] == "ResourceNotFound"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_every_served_operation_in_query(cairn, query_cw):
    """botocore's query serializer and XML parser against cairn: lists (`.member.N`), nested
    structures, numbers and booleans from form strings, ISO 8601 timestamps both ways."""
    cw, now = query_cw, cairn.now()
    dims = [{"Name": "Host", "Value": "h1"}]
    cw.put_metric_data(Namespace="Query", MetricData=[
        {"MetricName": "m", "Dimensions": dims, "Value": 2.5, "Timestamp": now, "Unit": "Count"},
        {"MetricName": "m", "Dimensions": dims, "Values": [1, 3], "Counts": [1, 2], "Timestamp": now,
         "Unit": "Count"},
        {"MetricName": "m", "Dimensions": dims, "Timestamp": now, "Unit": "Count",
         "StatisticValues": {"SampleCount": 2, "Sum": 4, "Minimum": 1, "Maximum": 3}}])
    r = cw.get_metric_statistics(Namespace="Query", MetricName="m", Dimensions=dims,
                                 StartTime=now - timedelta(minutes=5), EndTime=now + timedelta(minutes=5),
                                 Period=600, Statistics=["Sum", "SampleCount", "Maximum"], Unit="Count")
    [p] = r["Datapoints"]
    assert r["Label"] == "m"
    assert (p["Sum"], p["SampleCount"], p["Maximum"], p["Unit"]) == (2.5 + 7 + 4, 6.0, 3.0, "Count")
    assert isinstance(p["Sum"], float) and isinstance(p["Timestamp"], datetime)

    [m] = cw.list_metrics(Namespace="Query")["Metrics"]
    assert m == {"Namespace": "Query", "MetricName": "m", "Dimensions": dims}
    d = cw.get_metric_data(StartTime=now - timedelta(minutes=5), EndTime=now + timedelta(minutes=5),
                           MetricDataQueries=[{"Id": "q", "ReturnData": True, "MetricStat": {
                               "Metric": {"Namespace": "Query", "MetricName": "m", "Dimensions": dims},
                               "Period": 600, "Stat": "Sum"}}])
    [res] = d["MetricDataResults"]
    assert res["Id"] == "q" and res["Values"] == [13.5] and isinstance(res["Timestamps"][0], datetime)

    topic = "arn:aws:sns:us-east-1:123456789012:nowhere"
    cw.put_metric_alarm(AlarmName="query-alarm", AlarmDescription="from a form", ActionsEnabled=False,
                        AlarmActions=[topic], Namespace="Query", MetricName="m", Dimensions=dims,
                        Statistic="Sum", Period=60, EvaluationPeriods=2, DatapointsToAlarm=1, Threshold=1,
                        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching")
    [a] = cw.describe_alarms(AlarmNames=["query-alarm"])["MetricAlarms"]
    assert a["StateValue"] == "INSUFFICIENT_DATA"
    for stamp in ("StateUpdatedTimestamp", "AlarmConfigurationUpdatedTimestamp", "StateTransitionedTimestamp"):
        assert isinstance(a[stamp], datetime), stamp
    assert a["AlarmActions"] == [topic] and a["OKActions"] == [] and a["Dimensions"] == dims
    assert a["ActionsEnabled"] is False and a["AlarmDescription"] == "from a form"
    assert (a["Period"], a["EvaluationPeriods"], a["DatapointsToAlarm"]) == (60, 2, 1)
    assert a["Threshold"] == 1.0 and isinstance(a["Threshold"], float)
    [same] = cw.describe_alarms_for_metric(Namespace="Query", MetricName="m", Dimensions=dims,
                                           Statistic="Sum", Period=60)["MetricAlarms"]
    assert same["AlarmArn"] == a["AlarmArn"]

    cw.enable_alarm_actions(AlarmNames=["query-alarm"])
    assert cw.describe_alarms(AlarmNames=["query-alarm"])["MetricAlarms"][0]["ActionsEnabled"] is True
    cw.disable_alarm_actions(AlarmNames=["query-alarm"])
    cw.set_alarm_state(AlarmName="query-alarm", StateValue="ALARM", StateReason="by hand",
                       StateReasonData='{"why": "test"}')
    [a] = cw.describe_alarms(AlarmNames=["query-alarm"], StateValue="ALARM")["MetricAlarms"]
    assert (a["StateReason"], json.loads(a["StateReasonData"])) == ("by hand", {"why": "test"})
    items = cw.describe_alarm_history(AlarmName="query-alarm", HistoryItemType="StateUpdate",
                                      StartDate=now - timedelta(days=1), EndDate=now + timedelta(days=1),
                                      MaxRecords=10)["AlarmHistoryItems"]
    assert [i["HistorySummary"] for i in items] == ["Alarm updated from INSUFFICIENT_DATA to ALARM"]
    assert isinstance(items[0]["Timestamp"], datetime)
    assert json.loads(items[0]["HistoryData"])["newState"]["stateValue"] == "ALARM"

    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.set_alarm_state(AlarmName="no-such", StateValue="OK", StateReason="r")
    assert e.value.response["Error"]["Code"] == "ResourceNotFound"
    assert e.value.response["Error"]["Type"] == "Sender"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(botocore.exceptions.ClientError) as e:
        cw.put_metric_data(Namespace="AWS/EC2", MetricData=[{"MetricName": "m", "Value": 1}])
    assert e.value.response["Error"]["Code"] == "InvalidParameterValue"

    cw.delete_alarms(AlarmNames=["query-alarm"])
    assert cw.describe_alarms(AlarmNames=["query-alarm"])["MetricAlarms"] == []

    # Recorded as a JSON call is: the form's strings typed, its lists arrays.
    events = lookup_all(cairn.client("cloudtrail"),
                        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "PutMetricAlarm"}])
    put = next(p for p in (json.loads(e["CloudTrailEvent"])["requestParameters"] for e in events)
               if p["alarmName"] == "query-alarm")
    assert (put["period"], put["threshold"], put["actionsEnabled"]) == (60, 1.0, False)
    assert put["alarmActions"] == [topic] and put["dimensions"] == [{"name": "Host", "value": "h1"}]


def signed_form(cairn, body):
    """A form POST to CloudWatch, signed as botocore signs one: (status, content type, XML)."""
    e = cairn.env()
    endpoint = cairn.endpoint  # once: a cluster's instance answers a different node each time
    req = botocore.awsrequest.AWSRequest(method="POST", url=endpoint + "/", data=body.encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    creds = botocore.credentials.Credentials(e["AWS_ACCESS_KEY_ID"], e["AWS_SECRET_ACCESS_KEY"])
    botocore.auth.SigV4Auth(creds, "monitoring", "us-east-1").add_auth(req)
    r = requests.post(endpoint + "/", data=req.body, headers=dict(req.headers.items()))
    return r.status_code, r.headers["Content-Type"], ET.fromstring(r.content)


def test_a_raw_form_gets_aws_xml(cairn, cw):
    ns = {"cw": "http://monitoring.amazonaws.com/doc/2010-08-01/"}
    cw.put_metric_alarm(AlarmName="raw-form", Namespace="Raw", MetricName="m", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=2, ComparisonOperator="GreaterThanThreshold")
    status, ctype, root = signed_form(
        cairn, "Action=DescribeAlarms&Version=2010-08-01&AlarmNames.member.1=raw-form&MaxRecords=5")
    assert (status, ctype) == (200, "text/xml")
    assert root.tag == "{%s}DescribeAlarmsResponse" % ns["cw"]
    alarm = root.find("cw:DescribeAlarmsResult/cw:MetricAlarms/cw:member", ns)
    assert alarm.find("cw:Threshold", ns).text == "2.0"
    assert alarm.find("cw:Period", ns).text == "60"
    assert alarm.find("cw:OKActions", ns) is not None and len(alarm.find("cw:OKActions", ns)) == 0
    # Timestamps as AWS writes them: ISO 8601 with milliseconds, in UTC.
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", alarm.find("cw:StateUpdatedTimestamp", ns).text)
    # Members in the model's order.
    names = [c.tag.split("}")[1] for c in alarm]
    assert names.index("AlarmName") < names.index("AlarmArn") < names.index("StateValue") < names.index("MetricName")
    assert root.find("cw:ResponseMetadata/cw:RequestId", ns).text

    # An operation without output answers no result element.
    status, _, root = signed_form(cairn, "Action=DeleteAlarms&Version=2010-08-01&AlarmNames.member.1=raw-form")
    assert status == 200 and [c.tag.split("}")[1] for c in root] == ["ResponseMetadata"]

    # Errors: query's ErrorResponse, with the handler's code and a form value that is no number.
    status, ctype, root = signed_form(cairn, "Action=DescribeAlarms&Version=2010-08-01&MaxRecords=many")
    assert (status, ctype) == (400, "text/xml")
    assert root.find("cw:Error/cw:Code", ns).text == "InvalidParameterValue"
    assert root.find("cw:Error/cw:Type", ns).text == "Sender"
    assert "MaxRecords" in root.find("cw:Error/cw:Message", ns).text
    status, _, root = signed_form(cairn, "Action=NoSuchThing&Version=2010-08-01")
    assert status == 400 and root.find("cw:Error/cw:Code", ns).text == "InvalidAction"


def test_calls_are_recorded_as_monitoring_events(cairn, cw):
    ct = cairn.client("cloudtrail")
    cw.describe_alarms(MaxRecords=100)
    cw.put_metric_alarm(AlarmName="recorded", Namespace="R", MetricName="x", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    cw.put_metric_data(Namespace="R", MetricData=[{"MetricName": "x", "Value": 1}])
    events = lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "monitoring.amazonaws.com"}])
    records = [json.loads(e["CloudTrailEvent"]) for e in events]
    describe = next(r for r in records if r["eventName"] == "DescribeAlarms" and r["requestParameters"] == {"maxRecords": 100})
    assert describe["readOnly"] is True and describe["eventCategory"] == "Management"
    assert describe["responseElements"] is None
    put = next(r for r in records if r["eventName"] == "PutMetricAlarm"
               and r["requestParameters"]["alarmName"] == "recorded")
    assert put["readOnly"] is False
    assert put["requestParameters"]["comparisonOperator"] == "GreaterThanThreshold"
    # PutMetricData is a data event: not in event history.
    assert not any(r["eventName"] == "PutMetricData" for r in records)


CIS_ROOT = ('{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
            '&& $.eventType != "AwsServiceEvent" }')


def test_a_metric_filter_feeds_an_alarm(cairn, cw):
    """The issue's chain up to the alarm: CloudTrail records in a log group, the CIS root-use
    metric filter, an alarm on its metric. A root call counts; a root call made by a service
    (invokedBy) is the near miss that does not."""
    logs = cairn.client("logs")
    logs.create_log_group(logGroupName="ct")
    logs.create_log_stream(logGroupName="ct", logStreamName="s")
    cairn.aws("logs", "put-metric-filter", "--log-group-name", "ct", "--filter-name", "root",
              "--filter-pattern", CIS_ROOT, "--metric-transformations",
              "metricName=RootUse,metricNamespace=CIS-chain,metricValue=1")
    cw.put_metric_alarm(AlarmName="chain-root", Namespace="CIS-chain", MetricName="RootUse", Statistic="Sum",
                        Period=60, EvaluationPeriods=1, Threshold=1,
                        ComparisonOperator="GreaterThanOrEqualToThreshold")
    now = cairn.now()
    ms = int(now.timestamp() * 1000)
    root = {"eventVersion": "1.08", "userIdentity": {"type": "Root", "accountId": "111122223333"},
            "eventTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "eventSource": "iam.amazonaws.com",
            "eventName": "CreateUser", "eventType": "AwsApiCall"}
    by_service = dict(root, userIdentity={"type": "Root", "invokedBy": "support.amazonaws.com"})
    logs.put_log_events(logGroupName="ct", logStreamName="s", logEvents=[
        {"timestamp": ms, "message": json.dumps(by_service)},
        {"timestamp": ms, "message": json.dumps(root)},
        {"timestamp": ms, "message": json.dumps(dict(root, eventType="AwsServiceEvent"))},
    ])
    r = cw.get_metric_statistics(Namespace="CIS-chain", MetricName="RootUse", StartTime=now - timedelta(minutes=5),
                                 EndTime=now + timedelta(minutes=5), Period=600, Statistics=["Sum", "SampleCount"])
    [p] = r["Datapoints"]
    assert (p["Sum"], p["SampleCount"]) == (1, 1)
    assert cw.list_metrics(Namespace="CIS-chain")["Metrics"] == [
        {"Namespace": "CIS-chain", "MetricName": "RootUse", "Dimensions": []}]
    a = cairn.advance_until(lambda: (x := alarm_of(cw, "chain-root"))["StateValue"] == "ALARM" and x,
                            step=20, limit=180)
    assert a["StateReason"].startswith("Threshold Crossed: 1 datapoint [1.0 (")


def test_the_cis_recipe_makes_fourteen_filters_and_alarms(cairn, cw):
    import subprocess
    from conftest import CAIRN
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    logs = cairn.client("logs")
    logs.create_log_group(logGroupName="cis-trail")
    topic = f"arn:aws:sns:us-east-1:{account}:cis-alerts"
    p = subprocess.run([str(CAIRN), "recipes", "cis-alarms", "--data-dir", str(cairn.data_dir),
                        "--log-group", "cis-trail", "--topic", topic], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "14 CIS metric filters and alarms" in p.stdout
    filters = logs.describe_metric_filters(logGroupName="cis-trail")["metricFilters"]
    assert len(filters) == 14
    root = next(f for f in filters if f["filterName"] == "CIS-4.3-UsageOfTheRootUser")
    # Byte for byte the pattern Security Hub checks for CloudWatch.1.
    assert root["filterPattern"] == ('{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && '
                                     '$.eventType !="AwsServiceEvent"}')
    assert root["metricTransformations"] == [{"metricName": "UsageOfTheRootUser", "metricNamespace": "CISBenchmark",
                                              "metricValue": "1"}]
    alarms = cw.describe_alarms(AlarmNamePrefix="CIS-")["MetricAlarms"]
    assert len(alarms) == 14
    assert all(a["AlarmActions"] == [topic] and a["Namespace"] == "CISBenchmark" for a in alarms)
    # Running it again replaces them.
    p = subprocess.run([str(CAIRN), "recipes", "cis-alarms", "--data-dir", str(cairn.data_dir),
                        "--log-group", "cis-trail", "--topic", topic], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert len(logs.describe_metric_filters(logGroupName="cis-trail")["metricFilters"]) == 14
    # A bad topic is refused before anything is made.
    p = subprocess.run([str(CAIRN), "recipes", "cis-alarms", "--data-dir", str(cairn.data_dir),
                        "--log-group", "cis-trail", "--topic", "alerts"], capture_output=True, text=True)
    assert p.returncode != 0 and "SNS topic ARN" in p.stderr


def test_an_alarm_notifies_its_topic_with_aws_message(cairn, cw):
    account = cairn.env()["CAIRN_ACCOUNT_ID"]
    topic = cairn.client("sns").create_topic(Name="alarm-alerts")["TopicArn"]
    sqs, url = queue_for(cairn, topic, "alarm-inbox")
    cw.put_metric_alarm(AlarmName="notify-me", AlarmDescription="CIS 4.3", Namespace="N", MetricName="RootUse",
                        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
                        ComparisonOperator="GreaterThanOrEqualToThreshold", AlarmActions=[topic])
    cw.put_metric_data(Namespace="N", MetricData=[{"MetricName": "RootUse", "Value": 1, "Timestamp": cairn.now()}])
    cairn.advance_until(lambda: alarm_of(cw, "notify-me")["StateValue"] == "ALARM", step=20, limit=180)
    msgs = cairn.advance_until(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages"),
                               step=1, limit=30)
    envelope = json.loads(msgs[0]["Body"])
    assert envelope["Type"] == "Notification" and envelope["TopicArn"] == topic
    assert envelope["Subject"] == 'ALARM: "notify-me" in US East (N. Virginia)'
    message = json.loads(envelope["Message"])
    assert list(message)[:6] == ["AlarmName", "AlarmDescription", "AWSAccountId",
                                 "AlarmConfigurationUpdatedTimestamp", "NewStateValue", "NewStateReason"]
    assert (message["AlarmName"], message["NewStateValue"], message["OldStateValue"]) == (
        "notify-me", "ALARM", "INSUFFICIENT_DATA")
    assert message["AWSAccountId"] == account and message["AlarmActions"] == [topic]
    assert message["AlarmArn"] == f"arn:aws:cloudwatch:us-east-1:{account}:alarm:notify-me"
    assert message["Trigger"]["MetricName"] == "RootUse" and message["Trigger"]["Statistic"] == "SUM"
    assert message["NewStateReason"] == alarm_of(cw, "notify-me")["StateReason"]
    history = cw.describe_alarm_history(AlarmName="notify-me", HistoryItemType="Action")["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in history] == [f"Successfully executed action {topic}"]
    # Disabled actions: the state still changes, nothing is sent.
    cw.disable_alarm_actions(AlarmNames=["notify-me"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=msgs[0]["ReceiptHandle"])
    cw.set_alarm_state(AlarmName="notify-me", StateValue="OK", StateReason="quiet")
    cw.set_alarm_state(AlarmName="notify-me", StateValue="ALARM", StateReason="still quiet")
    cairn.advance(2)
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages") is None


def test_kill_9_loses_no_transition_and_no_notification(new_cairn):
    """An alarm's transition and its pending notification are written together; the
    notification is removed only once SNS took it. Here SNS refuses it (the topic policy denies
    CloudWatch), cairn is killed with the notification pending, and after a restart and a fixed
    policy it arrives, exactly one transition in the history."""
    c = new_cairn(["--test-clock"])
    cw = c.client("cloudwatch")
    sns = c.client("sns")
    topic = sns.create_topic(Name="crash-alerts")["TopicArn"]
    sqs, url = queue_for(c, topic, "crash-inbox")
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                                    "Action": "SNS:Publish", "Resource": topic}]}
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(deny))
    cw.put_metric_alarm(AlarmName="crash", Namespace="K", MetricName="m", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
                        AlarmActions=[topic], TreatMissingData="ignore")
    cw.put_metric_data(Namespace="K", MetricData=[{"MetricName": "m", "Value": 5, "Timestamp": c.now()}])
    c.advance_until(lambda: alarm_of(cw, "crash")["StateValue"] == "ALARM", step=20, limit=180)
    c.kill9()
    c.start()
    cw = c.client("cloudwatch")
    sns = c.client("sns")
    assert alarm_of(cw, "crash")["StateValue"] == "ALARM"
    allow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                                     "Action": "SNS:Publish", "Resource": topic}]}
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(allow))
    sqs = c.client("sqs")
    msgs = c.advance_until(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages"),
                           step=30, limit=600)
    assert json.loads(json.loads(msgs[0]["Body"])["Message"])["NewStateValue"] == "ALARM"
    transitions = cw.describe_alarm_history(AlarmName="crash", HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in transitions] == ["Alarm updated from INSUFFICIENT_DATA to ALARM"]
