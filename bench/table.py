"""The one table `make bench` prints: each benchmark adds its rows here, and bench/__main__.py prints them.

Rows travel through a file named by BENCH_TABLE (one JSON object a line), so a benchmark that runs in
a child process (bench/webhooks.py) adds its rows as well. Run alone, a benchmark prints its own rows.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Row:
    measure: str
    value: float
    unit: str
    p99_ms: float | None = None
    against: str = ""  # the baseline, measured in the same run
    ratio: float | None = None  # value / the baseline's
    p99_ratio: float | None = None
    target: str = ""
    met: bool | None = None


_HEADINGS = ("measure", "value", "p99 ms", "against (same run)", "ratio", "p99 ratio", "target", "")


def row_add(row: Row) -> None:
    path = os.environ.get("BENCH_TABLE")
    if path:
        with open(path, "a") as table:
            table.write(json.dumps(asdict(row)) + "\n")
    else:
        print("\n".join(table_lines([row])))


def rows_read(path: Path) -> list[Row]:
    if not path.exists():
        return []
    return [Row(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def _number(value: float | None, digits: int = 0) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def table_lines(rows: list[Row]) -> list[str]:
    cells = [
        (
            r.measure,
            f"{_number(r.value, 0 if r.value >= 100 else 2)} {r.unit}",
            _number(r.p99_ms, 1),
            r.against,
            _number(r.ratio, 2),
            _number(r.p99_ratio, 2),
            r.target,
            "" if r.met is None else ("ok" if r.met else "MISSED"),
        )
        for r in rows
    ]
    widths = [max(len(str(c[i])) for c in [_HEADINGS, *cells]) for i in range(len(_HEADINGS))]
    line = lambda c: "  ".join(str(v).ljust(w) for v, w in zip(c, widths, strict=True)).rstrip()  # noqa: E731
    return [line(_HEADINGS), line(tuple("-" * w for w in widths)), *(line(c) for c in cells)]
