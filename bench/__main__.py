"""`python -m bench` runs every benchmark module in this package; `python -m bench appeal` runs one.

A benchmark is a module `bench/<name>.py` (or package) with a `main() -> int` function; modules whose
names start with an underscore, and the shared harness modules listed in HARNESS, are not benchmarks.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import bench

HARNESS = {"serving", "load"}


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
    for name in chosen:
        print(f"== bench {name} ==", flush=True)
        started = time.monotonic()
        status = importlib.import_module(f"bench.{name}").main()
        print(f"== bench {name}: {'ok' if status == 0 else 'MISSED TARGETS'} in {time.monotonic() - started:.0f}s ==")
        if status:
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
