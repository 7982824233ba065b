"""Lake's sample queries (docs/lake-sample-queries.md) over the real-record corpus with
`cairn query --from`, each answered with the rows DuckDB gives for its twin over the same
records read as JSON."""

import json
import re
import subprocess
from pathlib import Path

import duckdb
import pytest

from conftest import CAIRN, REAL_DATA

DOC = Path(__file__).resolve().parent.parent / "docs" / "lake-sample-queries.md"


def samples():
    """(title, Lake SQL, DuckDB twin) for each query of the doc, and the twin's view."""
    text = DOC.read_text()
    view = re.search(r"```sql duckdb-view\n(.*?)```", text, re.S).group(1)
    out = []
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        title = section.splitlines()[0]
        lake = re.search(r"```sql\n(.*?)```", section, re.S)
        twin = re.search(r"```sql duckdb\n(.*?)```", section, re.S)
        if lake and twin:
            out.append((title, lake.group(1), twin.group(1)))
    return view, out


VIEW, SAMPLES = samples()


@pytest.fixture(scope="module")
def reference():
    con = duckdb.connect()
    con.sql(VIEW.replace("'records.jsonl.gz'", f"'{REAL_DATA / 'records.jsonl.gz'}'"))
    return con


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("query-cache")


def normal(v):
    return None if v is None else str(v)


@pytest.mark.parametrize("title,lake,twin", SAMPLES, ids=[t for t, _, _ in SAMPLES])
def test_sample_query_answers_what_duckdb_finds(title, lake, twin, reference, cache):
    sql = lake.replace("$EDS_ID", "events")
    p = subprocess.run([str(CAIRN), "query", "--from", str(REAL_DATA / "records.jsonl.gz"), "--format", "json", sql],
                       capture_output=True, text=True, timeout=600, env={"XDG_CACHE_HOME": str(cache), "PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, p.stderr
    got = [tuple(normal(v) for v in json.loads(line).values()) for line in p.stdout.splitlines() if line.strip()]
    want = [tuple(normal(v) for v in row) for row in reference.sql(twin).fetchall()]
    ordered = "LIMIT" in lake
    if ordered:
        assert got == want, title
    else:
        assert sorted(got, key=repr) == sorted(want, key=repr), title
    assert got, f"{title}: the corpus has rows for it"
