"""Every case of the pattern table (`crates/cairn-rules/tests/data/event_patterns.json`: a
pattern, a full event, and whether it matches or the reason AWS refuses the pattern) through
boto3's TestEventPattern: the result, or `InvalidEventPatternException` with AWS's message."""

import json
from pathlib import Path

import botocore.exceptions
import pytest

CASES = json.loads((Path(__file__).resolve().parent.parent / "crates" / "cairn-rules" / "tests" / "data"
                    / "event_patterns.json").read_text())


@pytest.fixture(scope="module")
def events(cairn):
    return cairn.client("events")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_pattern_case(events, case):
    call = lambda: events.test_event_pattern(EventPattern=case["pattern"], Event=json.dumps(case["event"]))  # noqa: E731
    if "error" in case:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        err = e.value.response["Error"]
        assert err["Code"] == "InvalidEventPatternException"
        assert err["Message"] == f"Event pattern is not valid. Reason: {case['error']}"
    else:
        assert call()["Result"] is case["matches"]
