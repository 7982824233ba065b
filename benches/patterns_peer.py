"""EventBridge pattern matching in a peer: LocalStack's Python event rule engine
(`localstack.services.events.event_rule_engine`, from PyPI's `localstack-core`), timed on the
same 100 rules and the same CloudTrail envelopes as `cairn bench patterns`, one core, JSON
parsing of each event included. It prints the events matched and rule hits of its first pass,
to compare with cairn's.

    target/release/cairn bench patterns --dump /tmp/patterns
    python -m venv /tmp/ls && /tmp/ls/bin/pip install localstack-core botocore boto3 rolo jsonpatch
    /tmp/ls/bin/python benches/patterns_peer.py /tmp/patterns [--seconds 3]

AWS's event-ruler (Java, Maven Central) and quamina (Go) need toolchains this machine lacks.
"""

import argparse
import json
import time
from pathlib import Path

from localstack.services.events.event_rule_engine import (
    EventPatternCompiler,
    EventRuleEngine,
)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dump", type=Path, help="directory written by cairn bench patterns --dump")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    rules = json.loads((args.dump / "rules.json").read_text())
    events = (args.dump / "events.jsonl").read_text().splitlines()
    compiler, engine = EventPatternCompiler(), EventRuleEngine()
    compiled = [compiler.compile_event_pattern(r) for r in rules]

    matched, hits, n, passes = 0, 0, 0, 0
    start = time.perf_counter()
    while passes == 0 or time.perf_counter() - start < args.seconds:
        for text in events:
            event = json.loads(text)
            found = [i for i, p in enumerate(compiled) if engine.evaluate_pattern_on_event(p, event)]
            if passes == 0:
                matched += bool(found)
                hits += len(found)
            n += 1
            if passes > 0 and time.perf_counter() - start >= args.seconds:
                break
        passes += 1
    secs = time.perf_counter() - start
    per_s = n / secs
    result = {
        "bench": "patterns-peer",
        "peer": "localstack-core event_rule_engine",
        "rules": len(rules),
        "events": len(events),
        "events_matched": matched,
        "rule_hits": hits,
        "events_per_s": round(per_s),
        "event_rule_matches_per_s": round(per_s * len(rules)),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"LocalStack: {len(rules)} rules over {len(events)} envelopes "
            f"({matched} events matched, {hits} rule hits): {per_s:.0f} events/s = "
            f"{per_s * len(rules):.0f} event-rule matches/s on one core"
        )


if __name__ == "__main__":
    main()
