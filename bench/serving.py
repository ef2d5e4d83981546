"""The app as it runs in production (granian, WSGI) on loopback, over a throwaway database.

SQLite in a temporary READERFUND_VAR_DIR unless DATABASE_URL is set; migrated and seeded with the
demo newsroom by the `readerfund` command, as an operator would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from readerfund.demo import processes


@dataclass(frozen=True)
class Server:
    base_url: str
    site_url: str  # the demo newsroom's allowed origin
    pid: int = 0  # granian's main process; its workers are its children


_REPOSITORY = Path(__file__).resolve().parent.parent


def _readerfund(*args: str, env: dict[str, str]) -> None:
    command = Path(sys.executable).with_name("readerfund")
    subprocess.run([str(command), *args], env=env, check=True, stdout=subprocess.DEVNULL)


@contextmanager
def demo_server(*, workers: int = 2, extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    with tempfile.TemporaryDirectory(prefix="readerfund-bench-") as var_dir:
        port = processes.free_port()
        site_url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "READERFUND_VAR_DIR": var_dir,
            "SITE_URL": site_url,
            "DEBUG": "false",
            "READERFUND_DEMO": "1",  # serves /api/v1/bare, the baseline
            "LOG_LEVEL": "WARNING",
            "GRANIAN_LOG_LEVEL": "warning",
            **(extra_env or {}),
        }
        _readerfund("migrate", "--verbosity", "0", env=env)
        _readerfund("seed_demo", env=env)
        process = processes.start_granian(port, workers=workers, env=env)
        try:
            yield Server(base_url=site_url, site_url=site_url, pid=process.pid)
        finally:
            processes.stop(process)


@contextmanager
def raw_server(*, workers: int = 2, body_bytes: int = 1500) -> Iterator[Server]:
    """The raw baseline (bench/_raw_wsgi.py) under the same granian command as readerfund's."""
    port = processes.free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(_REPOSITORY), os.environ.get("PYTHONPATH", "")])),
        "RAW_BODY_BYTES": str(body_bytes),
        "GRANIAN_LOG_LEVEL": "warning",
    }
    process = processes.start_granian(port, workers=workers, env=env, app="bench._raw_wsgi:application")
    try:
        url = f"http://127.0.0.1:{port}"
        yield Server(base_url=url, site_url=url, pid=process.pid)
    finally:
        processes.stop(process)


def worker_rss_mib(pid: int) -> list[float]:
    """Resident memory of each of granian's worker processes (the children of `pid`), in MiB."""
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:  # the process ended while we looked
            continue
        if fields.get("PPid", "").strip() == str(pid) and "VmRSS" in fields:
            sizes.append(int(fields["VmRSS"].split()[0]) / 1024)
    return sorted(sizes)
