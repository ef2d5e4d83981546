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
            yield Server(base_url=site_url, site_url=site_url)
        finally:
            processes.stop(process)
