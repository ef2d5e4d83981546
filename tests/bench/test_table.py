"""`make bench`'s one table: rows from every benchmark (and their child processes) in one file, one table."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from bench import _raw_wsgi
from bench.table import Row, row_add, rows_read, table_lines


def test_rows_from_this_process_and_a_child_make_one_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = tmp_path / "rows.jsonl"
    monkeypatch.setenv("BENCH_TABLE", str(table))
    row_add(Row("events POST", 4005.2, "pageviews/s", 44.0, "raw", 0.85, 1.41, ">= 50%, p99 <= 2.0x", True))
    child = "from bench.table import Row, row_add; row_add(Row('webhook ingest', 812.0, 'events/s', met=False))"
    subprocess.run([sys.executable, "-c", child], check=True, cwd=Path(__file__).resolve().parents[2])
    rows = rows_read(table)
    assert [r.measure for r in rows] == ["events POST", "webhook ingest"]
    lines = table_lines(rows)
    assert lines[0].split()[:2] == ["measure", "value"]
    assert "4,005 pageviews/s" in lines[2] and "0.85" in lines[2] and lines[2].endswith("ok")
    assert lines[3].endswith("MISSED")
    column = lines[0].index("value")  # every value starts under its heading
    assert lines[2][column:].startswith("4,005") and lines[3][column:].startswith("812")


def test_a_missing_table_file_is_no_rows(tmp_path: Path) -> None:
    assert rows_read(tmp_path / "none.jsonl") == []


def test_the_raw_baseline_answers_a_constant() -> None:
    answered = []
    get = _raw_wsgi.application({"REQUEST_METHOD": "GET"}, lambda status, headers: answered.append((status, headers)))
    post = _raw_wsgi.application(
        {"REQUEST_METHOD": "POST", "wsgi.input": io.BytesIO(b"{}")}, lambda s, h: answered.append((s, h))
    )
    assert answered[0][0] == "200 OK" and len(b"".join(get)) == _raw_wsgi._SIZE
    assert answered[1][0] == "204 No Content" and b"".join(post) == b""
