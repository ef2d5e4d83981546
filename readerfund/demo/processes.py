"""Start and stop the local helper processes the demo and the tests use (localstripe, servers)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def _bin(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    return str(beside) if beside.exists() else (shutil.which(name) or name)


# For a load run (tests/deploy, bench/checkout.py) that pays with one test card from one address on
# purpose: the card-testing limits (checkout/card_testing.py) would rightly stop it after a few checkouts.
LOAD_RUN_LIMITS = {
    "CHECKOUT_LIMIT_IP": "100000/600",
    "CHECKOUT_LIMIT_EMAIL": "100000/3600",
    "CHECKOUT_LIMIT_PAY_IP": "100000/600",
    "CHECKOUT_LIMIT_CARD": "100000/86400",
    "CHECKOUT_PROOF_AFTER_IP": "100000/600",
    "CHECKOUT_PROOF_AFTER_NEWSROOM": "100000/600",
}


def start_localstripe(port: int, *, log: Path | None = None, state: Path | None = None) -> subprocess.Popen:
    """localstripe on loopback: from scratch (its own saved state is shared machine-wide), or, with `state`,
    keeping its state in that file (readerfund/demo/localstripe_kept.py), as the demo does."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - lives as long as the process
    command = [_bin("localstripe"), "--port", str(port), "--from-scratch"]
    if state is not None:
        command = [sys.executable, "-m", "readerfund.demo.localstripe_kept", "--port", str(port), "--state", str(state)]
    process = subprocess.Popen(
        command,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_or_stop(port, process)
    return process


def wait_or_stop(port: int, process: subprocess.Popen, *, timeout: float = 30.0) -> None:
    # A process that never listens, or a Ctrl-C while we wait for it, must not outlive us.
    try:
        wait_for_port(port, process=process, timeout=timeout)
    except BaseException:
        stop(process)
        raise


def start_granian(
    port: int, *, workers: int = 2, env: dict[str, str] | None = None, app: str = "readerfund.config.wsgi:application"
) -> subprocess.Popen:
    """The production server, WSGI, without access logs (they would hold readers' addresses).

    `app` is another WSGI callable under the same command: the benchmarks' raw baseline, or Django alone."""
    process = subprocess.Popen(
        [
            _bin("granian"),
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--blocking-threads",
            "4",
            app,
        ],
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    wait_or_stop(port, process, timeout=60)
    return process


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def localstripe_running(log: Path) -> Iterator[str]:
    """A localstripe from scratch on a free port for as long as the block runs; yields its base URL."""
    port = free_port()
    process = start_localstripe(port, log=log)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
