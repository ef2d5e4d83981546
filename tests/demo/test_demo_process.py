"""`readerfund demo` as a newcomer runs it: it says where everything is, and a SIGTERM to its process
group stops every helper it started (emulator, SMTP sink, worker, web server) and frees every port.

A real demo in a process group of its own, on a throw-away var/ folder and SQLite database, with the
real localstripe, SMTP sink, worker and granian. Nothing is mocked.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from readerfund.demo.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
READY = "readerfund demo is ready"


def _descendants(pid: int) -> set[int]:
    """Every process whose chain of parents leads to pid (children started in sessions of their own too)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        children = {child for child, parent in parents.items() if parent in frontier} - found
        found |= children
        frontier = children
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _port_free(port: int) -> bool:
    # As a server starting on it would: a connection of ours closed moments ago (TIME_WAIT) holds nothing.
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _read_until_ready(process: subprocess.Popen, log: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if READY in text and "Test cards" in text and text.rstrip().endswith(tuple("0123456789)")):
            return text
        if process.poll() is not None:
            pytest.fail(f"the demo exited with {process.returncode}:\n{text[-3000:]}")
        time.sleep(0.2)
    pytest.fail(f"the demo was not ready after {timeout}s:\n{log.read_text(errors='replace')[-3000:]}")


def test_the_demo_explains_itself_and_a_sigterm_to_its_group_stops_every_helper(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "demo.out"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "STRIPE_LOG_LEVEL", "STRIPE_API_BASE"}}
    env |= {"READERFUND_VAR_DIR": str(tmp_path / "var"), "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "readerfund.cli", "demo", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as `make demo` in a terminal has
        )
    helpers: set[int] = set()
    try:
        text = _read_until_ready(demo, log, timeout=150)
        helpers = _descendants(demo.pid)
        ports = {port} | {int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", text)}

        # What the newcomer is told: both articles, the outbox, the test cards.
        for shown in ("/demo/\n", "/demo/?lang=ru", "/demo/outbox/", "4242 4242 4242 4242", "4000 0027 6000 3184"):
            assert shown in text, shown
        for shown in ("4000 0000 0000 0002", "4000 0000 0000 0341", "FR", "DE62 3704 0044 0532 0130 01"):
            assert shown in text, shown
        assert len(ports) >= 3, f"the web, emulator and SMTP ports are named: {text}"
        assert all(not _port_free(p) for p in ports)
        assert len(helpers) >= 4, "localstripe, the SMTP sink, the worker and granian run"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/favicon.ico", timeout=10) as response:  # noqa: S310
            assert response.status == 204
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/demo/", timeout=30) as response:  # noqa: S310
            assert response.status == 200

        # Twice at once, as under `make demo`, where the group's SIGTERM reaches make too and a second
        # signal follows the first: the second must not cut the clean-up short.
        os.killpg(demo.pid, signal.SIGTERM)
        os.killpg(demo.pid, signal.SIGINT)
        demo.wait(timeout=60)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(_alive(pid) for pid in helpers):
            time.sleep(0.2)
        left = sorted(pid for pid in helpers if _alive(pid))
        assert not left, f"still running after the SIGTERM: {left}"
        taken = sorted(p for p in ports if not _port_free(p))
        assert not taken, f"ports still held: {taken}"
        output = log.read_text(errors="replace")
        # The Stripe SDK's line per request is not printed unless asked for.
        assert "message='Request to Stripe api'" not in output and "Request to Stripe" not in output
    finally:
        # Whatever failed above, nothing of this test outlives it.
        for pid in helpers | _descendants(demo.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)


def test_the_first_signal_ignores_the_next_so_the_clean_up_runs_whole() -> None:
    """Under `make demo` a SIGTERM to the group reaches make and the demo, and a second signal can land
    inside the demo's clean-up: seen here leaving localstripe, the SMTP sink, the worker and granian
    running. The first signal's handler ignores any further one at once."""
    from readerfund.demo.management.commands.demo import _interrupt

    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        for signum in saved:
            signal.signal(signum, _interrupt)
        with pytest.raises(KeyboardInterrupt):
            _interrupt(signal.SIGTERM, None)
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
