"""`python -m bench` runs every benchmark module in this package; `python -m bench appeal` runs one.

A benchmark is a module `bench/<name>.py` (or package) with a `main() -> int` function; modules whose
names start with an underscore, and the shared harness modules listed in HARNESS, are not benchmarks.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import tempfile
import time
from pathlib import Path

import bench
from bench.table import rows_read, table_lines

HARNESS = {"serving", "load", "table"}


def benchmark_names() -> list[str]:
    return sorted(
        module.name
        for module in pkgutil.iter_modules(bench.__path__)
        if not module.name.startswith("_") and module.name not in HARNESS
    )


def main(argv: list[str]) -> int:
    available = benchmark_names()
    chosen = argv or available
    unknown = [name for name in chosen if name not in available]
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; available: {', '.join(available)}", file=sys.stderr)
        return 2
    failed = []
    with tempfile.TemporaryDirectory(prefix="readerfund-bench-table-") as folder:
        table = Path(folder) / "rows.jsonl"
        os.environ["BENCH_TABLE"] = str(table)  # each benchmark, and its child processes, add rows here
        for name in chosen:
            print(f"== bench {name} ==", flush=True)
            started = time.monotonic()
            status = importlib.import_module(f"bench.{name}").main()
            verdict = "ok" if status == 0 else "MISSED TARGETS"
            print(f"== bench {name}: {verdict} in {time.monotonic() - started:.0f}s ==", flush=True)
            if status:
                failed.append(name)
        print(f"\n== the table ({os.cpu_count()} CPUs; every ratio against a baseline measured in the same run) ==")
        print("\n".join(table_lines(rows_read(table))))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
