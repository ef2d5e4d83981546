"""Drive a URL with wrk on loopback and read back requests/s and latency percentiles.

wrk needs a Lua script for request bodies and extra headers; its `done` hook prints one
machine-readable line, so nothing depends on wrk's human-readable summary.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

_DONE = """
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    "RESULT {\\"requests\\":%d,\\"duration_us\\":%d,\\"p50_us\\":%d,\\"p99_us\\":%d,\\"bad\\":%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.connect + errors.read + errors.write + errors.status + errors.timeout))
end
"""


@dataclass(frozen=True)
class Request:
    path: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    bad: int  # socket errors and non-2xx/3xx responses


def _lua(request: Request) -> str:
    lines = [f"wrk.method = {json.dumps(request.method)}"]
    for name, value in request.headers:
        lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    if request.body:
        lines.append(f"wrk.body = {json.dumps(request.body)}")
    return "\n".join(lines) + "\n" + _DONE


def wrk_path() -> str:
    found = shutil.which("wrk") or "/usr/bin/wrk"
    if not Path(found).exists():
        raise SystemExit("wrk is not installed: `make system-deps` (Debian package wrk)")
    return found


def drive(base_url: str, request: Request, *, seconds: int, connections: int = 32, threads: int = 1) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(_lua(request))
        script.flush()
        run = subprocess.run(
            [
                wrk_path(),
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "5s",
                "-s",
                script.name,
                base_url + request.path,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    line = next(line for line in run.stdout.splitlines() if line.startswith("RESULT "))
    data = json.loads(line.removeprefix("RESULT "))
    return Result(
        rps=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        bad=data["bad"],
    )


def median_result(results: list[Result]) -> Result:
    return Result(
        rps=statistics.median(r.rps for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        bad=sum(r.bad for r in results),
    )
